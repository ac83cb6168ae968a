// Opening hours and the local day on the system's time zone database: spans passing
// midnight, closed dates, the days the clocks change (Europe/Amsterdam) and a zone
// without DST nine hours ahead of UTC (Asia/Seoul).
#include "app/hours.hpp"

#include <gtest/gtest.h>

#include "store/timestamp.hpp"

namespace brigade::app {
namespace {

SysTime at(const std::string& text) {
  auto t = parseTime(text);
  EXPECT_TRUE(t) << text;
  return t.value_or(SysTime{});
}

std::string iso(SysTime t) {
  return store::formatTimestamp(t);
}

Schedule schedule(const std::string& zone) {
  Schedule s;
  s.zone = findZone(zone);
  EXPECT_NE(s.zone, nullptr) << zone;
  for (auto& day : s.hours.days) day.clear();
  return s;
}

constexpr size_t kMon = 0, kTue = 1, kSat = 5, kSun = 6;

TEST(Hours, ClockTimesAndDatesAreParsedStrictly) {
  EXPECT_EQ(parseClock("00:00", false), 0);
  EXPECT_EQ(parseClock("23:59", false), 23 * 60 + 59);
  EXPECT_EQ(parseClock("24:00", true), kMinutesPerDay);
  EXPECT_FALSE(parseClock("24:00", false));
  EXPECT_FALSE(parseClock("24:01", true));
  EXPECT_FALSE(parseClock("12:60", false));
  EXPECT_FALSE(parseClock("9:00", false));
  EXPECT_FALSE(parseClock("09-00", false));
  EXPECT_EQ(formatClock(26 * 60 + 5), "02:05");
  EXPECT_TRUE(validDate("2028-02-29"));
  EXPECT_FALSE(validDate("2026-02-29"));
  EXPECT_FALSE(validDate("2026-13-01"));
  EXPECT_FALSE(validDate("2026-1-01"));
  EXPECT_FALSE(validDate("2026-01-01x"));
}

TEST(Hours, Rfc3339TimesWithOffsetsAndFractions) {
  EXPECT_EQ(iso(at("2026-12-01T18:30:00Z")), "2026-12-01T18:30:00.000Z");
  EXPECT_EQ(iso(at("2026-12-01T18:30:00.25Z")), "2026-12-01T18:30:00.250Z");
  EXPECT_EQ(iso(at("2026-12-02T03:30:00+09:00")), "2026-12-01T18:30:00.000Z");
  EXPECT_EQ(iso(at("2026-12-01T13:30:00-05:00")), "2026-12-01T18:30:00.000Z");
  EXPECT_FALSE(parseTime("2026-12-01 18:30:00Z"));
  EXPECT_FALSE(parseTime("2026-12-01T18:30:00"));
  EXPECT_FALSE(parseTime("2026-12-01T18:30:61Z"));
  EXPECT_FALSE(parseTime("2026-02-30T18:30:00Z"));
  EXPECT_FALSE(parseTime("2026-12-01T18:30:00.Z"));
}

TEST(Hours, UnknownZonesAreNotFound) {
  EXPECT_NE(findZone("Asia/Seoul"), nullptr);
  EXPECT_NE(findZone("UTC"), nullptr);
  EXPECT_EQ(findZone("Mars/Olympus"), nullptr);
  EXPECT_EQ(findZone(""), nullptr);
  EXPECT_EQ(findZone(std::string(100, 'A')), nullptr);
}

TEST(Hours, AroundTheClockHasNoClosingAndNoNextOpening) {
  Schedule s;
  s.zone = findZone("Asia/Seoul");
  auto state = openState(s, at("2026-12-01T12:00:00Z"));
  EXPECT_TRUE(state.open);
  EXPECT_FALSE(state.closes_at);
  EXPECT_FALSE(state.next_opening);
}

TEST(Hours, SeoulSpansAreLocalTimes) {
  // Tuesday 2026-12-01 in Seoul (UTC+9): lunch and dinner.
  auto s = schedule("Asia/Seoul");
  s.hours.days[kTue] = {{11 * 60, 15 * 60}, {17 * 60, 22 * 60}};
  // 11:30 local = 02:30Z: open until 15:00 local (06:00Z).
  auto lunch = openState(s, at("2026-12-01T02:30:00Z"));
  EXPECT_TRUE(lunch.open);
  EXPECT_EQ(iso(*lunch.closes_at), "2026-12-01T06:00:00.000Z");
  EXPECT_EQ(iso(*lunch.next_opening), "2026-12-01T08:00:00.000Z");
  // 15:00 local exactly: closed (a span is [open, close)).
  auto between = openState(s, at("2026-12-01T06:00:00Z"));
  EXPECT_FALSE(between.open);
  EXPECT_EQ(iso(*between.next_opening), "2026-12-01T08:00:00.000Z");
  // After dinner: next Tuesday's lunch.
  auto night = openState(s, at("2026-12-01T14:00:00Z"));
  EXPECT_FALSE(night.open);
  EXPECT_EQ(iso(*night.next_opening), "2026-12-08T02:00:00.000Z");
}

TEST(Hours, ASpanPassingMidnightStillHoldsTheNextMorning) {
  auto s = schedule("Asia/Seoul");
  s.hours.days[kSat] = {{18 * 60, 26 * 60}};  // Saturday 18:00 to Sunday 02:00
  // Sunday 2026-12-06 01:30 local = Saturday 16:30Z: open, from Saturday's span.
  auto late = openState(s, at("2026-12-05T16:30:00Z"));
  EXPECT_TRUE(late.open);
  EXPECT_EQ(iso(*late.closes_at), "2026-12-05T17:00:00.000Z");
  // Sunday 02:00 local: closed.
  EXPECT_FALSE(openState(s, at("2026-12-05T17:00:00Z")).open);
}

TEST(Hours, TouchingSpansAreOneOpening) {
  auto s = schedule("UTC");
  s.hours.days[kMon] = {{20 * 60, kMinutesPerDay}};
  s.hours.days[kTue] = {{0, 3 * 60}};
  // Monday 2026-11-30 23:00Z: open until Tuesday 03:00, not midnight.
  auto state = openState(s, at("2026-11-30T23:00:00Z"));
  EXPECT_TRUE(state.open);
  EXPECT_EQ(iso(*state.closes_at), "2026-12-01T03:00:00.000Z");
  EXPECT_EQ(iso(*state.next_opening), "2026-12-07T20:00:00.000Z");
}

TEST(Hours, ClosedDatesCloseTheSpansStartingThatDay) {
  auto s = schedule("Asia/Seoul");
  for (auto& day : s.hours.days) day = {{11 * 60, 22 * 60}};
  s.closed_dates = {"2026-12-25"};
  // Christmas noon in Seoul (03:00Z): closed, opens on the 26th at 11:00 local.
  auto xmas = openState(s, at("2026-12-25T03:00:00Z"));
  EXPECT_FALSE(xmas.open);
  EXPECT_EQ(iso(*xmas.next_opening), "2026-12-26T02:00:00.000Z");
  // The evening before, the next opening skips the 25th.
  auto eve = openState(s, at("2026-12-24T14:00:00Z"));
  EXPECT_EQ(iso(*eve.next_opening), "2026-12-26T02:00:00.000Z");
}

TEST(Hours, NothingOpenForAMonthMeansNoNextOpening) {
  auto s = schedule("UTC");
  auto state = openState(s, at("2026-12-01T12:00:00Z"));
  EXPECT_FALSE(state.open);
  EXPECT_FALSE(state.next_opening);
}

TEST(Hours, SeoulDayStartsAtFifteenHundredUtc) {
  const auto* seoul = findZone("Asia/Seoul");
  // 2026-12-01T16:00Z is already Dec 2 in Seoul.
  auto day = localDay(seoul, at("2026-12-01T16:00:00Z"));
  EXPECT_EQ(iso(day.from), "2026-12-01T15:00:00.000Z");
  EXPECT_EQ(iso(day.to), "2026-12-02T15:00:00.000Z");
  // 14:59Z is still Dec 1 there.
  auto before = localDay(seoul, at("2026-12-01T14:59:59Z"));
  EXPECT_EQ(iso(before.from), "2026-11-30T15:00:00.000Z");
  EXPECT_EQ(localHour(seoul, at("2026-12-01T16:00:00Z")), 1);
}

TEST(Hours, AmsterdamDaysAreTwentyThreeAndTwentyFiveHoursWhenTheClocksChange) {
  const auto* ams = findZone("Europe/Amsterdam");
  // 2026-03-29: clocks go forward at 02:00 (CET → CEST).
  auto spring = localDay(ams, at("2026-03-29T12:00:00Z"));
  EXPECT_EQ(iso(spring.from), "2026-03-28T23:00:00.000Z");
  EXPECT_EQ(iso(spring.to), "2026-03-29T22:00:00.000Z");
  EXPECT_EQ(spring.to - spring.from, std::chrono::hours(23));
  // 2026-10-25: clocks go back at 03:00 (CEST → CET).
  auto autumn = localDay(ams, at("2026-10-25T12:00:00Z"));
  EXPECT_EQ(iso(autumn.from), "2026-10-24T22:00:00.000Z");
  EXPECT_EQ(iso(autumn.to), "2026-10-25T23:00:00.000Z");
  EXPECT_EQ(autumn.to - autumn.from, std::chrono::hours(25));
  // Just before and after local midnight in summer (UTC+2).
  EXPECT_EQ(iso(localDay(ams, at("2026-07-01T21:59:59Z")).from), "2026-06-30T22:00:00.000Z");
  EXPECT_EQ(iso(localDay(ams, at("2026-07-01T22:00:00Z")).from), "2026-07-01T22:00:00.000Z");
}

TEST(Hours, ASpanAcrossTheSpringGapIsOneHourShorter) {
  auto s = schedule("Europe/Amsterdam");
  s.hours.days[kSun] = {{1 * 60, 4 * 60}};  // 01:00-04:00 local on 2026-03-29
  // 01:00 CET = 00:00Z; 04:00 CEST = 02:00Z: two hours of real time.
  auto state = openState(s, at("2026-03-29T00:30:00Z"));
  EXPECT_TRUE(state.open);
  EXPECT_EQ(iso(*state.closes_at), "2026-03-29T02:00:00.000Z");
  // A span starting inside the gap (02:30 does not exist) opens when the clocks change.
  s.hours.days[kSun] = {{2 * 60 + 30, 5 * 60}};
  auto gap = openState(s, at("2026-03-28T23:00:00Z"));
  EXPECT_EQ(iso(*gap.next_opening), "2026-03-29T01:00:00.000Z");
}

TEST(Hours, ASpanAcrossTheAutumnChangeIsOneHourLonger) {
  auto s = schedule("Europe/Amsterdam");
  s.hours.days[kSat] = {{22 * 60, 28 * 60}};  // Sat 22:00 to Sun 04:00, 2026-10-24/25
  // 22:00 CEST = 20:00Z; 04:00 CET = 03:00Z: seven hours.
  auto state = openState(s, at("2026-10-24T21:00:00Z"));
  EXPECT_TRUE(state.open);
  EXPECT_EQ(iso(*state.closes_at), "2026-10-25T03:00:00.000Z");
}

}  // namespace
}  // namespace brigade::app
