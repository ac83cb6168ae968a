#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/cors.hpp"
#include "http/message.hpp"
#include "http/server.hpp"
#include "net/fifo_timer.hpp"
#include "net/loop.hpp"
#include "protocol/engineio/disconnect_reason.hpp"
#include "protocol/engineio/packet.hpp"

namespace brigade::eio {

// A session id authorises long-polling requests for its session: after the loop
// letter it carries this many bytes from the CSPRNG (128 bits, 22 characters).
inline constexpr size_t kSessionIdRandomBytes = 16;
// A long-poll that raced the client's CLOSE of its own session (sent at the same
// time on another connection) is answered NOOP, as if it had been pending, when
// it arrives within this long of the close; later, or a second one, gets 400.
inline constexpr int64_t kClosedPollGraceMs = 5000;
inline constexpr size_t kMaxClosedSessionsRemembered = 10000;  // per loop
// Sessions per client address that were opened but have not sent a message yet (a
// Socket.IO client's first message is its CONNECT): a handshake costs the server a
// session for up to pingInterval + pingTimeout without holding a connection, so
// these are capped per address; more handshakes are answered 429.
inline constexpr size_t kDefaultMaxUnconnectedPerAddress = 128;

struct EngineOptions {
  std::string path = "/engine.io/";
  int64_t pingInterval = 25000;
  int64_t pingTimeout = 20000;
  size_t maxPayload = 1000000;
  int64_t upgradeTimeout = 10000;
  bool allowPolling = true;
  bool allowWebSocket = true;
  bool allowUpgrades = true;
  // Browsers' origins (empty: same origin only); WebSocket upgrades carrying a
  // foreign Origin are refused too (cross-site WebSocket hijacking).
  http::CorsPolicy cors;
  size_t maxSendQueue = net::kDefaultMaxQueued;
  size_t maxUnconnectedPerAddress = kDefaultMaxUnconnectedPerAddress;  // 0: no cap
  // The node's id, the first part of every sid ("<node>.<loop><random>"), so that a load
  // balancer can send a long-poll to the node that owns its session (deploy/haproxy.cfg).
  // Empty: sids without a node part. Letters and digits only (isValidNodeId).
  std::string nodeId;
};

// 1 to kMaxNodeIdLength lowercase letters and digits: safe in a URL and never containing
// the '.' that ends it inside a sid.
inline constexpr size_t kMaxNodeIdLength = 16;
bool isValidNodeId(std::string_view id);

// What the client sent when it opened the session, kept in one allocation
// ("<url>\n<name>\t<value>\n...") since every idle connection carries it.
class Handshake {
 public:
  Handshake() = default;
  Handshake(const http::Request& request, int64_t issuedMs);

  std::string_view url() const;
  std::string_view header(std::string_view lowerName) const;
  std::optional<std::string> queryParam(std::string_view name) const;
  const std::string& address() const { return address_; }
  int64_t issuedMs() const { return issuedMs_; }

 private:
  std::string raw_;
  std::string address_;
  int64_t issuedMs_ = 0;
};

class EngineServer;
class WebSocketTransport;

// Every DisconnectReason, for counting by reason.
inline constexpr size_t kDisconnectReasons =
    static_cast<size_t>(DisconnectReason::kServerShuttingDown) + 1;

// What an operator watches (app/metrics.cpp reads it at each scrape).
struct EngineStats {
  size_t polling = 0;                                 // open sessions on long-polling
  size_t websocket = 0;                               // open sessions on WebSocket
  std::array<uint64_t, kDisconnectReasons> closes{};  // sessions ended, by reason
};

// One Engine.IO session. Lives on one loop; every method but id(), loop() and
// handshake() (fixed at creation) must be called there. Owned by its loop's
// shard of the EngineServer until it finishes, and by whoever holds a SessionPtr.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(EngineServer& server, net::Loop& loop, std::string id, Handshake handshake);
  ~Session();

  const std::string& id() const { return id_; }
  net::Loop& loop() const { return loop_; }
  const Handshake& handshake() const { return handshake_; }
  std::string_view transportName() const { return ws_ ? "websocket" : "polling"; }
  bool closed() const { return closed_; }
  // False while the send queue is above its high watermark.
  bool writable() const;

  void send(const OutPacketPtr& packet);
  void sendMessage(std::string_view text) { send(makeMessage(text)); }
  // Ends the session ("forced close").
  void close(DisconnectReason why = DisconnectReason::kForcedClose);

  // Room for the layer above (Socket.IO's client object): owned by the session
  // until it finishes (reset right after EngineHandler::onClose).
  std::shared_ptr<void> attachment;

 private:
  friend class EngineServer;
  friend class WebSocketTransport;
  struct Hook : net::FifoHook {
    Session* session = nullptr;
  };

  void onPacket(Packet&& packet);
  void onPollGet(const http::ResponderPtr& responder, http::Response base);
  void onPollPost(std::string&& body, const http::ResponderPtr& responder, http::Response base);
  void flushPoll();
  void attachWebSocket(const net::TcpConnectionPtr& connection);
  void onProbe(WebSocketTransport& transport);
  void completeUpgrade(WebSocketTransport& transport);
  void onTransportClosed(WebSocketTransport& transport, DisconnectReason why);
  void sendPing();
  void finish(DisconnectReason why);

  EngineServer& server_;
  net::Loop& loop_;
  std::string id_;
  Handshake handshake_;
  Hook hook_;
  std::shared_ptr<WebSocketTransport> ws_;     // the WebSocket transport, once in use
  std::shared_ptr<WebSocketTransport> probe_;  // a WebSocket being upgraded to
  http::ResponderPtr pendingGet_;
  std::unique_ptr<http::Response> pendingBase_;  // CORS headers for the pending poll's answer
  std::vector<OutPacketPtr> pollBuffer_;
  size_t pollBytes_ = 0;
  std::shared_ptr<net::Loop::TimerHandle> upgradeTimer_;
  bool pollFlushPosted_ = false;
  bool closed_ = false;
  bool closeAfterFlush_ = false;
  bool unconnected_ = false;  // counted until its first message
  bool overflowed_ = false;   // over maxSendQueue while polling: finishing soon
  int64_t aliveMs_ = 0;       // open or last PONG, by the loop's clock
};

using SessionPtr = std::shared_ptr<Session>;

// The seam between Engine.IO and the layer above (Socket.IO).
class EngineHandler {
 public:
  virtual ~EngineHandler() = default;
  virtual void onOpen(const SessionPtr& session) = 0;
  virtual void onMessage(const SessionPtr& session, std::string&& data, bool binary) = 0;
  virtual void onClose(const SessionPtr& session, DisconnectReason why) = 0;
  // Return an empty string to accept, else the reason the handshake is refused (403).
  virtual std::string allowRequest(const http::Request&) { return {}; }
};

class EngineServer {
 public:
  EngineServer(net::LoopGroup& loops, EngineOptions options, EngineHandler& handler);
  ~EngineServer();

  // Serves options().path on the router (polling and WebSocket).
  void mount(http::Router& router);
  const EngineOptions& options() const { return options_; }
  // Closes every session (on their loops).
  void closeAll();
  size_t sessionCount() const;
  EngineStats stats() const;

 private:
  friend class Session;
  friend class WebSocketTransport;
  struct Shard;

  void handleHttp(http::Request&& request, const http::ResponderPtr& responder);
  void handleUpgrade(http::Request&& request, const net::TcpConnectionPtr& connection,
                     std::string_view leftover);
  void handleOnLoop(net::Loop& loop, http::Request&& request, const http::ResponderPtr& responder);
  void upgradeOnLoop(net::Loop& loop, http::Request&& request,
                     const net::TcpConnectionPtr& connection, std::string leftover);
  Shard& shard(net::Loop& loop);
  net::Loop* loopOfSid(std::string_view sid);
  SessionPtr open(net::Loop& loop, const http::Request& request);
  std::string openPacket(const Session& session, bool upgrades) const;
  void remove(Session& session);
  // The per-address count of sessions without a message yet (any loop may ask).
  bool takeUnconnected(const std::string& address);
  void releaseUnconnected(Session& session);
  void rememberClientClose(net::Loop& loop, const std::string& sid);
  http::Response error(const http::Request& request, int code, std::string_view message,
                       int status = 400) const;

  net::LoopGroup& loops_;
  EngineOptions options_;
  EngineHandler& handler_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::mutex unconnectedMutex_;
  std::unordered_map<std::string, size_t> unconnected_;
  std::array<std::atomic<uint64_t>, kDisconnectReasons> closes_{};
};

}  // namespace brigade::eio
