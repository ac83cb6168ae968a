#include "http/server.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "core/random.hpp"
#include "http/request_parser.hpp"
#include "net/loop.hpp"

namespace brigade::http {

std::string errorJson(std::string_view code, std::string_view message) {
  // Codes and messages here are fixed ASCII strings of the server's own.
  std::string out = R"({"error":{"code":")";
  out += code;
  out += R"(","message":")";
  out += message;
  out += "\"}}";
  return out;
}

std::string refusalBytes(ConnectionLimiter::Verdict verdict) {
  bool full = verdict == ConnectionLimiter::Verdict::kServerFull;
  auto response =
      full ? Response::json(503, errorJson("server_full", "too many connections, retry later"))
           : Response::json(
                 429, errorJson("too_many_connections", "too many connections from your address"));
  response.set("Retry-After", "5");
  return serialize(response, false);
}

namespace {

int64_t monotonicMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A proxy's id when it is one of ours and the id is plain (at most 64 of [A-Za-z0-9._-]),
// else 12 random characters.
std::string requestIdFor(const Request& request, bool fromTrustedProxy) {
  if (fromTrustedProxy) {
    const std::string_view given = request.header("x-request-id");
    const bool plain =
        !given.empty() && given.size() <= kMaxRequestIdLength &&
        std::all_of(given.begin(), given.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
        });
    if (plain) return std::string(given);
  }
  return randomId(9);
}

}  // namespace

Responder::Responder(net::TcpConnectionPtr connection, HttpConnectionHandler* owner, bool keepAlive,
                     bool head, Coding accept)
    : connection_(std::move(connection)),
      owner_(owner),
      keepAlive_(keepAlive),
      head_(head),
      accept_(accept),
      startedUs_(monotonicMicros()) {}

namespace {

bool hasHeader(const Headers& headers, std::string_view lowerName) {
  for (const auto& [name, value] : headers) {
    if (name.size() == lowerName.size() &&
        std::equal(name.begin(), name.end(), lowerName.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == b;
        })) {
      return true;
    }
  }
  return false;
}

// Large enough answers of a text type go out gzipped when the client takes it (static files
// come already coded, with their Content-Encoding).
void compressForClient(Response& response, Coding accept) {
  if (accept == Coding::kIdentity || response.body.size() < kMinCompressBytes ||
      !compressible(response.contentType) || hasHeader(response.headers, "content-encoding")) {
    return;
  }
  auto coded = gzipCompress(response.body, kDynamicGzipLevel);
  if (!coded || coded->size() >= response.body.size()) return;
  response.body = std::move(*coded);
  response.set("Content-Encoding", "gzip");
  for (auto& [name, value] : response.headers) {
    if (name.size() == 4 && std::tolower(static_cast<unsigned char>(name[0])) == 'v' &&
        hasHeader({{name, value}}, "vary")) {
      value += ", Accept-Encoding";  // one Vary, every reason in it
      return;
    }
  }
  response.set("Vary", "Accept-Encoding");
}

}  // namespace

void Responder::send(Response response) {
  if (connection_->loop().inLoop()) {
    write(std::move(response));
    return;
  }
  auto self = shared_from_this();
  connection_->loop().post(
      [self, r = std::move(response)]() mutable { self->write(std::move(r)); });
}

void Responder::write(Response response) {
  if (answered_) return;
  answered_ = true;
  onAbort_ = nullptr;
  if (connection_->closed()) return;
  for (const auto& header : owner_->options_.defaultHeaders) response.headers.push_back(header);
  if (!response.contentLength) compressForClient(response, accept_);
  if (head_ && !response.contentLength) {
    response.contentLength = response.body.size();
    response.body.clear();
  }
  if (!requestId_.empty()) response.set("X-Request-Id", requestId_);
  const int status = response.status;
  connection_->send(serialize(response, keepAlive_));
  if (const auto& observe = owner_->options_.observe) {
    observe(route_, status, static_cast<double>(monotonicMicros() - startedUs_) / 1e6, requestId_);
  }
  owner_->finished(keepAlive_);
}

void Responder::aborted() {
  answered_ = true;
  if (auto fn = std::move(onAbort_)) fn();
}

struct HttpConnectionHandler::ParserBox {
  explicit ParserBox(size_t maxBody) : parser(maxBody) {}
  RequestParser parser;
};

HttpConnectionHandler::HttpConnectionHandler(net::TcpConnection& connection, const Router& router,
                                             const HttpOptions& options,
                                             std::shared_ptr<net::FifoTimer> idle,
                                             std::shared_ptr<ConnectionTicket> ticket)
    : connection_(connection),
      router_(router),
      options_(options),
      idle_(std::move(idle)),
      ticket_(std::move(ticket)),
      peer_(connection.remoteAddress()),
      parser_(std::make_unique<ParserBox>(options.maxBody)) {
  idleHook_.owner = this;
  armIdle();
}

HttpConnectionHandler::~HttpConnectionHandler() {
  cancelIdle();
}

std::shared_ptr<net::FifoTimer> HttpConnectionHandler::makeIdleTimer(net::Loop& loop,
                                                                     int64_t timeoutMs) {
  return std::make_shared<net::FifoTimer>(loop, timeoutMs, [](net::FifoHook& hook) {
    static_cast<IdleHook&>(hook).owner->connection_.close(false);
  });
}

void HttpConnectionHandler::armIdle() {
  if (idle_) idle_->arm(idleHook_);
}

void HttpConnectionHandler::cancelIdle() {
  if (idle_) idle_->cancel(idleHook_);
}

void HttpConnectionHandler::refuse(int status) {
  const char* code = status == 413   ? "payload_too_large"
                     : status == 431 ? "headers_too_large"
                                     : "malformed_request";
  auto response = Response::json(status, errorJson(code, reasonPhrase(status)));
  for (const auto& header : options_.defaultHeaders) response.headers.push_back(header);
  connection_.send(serialize(response, false));
  // The client may still be sending (the body we refused): linger, or the reset
  // that closing with unread input causes could destroy the answer in transit.
  connection_.closeLingering();
}

size_t HttpConnectionHandler::onData(std::string_view data) {
  size_t used = 0;
  while (!current_ && used < data.size() && !connection_.closed()) {
    auto step = parser_->parser.feed(data.substr(used));
    used += step.consumed;
    if (step.state == RequestParser::State::kError) {
      refuse(step.errorStatus);
      return data.size();
    }
    if (step.state == RequestParser::State::kNeedMore) return used;
    Request request = parser_->parser.take();
    request.peerAddress = peer_;
    request.remoteAddress =
        options_.trustedProxies.clientAddress(peer_, request.header("x-forwarded-for"));
    if (options_.tls) request.scheme = "https";
    request.requestId = requestIdFor(request, options_.trustedProxies.contains(peer_));
    if (std::string_view proto = request.header("x-forwarded-proto");
        !proto.empty() && options_.trustedProxies.contains(peer_)) {
      request.scheme = proto == "https" ? "https" : "http";
    }
    if (ticket_) {
      ticket_->requestSeen();
      // A trusted proxy's connection counts against the client it forwards for.
      if (!ticket_->attribute(request.remoteAddress)) {
        connection_.send(refusalBytes(ConnectionLimiter::Verdict::kAddressFull));
        connection_.closeLingering();
        return data.size();
      }
    }
    const Route* route = router_.find(request.path);
    cancelIdle();  // a request is in progress (or the connection changes hands)
    if (request.isWebSocketUpgrade()) {
      if (route && route->upgrade) {
        route->upgrade(std::move(request), connection_.shared_from_this(), data.substr(used));
        return data.size();  // the connection belongs to the new handler now
      }
      refuse(400);
      return data.size();
    }
    bool head = request.method == "HEAD" && route && route->headAsGet;
    if (head) request.method = "GET";
    current_ =
        std::make_shared<Responder>(connection_.shared_from_this(), this, request.keepAlive, head,
                                    preferredCoding(request.header("accept-encoding"), false));
    current_->setRequestId(request.requestId);
    if (!route || !route->handle) {
      current_->send(Response::json(404, errorJson("not_found", "no such path")));
      continue;
    }
    current_->setRoute(route->label);
    auto responder = current_;
    route->handle(std::move(request), responder);
  }
  return used;
}

void HttpConnectionHandler::finished(bool keepAlive) {
  current_.reset();
  if (!keepAlive) {
    connection_.close(true);
    return;
  }
  armIdle();
  connection_.resume();
}

void HttpConnectionHandler::onClose(std::string_view) {
  cancelIdle();
  ticket_.reset();
  if (auto responder = std::move(current_)) responder->aborted();
}

void Router::add(std::string path, Route route) {
  route.label = path;
  routes_.emplace_back(std::move(path), std::move(route));
}

const Route* Router::find(std::string_view path) const {
  const Route* best = nullptr;
  size_t bestLength = 0;
  for (const auto& [pattern, route] : routes_) {
    bool match = pattern.ends_with('/')
                     ? (path.starts_with(pattern) ||
                        path == std::string_view(pattern).substr(0, pattern.size() - 1))
                     : path == pattern;
    if (match && pattern.size() >= bestLength) {
      best = &route;
      bestLength = pattern.size();
    }
  }
  return best;
}

HttpServer::HttpServer(net::LoopGroup& loops, const Router& router, HttpOptions options)
    : loops_(loops), router_(router), options_(std::move(options)), limiter_(options_.limits) {}

HttpServer::~HttpServer() {
  close();
}

void HttpServer::listen(const std::string& host, uint16_t port) {
  for (unsigned i = 0; i < loops_.size(); ++i) {
    idleTimers_.push_back(
        HttpConnectionHandler::makeIdleTimer(loops_.at(i), options_.idleTimeoutMs));
  }
  listener_ = std::make_unique<net::Listener>(loops_, [this](const net::TcpConnectionPtr& tcp) {
    std::string peer = tcp->remoteAddress();
    auto admission = limiter_.admit(peer, !options_.trustedProxies.contains(peer));
    if (!admission.ticket) {
      // Answered at once and closed: a client over a cap learns why instead of
      // waiting in the accept queue, and the descriptor is free again. Over TLS no
      // answer can be sent before a handshake: closed at once.
      if (options_.tls) {
        tcp->close(false);
        return;
      }
      tcp->send(refusalBytes(admission.verdict));
      tcp->close(true);
      return;
    }
    const net::TcpConnectionPtr c = options_.tls ? net::wrapTls(tcp, *options_.tls) : tcp;
    c->attach(admission.ticket);
    c->setHandler(std::make_unique<HttpConnectionHandler>(
        *c, router_, options_, idleTimers_[c->loop().index()], std::move(admission.ticket)));
  });
  listener_->listen(host, port);
}

uint16_t HttpServer::port() const {
  return listener_ ? listener_->port() : 0;
}

void HttpServer::close() {
  if (listener_) listener_->close();
}

}  // namespace brigade::http
