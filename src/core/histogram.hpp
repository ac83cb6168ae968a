#pragma once

// A histogram any thread may observe into without a lock: fixed upper bounds, one atomic
// count per bucket. For lower layers (the store's writer) that must not depend on the
// metrics library; the app turns snapshots into Prometheus histograms (app/metrics.hpp).

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace brigade {

class AtomicHistogram {
 public:
  struct Snapshot {
    std::vector<double> bounds;    // upper bounds, ascending
    std::vector<uint64_t> counts;  // per bucket (not cumulative); one more than bounds: +Inf
    double sum = 0;

    // Adds another snapshot of the same bounds (several writers' histograms as one).
    void add(const Snapshot& other);
    uint64_t count() const;
  };

  explicit AtomicHistogram(std::vector<double> bounds);
  void observe(double value);
  Snapshot snapshot() const;

 private:
  // The sum is kept in millionths, so that it can be one atomic integer.
  static constexpr double kSumScale = 1e6;

  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<uint64_t> scaledSum_{0};
};

}  // namespace brigade
