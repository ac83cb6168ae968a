#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "store/postgres/connection.hpp"
#include "store/sql/connection.hpp"

namespace brigade::store::postgres {

// The statement a writer's COMMIT is sent with when its transaction recorded changes
// (sql::RecordedChange: a new order's change, whose document the writer built). One
// statement numbers them and inserts them numbered, and notifies with the payload the
// numbering trigger would have sent (notified_changes.hpp): the trigger numbers a change
// by updating it after its insert, two writes of the row and most of an order's cost in
// PostgreSQL. It takes the stream head's row lock as the trigger does, just before COMMIT
// (the two travel together), and changes other statements of the transaction captured are
// numbered by the trigger in the COMMIT after these. Were the head's row missing, the
// rows would go in unnumbered and the trigger would refuse the commit, as it does for its own.
// Returns the connection's cached statement, bound.
Statement& recordedChangesStatement(Connection& c, const std::vector<sql::RecordedChange>& changes);

// A PostgreSQL array literal of texts for unnest(): {"a","b\"c",NULL}. Each element is
// quoted with `"` and `\` escaped, so any text (braces, commas, newlines) goes through.
std::string textArrayLiteral(const std::vector<std::optional<std::string_view>>& values);

}  // namespace brigade::store::postgres
