#pragma once

#include <future>
#include <utility>

#include "core/result.hpp"
#include "store/types.hpp"

namespace brigade::store {

// Blocks the calling thread until a Store operation completes. For start-up (demo data),
// tools, tests and benchmarks only: never call it on an event-loop thread.
//   auto user = await<User>([&](auto done) { store.findUserById(7, done); });
template <typename T, typename Start>
Result<T> await(Start&& start) {
  auto promise = std::make_shared<std::promise<Result<T>>>();
  auto future = promise->get_future();
  std::forward<Start>(start)(
      Callback<T>([promise](Result<T> r) { promise->set_value(std::move(r)); }));
  return future.get();
}

}  // namespace brigade::store
