#include "store/sql/writer.hpp"

#include <pthread.h>

#include <algorithm>

#include "store/errors.hpp"

namespace brigade::store::sql {

Writer::Writer(std::unique_ptr<Connection> connection, const char* begin_sql, WriterOptions options,
               std::function<void()> after_commit, std::function<bool(Connection&)> periodic)
    : c_(std::move(connection)),
      begin_sql_(begin_sql),
      o_(options),
      after_commit_(std::move(after_commit)),
      periodic_(std::move(periodic)) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "store-writer");
    run();
  });
}

Writer::~Writer() {
  stop();
}

void Writer::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Writer::enqueue(WriteJob job) {
  {
    std::lock_guard lock(mutex_);
    if (!stop_) {
      queue_.push_back(std::move(job));
      cv_.notify_one();
      return;
    }
  }
  const Error closed = makeError(errc::kClosed, "the store is closing");
  if (job.finish) job.finish(&closed);
  if (job.on_closed) job.on_closed(closed);
}

void Writer::run() {
  using Steady = std::chrono::steady_clock;
  auto next_periodic = Steady::now() + o_.periodic_interval;
  const size_t max_batch = o_.group_commit ? std::max<size_t>(1, o_.max_batch) : 1;
  for (;;) {
    std::vector<WriteJob> batch;
    {
      std::unique_lock lock(mutex_);
      cv_.wait_until(lock, next_periodic, [this] { return stop_ || !queue_.empty(); });
      ++wakeups_;
      if (queue_.empty() && stop_) return;
      while (!queue_.empty() && batch.size() < max_batch) {
        // A stand-alone job runs by itself, between batches.
        if (queue_.front().alone && !batch.empty()) break;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
        if (batch.back().alone) break;
      }
    }
    if (!batch.empty()) {
      if (batch.front().alone) {
        batch.front().alone(*c_);
      } else {
        std::vector<WriteJob*> jobs;
        for (auto& j : batch) jobs.push_back(&j);
        commitBatch(jobs);
      }
    }
    // The deadline moves on also without periodic work: a deadline left in the past would
    // make every wait above return at once (a writer spinning while idle).
    if (Steady::now() >= next_periodic) {
      const bool more = periodic_ && periodic_(*c_);
      next_periodic = Steady::now() + (more ? std::chrono::seconds(0) : o_.periodic_interval);
    }
  }
}

void Writer::commitBatch(const std::vector<WriteJob*>& jobs) {
  // Savepoints cost two statements per write (and, on PostgreSQL, a subtransaction each),
  // and most writes succeed: a batch runs without them, and when a write fails it is rolled
  // back and run again with them, as are the batches that follow for a while.
  if (careful_batches_ > 0) {
    --careful_batches_;
    commitBatch(jobs, true);
  } else {
    commitBatch(jobs, false);
  }
}

void Writer::commitBatch(const std::vector<WriteJob*>& jobs, bool savepoints) {
  const auto began = std::chrono::steady_clock::now();
  c_->forgetRecorded(0);  // an earlier attempt's, rolled back with it
  if (auto begin = c_->exec(begin_sql_); !begin) {
    for (auto* j : jobs) finishJob(*j, &begin.error(), false);
    return;
  }
  std::vector<bool> ok(jobs.size(), false);
  bool broken = false;
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (savepoints && !savepoint("SAVEPOINT w")) {
      broken = true;
      break;
    }
    const size_t recorded = c_->recorded().size();
    ok[i] = jobs[i]->apply(*c_);
    const auto state = c_->transactionState();
    if (!ok[i] && !savepoints && state != TransactionState::kLost) {
      // What the failed write did cannot be undone alone: the batch goes.
      (void)c_->exec("ROLLBACK");
      ++redone_batches_;
      careful_batches_ = kCarefulBatches;
      if (jobs.size() == 1) {
        finishJob(*jobs[0], nullptr, false);  // nothing to keep: its answer is its error
      } else {
        commitBatch(jobs, true);
      }
      return;
    }
    if (!ok[i] && savepoints) {
      (void)savepoint("ROLLBACK TO w");
      c_->forgetRecorded(recorded);
    }
    // Some errors (disk full, I/O, a lost connection) end the whole transaction.
    if (c_->transactionState() != TransactionState::kActive) {
      broken = true;
      break;
    }
    if (savepoints) (void)savepoint("RELEASE w");
  }
  Result<void> commit = broken ? Result<void>(c_->lastError("transaction aborted")) : c_->commit();
  if (!commit) {
    const auto state = c_->transactionState();
    if (state == TransactionState::kActive || state == TransactionState::kBroken) {
      (void)c_->exec("ROLLBACK");
    }
    // On a lost connection the outcome of the COMMIT is unknown: retrying would write
    // twice. Every write of the batch fails (idempotency keys make a client's retry safe).
    if (jobs.size() > 1 && state != TransactionState::kLost) {
      ++split_batches_;
      // Find the culprit(s): each write again in its own transaction.
      for (auto* j : jobs) commitBatch({j}, true);
      return;
    }
    for (auto* j : jobs) finishJob(*j, &commit.error(), false);
    return;
  }
  ++batches_;
  commit_seconds_.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
  batch_size_.observe(static_cast<double>(jobs.size()));
  uint64_t largest = largest_batch_.load();
  while (jobs.size() > largest && !largest_batch_.compare_exchange_weak(largest, jobs.size())) {
  }
  if (after_commit_) after_commit_();
  for (size_t i = 0; i < jobs.size(); ++i) finishJob(*jobs[i], nullptr, ok[i]);
}

// A cached statement (savepoints run twice per write; re-parsing them shows in profiles).
bool Writer::savepoint(const char* sql) {
  auto st = c_->statement(sql);
  return st && st->step() == Step::kDone;
}

void Writer::finishJob(WriteJob& job, const Error* error, bool ok) {
  if (ok && !error) {
    ++writes_;
  } else {
    ++failed_writes_;
  }
  if (job.finish) job.finish(error);
}

StoreStats Writer::stats() const {
  StoreStats s;
  s.writes = writes_.load();
  s.failed_writes = failed_writes_.load();
  s.batches = batches_.load();
  s.largest_batch = largest_batch_.load();
  s.split_batches = split_batches_.load();
  s.redone_batches = redone_batches_.load();
  s.writer_wakeups = wakeups_.load();
  s.commit_seconds = commit_seconds_.snapshot();
  s.batch_size = batch_size_.snapshot();
  return s;
}

}  // namespace brigade::store::sql
