#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "store/store.hpp"

namespace brigade::store::postgres {

inline constexpr int kDefaultReaders = 4;
// Writer threads (connections) per node, each with its own group commit. Two overlap the
// round trips of one node's writes; more make smaller batches, and every commit of every
// node waits its turn for stream_head, so on three nodes four each were slower than one
// each (docs/BENCHMARKS.md, "Writers per node"). --db-writers sets it.
inline constexpr int kDefaultWriters = 2;
inline constexpr int kMaxDbWriters = 64;  // --db-writers: each is a connection and a thread
// How often the stream thread checks the stream head when no notification came: the bound
// on the delay when NOTIFY is lost (a reconnect, a pooler in transaction mode).
inline constexpr std::chrono::milliseconds kDefaultPollInterval{100};
inline constexpr size_t kMaxBatch = 256;  // writes per group-commit transaction
// The advisory lock (transaction-scoped) that serialises orders counted against the
// restaurant's cap (max_orders_per_15min) across connections and nodes.
inline constexpr int64_t kAdmissionLockKey = 0x62726967;  // "brig"

struct PostgresOptions {
  std::string url;  // postgres://user@host:port/dbname
  StoreOptions store;
  bool group_commit = true;
  size_t max_batch = kMaxBatch;
  int readers = kDefaultReaders;
  int writers = kDefaultWriters;
  std::chrono::milliseconds poll_interval = kDefaultPollInterval;
  // This node's id: signals carry it so that a node ignores its own (empty: random).
  std::string node_id;
};

// Checks a --db URL without connecting; the error says what is wrong with it.
Result<void> checkUrl(const std::string& url);

// Connects, refuses a malformed URL, an unreachable server or a database of a newer schema
// (or one with tables that are not Brigade's) with a StoreError of one line, applies pending
// migrations (one node at a time, under an advisory lock) and starts the writer, reader,
// stream and listener threads. The design of the change stream on PostgreSQL is in
// docs/STORE.md ("PostgreSQL").
std::unique_ptr<Store> openPostgresStore(PostgresOptions options);

// Gives the database at `url` a new change-stream epoch (after pg_restore put back an older
// copy: clients that saw later changes get `resync`; running nodes notice it when they next
// read the epoch). Returns the new epoch; throws StoreError.
std::string renewPostgresEpoch(const std::string& url);

}  // namespace brigade::store::postgres
