#pragma once

// Where the restaurant delivers and what it charges (docs/API.md, "Delivery area and
// fees"): distance bands from the restaurant's location, each with a fee, and a minimum
// subtotal. Without bands the restaurant delivers anywhere at the flat fee
// (--delivery-fee-cents), as before.

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <vector>

#include "app/api.hpp"
#include "app/geo.hpp"
#include "store/types.hpp"

namespace brigade::app {

inline constexpr size_t kMaxDeliveryBands = 10;
inline constexpr int64_t kMaxDeliveryRadiusM = 100'000;

inline constexpr const char* kOutsideDeliveryArea = "outside_delivery_area";
inline constexpr const char* kBelowMinimum = "below_minimum";

struct DeliveryBand {
  int64_t up_to_m = 0;  // the band covers distances up to this, from the previous band's
  int64_t fee_cents = 0;
};

struct DeliveryArea {
  std::vector<DeliveryBand> bands;  // ascending up_to_m; empty: no area
  int64_t min_subtotal_cents = 0;
};

// Reads `delivery_area` ({bands: [{up_to_m, fee_cents}], min_subtotal_cents} or null): the
// first problem as a 422 naming its field.
std::optional<ApiError> readDeliveryArea(const json::value& v, std::optional<DeliveryArea>& out);
json::value deliveryAreaJson(const std::optional<DeliveryArea>& area);

// A delivery's price and distance from where the restaurant is and delivers, for an order's
// subtotal and delivery point: the fee (flatFeeCents without an area), or 422
// outside_delivery_area / below_minimum, or a missing point when an area needs one.
Result<store::DeliveryPrice> priceDelivery(const std::optional<GeoPoint>& restaurant,
                                           const std::optional<DeliveryArea>& area,
                                           const std::optional<GeoPoint>& point,
                                           int64_t subtotalCents, int64_t flatFeeCents);

}  // namespace brigade::app
