#pragma once

// Points on the earth and the distance between them.

#include <cstdint>

namespace brigade::app {

struct GeoPoint {
  double lat = 0;
  double lng = 0;
};

// The great-circle distance in whole metres (haversine on a sphere of the earth's mean
// radius: within 0.5% of the ellipsoid's, far below what a delivery fee can tell).
int64_t distanceMeters(GeoPoint from, GeoPoint to);

}  // namespace brigade::app
