#include "app/hours.hpp"

#include <date/tz.h>

#include <algorithm>
#include <cstdio>

namespace brigade::app {
namespace {

using std::chrono::minutes;

struct Interval {
  SysTime from;
  SysTime to;
};

date::local_days localDate(const date::time_zone* zone, SysTime now) {
  return date::floor<date::days>(zone->to_local(now));
}

std::string isoDate(date::local_days d) {
  date::year_month_day ymd{d};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

// A local wall-clock time as UTC. A time the clocks skip (a spring-forward gap) maps to the
// moment of the change; a time that happens twice, to its first occurrence.
SysTime toSys(const date::time_zone* zone, date::local_days day, int minute) {
  return zone->to_sys(day + minutes(minute), date::choose::earliest);
}

// The schedule's spans that start on local days [first, last], in time order, touching
// spans merged.
std::vector<Interval> intervals(const Schedule& s, date::local_days first, date::local_days last) {
  std::vector<Interval> out;
  for (auto d = first; d <= last; d += date::days(1)) {
    if (s.closed_dates.count(isoDate(d))) continue;
    unsigned weekday = date::weekday(d).iso_encoding();  // 1 = Monday
    for (const Span& span : s.hours.days[weekday - 1]) {
      Interval i{toSys(s.zone, d, span.start), toSys(s.zone, d, span.end)};
      if (i.from < i.to) out.push_back(i);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Interval& a, const Interval& b) { return a.from < b.from; });
  std::vector<Interval> merged;
  for (const auto& i : out) {
    if (!merged.empty() && i.from <= merged.back().to) {
      merged.back().to = std::max(merged.back().to, i.to);
    } else {
      merged.push_back(i);
    }
  }
  return merged;
}

}  // namespace

WeeklyHours WeeklyHours::always() {
  WeeklyHours w;
  for (auto& day : w.days) day = {Span{0, kMinutesPerDay}};
  return w;
}

const date::time_zone* findZone(const std::string& name) {
  if (name.empty() || name.size() > 64) return nullptr;
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return nullptr;  // unknown zone (or no database): the caller refuses the name
  }
}

std::optional<int> parseClock(const std::string& text, bool allow24) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  for (int i : {0, 1, 3, 4}) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  }
  int h = (text[0] - '0') * 10 + (text[1] - '0');
  int m = (text[3] - '0') * 10 + (text[4] - '0');
  if (m > 59) return std::nullopt;
  if (h == 24 && m == 0 && allow24) return kMinutesPerDay;
  if (h > 23) return std::nullopt;
  return h * 60 + m;
}

std::string formatClock(int minutes) {
  minutes %= kMinutesPerDay;
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minutes / 60, minutes % 60);
  return buf;
}

std::optional<SysTime> parseTime(const std::string& text) {
  if (text.size() < 20 || text.size() > 35 || !validDate(text.substr(0, 10)) || text[10] != 'T') {
    return std::nullopt;
  }
  auto day = text.substr(0, 10);
  unsigned y = 0, mo = 0, d = 0;
  std::sscanf(day.c_str(), "%4u-%2u-%2u", &y, &mo, &d);
  auto clock = parseClock(text.substr(11, 5), false);
  if (!clock || text[16] != ':' || text[17] < '0' || text[17] > '5' || text[18] < '0' ||
      text[18] > '9') {
    return std::nullopt;
  }
  int seconds = (text[17] - '0') * 10 + (text[18] - '0');
  size_t pos = 19;
  int millis = 0;
  if (text[pos] == '.') {
    int digits = 0;
    for (++pos; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++digits) {
      if (digits < 3) millis = millis * 10 + (text[pos] - '0');
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) millis *= 10;
  }
  int offset = 0;
  std::string zone = text.substr(pos);
  if (zone != "Z") {
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-')) return std::nullopt;
    auto hm = parseClock(zone.substr(1), false);
    if (!hm) return std::nullopt;
    offset = zone[0] == '+' ? *hm : -*hm;
  }
  date::sys_days days =
      date::year_month_day(date::year(static_cast<int>(y)), date::month(mo), date::day(d));
  return SysTime(days) + minutes(*clock - offset) + std::chrono::seconds(seconds) +
         std::chrono::milliseconds(millis);
}

bool validDate(const std::string& text) {
  unsigned y = 0, m = 0, d = 0;
  char tail = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  if (std::sscanf(text.c_str(), "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3) return false;
  return date::year_month_day(date::year(static_cast<int>(y)), date::month(m), date::day(d)).ok();
}

OpenState openState(const Schedule& schedule, SysTime now) {
  auto today = localDate(schedule.zone, now);
  auto last = today + date::days(kOpeningLookaheadDays);
  // From yesterday: a span that passed midnight started then.
  auto spans = intervals(schedule, today - date::days(1), last);
  const SysTime horizon = toSys(schedule.zone, last, 0);
  OpenState state;
  for (const auto& i : spans) {
    if (i.from <= now && now < i.to) {
      state.open = true;
      if (i.to < horizon) state.closes_at = i.to;
    } else if (i.from > now) {
      state.next_opening = i.from;
      break;
    }
  }
  return state;
}

DayBounds localDay(const date::time_zone* zone, SysTime now) {
  auto today = localDate(zone, now);
  return {toSys(zone, today, 0), toSys(zone, today + date::days(1), 0)};
}

int localHour(const date::time_zone* zone, SysTime at) {
  auto local = zone->to_local(at);
  auto day = date::floor<date::days>(local);
  return static_cast<int>(std::chrono::duration_cast<std::chrono::hours>(local - day).count());
}

}  // namespace brigade::app
