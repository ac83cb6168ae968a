#pragma once

// The database as the command-line tools (`brigade admin`, `brigade print`) open it: the
// server's own store on --db (PostgreSQL, one writer and one reader) or on --data-dir
// (SQLite), alongside a running server or without one. Throws StoreError when it cannot be
// opened (the message is for an operator).

#include <memory>
#include <string>

#include "store/store.hpp"

namespace brigade::server {

// `nodeId` names the tool among the nodes (PostgreSQL signals); `createDataDir` makes a
// missing data folder (admin create on a fresh install) instead of failing to open it.
std::unique_ptr<store::Store> openToolStore(const std::string& db, const std::string& dataDir,
                                            const std::string& nodeId, bool createDataDir);

}  // namespace brigade::server
