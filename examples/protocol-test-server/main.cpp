// The reference server of the Engine.IO v4 and Socket.IO v5 protocol test suites
// (socketio/socket.io, docs/engine.io-protocol and docs/socket.io-protocol):
//   /engine.io/  an Engine.IO echo endpoint,
//   /socket.io/  namespaces "/" and "/custom",
// both with 300 ms pings, a 200 ms ping timeout, maxPayload 1e6, CORS for any origin.
//
// Brigade's own end-to-end tests (tests/e2e) use two more namespaces, which the
// reference suites never touch: /test (rooms, broadcasts, server acks, server-side
// disconnect, binary from the server) and /private (middleware refusal).
#include <boost/json.hpp>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "core/log.hpp"
#include "protocol/engineio/server.hpp"
#include "protocol/socketio/server.hpp"

namespace {

namespace sio = brigade::sio;
namespace eio = brigade::eio;

// Engine.IO test suite: every message is sent back as it came.
class Echo final : public eio::EngineHandler {
 public:
  void onOpen(const eio::SessionPtr&) override {}
  void onMessage(const eio::SessionPtr& session, std::string&& data, bool binary) override {
    session->send(eio::makeMessage(data, binary));
  }
  void onClose(const eio::SessionPtr&, eio::DisconnectReason) override {}
};

volatile std::sig_atomic_t stopRequested = 0;

namespace json = boost::json;

// A string or an array of strings, as sent by the tests for rooms.
std::vector<std::string> stringList(const json::value* value) {
  std::vector<std::string> out;
  if (!value) return out;
  if (value->is_string()) out.emplace_back(value->as_string());
  if (value->is_array()) {
    for (const auto& item : value->as_array()) {
      if (item.is_string()) out.emplace_back(item.as_string());
    }
  }
  return out;
}

const json::object* firstObject(const sio::Event& event) {
  return !event.args.empty() && event.args[0].is_object() ? &event.args[0].as_object() : nullptr;
}

sio::Args one(json::value value) {
  sio::Args args;
  args.push_back(std::move(value));
  return args;
}

json::array roomsOf(const sio::Socket& socket) {
  json::array rooms{socket.id()};  // the implicit room of its own id first, as Node lists it
  for (const auto& room : socket.rooms()) rooms.emplace_back(room);
  return rooms;
}

// /test: what tests/e2e needs beyond the reference suites.
//   message / message-with-ack      as on "/"
//   join, leave (room or [rooms])   ack: the socket's rooms
//   broadcast-to {rooms, except, event, payload}  (binary attachments pass through); ack: true
//   server-ack {event, timeout, payload}  the server emits with an ack and a timeout,
//                                         then acks {error: null|"timeout"|..., args}
//   server-binary                    emits "binary" with two attachments made by the server
//   disconnect-me {close}            the server disconnects the socket (close: the connection)
//   count                            ack: sockets connected to /test
// Sockets in the room "observers" get "left" {id, reason} when any /test socket leaves.
void installTestNamespaces(sio::Server& io) {
  sio::Namespace& test = io.of("/test");
  test.onConnection([&test](const sio::SocketPtr& socket) {
    socket->on("message", [](sio::Event& event) {
      event.socket.emit("message-back", std::move(event.args), std::move(event.attachments));
    });
    socket->on("message-with-ack", [](sio::Event& event) {
      if (event.ack) event.ack(std::move(event.args), std::move(event.attachments));
    });
    socket->on("join", [](sio::Event& event) {
      for (const auto& room : stringList(event.args.empty() ? nullptr : &event.args[0])) {
        event.socket.join(room);
      }
      if (event.ack) event.ack(one(roomsOf(event.socket)));
    });
    socket->on("leave", [](sio::Event& event) {
      for (const auto& room : stringList(event.args.empty() ? nullptr : &event.args[0])) {
        event.socket.leave(room);
      }
      if (event.ack) event.ack(one(roomsOf(event.socket)));
    });
    socket->on("broadcast-to", [&test](sio::Event& event) {
      const json::object* spec = firstObject(event);
      if (!spec) return;
      sio::BroadcastOperator target(test);
      for (const auto& room : stringList(spec->if_contains("rooms"))) target = target.to(room);
      for (const auto& room : stringList(spec->if_contains("except"))) target = target.except(room);
      std::string name = "broadcast";
      if (auto e = spec->if_contains("event"); e && e->is_string()) name = e->as_string();
      sio::Args args;
      if (auto payload = spec->if_contains("payload")) args.push_back(*payload);
      target.emit(name, std::move(args), std::move(event.attachments));
      if (event.ack) event.ack(sio::Args{true});
    });
    socket->on("server-ack", [](sio::Event& event) {
      const json::object* spec = firstObject(event);
      if (!spec) return;
      std::string name = "server-ack";
      if (auto e = spec->if_contains("event"); e && e->is_string()) name = e->as_string();
      int64_t timeout = 1000;
      if (auto t = spec->if_contains("timeout"); t && t->is_number()) {
        timeout = static_cast<int64_t>(t->to_number<double>());
      }
      sio::Args args;
      if (auto payload = spec->if_contains("payload")) args.push_back(*payload);
      sio::Ack reply = event.ack;
      event.socket.emitWithAck(name, std::move(args), timeout,
                               [reply](std::optional<brigade::Error> error, sio::Args got,
                                       sio::Attachments attachments) mutable {
                                 json::object result;
                                 result["error"] = nullptr;
                                 if (error) result["error"] = error->code;
                                 result["args"] = std::move(got);
                                 // Binary acks come back as they came: same placeholders.
                                 if (reply) reply(one(std::move(result)), std::move(attachments));
                               });
    });
    socket->on("server-binary", [](sio::Event& event) {
      std::string all(256, '\0');
      for (int i = 0; i < 256; ++i) all[i] = static_cast<char>(i);
      sio::Args args;
      args.push_back(json::object{{"_placeholder", true}, {"num", 0}});
      args.push_back(json::value("text"));
      args.push_back(json::object{{"nested", json::object{{"_placeholder", true}, {"num", 1}}}});
      event.socket.emit("binary", std::move(args),
                        sio::Attachments{all, std::string("\x01\x02\x03")});
    });
    socket->on("disconnect-me", [](sio::Event& event) {
      const json::object* spec = firstObject(event);
      bool close = false;
      if (spec) {
        if (auto c = spec->if_contains("close"); c && c->is_bool()) close = c->as_bool();
      }
      event.socket.disconnect(close);
    });
    socket->on("count", [&test](sio::Event& event) {
      if (event.ack) event.ack(one(static_cast<uint64_t>(test.socketCount())));
    });
    socket->onDisconnect([&test](sio::Socket& gone, std::string_view why) {
      test.to("observers").emit("left", one(json::object{{"id", gone.id()}, {"reason", why}}));
    });
  });

  // /private: middleware that refuses a CONNECT without auth.token == "secret".
  sio::Namespace& locked = io.of("/private");
  locked.use([](sio::Socket& socket, sio::Next next) {
    const auto& auth = socket.handshake().auth;
    const json::value* token = auth.is_object() ? auth.as_object().if_contains("token") : nullptr;
    if (token && token->is_string() && token->as_string() == "secret") {
      next(std::nullopt);
      return;
    }
    next(sio::ConnectError{
        "unauthorized", json::object{{"code", 401}, {"hint", "auth.token is missing or wrong"}}});
  });
  locked.onConnection([](const sio::SocketPtr& socket) {
    socket->emit("welcome", one(json::value(socket->id())));
  });
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  uint16_t port = 3000;
  // The reference suites need 300/200 ms; tests with a thousand clients in one
  // process on a busy machine (tests/e2e) ask for longer heartbeats.
  int64_t pingInterval = 300;
  int64_t pingTimeout = 200;
  size_t maxSendQueue = brigade::net::kDefaultMaxQueued;
  std::string tlsCert;  // with tlsKey: HTTPS and WSS (the e2e client suite over TLS)
  std::string tlsKey;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--port" || arg == "-p") && i + 1 < argc) {
      port = static_cast<uint16_t>(std::atoi(argv[++i]));
    } else if (arg == "--host" && i + 1 < argc) {
      host = argv[++i];
    } else if (arg == "--ping-interval" && i + 1 < argc) {
      pingInterval = std::atoll(argv[++i]);
    } else if (arg == "--ping-timeout" && i + 1 < argc) {
      pingTimeout = std::atoll(argv[++i]);
    } else if (arg == "--max-send-queue" && i + 1 < argc) {
      maxSendQueue = static_cast<size_t>(std::atoll(argv[++i]));
    } else if (arg == "--tls-cert" && i + 1 < argc) {
      tlsCert = argv[++i];
    } else if (arg == "--tls-key" && i + 1 < argc) {
      tlsKey = argv[++i];
    } else if (arg == "--help") {
      std::cout << "protocol-test-server [--host 127.0.0.1] [--port 3000] "
                   "[--ping-interval 300] [--ping-timeout 200] [--max-send-queue BYTES] "
                   "[--tls-cert PEM --tls-key PEM]\n";
      return 0;
    }
  }
  if (const char* level = std::getenv("BRIGADE_LOG")) brigade::log::setLevel(level);

  sio::ServerOptions options;
  options.pingInterval = pingInterval;
  options.pingTimeout = pingTimeout;
  options.maxPayload = 1000000;
  options.maxSendQueue = maxSendQueue;
  // The test suites open up to a thousand clients from 127.0.0.1.
  options.limits.maxPerAddress = 0;
  options.limits.maxPendingPerAddress = 0;
  options.maxUnconnectedPerAddress = 0;
  options.connectTimeout = 1000;
  options.cors.origins = {"*"};
  if (!tlsCert.empty()) {
    auto tls = brigade::net::TlsContext::load(tlsCert, tlsKey);
    if (!tls) {
      std::cerr << "protocol-test-server: " << tls.error().message << "\n";
      return 2;
    }
    options.tls = *tls;
  }
  sio::Server io(options);

  auto greet = [](const sio::SocketPtr& socket) {
    socket->emit("auth", sio::Args{socket->handshake().auth});
  };
  io.onConnection([greet](const sio::SocketPtr& socket) {
    greet(socket);
    socket->on("message", [](sio::Event& event) {
      event.socket.emit("message-back", std::move(event.args), std::move(event.attachments));
    });
    socket->on("message-with-ack", [](sio::Event& event) {
      if (event.ack) event.ack(std::move(event.args), std::move(event.attachments));
    });
  });
  io.of("/custom").onConnection(greet);
  installTestNamespaces(io);

  eio::EngineOptions engineOptions;
  engineOptions.path = "/engine.io/";
  engineOptions.pingInterval = pingInterval;
  engineOptions.pingTimeout = pingTimeout;
  engineOptions.maxPayload = 1000000;
  engineOptions.cors.origins = {"*"};
  engineOptions.maxUnconnectedPerAddress = 0;  // the suites open many from 127.0.0.1
  Echo echo;
  eio::EngineServer engine(io.loops(), engineOptions, echo);
  engine.mount(io.router());

  std::signal(SIGINT, [](int) { stopRequested = 1; });
  std::signal(SIGTERM, [](int) { stopRequested = 1; });
  io.listen(host, port);
  std::cout << "{\"listening\":\"" << host << ":" << io.port() << "\",\"scheme\":\""
            << (options.tls ? "https" : "http") << "\"}" << std::endl;
  while (!stopRequested) pause();
  io.close();
  engine.closeAll();
  return 0;
}
