#include "app/restaurant.hpp"

#include <date/tz.h>

#include <array>
#include <boost/json/parse.hpp>
#include <cmath>

#include "app/fields.hpp"
#include "store/timestamp.hpp"

namespace brigade::app {
namespace {

constexpr std::array<const char*, 7> kDays{"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::string isoTime(SysTime t) {
  return store::formatTimestamp(t);
}

// One day's spans from [["11:00","15:00"], ...]; an error names the span.
std::optional<ApiError> readSpans(const json::value& v, const std::string& field,
                                  std::vector<Span>& out) {
  if (!v.is_array()) return invalid(field, "must be a list of [\"HH:MM\", \"HH:MM\"] spans");
  const auto& spans = v.get_array();
  if (spans.size() > kMaxSpansPerDay) {
    return invalid(field, "at most " + std::to_string(kMaxSpansPerDay) + " spans a day");
  }
  for (size_t i = 0; i < spans.size(); ++i) {
    const std::string at = field + "[" + std::to_string(i) + "]";
    const auto* pair = spans[i].if_array();
    if (!pair || pair->size() != 2 || !(*pair)[0].is_string() || !(*pair)[1].is_string()) {
      return invalid(at, "must be [\"HH:MM\", \"HH:MM\"]");
    }
    auto start = parseClock(std::string((*pair)[0].get_string()), false);
    auto end = parseClock(std::string((*pair)[1].get_string()), true);
    if (!start || !end) return invalid(at, "times are \"HH:MM\" (00:00 to 24:00)");
    if (*start == *end) return invalid(at, "opens and closes at the same time");
    // An end at or before the start is the next day's: the span passes midnight.
    out.push_back(Span{*start, *end > *start ? *end : *end + kMinutesPerDay});
  }
  return std::nullopt;
}

std::optional<ApiError> readHours(const json::value& v, WeeklyHours& out) {
  if (!v.is_object()) return invalid("opening_hours", "must be an object by day (\"mon\"...)");
  WeeklyHours hours;
  for (auto& day : hours.days) day.clear();  // a day not named is closed
  for (const auto& [key, spans] : v.get_object()) {
    size_t day = 0;
    while (day < kDays.size() && key != kDays[day]) ++day;
    const std::string field = "opening_hours." + std::string(key);
    if (day == kDays.size()) return invalid(field, "days are mon, tue, wed, thu, fri, sat, sun");
    if (auto e = readSpans(spans, field, hours.days[day])) return e;
  }
  out = std::move(hours);
  return std::nullopt;
}

json::object hoursJson(const WeeklyHours& hours) {
  json::object out;
  for (size_t day = 0; day < kDays.size(); ++day) {
    json::array spans;
    for (const Span& s : hours.days[day]) {
      spans.push_back(
          json::array{json::string(formatClock(s.start)),
                      json::string(s.end == kMinutesPerDay ? "24:00" : formatClock(s.end))});
    }
    out[kDays[day]] = std::move(spans);
  }
  return out;
}

std::optional<ApiError> readClosedDates(const json::value& v, std::set<std::string>& out) {
  if (!v.is_array()) return invalid("closed_dates", "must be a list of \"YYYY-MM-DD\" dates");
  const auto& dates = v.get_array();
  if (dates.size() > kMaxClosedDates) {
    return invalid("closed_dates", "at most " + std::to_string(kMaxClosedDates) + " dates");
  }
  std::set<std::string> read;
  for (size_t i = 0; i < dates.size(); ++i) {
    if (!dates[i].is_string() || !validDate(std::string(dates[i].get_string()))) {
      return invalid("closed_dates[" + std::to_string(i) + "]", "must be a \"YYYY-MM-DD\" date");
    }
    read.insert(std::string(dates[i].get_string()));
  }
  out = std::move(read);
  return std::nullopt;
}

std::optional<ApiError> readLocation(const json::value& v, std::optional<GeoPoint>& out) {
  if (v.is_null()) {
    out.reset();
    return std::nullopt;
  }
  if (!v.is_object()) return invalid("location", "must be {lat, lng} or null");
  Fields f(v.get_object(), "location");
  auto lat = f.number("lat", true, -90, 90);
  auto lng = f.number("lng", true, -180, 180);
  if (!f.ok()) return f.error();
  out = GeoPoint{*lat, *lng};
  return std::nullopt;
}

// An optional positive integer setting: null switches it off.
std::optional<ApiError> readOptionalInt(Fields& f, const json::object& patch, const char* name,
                                        int64_t min, int64_t max, std::optional<int64_t>& out) {
  if (!patch.contains(name)) return std::nullopt;
  if (f.isNull(name)) {
    out.reset();
    return std::nullopt;
  }
  auto v = f.integer(name, true, min, max);
  if (!f.ok()) return f.error();
  out = v;
  return std::nullopt;
}

}  // namespace

const date::time_zone* RestaurantSettings::zone() const {
  if (const auto* z = findZone(timezone)) return z;
  return findZone("UTC");
}

Schedule RestaurantSettings::schedule() const {
  Schedule s;
  s.zone = zone();
  if (opening_hours) s.hours = *opening_hours;
  s.closed_dates = closed_dates;
  return s;
}

bool RestaurantSettings::pausedAt(SysTime now) const {
  return paused && (!paused_until || now < *paused_until);
}

RestaurantSettings readSettings(const store::Restaurant& record) {
  boost::system::error_code ec;
  auto v = json::parse(record.settings, ec);
  static const json::object kEmpty;
  return readSettings(!ec && v.is_object() ? v.get_object() : kEmpty, record.version,
                      record.updated_at);
}

RestaurantSettings readSettings(const json::object& stored, int64_t version,
                                std::string updated_at) {
  RestaurantSettings s;
  s.version = version;
  s.updated_at = std::move(updated_at);
  // Each member through the PATCH rules, one at a time: one bad member costs only itself.
  for (const auto& [key, value] : stored) {
    if (key == "version" || key == "updated_at") continue;
    json::object one{{key, value}};
    RestaurantSettings next = s;
    if (!applyPatch(one, SysTime{}, next)) s = std::move(next);
  }
  if (const auto* paused = stored.if_contains("paused"); paused && paused->is_bool()) {
    s.paused = paused->get_bool();
  }
  // A stored pause end is a time, not "minutes from now".
  if (const auto* until = stored.if_contains("paused_until"); until && until->is_string()) {
    s.paused_until = parseTime(std::string(until->get_string()));
  }
  if (!s.paused) s.paused_until.reset();
  return s;
}

RestaurantSettings readChangeDocument(const json::object& document) {
  const auto* version = document.if_contains("version");
  const auto* at = document.if_contains("updated_at");
  return readSettings(document, version && version->is_int64() ? version->get_int64() : 0,
                      at && at->is_string() ? std::string(at->get_string()) : "");
}

std::optional<ApiError> applyPatch(const json::object& patch, SysTime now, RestaurantSettings& s) {
  static const std::set<std::string> kKnown{"name",
                                            "timezone",
                                            "currency",
                                            "language",
                                            "opening_hours",
                                            "closed_dates",
                                            "paused",
                                            "paused_until",
                                            "pause_minutes",
                                            "busy_extra_minutes",
                                            "max_orders_per_15min",
                                            "auto_reject_after_s",
                                            "pause_on_auto_reject",
                                            "location",
                                            "delivery_area",
                                            "delivery_code_required",
                                            "auto_offer",
                                            "map_tile_url",
                                            "map_attribution",
                                            "if_version"};
  for (const auto& [key, value] : patch) {
    if (!kKnown.count(std::string(key))) return invalid(std::string(key), "is not a setting");
  }
  Fields f(patch);
  if (auto name = f.text("name", false, 1, kMaxRestaurantNameLength)) s.name = *name;
  if (auto tz = f.text("timezone", false, 1, 64)) {
    if (!findZone(*tz)) f.fail("timezone", "is not a time zone (an IANA name: \"Asia/Seoul\")");
    s.timezone = *tz;
  }
  if (auto currency = f.text("currency", false, 3, 3)) {
    for (char c : *currency) {
      if (c < 'A' || c > 'Z') f.fail("currency", "is an ISO 4217 code (\"EUR\", \"KRW\")");
    }
    s.currency = *currency;
  }
  if (auto language = f.text("language", false, 2, 2)) {
    if (*language != "en" && *language != "ko") f.fail("language", "is \"en\" or \"ko\"");
    s.language = *language;
  }
  if (!f.ok()) return f.error();
  if (const auto* hours = patch.if_contains("opening_hours")) {
    if (hours->is_null()) {
      s.opening_hours.reset();
    } else {
      WeeklyHours read;
      if (auto e = readHours(*hours, read)) return e;
      s.opening_hours = std::move(read);
    }
  }
  if (const auto* dates = patch.if_contains("closed_dates")) {
    if (auto e = readClosedDates(*dates, s.closed_dates)) return e;
  }
  if (auto paused = f.boolean("paused", false)) {
    s.paused = *paused;
    s.paused_until.reset();  // a new pause (or none) unless an end comes with it
  }
  if (patch.contains("paused_until") && !f.isNull("paused_until")) {
    auto text = f.text("paused_until", true, 1, 40);
    if (!f.ok()) return f.error();
    auto until = parseTime(*text);
    if (!until) return invalid("paused_until", "must be an RFC 3339 time");
    if (*until <= now) return invalid("paused_until", "must be in the future");
    s.paused = true;
    s.paused_until = until;
  } else if (patch.contains("paused_until")) {
    s.paused_until.reset();
  }
  if (auto minutes = f.integer("pause_minutes", false, 1, kMaxPauseMinutes)) {
    s.paused = true;
    s.paused_until = now + std::chrono::minutes(*minutes);
  }
  if (auto busy = f.integer("busy_extra_minutes", false, 0, kMaxBusyExtraMinutes)) {
    s.busy_extra_minutes = *busy;
  }
  if (!f.ok()) return f.error();
  if (auto e = readOptionalInt(f, patch, "max_orders_per_15min", 1, kMaxOrdersPer15Min,
                               s.max_orders_per_15min)) {
    return e;
  }
  if (auto e = readOptionalInt(f, patch, "auto_reject_after_s", kMinAutoRejectS, kMaxAutoRejectS,
                               s.auto_reject_after_s)) {
    return e;
  }
  if (auto pause = f.boolean("pause_on_auto_reject", false)) s.pause_on_auto_reject = *pause;
  if (auto code = f.boolean("delivery_code_required", false)) s.delivery_code_required = *code;
  if (auto offer = f.boolean("auto_offer", false)) s.auto_offer = *offer;
  if (auto url = f.text("map_tile_url", false, 0, kMaxMapSettingLength)) {
    const bool plain = url->empty();
    if (!plain &&
        (!url->starts_with("https://") || url->find("{z}") == std::string::npos ||
         url->find("{x}") == std::string::npos || url->find("{y}") == std::string::npos)) {
      f.fail("map_tile_url", "is an https:// template with {z}, {x} and {y}, or \"\" for none");
    }
    s.map_tile_url = *url;
  }
  if (auto attribution = f.text("map_attribution", false, 0, kMaxMapSettingLength)) {
    s.map_attribution = *attribution;
  }
  if (const auto* location = patch.if_contains("location")) {
    if (auto e = readLocation(*location, s.location)) return e;
  }
  if (const auto* area = patch.if_contains("delivery_area")) {
    if (auto e = readDeliveryArea(*area, s.delivery_area)) return e;
  }
  f.integer("if_version", false, 0, INT64_MAX);
  if (!f.ok()) return f.error();
  return std::nullopt;
}

json::object toStored(const RestaurantSettings& s) {
  json::array closed;
  for (const auto& d : s.closed_dates) closed.push_back(json::string(d));
  auto opt = [](const std::optional<int64_t>& v) {
    return v ? json::value(*v) : json::value(nullptr);
  };
  return {
      {"name", s.name},
      {"timezone", s.timezone},
      {"currency", s.currency},
      {"language", s.language},
      {"opening_hours",
       s.opening_hours ? json::value(hoursJson(*s.opening_hours)) : json::value(nullptr)},
      {"closed_dates", std::move(closed)},
      {"paused", s.paused},
      {"paused_until",
       s.paused_until ? json::value(isoTime(*s.paused_until)) : json::value(nullptr)},
      {"busy_extra_minutes", s.busy_extra_minutes},
      {"max_orders_per_15min", opt(s.max_orders_per_15min)},
      {"auto_reject_after_s", opt(s.auto_reject_after_s)},
      {"pause_on_auto_reject", s.pause_on_auto_reject},
      {"location",
       s.location ? json::value(json::object{{"lat", s.location->lat}, {"lng", s.location->lng}})
                  : json::value(nullptr)},
      {"delivery_area", deliveryAreaJson(s.delivery_area)},
      {"delivery_code_required", s.delivery_code_required},
      {"auto_offer", s.auto_offer},
      {"map_tile_url", s.map_tile_url},
      {"map_attribution", s.map_attribution},
  };
}

json::object toView(const RestaurantSettings& s, SysTime now) {
  json::object view = toStored(s);
  view["version"] = s.version;
  view["updated_at"] = s.updated_at;
  OpenState open = openState(s.schedule(), now);
  const bool paused = s.pausedAt(now);
  auto at = [](const std::optional<SysTime>& t) {
    return t ? json::value(isoTime(*t)) : json::value(nullptr);
  };
  view["open_now"] = open.open;
  view["closes_at"] = open.open ? at(open.closes_at) : json::value(nullptr);
  view["next_opening"] = at(open.next_opening);
  view["paused_now"] = paused;
  view["accepting_orders"] = open.open && !paused;
  return view;
}

std::optional<Error> refusal(const RestaurantSettings& s, SysTime now) {
  if (s.pausedAt(now)) {
    return makeError("ordering_paused", s.paused_until
                                            ? "ordering is paused until " + isoTime(*s.paused_until)
                                            : std::string("ordering is paused"));
  }
  OpenState open = openState(s.schedule(), now);
  if (!open.open) {
    return makeError("restaurant_closed",
                     open.next_opening
                         ? "the restaurant is closed; it opens at " + isoTime(*open.next_opening)
                         : std::string("the restaurant is closed"));
  }
  return std::nullopt;
}

}  // namespace brigade::app
