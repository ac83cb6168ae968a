#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/compression.hpp"
#include "http/connection_limits.hpp"
#include "http/message.hpp"
#include "http/trusted_proxies.hpp"
#include "net/connection.hpp"
#include "net/fifo_timer.hpp"
#include "net/listener.hpp"
#include "net/tls.hpp"

namespace brigade::http {

class HttpConnectionHandler;

// The answer side of one request. send() may be called from any thread, once;
// the bytes are written on the connection's own loop.
class Responder : public std::enable_shared_from_this<Responder> {
 public:
  // `accept`: the coding the request accepts for a compressed answer (compression.hpp).
  Responder(net::TcpConnectionPtr connection, HttpConnectionHandler* owner, bool keepAlive,
            bool head = false, Coding accept = Coding::kIdentity);

  void send(Response response);
  bool answered() const { return answered_; }
  // The route this request is counted under (HttpOptions::observe): the router's entry
  // ("/socket.io/", "/healthz"), refined by whoever knows better ("POST /api/orders/:id").
  // On the connection's loop, before send().
  void setRoute(std::string route) { route_ = std::move(route); }
  void setRequestId(std::string id) { requestId_ = std::move(id); }
  net::Loop& loop() { return connection_->loop(); }
  // Runs (on the connection's loop) if the connection closes before the answer.
  void onAbort(std::function<void()> fn) { onAbort_ = std::move(fn); }

 private:
  friend class HttpConnectionHandler;
  void write(Response response);
  void aborted();

  net::TcpConnectionPtr connection_;
  HttpConnectionHandler* owner_;
  bool keepAlive_;
  bool head_;  // a HEAD request served as GET: the answer goes without its body
  Coding accept_;
  bool answered_ = false;
  std::function<void()> onAbort_;
  std::string route_ = "unmatched";
  std::string requestId_;
  int64_t startedUs_ = 0;
};
using ResponderPtr = std::shared_ptr<Responder>;

struct Route {
  std::function<void(Request&&, const ResponderPtr&)> handle;
  // Takes over the connection for a WebSocket upgrade; `leftover` are bytes that
  // arrived after the request. Optional: without it upgrades get 400.
  std::function<void(Request&&, const net::TcpConnectionPtr&, std::string_view leftover)> upgrade;
  // HEAD is answered as GET without the body (RFC 9110: wherever GET works). Off
  // where a GET has effects (Engine.IO's long-poll takes packets off a queue).
  bool headAsGet = true;
  std::string label;  // set by Router::add: the path it was added under
};

// Routes by path: an entry ending in '/' matches every path under it, others match
// exactly; the longest match wins.
class Router {
 public:
  void add(std::string path, Route route);
  const Route* find(std::string_view path) const;

 private:
  std::vector<std::pair<std::string, Route>> routes_;
};

// The longest X-Request-Id taken from a trusted proxy (longer ones are replaced).
inline constexpr size_t kMaxRequestIdLength = 64;

// A connection that has no request in progress for this long is closed (idle
// keep-alive connections, and slow or stalled clients that never finish a request).
inline constexpr int64_t kHttpIdleTimeoutMs = 30000;

struct HttpOptions {
  size_t maxBody = kDefaultMaxBody;
  int64_t idleTimeoutMs = kHttpIdleTimeoutMs;
  Headers defaultHeaders;  // added to every answer (security headers)
  ConnectionLimitOptions limits;
  TrustedProxies trustedProxies;  // whose X-Forwarded-For names the client
  // HTTPS (and WSS) on this server's port when set (net/tls.hpp).
  std::shared_ptr<net::TlsContext> tls;
  // Told of every answer sent: its route (Responder::setRoute), status and the time from
  // the request's arrival to the answer's hand-over to the connection. On the
  // connection's loop; must be cheap and thread-safe (app/metrics.cpp).
  std::function<void(std::string_view route, int status, double seconds,
                     std::string_view requestId)>
      observe;
};

// The answer to a connection refused at accept (503 server full, 429 too many from
// one address), sent before the connection is closed.
std::string refusalBytes(ConnectionLimiter::Verdict verdict);

// The error body for requests refused before routing, in the product's error shape.
std::string errorJson(std::string_view code, std::string_view message);

// HTTP/1.1 server on a loop group, keep-alive, requests answered in order.
class HttpServer {
 public:
  HttpServer(net::LoopGroup& loops, const Router& router, HttpOptions options = {});
  ~HttpServer();
  void listen(const std::string& host, uint16_t port);
  uint16_t port() const;
  void close();

 private:
  net::LoopGroup& loops_;
  const Router& router_;
  HttpOptions options_;
  ConnectionLimiter limiter_;
  std::vector<std::shared_ptr<net::FifoTimer>> idleTimers_;  // one per loop
  std::unique_ptr<net::Listener> listener_;
};

// Serves one connection (exposed for in-memory tests).
class HttpConnectionHandler final : public net::ConnectionHandler {
 public:
  // `idle` (optional) closes the connection when no request is in progress for its
  // duration; the handler arms it while waiting for a request.
  // `ticket` (optional) is the connection's place in the per-address counts: the
  // handler marks its first request and, behind a trusted proxy, moves it onto the
  // forwarded client's address.
  HttpConnectionHandler(net::TcpConnection& connection, const Router& router,
                        const HttpOptions& options, std::shared_ptr<net::FifoTimer> idle = nullptr,
                        std::shared_ptr<ConnectionTicket> ticket = nullptr);
  ~HttpConnectionHandler() override;
  // The idle timer of a loop's HTTP connections: closes those it expires.
  // Shared by the loop's handlers, each of which keeps it alive.
  static std::shared_ptr<net::FifoTimer> makeIdleTimer(net::Loop& loop, int64_t timeoutMs);
  size_t onData(std::string_view data) override;
  void onClose(std::string_view reason) override;

 private:
  friend class Responder;
  void finished(bool keepAlive);
  void refuse(int status);

  struct IdleHook : net::FifoHook {
    HttpConnectionHandler* owner = nullptr;
  };
  void armIdle();
  void cancelIdle();

  net::TcpConnection& connection_;
  const Router& router_;
  const HttpOptions& options_;
  std::shared_ptr<net::FifoTimer> idle_;
  std::shared_ptr<ConnectionTicket> ticket_;
  std::string peer_;
  IdleHook idleHook_;
  struct ParserBox;
  std::unique_ptr<ParserBox> parser_;
  std::shared_ptr<Responder> current_;
};

}  // namespace brigade::http
