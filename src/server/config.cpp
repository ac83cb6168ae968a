#include "server/config.hpp"

#include <toml++/toml.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>

#include "core/log.hpp"
#include "core/result.hpp"
#include "server/version.hpp"

namespace brigade::server {

namespace {

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) items.push_back(item);
    start = end + 1;
  }
  return items;
}

// The --config file's settings as flags, placed before the command line's (the last
// occurrence of a flag wins: flags beat the file). A key whose BRIGADE_* variable is set is
// left out (the environment beats the file). `fromFile` gets the keys taken.
Result<std::vector<std::string>> fileArguments(const std::string& path, CLI::App& cli,
                                               std::vector<std::string>& fromFile) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return makeError("config", path + ":" + std::to_string(where.line) + ":" +
                                   std::to_string(where.column) + ": " +
                                   std::string(e.description()));
  }
  std::vector<std::string> args;
  for (const auto& [name, node] : table) {
    const std::string key(name.str());
    CLI::Option* option = key == "config" ? nullptr : cli.get_option_no_throw("--" + key);
    if (!option) return makeError("config", path + ": unknown key '" + key + "'");
    if (!option->get_envname().empty() && std::getenv(option->get_envname().c_str())) continue;
    const bool flag = option->get_expected_max() == 0;
    std::optional<std::string> value;
    if (auto b = node.value<bool>(); b && node.is_boolean()) {
      if (!flag) return makeError("config", path + ": '" + key + "' takes a value, not true/false");
      if (*b) args.push_back("--" + key);
      fromFile.push_back(key);
      continue;
    }
    if (flag) return makeError("config", path + ": '" + key + "' is true or false");
    if (node.is_string()) {
      value = std::string(*node.value<std::string_view>());
    } else if (node.is_integer()) {
      value = std::to_string(*node.value<int64_t>());
    } else if (node.is_floating_point()) {
      std::ostringstream text;
      text << *node.value<double>();
      value = text.str();
    } else if (const auto* list = node.as_array()) {  // a list option: cors-origin, trusted-proxy
      std::string joined;
      for (const auto& item : *list) {
        auto text = item.value<std::string_view>();
        if (!text) return makeError("config", path + ": '" + key + "' is a list of strings");
        joined += (joined.empty() ? "" : ",") + std::string(*text);
      }
      value = joined;
    } else {
      return makeError("config", path + ": '" + key + "' has a value of a type it cannot take");
    }
    args.push_back("--" + key);
    args.push_back(*value);
    fromFile.push_back(key);
  }
  return args;
}

// postgres://user:secret@host/db -> postgres://user:****@host/db
std::string maskPassword(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto at = url.find('@', scheme + 3);
  const auto colon = url.find(':', scheme + 3);
  if (at == std::string::npos || colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "****" + url.substr(at);
}

// Settings whose values are never printed.
bool secret(const std::string& name) {
  return name == "metrics-token";
}

}  // namespace

namespace {

// -1: parsed into `config`; else the exit code (the reason printed).
int parseInto(int argc, char** argv, Config& config, std::string* effective) {
  CLI::App cli{"Brigade: real-time restaurant management server"};
  // The last occurrence of a flag wins: the command line's come after the file's.
  cli.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cli.set_version_flag(
      "--version", std::string("brigade ") + BRIGADE_VERSION + " (git " + BRIGADE_GIT_COMMIT + ")");
  std::string configFile;
  cli.add_option("--config", configFile, "a TOML file of settings (keys: these flags' names)")
      ->envname("BRIGADE_CONFIG");
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
  cli.add_option("--db-writers", config.dbWriters,
                 "PostgreSQL connections that write, each committing its own batches")
      ->envname("BRIGADE_DB_WRITERS")
      ->check(CLI::Range(1, store::postgres::kMaxDbWriters))
      ->capture_default_str();
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
  auto* cert = cli.add_option("--tls-cert", config.tlsCert,
                              "PEM certificate chain: serve HTTPS and WSS (reloaded on SIGHUP)")
                   ->envname("BRIGADE_TLS_CERT");
  auto* key = cli.add_option("--tls-key", config.tlsKey, "PEM private key of --tls-cert")
                  ->envname("BRIGADE_TLS_KEY");
  cert->needs(key);
  key->needs(cert);
  cli.add_option("--redirect-http", config.redirectHttp,
                 "also listen on this port for plain HTTP, answered with a redirect to HTTPS")
      ->envname("BRIGADE_REDIRECT_HTTP")
      ->needs(cert);
  cli.add_option("--metrics-token", config.metricsToken, "bearer token that may read /metrics")
      ->envname("BRIGADE_METRICS_TOKEN");
  cli.add_option("--web-dir", config.webDir, "directory of the built panels")
      ->envname("BRIGADE_WEB_DIR");
  cli.add_flag("--examples", config.examples,
               "serve the example clients at /examples/ (the tutorial's client: "
               "/examples/tutorial/, docs/FROM-THE-TUTORIAL.md)")
      ->envname("BRIGADE_EXAMPLES");
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
  cli.add_option("--max-connections", config.maxConnections,
                 "open connections in all; more are answered 503 at once (default: the "
                 "descriptor limit less a reserve)")
      ->envname("BRIGADE_MAX_CONNECTIONS");
  cli.add_option("--max-connections-per-address", config.maxConnectionsPerAddress,
                 "open connections per client address; more are answered 429 (0: no cap)")
      ->envname("BRIGADE_MAX_CONNECTIONS_PER_ADDRESS")
      ->capture_default_str();
  cli.add_option("--max-pending-per-address", config.maxPendingPerAddress,
                 "connections per client address that have not completed a request yet "
                 "(0: no cap)")
      ->envname("BRIGADE_MAX_PENDING_PER_ADDRESS")
      ->capture_default_str();
  cli.add_option("--idle-timeout", config.idleTimeoutSeconds,
                 "seconds a connection may go without a complete request (idle keep-alive, "
                 "slow headers or body) before it is closed")
      ->envname("BRIGADE_IDLE_TIMEOUT")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli.add_option("--max-handshakes-per-address", config.maxHandshakesPerAddress,
                 "real-time sessions per client address opened but not yet connected; more "
                 "handshakes are answered 429 (0: no cap)")
      ->envname("BRIGADE_MAX_HANDSHAKES_PER_ADDRESS")
      ->capture_default_str();
  cli.add_option("--max-send-queue", config.maxSendQueue,
                 "bytes queued for a real-time client that does not read before it is "
                 "disconnected (a slow consumer)")
      ->envname("BRIGADE_MAX_SEND_QUEUE")
      ->check(CLI::Range(kMinSendQueueBytes, size_t{1} << 30))
      ->capture_default_str();
  std::string proxies;
  cli.add_option("--trusted-proxy", proxies,
                 "reverse proxies (addresses or networks, comma separated) whose "
                 "X-Forwarded-For names the client; without it the header is ignored")
      ->envname("BRIGADE_TRUSTED_PROXY");
  cli.add_option("--register-limit", config.registrationsPerAddress,
                 "accounts one client address may register per hour")
      ->envname("BRIGADE_REGISTER_LIMIT")
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
  cli.add_flag("--test-clock", config.testClock,
               "TESTS ONLY: POST /__test/clock {\"advance_ms\": N} moves the server's clock "
               "forward (loopback addresses only)");
  cli.add_option("--node-id", config.nodeId,
                 "this node's id, the first part of every session id so that a load balancer "
                 "can route long-polling to its owner (1-16 lowercase letters and digits; "
                 "default: random)")
      ->envname("BRIGADE_NODE_ID");
  cli.add_option("--log-format", config.logFormat,
                 "text, or json: one JSON object per line on standard error")
      ->envname("BRIGADE_LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cli.add_option("--log-level", config.logLevel, "trace, debug, info, warn, error")
      ->envname("BRIGADE_LOG_LEVEL")
      ->capture_default_str();
  // The file named by --config (or BRIGADE_CONFIG) goes first.
  std::vector<std::string> args{argv[0]};
  std::vector<std::string> fromFile;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--config" && i + 1 < argc) configFile = argv[i + 1];
    if (a.starts_with("--config=")) configFile = std::string(a.substr(9));
  }
  if (configFile.empty() && std::getenv("BRIGADE_CONFIG"))
    configFile = std::getenv("BRIGADE_CONFIG");
  if (!configFile.empty()) {
    auto fileArgs = fileArguments(configFile, cli, fromFile);
    if (!fileArgs) {
      std::cerr << "brigade: " << fileArgs.error().message << "\n";
      return 2;
    }
    args.insert(args.end(), fileArgs->begin(), fileArgs->end());
  }
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  std::vector<char*> all;
  for (auto& a : args) all.push_back(a.data());
  try {
    cli.parse(static_cast<int>(all.size()), all.data());
  } catch (const CLI::ParseError& e) {
    const int code = cli.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (effective) {
    for (const auto* option : cli.get_options()) {
      if (option->get_lnames().empty()) continue;
      const std::string& name = option->get_lnames().front();
      if (name == "help" || name == "config") continue;
      std::string value;
      if (option->count() > 0) {
        value = option->results().back();  // the last one given wins
        if (option->get_expected_max() == 0) value = "true";
      } else {
        value = option->get_default_str();
        if (option->get_expected_max() == 0 && value.empty()) value = "false";
      }
      if (secret(name) && !value.empty()) value = "****";
      if (name == "db") value = maskPassword(value);
      const bool fromEnv =
          !option->get_envname().empty() && std::getenv(option->get_envname().c_str());
      bool onCommandLine = false;
      for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--" + name || a.starts_with("--" + name + "=")) onCommandLine = true;
      }
      const char* source = onCommandLine ? "flag"
                           : fromEnv     ? "environment"
                           : std::find(fromFile.begin(), fromFile.end(), name) != fromFile.end()
                               ? "file"
                               : "default";
      std::string quoted;
      log::appendEscaped(quoted, value);
      *effective += name + " = \"" + quoted + "\"  # " + source + "\n";
    }
  }
  config.demo = !noDemo;
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "--listen must be address:port\n";
    return 2;
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
    return 2;
  }
  config.corsOrigins = splitList(cors);
  config.trustedProxies = splitList(proxies);
  return -1;
}

}  // namespace

Config parseConfig(int argc, char** argv) {
  Config config;
  if (int code = parseInto(argc, argv, config, nullptr); code >= 0) std::exit(code);
  return config;
}

int checkConfig(int argc, char** argv, std::string* effective) {
  Config config;
  return parseInto(argc, argv, config, effective);
}

}  // namespace brigade::server
