#include "core/log.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <boost/json/parse.hpp>
#include <sstream>

namespace brigade::log {
namespace {

TEST(Log, JsonLinesAreObjectsWithEscapedTextAndTheEventsFields) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
  spdlog::set_level(spdlog::level::debug);
  useJsonFormat();
  spdlog::warn("a \"quoted\" line\nwith a newline and \x01 a control byte");
  event(spdlog::level::info, "request",
        {field("request_id", "abc\"def"), field("status", 200LL), field("seconds", 0.25)});
  // A logged value that looks like fields stays text.
  spdlog::info("x\",\"forged\":\"1");
  spdlog::set_default_logger(previous);

  std::istringstream lines(out.str());
  std::string line;
  std::vector<boost::json::object> objects;
  while (std::getline(lines, line)) objects.push_back(boost::json::parse(line).as_object());
  ASSERT_EQ(objects.size(), 3u);
  EXPECT_EQ(objects[0].at("level").as_string(), "warning");
  EXPECT_EQ(objects[0].at("msg").as_string(),
            "a \"quoted\" line\nwith a newline and \x01 a control byte");
  EXPECT_TRUE(objects[0].at("time").as_string().ends_with("Z"));
  EXPECT_EQ(objects[1].at("msg").as_string(), "request");
  EXPECT_EQ(objects[1].at("request_id").as_string(), "abc\"def");
  EXPECT_EQ(objects[1].at("status").as_int64(), 200);
  EXPECT_DOUBLE_EQ(objects[1].at("seconds").to_number<double>(), 0.25);
  EXPECT_EQ(objects[2].at("msg").as_string(), "x\",\"forged\":\"1");
  EXPECT_FALSE(objects[2].contains("forged"));
}

}  // namespace
}  // namespace brigade::log
