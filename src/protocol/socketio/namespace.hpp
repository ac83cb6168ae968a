#pragma once

// A namespace: its middleware and connection handlers (set at start-up, before the
// loops run, then only read), and per loop a shard of its sockets and rooms.

#include <atomic>
#include <functional>
#include <memory>
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
};

}  // namespace brigade::sio
