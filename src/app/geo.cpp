#include "app/geo.hpp"

#include <cmath>
#include <numbers>

namespace brigade::app {

namespace {
constexpr double kEarthRadiusM = 6'371'008.8;  // IUGG mean radius
double radians(double degrees) {
  return degrees * std::numbers::pi / 180.0;
}
}  // namespace

int64_t distanceMeters(GeoPoint from, GeoPoint to) {
  const double dLat = radians(to.lat - from.lat);
  const double dLng = radians(to.lng - from.lng);
  const double a = std::sin(dLat / 2) * std::sin(dLat / 2) +
                   std::cos(radians(from.lat)) * std::cos(radians(to.lat)) * std::sin(dLng / 2) *
                       std::sin(dLng / 2);
  const double c = 2 * std::atan2(std::sqrt(a), std::sqrt(1 - a));
  return std::llround(kEarthRadiusM * c);
}

}  // namespace brigade::app
