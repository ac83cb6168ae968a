#include "net/fifo_timer.hpp"

#include <boost/asio/steady_timer.hpp>

#include "core/clock.hpp"

namespace brigade::net {

struct FifoTimer::Impl {
  explicit Impl(boost::asio::io_context& context) : timer(context) {}
  boost::asio::steady_timer timer;
  std::shared_ptr<Loop::TimerHandle> manual;  // when the loop runs on a manual clock
};

FifoTimer::FifoTimer(Loop& loop, int64_t durationMs, Callback onExpire)
    : loop_(loop),
      durationMs_(durationMs),
      onExpire_(std::move(onExpire)),
      impl_(std::make_unique<Impl>(loop.context())) {
  head_.prev = head_.next = &head_;
}

FifoTimer::~FifoTimer() {
  while (head_.next != &head_) cancel(*head_.next);
  Loop::cancel(impl_->manual);
}

void FifoTimer::arm(FifoHook& hook) {
  cancel(hook);
  hook.deadline = loop_.now() + durationMs_;
  hook.prev = head_.prev;
  hook.next = &head_;
  head_.prev->next = &hook;
  head_.prev = &hook;
  hook.linked = true;
  if (scheduledFor_ == 0) schedule();
}

void FifoTimer::cancel(FifoHook& hook) {
  if (!hook.linked) return;
  hook.prev->next = hook.next;
  hook.next->prev = hook.prev;
  hook.prev = hook.next = nullptr;
  hook.linked = false;
}

void FifoTimer::schedule() {
  if (head_.next == &head_) {
    scheduledFor_ = 0;
    return;
  }
  scheduledFor_ = head_.next->deadline;
  if (loop_.manualClockActive()) {
    impl_->manual = loop_.runAfter(scheduledFor_ - loop_.now(), [this] { fire(); });
    return;
  }
  impl_->timer.expires_at(TimePoint(std::chrono::milliseconds(scheduledFor_)));
  impl_->timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) fire();
  });
}

void FifoTimer::fire() {
  int64_t now = loop_.now();
  while (head_.next != &head_ && head_.next->deadline <= now) {
    FifoHook& hook = *head_.next;
    cancel(hook);
    onExpire_(hook);  // may re-arm this or other hooks
  }
  schedule();
}

}  // namespace brigade::net
