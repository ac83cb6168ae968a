#pragma once

// The Socket.IO v5 server: namespaces, middleware, events and acks, rooms and
// broadcasts. Close in spirit to Node's `socket.io` (see docs/ENGINE.md).
//
// Threads (docs/ARCHITECTURE.md, "Ownership and threads"): a socket lives on one
// event loop and its handlers run there; call a socket's methods from its handlers
// (or through Socket::post). Broadcasts (Server/Namespace::to(...).emit(...)) and
// runEvery() may be used from any thread. Namespaces, middleware and connection
// handlers are set up before the loops start.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/connection_limits.hpp"
#include "http/cors.hpp"
#include "http/server.hpp"
#include "net/connection.hpp"
#include "net/loop.hpp"
#include "protocol/engineio/server.hpp"
#include "protocol/socketio/broadcast.hpp"
#include "protocol/socketio/namespace.hpp"
#include "protocol/socketio/packet.hpp"
#include "protocol/socketio/socket.hpp"
#include "protocol/socketio/types.hpp"

namespace brigade::sio {

class EngineBridge;

struct ServerOptions {
  std::string path = "/socket.io/";
  int64_t pingInterval = 25000;
  int64_t pingTimeout = 20000;
  size_t maxPayload = 1000000;
  int64_t connectTimeout = 45000;  // from Engine.IO open to a namespace CONNECT
  bool allowPolling = true;
  bool allowWebSocket = true;
  bool allowUpgrades = true;
  http::CorsPolicy cors;
  // Adds a "pid" to CONNECT answers so that the stock client takes part in
  // connection state recovery (Socket::handshake().pid / offset on reconnect).
  bool connectionStateRecovery = false;
  bool serveClient = true;  // /socket.io/socket.io.js and .min.js
  unsigned threads = 0;     // event loops when the server owns them (0: one per core)
  size_t maxSendQueue = net::kDefaultMaxQueued;
  http::ConnectionLimitOptions limits;  // caps on open connections (listen() only)
  // Engine.IO sessions per client address that have not sent their CONNECT yet.
  size_t maxUnconnectedPerAddress = eio::kDefaultMaxUnconnectedPerAddress;  // 0: no cap
  std::shared_ptr<net::TlsContext> tls;  // listen(): HTTPS and WSS (net/tls.hpp)
  std::string nodeId;                    // see eio::EngineOptions::nodeId
};

// A task repeated by Server::runEvery until cancelled (or destroyed).
class Periodic {
 public:
  struct State;
  Periodic() = default;
  explicit Periodic(std::shared_ptr<State> state) : state_(std::move(state)) {}
  Periodic(Periodic&&) noexcept = default;
  Periodic& operator=(Periodic&& other) noexcept;
  ~Periodic() { cancel(); }
  // From any thread but the task itself: once it returns, the task is not running
  // and never runs again.
  void cancel();

 private:
  std::shared_ptr<State> state_;
};

class Server {
 public:
  // A server with its own event loops and HTTP server (listen() to start).
  explicit Server(ServerOptions options = {});
  // Mounted on an HTTP router whose server runs on `loops` (the application's).
  Server(net::LoopGroup& loops, http::Router& router, ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  const ServerOptions& options() const { return options_; }
  // Creates the namespace at start-up (before the loops run: throws after); from
  // then on only finds it (from any thread).
  Namespace& of(const std::string& name);
  // The main namespace "/".
  void use(Middleware middleware) { main_->use(std::move(middleware)); }
  void onConnection(ConnectionHandler handler) { main_->onConnection(std::move(handler)); }
  BroadcastOperator to(std::string room) { return main_->to(std::move(room)); }
  BroadcastOperator except(std::string room) { return main_->except(std::move(room)); }
  void emit(std::string_view event, Args args = {}) { main_->emit(event, std::move(args)); }

  // Runs fn every `ms` milliseconds on one of the server's loops (the first run
  // `ms` from now) until the returned handle is cancelled. From any thread.
  [[nodiscard]] Periodic runEvery(int64_t ms, std::function<void()> fn);

  // Own-loops mode: binds host:port (port 0 picks one), starts the loops.
  void listen(const std::string& host, uint16_t port);
  uint16_t port() const;
  http::Router& router() { return *router_; }
  net::LoopGroup& loops() { return *loops_; }
  eio::EngineServer& engine() { return *engine_; }
  // Disconnects every socket ("server shutting down") and stops listening.
  void close();

  // Engine-internal (client): the namespace called `name`, or nullptr.
  Namespace* find(detail::EngineAccess, const std::string& name) const;

 private:
  void init();

  ServerOptions options_;
  std::unique_ptr<net::LoopGroup> ownLoops_;
  std::unique_ptr<http::Router> ownRouter_;
  net::LoopGroup* loops_ = nullptr;
  http::Router* router_ = nullptr;
  std::unique_ptr<EngineBridge> bridge_;
  std::unique_ptr<eio::EngineServer> engine_;
  std::unique_ptr<http::HttpServer> http_;
  // Written before the loops start, then only read (by every loop and thread).
  std::unordered_map<std::string, std::unique_ptr<Namespace>> namespaces_;
  Namespace* main_ = nullptr;
};

}  // namespace brigade::sio
