// The change stream: reads by audience, subscriptions, and retention.
#include <algorithm>

#include "core/log.hpp"
#include "store/errors.hpp"
#include "store/sql/rows.hpp"
#include "store/sql/sql_store.hpp"
#include "store/sql/store_calls.hpp"
#include "store/timestamp.hpp"

namespace brigade::store::sql {

void SqlStore::readChanges(int64_t after_seq, size_t limit, ChangeAudience audience,
                           Callback<ChangePage> done) {
  read<ChangePage>(
      [this, after_seq, limit, audience](Connection& c) -> Result<ChangePage> {
        // The bounds and the rows from one snapshot: a change committed in between would
        // otherwise fall below a last_seq taken later and never be read.
        ReadTransaction txn(c, *dialect_);
        auto b = dialect_->streamBounds(c);
        if (!b) return b.error();
        if (after_seq < 0 || after_seq + 1 < b->oldest) {
          return makeError(errc::kHistoryLost, "changes after " + std::to_string(after_seq) +
                                                   " are no longer retained (oldest is " +
                                                   std::to_string(b->oldest) + ")");
        }
        const size_t n = std::clamp<size_t>(limit, 1, kMaxReadLimit);
        auto changes = fetchChanges(c, *dialect_, after_seq, n, audience);
        if (!changes) return changes.error();
        ChangePage page{std::move(*changes), hub_->epoch(), b->head, true};
        if (page.changes.size() == n) {
          // Full: more may follow that the audience may see.
          page.last_seq = page.changes.back()->seq;
          page.at_head = page.last_seq >= b->head;
        }
        return page;
      },
      std::move(done));
}

SubscriptionId SqlStore::subscribe(SubscribeOptions options, StreamCallback callback) {
  return hub_->subscribe(std::move(options), std::move(callback));
}

void SqlStore::unsubscribe(SubscriptionId id) {
  hub_->unsubscribe(id);
}

void SqlStore::purgeExpired(Callback<PurgeReport> done) {
  WriteJob job;
  job.on_closed = [done](const Error& e) { done(e); };
  job.alone = [this, done](Connection& c) {
    PurgeReport report;
    Result<bool> more = true;
    while (more && *more) more = retentionStep(c, &report);
    if (!more) {
      done(more.error());
    } else {
      done(report);
    }
  };
  writers_.front()->enqueue(std::move(job));
}

void SqlStore::flush(Callback<void> done) {
  // A writer takes jobs in order and answers a batch before it takes the next: a
  // stand-alone job runs after every write queued before it was answered. One on every
  // writer; done once all have run.
  struct Countdown {
    std::atomic<size_t> left;
    Callback<void> done;
    std::atomic<bool> failed{false};
  };
  auto countdown = std::make_shared<Countdown>();
  countdown->left = writers_.size();
  countdown->done = std::move(done);
  auto arrive = [countdown](const Error* error) {
    if (error && !countdown->failed.exchange(true)) countdown->done(*error);
    if (--countdown->left == 0 && !countdown->failed) countdown->done(Result<void>());
  };
  for (auto& w : writers_) {
    WriteJob job;
    job.on_closed = [arrive](const Error& e) { arrive(&e); };
    job.alone = [arrive](Connection&) { arrive(nullptr); };
    w->enqueue(std::move(job));
  }
}

Result<bool> SqlStore::retentionStep(Connection& c, PurgeReport* report) {
  const auto t = o_.clock();
  const std::string cutoff = formatTimestamp(t - o_.retention);
  const std::string idem_cutoff = formatTimestamp(t - kIdempotencyTtl);
  if (auto begin = c.exec(dialect_->beginWrite()); !begin) return begin.error();
  auto body = [&]() -> Result<bool> {
    // Only ever a prefix of the stream (never a hole in the middle), and never past what
    // the stream thread has delivered.
    auto st = c.statement("SELECT seq, at FROM changes WHERE seq IS NOT NULL ORDER BY seq LIMIT ?");
    if (!st) return st.error();
    st->bind(1, kRetentionBatch);
    int64_t last = -1, count = 0;
    const int64_t head = hub_ ? hub_->head() : 0;
    bool stopped = false;
    Step rc;
    while ((rc = st->step()) == Step::kRow) {
      if (stopped) continue;
      if (st->text(1) < cutoff && st->int64(0) <= head) {
        last = st->int64(0);
        ++count;
      } else {
        stopped = true;
      }
    }
    if (rc != Step::kDone) return c.lastError(rc);
    if (last >= 0) {
      auto del = c.statement("DELETE FROM changes WHERE seq <= ?");
      if (!del) return del.error();
      del->bind(1, last);
      if (const Step drc = del->step(); drc != Step::kDone) return c.lastError(drc);
    }
    auto keys = c.statement(
        "DELETE FROM idempotency_keys WHERE (customer_id, key) IN (SELECT customer_id, key "
        "FROM idempotency_keys WHERE created_at < ? LIMIT ?)");
    if (!keys) return keys.error();
    keys->bind(1, idem_cutoff).bind(2, kRetentionBatch);
    if (const Step krc = keys->step(); krc != Step::kDone) return c.lastError(krc);
    const int64_t keys_removed = c.changes();
    if (report) {
      report->changes_removed += count;
      report->idempotency_keys_removed += keys_removed;
    }
    return (count == kRetentionBatch) || keys_removed == kRetentionBatch;
  };
  auto r = body();
  if (!r) {
    if (c.transactionState() != TransactionState::kIdle &&
        c.transactionState() != TransactionState::kLost) {
      (void)c.exec("ROLLBACK");
    }
    return r;
  }
  if (auto commit = c.exec("COMMIT"); !commit) {
    (void)c.exec("ROLLBACK");
    return commit.error();
  }
  hub_->notify();
  return r;
}

}  // namespace brigade::store::sql
