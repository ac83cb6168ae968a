#include "store/postgres/connection.hpp"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include "store/errors.hpp"
#include "store/postgres/placeholders.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/store.hpp"

namespace brigade::store::postgres {
namespace {

constexpr Oid kBoolOid = 16;

// libpq's messages end with a newline and may run over several lines: keep the first.
std::string firstLine(const char* message) {
  std::string s = message ? message : "";
  if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}

bool startsWithWord(std::string_view sql, std::string_view word) {
  if (sql.size() < word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(sql[i])) != word[i]) return false;
  }
  return sql.size() == word.size() || !std::isalpha(static_cast<unsigned char>(sql[word.size()]));
}

bool isTransactionControl(std::string_view sql) {
  for (auto word : {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "START", "END"}) {
    if (startsWithWord(sql, word)) return true;
  }
  return false;
}

}  // namespace

Result<void> checkUrl(const std::string& url) {
  if (!url.starts_with("postgres://") && !url.starts_with("postgresql://")) {
    return makeError(errc::kInvalid, "the URL must start with postgres:// or postgresql://");
  }
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (!options) {
    std::string message = error ? firstLine(error) : "cannot parse it";
    PQfreemem(error);
    return makeError(errc::kInvalid, message);
  }
  // libpq only checks the port when it connects: say so now, in the operator's words.
  std::string bad_port;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (std::string_view(o->keyword) != "port" || !o->val) continue;
    std::string_view ports(o->val);
    while (!ports.empty()) {
      const auto comma = ports.find(',');
      const std::string_view one = ports.substr(0, comma);
      int n = 0;
      auto [end, ec] = std::from_chars(one.data(), one.data() + one.size(), n);
      if (ec != std::errc() || end != one.data() + one.size() || n < 1 || n > 65535) {
        bad_port = std::string(one);
      }
      ports = comma == std::string_view::npos ? std::string_view() : ports.substr(comma + 1);
    }
  }
  PQconninfoFree(options);
  if (!bad_port.empty()) return makeError(errc::kInvalid, "invalid port \"" + bad_port + "\"");
  return {};
}

// --- Statement ---------------------------------------------------------------------------

Statement::Statement(Connection& owner, std::string sql, int params, std::string name, bool simple)
    : owner_(owner),
      sql_(std::move(sql)),
      params_(params),
      name_(std::move(name)),
      simple_(simple),
      values_(static_cast<size_t>(params)),
      set_(static_cast<size_t>(params), 0) {}

Statement::~Statement() {
  if (result_) PQclear(result_);
}

void Statement::set(int i, std::string value) {
  if (i < 1 || i > params_) return;  // as SQLite: an index out of range binds nothing
  values_[static_cast<size_t>(i - 1)] = std::move(value);
  set_[static_cast<size_t>(i - 1)] = 1;
}

void Statement::bindNull(int i) {
  if (i >= 1 && i <= params_) set_[static_cast<size_t>(i - 1)] = 0;
}
void Statement::bindInt64(int i, int64_t v) {
  set(i, std::to_string(v));
}
void Statement::bindReal(int i, double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest exact form
  set(i, std::string(buf, end));
}
void Statement::bindText(int i, std::string_view v) {
  set(i, std::string(v));
}
void Statement::bindBool(int i, bool v) {
  set(i, v ? "true" : "false");
}

sql::Step Statement::execute() {
  const bool may_retry = !owner_.in_transaction_;
  sql::Step step = executeOnce();
  // A connection that died while idle (the server restarted, an operator terminated it)
  // is only found out by using it. Outside a transaction of ours nothing can have been
  // done yet that a second attempt would repeat (the writer always runs in transactions),
  // so try once more on a new connection.
  if (step == sql::Step::kFailed && may_retry && owner_.lost()) {
    if (result_) PQclear(result_);
    result_ = nullptr;
    step = executeOnce();
  }
  return step;
}

sql::Step Statement::executeOnce() {
  if (auto ok = owner_.ensureConnected(); !ok) return sql::Step::kFailed;
  PGconn* conn = owner_.raw();
  if (simple_) {
    result_ = PQexec(conn, sql_.c_str());
  } else {
    if (const sql::Step step = prepare(); step != sql::Step::kDone) return step;
    const std::vector<const char*> values = boundValues();
    result_ = PQexecPrepared(conn, name_.c_str(), params_, values.data(), nullptr, nullptr, 0);
  }
  const sql::Step step = owner_.note(result_);
  if (step != sql::Step::kDone) return step;
  row_ = 0;
  return PQntuples(result_) > 0 ? sql::Step::kRow : sql::Step::kDone;
}

sql::Step Statement::prepare() {
  if (prepared_for_ == owner_.generation()) return sql::Step::kDone;
  PGresult* prepared = PQprepare(owner_.raw(), name_.c_str(), sql_.c_str(), params_, nullptr);
  const sql::Step step = owner_.note(prepared);
  PQclear(prepared);
  if (step == sql::Step::kDone) prepared_for_ = owner_.generation();
  return step;
}

std::vector<const char*> Statement::boundValues() const {
  std::vector<const char*> values(static_cast<size_t>(params_));
  for (size_t i = 0; i < values.size(); ++i) values[i] = set_[i] ? values_[i].c_str() : nullptr;
  return values;
}

bool Statement::send() {
  const std::vector<const char*> values = boundValues();
  return PQsendQueryPrepared(owner_.raw(), name_.c_str(), params_, values.data(), nullptr, nullptr,
                             0) == 1;
}

sql::Step Statement::step() {
  if (!result_) return execute();
  if (row_ < 0) return sql::Step::kFailed;  // the execution failed
  ++row_;
  return row_ < PQntuples(result_) ? sql::Step::kRow : sql::Step::kDone;
}

bool Statement::isNull(int col) const {
  return PQgetisnull(result_, row_, col) != 0;
}

int64_t Statement::int64(int col) const {
  const char* v = PQgetvalue(result_, row_, col);
  if (PQftype(result_, col) == kBoolOid) return v[0] == 't' ? 1 : 0;
  int64_t out = 0;
  std::from_chars(v, v + std::strlen(v), out);  // numeric sums: the digits before any '.'
  return out;
}

double Statement::real(int col) const {
  return std::strtod(PQgetvalue(result_, row_, col), nullptr);
}

std::string Statement::text(int col) const {
  return std::string(PQgetvalue(result_, row_, col),
                     static_cast<size_t>(PQgetlength(result_, row_, col)));
}

void Statement::reset() {
  if (result_) PQclear(result_);
  result_ = nullptr;
  row_ = -1;
  std::fill(set_.begin(), set_.end(), 0);
}

// --- Connection --------------------------------------------------------------------------

Connection::Connection(std::string url, std::string_view role) : url_(std::move(url)), role_(role) {
  if (auto ok = checkUrl(url_); !ok) throw StoreError("malformed --db URL: " + ok.error().message);
  if (!connect()) throw StoreError("cannot connect to " + url_ + ": " + error_message_);
}

Connection::~Connection() {
  cache_.clear();
  if (conn_) PQfinish(conn_);
}

bool Connection::connect() {
  if (conn_) PQfinish(conn_);
  last_attempt_ = std::chrono::steady_clock::now();
  // Defaults first: whatever the URL itself says wins (expand_dbname). Keepalives and the
  // TCP user timeout notice a database host that vanished without closing the connection.
  const char* keys[] = {"connect_timeout",     "keepalives",       "keepalives_idle",
                        "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                        "application_name",    "dbname",           nullptr};
  const std::string app = "brigade-" + role_;
  const char* values[] = {"5", "1", "10", "3", "3", "15000", app.c_str(), url_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    error_message_ = conn_ ? firstLine(PQerrorMessage(conn_)) : "out of memory";
    error_state_.clear();
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
    return false;
  }
  // Quiet: NOTICEs (e.g. "relation already exists, skipping") are not for our log.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  // A node that stops (SIGSTOP, a frozen VM) inside a transaction would hold its row locks
  // for as long as it is stopped, and another node retrying the same Idempotency-Key would
  // wait on them with its only writer. Brigade's own transactions never sit idle: the
  // server ends one that does after kIdleInTransactionTimeout, releasing its locks.
  PGresult* set = PQexec(conn_, ("SET idle_in_transaction_session_timeout = " +
                                 std::to_string(kIdleInTransactionTimeout.count()))
                                    .c_str());
  PQclear(set);
  ++generation_;
  in_transaction_ = false;
  return true;
}

Result<void> Connection::ensureConnected() {
  if (conn_ && PQstatus(conn_) == CONNECTION_OK && PQpipelineStatus(conn_) == PQ_PIPELINE_OFF) {
    return {};
  }
  if (in_transaction_) {
    // The transaction died with the connection; the caller must give up on it first.
    return makeError(errc::kUnavailable, "the database connection was lost");
  }
  if (!fresh_loss_ && std::chrono::steady_clock::now() - last_attempt_ < kReconnectBackoff) {
    return makeError(errc::kUnavailable, "the database is unreachable: " + error_message_);
  }
  fresh_loss_ = false;
  if (!connect()) {
    return makeError(errc::kUnavailable, "the database is unreachable: " + error_message_);
  }
  return {};
}

void Connection::noteLost(std::string message) {
  error_message_ = std::move(message);
  error_state_.clear();
  fresh_loss_ = true;
}

bool Connection::lost() const {
  return !conn_ || PQstatus(conn_) != CONNECTION_OK;
}

sql::Step Connection::note(PGresult* result) {
  const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    const char* n = PQcmdTuples(result);
    changes_ = (n && *n) ? std::atoll(n) : 0;
    return sql::Step::kDone;
  }
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    noteLost(conn_ ? firstLine(PQerrorMessage(conn_)) : "no connection");
    return sql::Step::kFailed;
  }
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  error_state_ = state ? state : "";
  error_message_ = result ? firstLine(PQresultErrorMessage(result)) : "no result";
  if (error_state_ == "23505") return sql::Step::kUnique;
  if (error_state_ == "23503") return sql::Step::kForeignKey;
  return sql::Step::kFailed;
}

Result<sql::Statement> Connection::statement(const std::string& sql) {
  return sql::Statement(&cached(sql));
}

Statement& Connection::cached(const std::string& sql) {
  if (auto it = cache_.find(sql); it != cache_.end()) return *it->second;
  auto rewritten = rewritePlaceholders(sql);
  const bool simple = rewritten.params == 0 && isTransactionControl(sql);
  auto stmt = std::make_unique<Statement>(*this, std::move(rewritten.sql), rewritten.params,
                                          "s" + std::to_string(++next_name_), simple);
  return *cache_.emplace(sql, std::move(stmt)).first->second;
}

Result<void> Connection::commit() {
  if (recorded_.empty()) return exec("COMMIT");
  const std::vector<sql::RecordedChange> recorded = std::move(recorded_);
  recorded_.clear();
  if (!write_recorded_) {
    return makeError(errc::kStorage, "this connection cannot write recorded changes");
  }
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    in_transaction_ = false;
    return makeError(errc::kUnavailable, "the database connection was lost before COMMIT");
  }
  Statement& last = write_recorded_(*this, recorded);
  // A failed PREPARE leaves the transaction broken: the caller rolls it back.
  sql::Step first = last.prepare(), second = sql::Step::kFailed;
  if (first == sql::Step::kDone && PQenterPipelineMode(conn_) != 1) {
    error_message_ = firstLine(PQerrorMessage(conn_));
    error_state_.clear();
    first = sql::Step::kFailed;
  } else if (first == sql::Step::kDone) {
    if (last.send() &&
        PQsendQueryParams(conn_, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0) == 1 &&
        PQpipelineSync(conn_) == 1) {
      // Each query's results end with a null; the sync point ends the pipeline.
      PGresult* results[2] = {nullptr, nullptr};
      int query = 0;
      for (;;) {
        PGresult* r = PQgetResult(conn_);
        if (!r) {
          if (++query > 2 || PQstatus(conn_) != CONNECTION_OK) break;
          continue;
        }
        if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
          PQclear(r);
          break;
        }
        if (query < 2 && !results[query]) {
          results[query] = r;
        } else {
          PQclear(r);
        }
      }
      first = note(results[0]);
      // COMMIT is skipped (PGRES_PIPELINE_ABORTED) when the statement failed.
      if (first == sql::Step::kDone) second = note(results[1]);
      PQclear(results[0]);
      PQclear(results[1]);
    } else {
      error_message_ = firstLine(PQerrorMessage(conn_));
      error_state_.clear();
      first = sql::Step::kFailed;
    }
    if (PQexitPipelineMode(conn_) != 1) {
      // Not at its sync point (a send or a read failed part-way): libpq refuses every
      // other command on the connection while it stays in pipeline mode, and the server
      // side may be gone. Dropped, so that the next use connects again; whether the
      // COMMIT took effect is unknown.
      PQfinish(conn_);
      conn_ = nullptr;
      noteLost(error_message_.empty() ? "the connection failed during COMMIT" : error_message_);
    }
  }
  last.reset();
  if (lost()) {
    // Whether the COMMIT took effect is unknown: the caller must not retry it.
    in_transaction_ = false;
    if (error_message_.empty()) error_message_ = "the database connection was lost";
    return lastError("COMMIT");
  }
  if (first != sql::Step::kDone) return lastError("writing the recorded changes");
  in_transaction_ = false;  // committed, or rolled back by a failed COMMIT
  if (second != sql::Step::kDone) return lastError("COMMIT");
  return {};
}

Result<void> Connection::exec(const char* sql) {
  const std::string_view text(sql);
  const bool begins = startsWithWord(text, "BEGIN") || startsWithWord(text, "START");
  const bool ends = startsWithWord(text, "COMMIT") || startsWithWord(text, "ROLLBACK") ||
                    startsWithWord(text, "END");
  if (begins) in_transaction_ = false;  // whatever came before is over
  if (ends && (!conn_ || PQstatus(conn_) != CONNECTION_OK)) {
    in_transaction_ = false;
    if (startsWithWord(text, "ROLLBACK")) return {};  // nothing left to roll back
    return makeError(errc::kUnavailable, "the database connection was lost before COMMIT");
  }
  if (auto ok = ensureConnected(); !ok) return ok.error();
  PGresult* result = PQexec(conn_, sql);
  sql::Step step = note(result);
  PQclear(result);
  if (step == sql::Step::kFailed && !ends && !in_transaction_ && lost()) {
    // Found dead at first use (see Statement::execute): once more on a new connection.
    if (auto ok = ensureConnected(); !ok) return ok.error();
    result = PQexec(conn_, sql);
    step = note(result);
    PQclear(result);
  }
  if (ends) in_transaction_ = false;
  if (step != sql::Step::kDone) return lastError(sql);
  if (begins) in_transaction_ = true;
  return {};
}

Error Connection::lastError(std::string_view what) const {
  std::string msg = error_message_;
  if (!what.empty()) msg = std::string(what) + ": " + msg;
  const std::string& s = error_state_;
  if (s.empty() || s.starts_with("08") || s.starts_with("57P") || s == "53300") {
    return makeError(errc::kUnavailable, msg);
  }
  if (s.starts_with("23")) return makeError(errc::kConflict, msg);
  if (s == "40001" || s == "40P01" || s == "55P03") return makeError(errc::kBusy, msg);
  return makeError(errc::kStorage, msg);
}

sql::TransactionState Connection::transactionState() const {
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) return sql::TransactionState::kLost;
  switch (PQtransactionStatus(conn_)) {
    case PQTRANS_IDLE:
      return sql::TransactionState::kIdle;
    case PQTRANS_INTRANS:
    case PQTRANS_ACTIVE:
      return sql::TransactionState::kActive;
    case PQTRANS_INERROR:
      return sql::TransactionState::kBroken;
    default:
      return sql::TransactionState::kLost;
  }
}

void Connection::execOrThrow(const std::string& sql, std::string_view what) {
  if (auto ok = ensureConnected(); !ok)
    throw StoreError(std::string(what) + ": " + ok.error().message);
  PGresult* result = PQexec(conn_, sql.c_str());
  const sql::Step step = note(result);
  PQclear(result);
  if (step != sql::Step::kDone) throw StoreError(std::string(what) + ": " + error_message_);
}

std::optional<std::string> Connection::scalarOrThrow(const std::string& sql,
                                                     std::string_view what) {
  if (auto ok = ensureConnected(); !ok)
    throw StoreError(std::string(what) + ": " + ok.error().message);
  PGresult* result = PQexec(conn_, sql.c_str());
  const sql::Step step = note(result);
  if (step != sql::Step::kDone) {
    PQclear(result);
    throw StoreError(std::string(what) + ": " + error_message_);
  }
  std::optional<std::string> out;
  if (PQntuples(result) > 0 && PQnfields(result) > 0 && !PQgetisnull(result, 0, 0)) {
    out = PQgetvalue(result, 0, 0);
  }
  PQclear(result);
  return out;
}

}  // namespace brigade::store::postgres
