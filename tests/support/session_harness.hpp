#pragma once

// An in-memory Brigade engine for tests and fuzzers: one manually driven loop,
// the Socket.IO server mounted on an HTTP router, and connections made of
// net::MemoryConnection. No sockets, no threads, deterministic: the loop runs on a
// manual clock, so heartbeats and timeouts fire only when a test calls advance().

#include <memory>
#include <string>

#include "http/server.hpp"
#include "net/loop.hpp"
#include "net/memory_connection.hpp"
#include "protocol/socketio/server.hpp"
#include "ws/frame.hpp"

namespace brigade::testing {

class SessionHarness {
 public:
  explicit SessionHarness(sio::ServerOptions options = {}) : loops_(1) {
    loops_.at(0).bindToCurrentThread();
    loops_.at(0).useManualClock();
    options.serveClient = false;
    io_ = std::make_unique<sio::Server>(loops_, router_, options);
  }
  ~SessionHarness() {
    io_->close();
    poll();
  }

  sio::Server& io() { return *io_; }
  net::Loop& loop() { return loops_.at(0); }

  // A new client connection speaking HTTP to the server.
  // `idle`: the HTTP idle timer to use (none by default).
  std::shared_ptr<net::MemoryConnection> connect(std::shared_ptr<net::FifoTimer> idle = nullptr) {
    auto connection = std::make_shared<net::MemoryConnection>(loop());
    connection->setHandler(std::make_unique<http::HttpConnectionHandler>(
        *connection, router_, httpOptions_, std::move(idle)));
    return connection;
  }

  // Moves the loop's clock forward by `ms`, firing the timers due on the way, then
  // runs what they made ready.
  void advance(int64_t ms) {
    loop().advance(ms);
    poll();
  }

  // Runs everything that is ready (handlers, flushes).
  void poll() {
    for (int i = 0; i < 100 && loop().poll() > 0; ++i) {
    }
  }

  static std::string upgradeRequest(const std::string& query = "EIO=4&transport=websocket") {
    return "GET /socket.io/?" + query +
           " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  }
  static std::string textFrame(std::string_view text) {
    return ws::encodeClientFrame(ws::Opcode::kText, text, 0x12345678);
  }
  static std::string binaryFrame(std::string_view bytes) {
    return ws::encodeClientFrame(ws::Opcode::kBinary, bytes, 0x9abcdef0);
  }

 private:
  net::LoopGroup loops_;
  http::Router router_;
  http::HttpOptions httpOptions_;
  std::unique_ptr<sio::Server> io_;
};

}  // namespace brigade::testing
