#include "app/views.hpp"

#include "store/documents.hpp"

namespace brigade::app {

namespace json = boost::json;

namespace {
template <typename T>
json::value orNull(const std::optional<T>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}
}  // namespace

json::object toJson(const store::User& user) {
  return {{"id", user.id},
          {"email", user.email},
          {"name", user.name},
          {"role", store::toString(user.role)}};
}

json::object toJson(const store::MenuCategory& c) {
  return {{"id", c.id}, {"name", c.name}, {"position", c.position}, {"version", c.version}};
}

json::object toJson(const store::MenuItem& i) {
  return {{"id", i.id},
          {"category_id", i.category_id},
          {"name", i.name},
          {"description", i.description},
          {"price_cents", i.price_cents},
          {"available", i.available},
          {"position", i.position},
          {"version", i.version},
          {"option_groups", store::optionGroupsJson(i.option_groups)},
          {"allergens", store::stringsJson(i.allergens)}};
}

json::object toJson(const store::Menu& menu) {
  json::array categories;
  for (const auto& section : menu.categories) {
    json::object category = toJson(section.category);
    json::array items;
    for (const auto& item : section.items) items.push_back(toJson(item));
    category["items"] = std::move(items);
    categories.push_back(std::move(category));
  }
  return {{"categories", std::move(categories)}};
}

json::object toJson(const store::Order& o) {
  json::array items;
  for (const auto& line : o.items) {
    items.push_back(json::object{{"item_id", line.item_id},
                                 {"name", line.name},
                                 {"unit_price_cents", line.unit_price_cents},
                                 {"quantity", line.quantity},
                                 {"notes", line.notes},
                                 {"options", store::chosenOptionsJson(line.options)}});
  }
  json::array history;
  for (const auto& entry : o.history) {
    history.push_back(json::object{
        {"status", store::toString(entry.status)}, {"at", entry.at}, {"by", orNull(entry.by)}});
  }
  return {{"id", o.id},
          {"customer_id", o.customer_id},
          {"customer_name", o.customer_name},
          {"items", std::move(items)},
          {"subtotal_cents", o.subtotal_cents},
          {"delivery_fee_cents", o.delivery_fee_cents},
          {"total_cents", o.total_cents},
          {"status", store::toString(o.status)},
          {"status_reason", orNull(o.status_reason)},
          {"rider_id", orNull(o.rider_id)},
          {"prep_minutes", orNull(o.prep_minutes)},
          {"delivery", json::object{{"address", o.delivery.address},
                                    {"lat", orNull(o.delivery.lat)},
                                    {"lng", orNull(o.delivery.lng)}}},
          {"notes", o.notes},
          {"created_at", o.created_at},
          {"updated_at", o.updated_at},
          {"version", o.version},
          {"history", std::move(history)}};
}

json::object toJson(const store::Rider& r) {
  json::value location = nullptr;
  if (r.last_location) {
    location = json::object{
        {"lat", r.last_location->lat}, {"lng", r.last_location->lng}, {"at", r.last_location->at}};
  }
  json::array active;
  for (auto id : r.active_order_ids) active.push_back(id);
  return {{"id", r.id},
          {"name", r.name},
          {"online", r.online},
          {"last_location", std::move(location)},
          {"active_order_ids", std::move(active)}};
}

json::object toJson(const store::Change& c) {
  return {{"seq", c.seq},      {"collection", c.collection}, {"op", store::toString(c.op)},
          {"id", c.record_id}, {"document", c.document},     {"at", c.at}};
}

}  // namespace brigade::app
