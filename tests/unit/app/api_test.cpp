#include "app/api.hpp"

#include <gtest/gtest.h>

namespace brigade::app {
namespace {

std::optional<std::string> bearer(std::string header) {
  http::Request request;
  request.headers = {{"authorization", std::move(header)}};
  return bearerToken(request);
}

TEST(BearerToken, SchemeIsCaseInsensitive) {
  EXPECT_EQ(bearer("Bearer abc"), "abc");
  EXPECT_EQ(bearer("bearer abc"), "abc");
  EXPECT_EQ(bearer("BEARER abc"), "abc");
  EXPECT_EQ(bearer("bEaReR    abc  "), "abc");
  EXPECT_EQ(bearer("Bearer"), std::nullopt);
  EXPECT_EQ(bearer("Bearer "), std::nullopt);
  EXPECT_EQ(bearer("Bearerabc"), std::nullopt);
  EXPECT_EQ(bearer("Basic abc"), std::nullopt);
  EXPECT_EQ(bearer("Bearer " + std::string(kMaxTokenLength, 'x')),
            std::string(kMaxTokenLength, 'x'));
  EXPECT_EQ(bearer("Bearer " + std::string(kMaxTokenLength + 1, 'x')), std::nullopt);
}

TEST(ParseBody, DuplicateKeysAreRefused) {
  json::value out;
  auto error = parseBody(R"({"email":"a@b.c","email":"x@y.z"})", out);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->status, 400);
  EXPECT_EQ(error->code, "malformed_request");
  // Nested, and with escapes that spell the same key.
  EXPECT_TRUE(parseBody(R"({"a":{"b":1,"b":2}})", out));
  EXPECT_TRUE(parseBody(R"({"items":[{"q":1,"q":1}]})", out));
  EXPECT_TRUE(parseBody(R"({"role":"rider","r\u006fle":"admin"})", out));
  // The same key in sibling objects is fine.
  EXPECT_FALSE(parseBody(R"({"a":{"b":1},"c":{"b":2},"d":[{"b":1},{"b":2}]})", out));
  EXPECT_EQ(out.at("c").at("b").as_int64(), 2);
}

TEST(ParseBody, LimitsStillApply) {
  json::value out;
  std::string deep(kMaxJsonDepth + 1, '[');
  deep += std::string(kMaxJsonDepth + 1, ']');
  auto error = parseBody(deep, out);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->status, 422);
  error = parseBody("{\"a\":", out);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->status, 400);
}

}  // namespace
}  // namespace brigade::app
