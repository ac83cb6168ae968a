#include "store/documents.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <stdexcept>

#include "store/errors.hpp"

namespace brigade::store {
namespace json = boost::json;
namespace {

// Field readers throw std::invalid_argument; the public functions turn that into an Error.
const json::value& field(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v) throw std::invalid_argument("missing field " + std::string(key));
  return *v;
}

int64_t int64Field(const json::object& o, std::string_view key) {
  const auto& v = field(o, key);
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) return static_cast<int64_t>(v.get_uint64());
  if (v.is_double()) return static_cast<int64_t>(v.get_double());
  throw std::invalid_argument("field " + std::string(key) + " is not an integer");
}

std::optional<int64_t> optInt64(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  return int64Field(o, key);
}

std::optional<double> optDouble(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  return v->to_number<double>();
}

std::string stringField(const json::object& o, std::string_view key) {
  const auto& v = field(o, key);
  if (!v.is_string()) throw std::invalid_argument("field " + std::string(key) + " is not a string");
  return std::string(v.get_string());
}

std::optional<std::string> optString(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  return stringField(o, key);
}

bool boolField(const json::object& o, std::string_view key) {
  const auto& v = field(o, key);
  if (v.is_bool()) return v.get_bool();
  return int64Field(o, key) != 0;
}

OrderStatus statusField(const json::object& o, std::string_view key) {
  auto s = parseOrderStatus(stringField(o, key));
  if (!s) throw std::invalid_argument("unknown order status");
  return *s;
}

template <typename T>
json::value orNull(const std::optional<T>& v) {
  if (!v) return nullptr;
  return json::value(*v);
}

template <typename F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return makeError(errc::kStorage, std::string("malformed document: ") + e.what());
  }
}

std::vector<OptionGroup> readGroups(const json::value& v) {
  std::vector<OptionGroup> groups;
  for (const auto& g : v.as_array()) {
    const auto& go = g.as_object();
    OptionGroup group{int64Field(go, "id"),
                      stringField(go, "name"),
                      int64Field(go, "min"),
                      int64Field(go, "max"),
                      {}};
    for (const auto& o : field(go, "options").as_array()) {
      const auto& oo = o.as_object();
      group.options.push_back(MenuOption{int64Field(oo, "id"), stringField(oo, "name"),
                                         int64Field(oo, "price_cents"),
                                         boolField(oo, "available")});
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

std::vector<ChosenOption> readChosen(const json::value& v) {
  std::vector<ChosenOption> out;
  for (const auto& o : v.as_array()) {
    const auto& oo = o.as_object();
    out.push_back(ChosenOption{int64Field(oo, "id"), stringField(oo, "group"),
                               stringField(oo, "name"), int64Field(oo, "price_cents")});
  }
  return out;
}

std::vector<std::string> readStrings(const json::value& v) {
  std::vector<std::string> out;
  for (const auto& s : v.as_array()) out.emplace_back(s.as_string());
  return out;
}

// Documents written before options existed have none.
const json::value& orEmpty(const json::object& o, std::string_view key) {
  static const json::value kEmpty = json::array();
  auto* v = o.if_contains(key);
  return v && !v->is_null() ? *v : kEmpty;
}

}  // namespace

json::array optionGroupsJson(const std::vector<OptionGroup>& groups) {
  json::array out;
  for (const auto& g : groups) {
    json::array options;
    for (const auto& o : g.options) {
      options.push_back(json::object{{"id", o.id},
                                     {"name", o.name},
                                     {"price_cents", o.price_cents},
                                     {"available", o.available}});
    }
    out.push_back(json::object{{"id", g.id},
                               {"name", g.name},
                               {"min", g.min},
                               {"max", g.max},
                               {"options", std::move(options)}});
  }
  return out;
}

json::array chosenOptionsJson(const std::vector<ChosenOption>& options) {
  json::array out;
  for (const auto& o : options) {
    out.push_back(json::object{
        {"id", o.id}, {"group", o.group}, {"name", o.name}, {"price_cents", o.price_cents}});
  }
  return out;
}

json::array stringsJson(const std::vector<std::string>& strings) {
  json::array out;
  for (const auto& s : strings) out.emplace_back(s);
  return out;
}

Result<std::vector<OptionGroup>> optionGroupsFromJson(const json::value& v) {
  return guarded([&]() -> Result<std::vector<OptionGroup>> { return readGroups(v); });
}

Result<std::vector<ChosenOption>> chosenOptionsFromJson(const json::value& v) {
  return guarded([&]() -> Result<std::vector<ChosenOption>> { return readChosen(v); });
}

Result<std::vector<std::string>> stringsFromJson(const json::value& v) {
  return guarded([&]() -> Result<std::vector<std::string>> { return readStrings(v); });
}

namespace {
json::array int64Array(const std::vector<int64_t>& values) {
  json::array out;
  for (auto v : values) out.push_back(v);
  return out;
}
}  // namespace

json::object toDocument(const Order& order) {
  json::array items;
  for (const auto& l : order.items) {
    items.push_back(json::object{{"item_id", l.item_id},
                                 {"name", l.name},
                                 {"unit_price_cents", l.unit_price_cents},
                                 {"quantity", l.quantity},
                                 {"notes", l.notes},
                                 {"options", chosenOptionsJson(l.options)}});
  }
  json::array history;
  for (const auto& h : order.history) {
    history.push_back(
        json::object{{"status", toString(h.status)}, {"at", h.at}, {"by", orNull(h.by)}});
  }
  return json::object{
      {"id", order.id},
      {"customer_id", order.customer_id},
      {"customer_name", order.customer_name},
      {"items", std::move(items)},
      {"subtotal_cents", order.subtotal_cents},
      {"delivery_fee_cents", order.delivery_fee_cents},
      {"total_cents", order.total_cents},
      {"status", toString(order.status)},
      {"status_reason", orNull(order.status_reason)},
      {"rider_id", orNull(order.rider_id)},
      {"prep_minutes", orNull(order.prep_minutes)},
      {"delivery", json::object{{"address", order.delivery.address},
                                {"lat", orNull(order.delivery.lat)},
                                {"lng", orNull(order.delivery.lng)},
                                {"distance_m", orNull(order.delivery.distance_m)}}},
      {"payment", json::object{{"method", order.payment.method}, {"status", order.payment.status}}},
      {"delivery_code", orNull(order.delivery_code)},
      {"code_attempts", order.code_attempts},
      {"offer_expires_at", orNull(order.offer_expires_at)},
      {"rider_accepted_at", orNull(order.rider_accepted_at)},
      {"declined_rider_ids", int64Array(order.declined_rider_ids)},
      {"notes", order.notes},
      {"created_at", order.created_at},
      {"updated_at", order.updated_at},
      {"version", order.version},
      {"history", std::move(history)},
  };
}

json::object toDocument(const MenuItem& item) {
  return json::object{{"id", item.id},
                      {"category_id", item.category_id},
                      {"name", item.name},
                      {"description", item.description},
                      {"price_cents", item.price_cents},
                      {"available", item.available},
                      {"position", item.position},
                      {"version", item.version},
                      {"created_at", item.created_at},
                      {"updated_at", item.updated_at},
                      {"option_groups", optionGroupsJson(item.option_groups)},
                      {"allergens", stringsJson(item.allergens)}};
}

json::object toDocument(const MenuCategory& c) {
  return json::object{{"id", c.id},
                      {"name", c.name},
                      {"position", c.position},
                      {"version", c.version},
                      {"created_at", c.created_at},
                      {"updated_at", c.updated_at}};
}

Result<Order> orderFromDocument(const json::object& doc) {
  return guarded([&]() -> Result<Order> {
    Order o;
    o.id = int64Field(doc, "id");
    o.customer_id = int64Field(doc, "customer_id");
    if (auto* name = doc.if_contains("customer_name"); name && name->is_string()) {
      o.customer_name = std::string(name->get_string());
    }
    for (const auto& v : field(doc, "items").as_array()) {
      const auto& l = v.as_object();
      o.items.push_back(OrderLine{int64Field(l, "item_id"), stringField(l, "name"),
                                  int64Field(l, "unit_price_cents"), int64Field(l, "quantity"),
                                  stringField(l, "notes"), readChosen(orEmpty(l, "options"))});
    }
    o.subtotal_cents = int64Field(doc, "subtotal_cents");
    o.delivery_fee_cents = int64Field(doc, "delivery_fee_cents");
    o.total_cents = int64Field(doc, "total_cents");
    o.status = statusField(doc, "status");
    o.status_reason = optString(doc, "status_reason");
    o.rider_id = optInt64(doc, "rider_id");
    o.prep_minutes = optInt64(doc, "prep_minutes");
    const auto& d = field(doc, "delivery").as_object();
    o.delivery.address = stringField(d, "address");
    o.delivery.lat = optDouble(d, "lat");
    o.delivery.lng = optDouble(d, "lng");
    o.delivery.distance_m = optInt64(d, "distance_m");
    if (auto* pay = doc.if_contains("payment"); pay && pay->is_object()) {
      o.payment.method = stringField(pay->get_object(), "method");
      o.payment.status = stringField(pay->get_object(), "status");
    }
    o.delivery_code = optString(doc, "delivery_code");
    if (doc.contains("code_attempts")) o.code_attempts = int64Field(doc, "code_attempts");
    o.offer_expires_at = optString(doc, "offer_expires_at");
    o.rider_accepted_at = optString(doc, "rider_accepted_at");
    if (auto* declined = doc.if_contains("declined_rider_ids"); declined && declined->is_array()) {
      for (const auto& v : declined->get_array()) o.declined_rider_ids.push_back(v.as_int64());
    }
    o.notes = stringField(doc, "notes");
    o.created_at = stringField(doc, "created_at");
    o.updated_at = stringField(doc, "updated_at");
    o.version = int64Field(doc, "version");
    for (const auto& v : field(doc, "history").as_array()) {
      const auto& h = v.as_object();
      o.history.push_back(
          HistoryEntry{statusField(h, "status"), stringField(h, "at"), optInt64(h, "by")});
    }
    return o;
  });
}

Result<MenuItem> menuItemFromDocument(const json::object& doc) {
  return guarded([&]() -> Result<MenuItem> {
    MenuItem i;
    i.id = int64Field(doc, "id");
    i.category_id = int64Field(doc, "category_id");
    i.name = stringField(doc, "name");
    i.description = stringField(doc, "description");
    i.price_cents = int64Field(doc, "price_cents");
    i.available = boolField(doc, "available");
    i.position = int64Field(doc, "position");
    i.version = int64Field(doc, "version");
    i.created_at = stringField(doc, "created_at");
    i.updated_at = stringField(doc, "updated_at");
    i.option_groups = readGroups(orEmpty(doc, "option_groups"));
    i.allergens = readStrings(orEmpty(doc, "allergens"));
    return i;
  });
}

Result<MenuCategory> menuCategoryFromDocument(const json::object& doc) {
  return guarded([&]() -> Result<MenuCategory> {
    MenuCategory c;
    c.id = int64Field(doc, "id");
    c.name = stringField(doc, "name");
    c.position = int64Field(doc, "position");
    c.version = int64Field(doc, "version");
    c.created_at = stringField(doc, "created_at");
    c.updated_at = stringField(doc, "updated_at");
    return c;
  });
}

}  // namespace brigade::store
