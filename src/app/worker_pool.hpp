#pragma once

#include <array>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace brigade::app {

// A few threads for CPU-heavy work (Argon2id hashing) that must not run on an
// event loop. Urgent jobs (sign-in) always run before background ones (sign-up),
// so a flood of registrations cannot delay a login behind it; each class has its
// own queue cap, past which submit() refuses rather than queueing forever.
class WorkerPool {
 public:
  enum class Priority { kUrgent, kBackground };
  static constexpr size_t kMaxQueuedJobs = 1024;          // urgent
  static constexpr size_t kMaxQueuedBackgroundJobs = 64;  // background

  explicit WorkerPool(unsigned threads);
  ~WorkerPool() { stop(); }

  // Runs what is queued, then ends the threads; later submits are refused.
  void stop();

  // False when that class's queue is full (the caller answers 503).
  bool submit(std::function<void()> job, Priority priority = Priority::kUrgent);

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::array<std::deque<std::function<void()>>, 2> jobs_;  // by Priority
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace brigade::app
