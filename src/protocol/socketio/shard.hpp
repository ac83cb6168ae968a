#pragma once

// Engine-internal: one loop's share of a namespace — its connected sockets and
// room index. Touched only on that loop (count is read from anywhere).

#include <atomic>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "protocol/socketio/broadcast.hpp"
#include "protocol/socketio/socket.hpp"

namespace brigade::sio::detail {

struct Shard {
  std::vector<Socket*> all;
  std::unordered_map<std::string, std::unordered_set<Socket*>> rooms;
  // The implicit room of each socket's id, keyed by a view of the socket's own id.
  std::unordered_map<std::string_view, Socket*> byId;
  uint64_t serial = 0;
  std::atomic<size_t> count{0};

  template <typename Fn>
  void forEachIn(const std::string& room, Fn&& fn) {
    if (auto r = rooms.find(room); r != rooms.end()) {
      for (Socket* socket : r->second) fn(socket);
    }
    if (auto s = byId.find(room); s != byId.end()) fn(s->second);
  }

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
      forEachIn(room, [mark](Socket* socket) { socket->shardSlot(kEngine).mark = mark; });
    }
    auto visit = [&](Socket* socket) {
      auto& slot = socket->shardSlot(kEngine);
      if (slot.mark == mark) return;
      slot.mark = mark;
      fn(socket);
    };
    if (targets.rooms.empty()) {
      for (Socket* socket : all) visit(socket);
      return;
    }
    for (const auto& room : targets.rooms) forEachIn(room, visit);
  }
};

}  // namespace brigade::sio::detail
