#pragma once

// The test clock (--test-clock): tests move the server's time forward instead of
// sleeping through rate-limit windows, throttles, token lifetimes, retention and the
// sockets' recheck. Never mounted unless the flag is given, and the flag is refused
// unless the server listens on a loopback address.

#include <functional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "http/server.hpp"
#include "store/store.hpp"

namespace brigade::server {

inline constexpr int64_t kMaxTestClockAdvanceMs = 366LL * 24 * 3600 * 1000;

// Whether `host` is a loopback address (127.0.0.0/8, ::1) or "localhost".
bool isLoopback(const std::string& host);

// Periodic work to run now; calls its argument once finished.
using DueWork = std::function<void(std::function<void()> done)>;

// POST /__test/clock {"advance_ms": N}: moves `clock` forward by N ms (0 reads it),
// then runs the periodic work that became due — the store's retention, then each of `due`
// in turn (the sockets' recheck, the unanswered orders' pass, the riders' offers) — and
// answers {"offset_ms": total} once that work has finished.
void mountTestClock(http::Router& router, Clock& clock, store::Store& store,
                    std::vector<DueWork> due);

}  // namespace brigade::server
