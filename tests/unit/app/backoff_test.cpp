#include "app/backoff.hpp"

#include <gtest/gtest.h>

namespace brigade::app {
namespace {

Backoff::Policy policy() {
  Backoff::Policy p;
  p.freeFailures = 3;
  p.baseMs = 1000;
  p.maxMs = 8000;
  p.forgetMs = 60000;
  return p;
}

TEST(Backoff, FreeFailuresThenDoublingWaits) {
  Backoff backoff(policy());
  int64_t t = 1'000'000;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(backoff.retryAfterMs("k", t), 0) << i;
    backoff.recordFailure("k", t);
  }
  // The third failure was the last free one: now 1 s, then 2, 4, 8, 8 (the cap).
  int64_t expected[] = {1000, 2000, 4000, 8000, 8000};
  for (int64_t wait : expected) {
    EXPECT_EQ(backoff.retryAfterMs("k", t), wait);
    EXPECT_EQ(backoff.retryAfterMs("k", t + wait - 1), 1);
    t += wait;
    EXPECT_EQ(backoff.retryAfterMs("k", t), 0);
    backoff.recordFailure("k", t);
  }
}

TEST(Backoff, KeysAreIndependent) {
  Backoff backoff(policy());
  for (int i = 0; i < 10; ++i) backoff.recordFailure("attacker|victim", 0);
  EXPECT_GT(backoff.retryAfterMs("attacker|victim", 0), 0);
  EXPECT_EQ(backoff.retryAfterMs("owner|victim", 0), 0);
}

TEST(Backoff, SuccessAndQuietTimeForget) {
  Backoff backoff(policy());
  for (int i = 0; i < 5; ++i) backoff.recordFailure("k", 0);
  EXPECT_GT(backoff.retryAfterMs("k", 0), 0);
  backoff.reset("k");
  EXPECT_EQ(backoff.retryAfterMs("k", 0), 0);
  for (int i = 0; i < 5; ++i) backoff.recordFailure("k", 0);
  EXPECT_EQ(backoff.retryAfterMs("k", 60000), 0);
  // After the quiet spell the count starts over: three free failures again.
  for (int i = 0; i < 2; ++i) backoff.recordFailure("k", 60000);
  EXPECT_EQ(backoff.retryAfterMs("k", 60000), 0);
  backoff.recordFailure("k", 60000);
  EXPECT_EQ(backoff.retryAfterMs("k", 60000), 1000);
}

TEST(Backoff, MemoryIsBounded) {
  Backoff backoff(policy());
  for (int i = 0; i < 250000; ++i) backoff.recordFailure("key " + std::to_string(i), 0);
  // Still working, and the newest key is remembered.
  for (int i = 0; i < 3; ++i) backoff.recordFailure("last", 0);
  EXPECT_EQ(backoff.retryAfterMs("last", 0), 1000);
}

}  // namespace
}  // namespace brigade::app
