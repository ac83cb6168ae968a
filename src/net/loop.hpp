#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace brigade::net {

class TcpConnection;

// One event loop on one thread. A connection, and every session or socket built
// on it, belongs to exactly one loop; other threads reach it with post(). Loops
// outlive everything that runs on them (docs/ARCHITECTURE.md, "Ownership and
// threads"), so a reference to a loop may be kept and used from any thread.
//
// Thread-safe: index(), inLoop(), post(), dispatch(). Only on the loop's thread:
// runAfter(), cancel(), requestFlush(), readBuffer().
class Loop {
 public:
  explicit Loop(unsigned index);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  unsigned index() const { return index_; }
  boost::asio::io_context& context() { return *context_; }
  // Whether the caller runs on this loop's thread. Other threads may ask at any
  // time: the id is set by the loop's thread itself before it runs any task.
  bool inLoop() const {
    return std::this_thread::get_id() == threadId_.load(std::memory_order_acquire);
  }

  // Runs fn on this loop's thread (later, even when called from it).
  void post(std::function<void()> fn);
  // Runs fn now when already on this loop, else posts it.
  void dispatch(std::function<void()> fn);
  // Runs fn after `ms` milliseconds on this loop. The returned handle cancels it.
  class TimerHandle;
  std::shared_ptr<TimerHandle> runAfter(int64_t ms, std::function<void()> fn);
  static void cancel(const std::shared_ptr<TimerHandle>& timer);

  // The time timers of this loop (runAfter, FifoTimer) are measured against, in ms:
  // the steady clock, or a manual clock that only advance() moves (tests: heartbeats
  // and timeouts without sleeping). useManualClock() comes before any timer is armed.
  int64_t now() const;
  void useManualClock();
  bool manualClockActive() const { return manualClock_; }
  // Manual clock only: moves time forward, running each timer that falls due on the
  // way, in deadline order, with now() at its deadline. Call it on the loop's thread.
  void advance(int64_t ms);

  // Write coalescing: a connection with new output asks to be flushed; all of
  // them are flushed once, at the end of the current loop turn.
  void requestFlush(std::shared_ptr<TcpConnection> connection);

  void start();  // runs the loop on a new thread
  // Manual driving (tests, fuzzers): the calling thread becomes the loop's thread
  // and poll() runs whatever is ready, without blocking.
  void bindToCurrentThread() {
    threadId_.store(std::this_thread::get_id(), std::memory_order_release);
  }
  size_t poll();
  void stop();
  void join();

  // A scratch buffer shared by every connection of this loop for reads.
  std::vector<char>& readBuffer() { return readBuffer_; }

 private:
  void flushAll();

  unsigned index_;
  std::unique_ptr<boost::asio::io_context> context_;
  std::thread thread_;
  std::atomic<std::thread::id> threadId_{};
  std::vector<std::shared_ptr<TcpConnection>> pendingFlush_;
  std::vector<std::shared_ptr<TcpConnection>> flushing_;
  bool flushPosted_ = false;
  std::vector<char> readBuffer_;
  bool manualClock_ = false;
  int64_t manualNowMs_ = 0;
  std::multimap<int64_t, std::shared_ptr<TimerHandle>> manualTimers_;  // by deadline
};

// The loops of a server: one per core by default.
class LoopGroup {
 public:
  explicit LoopGroup(unsigned count);
  ~LoopGroup();
  unsigned size() const { return static_cast<unsigned>(loops_.size()); }
  Loop& at(unsigned i) { return *loops_[i]; }
  // The loop of the calling thread, or nullptr when called from elsewhere.
  Loop* current();
  void start();
  // Whether start() was called: from then on the loops' threads read whatever was
  // configured before (namespaces, middleware, handlers), which stays fixed.
  bool started() const { return started_.load(std::memory_order_acquire); }
  // From a thread that is not a loop's: returns once every task queued on each loop
  // before the call has run (the loops keep running).
  void drain();
  void stop();  // stops and joins every loop

 private:
  std::vector<std::unique_ptr<Loop>> loops_;
  std::atomic<bool> started_{false};
};

}  // namespace brigade::net
