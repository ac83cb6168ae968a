#include "store/postgres/recorded_changes.hpp"

#include <gtest/gtest.h>

namespace brigade::store::postgres {
namespace {

TEST(TextArrayLiteral, EveryElementIsQuotedWithQuotesAndBackslashesEscaped) {
  EXPECT_EQ(textArrayLiteral({}), "{}");
  EXPECT_EQ(textArrayLiteral({std::string_view("orders")}), "{\"orders\"}");
  // What array syntax would otherwise read: braces, commas, spaces, the word NULL, an
  // empty text, newlines; and the two characters a quoted element escapes.
  EXPECT_EQ(textArrayLiteral({std::string_view("{a, b}"), std::string_view("NULL"),
                              std::string_view(""), std::nullopt, std::string_view("x\ny")}),
            "{\"{a, b}\",\"NULL\",\"\",NULL,\"x\ny\"}");
  EXPECT_EQ(textArrayLiteral({std::string_view(R"({"q":"a \"b\" c\\d"})")}),
            R"({"{\"q\":\"a \\\"b\\\" c\\\\d\"}"})");
}

}  // namespace
}  // namespace brigade::store::postgres
