#include "core/base64.hpp"

#include <gtest/gtest.h>

#include "core/random.hpp"

namespace brigade {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(base64::encode(plain), encoded);
    auto decoded = base64::decode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64, BinaryRoundTrip) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  EXPECT_EQ(base64::decode(base64::encode(all)).value(), all);
}

TEST(Base64, RejectsInvalidInput) {
  EXPECT_FALSE(base64::decode("abc").has_value());   // length not a multiple of 4
  EXPECT_FALSE(base64::decode("ab!d").has_value());  // bad character
  EXPECT_FALSE(base64::decode("a===").has_value());  // too much padding
  EXPECT_FALSE(base64::decode("ab=c").has_value());  // padding in the middle
  EXPECT_FALSE(base64::decode("Zg==Zm8=").has_value());
}

TEST(RandomId, UrlSafeAndDistinct) {
  auto a = randomId();
  auto b = randomId();
  EXPECT_EQ(a.size(), 20u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
}

}  // namespace
}  // namespace brigade
