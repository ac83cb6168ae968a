#pragma once

#include <cstdint>
#include <string>

#include "core/result.hpp"
#include "store/change.hpp"
#include "store/change_hub.hpp"
#include "store/sql/connection.hpp"

namespace brigade::store::sql {

// The few things the shared domain operations cannot say in SQL common to every backend:
// only SQL text differs, so a backend fills these in and the reading is shared.
struct DialectSql {
  // Opens the writer's transaction (SQLite: BEGIN IMMEDIATE, taking the write lock at once).
  const char* begin_write = "BEGIN";
  // Opens a read-only transaction whose statements all see one snapshot.
  const char* begin_read = "BEGIN";
  // One row, one column: an order id not yet used, taken before the order's lines and
  // history are written (the capture trigger on orders reads them to build the document).
  std::string next_order_id;
  // One row: the first retained seq (NULL when none) and the newest seq ever assigned.
  std::string stream_bounds;
  // The reads of the changes an audience may see (docs/STORE.md, "Reading by audience"):
  // ?1 the seq to read after, ?2 the limit, ?3 the user id (not for all). Columns: seq,
  // collection, op, record_id, document, at, previous_rider_id.
  std::string changes_all;
  std::string changes_customer;
  std::string changes_rider;
  // INSERTs in WITH (PostgreSQL): an order's lines, history and row go in one statement.
  bool writable_ctes = false;
  // The writer records a new order's change itself, with the document it built
  // (PostgreSQL: the capture trigger's document was the largest part of an order's cost
  // there), and the commit writes it numbered (Connection::recordAtCommit): no trigger
  // numbers it afterwards. begin_write must then mark the transaction so the orders insert
  // trigger skips it; the trigger stays for every other program's inserts. Needs
  // writable_ctes.
  bool writer_captures_new_orders = false;
  // Taken before counting recent orders against a cap, held to the end of the transaction
  // (empty: writes are serialised already, as on SQLite).
  std::string admission_lock;
};

class Dialect {
 public:
  explicit Dialect(DialectSql sql) : sql_(std::move(sql)) {}

  const char* beginWrite() const { return sql_.begin_write; }
  const char* beginRead() const { return sql_.begin_read; }
  // The SELECT giving an unused order id, to be used as a scalar subquery.
  const std::string& nextOrderIdSql() const { return sql_.next_order_id; }
  bool writableCtes() const { return sql_.writable_ctes; }
  bool writerCapturesNewOrders() const { return sql_.writer_captures_new_orders; }
  const std::string& admissionLockSql() const { return sql_.admission_lock; }
  // The first retained seq and the newest seq ever assigned, as the connection sees them.
  Result<StreamBounds> streamBounds(Connection& c) const;
  const std::string& changesQuery(ChangeAudience::Kind kind) const;

 private:
  DialectSql sql_;
};

}  // namespace brigade::store::sql
