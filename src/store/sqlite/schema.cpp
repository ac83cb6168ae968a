#include "store/sqlite/schema.hpp"

#include <string_view>

namespace brigade::store::sqlite {
namespace {

// SQLite's clock in the same fixed-width shape as formatTimestamp().
constexpr std::string_view kNow = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

std::string replaceAll(std::string s, std::string_view from, std::string_view to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

// JSON documents of menu rows, built from a row alias R (NEW or OLD in triggers).
const char* kItemJson =
    "json_object('id',R.id,'category_id',R.category_id,'name',R.name,"
    "'description',R.description,'price_cents',R.price_cents,"
    "'available',json(CASE WHEN R.available THEN 'true' ELSE 'false' END),"
    "'position',R.position,'version',R.version,'created_at',R.created_at,"
    "'updated_at',R.updated_at)";
// An order's document: the row plus its lines and history. Lines and history come in
// primary-key order (the lookup walks the (order_id, line|n) key). The subqueries' results
// keep their JSON subtype, so they nest as arrays without a json() re-parse (which showed in
// profiles); the suite fails if a SQLite version ever turned them into strings.
const char* kOrderJson =
    "json_object('id', R.id, 'customer_id', R.customer_id, "
    "'customer_name', (SELECT name FROM users WHERE id = R.customer_id), "
    "'items', (SELECT json_group_array(json_object('item_id', item_id, 'name', name, "
    "'unit_price_cents', unit_price_cents, 'quantity', quantity, 'notes', notes)) "
    "FROM order_items WHERE order_id = R.id), "
    "'subtotal_cents', R.subtotal_cents, 'delivery_fee_cents', R.delivery_fee_cents, "
    "'total_cents', R.total_cents, 'status', R.status, 'status_reason', R.status_reason, "
    "'rider_id', R.rider_id, 'prep_minutes', R.prep_minutes, "
    "'delivery', json_object('address', R.delivery_address, 'lat', R.delivery_lat, "
    "'lng', R.delivery_lng), "
    "'notes', R.notes, 'created_at', R.created_at, 'updated_at', R.updated_at, "
    "'version', R.version, "
    "'history', (SELECT json_group_array(json_object('status', status, 'at', at, "
    "'by', by_user)) FROM order_history WHERE order_id = R.id))";
const char* kCategoryJson =
    "json_object('id',R.id,'name',R.name,'position',R.position,'version',R.version,"
    "'created_at',R.created_at,'updated_at',R.updated_at)";

// From migration 6: items carry their option groups and allergens, order lines their
// options (JSON columns, nested with json() so they stay arrays).
const std::string kItemJson6 =
    std::string(kItemJson).substr(0, std::string(kItemJson).size() - 1) +
    ",'option_groups',json(R.option_groups),'allergens',json(R.allergens))";
const std::string kOrderJson6 = [] {
  std::string doc = kOrderJson;
  const std::string line = "'notes', notes)";
  doc.replace(doc.find(line), line.size(), "'notes', notes, 'options', json(options))");
  return doc;
}();

// From migration 7: orders carry their payment, their delivery code (and the wrong codes
// entered) and the distance of the delivery point.
const std::string kOrderJson7 = [] {
  std::string doc = kOrderJson6;
  const std::string lng = "'lng', R.delivery_lng), ";
  doc.replace(doc.find(lng), lng.size(),
              "'lng', R.delivery_lng, 'distance_m', R.delivery_distance_m), "
              "'payment', json_object('method', R.payment_method, 'status', R.payment_status), "
              "'delivery_code', R.delivery_code, 'code_attempts', R.code_attempts, ");
  return doc;
}();

// From migration 8: the rider's offer (its end, its acceptance) and who declined.
const std::string kOrderJson8 = [] {
  std::string doc = kOrderJson7;
  const std::string attempts = "'code_attempts', R.code_attempts, ";
  doc.replace(doc.find(attempts), attempts.size(),
              attempts +
                  "'offer_expires_at', R.offer_expires_at, "
                  "'rider_accepted_at', R.rider_accepted_at, "
                  "'declined_rider_ids', json(R.declined_rider_ids), ");
  return doc;
}();

// The restaurant's settings as stored, with the record's version and time added.
const char* kRestaurantJson =
    "json_set(R.settings,'$.version',R.version,'$.updated_at',R.updated_at)";

std::string doc(const char* tmpl, std::string_view alias) {
  return replaceAll(tmpl, "R.", std::string(alias) + ".");
}

// Captures inserts/updates/deletes of a menu table. The version trigger gives writes by
// other programs (which do not touch `version`) their +1; the capture fires only when the
// version moved, so such a write still produces exactly one change.
std::string menuTriggers(std::string_view table, const char* json) {
  std::string t(table);
  std::string now(kNow);
  return "CREATE TRIGGER " + t + "_bump_version AFTER UPDATE ON " + t +
         " WHEN NEW.version = OLD.version BEGIN UPDATE " + t +
         " SET version = OLD.version + 1, updated_at = " + now +
         " WHERE id = NEW.id; END;\n"
         "CREATE TRIGGER " +
         t + "_capture_insert AFTER INSERT ON " + t +
         " BEGIN INSERT INTO changes(collection, op, record_id, document) VALUES ('" + t +
         "', 'insert', NEW.id, " + doc(json, "NEW") +
         "); END;\n"
         "CREATE TRIGGER " +
         t + "_capture_update AFTER UPDATE ON " + t +
         " WHEN NEW.version <> OLD.version"
         " BEGIN INSERT INTO changes(collection, op, record_id, document) VALUES ('" +
         t + "', 'update', NEW.id, " + doc(json, "NEW") +
         "); END;\n"
         "CREATE TRIGGER " +
         t + "_capture_delete AFTER DELETE ON " + t +
         " BEGIN INSERT INTO changes(collection, op, record_id, document) VALUES ('" + t +
         "', 'delete', OLD.id, " + doc(json, "OLD") + "); END;\n";
}

std::string migration1() {
  const std::string now(kNow);
  std::string sql = R"SQL(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- The stream's identity: a seq only means something together with this value.
INSERT INTO meta(key, value) VALUES ('epoch', lower(hex(randomblob(16))));

CREATE TABLE users(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL COLLATE NOCASE UNIQUE,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin','customer','rider')),
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (NOW),
  version INTEGER NOT NULL DEFAULT 1);

CREATE TABLE tokens(
  hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  revoked_at TEXT) WITHOUT ROWID;
CREATE INDEX tokens_by_user ON tokens(user_id);

CREATE TABLE riders(
  user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  online INTEGER NOT NULL DEFAULT 0 CHECK (online IN (0,1)),
  lat REAL,
  lng REAL,
  located_at TEXT,
  version INTEGER NOT NULL DEFAULT 1);

CREATE TABLE menu_categories(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  position INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL DEFAULT (NOW),
  updated_at TEXT NOT NULL DEFAULT (NOW));

CREATE TABLE menu_items(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  category_id INTEGER NOT NULL REFERENCES menu_categories(id) ON DELETE RESTRICT,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
  available INTEGER NOT NULL DEFAULT 1 CHECK (available IN (0,1)),
  position INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL DEFAULT (NOW),
  updated_at TEXT NOT NULL DEFAULT (NOW));
CREATE INDEX menu_items_by_category ON menu_items(category_id, position);

CREATE TABLE orders(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  customer_id INTEGER NOT NULL REFERENCES users(id),
  subtotal_cents INTEGER NOT NULL CHECK (subtotal_cents >= 0),
  delivery_fee_cents INTEGER NOT NULL CHECK (delivery_fee_cents >= 0),
  total_cents INTEGER NOT NULL CHECK (total_cents >= 0),
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
    ('pending','accepted','preparing','ready','picked_up','delivered','rejected','cancelled')),
  status_reason TEXT,
  rider_id INTEGER REFERENCES users(id),
  prep_minutes INTEGER CHECK (prep_minutes IS NULL OR prep_minutes >= 0),
  delivery_address TEXT NOT NULL,
  delivery_lat REAL,
  delivery_lng REAL,
  notes TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL DEFAULT (NOW),
  updated_at TEXT NOT NULL DEFAULT (NOW),
  version INTEGER NOT NULL DEFAULT 1);
CREATE INDEX orders_by_customer ON orders(customer_id, id);
CREATE INDEX orders_by_rider ON orders(rider_id, id);
CREATE INDEX orders_by_status ON orders(status, id);
CREATE INDEX orders_by_created ON orders(created_at);

-- Lines and history are written before their order row (the foreign key is checked at
-- commit), so the order's insert trigger already sees them in its document.
CREATE TABLE order_items(
  order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  line INTEGER NOT NULL,
  item_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
  quantity INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 99),
  notes TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (order_id, line)) WITHOUT ROWID;

CREATE TABLE order_history(
  order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  n INTEGER NOT NULL,
  status TEXT NOT NULL,
  at TEXT NOT NULL,
  by_user INTEGER,
  PRIMARY KEY (order_id, n)) WITHOUT ROWID;

CREATE TABLE idempotency_keys(
  customer_id INTEGER NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  order_id INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (customer_id, key)) WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_created ON idempotency_keys(created_at);

-- AUTOINCREMENT: a seq is never reused, even after retention empties the table.
CREATE TABLE changes(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  collection TEXT NOT NULL,
  op TEXT NOT NULL CHECK (op IN ('insert','update','delete')),
  record_id INTEGER NOT NULL,
  document TEXT NOT NULL,
  at TEXT NOT NULL DEFAULT (NOW));

@ORDER_VIEW@

CREATE TRIGGER orders_bump_version AFTER UPDATE ON orders WHEN NEW.version = OLD.version
BEGIN
  UPDATE orders SET version = OLD.version + 1, updated_at = NOW WHERE id = NEW.id;
END;
@ORDER_TRIGGERS@
)SQL";
  sql = replaceAll(sql, "NOW", now);
  // Reads use the view; the triggers build the same document straight from NEW/OLD.
  sql = replaceAll(sql, "@ORDER_VIEW@",
                   "CREATE VIEW order_documents AS SELECT o.id AS id, " + doc(kOrderJson, "o") +
                       " AS document FROM orders AS o;");
  const std::string capture = "INSERT INTO changes(collection, op, record_id, document) VALUES ";
  sql = replaceAll(
      sql, "@ORDER_TRIGGERS@",
      "CREATE TRIGGER orders_capture_insert AFTER INSERT ON orders BEGIN " + capture +
          "('orders', 'insert', NEW.id, " + doc(kOrderJson, "NEW") + "); END;\n" +
          "CREATE TRIGGER orders_capture_update AFTER UPDATE ON orders WHEN NEW.version <> "
          "OLD.version BEGIN " +
          capture + "('orders', 'update', NEW.id, " + doc(kOrderJson, "NEW") + "); END;\n" +
          // BEFORE: the cascade has not yet removed the lines and history the document shows.
          "CREATE TRIGGER orders_capture_delete BEFORE DELETE ON orders BEGIN " + capture +
          "('orders', 'delete', OLD.id, " + doc(kOrderJson, "OLD") + "); END;\n");
  sql += menuTriggers("menu_categories", kCategoryJson);
  sql += menuTriggers("menu_items", kItemJson);
  return sql;
}

// The change that takes an order away from a rider names that rider, so that the
// change reaches them (the job leaves their list) although the document no longer
// carries their id (PRODUCT.md, "Visibility of changes").
std::string migration2() {
  return "ALTER TABLE changes ADD COLUMN previous_rider_id INTEGER;\n"
         "DROP TRIGGER orders_capture_update;\n"
         "CREATE TRIGGER orders_capture_update AFTER UPDATE ON orders WHEN NEW.version <> "
         "OLD.version BEGIN INSERT INTO changes(collection, op, record_id, document, "
         "previous_rider_id) VALUES ('orders', 'update', NEW.id, " +
         doc(kOrderJson, "NEW") +
         ", CASE WHEN OLD.rider_id IS NOT NEW.rider_id THEN OLD.rider_id END); END;\n";
}

// Order documents name their customer, so a board can show who ordered.
std::string migration3() {
  std::string capture = "INSERT INTO changes(collection, op, record_id, document) VALUES ";
  return "DROP VIEW order_documents;\n"
         "CREATE VIEW order_documents AS SELECT o.id AS id, " +
         doc(kOrderJson, "o") +
         " AS document FROM orders AS o;\n"
         "DROP TRIGGER orders_capture_insert;\n"
         "DROP TRIGGER orders_capture_update;\n"
         "DROP TRIGGER orders_capture_delete;\n"
         "CREATE TRIGGER orders_capture_insert AFTER INSERT ON orders BEGIN " +
         capture + "('orders', 'insert', NEW.id, " + doc(kOrderJson, "NEW") + "); END;\n" +
         "CREATE TRIGGER orders_capture_update AFTER UPDATE ON orders WHEN NEW.version <> "
         "OLD.version BEGIN INSERT INTO changes(collection, op, record_id, document, "
         "previous_rider_id) VALUES ('orders', 'update', NEW.id, " +
         doc(kOrderJson, "NEW") +
         ", CASE WHEN OLD.rider_id IS NOT NEW.rider_id THEN OLD.rider_id END); END;\n" +
         "CREATE TRIGGER orders_capture_delete BEFORE DELETE ON orders BEGIN " + capture +
         "('orders', 'delete', OLD.id, " + doc(kOrderJson, "OLD") + "); END;\n";
}

// The order capture triggers as migration 4 made them, for an order document template.
std::string orderCaptureTriggers(const std::string& orderJson) {
  auto idOf = [](std::string_view row, std::string_view column) {
    std::string field = std::string(row) + "." + std::string(column);
    return "CASE WHEN typeof(" + field + ") = 'integer' THEN " + field + " END";
  };
  const std::string columns =
      "INSERT INTO changes(collection, op, record_id, document, customer_id, rider_id";
  auto values = [&](std::string_view op, std::string_view row) {
    return "('orders', '" + std::string(op) + "', " + std::string(row) + ".id, " +
           doc(orderJson.c_str(), row) + ", " + idOf(row, "customer_id") + ", " +
           idOf(row, "rider_id");
  };
  return "DROP TRIGGER orders_capture_insert;\n"
         "DROP TRIGGER orders_capture_update;\n"
         "DROP TRIGGER orders_capture_delete;\n"
         "CREATE TRIGGER orders_capture_insert AFTER INSERT ON orders BEGIN " +
         columns + ") VALUES " + values("insert", "NEW") + "); END;\n" +
         "CREATE TRIGGER orders_capture_update AFTER UPDATE ON orders WHEN NEW.version <> "
         "OLD.version BEGIN " +
         columns + ", previous_rider_id) VALUES " + values("update", "NEW") +
         ", CASE WHEN OLD.rider_id IS NOT NEW.rider_id THEN OLD.rider_id END); END;\n" +
         // BEFORE: the cascade has not yet removed the lines and history the document shows.
         "CREATE TRIGGER orders_capture_delete BEFORE DELETE ON orders BEGIN " + columns +
         ") VALUES " + values("delete", "OLD") + "); END;\n";
}

// Changes carry their audience (the customer and rider their document names) in indexed
// columns, so a customer's or rider's read walks only their own changes and the menu's
// instead of the whole stream (docs/STORE.md, "Reading by audience"). The triggers fill
// them, so writes by other programs are indexed too. A column holds an id only when the
// document holds it as an integer: that is what visibility compares.
std::string migration4() {
  auto fromDocument = [](std::string_view key) {
    std::string path = "'$." + std::string(key) + "'";
    return "CASE WHEN json_type(document, " + path + ") = 'integer' THEN json_extract(document, " +
           path + ") END";
  };
  return "ALTER TABLE changes ADD COLUMN customer_id INTEGER;\n"
         "ALTER TABLE changes ADD COLUMN rider_id INTEGER;\n"
         "UPDATE changes SET customer_id = " +
         fromDocument("customer_id") + ", rider_id = " + fromDocument("rider_id") +
         " WHERE collection = 'orders' AND json_valid(document);\n"
         // Partial: most changes name no rider and no previous rider, and menu changes no one.
         "CREATE INDEX changes_by_customer ON changes(customer_id, seq) "
         "WHERE customer_id IS NOT NULL;\n"
         "CREATE INDEX changes_by_rider ON changes(rider_id, seq) WHERE rider_id IS NOT NULL;\n"
         "CREATE INDEX changes_by_previous_rider ON changes(previous_rider_id, seq) "
         "WHERE previous_rider_id IS NOT NULL;\n"
         // Everyone's changes; `collection` makes the index covering for the seq lookup.
         "CREATE INDEX changes_public ON changes(seq, collection) WHERE collection <> 'orders';\n" +
         orderCaptureTriggers(kOrderJson);
}

// The restaurant's settings: one row, a JSON object the app interprets (app/restaurant.hpp;
// "{}" means every default). Created before its triggers: a new database's stream starts
// with the first real change, not with this row.
std::string migration5() {
  const std::string now(kNow);
  return "CREATE TABLE restaurant(\n"
         "  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
         "  settings TEXT NOT NULL DEFAULT '{}' "
         "CHECK (json_valid(settings) AND json_type(settings) = 'object'),\n"
         "  version INTEGER NOT NULL DEFAULT 1,\n"
         "  created_at TEXT NOT NULL DEFAULT (" +
         now + "),\n  updated_at TEXT NOT NULL DEFAULT (" + now +
         "));\n"
         "INSERT INTO restaurant(id) VALUES (1);\n" +
         menuTriggers("restaurant", kRestaurantJson);
}

// Item options and allergens (JSON columns the store reads and writes whole), order lines'
// chosen options (names and prices frozen), and the id space of groups and options: the
// documents gain them, so the view and the capture triggers are made again.
std::string migration6() {
  return "ALTER TABLE menu_items ADD COLUMN option_groups TEXT NOT NULL DEFAULT '[]' "
         "CHECK (json_valid(option_groups) AND json_type(option_groups) = 'array');\n"
         "ALTER TABLE menu_items ADD COLUMN allergens TEXT NOT NULL DEFAULT '[]' "
         "CHECK (json_valid(allergens) AND json_type(allergens) = 'array');\n"
         "ALTER TABLE order_items ADD COLUMN options TEXT NOT NULL DEFAULT '[]' "
         "CHECK (json_valid(options) AND json_type(options) = 'array');\n"
         "CREATE TABLE menu_option_ids(id INTEGER PRIMARY KEY AUTOINCREMENT, "
         "claimed INTEGER NOT NULL);\n"
         "DROP VIEW order_documents;\n"
         "CREATE VIEW order_documents AS SELECT o.id AS id, " +
         doc(kOrderJson6.c_str(), "o") + " AS document FROM orders AS o;\n" +
         orderCaptureTriggers(kOrderJson6) +
         "DROP TRIGGER menu_items_bump_version;\n"
         "DROP TRIGGER menu_items_capture_insert;\n"
         "DROP TRIGGER menu_items_capture_update;\n"
         "DROP TRIGGER menu_items_capture_delete;\n" +
         menuTriggers("menu_items", kItemJson6.c_str());
}

// Payment (method and status), proof of delivery (a code and the wrong attempts) and the
// delivery distance; the documents gain them (view and capture triggers again).
std::string migration7() {
  return "ALTER TABLE orders ADD COLUMN payment_method TEXT NOT NULL DEFAULT 'cash' "
         "CHECK (payment_method IN ('cash', 'card'));\n"
         "ALTER TABLE orders ADD COLUMN payment_status TEXT NOT NULL DEFAULT 'unpaid' "
         "CHECK (payment_status IN ('unpaid', 'paid'));\n"
         "ALTER TABLE orders ADD COLUMN delivery_code TEXT;\n"
         "ALTER TABLE orders ADD COLUMN code_attempts INTEGER NOT NULL DEFAULT 0;\n"
         "ALTER TABLE orders ADD COLUMN delivery_distance_m INTEGER;\n"
         "DROP VIEW order_documents;\n"
         "CREATE VIEW order_documents AS SELECT o.id AS id, " +
         doc(kOrderJson7.c_str(), "o") + " AS document FROM orders AS o;\n" +
         orderCaptureTriggers(kOrderJson7);
}

// Rider offers: an offer's end, its acceptance and the riders who declined the order.
std::string migration8() {
  return "ALTER TABLE orders ADD COLUMN offer_expires_at TEXT;\n"
         "ALTER TABLE orders ADD COLUMN rider_accepted_at TEXT;\n"
         "ALTER TABLE orders ADD COLUMN declined_rider_ids TEXT NOT NULL DEFAULT '[]' "
         "CHECK (json_valid(declined_rider_ids) AND json_type(declined_rider_ids) = 'array');\n"
         "CREATE INDEX orders_by_offer_expiry ON orders(offer_expires_at) "
         "WHERE offer_expires_at IS NOT NULL;\n"
         "DROP VIEW order_documents;\n"
         "CREATE VIEW order_documents AS SELECT o.id AS id, " +
         doc(kOrderJson8.c_str(), "o") + " AS document FROM orders AS o;\n" +
         orderCaptureTriggers(kOrderJson8);
}

// The offer pass asks for expired offers oldest order first (`offer_expires_at < ? ORDER
// BY id LIMIT ?`): indexed by expiry, the planner walked every order by id instead, each
// second, on every node. Indexed by id over the offered orders only, it reads those.
std::string migration9() {
  return "DROP INDEX orders_by_offer_expiry;\n"
         "CREATE INDEX orders_offered ON orders(id) WHERE offer_expires_at IS NOT NULL;\n";
}

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kMigrations{
      {1, "initial schema with change capture", migration1()},
      {2, "changes name the rider an order was taken from", migration2()},
      {3, "order documents name their customer", migration3()},
      {4, "changes carry their audience, indexed", migration4()},
      {5, "restaurant settings", migration5()},
      {6, "item options and allergens", migration6()},
      {7, "payment, delivery code and distance", migration7()},
      {8, "rider offers", migration8()},
      {9, "offered orders indexed by id", migration9()},
  };
  return kMigrations;
}

int latestSchemaVersion() {
  return migrations().back().version;
}

}  // namespace brigade::store::sqlite
