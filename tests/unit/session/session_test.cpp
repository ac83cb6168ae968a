// The engine end to end in memory: HTTP, WebSocket frames, Engine.IO sessions and
// Socket.IO sockets through net::MemoryConnection, driven by Loop::poll().
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "support/session_harness.hpp"

namespace brigade {
namespace {

using testing::SessionHarness;

// Splits the server's bytes after a 101 answer into WebSocket messages.
struct ServerFrames {
  std::string head;  // the HTTP answer
  std::vector<std::string> messages;
  std::vector<bool> binary;
};

ServerFrames parse(std::string bytes) {
  ServerFrames out;
  size_t end = bytes.find("\r\n\r\n");
  if (end == std::string::npos) return out;
  out.head = bytes.substr(0, end + 4);
  size_t i = end + 4;
  while (i + 2 <= bytes.size()) {
    auto b0 = static_cast<uint8_t>(bytes[i]);
    uint64_t length = static_cast<uint8_t>(bytes[i + 1]) & 0x7F;
    size_t header = 2;
    if (length == 126) {
      length =
          uint64_t{static_cast<uint8_t>(bytes[i + 2])} << 8 | static_cast<uint8_t>(bytes[i + 3]);
      header = 4;
    } else if (length == 127) {
      length = 0;
      for (int k = 0; k < 8; ++k) length = length << 8 | static_cast<uint8_t>(bytes[i + 2 + k]);
      header = 10;
    }
    if ((b0 & 0x0F) == 0x1 || (b0 & 0x0F) == 0x2) {
      out.messages.push_back(bytes.substr(i + header, length));
      out.binary.push_back((b0 & 0x0F) == 0x2);
    }
    i += header + length;
  }
  return out;
}

class SessionTest : public ::testing::Test {
 protected:
  // Connects a WebSocket client to "/" and returns it with the frames so far.
  std::shared_ptr<net::MemoryConnection> connectWs(SessionHarness& h, std::string auth = "") {
    auto c = h.connect();
    c->receive(SessionHarness::upgradeRequest());
    h.poll();
    c->receive(SessionHarness::textFrame("40" + auth));
    h.poll();
    return c;
  }
};

TEST_F(SessionTest, WebSocketHandshakeOpenPacketAndConnect) {
  SessionHarness h;
  auto c = connectWs(h);
  auto frames = parse(c->takeOutput());
  ASSERT_NE(frames.head.find("HTTP/1.1 101"), std::string::npos);
  EXPECT_NE(frames.head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            std::string::npos);
  ASSERT_EQ(frames.messages.size(), 2u);
  ASSERT_EQ(frames.messages[0][0], '0');
  auto open = boost::json::parse(frames.messages[0].substr(1)).as_object();
  EXPECT_EQ(open.size(), 5u);  // exactly the fields the spec lists
  EXPECT_TRUE(open.contains("sid"));
  EXPECT_EQ(open["upgrades"].as_array().size(), 0u);
  EXPECT_EQ(open["pingInterval"].as_int64(), 25000);
  EXPECT_EQ(open["pingTimeout"].as_int64(), 20000);
  EXPECT_EQ(open["maxPayload"].as_int64(), 1000000);
  ASSERT_EQ(frames.messages[1].substr(0, 2), "40");
  auto connect = boost::json::parse(frames.messages[1].substr(2)).as_object();
  EXPECT_TRUE(connect.contains("sid"));
  EXPECT_EQ(h.io().of("/").socketCount(), 1u);
}

TEST_F(SessionTest, PollingHandshakeAnswersOpenPacket) {
  SessionHarness h;
  auto c = h.connect();
  c->receive("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n");
  h.poll();
  std::string out = c->takeOutput();
  ASSERT_NE(out.find("HTTP/1.1 200"), std::string::npos);
  size_t body = out.find("\r\n\r\n") + 4;
  ASSERT_EQ(out[body], '0');
  auto open = boost::json::parse(out.substr(body + 1)).as_object();
  EXPECT_EQ(open["upgrades"].as_array().size(), 1u);
  EXPECT_EQ(open["upgrades"].as_array()[0].as_string(), "websocket");
}

TEST_F(SessionTest, BadRequestsGetTheSpecAnswers) {
  SessionHarness h;
  auto ask = [&](const std::string& request) {
    auto c = h.connect();
    c->receive(request);
    h.poll();
    return c->takeOutput();
  };
  EXPECT_NE(ask("GET /socket.io/?EIO=3&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
                .find(R"({"code":5,"message":"Unsupported protocol version"})"),
            std::string::npos);
  EXPECT_NE(ask("GET /socket.io/?EIO=4&transport=carrier-pigeon HTTP/1.1\r\nHost: x\r\n\r\n")
                .find(R"({"code":0,"message":"Transport unknown"})"),
            std::string::npos);
  EXPECT_NE(ask("GET /socket.io/?EIO=4&transport=polling&sid=nope HTTP/1.1\r\nHost: x\r\n\r\n")
                .find(R"({"code":1,"message":"Session ID unknown"})"),
            std::string::npos);
  EXPECT_NE(ask("POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n"
                "Content-Length: 2\r\n\r\n40")
                .find(R"({"code":2,"message":"Bad handshake method"})"),
            std::string::npos);
  EXPECT_NE(ask("GARBAGE\r\n\r\n").find("HTTP/1.1 400"), std::string::npos);
}

TEST_F(SessionTest, EventsAndAcks) {
  SessionHarness h;
  h.io().onConnection([](const sio::SocketPtr& s) {
    s->on("sum", [](sio::Event& e) {
      int64_t total = 0;
      for (auto& v : e.args) total += v.as_int64();
      e.ack({total});
    });
  });
  auto c = connectWs(h);
  c->takeOutput();
  c->receive(SessionHarness::textFrame(R"(427["sum",1,2,3])"));
  h.poll();
  std::string out = c->takeOutput();
  EXPECT_NE(out.find("437[6]"), std::string::npos);
}

TEST_F(SessionTest, MiddlewareRefusalSendsConnectError) {
  SessionHarness h;
  h.io().use([](sio::Socket& s, sio::Next next) {
    if (s.handshake().auth.as_object().contains("token")) return next(std::nullopt);
    next(sio::ConnectError{"unauthorized", boost::json::object{{"hint", "log in"}}});
  });
  auto refused = connectWs(h);
  auto frames = parse(refused->takeOutput());
  ASSERT_EQ(frames.messages.size(), 2u);
  EXPECT_EQ(frames.messages[1], R"(44{"message":"unauthorized","data":{"hint":"log in"}})");
  auto accepted = connectWs(h, R"({"token":"t"})");
  frames = parse(accepted->takeOutput());
  ASSERT_EQ(frames.messages.size(), 2u);
  EXPECT_EQ(frames.messages[1].substr(0, 2), "40");
}

TEST_F(SessionTest, RoomsReachEachSocketOnceAndHonourExcept) {
  SessionHarness h;
  std::vector<sio::SocketPtr> sockets;
  h.io().onConnection([&](const sio::SocketPtr& s) { sockets.push_back(s); });
  auto a = connectWs(h);
  auto b = connectWs(h);
  auto c = connectWs(h);
  ASSERT_EQ(sockets.size(), 3u);
  sockets[0]->join("x");
  sockets[0]->join("y");
  sockets[1]->join("y");
  sockets[2]->join("z");
  for (auto& conn : {a, b, c}) conn->takeOutput();
  h.io().to("x").to("y").except("z").emit("hi", {1});
  h.io().to("y").except(sockets[1]->id()).emit("only-a");
  h.poll();
  auto count = [](const std::string& out, const std::string& what) {
    size_t n = 0;
    for (size_t i = out.find(what); i != std::string::npos; i = out.find(what, i + 1)) ++n;
    return n;
  };
  std::string outA = a->takeOutput(), outB = b->takeOutput(), outC = c->takeOutput();
  EXPECT_EQ(count(outA, R"(42["hi",1])"), 1u);
  EXPECT_EQ(count(outB, R"(42["hi",1])"), 1u);
  EXPECT_EQ(count(outC, R"(42["hi",1])"), 0u);
  EXPECT_EQ(count(outA, R"(42["only-a"])"), 1u);
  EXPECT_EQ(count(outB, R"(42["only-a"])"), 0u);
}

TEST_F(SessionTest, BinaryEventIsReassembled) {
  SessionHarness h;
  std::string received;
  h.io().onConnection([&](const sio::SocketPtr& s) {
    s->on("upload", [&](sio::Event& e) {
      ASSERT_EQ(e.attachments.size(), 1u);
      received = e.attachments[0];
      e.socket.emit("echo", {sio::placeholder(0)}, {e.attachments[0]});
    });
  });
  auto c = connectWs(h);
  c->takeOutput();
  c->receive(SessionHarness::textFrame(R"(451-["upload",{"_placeholder":true,"num":0}])"));
  c->receive(SessionHarness::binaryFrame(std::string("\x01\x02\x03", 3)));
  h.poll();
  EXPECT_EQ(received, std::string("\x01\x02\x03", 3));
  auto frames = parse("HTTP/1.1 101\r\n\r\n" + c->takeOutput());
  ASSERT_EQ(frames.messages.size(), 2u);
  EXPECT_EQ(frames.messages[0], R"(451-["echo",{"_placeholder":true,"num":0}])");
  EXPECT_TRUE(frames.binary[1]);
  EXPECT_EQ(frames.messages[1], std::string("\x01\x02\x03", 3));
}

TEST_F(SessionTest, InvalidPacketClosesTheConnection) {
  SessionHarness h;
  std::string reason;
  h.io().onConnection([&](const sio::SocketPtr& s) {
    s->onDisconnect([&](sio::Socket&, std::string_view why) { reason = why; });
  });
  auto c = connectWs(h);
  c->receive(SessionHarness::textFrame(R"(42{"not":"an array"})"));
  h.poll();
  EXPECT_TRUE(c->closed());
  EXPECT_EQ(reason, "parse error");
}

TEST_F(SessionTest, SlowClientIsDisconnectedWithAReason) {
  sio::ServerOptions options;
  options.maxSendQueue = 64 * 1024;  // crossed below by an unflushed burst
  SessionHarness h(options);
  std::string reason;
  h.io().onConnection([&](const sio::SocketPtr& s) {
    s->onDisconnect([&](sio::Socket&, std::string_view why) { reason = why; });
  });
  auto c = connectWs(h);
  std::string big(8 * 1024, 'x');
  // No poll between sends: nothing is flushed, as with a peer that does not read.
  for (int i = 0; i < 16; ++i) h.io().emit("big", {big});
  h.poll();
  EXPECT_TRUE(c->closed());
  EXPECT_EQ(reason, "send queue overflow");
}

// Sockets that overflow in the middle of one broadcast are closed after it, not
// inside it: the broadcast walks the room's sockets, which a close would change.
TEST_F(SessionTest, SlowClientsCutDuringOneBroadcastDoNotDisturbIt) {
  sio::ServerOptions options;
  options.maxSendQueue = 64 * 1024;
  // Before the harness: its teardown disconnects the healthy socket, whose handler
  // still records the reason.
  std::vector<std::string> reasons;
  std::vector<sio::SocketPtr> sockets;
  SessionHarness h(options);
  h.io().onConnection([&](const sio::SocketPtr& s) {
    sockets.push_back(s);
    s->onDisconnect([&](sio::Socket&, std::string_view why) { reasons.emplace_back(why); });
  });
  std::vector<std::shared_ptr<net::MemoryConnection>> slow;
  for (int i = 0; i < 20; ++i) slow.push_back(connectWs(h));
  auto healthy = connectWs(h);
  ASSERT_EQ(sockets.size(), 21u);
  for (int i = 0; i < 20; ++i) sockets[i]->join("slow");
  healthy->takeOutput();
  // One broadcast bigger than every slow socket's queue: each overflows inside it.
  std::string big(80 * 1024, 'x');
  h.io().to("slow").emit("big", {big});
  h.io().emit("after", {1});
  h.poll();
  for (auto& c : slow) EXPECT_TRUE(c->closed());
  EXPECT_EQ(reasons, std::vector<std::string>(20, "send queue overflow"));
  EXPECT_FALSE(healthy->closed());
  sockets.clear();
  EXPECT_NE(healthy->takeOutput().find(R"(42["after",1])"), std::string::npos);
}

TEST_F(SessionTest, ConnectTimeoutClosesSilentClients) {
  sio::ServerOptions options;
  options.connectTimeout = 30;
  SessionHarness h(options);
  auto c = h.connect();
  c->receive(SessionHarness::upgradeRequest());
  h.poll();
  h.advance(29);
  EXPECT_FALSE(c->closed());
  h.advance(1);
  EXPECT_TRUE(c->closed());
}

TEST_F(SessionTest, PingTimeoutEndsTheSession) {
  sio::ServerOptions options;
  options.pingInterval = 20;
  options.pingTimeout = 20;
  SessionHarness h(options);
  std::string reason;
  h.io().onConnection([&](const sio::SocketPtr& s) {
    s->onDisconnect([&](sio::Socket&, std::string_view why) { reason = why; });
  });
  auto c = connectWs(h);
  c->takeOutput();
  h.advance(20);  // the ping
  auto frames = parse("HTTP/1.1 101\r\n\r\n" + c->takeOutput());
  ASSERT_EQ(frames.messages.size(), 1u);
  EXPECT_EQ(frames.messages[0], "2");
  h.advance(19);
  EXPECT_EQ(reason, "");
  h.advance(1);  // pingTimeout after the ping, without a pong
  EXPECT_EQ(reason, "ping timeout");
}

TEST_F(SessionTest, PongKeepsTheSessionAlive) {
  sio::ServerOptions options;
  options.pingInterval = 20;
  options.pingTimeout = 30;
  SessionHarness h(options);
  auto c = connectWs(h);
  c->takeOutput();
  int pings = 0;
  for (int i = 0; i < 20; ++i) {  // 200 ms in steps of 10
    h.advance(10);
    auto frames = parse("HTTP/1.1 101\r\n\r\n" + c->takeOutput());
    for (auto& m : frames.messages) {
      if (m == "2") {
        ++pings;
        c->receive(SessionHarness::textFrame("3"));
        h.poll();  // answered at once: the next ping is pingInterval later
      }
    }
  }
  EXPECT_EQ(pings, 10);  // at 20, 40, ..., 200 ms
  EXPECT_FALSE(c->closed());
}

TEST_F(SessionTest, HeldSocketGetsReplayThenOnlyNewerBroadcastsInOrder) {
  SessionHarness h;
  sio::SocketPtr socket;
  h.io().onConnection([&](const sio::SocketPtr& s) {
    socket = s;
    s->join("feed");
    s->hold();
  });
  auto c = connectWs(h);
  c->takeOutput();
  for (uint64_t seq = 1; seq <= 5; ++seq) {
    h.io().to("feed").emitRaw("[\"change\"," + std::to_string(seq) + "]", seq);
  }
  h.poll();
  // While held, direct emits (the replay) still go out; broadcasts wait.
  socket->emitRaw(R"(["change",2])");
  socket->emitRaw(R"(["change",3])");
  h.poll();
  socket->release(3);
  h.io().to("feed").emitRaw(R"(["change",6])", 6);
  h.poll();
  auto frames = parse("HTTP/1.1 101\r\n\r\n" + c->takeOutput());
  std::vector<std::string> expected = {R"(42["change",2])", R"(42["change",3])",
                                       R"(42["change",4])", R"(42["change",5])",
                                       R"(42["change",6])"};
  EXPECT_EQ(frames.messages, expected);
}

TEST_F(SessionTest, HeldSocketOverItsLimitIsDisconnected) {
  SessionHarness h;
  sio::SocketPtr socket;
  h.io().onConnection([&](const sio::SocketPtr& s) {
    socket = s;
    s->hold();
  });
  auto c = connectWs(h);
  for (size_t i = 0; i <= sio::Socket::kMaxHeldBroadcasts; ++i) h.io().emit("tick", {i});
  h.poll();
  EXPECT_FALSE(socket->connected());
}

TEST_F(SessionTest, IdleHttpConnectionsAreClosedButPendingPollsAreNot) {
  SessionHarness h;
  // The server's idle timer, shortened: closes connections with no request in progress.
  auto idle = http::HttpConnectionHandler::makeIdleTimer(h.loop(), 30);
  auto silent = h.connect(idle);
  auto partial = h.connect(idle);
  partial->receive("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHo");  // never finished
  auto polling = h.connect(idle);
  polling->receive("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n");
  h.poll();
  std::string open = polling->takeOutput();
  size_t body = open.find("\r\n\r\n") + 4;
  auto sid = boost::json::parse(open.substr(body + 1)).as_object()["sid"].as_string();
  polling->receive("GET /socket.io/?EIO=4&transport=polling&sid=" + std::string(sid) +
                   " HTTP/1.1\r\nHost: x\r\n\r\n");  // a long poll: waits for data
  h.poll();
  h.advance(29);
  EXPECT_FALSE(silent->closed());
  EXPECT_FALSE(partial->closed());
  h.advance(1);
  EXPECT_TRUE(silent->closed());
  EXPECT_TRUE(partial->closed());
  EXPECT_FALSE(polling->closed());
}

}  // namespace
}  // namespace brigade
