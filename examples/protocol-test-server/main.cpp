// The reference server of the Engine.IO v4 and Socket.IO v5 protocol test suites
// (socketio/socket.io, docs/engine.io-protocol and docs/socket.io-protocol):
//   /engine.io/  an Engine.IO echo endpoint,
//   /socket.io/  namespaces "/" and "/custom",
// both with 300 ms pings, a 200 ms ping timeout, maxPayload 1e6, CORS for any origin.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

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
  void onClose(const eio::SessionPtr&, std::string_view) override {}
};

volatile std::sig_atomic_t stopRequested = 0;

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  uint16_t port = 3000;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--port" || arg == "-p") && i + 1 < argc) {
      port = static_cast<uint16_t>(std::atoi(argv[++i]));
    } else if (arg == "--host" && i + 1 < argc) {
      host = argv[++i];
    } else if (arg == "--help") {
      std::cout << "protocol-test-server [--host 127.0.0.1] [--port 3000]\n";
      return 0;
    }
  }
  if (const char* level = std::getenv("BRIGADE_LOG")) brigade::log::setLevel(level);

  sio::ServerOptions options;
  options.pingInterval = 300;
  options.pingTimeout = 200;
  options.maxPayload = 1000000;
  options.connectTimeout = 1000;
  options.cors.origins = {"*"};
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

  eio::EngineOptions engineOptions;
  engineOptions.path = "/engine.io/";
  engineOptions.pingInterval = 300;
  engineOptions.pingTimeout = 200;
  engineOptions.maxPayload = 1000000;
  engineOptions.cors.origins = {"*"};
  Echo echo;
  eio::EngineServer engine(io.loops(), engineOptions, echo);
  engine.mount(io.router());

  std::signal(SIGINT, [](int) { stopRequested = 1; });
  std::signal(SIGTERM, [](int) { stopRequested = 1; });
  io.listen(host, port);
  std::cout << "{\"listening\":\"" << host << ":" << io.port() << "\"}" << std::endl;
  while (!stopRequested) pause();
  io.close();
  engine.closeAll();
  return 0;
}
