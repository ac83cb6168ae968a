// The sliding-window counter behind the login limits and the socket connect limit, on a
// clock the test moves.
#include "app/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace brigade::app {
namespace {

TEST(RateLimiterTest, FailuresSlideOutOfTheWindow) {
  RateLimiter limiter(3, 60000);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.retryAfterMs("a", i * 1000), 0);
    limiter.record("a", i * 1000);
  }
  EXPECT_EQ(limiter.retryAfterMs("a", 2000), 58000);  // the first leaves the window at 60 s
  EXPECT_EQ(limiter.retryAfterMs("b", 2000), 0);
  EXPECT_EQ(limiter.retryAfterMs("a", 60000), 0);
  limiter.record("a", 60000);
  EXPECT_EQ(limiter.retryAfterMs("a", 60000), 1000);
  limiter.reset("a");
  EXPECT_EQ(limiter.retryAfterMs("a", 60000), 0);
}

TEST(RateLimiterTest, AcquireCountsUpToTheLimitThenSaysWhenThereIsRoom) {
  RateLimiter limiter(3, 60000);
  EXPECT_EQ(limiter.acquire("a", 1000), 0);
  EXPECT_EQ(limiter.acquire("a", 2000), 0);
  EXPECT_EQ(limiter.acquire("a", 3000), 0);
  // The 4th within the minute: refused until the first one leaves the window.
  EXPECT_EQ(limiter.acquire("a", 4000), 57000);
  EXPECT_EQ(limiter.acquire("a", 60999), 1);
  // A refusal is not counted: the window frees its first place at 61000.
  EXPECT_EQ(limiter.acquire("a", 61000), 0);
  EXPECT_EQ(limiter.acquire("a", 61000), 1000);
  // Another key has its own window.
  EXPECT_EQ(limiter.acquire("b", 61000), 0);
}

TEST(RateLimiterTest, FailuresAndAcquireShareTheWindow) {
  RateLimiter limiter(2, 1000);
  limiter.record("k", 0);
  EXPECT_EQ(limiter.retryAfterMs("k", 10), 0);
  EXPECT_EQ(limiter.acquire("k", 10), 0);
  EXPECT_EQ(limiter.retryAfterMs("k", 20), 980);
  limiter.reset("k");
  EXPECT_EQ(limiter.acquire("k", 30), 0);
}

// Keys whose window has emptied do not pile up: after many one-off keys, the ones
// still within their window keep their counts and the old ones are gone.
TEST(RateLimiterTest, KeysWhoseWindowEmptiedAreDropped) {
  RateLimiter limiter(1, 1000);
  for (int i = 0; i < 5000; ++i) limiter.record("old " + std::to_string(i), 0);
  // A minute later, new keys: once the map has doubled since its last pass (8,192
  // keys), the old ones are pruned on the way.
  for (int i = 0; i < 4000; ++i) limiter.record("new " + std::to_string(i), 60000);
  EXPECT_EQ(limiter.size(), 4000u);
  EXPECT_GT(limiter.retryAfterMs("new 3999", 60000), 0);
  EXPECT_EQ(limiter.retryAfterMs("old 1", 60000), 0);
}

}  // namespace
}  // namespace brigade::app
