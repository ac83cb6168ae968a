#include "app/caller_cache.hpp"

#include <gtest/gtest.h>

namespace brigade::app {
namespace {

constexpr int64_t kKeep = 5000;

Caller caller(int64_t id) {
  return Caller{id, store::Role::kCustomer, "c" + std::to_string(id) + "@example.com", "C", "h"};
}

TEST(CallerCache, AnswersForAsLongAsItKeeps) {
  CallerCache cache(kKeep, 100);
  EXPECT_FALSE(cache.find("h", 0).hit);
  cache.remember("h", caller(7), 0, kKeep, 0);
  auto found = cache.find("h", kKeep - 1);
  ASSERT_TRUE(found.hit);
  ASSERT_TRUE(found.caller);
  EXPECT_EQ(found.caller->id, 7);
  EXPECT_FALSE(cache.find("h", kKeep).hit);
}

// The bug this class was written for: an expired entry was never replaced, so after the
// first few seconds every request of every signed-in caller read the database.
TEST(CallerCache, AnExpiredEntryIsReplacedByTheNextLookup) {
  CallerCache cache(kKeep, 100);
  cache.remember("h", caller(7), 0, kKeep, 0);
  ASSERT_FALSE(cache.find("h", 6000).hit);
  cache.remember("h", caller(7), 6000, kKeep, 6001);
  EXPECT_TRUE(cache.find("h", 7000).hit);
  EXPECT_TRUE(cache.find("h", 6001 + kKeep - 1).hit);
  EXPECT_FALSE(cache.find("h", 6001 + kKeep).hit);
}

TEST(CallerCache, NoLongerThanTheTokenLives) {
  CallerCache cache(kKeep, 100);
  cache.remember("short", caller(1), 0, 1000, 0);
  EXPECT_TRUE(cache.find("short", 999).hit);
  EXPECT_FALSE(cache.find("short", 1000).hit);
  cache.remember("expired", caller(2), 0, 0, 0);
  EXPECT_FALSE(cache.find("expired", 0).hit);
  cache.remember("long", caller(3), 0, 60'000, 0);  // the cache's own bound applies
  EXPECT_FALSE(cache.find("long", kKeep).hit);
}

TEST(CallerCache, ARevocationIsAnsweredAtOnce) {
  CallerCache cache(kKeep, 100);
  cache.remember("h", caller(7), 0, kKeep, 0);
  cache.revoke("h", 10);
  auto found = cache.find("h", 11);
  EXPECT_TRUE(found.hit);
  EXPECT_FALSE(found.caller);
}

// A lookup that read the database before the revocation answers after it: it must not put
// the caller back, neither while the tombstone lasts nor after.
TEST(CallerCache, ALookupBegunBeforeARevocationCannotUndoIt) {
  CallerCache cache(kKeep, 100);
  cache.revoke("h", 200);
  cache.remember("h", caller(7), 100, kKeep, 300);
  auto found = cache.find("h", 400);
  EXPECT_TRUE(found.hit);
  EXPECT_FALSE(found.caller);
  cache.remember("h", caller(7), 150, kKeep, 200 + kKeep + 1000);
  found = cache.find("h", 200 + kKeep + 1001);
  EXPECT_FALSE(found.hit && found.caller) << "a stale lookup brought a revoked caller back";
  // A lookup begun after the tombstone expired is the database's word again.
  cache.remember("h", caller(8), 200 + kKeep + 2000, kKeep, 200 + kKeep + 2000);
  found = cache.find("h", 200 + kKeep + 2001);
  ASSERT_TRUE(found.hit && found.caller);
  EXPECT_EQ(found.caller->id, 8);
}

// Full: expired entries go first, so live callers and revocations in force stay.
TEST(CallerCache, AFullCacheDropsExpiredEntriesFirst) {
  CallerCache cache(kKeep, 3);
  cache.remember("old1", caller(1), 0, kKeep, 0);
  cache.remember("old2", caller(2), 0, kKeep, 0);
  cache.revoke("revoked", 4000);
  cache.remember("new", caller(4), 6000, kKeep, 6000);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_TRUE(cache.find("new", 6001).hit);
  auto revoked = cache.find("revoked", 6001);
  EXPECT_TRUE(revoked.hit);
  EXPECT_FALSE(revoked.caller);
  // Full of live entries: it starts again rather than grow past its bound.
  cache.remember("a", caller(5), 6000, kKeep, 6000);
  cache.remember("b", caller(6), 6000, kKeep, 6000);
  EXPECT_LE(cache.size(), 3u);
  EXPECT_TRUE(cache.find("b", 6001).hit);
}

}  // namespace
}  // namespace brigade::app
