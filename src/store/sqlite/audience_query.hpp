#pragma once

#include <string>

#include "store/change.hpp"

namespace brigade::store::sqlite {

// The SQL of a read of the change stream by audience (docs/STORE.md, "Reading by
// audience"), in its own header so that a test can check its query plan. Parameters:
// ?1 the seq to read after, ?2 the limit, ?3 the user id (not for Kind::kAll). Columns:
// seq, collection, op, record_id, document, at, previous_rider_id.
std::string audienceQuery(ChangeAudience::Kind kind);

}  // namespace brigade::store::sqlite
