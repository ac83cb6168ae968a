#include "server/https_redirect.hpp"

#include <gtest/gtest.h>

namespace brigade::server {
namespace {

TEST(HttpsLocation, KeepsTheHostNameThePathAndTheQueryOnTheHttpsPort) {
  EXPECT_EQ(httpsLocation("brigade.lan:8080", "/admin/?x=1", 8443),
            "https://brigade.lan:8443/admin/?x=1");
  EXPECT_EQ(httpsLocation("brigade.lan", "/", 443), "https://brigade.lan/");
  EXPECT_EQ(httpsLocation("10.0.0.5:80", "/rider/", 443), "https://10.0.0.5/rider/");
  EXPECT_EQ(httpsLocation("[::1]:8080", "/x", 8443), "https://[::1]:8443/x");
}

TEST(HttpsLocation, RefusesAHostThatCouldPointElsewhere) {
  EXPECT_EQ(httpsLocation("", "/", 443), "");
  EXPECT_EQ(httpsLocation("evil.example/@x", "/", 443), "");
  EXPECT_EQ(httpsLocation("a b", "/", 443), "");
  EXPECT_EQ(httpsLocation("[::1", "/", 443), "");
  // A target that is not a path (absolute form, garbage) goes to the root.
  EXPECT_EQ(httpsLocation("brigade.lan", "http://evil.example/", 443), "https://brigade.lan/");
}

}  // namespace
}  // namespace brigade::server
