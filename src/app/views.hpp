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
boost::json::object toJson(const store::Rider& rider);
boost::json::object toJson(const store::Change& change);

}  // namespace brigade::app
