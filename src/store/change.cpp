#include "store/change.hpp"

#include <boost/json/parse.hpp>

#include "core/log.hpp"

namespace brigade::store {

std::string_view toString(ChangeOp op) {
  switch (op) {
    case ChangeOp::kInsert:
      return "insert";
    case ChangeOp::kUpdate:
      return "update";
    case ChangeOp::kDelete:
      return "delete";
  }
  return "update";
}

std::optional<ChangeOp> parseChangeOp(std::string_view text) {
  if (text == "insert") return ChangeOp::kInsert;
  if (text == "update") return ChangeOp::kUpdate;
  if (text == "delete") return ChangeOp::kDelete;
  return std::nullopt;
}

ChangePtr makeChange(int64_t seq, std::string collection, std::string_view op, int64_t record_id,
                     std::string document_json, std::string at,
                     std::optional<int64_t> previous_rider_id) {
  auto c = std::make_shared<Change>();
  c->previous_rider_id = previous_rider_id;
  c->seq = seq;
  c->collection = std::move(collection);
  c->op = parseChangeOp(op).value_or(ChangeOp::kUpdate);
  c->record_id = record_id;
  boost::system::error_code ec;
  auto value = boost::json::parse(document_json, ec);
  if (!ec && value.is_object()) {
    c->document = std::move(value.as_object());
  } else {
    // Only a hand-written trigger could produce this; keep the raw text and say so.
    spdlog::warn("store: change {} has a document that is not a JSON object", seq);
  }
  c->document_json = std::move(document_json);
  c->at = std::move(at);
  return c;
}

}  // namespace brigade::store
