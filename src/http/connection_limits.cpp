#include "http/connection_limits.hpp"

#include <sys/resource.h>

namespace brigade::http {

namespace {

// Whether one more would cross `cap` (0: no cap).
bool over(size_t count, size_t cap) {
  return cap != 0 && count >= cap;
}

size_t descriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return static_cast<size_t>(limit.rlim_cur);
}

}  // namespace

ConnectionTicket::ConnectionTicket(std::shared_ptr<ConnectionCounts> counts, std::string address,
                                   bool counted)
    : counts_(std::move(counts)), address_(std::move(address)), counted_(counted) {}

ConnectionTicket::~ConnectionTicket() {
  counts_->release(address_, counted_, pending_);
}

void ConnectionTicket::requestSeen() {
  if (!pending_) return;
  pending_ = false;
  if (counted_) counts_->seen(address_);
}

bool ConnectionTicket::attribute(const std::string& address) {
  if (counted_) return true;
  pending_ = false;  // a proxy's connection never counted as pending anywhere
  if (!counts_->take(address, false)) return false;
  address_ = address;
  counted_ = true;
  return true;
}

ConnectionLimiter::ConnectionLimiter(ConnectionLimitOptions options) : options_(options) {
  if (options_.maxConnections == 0) {
    size_t fds = descriptorLimit();
    options_.maxConnections = fds > 2 * kReservedDescriptors ? fds - kReservedDescriptors : fds / 2;
  }
  counts_ = std::make_shared<ConnectionCounts>(options_);
}

ConnectionLimiter::Admission ConnectionLimiter::admit(const std::string& address, bool perAddress) {
  return counts_->admit(counts_, address, perAddress);
}

size_t ConnectionLimiter::open() const {
  return counts_->open();
}

size_t ConnectionLimiter::openFrom(const std::string& address) const {
  return counts_->openFrom(address);
}

ConnectionLimiter::Admission ConnectionCounts::admit(const std::shared_ptr<ConnectionCounts>& self,
                                                     const std::string& address, bool perAddress) {
  using Verdict = ConnectionLimiter::Verdict;
  std::lock_guard lock(mutex_);
  if (open_ >= options_.maxConnections) return {Verdict::kServerFull, nullptr};
  if (perAddress) {
    Counts& counts = byAddress_[address];
    if (over(counts.open, options_.maxPerAddress) ||
        over(counts.pending, options_.maxPendingPerAddress)) {
      if (counts.open == 0) byAddress_.erase(address);
      return {Verdict::kAddressFull, nullptr};
    }
    ++counts.open;
    ++counts.pending;
  }
  ++open_;
  return {Verdict::kAdmitted, std::make_shared<ConnectionTicket>(self, address, perAddress)};
}

bool ConnectionCounts::take(const std::string& address, bool pending) {
  std::lock_guard lock(mutex_);
  Counts& counts = byAddress_[address];
  if (over(counts.open, options_.maxPerAddress)) {
    if (counts.open == 0) byAddress_.erase(address);
    return false;
  }
  ++counts.open;
  if (pending) ++counts.pending;
  return true;
}

void ConnectionCounts::seen(const std::string& address) {
  std::lock_guard lock(mutex_);
  auto it = byAddress_.find(address);
  if (it != byAddress_.end() && it->second.pending > 0) --it->second.pending;
}

void ConnectionCounts::release(const std::string& address, bool counted, bool pending) {
  std::lock_guard lock(mutex_);
  --open_;
  if (!counted) return;
  auto it = byAddress_.find(address);
  if (it == byAddress_.end()) return;
  --it->second.open;
  if (pending && it->second.pending > 0) --it->second.pending;
  if (it->second.open == 0) byAddress_.erase(it);
}

size_t ConnectionCounts::open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

size_t ConnectionCounts::openFrom(const std::string& address) const {
  std::lock_guard lock(mutex_);
  auto it = byAddress_.find(address);
  return it == byAddress_.end() ? 0 : it->second.open;
}

}  // namespace brigade::http
