#include "http/connection_limits.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace brigade::http {
namespace {

using Verdict = ConnectionLimiter::Verdict;

ConnectionLimitOptions small(size_t all, size_t perAddress, size_t pending) {
  ConnectionLimitOptions options;
  options.maxConnections = all;
  options.maxPerAddress = perAddress;
  options.maxPendingPerAddress = pending;
  return options;
}

TEST(ConnectionLimiter, CapsOneAddressNotTheOthers) {
  ConnectionLimiter limiter(small(100, 3, 10));
  std::vector<std::shared_ptr<ConnectionTicket>> held;
  for (int i = 0; i < 3; ++i) {
    auto a = limiter.admit("127.0.0.1", true);
    ASSERT_EQ(a.verdict, Verdict::kAdmitted);
    held.push_back(a.ticket);
  }
  auto over = limiter.admit("127.0.0.1", true);
  EXPECT_EQ(over.verdict, Verdict::kAddressFull);
  EXPECT_EQ(over.ticket, nullptr);
  EXPECT_EQ(limiter.admit("127.0.0.2", true).verdict, Verdict::kAdmitted);
  EXPECT_EQ(limiter.openFrom("127.0.0.1"), 3u);
  held.pop_back();  // one closes: room for one more
  EXPECT_EQ(limiter.openFrom("127.0.0.1"), 2u);
  EXPECT_EQ(limiter.admit("127.0.0.1", true).verdict, Verdict::kAdmitted);
}

TEST(ConnectionLimiter, PendingConnectionsHaveTheirOwnCap) {
  ConnectionLimiter limiter(small(100, 10, 2));
  auto a = limiter.admit("127.0.0.1", true).ticket;
  auto b = limiter.admit("127.0.0.1", true).ticket;
  ASSERT_TRUE(a && b);
  EXPECT_EQ(limiter.admit("127.0.0.1", true).verdict, Verdict::kAddressFull);
  a->requestSeen();  // a sent its first request: no longer pending
  a->requestSeen();  // idempotent
  auto c = limiter.admit("127.0.0.1", true).ticket;
  ASSERT_TRUE(c);
  EXPECT_EQ(limiter.admit("127.0.0.1", true).verdict, Verdict::kAddressFull);
  c.reset();  // a pending one closes
  EXPECT_EQ(limiter.admit("127.0.0.1", true).verdict, Verdict::kAdmitted);
}

TEST(ConnectionLimiter, GlobalCapAnswersServerFull) {
  ConnectionLimiter limiter(small(2, 0, 0));
  auto a = limiter.admit("10.0.0.1", true).ticket;
  auto b = limiter.admit("10.0.0.2", true).ticket;
  EXPECT_EQ(limiter.admit("10.0.0.3", true).verdict, Verdict::kServerFull);
  EXPECT_EQ(limiter.admit("10.0.0.3", false).verdict, Verdict::kServerFull);
  EXPECT_EQ(limiter.open(), 2u);
  a.reset();
  EXPECT_EQ(limiter.open(), 1u);
  EXPECT_EQ(limiter.admit("10.0.0.3", true).verdict, Verdict::kAdmitted);
}

TEST(ConnectionLimiter, ZeroMeansNoPerAddressCap) {
  ConnectionLimiter limiter(small(1000, 0, 0));
  std::vector<std::shared_ptr<ConnectionTicket>> held;
  for (int i = 0; i < 500; ++i) {
    auto a = limiter.admit("127.0.0.1", true);
    ASSERT_EQ(a.verdict, Verdict::kAdmitted) << i;
    held.push_back(a.ticket);
  }
}

TEST(ConnectionLimiter, DefaultGlobalCapComesFromTheDescriptorLimit) {
  ConnectionLimiter limiter(ConnectionLimitOptions{});
  EXPECT_GT(limiter.maxConnections(), 0u);
}

TEST(ConnectionLimiter, ProxyConnectionsCountByTheForwardedClient) {
  ConnectionLimiter limiter(small(100, 2, 1));
  // A trusted proxy's connections are not capped by its own address...
  std::vector<std::shared_ptr<ConnectionTicket>> proxied;
  for (int i = 0; i < 5; ++i) {
    auto a = limiter.admit("127.0.0.1", false);
    ASSERT_EQ(a.verdict, Verdict::kAdmitted);
    EXPECT_FALSE(a.ticket->attributed());
    proxied.push_back(a.ticket);
  }
  EXPECT_EQ(limiter.openFrom("127.0.0.1"), 0u);
  // ... but by the client each one forwards for, once its first request names it.
  proxied[0]->requestSeen();
  EXPECT_TRUE(proxied[0]->attribute("203.0.113.9"));
  EXPECT_TRUE(proxied[1]->attribute("203.0.113.9"));
  EXPECT_FALSE(proxied[2]->attribute("203.0.113.9"));
  EXPECT_FALSE(proxied[2]->attributed());
  EXPECT_TRUE(proxied[2]->attribute("203.0.113.10"));
  EXPECT_EQ(limiter.openFrom("203.0.113.9"), 2u);
  // Attributed connections are never pending: a direct one from that client is
  // admitted while its pending count is zero.
  auto direct = limiter.admit("203.0.113.10", true);
  EXPECT_EQ(direct.verdict, Verdict::kAdmitted);
  proxied[0].reset();
  EXPECT_EQ(limiter.openFrom("203.0.113.9"), 1u);
  proxied.clear();
  direct.ticket.reset();
  EXPECT_EQ(limiter.open(), 0u);
  EXPECT_EQ(limiter.openFrom("203.0.113.10"), 0u);
}

}  // namespace
}  // namespace brigade::http
