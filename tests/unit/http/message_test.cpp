#include "http/message.hpp"

#include <gtest/gtest.h>

namespace brigade::http {
namespace {

TEST(Serialize, HeadAnswerKeepsContentLengthWithoutTheBody) {
  Response response = Response::json(200, R"({"hello":"world"})");
  std::string full = serialize(response, true);
  response.contentLength = response.body.size();
  response.body.clear();
  std::string head = serialize(response, true);
  EXPECT_NE(head.find("Content-Length: 17\r\n"), std::string::npos);
  EXPECT_TRUE(head.ends_with("\r\n\r\n"));
  EXPECT_EQ(full, head + R"({"hello":"world"})");
}

}  // namespace
}  // namespace brigade::http
