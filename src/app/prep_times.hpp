#pragma once

// Measured times of the kitchen and the delivery (GET /api/stats/today, "measured"): what
// orders took, not what was quoted. Pure: the orders' timings in, figures out.

#include <boost/json/object.hpp>
#include <optional>
#include <vector>

#include "app/hours.hpp"
#include "store/types.hpp"

namespace brigade::app {

// Items listed in the 7-day figures at most (the most ordered first).
inline constexpr size_t kMaxTimedItems = 50;

struct Spread {
  int64_t count = 0;
  std::optional<double> median;  // minutes, to 0.1
  std::optional<double> p90;
};

// Median and 90th percentile (linear between ranks) of minutes.
Spread spread(std::vector<double> minutes);

// accepted → ready ("prep") and placed → delivered ("delivery") of the orders created in
// [from, to): overall, per local hour of creation, and per item over all the orders given.
boost::json::object measuredTimes(const std::vector<store::OrderTiming>& orders, SysTime from,
                                  SysTime to, const date::time_zone* zone);

}  // namespace brigade::app
