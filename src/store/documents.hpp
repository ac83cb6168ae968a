#pragma once

#include <boost/json/object.hpp>

#include "core/result.hpp"
#include "store/types.hpp"

// The JSON shape of records as they appear in change documents (and, by design, in the
// REST API). Every backend's triggers must produce exactly these fields.
namespace brigade::store {

boost::json::object toDocument(const Order& order);
boost::json::object toDocument(const MenuItem& item);
boost::json::object toDocument(const MenuCategory& category);

Result<Order> orderFromDocument(const boost::json::object& doc);
Result<MenuItem> menuItemFromDocument(const boost::json::object& doc);
Result<MenuCategory> menuCategoryFromDocument(const boost::json::object& doc);

}  // namespace brigade::store
