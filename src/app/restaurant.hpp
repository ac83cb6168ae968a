#pragma once

// The restaurant's settings (GET/PATCH /api/restaurant, docs/API.md): what they are, how a
// PATCH is checked, how they are stored (one JSON object, store::Restaurant) and shown.

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "app/api.hpp"
#include "app/delivery_area.hpp"
#include "app/geo.hpp"
#include "app/hours.hpp"
#include "store/types.hpp"

namespace brigade::app {

inline constexpr size_t kMaxRestaurantNameLength = 200;
inline constexpr size_t kMaxClosedDates = 366;
inline constexpr int64_t kMaxBusyExtraMinutes = 120;
inline constexpr int64_t kMaxPauseMinutes = 24 * 60;
inline constexpr int64_t kMaxOrdersPer15Min = 10000;
inline constexpr int64_t kMinAutoRejectS = 30;
inline constexpr int64_t kMaxAutoRejectS = 3600;
// The window of max_orders_per_15min.
inline constexpr std::chrono::minutes kKitchenWindow{15};
inline constexpr const char* kDefaultMapTileUrl = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
inline constexpr const char* kDefaultMapAttribution = "© OpenStreetMap contributors";
inline constexpr size_t kMaxMapSettingLength = 300;
// Why an order was rejected by the server because nobody answered it.
inline constexpr const char* kNotAnswered = "not_answered";

struct RestaurantSettings {
  std::string name = "Brigade";
  std::string timezone = "UTC";
  std::string currency = "EUR";
  std::string language = "en";  // the panels' and statusChanged's language: "en" or "ko"
  std::optional<WeeklyHours> opening_hours;  // nullopt: open around the clock
  std::set<std::string> closed_dates;        // local "YYYY-MM-DD"
  bool paused = false;
  std::optional<SysTime> paused_until;  // a pause with an end resumes by itself
  int64_t busy_extra_minutes = 0;       // added to every prep quote
  std::optional<int64_t> max_orders_per_15min;
  std::optional<int64_t> auto_reject_after_s;  // pending longer → rejected (not_answered)
  bool pause_on_auto_reject = false;
  std::optional<GeoPoint> location;
  std::optional<DeliveryArea> delivery_area;  // nullopt: anywhere, at the flat fee
  bool delivery_code_required = false;        // riders deliver with the customer's code
  bool auto_offer = false;  // the server offers orders to riders itself (app/rider_offers.hpp)
  // The panels' street map: a tile URL template ({z}/{x}/{y}; empty: the plain grid) and
  // the attribution its provider requires.
  std::string map_tile_url = kDefaultMapTileUrl;
  std::string map_attribution = kDefaultMapAttribution;

  int64_t version = 0;
  std::string updated_at;

  const date::time_zone* zone() const;  // the zone of `timezone` (UTC when unknown)
  Schedule schedule() const;
  bool pausedAt(SysTime now) const;
};

// Reads the stored settings leniently: a member that is missing or unreadable (another
// program may write the row) takes its default.
RestaurantSettings readSettings(const store::Restaurant& record);
RestaurantSettings readSettings(const json::object& stored, int64_t version,
                                std::string updated_at);

// The settings a restaurant change carries (the stored object with `version` and
// `updated_at`, docs/STORE.md); version 0 when it has none.
RestaurantSettings readChangeDocument(const json::object& document);

// Applies a PATCH body to `settings`: the first problem as a 422 naming its field, and
// unknown fields are refused by name. `if_version` is the caller's, not checked here.
std::optional<ApiError> applyPatch(const json::object& patch, SysTime now,
                                   RestaurantSettings& settings);

// The stored form: every setting, no version and nothing computed.
json::object toStored(const RestaurantSettings& settings);
// The API's document (GET, PATCH and restaurant:changed alike): the settings, version and
// updated_at, and where ordering stands at `now`: open_now, closes_at, next_opening,
// paused_now, accepting_orders.
json::object toView(const RestaurantSettings& settings, SysTime now);

// Whether an order may be placed at `now`: nullopt, or the 409 answer (restaurant_closed,
// ordering_paused). The 15-minute cap is checked by the caller (it needs the orders).
std::optional<Error> refusal(const RestaurantSettings& settings, SysTime now);

}  // namespace brigade::app
