#pragma once

// Records as the API shows them (../shared/docs/PRODUCT.md, "Data").

#include <boost/json/value.hpp>

#include "store/change.hpp"
#include "store/types.hpp"

namespace brigade::app {

boost::json::object toJson(const store::User& user);
boost::json::object toJson(const store::MenuCategory& category);
boost::json::object toJson(const store::MenuItem& item);
boost::json::object toJson(const store::Menu& menu);
boost::json::object toJson(const store::Order& order);
// As a caller of that role may see it: a rider never sees the delivery code.
boost::json::object toJson(const store::Order& order, store::Role viewer);
boost::json::object toJson(const store::Rider& rider);
boost::json::object toJson(const store::Change& change);
boost::json::object toJson(const store::Change& change, store::Role viewer);

}  // namespace brigade::app
