#include "protocol/socketio/server.hpp"

#include <algorithm>
#include <atomic>
#include <boost/json/serialize.hpp>
#include <thread>

#include "core/log.hpp"
#include "core/random.hpp"
#include "net/fifo_timer.hpp"
#include "protocol/socketio/client_bundle.hpp"
#include "protocol/socketio/packet.hpp"

namespace brigade::sio {

namespace json = boost::json;
using Frames = std::vector<eio::OutPacketPtr>;
using FramesPtr = std::shared_ptr<const Frames>;

namespace {

FramesPtr encodeFrames(const std::string& text, const Attachments& attachments) {
  auto frames = std::make_shared<Frames>();
  frames->reserve(1 + attachments.size());
  frames->push_back(eio::makeMessage(text));
  for (const auto& bytes : attachments) frames->push_back(eio::makeMessage(bytes, true));
  return frames;
}

json::value eventPayload(std::string_view event, Args&& args) {
  json::array full;
  full.reserve(args.size() + 1);
  full.emplace_back(event);
  for (auto& arg : args) full.push_back(std::move(arg));
  return full;
}

}  // namespace

namespace {

struct Targets {
  std::vector<std::string> rooms;
  std::vector<std::string> except;
};

}  // namespace

struct Namespace::Shard {
  std::vector<Socket*> all;
  std::unordered_map<std::string, std::unordered_set<Socket*>> rooms;
  // The implicit room of each socket's id, keyed by a view of the socket's own id.
  std::unordered_map<std::string_view, Socket*> byId;

  template <typename Fn>
  void forEachIn(const std::string& room, Fn&& fn) {
    if (auto r = rooms.find(room); r != rooms.end()) {
      for (Socket* socket : r->second) fn(socket);
    }
    if (auto s = byId.find(room); s != byId.end()) fn(s->second);
  }
  uint64_t serial = 0;
  std::atomic<size_t> count{0};

  // Calls fn once for each socket the targets select: a socket in several of the
  // rooms is stamped on its first visit, and sockets of excluded rooms beforehand.
  template <typename Fn>
  void select(const Targets& targets, Fn&& fn) {
    if (targets.rooms.empty() && targets.except.empty()) {
      for (Socket* socket : all) fn(socket);
      return;
    }
    uint64_t mark = ++serial;
    for (const auto& room : targets.except) {
      forEachIn(room, [mark](Socket* socket) { socket->mark_ = mark; });
    }
    auto visit = [&](Socket* socket) {
      if (socket->mark_ == mark) return;
      socket->mark_ = mark;
      fn(socket);
    };
    if (targets.rooms.empty()) {
      for (Socket* socket : all) visit(socket);
      return;
    }
    for (const auto& room : targets.rooms) forEachIn(room, visit);
  }
};

// ------------------------------------------------------------------ Client

// The Socket.IO side of one Engine.IO session: decodes packets and routes them to
// the sockets of the namespaces the client joined.
class Client : public std::enable_shared_from_this<Client> {
 public:
  struct Hook : net::FifoHook {
    Client* client = nullptr;
  };

  Client(Server& server, eio::SessionPtr session) : server_(server), session_(std::move(session)) {
    hook_.client = this;
  }

  net::Loop& loop() const { return session_->loop(); }
  eio::Session& session() { return *session_; }
  bool closed() const { return closed_; }

  void sendText(std::string_view text) { session_->sendMessage(text); }
  void sendFrames(const Frames& frames) {
    for (const auto& frame : frames) session_->send(frame);
  }

  void onMessage(std::string&& data, bool binary) {
    auto step = binary ? decoder_.feedBinary(std::move(data)) : decoder_.feedText(data);
    if (step.status == Decoder::Status::kError) {
      spdlog::debug("socket.io: closing client on bad packet: {}", step.error.message);
      session_->close(eio::reason::kParseError);
      return;
    }
    if (step.status == Decoder::Status::kNeedMore) return;
    onPacket(decoder_.take());
  }

  void onClose(std::string_view why) {
    closed_ = true;
    auto sockets = std::move(sockets_);
    for (auto& [nsp, socket] : sockets) socket->closed(why);
  }

  void removeSocket(Socket& socket) {
    auto it = std::find_if(sockets_.begin(), sockets_.end(),
                           [&](const auto& entry) { return entry.second.get() == &socket; });
    if (it != sockets_.end()) sockets_.erase(it);
  }

  bool anyConnected() const {
    return std::any_of(sockets_.begin(), sockets_.end(),
                       [](const auto& entry) { return entry.second->connected(); });
  }

  void close(std::string_view why = eio::reason::kForcedClose) { session_->close(why); }

  Hook hook_;

 private:
  SocketPtr find(const std::string& nsp) {
    for (auto& [name, socket] : sockets_) {
      if (name == nsp) return socket;
    }
    return nullptr;
  }

  void onPacket(Packet&& packet) {
    switch (packet.type) {
      case PacketType::kConnect:
        connect(packet);
        return;
      case PacketType::kDisconnect:
        if (auto socket = find(packet.nsp)) socket->closed(reason::kClientDisconnect);
        return;
      case PacketType::kEvent:
      case PacketType::kBinaryEvent: {
        auto socket = find(packet.nsp);
        if (!socket || !socket->connected()) return;  // not (yet) in that namespace
        auto& args = packet.data.as_array();
        std::string name =
            args[0].is_string() ? std::string(args[0].as_string()) : json::serialize(args[0]);
        args.erase(args.begin());
        socket->onEvent(std::move(name), std::move(args), std::move(packet.attachments), packet.id);
        return;
      }
      case PacketType::kAck:
      case PacketType::kBinaryAck: {
        auto socket = find(packet.nsp);
        if (socket && socket->connected()) {
          socket->onAck(*packet.id, std::move(packet.data.as_array()),
                        std::move(packet.attachments));
        }
        return;
      }
      case PacketType::kConnectError:
        session_->close(eio::reason::kParseError);  // only servers send these
        return;
    }
  }

  void connect(Packet& packet) {
    auto it = server_.namespaces_.find(packet.nsp);
    if (it == server_.namespaces_.end()) {
      json::value data = json::object{{"message", "Invalid namespace"}};
      sendText(encodePacket(PacketType::kConnectError, packet.nsp, std::nullopt, &data));
      return;
    }
    if (find(packet.nsp)) return;  // already connected (or connecting) to it
    Handshake handshake;
    handshake.transport = &session_->handshake();
    if (packet.data.is_object()) {
      auto& auth = packet.data.as_object();
      if (auto pid = auth.if_contains("pid"); pid && pid->is_string()) {
        handshake.pid = std::string(pid->as_string());
      }
      if (auto offset = auth.if_contains("offset"); offset && offset->is_string()) {
        handshake.offset = std::string(offset->as_string());
      }
      handshake.auth = std::move(packet.data);
    } else {
      handshake.auth = json::object();
    }
    auto socket = std::make_shared<Socket>(*it->second, *this, randomId(11), std::move(handshake));
    socket->clientRef_ = weak_from_this();
    sockets_.emplace_back(packet.nsp, socket);
    it->second->runMiddlewares(socket, 0);
  }

  Server& server_;
  eio::SessionPtr session_;
  Decoder decoder_;
  std::vector<std::pair<std::string, SocketPtr>> sockets_;
  bool closed_ = false;
};

// The seam: Engine.IO sessions in, Socket.IO clients out.
class Server::Bridge final : public eio::EngineHandler {
 public:
  explicit Bridge(Server& server) : server_(server) {
    for (unsigned i = 0; i < server.loops_->size(); ++i) {
      connectTimers_.push_back(std::make_unique<net::FifoTimer>(
          server.loops_->at(i), server.options_.connectTimeout, [](net::FifoHook& hook) {
            Client* client = static_cast<Client::Hook&>(hook).client;
            if (!client->anyConnected()) client->close();
          }));
    }
  }

  void onOpen(const eio::SessionPtr& session) override {
    auto client = std::make_shared<Client>(server_, session);
    session->attachment = client;
    connectTimers_[session->loop().index()]->arm(client->hook_);
  }

  void onMessage(const eio::SessionPtr& session, std::string&& data, bool binary) override {
    if (auto client = std::static_pointer_cast<Client>(session->attachment)) {
      client->onMessage(std::move(data), binary);
    }
  }

  void onClose(const eio::SessionPtr& session, std::string_view why) override {
    if (auto client = std::static_pointer_cast<Client>(session->attachment)) {
      connectTimers_[session->loop().index()]->cancel(client->hook_);
      client->onClose(why);
    }
  }

  void connected(Client& client) { connectTimers_[client.loop().index()]->cancel(client.hook_); }

 private:
  Server& server_;
  std::vector<std::unique_ptr<net::FifoTimer>> connectTimers_;
};

// ------------------------------------------------------------------ Ack

void Ack::operator()(Args args, Attachments attachments) {
  if (used_) return;
  used_ = true;
  if (auto socket = socket_.lock()) socket->sendAck(id_, std::move(args), std::move(attachments));
}

// ------------------------------------------------------------------ Socket

Socket::Socket(Namespace& nsp, Client& client, std::string id, Handshake handshake)
    : nsp_(nsp), client_(client), id_(std::move(id)), handshake_(std::move(handshake)) {
  if (nsp.server().options().connectionStateRecovery) pid_ = randomId(15);
}

Socket::~Socket() = default;

net::Loop& Socket::loop() const {
  return client_.loop();
}

bool Socket::writable() const {
  return connected_ && client_.session().writable();
}

void Socket::on(std::string event, EventHandler handler) {
  for (auto& [name, existing] : handlers_) {
    if (name == event) {
      existing = std::move(handler);
      return;
    }
  }
  handlers_.emplace_back(std::move(event), std::move(handler));
}

void Socket::sendEncoded(const std::string& text, const Attachments& attachments) {
  if (!connected_ || client_.closed()) return;
  client_.sendText(text);
  for (const auto& bytes : attachments) client_.session().send(eio::makeMessage(bytes, true));
}

void Socket::emit(std::string_view event, Args args, Attachments attachments) {
  json::value payload = eventPayload(event, std::move(args));
  auto type = attachments.empty() ? PacketType::kEvent : PacketType::kBinaryEvent;
  sendEncoded(encodePacket(type, nsp_.name(), std::nullopt, &payload, attachments.size()),
              attachments);
}

void Socket::emitRaw(std::string_view jsonArray) {
  std::string text = encodePacket(PacketType::kEvent, nsp_.name(), std::nullopt, nullptr);
  text += jsonArray;
  sendEncoded(text, {});
}

void Socket::deliverBroadcast(const FramesPtr& frames, uint64_t tag) {
  if (!holding_) {
    client_.sendFrames(*frames);
    return;
  }
  if (held_.size() >= kMaxHeldBroadcasts) {
    disconnect(true);  // cannot catch up: the client reconnects and replays again
    return;
  }
  held_.emplace_back(tag, frames);
}

void Socket::hold() {
  holding_ = true;
}

void Socket::release(uint64_t skipUpTo) {
  holding_ = false;
  auto held = std::move(held_);
  for (const auto& [tag, frames] : held) {
    if (tag == 0 || tag > skipUpTo) client_.sendFrames(*frames);
  }
}

void Socket::emitWithAck(std::string_view event, Args args, int64_t timeoutMs, AckCallback callback,
                         Attachments attachments) {
  if (!connected_) {
    callback(makeError("disconnected", "socket is not connected"), {}, {});
    return;
  }
  uint64_t id = nextAckId_++;
  PendingAck pending{std::move(callback), nullptr};
  if (timeoutMs > 0) {
    std::weak_ptr<Socket> weak = weak_from_this();
    pending.timer = loop().runAfter(timeoutMs, [weak, id] {
      auto self = weak.lock();
      if (!self) return;
      auto it = std::find_if(self->pendingAcks_.begin(), self->pendingAcks_.end(),
                             [id](const auto& entry) { return entry.first == id; });
      if (it == self->pendingAcks_.end()) return;
      auto cb = std::move(it->second.callback);
      self->pendingAcks_.erase(it);
      cb(makeError("timeout", "operation has timed out"), {}, {});
    });
  }
  pendingAcks_.emplace_back(id, std::move(pending));
  json::value payload = eventPayload(event, std::move(args));
  auto type = attachments.empty() ? PacketType::kEvent : PacketType::kBinaryEvent;
  sendEncoded(encodePacket(type, nsp_.name(), id, &payload, attachments.size()), attachments);
}

void Socket::sendAck(uint64_t id, Args args, Attachments attachments) {
  json::value payload(std::move(args));
  auto type = attachments.empty() ? PacketType::kAck : PacketType::kBinaryAck;
  sendEncoded(encodePacket(type, nsp_.name(), id, &payload, attachments.size()), attachments);
}

void Socket::onEvent(std::string name, Args args, Attachments attachments,
                     std::optional<uint64_t> id) {
  Event event{*this, std::move(name), std::move(args), std::move(attachments),
              id ? Ack(weak_from_this(), *id) : Ack()};
  auto it = std::find_if(handlers_.begin(), handlers_.end(),
                         [&](const auto& entry) { return entry.first == event.name; });
  auto self = shared_from_this();  // a handler may disconnect this socket
  if (it != handlers_.end()) {
    auto handler = it->second;
    handler(event);
  } else if (anyHandler_) {
    auto handler = anyHandler_;
    handler(event);
  }
}

void Socket::onAck(uint64_t id, Args args, Attachments attachments) {
  auto it = std::find_if(pendingAcks_.begin(), pendingAcks_.end(),
                         [id](const auto& entry) { return entry.first == id; });
  if (it == pendingAcks_.end()) return;  // late (timed out) or unknown: ignored
  auto pending = std::move(it->second);
  pendingAcks_.erase(it);
  net::Loop::cancel(pending.timer);
  pending.callback(std::nullopt, std::move(args), std::move(attachments));
}

void Socket::join(const std::string& room) {
  if (room == id_) return;  // always in it
  if (std::find(rooms_.begin(), rooms_.end(), room) != rooms_.end()) return;
  rooms_.push_back(room);
  if (connected_) nsp_.shard(loop()).rooms[room].insert(this);
}

void Socket::leave(const std::string& room) {
  auto it = std::find(rooms_.begin(), rooms_.end(), room);
  if (it == rooms_.end()) return;
  rooms_.erase(it);
  if (!connected_) return;
  auto& rooms = nsp_.shard(loop()).rooms;
  if (auto r = rooms.find(room); r != rooms.end()) {
    r->second.erase(this);
    if (r->second.empty()) rooms.erase(r);
  }
}

BroadcastOperator Socket::broadcast() {
  return BroadcastOperator(nsp_).except(id_);
}
BroadcastOperator Socket::to(std::string room) {
  return broadcast().to(std::move(room));
}

void Socket::disconnect(bool close) {
  if (!connected_) return;
  client_.sendText(encodePacket(PacketType::kDisconnect, nsp_.name(), std::nullopt, nullptr));
  if (close) {
    client_.close();  // ends every socket of the client, this one included
    return;
  }
  closed(reason::kServerDisconnect);
}

void Socket::post(std::function<void(Socket&)> fn) {
  std::weak_ptr<Socket> weak = weak_from_this();
  loop().dispatch([weak, fn = std::move(fn)] {
    if (auto self = weak.lock(); self && self->connected_) fn(*self);
  });
}

void Socket::closed(std::string_view why) {
  auto self = shared_from_this();
  bool wasConnected = connected_;
  if (wasConnected) {
    nsp_.remove(*this);
    connected_ = false;
  }
  handlers_.clear();
  anyHandler_ = nullptr;
  auto pending = std::move(pendingAcks_);
  for (auto& [id, ack] : pending) {
    net::Loop::cancel(ack.timer);
    ack.callback(makeError("disconnected", "socket has been disconnected"), {}, {});
  }
  if (!clientRef_.expired()) client_.removeSocket(*this);
  if (wasConnected) {
    auto handlers = std::move(disconnectHandlers_);
    for (auto& handler : handlers) handler(*this, why);
  }
}

// ------------------------------------------------------------------ Namespace

Namespace::Namespace(Server& server, std::string name) : server_(server), name_(std::move(name)) {
  for (unsigned i = 0; i < server.loops_->size(); ++i) shards_.push_back(std::make_unique<Shard>());
}

Namespace::~Namespace() = default;

Namespace::Shard& Namespace::shard(net::Loop& loop) {
  return *shards_[loop.index()];
}

size_t Namespace::socketCount() const {
  size_t total = 0;
  for (const auto& shard : shards_) total += shard->count.load(std::memory_order_relaxed);
  return total;
}

void Namespace::add(Socket& socket) {
  auto& s = shard(socket.loop());
  socket.indexInShard_ = s.all.size();
  s.all.push_back(&socket);
  s.byId.emplace(socket.id_, &socket);
  s.count.fetch_add(1, std::memory_order_relaxed);
  for (const auto& room : socket.rooms_) s.rooms[room].insert(&socket);
}

void Namespace::remove(Socket& socket) {
  auto& s = shard(socket.loop());
  size_t i = socket.indexInShard_;
  if (i < s.all.size() && s.all[i] == &socket) {
    s.all[i] = s.all.back();
    s.all[i]->indexInShard_ = i;
    s.all.pop_back();
    s.byId.erase(socket.id_);
    s.count.fetch_sub(1, std::memory_order_relaxed);
  }
  for (const auto& room : socket.rooms_) {
    if (auto r = s.rooms.find(room); r != s.rooms.end()) {
      r->second.erase(&socket);
      if (r->second.empty()) s.rooms.erase(r);
    }
  }
}

void Namespace::runMiddlewares(const SocketPtr& socket, size_t index) {
  if (socket->client_.closed() || socket->clientRef_.expired()) return;
  if (index == middlewares_.size()) {
    connected(socket);
    return;
  }
  auto once = std::make_shared<std::atomic<bool>>(false);
  Next next = [this, socket, index, once](std::optional<ConnectError> error) {
    if (once->exchange(true)) return;  // next() called twice: the first one counts
    socket->loop().dispatch([this, socket, index, error = std::move(error)] {
      if (socket->client_.closed()) return;
      if (error) {
        json::object data{{"message", error->message}};
        if (!error->data.is_null()) data["data"] = error->data;
        json::value payload(std::move(data));
        socket->client_.sendText(
            encodePacket(PacketType::kConnectError, name_, std::nullopt, &payload));
        socket->client_.removeSocket(*socket);
        return;
      }
      runMiddlewares(socket, index + 1);
    });
  };
  middlewares_[index](*socket, std::move(next));
}

void Namespace::connected(const SocketPtr& socket) {
  socket->connected_ = true;
  add(*socket);
  server_.bridge_->connected(socket->client_);
  json::object data{{"sid", socket->id_}};
  if (!socket->pid_.empty()) data["pid"] = socket->pid_;
  json::value payload(std::move(data));
  socket->client_.sendText(encodePacket(PacketType::kConnect, name_, std::nullopt, &payload));
  for (auto& handler : connectionHandlers_) {
    if (!socket->connected_) break;
    handler(socket);
  }
}

// ------------------------------------------------------------------ BroadcastOperator

BroadcastOperator BroadcastOperator::to(std::string room) const {
  BroadcastOperator next = *this;
  next.rooms_.push_back(std::move(room));
  return next;
}

BroadcastOperator BroadcastOperator::except(std::string room) const {
  BroadcastOperator next = *this;
  next.except_.push_back(std::move(room));
  return next;
}

void BroadcastOperator::emit(std::string_view event, Args args, Attachments attachments) const {
  json::value payload = eventPayload(event, std::move(args));
  auto type = attachments.empty() ? PacketType::kEvent : PacketType::kBinaryEvent;
  deliver(encodeFrames(encodePacket(type, nsp_->name(), std::nullopt, &payload, attachments.size()),
                       attachments),
          0);
}

void BroadcastOperator::emitRaw(std::string_view jsonArray, uint64_t tag) const {
  std::string text = encodePacket(PacketType::kEvent, nsp_->name(), std::nullopt, nullptr);
  text += jsonArray;
  deliver(encodeFrames(text, {}), tag);
}

void BroadcastOperator::deliver(std::shared_ptr<const std::vector<eio::OutPacketPtr>> frames,
                                uint64_t tag) const {
  auto targets = std::make_shared<const Targets>(Targets{rooms_, except_});
  Namespace* nsp = nsp_;
  for (unsigned i = 0; i < nsp->server_.loops_->size(); ++i) {
    net::Loop& loop = nsp->server_.loops_->at(i);
    loop.dispatch([nsp, &loop, frames, targets, tag] {
      nsp->shard(loop).select(*targets,
                              [&](Socket* socket) { socket->deliverBroadcast(frames, tag); });
    });
  }
}

void BroadcastOperator::disconnectSockets(bool close) const {
  forEachSocket([close](Socket& socket) { socket.disconnect(close); });
}

void BroadcastOperator::forEachSocket(std::function<void(Socket&)> fn) const {
  auto targets = std::make_shared<const Targets>(Targets{rooms_, except_});
  auto shared = std::make_shared<const std::function<void(Socket&)>>(std::move(fn));
  Namespace* nsp = nsp_;
  for (unsigned i = 0; i < nsp->server_.loops_->size(); ++i) {
    net::Loop& loop = nsp->server_.loops_->at(i);
    loop.dispatch([nsp, &loop, targets, shared] {
      // Chosen first: fn may change the shard (leave rooms, disconnect).
      std::vector<SocketPtr> chosen;
      nsp->shard(loop).select(
          *targets, [&](Socket* socket) { chosen.push_back(socket->shared_from_this()); });
      for (auto& socket : chosen) {
        if (socket->connected()) (*shared)(*socket);
      }
    });
  }
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
  bridge_ = std::make_unique<Bridge>(*this);
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
  engine_ = std::make_unique<eio::EngineServer>(*loops_, e, *bridge_);
  engine_->mount(*router_);
  if (options_.serveClient) mountClientBundle(*router_, options_.path);
  of("/");
}

Namespace& Server::of(const std::string& name) {
  std::string key = name.empty() || name[0] != '/' ? "/" + name : name;
  auto& slot = namespaces_[key];
  if (!slot) slot = std::make_unique<Namespace>(*this, key);
  return *slot;
}

void Server::listen(const std::string& host, uint16_t port) {
  http::HttpOptions httpOptions;
  httpOptions.maxBody = std::max<size_t>(options_.maxPayload, http::kDefaultMaxBody);
  httpOptions.limits = options_.limits;
  http_ = std::make_unique<http::HttpServer>(*loops_, *router_, httpOptions);
  http_->listen(host, port);
  if (ownLoops_) ownLoops_->start();
}

uint16_t Server::port() const {
  return http_ ? http_->port() : 0;
}

void Server::close() {
  for (auto& [name, nsp] : namespaces_) {
    Namespace* n = nsp.get();
    for (unsigned i = 0; i < loops_->size(); ++i) {
      net::Loop& loop = loops_->at(i);
      loop.dispatch([n, &loop] {
        auto& shard = n->shard(loop);
        std::vector<SocketPtr> all;
        for (Socket* socket : shard.all) all.push_back(socket->shared_from_this());
        // No DISCONNECT packet: like Node's io.close(), the transports just close,
        // so clients reconnect to the restarted server by themselves.
        for (auto& socket : all) socket->closed(reason::kServerShutdown);
      });
    }
  }
  engine_->closeAll();
  if (http_) http_->close();
}

}  // namespace brigade::sio
