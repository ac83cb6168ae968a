#include "protocol/engineio/server.hpp"

#include <atomic>
#include <unordered_map>

#include "core/assert.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "ws/frame.hpp"

namespace brigade::eio {

namespace {

// A session id starts with its loop's letter, so a request arriving on another
// loop is routed to the session's loop without any shared table or lock.
constexpr std::string_view kLoopLetters =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Engine.IO's error codes for refused HTTP requests (as Node's engine.io).
enum ErrorCode {
  kUnknownTransport = 0,
  kUnknownSid = 1,
  kBadHandshakeMethod = 2,
  kBadRequest = 3,
  kForbidden = 4,
  kUnsupportedVersion = 5
};
constexpr const char* kTooManyHandshakes = "Too many sessions waiting to connect from your address";
constexpr const char* kErrorMessages[] = {
    "Transport unknown", "Session ID unknown", "Bad handshake method",
    "Bad request",       "Forbidden",          "Unsupported protocol version"};

const OutPacketPtr& pingPacket() {
  static const OutPacketPtr packet = makeOutPacket(PacketType::kPing, {});
  return packet;
}
const OutPacketPtr& noopPacket() {
  static const OutPacketPtr packet = makeOutPacket(PacketType::kNoop, {});
  return packet;
}
const OutPacketPtr& closePacket() {
  static const OutPacketPtr packet = makeOutPacket(PacketType::kClose, {});
  return packet;
}

void refuseConnection(const net::TcpConnectionPtr& connection, const http::Response& response) {
  connection->send(http::serialize(response, false));
  connection->closeLingering();
}

}  // namespace

Handshake::Handshake(const http::Request& request, int64_t issuedMs)
    : address_(request.remoteAddress), issuedMs_(issuedMs) {
  size_t size = request.target.size() + 1;
  for (const auto& [name, value] : request.headers) size += name.size() + value.size() + 2;
  raw_.reserve(size);
  raw_ += request.target;
  raw_ += '\n';
  for (const auto& [name, value] : request.headers) {
    // Header values cannot hold a raw newline (the parser refuses them).
    raw_ += name;
    raw_ += '\t';
    raw_ += value;
    raw_ += '\n';
  }
}

std::string_view Handshake::url() const {
  std::string_view all = raw_;
  return all.substr(0, all.find('\n'));
}

std::string_view Handshake::header(std::string_view lowerName) const {
  std::string_view all = raw_;
  size_t line = all.find('\n');
  while (line != std::string_view::npos && line + 1 < all.size()) {
    size_t start = line + 1;
    size_t end = all.find('\n', start);
    std::string_view entry = all.substr(start, end - start);
    size_t tab = entry.find('\t');
    if (entry.substr(0, tab) == lowerName) return entry.substr(tab + 1);
    line = end;
  }
  return {};
}

std::optional<std::string> Handshake::queryParam(std::string_view name) const {
  http::Request request;
  request.target = std::string(url());
  return request.queryParam(name);
}

// The WebSocket transport of a session: RFC 6455 frames in, Engine.IO packets out.
class WebSocketTransport final : public ws::FrameSink,
                                 public std::enable_shared_from_this<WebSocketTransport> {
 public:
  WebSocketTransport(const net::TcpConnectionPtr& connection, size_t maxPayload)
      : connection_(connection), reader_(maxPayload) {}

  // The connection owns this forwarder; the session owns the transport.
  class Forwarder final : public net::ConnectionHandler {
   public:
    explicit Forwarder(std::shared_ptr<WebSocketTransport> t) : t_(std::move(t)) {}
    size_t onData(std::string_view data) override { return t_->onData(data); }
    void onClose(std::string_view why) override { t_->onConnectionClosed(why); }

   private:
    std::shared_ptr<WebSocketTransport> t_;
  };

  void send(const OutPacketPtr& packet) {
    if (connection_) connection_->send(BufferRef{packet, packet->wsFrame()});
  }
  void close() {
    session_ = nullptr;
    if (auto c = std::move(connection_)) {
      // RFC 6455 7.1.1: after our close frame, wait for the client's and its FIN.
      c->send(ws::encodeServerFrame(ws::Opcode::kClose, ws::closePayload(ws::kCloseNormal)));
      c->closeLingering();
    }
  }
  bool writable() const { return connection_ && connection_->writable(); }
  net::TcpConnection* connection() const { return connection_.get(); }
  Session* session_ = nullptr;

  size_t onData(std::string_view data) {
    size_t used = reader_.feed(data, *this);
    if (used == ws::FrameReader::kFailed) {
      fail(reader_.failure(), reader_.failureReason());
      return data.size();
    }
    return used;
  }

  void onMessage(bool binary, std::string&& payload) override {
    if (!session_) return;
    Packet packet;
    if (binary) {
      packet = Packet{PacketType::kMessage, std::move(payload), true};
    } else {
      auto decoded = decodeText(payload);
      if (!decoded) {
        Session* session = session_;
        close();
        session->onTransportClosed(*this, DisconnectReason::kParseError);
        return;
      }
      packet = std::move(decoded).value();
    }
    Session* session = session_;
    if (session->probe_.get() == this) {
      if (packet.type == PacketType::kPing && packet.data == "probe") {
        send(makeOutPacket(PacketType::kPong, "probe"));
        session->onProbe(*this);
      } else if (packet.type == PacketType::kUpgrade) {
        session->completeUpgrade(*this);
      }
      return;
    }
    session->onPacket(std::move(packet));
  }
  void onPing(std::string_view payload) override {
    if (connection_) connection_->send(ws::encodeServerFrame(ws::Opcode::kPong, payload));
  }
  void onPong(std::string_view) override {}
  void onClose(uint16_t code, std::string_view) override {
    if (!connection_) return;
    uint16_t echo = code == 1005 ? uint16_t{ws::kCloseNormal} : code;
    connection_->send(ws::encodeServerFrame(ws::Opcode::kClose, ws::closePayload(echo)));
    connection_->close(true);
  }

 private:
  void fail(uint16_t code, std::string_view why) {
    if (!connection_) return;
    spdlog::debug("websocket protocol error: {}", why);
    connection_->send(ws::encodeServerFrame(ws::Opcode::kClose, ws::closePayload(code, why)));
    auto connection = std::move(connection_);
    // The client may be in the middle of sending (an oversized message): linger so
    // that it reads our close frame instead of a reset (1006).
    connection->closeLingering();
    if (Session* session = std::exchange(session_, nullptr)) {
      session->onTransportClosed(*this, DisconnectReason::kTransportError);
    }
  }
  void onConnectionClosed(std::string_view why) {
    connection_.reset();
    if (Session* session = std::exchange(session_, nullptr)) {
      session->onTransportClosed(*this, why == net::kReasonSendOverflow
                                            ? DisconnectReason::kSendQueueOverflow
                                            : DisconnectReason::kTransportClose);
    }
  }

  net::TcpConnectionPtr connection_;
  ws::FrameReader reader_;
};

struct EngineServer::Shard {
  Shard(net::Loop& l, const EngineOptions& options)
      : loop(l),
        pingTimer(l, options.pingInterval,
                  [](net::FifoHook& h) { static_cast<Session::Hook&>(h).session->sendPing(); }),
        pongTimer(l, options.pingTimeout, [](net::FifoHook& h) {
          static_cast<Session::Hook&>(h).session->finish(DisconnectReason::kPingTimeout);
        }) {}
  net::Loop& loop;
  std::unordered_map<std::string, SessionPtr> sessions;
  // Polling sessions the client closed with no poll pending: sid → until when the
  // poll it may have sent at the same time (on another connection, maybe served
  // by another loop after the close) is answered NOOP once instead of 400.
  std::unordered_map<std::string, int64_t> closedByClient;
  std::atomic<size_t> count{0};
  std::atomic<size_t> websockets{0};  // of `count`, those on the WebSocket transport
  net::FifoTimer pingTimer;           // sessions waiting to be pinged
  net::FifoTimer pongTimer;           // sessions pinged, waiting for the pong
};

// ---------------------------------------------------------------- Session

Session::Session(EngineServer& server, net::Loop& loop, std::string id, Handshake handshake)
    : server_(server), loop_(loop), id_(std::move(id)), handshake_(std::move(handshake)) {
  hook_.session = this;
}

Session::~Session() = default;

bool Session::writable() const {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  if (ws_) return ws_->writable();
  return pollBytes_ < net::kHighWatermark;
}

void Session::send(const OutPacketPtr& packet) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  if (closed_ || overflowed_) return;
  if (ws_) {
    ws_->send(packet);
    return;
  }
  pollBuffer_.push_back(packet);
  pollBytes_ += packet->packet().size();
  if (pollBytes_ > server_.options_.maxSendQueue) {
    // A polling client that stopped polling. Finished later on this loop, not inside
    // send(): the caller may be walking a room's sockets, which finish() changes.
    overflowed_ = true;  // sends stop now
    pollBuffer_.clear();
    pollBytes_ = 0;
    loop_.post([self = shared_from_this()] { self->finish(DisconnectReason::kSendQueueOverflow); });
    return;
  }
  if (pendingGet_ && !pollFlushPosted_) {
    pollFlushPosted_ = true;
    // At the end of this turn, so that everything sent meanwhile goes in one answer.
    loop_.post([self = shared_from_this()] {
      self->pollFlushPosted_ = false;
      self->flushPoll();
    });
  }
}

void Session::close(DisconnectReason why) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  finish(why);
}

void Session::sendPing() {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  send(pingPacket());
  server_.shard(loop_).pongTimer.arm(hook_);
}

void Session::onPacket(Packet&& packet) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  switch (packet.type) {
    case PacketType::kPong:
      aliveMs_ = loop_.now();
      server_.shard(loop_).pingTimer.arm(hook_);
      break;
    case PacketType::kMessage: {
      auto self = shared_from_this();
      if (unconnected_) server_.releaseUnconnected(*this);
      server_.handler_.onMessage(self, std::move(packet.data), packet.binary);
      break;
    }
    case PacketType::kClose:
      finish(DisconnectReason::kTransportClose);
      break;
    default:
      break;  // noop, stray upgrade or ping: nothing to do
  }
}

void Session::flushPoll() {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  if (!pendingGet_ || pollBuffer_.empty()) return;
  std::string body;
  for (const auto& packet : pollBuffer_) appendPayloadRecord(body, *packet);
  pollBuffer_.clear();
  pollBytes_ = 0;
  http::Response response = std::move(*pendingBase_);
  pendingBase_.reset();
  response.body = std::move(body);
  auto responder = std::move(pendingGet_);
  responder->send(std::move(response));
}

void Session::onPollGet(const http::ResponderPtr& responder, http::Response base) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  if (pendingGet_) {
    // Two outstanding polls: the spec's answer is 400 and the end of the session.
    base.status = 400;
    base.body = R"({"code":3,"message":"Bad request"})";
    base.contentType = "application/json";
    responder->send(std::move(base));
    finish(DisconnectReason::kTransportError);
    return;
  }
  pendingGet_ = responder;
  pendingBase_ = std::make_unique<http::Response>(std::move(base));
  if (probe_) {
    // An upgrade is under way: polling is released at once so the client can finish it.
    pollBuffer_.push_back(noopPacket());
  }
  std::weak_ptr<Session> weak = shared_from_this();
  responder->onAbort([weak, responder] {
    auto self = weak.lock();
    if (!self || self->pendingGet_ != responder) return;
    self->loop_.dispatch([self] {
      self->pendingGet_.reset();
      self->finish(DisconnectReason::kTransportError);
    });
  });
  if (!pollBuffer_.empty()) flushPoll();
}

void Session::onPollPost(std::string&& body, const http::ResponderPtr& responder,
                         http::Response base) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  if (body.size() > server_.options_.maxPayload) {
    base.status = 413;
    base.body = "payload too large";
    responder->send(std::move(base));
    finish(DisconnectReason::kTransportError);
    return;
  }
  auto packets = decodePayload(body);
  if (!packets) {
    base.status = 400;
    base.body = R"({"code":3,"message":"Bad request"})";
    base.contentType = "application/json";
    responder->send(std::move(base));
    finish(DisconnectReason::kParseError);
    return;
  }
  base.contentType = "text/html";
  base.body = "ok";
  responder->send(std::move(base));
  auto self = shared_from_this();
  for (auto& packet : *packets) {
    if (closed_) break;
    onPacket(std::move(packet));
  }
}

void Session::attachWebSocket(const net::TcpConnectionPtr& connection) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  auto transport = std::make_shared<WebSocketTransport>(connection, server_.options_.maxPayload);
  transport->session_ = this;
  connection->setMaxQueued(server_.options_.maxSendQueue);
  connection->setHandler(std::make_unique<WebSocketTransport::Forwarder>(transport));
  probe_ = transport;
}

void Session::onProbe(WebSocketTransport&) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  // Release the pending poll so that the client can finish the upgrade.
  if (pendingGet_) {
    pollBuffer_.push_back(noopPacket());
    flushPoll();
  }
}

void Session::completeUpgrade(WebSocketTransport& transport) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  if (probe_.get() != &transport) return;
  ws_ = std::move(probe_);
  server_.shard(loop_).websockets.fetch_add(1, std::memory_order_relaxed);
  net::Loop::cancel(upgradeTimer_);
  upgradeTimer_.reset();
  if (pendingGet_) {
    pollBuffer_.push_back(noopPacket());
    flushPoll();
  }
  for (const auto& packet : pollBuffer_) ws_->send(packet);
  pollBuffer_.clear();
  pollBytes_ = 0;
  pollBuffer_.shrink_to_fit();
}

void Session::onTransportClosed(WebSocketTransport& transport, DisconnectReason why) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  if (probe_.get() == &transport) {
    probe_.reset();  // a failed upgrade: the session goes on polling
    return;
  }
  if (ws_.get() == &transport) finish(why);
}

void Session::finish(DisconnectReason why) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  if (closed_) return;
  closed_ = true;
  auto self = shared_from_this();
  if (unconnected_) server_.releaseUnconnected(*this);
  if (ws_) server_.shard(loop_).websockets.fetch_sub(1, std::memory_order_relaxed);
  server_.closes_[static_cast<size_t>(why)].fetch_add(1, std::memory_order_relaxed);
  net::Loop::cancel(upgradeTimer_);
  server_.shard(loop_).pingTimer.cancel(hook_);
  if (ws_) ws_->close();
  if (probe_) probe_->close();
  if (why == DisconnectReason::kTransportClose && !ws_ && !pendingGet_) {
    server_.rememberClientClose(loop_, id_);
  }
  if (pendingGet_) {
    // The server closing says so; when the client closed, its poll is just released.
    http::Response response = std::move(*pendingBase_);
    pendingBase_.reset();
    response.body.clear();
    appendPayloadRecord(response.body,
                        why == DisconnectReason::kTransportClose ? *noopPacket() : *closePacket());
    std::exchange(pendingGet_, nullptr)->send(std::move(response));
  }
  pollBuffer_.clear();
  server_.remove(*this);
  server_.handler_.onClose(self, why);
  ws_.reset();
  probe_.reset();
  attachment.reset();
}

// ---------------------------------------------------------------- EngineServer

EngineServer::EngineServer(net::LoopGroup& loops, EngineOptions options, EngineHandler& handler)
    : loops_(loops), options_(std::move(options)), handler_(handler) {
  for (unsigned i = 0; i < loops.size(); ++i) {
    shards_.push_back(std::make_unique<Shard>(loops.at(i), options_));
  }
}

EngineServer::~EngineServer() = default;

EngineServer::Shard& EngineServer::shard(net::Loop& loop) {
  return *shards_[loop.index()];
}

bool isValidNodeId(std::string_view id) {
  if (id.empty() || id.size() > kMaxNodeIdLength) return false;
  for (char ch : id) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))) return false;
  }
  return true;
}

net::Loop* EngineServer::loopOfSid(std::string_view sid) {
  if (!options_.nodeId.empty()) {
    // Another node's sid (a balancer that lost track) is not ours: unknown session.
    if (sid.size() <= options_.nodeId.size() || !sid.starts_with(options_.nodeId) ||
        sid[options_.nodeId.size()] != '.') {
      return nullptr;
    }
    sid.remove_prefix(options_.nodeId.size() + 1);
  }
  if (sid.empty()) return nullptr;
  size_t index = kLoopLetters.find(sid[0]);
  if (index == std::string_view::npos || index >= loops_.size()) return nullptr;
  return &loops_.at(static_cast<unsigned>(index));
}

size_t EngineServer::sessionCount() const {
  size_t total = 0;
  for (const auto& shard : shards_) total += shard->count.load(std::memory_order_relaxed);
  return total;
}

EngineStats EngineServer::stats() const {
  EngineStats s;
  for (const auto& shard : shards_) {
    const size_t all = shard->count.load(std::memory_order_relaxed);
    const size_t ws = shard->websockets.load(std::memory_order_relaxed);
    s.websocket += ws;
    s.polling += all > ws ? all - ws : 0;  // read apart: may be off by one for a moment
  }
  for (size_t i = 0; i < kDisconnectReasons; ++i) {
    s.closes[i] = closes_[i].load(std::memory_order_relaxed);
  }
  return s;
}

void EngineServer::mount(http::Router& router) {
  http::Route route;
  route.handle = [this](http::Request&& request, const http::ResponderPtr& responder) {
    handleHttp(std::move(request), responder);
  };
  route.upgrade = [this](http::Request&& request, const net::TcpConnectionPtr& connection,
                         std::string_view leftover) {
    handleUpgrade(std::move(request), connection, leftover);
  };
  route.headAsGet = false;  // a long-poll GET takes packets off the session's queue
  router.add(options_.path, std::move(route));
}

void EngineServer::closeAll() {
  for (auto& shard : shards_) {
    Shard* s = shard.get();
    s->loop.dispatch([s] {
      std::vector<SessionPtr> all;
      for (auto& [id, session] : s->sessions) all.push_back(session);
      for (auto& session : all) session->finish(DisconnectReason::kServerShutdown);
    });
  }
}

http::Response EngineServer::error(const http::Request& request, int code, std::string_view message,
                                   int status) const {
  auto response =
      http::Response::json(status, "{\"code\":" + std::to_string(code) + ",\"message\":\"" +
                                       std::string(message) + "\"}");
  options_.cors.apply(request, response);
  return response;
}

std::string EngineServer::openPacket(const Session& session, bool upgrades) const {
  std::string json = "{\"sid\":\"" + session.id() + "\",\"upgrades\":[";
  if (upgrades) json += "\"websocket\"";
  json += "],\"pingInterval\":" + std::to_string(options_.pingInterval) +
          ",\"pingTimeout\":" + std::to_string(options_.pingTimeout) +
          ",\"maxPayload\":" + std::to_string(options_.maxPayload) + "}";
  return json;
}

SessionPtr EngineServer::open(net::Loop& loop, const http::Request& request) {
  Handshake handshake(request, nowMs());
  bool counted = options_.maxUnconnectedPerAddress != 0;
  std::string sid;
  if (!options_.nodeId.empty()) sid += options_.nodeId + ".";
  sid += kLoopLetters[loop.index()];
  sid += randomId(kSessionIdRandomBytes);
  auto session = std::make_shared<Session>(*this, loop, sid, std::move(handshake));
  session->unconnected_ = counted;  // the caller took its place (takeUnconnected)
  auto& s = shard(loop);
  s.sessions.emplace(sid, session);
  s.count.fetch_add(1, std::memory_order_relaxed);
  session->aliveMs_ = loop.now();
  s.pingTimer.arm(session->hook_);
  return session;
}

void EngineServer::rememberClientClose(net::Loop& loop, const std::string& sid) {
  auto& closed = shard(loop).closedByClient;
  int64_t now = nowMs();
  if (closed.size() >= kMaxClosedSessionsRemembered) {
    std::erase_if(closed, [now](const auto& entry) { return entry.second <= now; });
    if (closed.size() >= kMaxClosedSessionsRemembered) closed.clear();
  }
  closed[sid] = now + kClosedPollGraceMs;
}

bool EngineServer::takeUnconnected(const std::string& address) {
  if (options_.maxUnconnectedPerAddress == 0) return true;
  std::lock_guard lock(unconnectedMutex_);
  size_t& count = unconnected_[address];
  if (count >= options_.maxUnconnectedPerAddress) return false;
  ++count;
  return true;
}

void EngineServer::releaseUnconnected(Session& session) {
  session.unconnected_ = false;
  std::lock_guard lock(unconnectedMutex_);
  auto it = unconnected_.find(session.handshake().address());
  if (it == unconnected_.end()) return;
  if (--it->second == 0) unconnected_.erase(it);
}

void EngineServer::remove(Session& session) {
  auto& s = shard(session.loop());
  if (s.sessions.erase(session.id())) s.count.fetch_sub(1, std::memory_order_relaxed);
}

void EngineServer::handleHttp(http::Request&& request, const http::ResponderPtr& responder) {
  if (request.method == "OPTIONS") {
    responder->send(options_.cors.preflight(request));
    return;
  }
  auto transport = request.queryParam("transport");
  if (!transport || (*transport != "polling" && *transport != "websocket") ||
      (*transport == "polling" && !options_.allowPolling)) {
    responder->send(error(request, kUnknownTransport, kErrorMessages[kUnknownTransport]));
    return;
  }
  auto version = request.queryParam("EIO");
  if (!version || *version != "4") {
    responder->send(error(request, kUnsupportedVersion, kErrorMessages[kUnsupportedVersion]));
    return;
  }
  auto sid = request.queryParam("sid");
  if (!sid) {
    if (request.method != "GET") {
      responder->send(error(request, kBadHandshakeMethod, kErrorMessages[kBadHandshakeMethod]));
      return;
    }
    if (*transport != "polling") {  // a WebSocket handshake without the Upgrade headers
      responder->send(error(request, kBadRequest, kErrorMessages[kBadRequest]));
      return;
    }
    if (std::string refusal = handler_.allowRequest(request); !refusal.empty()) {
      responder->send(error(request, kForbidden, refusal, 403));
      return;
    }
    if (!takeUnconnected(request.remoteAddress)) {
      responder->send(error(request, kForbidden, kTooManyHandshakes, 429));
      return;
    }
    net::Loop& loop = responder->loop();
    auto session = open(loop, request);
    http::Response response;
    options_.cors.apply(request, response);
    response.body = encodeText(
        PacketType::kOpen, openPacket(*session, options_.allowUpgrades && options_.allowWebSocket));
    responder->send(std::move(response));
    handler_.onOpen(session);
    return;
  }
  net::Loop* loop = loopOfSid(*sid);
  if (!loop) {
    responder->send(error(request, kUnknownSid, kErrorMessages[kUnknownSid]));
    return;
  }
  if (loop->inLoop()) {
    handleOnLoop(*loop, std::move(request), responder);
  } else {
    loop->post([this, loop, r = std::move(request), responder]() mutable {
      handleOnLoop(*loop, std::move(r), responder);
    });
  }
}

void EngineServer::handleOnLoop(net::Loop& loop, http::Request&& request,
                                const http::ResponderPtr& responder) {
  auto& sessions = shard(loop).sessions;
  std::string sid = request.queryParam("sid").value_or("");
  auto it = sessions.find(sid);
  if (it == sessions.end()) {
    auto& closed = shard(loop).closedByClient;
    auto gone = closed.find(sid);
    if (gone != closed.end() && request.method == "GET" &&
        request.queryParam("transport") == "polling") {
      bool fresh = gone->second > nowMs();
      closed.erase(gone);
      if (fresh) {
        // The poll raced the client's own CLOSE: it gets what a pending poll gets.
        http::Response response;
        options_.cors.apply(request, response);
        appendPayloadRecord(response.body, *noopPacket());
        responder->send(std::move(response));
        return;
      }
    }
    responder->send(error(request, kUnknownSid, kErrorMessages[kUnknownSid]));
    return;
  }
  SessionPtr session = it->second;
  // Dead once its deadline has passed, even if the ping timers (late on a loaded
  // machine) have not said so yet: the answer does not depend on their timing.
  if (loop.now() - session->aliveMs_ >= options_.pingInterval + options_.pingTimeout) {
    session->finish(DisconnectReason::kPingTimeout);
    responder->send(error(request, kUnknownSid, kErrorMessages[kUnknownSid]));
    return;
  }
  // An upgrade under way: what the client sent on its WebSocket before this request
  // (UPGRADE, say) is handled first, whichever connection the loops read first.
  if (session->probe_) {
    if (auto* connection = session->probe_->connection()) connection->readNow();
    if (session->closed()) {
      responder->send(error(request, kUnknownSid, kErrorMessages[kUnknownSid]));
      return;
    }
  }
  if (session->ws_ || request.queryParam("transport") != "polling") {
    responder->send(error(request, kBadRequest, kErrorMessages[kBadRequest]));
    return;
  }
  http::Response base;
  options_.cors.apply(request, base);
  if (request.method == "GET") {
    session->onPollGet(responder, std::move(base));
  } else if (request.method == "POST") {
    session->onPollPost(std::move(request.body), responder, std::move(base));
  } else {
    responder->send(error(request, kBadRequest, kErrorMessages[kBadRequest]));
  }
}

void EngineServer::handleUpgrade(http::Request&& request, const net::TcpConnectionPtr& connection,
                                 std::string_view leftover) {
  auto transport = request.queryParam("transport");
  if (!options_.allowWebSocket || transport != "websocket") {
    refuseConnection(connection,
                     error(request, kUnknownTransport, kErrorMessages[kUnknownTransport]));
    return;
  }
  if (request.queryParam("EIO") != "4") {
    refuseConnection(connection,
                     error(request, kUnsupportedVersion, kErrorMessages[kUnsupportedVersion]));
    return;
  }
  std::string_view origin = request.header("origin");
  if (!origin.empty() && !options_.cors.allows(request)) {
    refuseConnection(connection, error(request, kForbidden, kErrorMessages[kForbidden], 403));
    return;
  }
  std::string_view key = request.header("sec-websocket-key");
  if (request.header("sec-websocket-version") != "13" || key.size() != 24) {
    refuseConnection(connection, error(request, kBadRequest, kErrorMessages[kBadRequest]));
    return;
  }
  auto sid = request.queryParam("sid");
  if (!sid) {
    if (std::string refusal = handler_.allowRequest(request); !refusal.empty()) {
      refuseConnection(connection, error(request, kForbidden, refusal, 403));
      return;
    }
    if (!takeUnconnected(request.remoteAddress)) {
      refuseConnection(connection, error(request, kForbidden, kTooManyHandshakes, 429));
      return;
    }
    upgradeOnLoop(connection->loop(), std::move(request), connection, std::string(leftover));
    return;
  }
  net::Loop* loop = loopOfSid(*sid);
  if (!loop) {
    refuseConnection(connection, error(request, kUnknownSid, kErrorMessages[kUnknownSid]));
    return;
  }
  connection->moveTo(*loop, [this, loop, r = std::move(request),
                             rest = std::string(leftover)](const net::TcpConnectionPtr& c) mutable {
    upgradeOnLoop(*loop, std::move(r), c, std::move(rest));
  });
}

void EngineServer::upgradeOnLoop(net::Loop& loop, http::Request&& request,
                                 const net::TcpConnectionPtr& connection, std::string leftover) {
  auto sid = request.queryParam("sid");
  SessionPtr session;
  if (sid) {
    auto& sessions = shard(loop).sessions;
    auto it = sessions.find(*sid);
    if (it == sessions.end()) {
      refuseConnection(connection, error(request, kUnknownSid, kErrorMessages[kUnknownSid]));
      return;
    }
    session = it->second;
    if (!options_.allowUpgrades) {
      refuseConnection(connection, error(request, kBadRequest, kErrorMessages[kBadRequest]));
      return;
    }
  }
  http::Response response;
  response.status = 101;
  response.contentType.clear();
  response.set("Upgrade", "websocket");
  response.set("Connection", "Upgrade");
  response.set("Sec-WebSocket-Accept", ws::acceptKey(request.header("sec-websocket-key")));
  connection->send(http::serialize(response, true));
  if (session && (session->ws_ || session->probe_)) {
    // A second WebSocket for a session that has one (or is upgrading): like the
    // reference server, complete its handshake and close it; the first stays.
    connection->send(ws::encodeServerFrame(ws::Opcode::kClose, ws::closePayload(ws::kCloseNormal)));
    connection->closeLingering();
    return;
  }
  bool fresh = !session;
  if (fresh) session = open(loop, request);
  session->attachWebSocket(connection);
  if (fresh) {
    session->ws_ = std::move(session->probe_);
    shard(loop).websockets.fetch_add(1, std::memory_order_relaxed);
    session->send(makeOutPacket(PacketType::kOpen, openPacket(*session, false)));
    handler_.onOpen(session);
  } else {
    std::weak_ptr<Session> weak = session;
    session->upgradeTimer_ = loop.runAfter(options_.upgradeTimeout, [weak] {
      auto self = weak.lock();
      if (self && self->probe_) {
        self->probe_->close();
        self->probe_.reset();
      }
    });
  }
  // Frames that came in the same read as the upgrade request.
  if (!leftover.empty()) connection->inject(leftover);
}

}  // namespace brigade::eio
