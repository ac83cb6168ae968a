#pragma once

#include <cstdint>
#include <string>

#include "core/result.hpp"
#include "store/change.hpp"
#include "store/change_hub.hpp"
#include "store/sql/connection.hpp"

namespace brigade::store::sql {

// The few things the shared domain operations cannot say in SQL common to every backend.
class Dialect {
 public:
  virtual ~Dialect() = default;

  // Opens the writer's transaction (SQLite: BEGIN IMMEDIATE, taking the write lock at once).
  virtual const char* beginWrite() const = 0;
  // Opens a read-only transaction whose statements all see one snapshot.
  virtual const char* beginRead() const = 0;
  // An order id not yet used, taken before the order's lines and history are written (the
  // capture trigger on orders reads them to build the document).
  virtual Result<int64_t> nextOrderId(Connection& c) const = 0;
  // The first retained seq and the newest seq ever assigned, as the connection sees them.
  virtual Result<StreamBounds> streamBounds(Connection& c) const = 0;
  // The read of the changes `kind` may see (docs/STORE.md, "Reading by audience"): ?1 the seq
  // to read after, ?2 the limit, ?3 the user id (not for kAll). Columns: seq, collection, op,
  // record_id, document, at, previous_rider_id.
  virtual const std::string& changesQuery(ChangeAudience::Kind kind) const = 0;
};

}  // namespace brigade::store::sql
