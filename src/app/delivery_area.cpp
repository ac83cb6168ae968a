#include "app/delivery_area.hpp"

#include <cstdio>

#include "app/app.hpp"
#include "app/fields.hpp"
#include "store/errors.hpp"

namespace brigade::app {

namespace {

std::string kilometres(int64_t metres) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f km", static_cast<double>(metres) / 1000.0);
  return text;
}

std::string amount(int64_t cents) {
  char text[32];
  std::snprintf(text, sizeof text, "%lld.%02lld", static_cast<long long>(cents / 100),
                static_cast<long long>(cents % 100));
  return text;
}

}  // namespace

std::optional<ApiError> readDeliveryArea(const json::value& v, std::optional<DeliveryArea>& out) {
  if (v.is_null()) {
    out.reset();
    return std::nullopt;
  }
  if (!v.is_object()) {
    return invalid("delivery_area", "must be {bands: [{up_to_m, fee_cents}], min_subtotal_cents}");
  }
  const auto& o = v.get_object();
  for (const auto& [key, value] : o) {
    if (key != "bands" && key != "min_subtotal_cents") {
      return invalid("delivery_area." + std::string(key), "is not a setting");
    }
  }
  Fields f(o, "delivery_area");
  DeliveryArea area;
  area.min_subtotal_cents = f.integer("min_subtotal_cents", false, 0, kMaxPriceCents).value_or(0);
  if (!f.ok()) return f.error();
  const auto* bands = o.if_contains("bands");
  if (!bands || !bands->is_array() || bands->get_array().empty() ||
      bands->get_array().size() > kMaxDeliveryBands) {
    return invalid("delivery_area.bands",
                   "must be 1 to " + std::to_string(kMaxDeliveryBands) + " bands");
  }
  const auto& list = bands->get_array();
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = "delivery_area.bands[" + std::to_string(i) + "]";
    if (!list[i].is_object()) return invalid(at, "must be {up_to_m, fee_cents}");
    Fields band(list[i].get_object(), at);
    auto upTo = band.integer("up_to_m", true, 1, kMaxDeliveryRadiusM);
    auto fee = band.integer("fee_cents", true, 0, kMaxPriceCents);
    if (!band.ok()) return band.error();
    if (!area.bands.empty() && *upTo <= area.bands.back().up_to_m) {
      return invalid(at + ".up_to_m", "must be greater than the band before");
    }
    area.bands.push_back({*upTo, *fee});
  }
  out = std::move(area);
  return std::nullopt;
}

json::value deliveryAreaJson(const std::optional<DeliveryArea>& area) {
  if (!area) return nullptr;
  json::array bands;
  for (const auto& b : area->bands) {
    bands.push_back(json::object{{"up_to_m", b.up_to_m}, {"fee_cents", b.fee_cents}});
  }
  return json::object{{"bands", std::move(bands)},
                      {"min_subtotal_cents", area->min_subtotal_cents}};
}

Result<store::DeliveryPrice> priceDelivery(const std::optional<GeoPoint>& restaurant,
                                           const std::optional<DeliveryArea>& area,
                                           const std::optional<GeoPoint>& point,
                                           int64_t subtotalCents, int64_t flatFeeCents) {
  std::optional<int64_t> distance;
  if (restaurant && point) distance = distanceMeters(*restaurant, *point);
  if (!area || !restaurant) return store::DeliveryPrice{flatFeeCents, distance};
  if (!distance) {
    return makeError(store::errc::kInvalid,
                     "delivery.lat: the delivery point (lat, lng) is needed to price the delivery");
  }
  const DeliveryBand* band = nullptr;
  for (const auto& b : area->bands) {
    if (*distance <= b.up_to_m) {
      band = &b;
      break;
    }
  }
  if (!band) {
    return makeError(kOutsideDeliveryArea,
                     "we deliver up to " + kilometres(area->bands.back().up_to_m) +
                         "; this address is " + kilometres(*distance) + " away");
  }
  if (subtotalCents < area->min_subtotal_cents) {
    return makeError(kBelowMinimum, "the minimum order is " + amount(area->min_subtotal_cents) +
                                        " before delivery; this one is " + amount(subtotalCents));
  }
  return store::DeliveryPrice{band->fee_cents, distance};
}

}  // namespace brigade::app
