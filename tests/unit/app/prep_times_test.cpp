// Measured times: median and p90 of what orders took, today by local hour, items over a week.
#include "app/prep_times.hpp"

#include <gtest/gtest.h>

namespace brigade::app {
namespace {

SysTime at(const std::string& text) {
  return parseTime(text).value();
}

TEST(PrepTimes, SpreadInterpolatesBetweenRanks) {
  EXPECT_EQ(spread({}).count, 0);
  EXPECT_FALSE(spread({}).median);
  EXPECT_EQ(*spread({7}).median, 7);
  EXPECT_EQ(*spread({7}).p90, 7);
  auto s = spread({10, 1, 4, 2, 3, 5, 6, 7, 8, 9});
  EXPECT_EQ(s.count, 10);
  EXPECT_DOUBLE_EQ(*s.median, 5.5);
  EXPECT_DOUBLE_EQ(*s.p90, 9.1);
}

TEST(PrepTimes, TodayByLocalHourAndItemsOverTheWeek) {
  const auto* seoul = findZone("Asia/Seoul");
  // Today in Seoul: 2026-12-01T15:00Z to 2026-12-02T15:00Z.
  std::vector<store::OrderTiming> orders{
      // 11:00 local: accepted at once, ready after 12 min, delivered 40 min after placing.
      {1,
       "2026-12-02T02:00:00.000Z",
       "2026-12-02T02:00:00.000Z",
       "2026-12-02T02:12:00.000Z",
       "2026-12-02T02:40:00.000Z",
       {{7, "Burger"}, {8, "Fries"}}},
      // 11:30 local: prep 20 min, not delivered yet.
      {2,
       "2026-12-02T02:30:00.000Z",
       "2026-12-02T02:31:00.000Z",
       "2026-12-02T02:51:00.000Z",
       std::nullopt,
       {{7, "Burger"}}},
      // 19:00 local, rejected: no times.
      {3, "2026-12-02T10:00:00.000Z", std::nullopt, std::nullopt, std::nullopt, {{8, "Fries"}}},
      // Three days ago: counts for the items only.
      {4,
       "2026-11-29T03:00:00.000Z",
       "2026-11-29T03:00:00.000Z",
       "2026-11-29T03:30:00.000Z",
       std::nullopt,
       {{7, "Burger"}}},
  };
  auto m = measuredTimes(orders, at("2026-12-01T15:00:00Z"), at("2026-12-02T15:00:00Z"), seoul);
  const auto& prep = m.at("prep_minutes").as_object();
  EXPECT_EQ(prep.at("count"), 2);
  EXPECT_EQ(prep.at("median"), 16.0);
  const auto& delivery = m.at("delivery_minutes").as_object();
  EXPECT_EQ(delivery.at("count"), 1);
  EXPECT_EQ(delivery.at("median"), 40.0);
  const auto& hours = m.at("by_hour").as_array();
  ASSERT_EQ(hours.size(), 2u);
  EXPECT_EQ(hours[0].at("hour"), 11);
  EXPECT_EQ(hours[0].at("orders"), 2);
  EXPECT_EQ(hours[1].at("hour"), 19);
  EXPECT_EQ(hours[1].at("prep_minutes").at("count"), 0);
  const auto& items = m.at("items_7d").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("name"), "Burger");  // three orders over the week
  EXPECT_EQ(items[0].at("orders"), 3);
  EXPECT_EQ(items[0].at("prep_minutes").at("median"), 20.0);  // 12, 20, 30
  EXPECT_EQ(items[1].at("orders"), 2);
}

}  // namespace
}  // namespace brigade::app
