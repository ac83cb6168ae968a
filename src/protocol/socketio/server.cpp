#include "protocol/socketio/server.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "core/assert.hpp"
#include "protocol/socketio/client.hpp"
#include "protocol/socketio/client_bundle.hpp"

namespace brigade::sio {

using detail::kEngine;

// ------------------------------------------------------------------ Periodic

// The task runs under the mutex, so that cancel() returns only once it is not
// running: what the task captures may be destroyed right after cancel().
struct Periodic::State {
  std::mutex mutex;
  std::function<void()> fn;  // empty once cancelled
  net::Loop* loop = nullptr;
  int64_t ms = 0;

  static void arm(const std::shared_ptr<State>& state) {
    state->loop->runAfter(state->ms, [weak = std::weak_ptr<State>(state)] {
      auto self = weak.lock();
      if (!self) return;
      {
        std::lock_guard lock(self->mutex);
        if (!self->fn) return;
        self->fn();
      }
      arm(self);
    });
  }
};

Periodic& Periodic::operator=(Periodic&& other) noexcept {
  if (this != &other) {
    cancel();
    state_ = std::move(other.state_);
  }
  return *this;
}

void Periodic::cancel() {
  if (!state_) return;
  std::function<void()> fn;
  {
    std::lock_guard lock(state_->mutex);
    fn = std::move(state_->fn);
    state_->fn = nullptr;
  }
  state_.reset();
}

// ------------------------------------------------------------------ Server

Server::Server(ServerOptions options) : options_(std::move(options)) {
  unsigned threads = options_.threads ? options_.threads : std::thread::hardware_concurrency();
  ownLoops_ = std::make_unique<net::LoopGroup>(threads ? threads : 1);
  ownRouter_ = std::make_unique<http::Router>();
  loops_ = ownLoops_.get();
  router_ = ownRouter_.get();
  init();
}

Server::Server(net::LoopGroup& loops, http::Router& router, ServerOptions options)
    : options_(std::move(options)), loops_(&loops), router_(&router) {
  init();
}

Server::~Server() {
  if (ownLoops_) {
    if (http_) http_->close();
    ownLoops_->stop();
  }
}

void Server::init() {
  if (!options_.path.ends_with('/')) options_.path += '/';
  bridge_ = std::make_unique<EngineBridge>(*this, *loops_, options_.connectTimeout);
  eio::EngineOptions e;
  e.path = options_.path;
  e.pingInterval = options_.pingInterval;
  e.pingTimeout = options_.pingTimeout;
  e.maxPayload = options_.maxPayload;
  e.allowPolling = options_.allowPolling;
  e.allowWebSocket = options_.allowWebSocket;
  e.allowUpgrades = options_.allowUpgrades;
  e.cors = options_.cors;
  e.maxSendQueue = options_.maxSendQueue;
  e.maxUnconnectedPerAddress = options_.maxUnconnectedPerAddress;
  e.nodeId = options_.nodeId;
  engine_ = std::make_unique<eio::EngineServer>(*loops_, e, *bridge_);
  engine_->mount(*router_);
  if (options_.serveClient) mountClientBundle(*router_, options_.path);
  main_ = &of("/");
}

Namespace& Server::of(const std::string& name) {
  std::string key = name.empty() || name[0] != '/' ? "/" + name : name;
  if (auto it = namespaces_.find(key); it != namespaces_.end()) return *it->second;
  // The loops look namespaces up without a lock (Client::connect, broadcasts).
  if (loops_->started()) throw std::logic_error("sio::Server::of(\"" + key + "\") after start");
  auto& slot = namespaces_[key];
  slot = std::make_unique<Namespace>(kEngine, *this, *loops_, key);
  return *slot;
}

Namespace* Server::find(detail::EngineAccess, const std::string& name) const {
  auto it = namespaces_.find(name);
  return it == namespaces_.end() ? nullptr : it->second.get();
}

Periodic Server::runEvery(int64_t ms, std::function<void()> fn) {
  auto state = std::make_shared<Periodic::State>();
  state->fn = std::move(fn);
  state->loop = &loops_->at(0);
  state->ms = ms;
  state->loop->dispatch([state] { Periodic::State::arm(state); });
  return Periodic(state);
}

void Server::listen(const std::string& host, uint16_t port) {
  http::HttpOptions httpOptions;
  httpOptions.maxBody = std::max<size_t>(options_.maxPayload, http::kDefaultMaxBody);
  httpOptions.limits = options_.limits;
  httpOptions.tls = options_.tls;
  http_ = std::make_unique<http::HttpServer>(*loops_, *router_, httpOptions);
  http_->listen(host, port);
  if (ownLoops_) ownLoops_->start();
}

uint16_t Server::port() const {
  return http_ ? http_->port() : 0;
}

void Server::close() {
  // No DISCONNECT packet: like Node's io.close(), the transports just close, so
  // clients reconnect to the restarted server by themselves.
  for (auto& [name, nsp] : namespaces_) {
    nsp->closeSockets(kEngine, DisconnectReason::kServerShuttingDown);
  }
  engine_->closeAll();
  if (http_) http_->close();
}

}  // namespace brigade::sio
