#include "http/trusted_proxies.hpp"

#include <gtest/gtest.h>

namespace brigade::http {
namespace {

TEST(TrustedProxies, WithoutAnyTheHeaderIsIgnored) {
  TrustedProxies none;
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.clientAddress("127.0.0.1", "203.0.113.9"), "127.0.0.1");
  EXPECT_FALSE(none.contains("127.0.0.1"));
}

TEST(TrustedProxies, AddressesAndNetworks) {
  TrustedProxies proxies;
  ASSERT_TRUE(proxies.add("127.0.0.1"));
  ASSERT_TRUE(proxies.add("10.0.0.0/8"));
  ASSERT_TRUE(proxies.add("fd00::/8"));
  ASSERT_TRUE(proxies.add(" ::1 "));
  EXPECT_TRUE(proxies.contains("127.0.0.1"));
  EXPECT_FALSE(proxies.contains("127.0.0.2"));
  EXPECT_TRUE(proxies.contains("10.255.1.2"));
  EXPECT_FALSE(proxies.contains("11.0.0.1"));
  EXPECT_TRUE(proxies.contains("fd12:3456::1"));
  EXPECT_FALSE(proxies.contains("fe80::1"));
  EXPECT_TRUE(proxies.contains("::1"));
  EXPECT_FALSE(proxies.contains("not an address"));
  EXPECT_FALSE(proxies.contains(""));
}

TEST(TrustedProxies, OddPrefixLengths) {
  TrustedProxies proxies;
  ASSERT_TRUE(proxies.add("192.168.4.0/22"));
  EXPECT_TRUE(proxies.contains("192.168.7.255"));
  EXPECT_FALSE(proxies.contains("192.168.8.0"));
  EXPECT_FALSE(proxies.contains("192.168.3.255"));
  ASSERT_TRUE(proxies.add("0.0.0.0/0"));
  EXPECT_TRUE(proxies.contains("8.8.8.8"));
}

TEST(TrustedProxies, RefusesGarbage) {
  TrustedProxies proxies;
  EXPECT_FALSE(proxies.add("10.0.0.0/33"));
  EXPECT_FALSE(proxies.add("::/129"));
  EXPECT_FALSE(proxies.add("10.0.0.0/"));
  EXPECT_FALSE(proxies.add("10.0.0.0/x"));
  EXPECT_FALSE(proxies.add("localhost"));
  EXPECT_FALSE(proxies.add(""));
  EXPECT_FALSE(proxies.add("1.2.3.4.5"));
  EXPECT_TRUE(proxies.empty());
}

TEST(TrustedProxies, RightMostUntrustedHopIsTheClient) {
  TrustedProxies proxies;
  ASSERT_TRUE(proxies.add("127.0.0.1"));
  ASSERT_TRUE(proxies.add("10.0.0.0/8"));
  // The client wrote a fake first entry; our proxies appended the real ones.
  EXPECT_EQ(proxies.clientAddress("127.0.0.1", "1.1.1.1, 203.0.113.9, 10.0.0.5"), "203.0.113.9");
  EXPECT_EQ(proxies.clientAddress("127.0.0.1", "203.0.113.9"), "203.0.113.9");
  EXPECT_EQ(proxies.clientAddress("127.0.0.1", " 2001:db8::7 "), "2001:db8::7");
  // No header, or only proxies: the last hop we can name.
  EXPECT_EQ(proxies.clientAddress("127.0.0.1", ""), "127.0.0.1");
  EXPECT_EQ(proxies.clientAddress("127.0.0.1", "10.1.1.1"), "10.1.1.1");
  // Garbage stops the walk: nothing left of it is believed.
  EXPECT_EQ(proxies.clientAddress("127.0.0.1", "203.0.113.9, evil"), "127.0.0.1");
  EXPECT_EQ(proxies.clientAddress("127.0.0.1", "203.0.113.9, unknown, 10.0.0.2"), "10.0.0.2");
  // A peer that is not a proxy is the client, whatever it claims.
  EXPECT_EQ(proxies.clientAddress("198.51.100.4", "203.0.113.9"), "198.51.100.4");
}

}  // namespace
}  // namespace brigade::http
