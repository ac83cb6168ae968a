#include "protocol/socketio/namespace.hpp"

#include <atomic>
#include <stdexcept>

#include "core/assert.hpp"
#include "protocol/socketio/client.hpp"
#include "protocol/socketio/packet.hpp"
#include "protocol/socketio/server.hpp"
#include "protocol/socketio/shard.hpp"

namespace brigade::sio {

namespace json = boost::json;
using detail::kEngine;

Namespace::Namespace(detail::EngineAccess, Server& server, net::LoopGroup& loops, std::string name)
    : server_(server), loops_(loops), name_(std::move(name)) {
  for (unsigned i = 0; i < loops.size(); ++i) {
    shards_.push_back(std::make_unique<detail::Shard>());
  }
}

Namespace::~Namespace() = default;

// The loops read the lists without a lock: they may change only before the loops run.
void Namespace::use(Middleware middleware) {
  if (loops_.started()) throw std::logic_error("sio::Namespace::use after the loops started");
  middlewares_.push_back(std::move(middleware));
}

void Namespace::onConnection(ConnectionHandler handler) {
  if (loops_.started()) {
    throw std::logic_error("sio::Namespace::onConnection after the loops started");
  }
  connectionHandlers_.push_back(std::move(handler));
}

detail::Shard& Namespace::shard(detail::EngineAccess, net::Loop& loop) {
  BRIGADE_ASSERT_IN_LOOP(loop);
  return *shards_[loop.index()];
}

size_t Namespace::socketCount() const {
  size_t total = 0;
  for (const auto& shard : shards_) total += shard->count.load(std::memory_order_relaxed);
  return total;
}

void Namespace::countRoom(const std::string& room) {
  if (loops_.started()) throw std::logic_error("sio::Namespace::countRoom after the loops started");
  counted_.try_emplace(room, std::make_unique<std::atomic<size_t>>(0));
}

size_t Namespace::roomSize(const std::string& room) const {
  auto it = counted_.find(room);
  return it == counted_.end() ? 0 : it->second->load(std::memory_order_relaxed);
}

Namespace::Sent Namespace::sent() const {
  Sent s;
  s.broadcasts = broadcasts_.load(std::memory_order_relaxed);
  s.delivered = delivered_.load(std::memory_order_relaxed);
  std::lock_guard lock(eventsMutex_);
  s.events.assign(events_.begin(), events_.end());
  return s;
}

void Namespace::noteEvent(detail::EngineAccess, std::string_view name, uint64_t sockets,
                          bool broadcast) {
  if (broadcast) broadcasts_.fetch_add(1, std::memory_order_relaxed);
  delivered_.fetch_add(sockets, std::memory_order_relaxed);
  std::lock_guard lock(eventsMutex_);
  auto it = events_.find(std::string(name));  // few names: no heterogeneous lookup needed
  if (it != events_.end()) {
    ++it->second;
  } else if (events_.size() < kMaxCountedEventNames) {
    events_.emplace(std::string(name), 1);
  } else {
    ++events_["other"];
  }
}

std::string_view rawEventName(std::string_view jsonArray) {
  // ["name", ...]: event names never hold a quote or a backslash here (the server names
  // them); one that would is cut at it, which only affects its label.
  size_t i = 0;
  while (i < jsonArray.size() && (jsonArray[i] == ' ' || jsonArray[i] == '[')) ++i;
  if (i >= jsonArray.size() || jsonArray[i] != '"') return {};
  const size_t start = i + 1;
  const size_t end = jsonArray.find_first_of("\\\"", start);
  return end == std::string_view::npos ? std::string_view{} : jsonArray.substr(start, end - start);
}

void Namespace::joined(detail::EngineAccess, Socket& socket, const std::string& room) {
  bool added = shard(kEngine, socket.loop()).rooms[room].insert(&socket).second;
  if (auto it = counted_.find(room); added && it != counted_.end()) {
    it->second->fetch_add(1, std::memory_order_relaxed);
  }
}

void Namespace::left(detail::EngineAccess, Socket& socket, const std::string& room) {
  auto& rooms = shard(kEngine, socket.loop()).rooms;
  if (auto r = rooms.find(room); r != rooms.end()) {
    bool removed = r->second.erase(&socket) > 0;
    if (r->second.empty()) rooms.erase(r);
    if (auto it = counted_.find(room); removed && it != counted_.end()) {
      it->second->fetch_sub(1, std::memory_order_relaxed);
    }
  }
}

void Namespace::remove(detail::EngineAccess, Socket& socket) {
  auto& s = shard(kEngine, socket.loop());
  size_t i = socket.shardSlot(kEngine).index;
  if (i < s.all.size() && s.all[i] == &socket) {
    s.all[i] = s.all.back();
    s.all[i]->shardSlot(kEngine).index = i;
    s.all.pop_back();
    s.byId.erase(socket.id());
    s.count.fetch_sub(1, std::memory_order_relaxed);
  }
  for (const auto& room : socket.rooms()) left(kEngine, socket, room);
}

void Namespace::runMiddlewares(detail::EngineAccess, const SocketPtr& socket, size_t index) {
  BRIGADE_ASSERT_IN_LOOP(socket->loop());
  auto client = socket->client(kEngine);
  if (!client || client->closed()) return;
  if (index == middlewares_.size()) {
    connected(socket, *client);
    return;
  }
  // next() may come from any thread, after the client left: it holds the socket
  // (whose loop stays valid) and finds the client again, if any, on that loop.
  auto once = std::make_shared<std::atomic<bool>>(false);
  Next next = [this, socket, index, once](std::optional<ConnectError> error) {
    if (once->exchange(true)) return;  // next() called twice: the first one counts
    socket->loop().dispatch([this, socket, index, error = std::move(error)] {
      auto client = socket->client(kEngine);
      if (!client || client->closed()) return;
      if (error) {
        json::object data{{"message", error->message}};
        if (!error->data.is_null()) data["data"] = error->data;
        json::value payload(std::move(data));
        client->sendText(encodePacket(PacketType::kConnectError, name_, std::nullopt, &payload));
        client->removeSocket(*socket);
        return;
      }
      runMiddlewares(kEngine, socket, index + 1);
    });
  };
  middlewares_[index](*socket, std::move(next));
}

void Namespace::connected(const SocketPtr& socket, Client& client) {
  socket->attach(kEngine, client);
  auto& s = shard(kEngine, socket->loop());
  socket->shardSlot(kEngine).index = s.all.size();
  s.all.push_back(socket.get());
  s.byId.emplace(socket->id(), socket.get());
  s.count.fetch_add(1, std::memory_order_relaxed);
  for (const auto& room : socket->rooms()) s.rooms[room].insert(socket.get());
  client.socketConnected();
  json::object data{{"sid", socket->id()}};
  if (!socket->pid().empty()) data["pid"] = socket->pid();
  json::value payload(std::move(data));
  client.sendText(encodePacket(PacketType::kConnect, name_, std::nullopt, &payload));
  for (auto& handler : connectionHandlers_) {
    if (!socket->connected()) break;
    handler(socket);
  }
}

void Namespace::closeSockets(detail::EngineAccess, DisconnectReason why) {
  for (unsigned i = 0; i < loops_.size(); ++i) {
    net::Loop& loop = loops_.at(i);
    loop.dispatch([this, &loop, why] {
      auto& shard = this->shard(kEngine, loop);
      std::vector<SocketPtr> all;
      for (Socket* socket : shard.all) all.push_back(socket->shared_from_this());
      for (auto& socket : all) socket->closed(kEngine, why);
    });
  }
}

}  // namespace brigade::sio
