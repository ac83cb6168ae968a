#include "app/worker_pool.hpp"

namespace brigade::app {

WorkerPool::WorkerPool(unsigned threads) {
  for (unsigned i = 0; i < (threads ? threads : 1); ++i) threads_.emplace_back([this] { run(); });
}

void WorkerPool::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

bool WorkerPool::submit(std::function<void()> job, Priority priority) {
  {
    std::lock_guard lock(mutex_);
    auto& queue = jobs_[static_cast<size_t>(priority)];
    size_t cap = priority == Priority::kUrgent ? kMaxQueuedJobs : kMaxQueuedBackgroundJobs;
    if (stopping_ || queue.size() >= cap) return false;
    queue.push_back(std::move(job));
  }
  ready_.notify_one();
  return true;
}

void WorkerPool::run() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !jobs_[0].empty() || !jobs_[1].empty(); });
      auto& queue = !jobs_[0].empty() ? jobs_[0] : jobs_[1];
      if (queue.empty()) return;  // stopping, nothing left
      job = std::move(queue.front());
      queue.pop_front();
    }
    job();
  }
}

}  // namespace brigade::app
