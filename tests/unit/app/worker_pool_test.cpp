#include "app/worker_pool.hpp"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <string>
#include <vector>

namespace brigade::app {
namespace {

using Priority = WorkerPool::Priority;

// Holds a pool's only worker busy until release(), so that jobs queue up.
class Blocked {
 public:
  explicit Blocked(WorkerPool& pool) {
    auto go = release_.get_future().share();
    EXPECT_TRUE(pool.submit([this, go] {
      started_.set_value();
      go.wait();
    }));
    started_.get_future().wait();
  }
  void release() { release_.set_value(); }

 private:
  std::promise<void> release_;
  std::promise<void> started_;
};

TEST(WorkerPool, UrgentJobsRunBeforeQueuedBackgroundJobs) {
  WorkerPool pool(1);
  Blocked blocked(pool);
  std::mutex mutex;
  std::vector<std::string> order;
  auto record = [&](std::string name) {
    return [&, name] {
      std::lock_guard lock(mutex);
      order.push_back(name);
    };
  };
  ASSERT_TRUE(pool.submit(record("signup 1"), Priority::kBackground));
  ASSERT_TRUE(pool.submit(record("signup 2"), Priority::kBackground));
  ASSERT_TRUE(pool.submit(record("login 1"), Priority::kUrgent));
  ASSERT_TRUE(pool.submit(record("signup 3"), Priority::kBackground));
  ASSERT_TRUE(pool.submit(record("login 2"), Priority::kUrgent));
  std::promise<void> done;
  ASSERT_TRUE(pool.submit([&] { done.set_value(); }, Priority::kBackground));
  blocked.release();
  done.get_future().wait();
  std::lock_guard lock(mutex);
  EXPECT_EQ(order,
            (std::vector<std::string>{"login 1", "login 2", "signup 1", "signup 2", "signup 3"}));
}

TEST(WorkerPool, AFullBackgroundQueueLeavesRoomForUrgentJobs) {
  WorkerPool pool(1);
  Blocked blocked(pool);
  for (size_t i = 0; i < WorkerPool::kMaxQueuedBackgroundJobs; ++i) {
    ASSERT_TRUE(pool.submit([] {}, Priority::kBackground)) << i;
  }
  EXPECT_FALSE(pool.submit([] {}, Priority::kBackground));  // one more: refused
  std::promise<void> urgentRan;
  EXPECT_TRUE(pool.submit([&] { urgentRan.set_value(); }, Priority::kUrgent));
  blocked.release();
  urgentRan.get_future().wait();
}

TEST(WorkerPool, UrgentQueueHasItsCapToo) {
  WorkerPool pool(1);
  Blocked blocked(pool);
  for (size_t i = 0; i < WorkerPool::kMaxQueuedJobs; ++i) ASSERT_TRUE(pool.submit([] {}));
  EXPECT_FALSE(pool.submit([] {}));
  blocked.release();
}

}  // namespace
}  // namespace brigade::app
