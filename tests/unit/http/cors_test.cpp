#include "http/cors.hpp"

#include <gtest/gtest.h>

namespace brigade::http {
namespace {

Request withOrigin(std::string origin, std::string host, std::string scheme = "http") {
  Request request;
  request.method = "GET";
  request.headers = {{"origin", std::move(origin)}, {"host", std::move(host)}};
  request.scheme = std::move(scheme);
  return request;
}

std::string header(const Response& response, std::string_view name) {
  for (const auto& [n, v] : response.headers) {
    if (n == name) return v;
  }
  return {};
}

TEST(SameOrigin, SchemeHostAndPortAllCount) {
  EXPECT_TRUE(sameOrigin("http://shop.example:8080", "http", "shop.example:8080"));
  EXPECT_TRUE(sameOrigin("HTTP://Shop.Example:8080", "http", "shop.example:8080"));
  // Another scheme on the same host and port is another origin.
  EXPECT_FALSE(sameOrigin("https://shop.example:8080", "http", "shop.example:8080"));
  EXPECT_FALSE(sameOrigin("http://shop.example:8080", "https", "shop.example:8080"));
  // Another port, or another host.
  EXPECT_FALSE(sameOrigin("http://shop.example:8081", "http", "shop.example:8080"));
  EXPECT_FALSE(sameOrigin("http://evil.example:8080", "http", "shop.example:8080"));
  EXPECT_FALSE(sameOrigin("http://shop.example.evil:8080", "http", "shop.example:8080"));
  // Default ports, written or not.
  EXPECT_TRUE(sameOrigin("http://shop.example", "http", "shop.example:80"));
  EXPECT_TRUE(sameOrigin("http://shop.example:80", "http", "shop.example"));
  EXPECT_TRUE(sameOrigin("https://shop.example", "https", "shop.example:443"));
  EXPECT_FALSE(sameOrigin("https://shop.example", "http", "shop.example"));
  EXPECT_FALSE(sameOrigin("http://shop.example", "http", "shop.example:8080"));
  // IPv6 literals.
  EXPECT_TRUE(sameOrigin("http://[::1]:8080", "http", "[::1]:8080"));
  EXPECT_FALSE(sameOrigin("http://[::1]:8080", "http", "[::2]:8080"));
  // Malformed.
  EXPECT_FALSE(sameOrigin("null", "http", "shop.example"));
  EXPECT_FALSE(sameOrigin("http://", "http", "shop.example"));
  EXPECT_FALSE(sameOrigin("http://shop.example:", "http", "shop.example"));
  EXPECT_FALSE(sameOrigin("http://shop.example:99999", "http", "shop.example"));
  EXPECT_FALSE(sameOrigin("http://user@shop.example", "http", "shop.example"));
  EXPECT_FALSE(sameOrigin("http://shop.example", "http", ""));
}

TEST(CorsPolicy, SameOriginOnlyByDefault) {
  CorsPolicy policy;
  EXPECT_TRUE(policy.allows(withOrigin("http://127.0.0.1:8080", "127.0.0.1:8080")));
  EXPECT_FALSE(policy.allows(withOrigin("https://127.0.0.1:8080", "127.0.0.1:8080")));
  // Behind a TLS-terminating proxy the request's scheme is https.
  EXPECT_TRUE(policy.allows(withOrigin("https://shop.example", "shop.example", "https")));
  EXPECT_FALSE(policy.allows(withOrigin("http://other:8080", "127.0.0.1:8080")));
}

TEST(CorsPolicy, EveryAnswerVariesByOrigin) {
  CorsPolicy policy;
  for (const auto& request :
       {withOrigin("http://a:1", "a:1"), withOrigin("http://evil", "a:1"), Request{}}) {
    Response response;
    policy.apply(request, response);
    EXPECT_EQ(header(response, "Vary"), "Origin");
    Response preflight = policy.preflight(request);
    EXPECT_EQ(header(preflight, "Vary"), "Origin");
  }
  Response allowed;
  policy.apply(withOrigin("http://a:1", "a:1"), allowed);
  EXPECT_EQ(header(allowed, "Access-Control-Allow-Origin"), "http://a:1");
  Response refused;
  policy.apply(withOrigin("http://evil", "a:1"), refused);
  EXPECT_EQ(header(refused, "Access-Control-Allow-Origin"), "");
  // Not added twice.
  Response twice;
  policy.apply(withOrigin("http://a:1", "a:1"), twice);
  policy.apply(withOrigin("http://a:1", "a:1"), twice);
  int vary = 0;
  for (const auto& [n, v] : twice.headers) vary += n == "Vary";
  EXPECT_EQ(vary, 1);
}

TEST(CorsPolicy, ListedOrigins) {
  CorsPolicy policy;
  policy.origins = {"https://shop.example"};
  EXPECT_TRUE(policy.allows(withOrigin("https://shop.example", "api.example")));
  EXPECT_FALSE(policy.allows(withOrigin("https://shop.example.evil", "api.example")));
  Response response;
  policy.apply(withOrigin("https://shop.example", "api.example"), response);
  EXPECT_EQ(header(response, "Access-Control-Allow-Origin"), "https://shop.example");
}

}  // namespace
}  // namespace brigade::http
