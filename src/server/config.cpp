#include "server/config.hpp"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

namespace brigade::server {

Config parseConfig(int argc, char** argv) {
  Config config;
  CLI::App cli{"Brigade: real-time restaurant management server"};
  std::string listen = config.host + ":" + std::to_string(config.port);
  std::string cors;
  cli.add_option("--listen", listen, "address:port to listen on (port 0 picks a free one)")
      ->envname("BRIGADE_LISTEN")
      ->capture_default_str();
  cli.add_option("--data-dir", config.dataDir, "where the SQLite database lives")
      ->envname("BRIGADE_DATA_DIR")
      ->capture_default_str();
  bool noDemo = false;
  cli.add_flag("--no-demo", noDemo, "do not create the demo menu and accounts on first start")
      ->envname("BRIGADE_NO_DEMO");
  cli.add_option("--db", config.db, "postgres://... to share one database between nodes")
      ->envname("BRIGADE_DB");
  cli.add_option("--cors-origin", cors,
                 "origins allowed to call the API and open the real-time channel from a "
                 "browser, comma separated (default: same origin only)")
      ->envname("BRIGADE_CORS_ORIGIN");
  cli.add_option("--threads", config.threads, "event loops (default: one per core)")
      ->envname("BRIGADE_THREADS");
  cli.add_option("--delivery-fee-cents", config.deliveryFeeCents, "delivery fee added to orders")
      ->envname("BRIGADE_DELIVERY_FEE_CENTS")
      ->capture_default_str();
  cli.add_option("--pwhash-memlimit", config.pwhashMemLimit,
                 "Argon2id memory per password hash, bytes (default 64 MiB)")
      ->envname("BRIGADE_PWHASH_MEMLIMIT");
  cli.add_option("--metrics-token", config.metricsToken, "bearer token that may read /metrics")
      ->envname("BRIGADE_METRICS_TOKEN");
  cli.add_option("--web-dir", config.webDir, "directory of the built panels")
      ->envname("BRIGADE_WEB_DIR");
  cli.add_option("--change-retention", config.retentionSeconds,
                 "seconds that changes are kept for replay and GET /api/changes (default 7 days)")
      ->envname("BRIGADE_CHANGE_RETENTION")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli.add_option("--token-ttl", config.tokenTtlSeconds,
                 "seconds a sign-in token lives (default 30 days)")
      ->envname("BRIGADE_TOKEN_TTL")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli.add_option("--socket-recheck", config.socketRecheckSeconds,
                 "seconds between checks of live connections' tokens, users and roles")
      ->envname("BRIGADE_SOCKET_RECHECK")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli.add_option("--connect-rate", config.connectsPerMinute,
                 "real-time connections one user may open per minute; more are refused "
                 "with rate_limited")
      ->envname("BRIGADE_CONNECT_RATE")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli.add_option("--max-replay-events", config.maxReplayEvents,
                 "events a reconnecting socket may be replayed; beyond, it gets resync "
                 "too_far_behind and reloads over REST")
      ->envname("BRIGADE_MAX_REPLAY_EVENTS")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli.add_option("--log-level", config.logLevel, "trace, debug, info, warn, error")
      ->envname("BRIGADE_LOG_LEVEL")
      ->capture_default_str();
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(cli.exit(e));
  }
  config.demo = !noDemo;
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "--listen must be address:port\n";
    std::exit(2);
  }
  config.host = listen.substr(0, colon);
  if (config.host.size() > 2 && config.host.front() == '[') {
    config.host = config.host.substr(1, config.host.size() - 2);
  }
  try {
    int port = std::stoi(listen.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    config.port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    std::cerr << "--listen: bad port\n";
    std::exit(2);
  }
  size_t start = 0;
  while (start < cors.size()) {
    size_t end = cors.find(',', start);
    if (end == std::string::npos) end = cors.size();
    std::string origin = cors.substr(start, end - start);
    if (!origin.empty()) config.corsOrigins.push_back(origin);
    start = end + 1;
  }
  return config;
}

}  // namespace brigade::server
