// The restaurant's settings: PATCH rules (each limit crossed), the stored form read back,
// lenient reading of what another program wrote, and the refusals orders get.
#include "app/restaurant.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace brigade::app {
namespace {

SysTime at(const std::string& text) {
  return parseTime(text).value();
}

const SysTime kNow = at("2026-12-01T12:00:00Z");  // a Tuesday

json::object obj(const std::string& text) {
  return json::parse(text).as_object();
}

// The field a patch is refused for ("" when accepted), and the settings unchanged then.
std::string refusedField(const std::string& patch) {
  RestaurantSettings s;
  auto before = json::serialize(toStored(s));
  auto error = applyPatch(obj(patch), kNow, s);
  if (!error) return "";
  EXPECT_EQ(error->status, 422) << patch;
  return error->field.empty() ? "?" : error->field;
}

TEST(RestaurantSettings, UnknownFieldsAreRefusedByName) {
  EXPECT_EQ(refusedField(R"({"busy": 1})"), "busy");
  EXPECT_EQ(refusedField(R"({"name": "X", "open": true})"), "open");
}

TEST(RestaurantSettings, EachLimitIsCrossedOnBothSides) {
  EXPECT_EQ(refusedField(R"({"busy_extra_minutes": 120})"), "");
  EXPECT_EQ(refusedField(R"({"busy_extra_minutes": 121})"), "busy_extra_minutes");
  EXPECT_EQ(refusedField(R"({"busy_extra_minutes": -1})"), "busy_extra_minutes");
  EXPECT_EQ(refusedField(R"({"pause_minutes": 1440})"), "");
  EXPECT_EQ(refusedField(R"({"pause_minutes": 1441})"), "pause_minutes");
  EXPECT_EQ(refusedField(R"({"pause_minutes": 0})"), "pause_minutes");
  EXPECT_EQ(refusedField(R"({"max_orders_per_15min": 10000})"), "");
  EXPECT_EQ(refusedField(R"({"max_orders_per_15min": 10001})"), "max_orders_per_15min");
  EXPECT_EQ(refusedField(R"({"max_orders_per_15min": 0})"), "max_orders_per_15min");
  EXPECT_EQ(refusedField(R"({"auto_reject_after_s": 30})"), "");
  EXPECT_EQ(refusedField(R"({"auto_reject_after_s": 3600})"), "");
  EXPECT_EQ(refusedField(R"({"auto_reject_after_s": 29})"), "auto_reject_after_s");
  EXPECT_EQ(refusedField(R"({"auto_reject_after_s": 3601})"), "auto_reject_after_s");
  EXPECT_EQ(refusedField(R"({"name": ""})"), "name");
  EXPECT_EQ(refusedField("{\"name\": \"" + std::string(kMaxRestaurantNameLength, 'a') + "\"}"), "");
  EXPECT_EQ(refusedField("{\"name\": \"" + std::string(kMaxRestaurantNameLength + 1, 'a') + "\"}"),
            "name");
  std::string spans = "[";
  for (size_t i = 0; i <= kMaxSpansPerDay; ++i) {
    spans += (i ? "," : "") + std::string("[\"0") + std::to_string(i) + ":00\",\"0" +
             std::to_string(i) + ":30\"]";
  }
  spans += "]";
  EXPECT_EQ(refusedField(R"({"opening_hours": {"mon": )" + spans + "}}"), "opening_hours.mon");
  std::string dates = "[";
  for (size_t i = 0; i <= kMaxClosedDates; ++i)
    dates += (i ? "," : "") + std::string("\"2027-01-01\"");
  EXPECT_EQ(refusedField(R"({"closed_dates": )" + dates + "]}"), "closed_dates");
}

TEST(RestaurantSettings, ValuesAreCheckedWithTheirField) {
  EXPECT_EQ(refusedField(R"({"timezone": "Mars/Olympus"})"), "timezone");
  EXPECT_EQ(refusedField(R"({"timezone": "Asia/Seoul"})"), "");
  EXPECT_EQ(refusedField(R"({"currency": "eur"})"), "currency");
  EXPECT_EQ(refusedField(R"({"currency": "KRW"})"), "");
  EXPECT_EQ(refusedField(R"({"language": "fr"})"), "language");
  EXPECT_EQ(refusedField(R"({"opening_hours": {"monday": []}})"), "opening_hours.monday");
  EXPECT_EQ(refusedField(R"({"opening_hours": {"mon": [["11:00","11:00"]]}})"),
            "opening_hours.mon[0]");
  EXPECT_EQ(refusedField(R"({"opening_hours": {"mon": [["11:00","25:00"]]}})"),
            "opening_hours.mon[0]");
  EXPECT_EQ(refusedField(R"({"opening_hours": {"mon": [["11:00"]]}})"), "opening_hours.mon[0]");
  EXPECT_EQ(refusedField(R"({"opening_hours": []})"), "opening_hours");
  EXPECT_EQ(refusedField(R"({"closed_dates": ["2026-02-30"]})"), "closed_dates[0]");
  EXPECT_EQ(refusedField(R"({"paused_until": "2026-12-01T11:00:00Z"})"), "paused_until");
  EXPECT_EQ(refusedField(R"({"paused_until": "tomorrow"})"), "paused_until");
  EXPECT_EQ(refusedField(R"({"location": {"lat": 91, "lng": 0}})"), "location.lat");
  EXPECT_EQ(refusedField(R"({"location": {"lat": 37.5}})"), "location.lng");
  EXPECT_EQ(refusedField(R"({"paused": "yes"})"), "paused");
}

TEST(RestaurantSettings, APatchRoundTripsThroughTheStoredForm) {
  RestaurantSettings s;
  auto error = applyPatch(obj(R"({
      "name": "Seoul Kitchen", "timezone": "Asia/Seoul", "currency": "KRW", "language": "ko",
      "opening_hours": {"tue": [["11:00","15:00"],["22:00","02:00"]], "sun": [["00:00","24:00"]]},
      "closed_dates": ["2026-12-25"], "busy_extra_minutes": 20, "max_orders_per_15min": 40,
      "auto_reject_after_s": 300, "pause_on_auto_reject": true,
      "location": {"lat": 37.5665, "lng": 126.978}})"),
                          kNow, s);
  ASSERT_FALSE(error) << error->field << ": " << error->message;
  json::object stored = toStored(s);
  EXPECT_EQ(stored.at("opening_hours").at("tue"),
            json::parse(R"([["11:00","15:00"],["22:00","02:00"]])"));
  EXPECT_EQ(stored.at("opening_hours").at("sun"), json::parse(R"([["00:00","24:00"]])"));
  EXPECT_EQ(stored.at("opening_hours").at("mon"), json::array());
  RestaurantSettings back = readSettings(stored, 7, "2026-12-01T12:00:00.000Z");
  EXPECT_EQ(json::serialize(toStored(back)), json::serialize(stored));
  EXPECT_EQ(back.version, 7);
  EXPECT_EQ(back.opening_hours->days[1][1].end, 26 * 60);
}

TEST(RestaurantSettings, PausesStartEndAndExpire) {
  RestaurantSettings s;
  ASSERT_FALSE(applyPatch(obj(R"({"pause_minutes": 15})"), kNow, s));
  EXPECT_TRUE(s.pausedAt(kNow));
  EXPECT_EQ(*s.paused_until, kNow + std::chrono::minutes(15));
  EXPECT_FALSE(s.pausedAt(kNow + std::chrono::minutes(15)));
  ASSERT_FALSE(applyPatch(obj(R"({"paused": true})"), kNow, s));
  EXPECT_FALSE(s.paused_until);  // a pause without an end replaces the timed one
  EXPECT_TRUE(s.pausedAt(kNow + std::chrono::hours(100)));
  // 13:00+01:00 is 12:00Z, this very moment: not in the future.
  EXPECT_EQ(applyPatch(obj(R"({"paused_until": "2026-12-01T13:00:00+01:00"})"), kNow, s)->field,
            "paused_until");
  ASSERT_FALSE(applyPatch(obj(R"({"paused_until": "2026-12-01T14:00:00+01:00"})"), kNow, s));
  EXPECT_TRUE(s.pausedAt(kNow));
  EXPECT_FALSE(s.pausedAt(kNow + std::chrono::hours(1)));
  ASSERT_FALSE(applyPatch(obj(R"({"paused": false})"), kNow, s));
  EXPECT_FALSE(s.paused_until);
}

TEST(RestaurantSettings, WhatAnotherProgramWroteIsReadLeniently) {
  store::Restaurant garbage{"not json", 3, "t"};
  auto s = readSettings(garbage);
  EXPECT_EQ(s.name, "Brigade");
  EXPECT_EQ(s.version, 3);
  store::Restaurant partial{R"({"name":"Ok","timezone":"Nowhere/City","busy_extra_minutes":999,
                                "paused":true,"paused_until":"2030-01-01T00:00:00.000Z"})",
                            4, "t"};
  s = readSettings(partial);
  EXPECT_EQ(s.name, "Ok");
  EXPECT_EQ(s.timezone, "UTC");        // the unreadable member took its default
  EXPECT_EQ(s.busy_extra_minutes, 0);  // out of range: default
  EXPECT_TRUE(s.pausedAt(kNow));       // a stored end in the past is still read as a time
  EXPECT_EQ(*s.paused_until, at("2030-01-01T00:00:00Z"));
}

TEST(RestaurantSettings, OrdersAreRefusedWhilePausedThenWhileClosed) {
  RestaurantSettings s;
  EXPECT_FALSE(refusal(s, kNow));
  ASSERT_FALSE(applyPatch(obj(R"({"opening_hours": {"wed": [["11:00","22:00"]]}})"), kNow, s));
  auto closed = refusal(s, kNow);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->code, "restaurant_closed");
  EXPECT_NE(closed->message.find("2026-12-02T11:00:00.000Z"), std::string::npos);
  ASSERT_FALSE(applyPatch(obj(R"({"paused": true})"), kNow, s));
  EXPECT_EQ(refusal(s, kNow)->code, "ordering_paused");
  auto view = toView(s, kNow);
  EXPECT_EQ(view.at("open_now"), false);
  EXPECT_EQ(view.at("paused_now"), true);
  EXPECT_EQ(view.at("accepting_orders"), false);
  EXPECT_EQ(view.at("next_opening"), "2026-12-02T11:00:00.000Z");
}

}  // namespace
}  // namespace brigade::app
