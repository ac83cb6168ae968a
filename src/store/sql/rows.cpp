#include "store/sql/rows.hpp"

#include <boost/json/parse.hpp>

#include <map>

#include "store/documents.hpp"
#include "store/errors.hpp"

namespace brigade::store::sql {

Error notFound(std::string_view what, int64_t id) {
  return makeError(errc::kNotFound, std::string(what) + " " + std::to_string(id) + " not found");
}

Error versionConflict(std::string_view what, int64_t id, int64_t current) {
  return makeError(errc::kVersionConflict, std::string(what) + " " + std::to_string(id) +
                                               " is at version " + std::to_string(current));
}

Error lostRace(std::optional<int64_t> expected_version, std::string_view what, int64_t id,
               int64_t version) {
  Error e = versionConflict(what, id, version);
  if (!expected_version) e.code = errc::kRaced;
  return e;
}

const char* const kUserColumns =
    "SELECT id, email, name, role, password_hash, created_at, version FROM users ";

User userFromRow(const Statement& st) {
  User u;
  u.id = st.int64(0);
  u.email = st.text(1);
  u.name = st.text(2);
  u.role = parseRole(st.text(3)).value_or(Role::kCustomer);
  u.password_hash = st.text(4);
  u.created_at = st.text(5);
  u.version = st.int64(6);
  return u;
}

Result<User> userById(Connection& c, int64_t id) {
  auto st = c.statement(std::string(kUserColumns) + "WHERE id = ?");
  if (!st) return st.error();
  st->bind(1, id);
  const Step rc = st->step();
  if (rc == Step::kDone) return notFound("user", id);
  if (rc != Step::kRow) return c.lastError(rc);
  return userFromRow(*st);
}

const char* const kCategoryColumns =
    "SELECT id, name, position, version, created_at, updated_at FROM menu_categories ";

MenuCategory categoryFromRow(const Statement& st) {
  return MenuCategory{st.int64(0), st.text(1), st.int64(2), st.int64(3), st.text(4), st.text(5)};
}

Result<MenuCategory> categoryById(Connection& c, int64_t id) {
  auto st = c.statement(std::string(kCategoryColumns) + "WHERE id = ?");
  if (!st) return st.error();
  st->bind(1, id);
  const Step rc = st->step();
  if (rc == Step::kDone) return notFound("category", id);
  if (rc != Step::kRow) return c.lastError(rc);
  return categoryFromRow(*st);
}

const char* const kItemColumns =
    "SELECT id, category_id, name, description, price_cents, available, position, version, "
    "created_at, updated_at, option_groups, allergens FROM menu_items ";

MenuItem itemFromRow(const Statement& st) {
  MenuItem item{st.int64(0),      st.int64(1), st.text(2),  st.text(3), st.int64(4),
                st.int64(5) != 0, st.int64(6), st.int64(7), st.text(8), st.text(9)};
  // Checked JSON (the column's CHECK); a shape another program got wrong reads as none.
  if (auto groups = parseOptionGroups(st.text(10))) item.option_groups = std::move(*groups);
  boost::system::error_code ec;
  auto allergens = boost::json::parse(st.text(11), ec);
  if (!ec) {
    if (auto list = stringsFromJson(allergens)) item.allergens = std::move(*list);
  }
  return item;
}

Result<std::vector<OptionGroup>> parseOptionGroups(const std::string& text) {
  if (text == "[]") return std::vector<OptionGroup>{};
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec) return makeError(errc::kStorage, "option_groups is not JSON");
  return optionGroupsFromJson(v);
}

Result<MenuItem> itemById(Connection& c, int64_t id) {
  auto st = c.statement(std::string(kItemColumns) + "WHERE id = ?");
  if (!st) return st.error();
  st->bind(1, id);
  const Step rc = st->step();
  if (rc == Step::kDone) return notFound("menu item", id);
  if (rc != Step::kRow) return c.lastError(rc);
  return itemFromRow(*st);
}

Result<Order> orderFromJson(const std::string& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return makeError(errc::kStorage, "order document is not JSON");
  return orderFromDocument(v.as_object());
}

Result<Order> orderById(Connection& c, int64_t id) {
  auto st = c.statement("SELECT document FROM order_documents WHERE id = ?");
  if (!st) return st.error();
  st->bind(1, id);
  const Step rc = st->step();
  if (rc == Step::kDone) return notFound("order", id);
  if (rc != Step::kRow) return c.lastError(rc);
  return orderFromJson(st->text(0));
}

Result<Restaurant> restaurantRow(Connection& c) {
  auto st = c.statement("SELECT settings, version, updated_at FROM restaurant WHERE id = 1");
  if (!st) return st.error();
  const Step rc = st->step();
  if (rc == Step::kDone) return notFound("restaurant", 1);
  if (rc != Step::kRow) return c.lastError(rc);
  return Restaurant{st->text(0), st->int64(1), st->text(2)};
}

const char* const kActiveStatuses = "('accepted','preparing','ready','picked_up')";

// Riders with their active orders; `only` restricts to one user id.
Result<std::vector<Rider>> riders(Connection& c, std::optional<int64_t> only) {
  auto st = c.statement(
      "SELECT u.id, u.name, u.email, coalesce(r.online, FALSE), r.lat, r.lng, r.located_at "
      "FROM users AS u LEFT JOIN riders AS r ON r.user_id = u.id "
      "WHERE u.role = 'rider' AND (CAST(?1 AS BIGINT) IS NULL OR u.id = ?1) ORDER BY u.id");
  if (!st) return st.error();
  st->bind(1, only);
  std::vector<Rider> out;
  std::map<int64_t, size_t> index;
  Step rc;
  while ((rc = st->step()) == Step::kRow) {
    Rider r;
    r.id = st->int64(0);
    r.name = st->text(1);
    r.email = st->text(2);
    r.online = st->int64(3) != 0;
    if (!st->isNull(4) && !st->isNull(5)) {
      r.last_location = Location{st->real(4), st->real(5), st->text(6)};
    }
    index[r.id] = out.size();
    out.push_back(std::move(r));
  }
  if (rc != Step::kDone) return c.lastError(rc);
  auto active = c.statement(
      std::string("SELECT rider_id, id FROM orders WHERE rider_id IS NOT "
                  "NULL AND (CAST(?1 AS BIGINT) IS NULL OR rider_id = ?1) AND status IN ") +
      kActiveStatuses + " ORDER BY id");
  if (!active) return active.error();
  active->bind(1, only);
  while ((rc = active->step()) == Step::kRow) {
    if (auto it = index.find(active->int64(0)); it != index.end()) {
      out[it->second].active_order_ids.push_back(active->int64(1));
    }
  }
  if (rc != Step::kDone) return c.lastError(rc);
  return out;
}

Result<Rider> riderById(Connection& c, int64_t id) {
  auto list = riders(c, id);
  if (!list) return list.error();
  if (list->empty()) {
    auto user = userById(c, id);
    if (!user) return user.error();
    return makeError(errc::kNotARider, "user " + std::to_string(id) + " is not a rider");
  }
  return std::move(list->front());
}

Result<std::vector<ChangePtr>> fetchChanges(Connection& c, const Dialect& dialect,
                                            int64_t after_seq, size_t limit,
                                            const ChangeAudience& audience) {
  auto st = c.statement(dialect.changesQuery(audience.kind));
  if (!st) return st.error();
  st->bind(1, after_seq).bind(2, static_cast<int64_t>(limit));
  if (audience.kind != ChangeAudience::Kind::kAll) st->bind(3, audience.user_id);
  std::vector<ChangePtr> out;
  Step rc;
  while ((rc = st->step()) == Step::kRow) {
    out.push_back(makeChange(st->int64(0), st->text(1), st->text(2), st->int64(3), st->text(4),
                             st->text(5), st->optInt64(6)));
  }
  if (rc != Step::kDone) return c.lastError(rc);
  return out;
}

Result<void> ensureRiderRow(Connection& c, int64_t id) {
  auto st = c.statement("INSERT INTO riders(user_id) VALUES (?) ON CONFLICT DO NOTHING");
  if (!st) return st.error();
  st->bind(1, id);
  if (const Step rc = st->step(); rc != Step::kDone) return c.lastError(rc);
  return {};
}

Result<StreamBounds> Dialect::streamBounds(Connection& c) const {
  auto st = c.statement(sql_.stream_bounds);
  if (!st) return st.error();
  if (const Step rc = st->step(); rc != Step::kRow) return c.lastError(rc);
  StreamBounds b;
  b.head = st->int64(1);
  b.oldest = st->isNull(0) ? b.head + 1 : st->int64(0);
  return b;
}

const std::string& Dialect::changesQuery(ChangeAudience::Kind kind) const {
  switch (kind) {
    case ChangeAudience::Kind::kAll:
      return sql_.changes_all;
    case ChangeAudience::Kind::kCustomer:
      return sql_.changes_customer;
    case ChangeAudience::Kind::kRider:
      break;
  }
  return sql_.changes_rider;
}

ReadTransaction::ReadTransaction(Connection& c, const Dialect& dialect) : c_(c) {
  ok_ = c_.exec(dialect.beginRead()).ok();
}

ReadTransaction::~ReadTransaction() {
  if (ok_) (void)c_.exec("COMMIT");
}

}  // namespace brigade::store::sql
