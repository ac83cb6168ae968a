#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "store/sql/connection.hpp"

namespace brigade::store::sql {

// A few reader threads, each with its own connection, taking read tasks in order.
class ReaderPool {
 public:
  using Task = std::function<void(Connection&)>;

  explicit ReaderPool(std::vector<std::unique_ptr<Connection>> connections);
  ~ReaderPool();
  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;

  // Answers what is queued, then ends the threads; later posts are refused.
  void stop();
  bool stopped();
  // False once stopped (the task is dropped).
  bool post(Task task);

 private:
  void run(Connection& c);

  std::vector<std::unique_ptr<Connection>> conns_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Task> tasks_;
  bool stop_ = false;
};

}  // namespace brigade::store::sql
