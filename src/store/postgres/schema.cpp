#include "store/postgres/schema.hpp"

#include <string_view>

#include "store/postgres/notified_changes.hpp"

namespace brigade::store::postgres {
namespace {

// PostgreSQL starts at the final shape of the SQLite schema (store/sqlite/schema.cpp after
// its migration 4): same tables, columns, checks, indexes, documents and triggers, so the
// backend-neutral suite and the application see no difference. What differs:
//
// - Types: ids are bigint identities, flags boolean, lat/lng double precision. Timestamps
//   stay text in the fixed-width UTC shape of formatTimestamp(), with COLLATE "C" so they
//   compare (and are indexed) byte by byte whatever the database's locale.
// - users.email is citext (SQLite: COLLATE NOCASE).
// - The version bump is a BEFORE UPDATE trigger that edits NEW (SQLite needs a nested
//   UPDATE), so the capture trigger sees the real OLD row: a write by another program that
//   changes rider_id without touching version still names the previous rider.
// - Change documents are text made by json_build_object(...)::text: same keys, order and
//   values as SQLite's json_object, but PostgreSQL writes `"key" : value` with spaces.
// - seq is assigned at commit, below.
//
// The change stream's seq
// -----------------------
// SQLite numbers changes with AUTOINCREMENT inside the transaction; that is commit order
// only because SQLite has one writer at a time. PostgreSQL has concurrent writers (several
// Brigade nodes, psql sessions): a sequence (bigserial) hands values out at insert time and
// the transactions then commit, and become visible, in another order. A reader that has
// seen 12 may see 11 appear later and skip it for good; a rollback leaves a hole. So a
// change gets its seq when its transaction commits:
//
// - changes.id (GENERATED ALWAYS AS IDENTITY) is insertion order only. changes.seq is NULL
//   until commit. stream_head is one row holding the last seq handed out (0 at first).
// - changes_number_at_commit is a constraint trigger, AFTER INSERT ON changes DEFERRABLE
//   INITIALLY DEFERRED FOR EACH ROW: its firings run at COMMIT, after the transaction's own
//   statements, in insertion order. The first firing counts the transaction's unnumbered
//   rows (under MVCC no other transaction's unnumbered rows are visible: they are
//   uncommitted, or were numbered before they committed), n of them, runs
//   `UPDATE stream_head SET seq = seq + n RETURNING seq` (= head), gives its rows
//   head-n+1 .. head in id order and calls pg_notify('brigade_changes', head). Later
//   firings of the same transaction find their own row numbered already and return.
//   Since migration 10 it is queued only for rows inserted unnumbered (WHEN NEW.seq IS
//   NULL): Brigade's writer inserts its new orders' changes numbered, with the same UPDATE
//   of the head, in a statement sent with its COMMIT (recorded_changes.hpp).
// - That UPDATE row-locks stream_head until the transaction has ended, and PostgreSQL
//   releases a transaction's locks only once its commit is visible to every new snapshot.
//   The next committer waits on the lock inside its own commit, then (READ COMMITTED)
//   updates the new head: its seqs are higher and become visible later. So commit order is
//   seq order, and a snapshot that sees a seq sees every lower one. A transaction that
//   fails after numbering (a deferred foreign key checked later in its COMMIT, a crash)
//   rolls the increment back with its rows: no gap. The head survives retention emptying
//   `changes`, so a seq is never reused.
// - The lock is taken at commit only, not at the first write: a long transaction (an
//   operator's open psql session) stalls nobody until it commits, and the lock is held for
//   one commit (the numbering UPDATE, the notify queue, the WAL flush). Change-producing
//   commits are serialised by it (as they are by NOTIFY's own commit-order lock): batch
//   writes per transaction.
// - Notifications are queued after the deferred triggers, still under the lock, so LISTENers
//   get heads in increasing order. A notification is a hint to read; the table is the truth.
//   Since migration 9 it also carries the changes it announces when they fit (a node takes
//   them from there instead of reading them back, only as a run without a hole).
// - The first firing collects its rows' ids through changes_unnumbered (id) WHERE seq IS
//   NULL from the firing row's id, not from its left end: the index keeps an entry for the
//   first version of every numbered row until vacuum removes it, and those lie below. The
//   first firing is for the transaction's first surviving row (events of rolled-back
//   savepoints are dropped with their rows), so its rows are all at or above it. It then
//   numbers them one by one by primary key (migration 6: a join back to `changes` could be
//   planned through the partial index's dead entries). Later firings cost one primary-key
//   lookup. A row found numbered already (possible only if another program committed
//   unnumbered rows with triggers disabled) fails the commit: never a gap.
//
// Consequences. Writers must use READ COMMITTED (the default): in REPEATABLE READ or
// SERIALIZABLE the head UPDATE fails with a serialization failure (40001) whenever another
// transaction numbered changes after the snapshot was taken, and the transaction must be
// retried. SET CONSTRAINTS ALL IMMEDIATE numbers at the end of each statement instead and
// holds the lock from there to the commit: still correct, only slower for everyone.
// PREPARE TRANSACTION is refused (pg_notify). Each change is written twice (inserted, then
// numbered: not a HOT update, seq is indexed), leaving a dead tuple for vacuum; the seq and
// audience indexes are partial on `seq IS NOT NULL`, so the first version is indexed only
// by the primary key and changes_unnumbered.

std::string replaceAll(std::string s, std::string_view from, std::string_view to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

// JSON documents (store/documents.hpp) built from a row @R@ (NEW or OLD in triggers, the
// view's alias), with the keys and values of SQLite's kItemJson / kOrderJson / kCategoryJson.
const char* kItemJson =
    "json_build_object('id', @R@.id, 'category_id', @R@.category_id, 'name', @R@.name, "
    "'description', @R@.description, 'price_cents', @R@.price_cents, "
    "'available', @R@.available, 'position', @R@.position, 'version', @R@.version, "
    "'created_at', @R@.created_at, 'updated_at', @R@.updated_at)";
// Lines by `line` and history by `n` (SQLite: primary-key order), [] when there are none.
const char* kOrderJson =
    "json_build_object('id', @R@.id, 'customer_id', @R@.customer_id, "
    "'customer_name', (SELECT u.name FROM users AS u WHERE u.id = @R@.customer_id), "
    "'items', COALESCE((SELECT json_agg(json_build_object('item_id', i.item_id, "
    "'name', i.name, 'unit_price_cents', i.unit_price_cents, 'quantity', i.quantity, "
    "'notes', i.notes) ORDER BY i.line) FROM order_items AS i WHERE i.order_id = @R@.id), "
    "'[]'::json), "
    "'subtotal_cents', @R@.subtotal_cents, 'delivery_fee_cents', @R@.delivery_fee_cents, "
    "'total_cents', @R@.total_cents, 'status', @R@.status, "
    "'status_reason', @R@.status_reason, 'rider_id', @R@.rider_id, "
    "'prep_minutes', @R@.prep_minutes, "
    "'delivery', json_build_object('address', @R@.delivery_address, "
    "'lat', @R@.delivery_lat, 'lng', @R@.delivery_lng), "
    "'notes', @R@.notes, 'created_at', @R@.created_at, 'updated_at', @R@.updated_at, "
    "'version', @R@.version, "
    "'history', COALESCE((SELECT json_agg(json_build_object('status', h.status, "
    "'at', h.at, 'by', h.by_user) ORDER BY h.n) FROM order_history AS h "
    "WHERE h.order_id = @R@.id), '[]'::json))";
const char* kCategoryJson =
    "json_build_object('id', @R@.id, 'name', @R@.name, 'position', @R@.position, "
    "'version', @R@.version, 'created_at', @R@.created_at, 'updated_at', @R@.updated_at)";

// From migration 3 (SQLite's 6): items carry their option groups and allergens, order lines
// their options.
const std::string kItemJson3 =
    std::string(kItemJson).substr(0, std::string(kItemJson).size() - 1) +
    ", 'option_groups', @R@.option_groups::json, 'allergens', @R@.allergens::json)";
const std::string kOrderJson3 = [] {
  std::string doc = kOrderJson;
  const std::string line = "'notes', i.notes)";
  doc.replace(doc.find(line), line.size(), "'notes', i.notes, 'options', i.options::json)");
  return doc;
}();

// From migration 4 (SQLite's 7): payment, delivery code and attempts, delivery distance.
const std::string kOrderJson4 = [] {
  std::string doc = kOrderJson3;
  const std::string lng = "'lng', @R@.delivery_lng), ";
  doc.replace(doc.find(lng), lng.size(),
              "'lng', @R@.delivery_lng, 'distance_m', @R@.delivery_distance_m), "
              "'payment', json_build_object('method', @R@.payment_method, "
              "'status', @R@.payment_status), "
              "'delivery_code', @R@.delivery_code, 'code_attempts', @R@.code_attempts, ");
  return doc;
}();

// From migration 5 (SQLite's 8): the rider's offer and who declined.
const std::string kOrderJson5 = [] {
  std::string doc = kOrderJson4;
  const std::string attempts = "'code_attempts', @R@.code_attempts, ";
  doc.replace(doc.find(attempts), attempts.size(),
              attempts +
                  "'offer_expires_at', @R@.offer_expires_at, "
                  "'rider_accepted_at', @R@.rider_accepted_at, "
                  "'declined_rider_ids', @R@.declined_rider_ids::json, ");
  return doc;
}();

// The restaurant's settings with the record's version and time (SQLite: json_set).
const char* kRestaurantJson =
    "(@R@.settings::jsonb || jsonb_build_object('version', @R@.version, "
    "'updated_at', @R@.updated_at))";

std::string doc(const char* tmpl, std::string_view row) {
  return "(" + replaceAll(tmpl, "@R@", row) + ")::text";
}

// Capture of a menu table: one change per insert, update (the version moved: always, given
// the bump trigger) and delete, in the writer's transaction.
// The capture function of a menu-like table (one change per insert, update and delete, in
// the writer's transaction); CREATE OR REPLACE, so a later migration can give it a new
// document.
std::string menuCaptureFunction(std::string_view table, const char* json) {
  std::string sql = R"SQL(
CREATE OR REPLACE FUNCTION brigade_capture_@T@() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO changes(collection, op, record_id, document)
    VALUES ('@T@', 'insert', NEW.id, @DOC_NEW@);
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO changes(collection, op, record_id, document)
    VALUES ('@T@', 'update', NEW.id, @DOC_NEW@);
  ELSE
    INSERT INTO changes(collection, op, record_id, document)
    VALUES ('@T@', 'delete', OLD.id, @DOC_OLD@);
  END IF;
  RETURN NULL;
END
$fn$;
)SQL";
  sql = replaceAll(sql, "@DOC_NEW@", doc(json, "NEW"));
  sql = replaceAll(sql, "@DOC_OLD@", doc(json, "OLD"));
  return replaceAll(sql, "@T@", table);
}

// Capture of a menu table: its function, the version bump and the three capture triggers.
std::string menuTriggers(std::string_view table, const char* json) {
  std::string sql = R"SQL(
CREATE TRIGGER @T@_bump_version BEFORE UPDATE ON @T@
  FOR EACH ROW WHEN (NEW.version = OLD.version) EXECUTE FUNCTION brigade_bump_version();
CREATE TRIGGER @T@_capture_insert AFTER INSERT ON @T@
  FOR EACH ROW EXECUTE FUNCTION brigade_capture_@T@();
CREATE TRIGGER @T@_capture_update AFTER UPDATE ON @T@
  FOR EACH ROW WHEN (NEW.version IS DISTINCT FROM OLD.version)
  EXECUTE FUNCTION brigade_capture_@T@();
CREATE TRIGGER @T@_capture_delete AFTER DELETE ON @T@
  FOR EACH ROW EXECUTE FUNCTION brigade_capture_@T@();
)SQL";
  return menuCaptureFunction(table, json) + replaceAll(sql, "@T@", table);
}

// The orders' capture function for an order document template: the change names its
// customer and rider (audience columns), and an update the rider the order was just taken
// from (unassigned or reassigned). CREATE OR REPLACE, as above.
std::string ordersCaptureFunction(const char* json) {
  std::string sql = R"SQL(
CREATE OR REPLACE FUNCTION brigade_capture_orders() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO changes(collection, op, record_id, document, customer_id, rider_id)
    VALUES ('orders', 'insert', NEW.id, @ORDER_DOC_NEW@, NEW.customer_id, NEW.rider_id);
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO changes(collection, op, record_id, document, customer_id, rider_id,
                        previous_rider_id)
    VALUES ('orders', 'update', NEW.id, @ORDER_DOC_NEW@, NEW.customer_id, NEW.rider_id,
            CASE WHEN OLD.rider_id IS DISTINCT FROM NEW.rider_id THEN OLD.rider_id END);
  ELSE
    INSERT INTO changes(collection, op, record_id, document, customer_id, rider_id)
    VALUES ('orders', 'delete', OLD.id, @ORDER_DOC_OLD@, OLD.customer_id, OLD.rider_id);
    RETURN OLD;  -- BEFORE DELETE: NULL would cancel the delete.
  END IF;
  RETURN NULL;
END
$fn$;
)SQL";
  sql = replaceAll(sql, "@ORDER_DOC_NEW@", doc(json, "NEW"));
  return replaceAll(sql, "@ORDER_DOC_OLD@", doc(json, "OLD"));
}

std::string migration1() {
  std::string sql = R"SQL(
CREATE EXTENSION IF NOT EXISTS citext;

-- The app's clock shape (formatTimestamp): fixed-width UTC text with milliseconds.
CREATE FUNCTION brigade_now() RETURNS text LANGUAGE sql VOLATILE PARALLEL SAFE AS
$fn$ SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $fn$;

CREATE TABLE meta(key text PRIMARY KEY, value text NOT NULL);
-- The stream's identity: a seq only means something together with this value.
INSERT INTO meta(key, value) VALUES ('epoch', replace(gen_random_uuid()::text, '-', ''));

CREATE TABLE users(
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  email citext NOT NULL UNIQUE,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin','customer','rider')),
  password_hash text NOT NULL,
  created_at text COLLATE "C" NOT NULL DEFAULT brigade_now(),
  version bigint NOT NULL DEFAULT 1);

CREATE TABLE tokens(
  hash text PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at text COLLATE "C" NOT NULL,
  expires_at text COLLATE "C" NOT NULL,
  revoked_at text COLLATE "C");
CREATE INDEX tokens_by_user ON tokens(user_id);

CREATE TABLE riders(
  user_id bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  online boolean NOT NULL DEFAULT false,
  lat double precision,
  lng double precision,
  located_at text COLLATE "C",
  version bigint NOT NULL DEFAULT 1);

CREATE TABLE menu_categories(
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  position bigint NOT NULL DEFAULT 0,
  version bigint NOT NULL DEFAULT 1,
  created_at text COLLATE "C" NOT NULL DEFAULT brigade_now(),
  updated_at text COLLATE "C" NOT NULL DEFAULT brigade_now());

CREATE TABLE menu_items(
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  category_id bigint NOT NULL REFERENCES menu_categories(id) ON DELETE RESTRICT,
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  price_cents bigint NOT NULL CHECK (price_cents >= 0),
  available boolean NOT NULL DEFAULT true,
  position bigint NOT NULL DEFAULT 0,
  version bigint NOT NULL DEFAULT 1,
  created_at text COLLATE "C" NOT NULL DEFAULT brigade_now(),
  updated_at text COLLATE "C" NOT NULL DEFAULT brigade_now());
CREATE INDEX menu_items_by_category ON menu_items(category_id, position);

CREATE TABLE orders(
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES users(id),
  subtotal_cents bigint NOT NULL CHECK (subtotal_cents >= 0),
  delivery_fee_cents bigint NOT NULL CHECK (delivery_fee_cents >= 0),
  total_cents bigint NOT NULL CHECK (total_cents >= 0),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN
    ('pending','accepted','preparing','ready','picked_up','delivered','rejected','cancelled')),
  status_reason text,
  rider_id bigint REFERENCES users(id),
  prep_minutes bigint CHECK (prep_minutes IS NULL OR prep_minutes >= 0),
  delivery_address text NOT NULL,
  delivery_lat double precision,
  delivery_lng double precision,
  notes text NOT NULL DEFAULT '',
  created_at text COLLATE "C" NOT NULL DEFAULT brigade_now(),
  updated_at text COLLATE "C" NOT NULL DEFAULT brigade_now(),
  version bigint NOT NULL DEFAULT 1);
CREATE INDEX orders_by_customer ON orders(customer_id, id);
CREATE INDEX orders_by_rider ON orders(rider_id, id);
CREATE INDEX orders_by_status ON orders(status, id);
CREATE INDEX orders_by_created ON orders(created_at);

-- Lines and history are written before their order row (the app takes the id with
-- nextval(pg_get_serial_sequence('orders', 'id')); the foreign key is checked at commit),
-- so the order's insert trigger already sees them in its document. ON DELETE CASCADE
-- itself is never deferred: it runs at the end of the DELETE statement.
CREATE TABLE order_items(
  order_id bigint NOT NULL
    REFERENCES orders(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  line bigint NOT NULL,
  item_id bigint NOT NULL,
  name text NOT NULL,
  unit_price_cents bigint NOT NULL CHECK (unit_price_cents >= 0),
  quantity bigint NOT NULL CHECK (quantity BETWEEN 1 AND 99),
  notes text NOT NULL DEFAULT '',
  PRIMARY KEY (order_id, line));

CREATE TABLE order_history(
  order_id bigint NOT NULL
    REFERENCES orders(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  n bigint NOT NULL,
  status text NOT NULL,
  at text COLLATE "C" NOT NULL,
  by_user bigint,
  PRIMARY KEY (order_id, n));

CREATE TABLE idempotency_keys(
  customer_id bigint NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  order_id bigint NOT NULL,
  created_at text COLLATE "C" NOT NULL,
  PRIMARY KEY (customer_id, key));
CREATE INDEX idempotency_keys_by_created ON idempotency_keys(created_at);

-- The stream. id: insertion order; seq: commit order, NULL until the writer commits (see
-- the top of schema.cpp). customer_id / rider_id / previous_rider_id: the audience of an
-- order change (SQLite's migrations 2 and 4), NULL for menu changes.
CREATE TABLE changes(
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  seq bigint,
  collection text NOT NULL,
  op text NOT NULL CHECK (op IN ('insert','update','delete')),
  record_id bigint NOT NULL,
  document text NOT NULL,
  at text COLLATE "C" NOT NULL DEFAULT brigade_now(),
  previous_rider_id bigint,
  customer_id bigint,
  rider_id bigint);
-- Partial on seq: a row's first (unnumbered) version is indexed only by the primary key and
-- changes_unnumbered; every read asks for seq > x, which implies seq IS NOT NULL.
CREATE UNIQUE INDEX changes_by_seq ON changes(seq) WHERE seq IS NOT NULL;
CREATE INDEX changes_unnumbered ON changes(id) WHERE seq IS NULL;
CREATE INDEX changes_by_customer ON changes(customer_id, seq)
  WHERE customer_id IS NOT NULL AND seq IS NOT NULL;
CREATE INDEX changes_by_rider ON changes(rider_id, seq)
  WHERE rider_id IS NOT NULL AND seq IS NOT NULL;
CREATE INDEX changes_by_previous_rider ON changes(previous_rider_id, seq)
  WHERE previous_rider_id IS NOT NULL AND seq IS NOT NULL;
-- Everyone's changes (the menu). An index-only scan needs no `collection` column: the
-- predicate is implied by the query's.
CREATE INDEX changes_public ON changes(seq) WHERE collection <> 'orders' AND seq IS NOT NULL;

-- The last seq handed out; its row lock orders the commits that produce changes.
CREATE TABLE stream_head(
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  seq bigint NOT NULL);
INSERT INTO stream_head(seq) VALUES (0);

CREATE FUNCTION brigade_number_changes() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  pending bigint;
  head bigint;
  numbered bigint;
BEGIN
  -- Numbered already by an earlier firing of this transaction (or deleted by it).
  PERFORM 1 FROM changes WHERE id = NEW.id AND seq IS NULL;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  SELECT count(*) INTO pending FROM changes WHERE seq IS NULL AND id >= NEW.id;
  -- Locks the head until this transaction has ended (and its commit is visible).
  UPDATE stream_head SET seq = seq + pending RETURNING seq INTO head;
  IF head IS NULL THEN
    RAISE EXCEPTION 'brigade: stream_head has no row';
  END IF;
  UPDATE changes AS c SET seq = head - pending + p.rn
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn
            FROM changes WHERE seq IS NULL AND id >= NEW.id) AS p
   WHERE c.id = p.id AND c.seq IS NULL;
  GET DIAGNOSTICS numbered = ROW_COUNT;
  IF numbered <> pending THEN
    RAISE EXCEPTION 'brigade: % changes to number, % numbered', pending, numbered;
  END IF;
  PERFORM pg_notify('brigade_changes', head::text);
  RETURN NULL;
END
$fn$;
CREATE CONSTRAINT TRIGGER changes_number_at_commit AFTER INSERT ON changes
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION brigade_number_changes();

-- Reads use the view; the triggers build the same document straight from NEW/OLD.
CREATE VIEW order_documents AS SELECT o.id AS id, @ORDER_DOC_O@ AS document FROM orders AS o;

-- A write that left version unchanged (another program's) gets its +1 and updated_at here.
CREATE FUNCTION brigade_bump_version() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  NEW.version := OLD.version + 1;
  NEW.updated_at := brigade_now();
  RETURN NEW;
END
$fn$;

@CAPTURE_ORDERS@
CREATE TRIGGER orders_bump_version BEFORE UPDATE ON orders
  FOR EACH ROW WHEN (NEW.version = OLD.version) EXECUTE FUNCTION brigade_bump_version();
CREATE TRIGGER orders_capture_insert AFTER INSERT ON orders
  FOR EACH ROW EXECUTE FUNCTION brigade_capture_orders();
CREATE TRIGGER orders_capture_update AFTER UPDATE ON orders
  FOR EACH ROW WHEN (NEW.version IS DISTINCT FROM OLD.version)
  EXECUTE FUNCTION brigade_capture_orders();
-- BEFORE: the cascade has not yet removed the lines and history the document shows.
CREATE TRIGGER orders_capture_delete BEFORE DELETE ON orders
  FOR EACH ROW EXECUTE FUNCTION brigade_capture_orders();
)SQL";
  sql = replaceAll(sql, "@ORDER_DOC_O@", doc(kOrderJson, "o"));
  sql = replaceAll(sql, "@CAPTURE_ORDERS@", ordersCaptureFunction(kOrderJson));
  sql += menuTriggers("menu_categories", kCategoryJson);
  sql += menuTriggers("menu_items", kItemJson);
  return sql;
}

// SQLite's migration 5: the restaurant's settings, one row created before its triggers.
std::string migration2() {
  return R"SQL(
CREATE TABLE restaurant(
  id bigint PRIMARY KEY CHECK (id = 1),
  settings text NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings::jsonb) = 'object'),
  version bigint NOT NULL DEFAULT 1,
  created_at text COLLATE "C" NOT NULL DEFAULT brigade_now(),
  updated_at text COLLATE "C" NOT NULL DEFAULT brigade_now());
INSERT INTO restaurant(id) VALUES (1);
)SQL" + menuTriggers("restaurant", kRestaurantJson);
}

// SQLite's migration 6: item options and allergens, order lines' chosen options, the id
// space of groups and options; the documents gain them (view and capture functions again).
std::string migration3() {
  std::string sql = R"SQL(
ALTER TABLE menu_items ADD COLUMN option_groups text NOT NULL DEFAULT '[]'
  CHECK (json_typeof(option_groups::json) = 'array');
ALTER TABLE menu_items ADD COLUMN allergens text NOT NULL DEFAULT '[]'
  CHECK (json_typeof(allergens::json) = 'array');
ALTER TABLE order_items ADD COLUMN options text NOT NULL DEFAULT '[]'
  CHECK (json_typeof(options::json) = 'array');
CREATE TABLE menu_option_ids(id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  claimed integer NOT NULL);
CREATE OR REPLACE VIEW order_documents AS SELECT o.id AS id, @ORDER_DOC_O@ AS document
  FROM orders AS o;
)SQL";
  sql = replaceAll(sql, "@ORDER_DOC_O@", doc(kOrderJson3.c_str(), "o"));
  return sql + ordersCaptureFunction(kOrderJson3.c_str()) +
         menuCaptureFunction("menu_items", kItemJson3.c_str());
}

// SQLite's migration 7: payment, proof of delivery and the delivery distance.
std::string migration4() {
  std::string sql = R"SQL(
ALTER TABLE orders ADD COLUMN payment_method text NOT NULL DEFAULT 'cash'
  CHECK (payment_method IN ('cash', 'card'));
ALTER TABLE orders ADD COLUMN payment_status text NOT NULL DEFAULT 'unpaid'
  CHECK (payment_status IN ('unpaid', 'paid'));
ALTER TABLE orders ADD COLUMN delivery_code text;
ALTER TABLE orders ADD COLUMN code_attempts bigint NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN delivery_distance_m bigint;
CREATE OR REPLACE VIEW order_documents AS SELECT o.id AS id, @ORDER_DOC_O@ AS document
  FROM orders AS o;
)SQL";
  sql = replaceAll(sql, "@ORDER_DOC_O@", doc(kOrderJson4.c_str(), "o"));
  return sql + ordersCaptureFunction(kOrderJson4.c_str());
}

// SQLite's migration 8: rider offers.
std::string migration5() {
  std::string sql = R"SQL(
ALTER TABLE orders ADD COLUMN offer_expires_at text COLLATE "C";
ALTER TABLE orders ADD COLUMN rider_accepted_at text COLLATE "C";
ALTER TABLE orders ADD COLUMN declined_rider_ids text NOT NULL DEFAULT '[]'
  CHECK (json_typeof(declined_rider_ids::json) = 'array');
CREATE INDEX orders_by_offer_expiry ON orders(offer_expires_at)
  WHERE offer_expires_at IS NOT NULL;
CREATE OR REPLACE VIEW order_documents AS SELECT o.id AS id, @ORDER_DOC_O@ AS document
  FROM orders AS o;
)SQL";
  sql = replaceAll(sql, "@ORDER_DOC_O@", doc(kOrderJson5.c_str(), "o"));
  return sql + ordersCaptureFunction(kOrderJson5.c_str());
}

// The numbering at commit, by primary key. The first version joined the transaction's
// rows back to `changes` in one UPDATE with `seq IS NULL` on both sides; its cached generic
// plan could read the joined side through changes_unnumbered by its predicate alone, i.e.
// every entry that index still holds for rows numbered since the last vacuum (thousands
// under load: half of PostgreSQL's CPU per order). Now the rows' ids are collected once
// from the firing row up (the partial index, from that id) and each row is numbered by its
// primary key, a plan that cannot degrade as dead entries pile up.
std::string migration6() {
  return R"SQL(
CREATE OR REPLACE FUNCTION brigade_number_changes() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  ids bigint[];
  pending bigint;
  head bigint;
  n bigint;
  change_id bigint;
BEGIN
  -- Numbered already by an earlier firing of this transaction (or deleted by it).
  PERFORM 1 FROM changes WHERE id = NEW.id AND seq IS NULL;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  SELECT array_agg(id ORDER BY id) INTO ids FROM changes WHERE seq IS NULL AND id >= NEW.id;
  pending := cardinality(ids);
  -- Locks the head until this transaction has ended (and its commit is visible).
  UPDATE stream_head SET seq = seq + pending RETURNING seq INTO head;
  IF head IS NULL THEN
    RAISE EXCEPTION 'brigade: stream_head has no row';
  END IF;
  n := head - pending;
  FOREACH change_id IN ARRAY ids LOOP
    n := n + 1;
    UPDATE changes SET seq = n WHERE id = change_id AND seq IS NULL;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'brigade: change % was numbered by another transaction', change_id;
    END IF;
  END LOOP;
  PERFORM pg_notify('brigade_changes', head::text);
  RETURN NULL;
END
$fn$;
)SQL";
}

// SQLite's migration 9. The offer pass asks for expired offers oldest order first
// (`offer_expires_at < $1 ORDER BY id LIMIT $2`); with the expiry index, the cached generic
// plan walked orders_pkey and filtered every order (6.5 ms at 30,000 orders, each second on
// every node). Indexed by id over the offered orders only: 0.04 ms.
std::string migration7() {
  return R"SQL(
DROP INDEX orders_by_offer_expiry;
CREATE INDEX orders_offered ON orders(id) WHERE offer_expires_at IS NOT NULL;
)SQL";
}

// Building an order's document in the insert trigger (PL/pgSQL, three subqueries, the
// executor started for each) was a third of a writer's CPU per order. Brigade's writer
// now inserts a new order's change itself, in the order's own statement, with the
// document it built for the REST answer (store/documents.cpp; the suite checks both
// documents are equal). Its write transactions begin with SET LOCAL brigade.capture =
// 'writer', and the insert trigger skips rows inserted in them; every other program's
// insert (psql, an import) is captured as before. The WHEN clause is evaluated as the row
// is inserted, not at the end of the statement.
std::string migration8() {
  return R"SQL(
DROP TRIGGER orders_capture_insert ON orders;
CREATE TRIGGER orders_capture_insert AFTER INSERT ON orders
  FOR EACH ROW WHEN (current_setting('brigade.capture', true) IS DISTINCT FROM 'writer')
  EXECUTE FUNCTION brigade_capture_orders();
)SQL";
}

// Notifications carry the changes they announce when they fit (store/postgres/
// notified_changes.hpp has the payload's shape): every node hears every commit, and each
// then read the commit's changes back (three reads per commit on three nodes, most of what
// the stream cost PostgreSQL). The numbering is migration 6's; only the payload changed.
// Under NOTIFY's 8000-byte limit, with room to spare; a larger batch sends the head alone,
// and the nodes read it as before.
std::string migration9() {
  std::string sql = R"SQL(
CREATE OR REPLACE FUNCTION brigade_number_changes() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  ids bigint[];
  pending bigint;
  head bigint;
  n bigint;
  change_id bigint;
  c changes%ROWTYPE;
  body text;
BEGIN
  -- Numbered already by an earlier firing of this transaction (or deleted by it).
  PERFORM 1 FROM changes WHERE id = NEW.id AND seq IS NULL;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  SELECT array_agg(id ORDER BY id) INTO ids FROM changes WHERE seq IS NULL AND id >= NEW.id;
  pending := cardinality(ids);
  -- Locks the head until this transaction has ended (and its commit is visible).
  UPDATE stream_head SET seq = seq + pending RETURNING seq INTO head;
  IF head IS NULL THEN
    RAISE EXCEPTION 'brigade: stream_head has no row';
  END IF;
  n := head - pending;
  body := '';
  FOREACH change_id IN ARRAY ids LOOP
    n := n + 1;
    UPDATE changes SET seq = n WHERE id = change_id AND seq IS NULL
      RETURNING * INTO c;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'brigade: change % was numbered by another transaction', change_id;
    END IF;
    -- Built while numbering (a query of its own cost more than the numbering).
    IF body IS NOT NULL THEN
      body := body || n || E'\t' || c.collection || E'\t' || c.op || E'\t' || c.record_id ||
              E'\t' || c.at || E'\t' || coalesce(c.previous_rider_id::text, '') || E'\t' ||
              octet_length(c.document) || E'\n' || c.document;
      IF octet_length(body) > @MAX_BODY@ THEN
        body := NULL;  -- the head alone
      END IF;
    END IF;
  END LOOP;
  IF body IS NOT NULL THEN
    PERFORM pg_notify('brigade_changes', head::text || E'\n' || body);
  ELSE
    PERFORM pg_notify('brigade_changes', head::text);
  END IF;
  RETURN NULL;
END
$fn$;
)SQL";
  return replaceAll(sql, "@MAX_BODY@", std::to_string(kMaxNotifiedBodyBytes));
}

// A writer inserts a new order's change numbered, in the statement sent with its COMMIT
// (recorded_changes.hpp): the numbering trigger is queued only for rows that need it. A
// constraint trigger's WHEN is evaluated at the insert, so a numbered row costs no firing.
std::string migration10() {
  return R"SQL(
DROP TRIGGER changes_number_at_commit ON changes;
CREATE CONSTRAINT TRIGGER changes_number_at_commit AFTER INSERT ON changes
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.seq IS NULL)
  EXECUTE FUNCTION brigade_number_changes();
)SQL";
}

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kMigrations{
      {1, "initial schema with change capture", migration1()},
      {2, "restaurant settings", migration2()},
      {3, "item options and allergens", migration3()},
      {4, "payment, delivery code and distance", migration4()},
      {5, "rider offers", migration5()},
      {6, "number changes by primary key", migration6()},
      {7, "offered orders indexed by id", migration7()},
      {8, "new orders captured by the writer", migration8()},
      {9, "notifications carry the changes", migration9()},
      {10, "writers insert their changes numbered", migration10()},
  };
  return kMigrations;
}

int latestSchemaVersion() {
  return migrations().back().version;
}

}  // namespace brigade::store::postgres
