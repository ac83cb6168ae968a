#include "store/sql/sql_store.hpp"

#include <algorithm>

#include "core/log.hpp"
#include "store/timestamp.hpp"

namespace brigade::store::sql {

SqlStore::SqlStore(Backend backend)
    : o_(std::move(backend.store)),
      dialect_(std::move(backend.dialect)),
      companion_(nullptr),
      signals_(std::move(backend.signals)),
      publish_signal_(std::move(backend.publish_signal)) {
  hub_ = std::make_unique<ChangeHub>(std::move(backend.changes), std::move(backend.epoch),
                                     backend.poll_interval);
  readers_ = std::make_unique<ReaderPool>(std::move(backend.readers));
  WriterOptions wo = backend.writer_options;
  wo.periodic_interval = o_.retention_interval;
  for (auto& connection : backend.writers) {
    // Retention runs on the first writer only.
    std::function<bool(Connection&)> periodic;
    if (writers_.empty()) {
      periodic = [this](Connection& c) {
        auto more = retentionStep(c, nullptr);
        if (!more) spdlog::warn("store: retention failed: {}", more.error().message);
        return more && *more;
      };
    }
    std::function<void()> after_commit;
    if (backend.wake_stream_on_commit) after_commit = [this] { hub_->notify(); };
    writers_.push_back(std::make_unique<Writer>(std::move(connection), dialect_->beginWrite(), wo,
                                                std::move(after_commit), std::move(periodic)));
  }
  if (writers_.empty()) throw StoreError("a store needs at least one writer connection");
  if (backend.start_companion) {
    // A node that hears of its own commits twice (the writer, then the database's
    // notification) reads only once: the second finds them delivered.
    companion_ = backend.start_companion([this](int64_t head) {
      if (head > hub_->head()) hub_->notify();
    });
  }
}

SqlStore::~SqlStore() {
  // Threads stop in dependency order, but every component stays alive until all of them
  // have: a late callback calling the store meets a closed component (and gets
  // store_closed), never a destroyed one.
  for (auto& w : writers_) w->stop();
  hub_->stop();
  readers_->stop();
  companion_.reset();
}

StoreStats SqlStore::stats() const {
  StoreStats total;
  for (const auto& w : writers_) {
    const StoreStats s = w->stats();
    total.writes += s.writes;
    total.failed_writes += s.failed_writes;
    total.batches += s.batches;
    total.largest_batch = std::max(total.largest_batch, s.largest_batch);
    total.split_batches += s.split_batches;
    total.redone_batches += s.redone_batches;
    total.writer_wakeups += s.writer_wakeups;
    total.commit_seconds.add(s.commit_seconds);
    total.batch_size.add(s.batch_size);
  }
  return total;
}

std::string SqlStore::now() const {
  return formatTimestamp(o_.clock());
}

}  // namespace brigade::store::sql
