// Ownership across threads: a socket handle outlives the Engine.IO session and the
// Socket.IO client it was made for. The application keeps SocketPtrs in store
// callbacks and calls next(), loop() and post() from store threads, possibly after
// the client is gone; none of that may touch freed memory (run under ASan/TSan).
#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "support/session_harness.hpp"

namespace brigade {
namespace {

using testing::SessionHarness;

constexpr int kRounds = 200;

std::shared_ptr<net::MemoryConnection> connectWs(SessionHarness& h, const std::string& auth) {
  auto c = h.connect();
  c->receive(SessionHarness::upgradeRequest());
  h.poll();
  c->receive(SessionHarness::textFrame("40" + auth));
  h.poll();
  return c;
}

// Middleware that answers later from another thread, as Brigade's authentication does
// (the token is checked by the store on its own thread): the client's transport has
// closed, and its session and client are gone, by the time `later` runs.
void leaveDuringMiddleware(const std::function<void(const sio::SocketPtr&, sio::Next)>& later) {
  SessionHarness h;
  std::vector<std::pair<sio::SocketPtr, sio::Next>> pending;
  h.io().use([&](sio::Socket& socket, sio::Next next) {
    pending.emplace_back(socket.shared_from_this(), std::move(next));
  });
  int connections = 0;
  h.io().onConnection([&](const sio::SocketPtr&) { ++connections; });

  for (int round = 0; round < kRounds; ++round) {
    auto c = connectWs(h, R"({"token":"t"})");
    ASSERT_EQ(pending.size(), 1u);
    c->takeOutput();
    c->peerClose();  // the client goes away while its authentication is under way
    h.poll();
    auto [socket, next] = std::move(pending.back());
    pending.clear();
    std::thread store(
        [&, socket = std::move(socket), next = std::move(next)] { later(socket, next); });
    store.join();
    h.poll();
    EXPECT_TRUE(c->takeOutput().empty());
  }
  EXPECT_EQ(connections, 0);
  EXPECT_EQ(h.io().of("/").socketCount(), 0u);
}

TEST(OwnershipTest, NextAfterTheClientLeftIsIgnored) {
  int round = 0;
  leaveDuringMiddleware([&](const sio::SocketPtr&, const sio::Next& next) {
    if (++round % 2) return next(std::nullopt);
    next(sio::ConnectError{"unauthorized", {}});
  });
}

TEST(OwnershipTest, SocketHandleStaysUsableAfterTheClientLeft) {
  leaveDuringMiddleware([](const sio::SocketPtr& socket, const sio::Next& next) {
    // What the application does in its callback: read the handshake, set its state,
    // reach the socket's loop, then let the engine go on.
    EXPECT_EQ(socket->handshake().header("host"), "localhost");
    EXPECT_EQ(socket->handshake().auth.at("token").as_string(), "t");
    socket->data = 42;
    socket->post([](sio::Socket&) { ADD_FAILURE() << "a socket that never connected ran a post"; });
    next(std::nullopt);
  });
}

}  // namespace
}  // namespace brigade
