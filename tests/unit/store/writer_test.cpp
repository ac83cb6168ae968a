// The writer thread's handling of changes a write records for its commit
// (sql::Connection::recordAtCommit), on a connection that only logs what it is asked.
#include "store/sql/writer.hpp"

#include <gtest/gtest.h>

#include <future>
#include <string>
#include <vector>

#include "store/errors.hpp"

namespace brigade::store::sql {
namespace {

class LoggedStatement final : public StatementImpl {
 public:
  void bindNull(int) override {}
  void bindInt64(int, int64_t) override {}
  void bindReal(int, double) override {}
  void bindText(int, std::string_view) override {}
  void bindBool(int, bool) override {}
  Step step() override { return Step::kDone; }
  bool isNull(int) const override { return true; }
  int64_t int64(int) const override { return 0; }
  double real(int) const override { return 0; }
  std::string text(int) const override { return {}; }
  void reset() override {}
};

// Every transaction's commit is logged with the records it wrote.
class LoggedConnection final : public Connection {
 public:
  explicit LoggedConnection(std::vector<std::vector<std::string>>& commits) : commits_(commits) {}
  Result<Statement> statement(const std::string&) override { return Statement(&statement_); }
  Result<void> exec(const char*) override { return {}; }
  Error lastError(std::string_view what) const override {
    return makeError(errc::kStorage, std::string(what));
  }
  int64_t changes() const override { return 0; }
  TransactionState transactionState() const override { return TransactionState::kActive; }
  Result<void> commit() override {
    std::vector<std::string> written;
    for (const auto& r : recorded_) written.push_back(r.document);
    recorded_.clear();
    commits_.push_back(std::move(written));
    return {};
  }

 private:
  std::vector<std::vector<std::string>>& commits_;
  LoggedStatement statement_;
};

// Jobs queued while the writer is held by a first one, so they form one batch.
TEST(WriterRecordedChanges, AWriteRolledBackTakesItsRecordsWithItTheOthersCommitTheirs) {
  std::vector<std::vector<std::string>> commits;
  Writer writer(std::make_unique<LoggedConnection>(commits), "BEGIN", WriterOptions{}, nullptr,
                nullptr);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> holding;
  writer.enqueue(WriteJob{[&](Connection&) {
                            holding.set_value();
                            released.wait();
                            return true;
                          },
                          nullptr, nullptr, nullptr});
  holding.get_future().wait();
  std::vector<std::promise<bool>> done(3);
  auto job = [&](std::string name, bool ok, size_t i) {
    writer.enqueue(WriteJob{[name, ok](Connection& c) {
                              c.recordAtCommit(RecordedChange{"orders", "insert", 1, name + " a"});
                              c.recordAtCommit(RecordedChange{"orders", "insert", 1, name + " b"});
                              return ok;
                            },
                            [&done, i](const Error* e) { done[i].set_value(e == nullptr); },
                            nullptr, nullptr});
  };
  job("first", true, 0);
  job("failing", false, 1);
  job("last", true, 2);
  release.set_value();
  for (auto& d : done) d.get_future().wait();
  writer.stop();
  // The held job's batch; then the three: run once, rolled back at the failure, run again
  // with savepoints, where the failing write's records go with its savepoint.
  ASSERT_EQ(commits.size(), 2u);
  EXPECT_TRUE(commits[0].empty());
  EXPECT_EQ(commits[1], (std::vector<std::string>{"first a", "first b", "last a", "last b"}));
  EXPECT_EQ(writer.stats().redone_batches, 1u);
}

}  // namespace
}  // namespace brigade::store::sql
