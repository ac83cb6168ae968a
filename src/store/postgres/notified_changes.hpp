#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "store/change.hpp"

namespace brigade::store::postgres {

// A notification on the changes channel: the head its commit reached and, when they fit
// in NOTIFY's payload, the changes it numbered (migration 9). Payload:
//
//   <head>                                             (alone: read the changes)
//   <head>\n then for each change, in seq order:
//   <seq>\t<collection>\t<op>\t<record_id>\t<at>\t<previous_rider_id or empty>\t<bytes>\n<document>
//
// where <bytes> is the document's length in bytes: the document is taken by length, so
// nothing in it needs escaping.
// The most a payload's changes may take: NOTIFY refuses 8000 bytes or more, and the head
// and its newline come first.
inline constexpr size_t kMaxNotifiedBodyBytes = 7900;

struct Notification {
  int64_t head = 0;
  std::vector<ChangePtr> changes;  // empty: the payload carried only the head
};

// nullopt: not a payload of this shape (an older node's, or damaged); the caller then only
// knows that something was committed.
std::optional<Notification> parseNotification(std::string_view payload);

// The changes notifications carried, kept for the stream thread so that it need not read
// them back from the database: each node hears every commit, and reading each commit's
// changes on every node was most of what the stream cost PostgreSQL. Served only as a run
// that starts right after the caller's position and has no hole; anything else is read
// from the table, which stays the truth. Thread-safe (the listener adds, the stream thread
// takes).
class NotifiedChanges {
 public:
  // More than a few seconds of changes at any rate the stream is read at.
  static constexpr size_t kMaxKept = 4096;

  void add(std::vector<ChangePtr> changes);
  // The changes after `after_seq`, at most `limit`, if the first kept one is after_seq + 1
  // (then as many as follow without a hole); nullopt otherwise. Drops what is at or below
  // after_seq.
  std::optional<std::vector<ChangePtr>> after(int64_t after_seq, size_t limit);
  // After a reconnect or an epoch change: what was kept may belong to another database.
  void clear();
  size_t size();

 private:
  std::mutex mutex_;
  std::deque<ChangePtr> kept_;
};

}  // namespace brigade::store::postgres
