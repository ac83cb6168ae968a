#include "store/postgres/recorded_changes.hpp"

#include "store/postgres/notified_changes.hpp"

namespace brigade::store::postgres {
namespace {

// ?1 how many, ?2..?7 the columns as arrays, ?8 the payload's limit. The seq comes from a
// scalar subquery so that a missing head row leaves the rows unnumbered (see the header).
const std::string kRecordedChangesSql =
    "WITH h AS (UPDATE stream_head SET seq = seq + ?1 RETURNING seq), "
    "c AS (INSERT INTO changes(seq, collection, op, record_id, document, customer_id, rider_id) "
    "SELECT (SELECT seq FROM h) - ?1 + r.n, r.collection, r.op, r.record_id, r.document, "
    "r.customer_id, r.rider_id "
    "FROM unnest(CAST(?2 AS text[]), CAST(?3 AS text[]), CAST(?4 AS bigint[]), "
    "CAST(?5 AS text[]), CAST(?6 AS bigint[]), CAST(?7 AS bigint[])) "
    "WITH ORDINALITY AS r(collection, op, record_id, document, customer_id, rider_id, n) "
    "ORDER BY r.n "
    "RETURNING seq, collection, op, record_id, at, previous_rider_id, document), "
    "b AS (SELECT string_agg(seq || E'\\t' || collection || E'\\t' || op || E'\\t' || "
    "record_id || E'\\t' || at || E'\\t' || coalesce(previous_rider_id::text, '') || E'\\t' || "
    "octet_length(document) || E'\\n' || document, '' ORDER BY seq) AS body FROM c) "
    "SELECT pg_notify('brigade_changes', CASE WHEN octet_length(b.body) <= ?8 "
    "THEN h.seq || E'\\n' || b.body ELSE h.seq::text END) FROM h, b";

std::string numberArrayLiteral(const std::vector<std::optional<int64_t>>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += values[i] ? std::to_string(*values[i]) : "NULL";
  }
  return out + "}";
}

}  // namespace

std::string textArrayLiteral(const std::vector<std::optional<std::string_view>>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    if (!values[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (const char ch : *values[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

Statement& recordedChangesStatement(Connection& c,
                                    const std::vector<sql::RecordedChange>& changes) {
  std::vector<std::optional<std::string_view>> collections, ops, documents;
  std::vector<std::optional<int64_t>> records, customers, riders;
  for (const auto& change : changes) {
    collections.emplace_back(change.collection);
    ops.emplace_back(change.op);
    documents.emplace_back(change.document);
    records.emplace_back(change.record_id);
    customers.push_back(change.customer_id);
    riders.push_back(change.rider_id);
  }
  Statement& st = c.cached(kRecordedChangesSql);
  st.bindInt64(1, static_cast<int64_t>(changes.size()));
  st.bindText(2, textArrayLiteral(collections));
  st.bindText(3, textArrayLiteral(ops));
  st.bindText(4, numberArrayLiteral(records));
  st.bindText(5, textArrayLiteral(documents));
  st.bindText(6, numberArrayLiteral(customers));
  st.bindText(7, numberArrayLiteral(riders));
  st.bindInt64(8, static_cast<int64_t>(kMaxNotifiedBodyBytes));
  return st;
}

}  // namespace brigade::store::postgres
