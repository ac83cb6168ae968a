#pragma once

// A namespace: its middleware and connection handlers (set at start-up, before the
// loops run, then only read), and per loop a shard of its sockets and rooms.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "net/loop.hpp"
#include "protocol/socketio/broadcast.hpp"
#include "protocol/socketio/socket.hpp"
#include "protocol/socketio/types.hpp"

namespace brigade::sio {

namespace detail {
struct Shard;
}

class Namespace {
 public:
  Namespace(detail::EngineAccess, Server& server, net::LoopGroup& loops, std::string name);
  ~Namespace();
  Namespace(const Namespace&) = delete;
  Namespace& operator=(const Namespace&) = delete;

  const std::string& name() const { return name_; }
  Server& server() { return server_; }

  // Start-up only: before the loops run.
  void use(Middleware middleware);
  void onConnection(ConnectionHandler handler);

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
  // Start-up only: keep a count of the sockets in `room`, so that roomSize() can tell from
  // any thread whether anyone is there (work for a room nobody is in can be skipped).
  void countRoom(const std::string& room);
  // Sockets in a room passed to countRoom() (approximate while they come and go); 0 for
  // any other room.
  size_t roomSize(const std::string& room) const;

  // What this namespace sent (app/metrics.cpp reads it at each scrape): broadcasts,
  // messages delivered to sockets (a broadcast to 100 sockets is 100), and every event,
  // broadcast or to one socket, by name (at most kMaxCountedEventNames; "other" beyond).
  struct Sent {
    uint64_t broadcasts = 0;
    uint64_t delivered = 0;
    std::vector<std::pair<std::string, uint64_t>> events;
  };
  Sent sent() const;

  // Engine-internal (client, socket, broadcast, server).
  net::LoopGroup& loops(detail::EngineAccess) { return loops_; }
  // The shard of `loop`; only on that loop.
  detail::Shard& shard(detail::EngineAccess, net::Loop& loop);
  // Runs middleware `index` onwards for a socket of a client that sent CONNECT.
  void runMiddlewares(detail::EngineAccess, const SocketPtr& socket, size_t index);
  void joined(detail::EngineAccess, Socket& socket, const std::string& room);
  void left(detail::EngineAccess, Socket& socket, const std::string& room);
  void remove(detail::EngineAccess, Socket& socket);
  // On every loop: each socket leaves with `why`, without a DISCONNECT packet.
  void closeSockets(detail::EngineAccess, DisconnectReason why);
  // Counts an event sent (`name` of an event payload, or the first string of a raw one),
  // and the sockets it reached.
  void noteEvent(detail::EngineAccess, std::string_view name, uint64_t sockets, bool broadcast);
  void noteDelivered(detail::EngineAccess, uint64_t sockets) {
    delivered_.fetch_add(sockets, std::memory_order_relaxed);
  }

 private:
  void connected(const SocketPtr& socket, Client& client);

  Server& server_;
  net::LoopGroup& loops_;
  std::string name_;
  std::vector<Middleware> middlewares_;
  std::vector<ConnectionHandler> connectionHandlers_;
  // Written before the loops start, then only read; the counts change on every loop.
  std::unordered_map<std::string, std::unique_ptr<std::atomic<size_t>>> counted_;
  std::vector<std::unique_ptr<detail::Shard>> shards_;  // one per loop, by index
  std::atomic<uint64_t> broadcasts_{0};
  std::atomic<uint64_t> delivered_{0};
  mutable std::mutex eventsMutex_;
  std::unordered_map<std::string, uint64_t> events_;
};

// Event names counted one by one in Namespace::sent(); the rest count as "other" (the
// server names its events itself, but a label's values must stay few).
inline constexpr size_t kMaxCountedEventNames = 64;

// The event name of a serialised ["name", ...] payload ("" when it does not start so).
std::string_view rawEventName(std::string_view jsonArray);

}  // namespace brigade::sio
