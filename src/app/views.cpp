#include "app/views.hpp"

#include "app/delivery_code.hpp"
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
  return store::toDocument(o);  // the change stream's document (store/documents.hpp)
}

json::object toJson(const store::Order& o, store::Role viewer) {
  json::object doc = toJson(o);
  if (viewer == store::Role::kRider) hideFromRider(doc);
  return doc;
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

json::object toJson(const store::Change& c, store::Role viewer) {
  json::object out = toJson(c);
  if (viewer == store::Role::kRider && c.collection == store::kOrders) {
    if (auto* doc = out.if_contains("document"); doc && doc->is_object()) {
      hideFromRider(doc->get_object());
    }
  }
  return out;
}

}  // namespace brigade::app
