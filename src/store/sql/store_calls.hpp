#pragma once

// SqlStore's two ways of running an operation, included by the files that define its
// operations (not part of the store's interface).

#include <exception>
#include <memory>
#include <optional>

#include "store/errors.hpp"
#include "store/sql/sql_store.hpp"

namespace brigade::store::sql {

template <typename T, typename F>
Result<T> guardedCall(F& fn, Connection& c) {
  try {
    return fn(c);
  } catch (const std::exception& e) {
    return makeError(errc::kStorage, e.what());
  }
}

// On the writer thread, inside the next batch's transaction; `done` runs once the batch is
// durable (or with the error that kept it from committing). A write that lost a race to
// another writer (errc::kRaced) runs again in a later transaction, on fresh data.
template <typename T, typename F>
void SqlStore::write(F fn, Callback<T> done) {
  writeAttempt<T>(std::make_shared<F>(std::move(fn)), std::move(done), 1);
}

template <typename T, typename F>
void SqlStore::writeAttempt(std::shared_ptr<F> fn, Callback<T> done, int attempt) {
  auto result = std::make_shared<std::optional<Result<T>>>();
  WriteJob job;
  job.apply = [fn, result](Connection& c) {
    result->emplace(guardedCall<T>(*fn, c));
    return (*result)->ok();
  };
  job.finish = [this, fn, result, attempt, done = std::move(done)](const Error* error) mutable {
    if (!error && !(**result).ok() && (**result).error().code == errc::kRaced) {
      if (attempt < kMaxRaceAttempts) {
        writeAttempt<T>(std::move(fn), std::move(done), attempt + 1);
        return;
      }
      Error conflict = (**result).error();
      conflict.code = errc::kVersionConflict;
      if (done) done(Result<T>(std::move(conflict)));
      return;
    }
    if (!done) return;
    if (error) {
      done(Result<T>(*error));
    } else {
      done(std::move(**result));
    }
  };
  writer().enqueue(std::move(job));
}

// On a reader thread.
template <typename T, typename F>
void SqlStore::read(F fn, Callback<T> done) {
  if (readers_->stopped()) {
    if (done) done(makeError(errc::kClosed, "the store is closing"));
    return;
  }
  auto task = [fn = std::move(fn), done = std::move(done)](Connection& c) mutable {
    Result<T> r = guardedCall<T>(fn, c);
    if (done) done(std::move(r));
  };
  (void)readers_->post(std::move(task));
}

}  // namespace brigade::store::sql
