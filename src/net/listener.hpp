#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "net/connection.hpp"
#include "net/loop.hpp"

namespace brigade::net {

// Accepts TCP connections on every loop of a group: one SO_REUSEPORT acceptor per
// loop, so the kernel spreads connections and no accepted socket crosses threads.
class Listener {
 public:
  using OnAccept = std::function<void(const TcpConnectionPtr&)>;
  Listener(LoopGroup& loops, OnAccept onAccept);
  ~Listener();

  // Binds host:port (port 0 picks a free one); throws on failure (start-up only).
  void listen(const std::string& host, uint16_t port, int backlog = 1024);
  uint16_t port() const { return port_; }
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

}  // namespace brigade::net
