#include "store/sql/reader_pool.hpp"

#include <pthread.h>

namespace brigade::store::sql {

ReaderPool::ReaderPool(std::vector<std::unique_ptr<Connection>> connections)
    : conns_(std::move(connections)) {
  for (auto& c : conns_) {
    threads_.emplace_back([this, conn = c.get()] {
      pthread_setname_np(pthread_self(), "store-reader");
      run(*conn);
    });
  }
}

ReaderPool::~ReaderPool() {
  stop();
}

void ReaderPool::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

bool ReaderPool::stopped() {
  std::lock_guard lock(mutex_);
  return stop_;
}

bool ReaderPool::post(Task task) {
  {
    std::lock_guard lock(mutex_);
    if (stop_) return false;
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void ReaderPool::run(Connection& c) {
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping, and nothing left to answer
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task(c);
  }
}

}  // namespace brigade::store::sql
