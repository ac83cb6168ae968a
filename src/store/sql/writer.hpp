#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/histogram.hpp"
#include "core/result.hpp"
#include "store/sql/connection.hpp"
#include "store/store.hpp"

namespace brigade::store::sql {

// One write: `apply` runs inside a savepoint of the batch's transaction (false: roll it
// back); `finish` runs after the batch, with an error only when the write never committed.
// A job with `alone` instead runs by itself between batches (retention passes), and gets
// `on_closed` if the writer stops first.
struct WriteJob {
  std::function<bool(Connection&)> apply;
  std::function<void(const Error*)> finish;
  std::function<void(Connection&)> alone;
  std::function<void(const Error&)> on_closed;
};

struct WriterOptions {
  bool group_commit = true;  // false: one transaction per write
  size_t max_batch = 256;    // writes per transaction
  // How often `periodic` runs between batches; it returns true to run again at once.
  std::chrono::seconds periodic_interval{60};
};

// The single writer thread with group commit, shared by every SQL backend: writes queue
// up, the thread takes as many as are waiting (up to max_batch) into one transaction and
// commits once. Writes run without savepoints; when one fails the batch is rolled back and
// run again with a savepoint per write (so only the failed write is undone), and so are the
// next kCarefulBatches batches. A batch whose COMMIT fails is retried write by write so that
// only the culprit fails.
class Writer {
 public:
  // Batches run with savepoints after one needed them (failures come in bursts: a bad client).
  static constexpr int kCarefulBatches = 16;

  Writer(std::unique_ptr<Connection> connection, const char* begin_sql, WriterOptions options,
         std::function<void()> after_commit, std::function<bool(Connection&)> periodic);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Queues a job; after stop() the job is answered errc::kClosed at once.
  void enqueue(WriteJob job);
  // Commits and acknowledges everything already queued, then ends the thread.
  void stop();

  StoreStats stats() const;

 private:
  void run();
  void commitBatch(const std::vector<WriteJob*>& jobs);
  void commitBatch(const std::vector<WriteJob*>& jobs, bool savepoints);
  bool savepoint(const char* sql);
  void finishJob(WriteJob& job, const Error* error, bool ok);

  std::unique_ptr<Connection> c_;
  const char* begin_sql_;
  WriterOptions o_;
  std::function<void()> after_commit_;
  std::function<bool(Connection&)> periodic_;

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<WriteJob> queue_;
  bool stop_ = false;
  std::thread thread_;
  int careful_batches_ = 0;  // the writer thread's

  std::atomic<uint64_t> writes_{0}, failed_writes_{0}, batches_{0}, largest_batch_{0},
      split_batches_{0}, redone_batches_{0}, wakeups_{0};
  AtomicHistogram commit_seconds_{
      {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}};
  AtomicHistogram batch_size_{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512}};
};

}  // namespace brigade::store::sql
