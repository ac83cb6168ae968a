#include "core/utf8.hpp"

#include <gtest/gtest.h>

namespace brigade {
namespace {

TEST(Utf8, AcceptsValidText) {
  EXPECT_TRUE(utf8::valid(""));
  EXPECT_TRUE(utf8::valid("hello"));
  EXPECT_TRUE(utf8::valid("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8d\x95"));
  EXPECT_TRUE(utf8::valid("\xf4\x8f\xbf\xbf"));  // U+10FFFF
}

TEST(Utf8, RejectsInvalidText) {
  EXPECT_FALSE(utf8::valid("\xc0\xaf"));          // overlong
  EXPECT_FALSE(utf8::valid("\xe0\x80\xaf"));      // overlong 3-byte
  EXPECT_FALSE(utf8::valid("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(utf8::valid("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(utf8::valid("\xff"));
  EXPECT_FALSE(utf8::valid("\xe2\x82"));  // truncated
  EXPECT_FALSE(utf8::valid("\x80"));      // lone continuation
}

TEST(Utf8, IncrementalAtEverySplit) {
  const std::string text = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x8d\x95z";
  for (size_t split = 0; split <= text.size(); ++split) {
    utf8::Validator v;
    ASSERT_TRUE(v.feed(std::string_view(text).substr(0, split)));
    ASSERT_TRUE(v.feed(std::string_view(text).substr(split)));
    EXPECT_TRUE(v.complete());
  }
  utf8::Validator v;
  EXPECT_TRUE(v.feed("\xe2\x82"));
  EXPECT_FALSE(v.complete());
}

}  // namespace
}  // namespace brigade
