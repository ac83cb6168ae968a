#include "net/loop.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <future>

#include "core/assert.hpp"
#include "core/clock.hpp"
#include "net/connection.hpp"

namespace brigade::net {

namespace asio = boost::asio;

// Reads go through one buffer per loop, so an idle connection holds no read buffer.
constexpr size_t kReadBufferSize = 64 * 1024;

class Loop::TimerHandle {
 public:
  explicit TimerHandle(asio::io_context& context) : timer(context) {}
  asio::steady_timer timer;
  std::function<void()> manualFn;  // the manual clock's timers run this from advance()
  bool cancelled = false;
};

Loop::Loop(unsigned index)
    : index_(index),
      context_(std::make_unique<asio::io_context>(1)),
      readBuffer_(kReadBufferSize) {}

Loop::~Loop() {
  stop();
  join();
}

void Loop::post(std::function<void()> fn) {
  asio::post(*context_, std::move(fn));
}

void Loop::dispatch(std::function<void()> fn) {
  if (inLoop()) {
    fn();
  } else {
    post(std::move(fn));
  }
}

std::shared_ptr<Loop::TimerHandle> Loop::runAfter(int64_t ms, std::function<void()> fn) {
  BRIGADE_ASSERT_IN_LOOP(*this);
  auto handle = std::make_shared<TimerHandle>(*context_);
  if (manualClock_) {
    handle->manualFn = std::move(fn);
    manualTimers_.emplace(manualNowMs_ + ms, handle);
    return handle;
  }
  handle->timer.expires_after(std::chrono::milliseconds(ms));
  handle->timer.async_wait([handle, fn = std::move(fn)](const boost::system::error_code& ec) {
    if (!ec) fn();
  });
  return handle;
}

void Loop::cancel(const std::shared_ptr<TimerHandle>& timer) {
  if (!timer) return;
  timer->cancelled = true;
  timer->timer.cancel();
}

int64_t Loop::now() const {
  return manualClock_ ? manualNowMs_ : nowMs();
}

void Loop::useManualClock() {
  manualClock_ = true;
}

void Loop::advance(int64_t ms) {
  int64_t target = manualNowMs_ + ms;
  while (!manualTimers_.empty() && manualTimers_.begin()->first <= target) {
    auto due = manualTimers_.begin();
    manualNowMs_ = due->first;
    auto handle = std::move(due->second);
    manualTimers_.erase(due);
    if (!handle->cancelled) handle->manualFn();  // may arm more timers
  }
  manualNowMs_ = target;
}

void Loop::requestFlush(std::shared_ptr<TcpConnection> connection) {
  BRIGADE_ASSERT_IN_LOOP(*this);
  pendingFlush_.push_back(std::move(connection));
  if (!flushPosted_) {
    flushPosted_ = true;
    // Posted behind the handlers already queued in this turn, so everything they
    // send is gathered into one write per connection.
    post([this] { flushAll(); });
  }
}

void Loop::flushAll() {
  flushPosted_ = false;
  flushing_.swap(pendingFlush_);
  for (auto& connection : flushing_) connection->flush();
  flushing_.clear();
}

void Loop::start() {
  thread_ = std::thread([this] {
    // Before any task runs, so that every task sees inLoop() true here.
    threadId_.store(std::this_thread::get_id(), std::memory_order_release);
    auto guard = asio::make_work_guard(*context_);
    context_->run();
  });
}

void Loop::stop() {
  context_->stop();
}

size_t Loop::poll() {
  context_->restart();
  return context_->poll();
}

void Loop::join() {
  if (thread_.joinable()) thread_.join();
}

LoopGroup::LoopGroup(unsigned count) {
  if (count == 0) count = 1;
  for (unsigned i = 0; i < count; ++i) loops_.push_back(std::make_unique<Loop>(i));
}

LoopGroup::~LoopGroup() {
  stop();
}

Loop* LoopGroup::current() {
  for (auto& loop : loops_) {
    if (loop->inLoop()) return loop.get();
  }
  return nullptr;
}

void LoopGroup::start() {
  started_.store(true, std::memory_order_release);
  for (auto& loop : loops_) loop->start();
}

void LoopGroup::drain() {
  BRIGADE_ASSERT(current() == nullptr, "a loop cannot wait for itself");
  std::vector<std::future<void>> done;
  for (auto& loop : loops_) {
    auto turn = std::make_shared<std::promise<void>>();
    done.push_back(turn->get_future());
    loop->post([turn] { turn->set_value(); });
  }
  for (auto& f : done) f.wait();
}

void LoopGroup::stop() {
  for (auto& loop : loops_) loop->stop();
  for (auto& loop : loops_) loop->join();
}

}  // namespace brigade::net
