#include "store/sqlite/audience_query.hpp"

#include <string_view>

namespace brigade::store::sqlite {

// The changes an audience may see, after a seq, oldest first. Each kind of change it may
// see has its own index (migration 4); each list is cut at `limit` before the lists are
// merged, and only the page's rows are read from the table, so the cost follows the
// audience's changes, never the length of the stream (docs/STORE.md, "Reading by
// audience"). UNION, not UNION ALL: a hand-written row could sit in two lists.
std::string audienceQuery(ChangeAudience::Kind kind) {
  constexpr std::string_view kColumns =
      "SELECT c.seq, c.collection, c.op, c.record_id, c.document, c.at, c.previous_rider_id ";
  if (kind == ChangeAudience::Kind::kAll) {
    return std::string(kColumns) + "FROM changes AS c WHERE c.seq > ?1 ORDER BY c.seq LIMIT ?2";
  }
  auto seqsWhere = [](std::string_view condition) {
    return "SELECT seq FROM (SELECT seq FROM changes WHERE " + std::string(condition) +
           " AND seq > ?1 ORDER BY seq LIMIT ?2)";
  };
  // The same term as the partial index's WHERE, so that SQLite may use the index.
  std::string seqs = seqsWhere("collection <> 'orders'");
  if (kind == ChangeAudience::Kind::kCustomer) {
    seqs += " UNION " + seqsWhere("customer_id = ?3");
  } else {  // kRider
    seqs +=
        " UNION " + seqsWhere("rider_id = ?3") + " UNION " + seqsWhere("previous_rider_id = ?3");
  }
  // CROSS JOIN keeps the picked seqs as the outer loop: one rowid lookup each.
  return std::string(kColumns) + "FROM (" + seqs +
         " ORDER BY seq LIMIT ?2) AS picked CROSS JOIN changes AS c ON c.seq = picked.seq "
         "ORDER BY picked.seq";
}

}  // namespace brigade::store::sqlite
