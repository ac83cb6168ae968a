// Drives a whole server session from bytes: HTTP requests (polling), or a
// WebSocket upgrade followed by client frames carrying Engine.IO and Socket.IO
// packets, against the in-memory engine with the protocol-test handlers.
#include <cstddef>
#include <cstdint>
#include <string>

#include "support/session_harness.hpp"

namespace {

using brigade::testing::SessionHarness;
namespace sio = brigade::sio;

SessionHarness& harness() {
  static SessionHarness* h = [] {
    sio::ServerOptions options;
    options.connectTimeout = 60000;
    auto* created = new SessionHarness(options);
    created->io().onConnection([](const sio::SocketPtr& socket) {
      socket->emit("auth", sio::Args{socket->handshake().auth});
      socket->on("message", [](sio::Event& e) {
        e.socket.emit("message-back", std::move(e.args), std::move(e.attachments));
      });
      socket->on("message-with-ack", [](sio::Event& e) {
        if (e.ack) e.ack(std::move(e.args), std::move(e.attachments));
      });
      socket->on("join", [](sio::Event& e) {
        if (!e.args.empty() && e.args[0].is_string())
          e.socket.join(std::string(e.args[0].as_string()));
        e.socket.to("r").emit("joined");
      });
    });
    created->io().of("/custom");
    return created;
  }();
  return *h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto& h = harness();
  auto connection = h.connect();
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0:  // raw HTTP: handshakes, polls, posts, malformed requests
      connection->receive(input);
      break;
    case 1: {  // WebSocket session, messages separated by '\n', '\x01' prefix = binary
      connection->receive(SessionHarness::upgradeRequest());
      size_t start = 0;
      while (start <= input.size()) {
        size_t end = input.find('\n', start);
        if (end == std::string_view::npos) end = input.size();
        std::string_view message = input.substr(start, end - start);
        if (!message.empty() && message[0] == '\x01') {
          connection->receive(SessionHarness::binaryFrame(message.substr(1)));
        } else {
          connection->receive(SessionHarness::textFrame(message));
        }
        h.poll();
        start = end + 1;
      }
      break;
    }
    default:  // WebSocket session, raw frame bytes
      connection->receive(SessionHarness::upgradeRequest());
      connection->receive(input);
      break;
  }
  h.poll();
  connection->peerClose();
  h.io().engine().closeAll();
  h.poll();
  return 0;
}
