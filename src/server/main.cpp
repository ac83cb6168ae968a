// brigade: one process serving the REST API, the panels and the real-time
// channel on one port, over the embedded SQLite store.
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <csignal>
#include <filesystem>
#include <future>
#include <iostream>
#include <optional>

#include <spdlog/sinks/stdout_color_sinks.h>
#include "app/app.hpp"
#include "app/demo.hpp"
#include "app/live.hpp"
#include "app/status_changed.hpp"
#include "app/unanswered_orders.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "net/loop.hpp"
#include "net/tls.hpp"
#include "protocol/socketio/server.hpp"
#include "server/admin_command.hpp"
#include "server/backup_command.hpp"
#include "server/cert_command.hpp"
#include "server/config.hpp"
#include "server/config_command.hpp"
#include "server/https_redirect.hpp"
#include "server/instance_lock.hpp"
#include "server/print_command.hpp"
#include "server/static_files.hpp"
#include "server/test_clock.hpp"
#include "store/await.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace {

// How long a stopping node waits for the writes it has queued (SIGTERM; a rolling
// restart): well inside the 10 s a service manager gives before SIGKILL.
constexpr std::chrono::seconds kDrainWrites{5};
volatile std::sig_atomic_t stopRequested = 0;
volatile std::sig_atomic_t reloadRequested = 0;
// An answer slower than this is logged at warn (docs/OPERATIONS.md, "Logs").
constexpr double kSlowRequestSeconds = 1.0;  // SIGHUP: read the TLS certificate again
}  // namespace

int main(int argc, char** argv) {
  using namespace brigade;
  // The tools: `brigade admin|print|backup|restore|cert ...` (logs on standard error only).
  struct Tool {
    std::string_view name;
    int (*run)(int, char**);
  };
  static constexpr Tool kTools[] = {
      {"admin", server::runAdminCommand},   {"print", server::runPrintCommand},
      {"backup", server::runBackupCommand}, {"restore", server::runRestoreCommand},
      {"cert", server::runCertCommand},     {"config", server::runConfigCommand}};
  for (const auto& tool : kTools) {
    if (argc > 1 && std::string_view(argv[1]) == tool.name) {
      spdlog::set_default_logger(spdlog::stderr_color_mt("brigade"));
      log::setLevel("warn");
      return tool.run(argc - 1, argv + 1);
    }
  }
  server::Config config = server::parseConfig(argc, argv);
  // Standard output carries the lines scripts read (demo accounts, listening); logs go
  // to standard error.
  spdlog::set_default_logger(spdlog::stderr_color_mt("brigade"));
  log::setLevel(config.logLevel.c_str());
  if (config.logFormat == "json") log::useJsonFormat();
  std::signal(SIGPIPE, SIG_IGN);

  http::TrustedProxies proxies;
  for (const auto& proxy : config.trustedProxies) {
    if (auto added = proxies.add(proxy); !added) {
      std::cerr << "brigade: --trusted-proxy: " << added.error().message << "\n";
      return 2;
    }
  }

  if (config.nodeId.empty()) {
    // Six characters of a random id, folded into the node id alphabet.
    static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (char ch : randomId(6).substr(0, 6)) {
      config.nodeId += kAlphabet[static_cast<unsigned char>(ch) % kAlphabet.size()];
    }
  } else if (!eio::isValidNodeId(config.nodeId)) {
    std::cerr << "brigade: --node-id: 1 to " << eio::kMaxNodeIdLength
              << " lowercase letters and digits\n";
    return 2;
  }

  if (!config.db.empty()) {
    if (auto valid = store::postgres::checkUrl(config.db); !valid) {
      std::cerr << "brigade: --db: malformed URL: " << valid.error().message << "\n";
      return 2;
    }
  }

  if (config.testClock && !server::isLoopback(config.host)) {
    std::cerr << "brigade: --test-clock is for tests and needs a loopback --listen address\n";
    return 2;
  }
  // One clock for the app and the store; only --test-clock ever moves it.
  auto clock = std::make_shared<Clock>();

  // One Brigade per data folder and per port: refused with exit code 2.
  std::error_code dirError;
  std::filesystem::create_directories(config.dataDir, dirError);
  auto lock = server::InstanceLock::acquire(config.dataDir);
  if (!lock) {
    std::cerr << "brigade: " << lock.error().message << "\n";
    return 2;
  }
  if (auto free = server::checkPortFree(config.host, config.port); !free) {
    std::cerr << "brigade: " << free.error().message << "\n";
    return 2;
  }

  std::unique_ptr<store::Store> store;
  store::StoreOptions storeOptions;
  storeOptions.retention = std::chrono::seconds(config.retentionSeconds);
  // Short retentions (tests, demos) are enforced about as often as they expire.
  storeOptions.retention_interval =
      std::min(storeOptions.retention_interval, std::chrono::seconds(config.retentionSeconds));
  if (config.testClock) storeOptions.clock = [clock] { return clock->wallNow(); };
  if (!config.db.empty()) {
    try {
      store::postgres::PostgresOptions options;
      options.url = config.db;
      options.node_id = config.nodeId;
      options.writers = config.dbWriters;
      options.store = storeOptions;
      store = store::postgres::openPostgresStore(options);
    } catch (const std::exception& e) {
      // Unreachable, not Brigade's, or of a newer schema: a configuration to fix.
      std::cerr << "brigade: cannot open the database: " << e.what() << "\n";
      return 2;
    }
  } else {
    try {
      std::filesystem::create_directories(config.dataDir);
      store::sqlite::SqliteOptions options;
      options.path = (std::filesystem::path(config.dataDir) / "brigade.db").string();
      options.store = storeOptions;
      store = store::sqlite::openSqliteStore(options);
    } catch (const std::exception& e) {
      std::cerr << "brigade: cannot open the database: " << e.what() << "\n";
      return 1;
    }
  }

  app::AppConfig appConfig;
  appConfig.deliveryFeeCents = config.deliveryFeeCents;
  appConfig.passwords.memLimit = config.pwhashMemLimit;
  appConfig.cors.origins = config.corsOrigins;
  appConfig.metricsToken = config.metricsToken;
  appConfig.tokenTtl = std::chrono::seconds(config.tokenTtlSeconds);
  appConfig.registrationsPerAddress = config.registrationsPerAddress;
  appConfig.clock = clock;
  app::App app(*store, appConfig);

  if (config.demo) {
    auto accounts = app::seedDemo(app);
    if (!accounts.empty()) {
      boost::json::array list;
      std::cout << "Demo data created. Sign in with:\n";
      for (const auto& account : accounts) {
        std::cout << "  " << account.role << ": " << account.email << " / " << account.password
                  << "\n";
        list.push_back(boost::json::object{
            {"role", account.role}, {"email", account.email}, {"password", account.password}});
      }
      std::cout << boost::json::serialize(boost::json::object{{"demo_accounts", list}})
                << std::endl;
    }
  }

  auto admins =
      store::await<int64_t>([&](auto done) { store->countUsers(store::Role::kAdmin, done); });
  if (admins && *admins == 0) {
    std::cout << "No admin account yet. Create the first one (the password is read from "
                 "standard input):\n  "
              << argv[0] << " admin create --email you@example.com --name \"Your Name\""
              << (config.db.empty() ? " --data-dir " + config.dataDir : std::string(" --db ..."))
              << "\n";
  }

  net::LoopGroup loops(config.threads ? config.threads : std::thread::hardware_concurrency());
  http::Router router;
  sio::ServerOptions ioOptions;
  ioOptions.cors = appConfig.cors;
  ioOptions.connectionStateRecovery = true;
  ioOptions.maxUnconnectedPerAddress = config.maxHandshakesPerAddress;
  ioOptions.nodeId = config.nodeId;
  ioOptions.maxSendQueue = config.maxSendQueue;
  sio::Server io(loops, router, ioOptions);
  app.mount(router);
  app::LiveOptions liveOptions;
  liveOptions.recheckMs = static_cast<int64_t>(config.socketRecheckSeconds * 1000);
  liveOptions.connectsPerMinute = config.connectsPerMinute;
  liveOptions.maxReplayEvents = config.maxReplayEvents;
  app::Live live(app, io, liveOptions);
  live.start();
  app::UnansweredOrders unanswered(app, io);
  unanswered.start();
  app::StatusChanged statusChanged(app, io);
  statusChanged.start();
  // Riders' offers: their ends, and the server's dispatch when the restaurant lets it.
  sio::Periodic offers = io.runEvery(app::kOfferSweepMs, [&app] { app.offers().sweep(nullptr); });
  if (config.testClock) {
    server::mountTestClock(
        router, *clock, *store,
        {[&live](std::function<void()> done) { live.runDue(std::move(done)); },
         [&unanswered](std::function<void()> done) { unanswered.sweep(std::move(done)); },
         [&app](std::function<void()> done) { app.offers().sweep(std::move(done)); }});
    spdlog::warn("--test-clock: POST /__test/clock moves this server's time (tests only)");
  }
  // Read once, here: requests are answered from memory, never from the disk.
  server::StaticFiles::index(
      server::findWebDir(config.webDir, argv[0]), {},
      config.examples ? server::Examples::kServed : server::Examples::kLeftOut)
      .mount(router);

  http::HttpOptions httpOptions;
  httpOptions.maxBody = app::kMaxBodyBytes;
  httpOptions.defaultHeaders = app::securityHeaders();
  httpOptions.idleTimeoutMs = static_cast<int64_t>(config.idleTimeoutSeconds * 1000);
  httpOptions.limits.maxConnections = config.maxConnections;
  httpOptions.limits.maxPerAddress = config.maxConnectionsPerAddress;
  httpOptions.limits.maxPendingPerAddress = config.maxPendingPerAddress;
  httpOptions.trustedProxies = std::move(proxies);
  httpOptions.observe = [&app](std::string_view route, int status, double seconds,
                               std::string_view requestId) {
    app.metrics().observeRequest(route, status, seconds);
    // Every answer at debug; server errors and slow answers (not long-polls) at warn, with
    // the id the client has in its X-Request-Id.
    const bool failed = status >= 500;
    const bool slow = seconds >= kSlowRequestSeconds && route != "/socket.io/";
    log::event(
        failed || slow ? spdlog::level::warn : spdlog::level::debug, "request",
        {log::field("request_id", requestId), log::field("route", route),
         log::field("status", static_cast<long long>(status)), log::field("seconds", seconds)});
  };
  if (!config.tlsCert.empty()) {
    auto tls = net::TlsContext::load(config.tlsCert, config.tlsKey);
    if (!tls) {
      std::cerr << "brigade: --tls-cert/--tls-key: " << tls.error().message << "\n";
      return 2;
    }
    httpOptions.tls = *tls;
  }
  http::HttpServer http(loops, router, httpOptions);
  // --redirect-http: plain HTTP on another port, every request sent to the HTTPS one.
  http::Router redirectRouter;
  std::optional<http::HttpServer> redirect;
  try {
    http.listen(config.host, config.port);
    if (config.redirectHttp) {
      redirectRouter.add("/", server::httpsRedirect(http.port()));
      http::HttpOptions plain;
      plain.defaultHeaders = app::securityHeaders();
      plain.trustedProxies = httpOptions.trustedProxies;
      redirect.emplace(loops, redirectRouter, plain);
      redirect->listen(config.host, config.redirectHttp);
    }
  } catch (const std::exception& e) {
    std::cerr << "brigade: cannot listen on " << config.host << ":"
              << (redirect ? config.redirectHttp : config.port) << ": " << e.what() << "\n";
    return 1;
  }
  loops.start();
  const char* scheme = httpOptions.tls ? "https" : "http";
  std::string where = config.host + ":" + std::to_string(http.port());
  std::cout << "{\"listening\":\"" << where << "\",\"scheme\":\"" << scheme << "\",\"node\":\""
            << config.nodeId << "\"";
  if (redirect)
    std::cout << ",\"redirect_http\":\"" << config.host << ":" << redirect->port() << "\"";
  std::cout << "}" << std::endl;
  spdlog::info("brigade node {} listening on {}://{}", config.nodeId, scheme, where);

  std::signal(SIGINT, [](int) { stopRequested = 1; });
  std::signal(SIGTERM, [](int) { stopRequested = 1; });
  std::signal(SIGHUP, [](int) { reloadRequested = 1; });
  while (!stopRequested) {
    pause();
    if (reloadRequested) {
      reloadRequested = 0;
      if (httpOptions.tls) {
        // New connections get the new certificate; open ones keep theirs.
        if (auto reloaded = httpOptions.tls->reload(); reloaded) {
          spdlog::info("tls: certificate reloaded from {}", config.tlsCert);
        } else {
          spdlog::error("tls: {} (the previous certificate stays in use)",
                        reloaded.error().message);
        }
      }
    }
  }
  spdlog::info("brigade stopping");
  // Shutdown order (docs/ARCHITECTURE.md, "Ownership and threads"): the store's
  // threads call back into the app, Live and the loops' queues, so everything they
  // touch must outlive them, and nothing may call the store once it is gone.
  http.close();  // no new connections
  if (redirect) redirect->close();
  live.stop();        // no more change-stream callbacks (unsubscribe waits one out) or rechecks
  unanswered.stop();  // no new pass (one running ends in the store's answers below)
  statusChanged.stop();
  offers.cancel();
  io.close();  // every socket leaves ("server shutting down"), sessions end: clients
               // reconnect (to another node behind a balancer)
  // Writes already queued commit and their answers reach the loops (bounded: a node
  // stopping while its database is unreachable still exits in time).
  auto flushed = std::make_shared<std::promise<void>>();
  store->flush([flushed](Result<void>) { flushed->set_value(); });
  if (flushed->get_future().wait_for(kDrainWrites) != std::future_status::ready) {
    spdlog::warn("brigade: writes still queued after {} s; stopping anyway", kDrainWrites.count());
  }
  loops.drain();  // ... the closes and those answers happen on the loops: let them run
  loops.stop();   // from here no loop runs: nothing new reaches the store or the app
  app.stop();     // queued password hashing finishes (into the store)
  store.reset();  // answers what is queued (callbacks only post to the stopped loops), ends
  // Then, in reverse order of declaration: http, live, io, router, loops (their
  // queued tasks are destroyed unrun), app.
  return 0;
}
