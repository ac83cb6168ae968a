#include "store/postgres/placeholders.hpp"

#include <algorithm>
#include <cctype>

namespace brigade::store::postgres {

Rewritten rewritePlaceholders(std::string_view sql) {
  Rewritten out;
  out.sql.reserve(sql.size() + 8);
  char quote = 0;  // the quote we are inside, if any
  for (size_t i = 0; i < sql.size(); ++i) {
    const char ch = sql[i];
    if (quote) {
      out.sql += ch;
      if (ch == quote) quote = 0;  // a doubled quote re-enters at once: same result
      continue;
    }
    if (ch == '\'' || ch == '"') {
      quote = ch;
      out.sql += ch;
      continue;
    }
    if (ch != '?') {
      out.sql += ch;
      continue;
    }
    size_t j = i + 1;
    int n = 0;
    while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j])) && n < 100000) {
      n = n * 10 + (sql[j] - '0');
      ++j;
    }
    if (j == i + 1) n = out.params + 1;
    out.params = std::max(out.params, n);
    out.sql += '$';
    out.sql += std::to_string(n);
    i = j - 1;
  }
  return out;
}

}  // namespace brigade::store::postgres
