#include "app/worker_pool.hpp"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <string>
#include <vector>

namespace brigade::app {
namespace {

using Priority = WorkerPool::Priority;

// One worker held busy by a job that waits for `release`.
struct Blocked {
  std::promise<void> release;
  std::promise<void> started;
};

TEST(WorkerPool, UrgentJobsRunBeforeQueuedBackgroundJobs) {
  WorkerPool pool(1);
  Blocked blocked;
  auto go = blocked.release.get_future().share();
  ASSERT_TRUE(pool.submit([&] {
    blocked.started.set_value();
    go.wait();
  }));
  blocked.started.get_future().wait();
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
  blocked.release.set_value();
  done.get_future().wait();
  std::lock_guard lock(mutex);
  EXPECT_EQ(order,
            (std::vector<std::string>{"login 1", "login 2", "signup 1", "signup 2", "signup 3"}));
}

TEST(WorkerPool, AFullBackgroundQueueLeavesRoomForUrgentJobs) {
  WorkerPool pool(1);
  Blocked blocked;
  auto go = blocked.release.get_future().share();
  ASSERT_TRUE(pool.submit([&] {
    blocked.started.set_value();
    go.wait();
  }));
  blocked.started.get_future().wait();
  for (size_t i = 0; i < WorkerPool::kMaxQueuedBackgroundJobs; ++i) {
    ASSERT_TRUE(pool.submit([] {}, Priority::kBackground)) << i;
  }
  EXPECT_FALSE(pool.submit([] {}, Priority::kBackground));  // one more: refused
  std::promise<void> urgentRan;
  EXPECT_TRUE(pool.submit([&] { urgentRan.set_value(); }, Priority::kUrgent));
  blocked.release.set_value();
  urgentRan.get_future().wait();
}

TEST(WorkerPool, UrgentQueueHasItsCapToo) {
  WorkerPool pool(1);
  Blocked blocked;
  auto go = blocked.release.get_future().share();
  // go by value: the job may still be waiting on it when the test's locals go.
  ASSERT_TRUE(pool.submit([&blocked, go] {
    blocked.started.set_value();
    go.wait();
  }));
  blocked.started.get_future().wait();
  for (size_t i = 0; i < WorkerPool::kMaxQueuedJobs; ++i) ASSERT_TRUE(pool.submit([] {}));
  EXPECT_FALSE(pool.submit([] {}));
  blocked.release.set_value();
}

}  // namespace
}  // namespace brigade::app
