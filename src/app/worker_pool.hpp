#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace brigade::app {

// A few threads for CPU-heavy work (Argon2id hashing) that must not run on an
// event loop. Jobs beyond kMaxQueuedJobs are refused rather than queued forever.
class WorkerPool {
 public:
  static constexpr size_t kMaxQueuedJobs = 1024;

  explicit WorkerPool(unsigned threads);
  ~WorkerPool();

  // False when the queue is full (the caller answers 503).
  bool submit(std::function<void()> job);

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace brigade::app
