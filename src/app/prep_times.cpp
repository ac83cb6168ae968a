#include "app/prep_times.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace brigade::app {
namespace json = boost::json;
namespace {

std::optional<double> minutesBetween(const std::string& from,
                                     const std::optional<std::string>& to) {
  if (!to) return std::nullopt;
  auto a = parseTime(from);
  auto b = parseTime(*to);
  if (!a || !b || *b < *a) return std::nullopt;
  return std::chrono::duration<double>(*b - *a).count() / 60.0;
}

double tenth(double v) {
  return std::round(v * 10) / 10;
}

json::value orNull(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::object toJson(const Spread& s) {
  return {{"count", s.count}, {"median", orNull(s.median)}, {"p90", orNull(s.p90)}};
}

double rank(const std::vector<double>& sorted, double q) {
  const double at = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(at));
  const auto hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - static_cast<double>(lo));
}

}  // namespace

Spread spread(std::vector<double> minutes) {
  Spread s;
  s.count = static_cast<int64_t>(minutes.size());
  if (minutes.empty()) return s;
  std::sort(minutes.begin(), minutes.end());
  s.median = tenth(rank(minutes, 0.5));
  s.p90 = tenth(rank(minutes, 0.9));
  return s;
}

json::object measuredTimes(const std::vector<store::OrderTiming>& orders, SysTime from, SysTime to,
                           const date::time_zone* zone) {
  std::vector<double> prep, delivery;
  std::map<int, std::pair<std::vector<double>, std::vector<double>>> byHour;
  std::map<int, int64_t> ordersByHour;
  struct ItemTimes {
    std::string name;
    int64_t orders = 0;
    std::vector<double> prep;
  };
  std::map<int64_t, ItemTimes> byItem;
  for (const auto& o : orders) {
    auto created = parseTime(o.created_at);
    if (!created) continue;
    auto p = o.accepted_at ? minutesBetween(*o.accepted_at, o.ready_at) : std::nullopt;
    auto d = minutesBetween(o.created_at, o.delivered_at);
    for (const auto& [id, name] : o.items) {
      auto& item = byItem[id];
      if (item.name.empty()) item.name = name;
      ++item.orders;
      if (p) item.prep.push_back(*p);
    }
    if (*created < from || *created >= to) continue;  // the week's, not today's
    const int hour = localHour(zone, *created);
    ++ordersByHour[hour];
    if (p) {
      prep.push_back(*p);
      byHour[hour].first.push_back(*p);
    }
    if (d) {
      delivery.push_back(*d);
      byHour[hour].second.push_back(*d);
    }
  }
  json::array hours;
  for (const auto& [hour, count] : ordersByHour) {
    auto& times = byHour[hour];
    hours.push_back(json::object{{"hour", hour},
                                 {"orders", count},
                                 {"prep_minutes", toJson(spread(times.first))},
                                 {"delivery_minutes", toJson(spread(times.second))}});
  }
  std::vector<std::pair<int64_t, ItemTimes>> items(byItem.begin(), byItem.end());
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return a.second.orders > b.second.orders; });
  if (items.size() > kMaxTimedItems) items.resize(kMaxTimedItems);
  json::array perItem;
  for (auto& [id, item] : items) {
    perItem.push_back(json::object{{"item_id", id},
                                   {"name", item.name},
                                   {"orders", item.orders},
                                   {"prep_minutes", toJson(spread(std::move(item.prep)))}});
  }
  return {{"prep_minutes", toJson(spread(std::move(prep)))},
          {"delivery_minutes", toJson(spread(std::move(delivery)))},
          {"by_hour", std::move(hours)},
          {"items_7d", std::move(perItem)}};
}

}  // namespace brigade::app
