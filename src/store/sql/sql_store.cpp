#include "store/sql/sql_store.hpp"

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
  writer_ = std::make_unique<Writer>(
      std::move(backend.writer), dialect_->beginWrite(), wo, [this] { hub_->notify(); },
      [this](Connection& c) {
        auto more = retentionStep(c, nullptr);
        if (!more) spdlog::warn("store: retention failed: {}", more.error().message);
        return more && *more;
      });
  if (backend.start_companion) companion_ = backend.start_companion([this] { hub_->notify(); });
}

SqlStore::~SqlStore() {
  // Threads stop in dependency order, but every component stays alive until all of them
  // have: a late callback calling the store meets a closed component (and gets
  // store_closed), never a destroyed one.
  writer_->stop();
  hub_->stop();
  readers_->stop();
  companion_.reset();
}

std::string SqlStore::now() const {
  return formatTimestamp(o_.clock());
}

}  // namespace brigade::store::sql
