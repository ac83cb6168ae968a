#pragma once

// The Socket.IO v5 server: namespaces, middleware, events and acks, rooms and
// broadcasts. Close in spirit to Node's `socket.io` (see docs/ENGINE.md).
//
// Threads: a socket lives on one event loop and its handlers run there; call a
// socket's methods from its handlers (or through Socket::post). Broadcasts
// (Server/Namespace::to(...).emit(...)) may be made from any thread.

#include <any>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/result.hpp"
#include "protocol/engineio/server.hpp"
#include "protocol/socketio/packet.hpp"

namespace brigade::sio {

using Json = boost::json::value;
using Args = boost::json::array;
using Attachments = std::vector<std::string>;

// Why a socket left its namespace (the strings Node gives).
namespace reason {
inline constexpr std::string_view kServerDisconnect = "server namespace disconnect";
inline constexpr std::string_view kClientDisconnect = "client namespace disconnect";
inline constexpr std::string_view kServerShutdown = "server shutting down";
}  // namespace reason

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
};

struct Handshake {
  Json auth;           // the CONNECT payload (an object; empty when none was sent)
  std::string pid;     // connection state recovery: the client's previous private id
  std::string offset;  // ... and the offset of the last event it got
  const eio::Handshake* transport = nullptr;  // url, query, headers, address

  std::string_view header(std::string_view lowerName) const {
    return transport ? transport->header(lowerName) : std::string_view{};
  }
  std::optional<std::string> query(std::string_view name) const {
    return transport ? transport->queryParam(name) : std::nullopt;
  }
};

class Socket;
class Namespace;
class Server;
class Client;
using SocketPtr = std::shared_ptr<Socket>;

// Answers an event the client sent with an acknowledgement. Callable once;
// empty (false) when the client asked for none.
class Ack {
 public:
  Ack() = default;
  Ack(std::weak_ptr<Socket> socket, uint64_t id) : socket_(std::move(socket)), id_(id) {}
  explicit operator bool() const { return !socket_.expired() && !used_; }
  void operator()(Args args, Attachments attachments = {});

 private:
  std::weak_ptr<Socket> socket_;
  uint64_t id_ = 0;
  bool used_ = false;
};

struct Event {
  Socket& socket;
  std::string name;
  Args args;  // without the name; binary attachments appear as placeholders
  Attachments attachments;
  Ack ack;
};

// A refusal from middleware, sent to the client as CONNECT_ERROR {message, data}.
struct ConnectError {
  std::string message;
  Json data;
};
// Middleware calls next() once, possibly later and from any thread.
using Next = std::function<void(std::optional<ConnectError>)>;
using Middleware = std::function<void(Socket&, Next)>;
using EventHandler = std::function<void(Event&)>;
using DisconnectHandler = std::function<void(Socket&, std::string_view reason)>;
using ConnectionHandler = std::function<void(const SocketPtr&)>;
// The client's acknowledgement of a server emit (its args and binary attachments),
// or an error ("timeout", "disconnected").
using AckCallback = std::function<void(std::optional<Error>, Args, Attachments)>;

// Targets of a broadcast: rooms to reach (none: the whole namespace) and rooms to
// skip. Each socket is reached once, however many of the rooms it is in.
class BroadcastOperator {
 public:
  BroadcastOperator(Namespace& nsp) : nsp_(&nsp) {}  // NOLINT
  BroadcastOperator to(std::string room) const;
  BroadcastOperator in(std::string room) const { return to(std::move(room)); }
  BroadcastOperator except(std::string room) const;
  // Encodes once; every receiving socket shares the same frames.
  void emit(std::string_view event, Args args = {}, Attachments attachments = {}) const;
  // Sends an already serialised JSON array (name first) as the event payload.
  // `tag` (e.g. a change-stream seq) lets a held socket drop what it already has.
  void emitRaw(std::string_view jsonArray, uint64_t tag = 0) const;
  void disconnectSockets(bool close = false) const;
  // Runs fn for each selected socket, on the socket's own loop (from any thread).
  void forEachSocket(std::function<void(Socket&)> fn) const;

 private:
  void deliver(std::shared_ptr<const std::vector<eio::OutPacketPtr>> frames, uint64_t tag) const;

  Namespace* nsp_;
  std::vector<std::string> rooms_;
  std::vector<std::string> except_;
};

class Socket : public std::enable_shared_from_this<Socket> {
 public:
  Socket(Namespace& nsp, Client& client, std::string id, Handshake handshake);
  ~Socket();

  const std::string& id() const { return id_; }
  Namespace& nsp() { return nsp_; }
  const Handshake& handshake() const { return handshake_; }
  bool connected() const { return connected_; }
  net::Loop& loop() const;
  // The private id sent in the CONNECT answer (recovery on): middleware may set
  // the client's previous one to tell it its state was recovered.
  const std::string& pid() const { return pid_; }
  void setPid(std::string pid) { pid_ = std::move(pid); }
  bool recovered() const { return !pid_.empty() && pid_ == handshake_.pid; }
  // False while the connection's send queue is over its high watermark.
  bool writable() const;

  void on(std::string event, EventHandler handler);
  // Events that have no handler of their own.
  void onAny(EventHandler handler) { anyHandler_ = std::move(handler); }
  void onDisconnect(DisconnectHandler handler) {
    disconnectHandlers_.push_back(std::move(handler));
  }

  void emit(std::string_view event, Args args = {}, Attachments attachments = {});
  void emitWithAck(std::string_view event, Args args, int64_t timeoutMs, AckCallback callback,
                   Attachments attachments = {});

  // Every socket is also, implicitly, in the room named after its id.
  void join(const std::string& room);
  void leave(const std::string& room);
  const std::vector<std::string>& rooms() const { return rooms_; }  // without the id room
  // Everyone in the namespace but this socket / in `room` but this socket.
  BroadcastOperator broadcast();
  BroadcastOperator to(std::string room);

  // Holding: broadcasts reaching this socket are kept instead of sent (at most
  // kMaxHeldBroadcasts; past that the socket is disconnected). release() sends the
  // kept ones whose tag is above `skipUpTo`, in order, and stops holding. Lets an
  // application replay history to a socket that is already in its rooms with no
  // gap and no duplicate.
  static constexpr size_t kMaxHeldBroadcasts = 10000;
  void hold();
  void release(uint64_t skipUpTo);
  bool holding() const { return holding_; }
  // Emits an already serialised JSON array (name first) to this socket only.
  void emitRaw(std::string_view jsonArray);

  // Leaves the namespace; with close, ends the whole connection.
  void disconnect(bool close = false);
  // Runs fn on this socket's loop (from any thread) if it is still connected.
  void post(std::function<void(Socket&)> fn);

  std::any data;  // the application's own state

 private:
  friend class Client;
  friend class Namespace;
  friend class Ack;
  friend class BroadcastOperator;
  friend class Server;
  struct PendingAck {
    AckCallback callback;
    std::shared_ptr<net::Loop::TimerHandle> timer;
  };

  void sendEncoded(const std::string& text, const Attachments& attachments);
  void deliverBroadcast(const std::shared_ptr<const std::vector<eio::OutPacketPtr>>& frames,
                        uint64_t tag);
  void onEvent(std::string name, Args args, Attachments attachments, std::optional<uint64_t> id);
  void onAck(uint64_t id, Args args, Attachments attachments);
  void sendAck(uint64_t id, Args args, Attachments attachments);
  void closed(std::string_view reason);  // left the namespace, for whatever reason

  Namespace& nsp_;
  Client& client_;
  std::weak_ptr<Client> clientRef_;
  std::string id_;
  std::string pid_;
  Handshake handshake_;
  std::vector<std::string> rooms_;
  // Few per socket: a flat list is smaller and as fast as a hash map.
  std::vector<std::pair<std::string, EventHandler>> handlers_;
  EventHandler anyHandler_;
  std::vector<DisconnectHandler> disconnectHandlers_;
  std::vector<std::pair<uint64_t, PendingAck>> pendingAcks_;  // usually none or a few
  uint64_t nextAckId_ = 0;
  uint64_t mark_ = 0;  // broadcast dedupe stamp
  std::vector<std::pair<uint64_t, std::shared_ptr<const std::vector<eio::OutPacketPtr>>>> held_;
  bool holding_ = false;
  size_t indexInShard_ = 0;  // position in the shard's socket list
  bool connected_ = false;
};

class Namespace {
 public:
  Namespace(Server& server, std::string name);
  ~Namespace();
  const std::string& name() const { return name_; }
  Server& server() { return server_; }

  void use(Middleware middleware) { middlewares_.push_back(std::move(middleware)); }
  void onConnection(ConnectionHandler handler) {
    connectionHandlers_.push_back(std::move(handler));
  }

  BroadcastOperator to(std::string room) { return BroadcastOperator(*this).to(std::move(room)); }
  BroadcastOperator in(std::string room) { return to(std::move(room)); }
  BroadcastOperator except(std::string room) {
    return BroadcastOperator(*this).except(std::move(room));
  }
  void emit(std::string_view event, Args args = {}, Attachments attachments = {}) {
    BroadcastOperator(*this).emit(event, std::move(args), std::move(attachments));
  }
  void disconnectSockets(bool close = false) { BroadcastOperator(*this).disconnectSockets(close); }
  void forEachSocket(std::function<void(Socket&)> fn) {
    BroadcastOperator(*this).forEachSocket(std::move(fn));
  }
  // Sockets connected now, over all loops (approximate while they come and go).
  size_t socketCount() const;

 private:
  friend class Socket;
  friend class Client;
  friend class BroadcastOperator;
  friend class Server;

 public:
  struct Shard;  // per-loop sockets and rooms (defined in server.cpp)

 private:
  Shard& shard(net::Loop& loop);
  void add(Socket& socket);
  void remove(Socket& socket);
  void runMiddlewares(const SocketPtr& socket, size_t index);
  void connected(const SocketPtr& socket);

  Server& server_;
  std::string name_;
  std::vector<Middleware> middlewares_;
  std::vector<ConnectionHandler> connectionHandlers_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

class Server {
 public:
  // A server with its own event loops and HTTP server (listen() to start).
  explicit Server(ServerOptions options = {});
  // Mounted on an HTTP router whose server runs on `loops` (the application's).
  Server(net::LoopGroup& loops, http::Router& router, ServerOptions options = {});
  ~Server();

  const ServerOptions& options() const { return options_; }
  Namespace& of(const std::string& name);
  // The main namespace "/".
  void use(Middleware middleware) { of("/").use(std::move(middleware)); }
  void onConnection(ConnectionHandler handler) { of("/").onConnection(std::move(handler)); }
  BroadcastOperator to(std::string room) { return of("/").to(std::move(room)); }
  BroadcastOperator except(std::string room) { return of("/").except(std::move(room)); }
  void emit(std::string_view event, Args args = {}) { of("/").emit(event, std::move(args)); }

  // Own-loops mode: binds host:port (port 0 picks one), starts the loops.
  void listen(const std::string& host, uint16_t port);
  uint16_t port() const;
  http::Router& router() { return *router_; }
  net::LoopGroup& loops() { return *loops_; }
  eio::EngineServer& engine() { return *engine_; }
  // Disconnects every socket ("server shutting down") and stops listening.
  void close();

 private:
  friend class Namespace;
  friend class Client;
  friend class Socket;
  friend class BroadcastOperator;
  class Bridge;
  void init();

  ServerOptions options_;
  std::unique_ptr<net::LoopGroup> ownLoops_;
  std::unique_ptr<http::Router> ownRouter_;
  net::LoopGroup* loops_ = nullptr;
  http::Router* router_ = nullptr;
  std::unique_ptr<Bridge> bridge_;
  std::unique_ptr<eio::EngineServer> engine_;
  std::unique_ptr<http::HttpServer> http_;
  std::unordered_map<std::string, std::unique_ptr<Namespace>> namespaces_;
};

}  // namespace brigade::sio
