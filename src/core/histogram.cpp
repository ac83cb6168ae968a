#include "core/histogram.hpp"

#include <algorithm>

namespace brigade {

AtomicHistogram::AtomicHistogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  std::sort(bounds_.begin(), bounds_.end());
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void AtomicHistogram::observe(double value) {
  const auto bucket = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                          bounds_.begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  if (value > 0) {
    scaledSum_.fetch_add(static_cast<uint64_t>(value * kSumScale + 0.5), std::memory_order_relaxed);
  }
}

AtomicHistogram::Snapshot AtomicHistogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  s.counts.resize(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    s.counts[i] = counts_[i].load(std::memory_order_relaxed);
  }
  s.sum = static_cast<double>(scaledSum_.load(std::memory_order_relaxed)) / kSumScale;
  return s;
}

void AtomicHistogram::Snapshot::add(const Snapshot& other) {
  if (bounds.empty() && counts.empty()) {
    *this = other;
    return;
  }
  if (other.bounds != bounds) return;  // not the same histogram
  for (size_t i = 0; i < counts.size(); ++i) counts[i] += other.counts[i];
  sum += other.sum;
}

uint64_t AtomicHistogram::Snapshot::count() const {
  uint64_t n = 0;
  for (auto c : counts) n += c;
  return n;
}

}  // namespace brigade
