#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/live.hpp"
#include "http/connection_limits.hpp"
#include "http/server.hpp"
#include "net/connection.hpp"
#include "store/postgres/postgres_store.hpp"

namespace brigade::server {

// The smallest --max-send-queue: a few events of the largest kind must fit.
inline constexpr size_t kMinSendQueueBytes = 64 * 1024;

// Everything `brigade` can be told on its command line (or BRIGADE_* variables).
struct Config {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string dataDir = "./data";
  bool demo = true;
  std::string nodeId;  // empty: a random one (main.cpp)
  std::string db;      // postgres://... (several nodes on one PostgreSQL); empty: SQLite
  int dbWriters = store::postgres::kDefaultWriters;
  std::vector<std::string> corsOrigins;
  unsigned threads = 0;
  int64_t deliveryFeeCents = 299;
  size_t pwhashMemLimit = 64u << 20;
  std::string metricsToken;
  std::string tlsCert;        // PEM chain: HTTPS and WSS on the port (with tlsKey)
  std::string tlsKey;         // PEM private key
  uint16_t redirectHttp = 0;  // a port answering plain HTTP with a redirect to HTTPS (0: none)
  std::string webDir;         // built panels; default: <exe>/../../web/dist or ./web/dist
  std::string logLevel = "info";
  std::string logFormat = "text";            // text | json (one object per line)
  int64_t retentionSeconds = 7 * 24 * 3600;  // how long changes are kept for replay
  int64_t tokenTtlSeconds = 30 * 24 * 3600;
  double socketRecheckSeconds = 30;
  // Connection caps and the proxies believed about client addresses (docs/SECURITY.md).
  size_t maxConnections = 0;  // 0: the descriptor limit less a reserve
  size_t maxConnectionsPerAddress = http::kDefaultMaxConnectionsPerAddress;
  size_t maxPendingPerAddress = http::kDefaultMaxPendingPerAddress;
  std::vector<std::string> trustedProxies;
  size_t registrationsPerAddress = 10;                        // per hour
  size_t connectsPerMinute = app::kDefaultConnectsPerMinute;  // Socket.IO connects per user
  size_t maxReplayEvents = app::kMaxReplayEvents;  // longer replays get resync(too_far_behind)
  // A connection without a complete request for this long is closed (idle
  // keep-alive, or headers and bodies that trickle in: slowloris).
  double idleTimeoutSeconds = http::kHttpIdleTimeoutMs / 1000.0;
  size_t maxHandshakesPerAddress = 128;  // Engine.IO sessions not yet connected (0: no cap)
  // Bytes queued for one client that does not read before it is disconnected (a slow
  // consumer); at least kMinSendQueueBytes.
  size_t maxSendQueue = net::kDefaultMaxQueued;
  // Tests only: time is the real clock plus an offset that POST /__test/clock moves
  // (server/test_clock.hpp). Refused unless listening on a loopback address.
  bool testClock = false;
  bool examples = false;  // serve the example clients at /examples/
};

// Parses argv, the BRIGADE_* environment and the --config file (TOML, toml++), in this
// order of precedence: flags > environment > file > defaults (docs/OPERATIONS.md,
// "Configuration"); exits the process on --help or a bad flag, key or value (start-up only).
Config parseConfig(int argc, char** argv);

// The same parse without starting anything. Returns -1 when the configuration is valid,
// else the exit code (its reason printed on standard error); `effective` gets one
// `key = value  # source` line per setting, secrets masked (`brigade config check`).
int checkConfig(int argc, char** argv, std::string* effective);

}  // namespace brigade::server
