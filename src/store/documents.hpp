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

// The JSON columns behind items' option groups and allergens and order lines' options.
boost::json::array optionGroupsJson(const std::vector<OptionGroup>& groups);
boost::json::array chosenOptionsJson(const std::vector<ChosenOption>& options);
boost::json::array stringsJson(const std::vector<std::string>& strings);
Result<std::vector<OptionGroup>> optionGroupsFromJson(const boost::json::value& v);
Result<std::vector<ChosenOption>> chosenOptionsFromJson(const boost::json::value& v);
Result<std::vector<std::string>> stringsFromJson(const boost::json::value& v);

}  // namespace brigade::store
