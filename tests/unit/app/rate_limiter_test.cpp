#include "app/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace brigade::app {
namespace {

TEST(RateLimiter, SlidingWindow) {
  RateLimiter limiter(3, 60000);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.retryAfterMs("a", i * 1000), 0);
    limiter.recordFailure("a", i * 1000);
  }
  EXPECT_EQ(limiter.retryAfterMs("a", 2000), 58000);  // the first leaves the window at 60 s
  EXPECT_EQ(limiter.retryAfterMs("b", 2000), 0);
  EXPECT_EQ(limiter.retryAfterMs("a", 60000), 0);
  limiter.recordFailure("a", 60000);
  EXPECT_EQ(limiter.retryAfterMs("a", 60000), 1000);
  limiter.reset("a");
  EXPECT_EQ(limiter.retryAfterMs("a", 60000), 0);
}

}  // namespace
}  // namespace brigade::app
