#pragma once

// Opening hours and the local day in the restaurant's time zone, on the system's time zone
// database (Howard Hinnant's date/tz, USE_OS_TZDB). Pure: "now" is always a parameter.

#include <array>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace date {
class time_zone;
}

namespace brigade::app {

using SysTime = std::chrono::system_clock::time_point;

// One opening span of a day, in minutes after local midnight. end > start; a span that
// passes midnight ("22:00"-"02:00") ends after 1440 (here 1560).
struct Span {
  int start = 0;
  int end = 0;
};

inline constexpr size_t kMaxSpansPerDay = 6;
inline constexpr int kMinutesPerDay = 24 * 60;
// How far ahead the next opening is looked for (a restaurant closed longer has none).
inline constexpr int kOpeningLookaheadDays = 31;

struct WeeklyHours {
  std::array<std::vector<Span>, 7> days;  // [0] is Monday
  static WeeklyHours always();            // every day 00:00-24:00
};

struct Schedule {
  const date::time_zone* zone = nullptr;  // never null once built
  WeeklyHours hours = WeeklyHours::always();
  std::set<std::string> closed_dates;  // local "YYYY-MM-DD": spans starting that day are closed
};

// The zone of an IANA name ("Asia/Seoul"), nullptr when the database has no such zone.
const date::time_zone* findZone(const std::string& name);

// "HH:MM" → minutes; "24:00" only when allow24. nullopt when not that shape.
std::optional<int> parseClock(const std::string& text, bool allow24);
std::string formatClock(int minutes);  // minutes modulo a day, "HH:MM"
// An RFC 3339 time ("2026-12-01T18:30:00Z", "...00.250Z", "...00+09:00"); nullopt otherwise.
std::optional<SysTime> parseTime(const std::string& text);
// Whether "YYYY-MM-DD" names a real calendar date.
bool validDate(const std::string& text);

// Where the schedule stands at `now`. Spans that touch or overlap count as one.
struct OpenState {
  bool open = false;
  // Open: when the current span ends; nullopt when it does not end within
  // kOpeningLookaheadDays (open around the clock).
  std::optional<SysTime> closes_at;
  // The first opening after `now` (after the current span when open); nullopt when there is
  // none within kOpeningLookaheadDays.
  std::optional<SysTime> next_opening;
};
OpenState openState(const Schedule& schedule, SysTime now);

// The local calendar day containing `now` as [from, to) in UTC: 23 or 25 hours long on the
// days the clocks change.
struct DayBounds {
  SysTime from;
  SysTime to;
};
DayBounds localDay(const date::time_zone* zone, SysTime now);
// The local hour (0-23) of a time, for per-hour figures.
int localHour(const date::time_zone* zone, SysTime at);

}  // namespace brigade::app
