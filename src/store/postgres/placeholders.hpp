#pragma once

#include <string>
#include <string_view>

namespace brigade::store::postgres {

struct Rewritten {
  std::string sql;
  int params = 0;  // the highest parameter number used
};

// Turns the domain SQL's SQLite-style placeholders into PostgreSQL's: `?N` becomes `$N`,
// and a bare `?` takes the number one above the largest so far (SQLite's own rule).
// Quoted strings and identifiers are left alone.
Rewritten rewritePlaceholders(std::string_view sql);

}  // namespace brigade::store::postgres
