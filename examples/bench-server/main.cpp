// The engine under the bench contract (../shared/docs/BENCH-CONTRACT.md):
// `bench:broadcast` → `tick` to every socket of "/", `echo` → ack with the payload.
// The ordinary engine with two handlers; nothing special-cased for benchmarks.
// With --tls-cert/--tls-key it serves WSS instead (net/tls.hpp), for the TLS bench lines.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

#include "net/tls.hpp"
#include "protocol/socketio/server.hpp"

namespace {
volatile std::sig_atomic_t stopRequested = 0;
}

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:3000";
  unsigned threads = 0;
  std::string tlsCert;  // with tlsKey: WSS on the same port
  std::string tlsKey;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--listen" && i + 1 < argc) {
      listen = argv[++i];
    } else if (arg == "--threads" && i + 1 < argc) {
      threads = static_cast<unsigned>(std::atoi(argv[++i]));
    } else if (arg == "--tls-cert" && i + 1 < argc) {
      tlsCert = argv[++i];
    } else if (arg == "--tls-key" && i + 1 < argc) {
      tlsKey = argv[++i];
    } else {
      std::cerr << "usage: bench-server [--listen 127.0.0.1:PORT] [--threads N] "
                   "[--tls-cert PEM --tls-key PEM]\n";
      return 2;
    }
  }
  auto colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  auto port = static_cast<uint16_t>(std::atoi(listen.c_str() + colon + 1));

  brigade::sio::ServerOptions options;
  options.allowPolling = false;  // the contract is WebSocket only
  options.threads = threads;
  // Every benchmark client connects from 127.0.0.1: no per-address caps here.
  options.limits.maxPerAddress = 0;
  options.limits.maxPendingPerAddress = 0;
  options.maxUnconnectedPerAddress = 0;
  if (!tlsCert.empty() || !tlsKey.empty()) {
    auto tls = brigade::net::TlsContext::load(tlsCert, tlsKey);
    if (!tls) {
      std::cerr << "bench-server: " << tls.error().message << "\n";
      return 2;
    }
    options.tls = *tls;
  }
  brigade::sio::Server io(options);
  io.onConnection([&io](const brigade::sio::SocketPtr& socket) {
    socket->on("bench:broadcast",
               [&io](brigade::sio::Event& event) { io.emit("tick", std::move(event.args)); });
    socket->on("echo", [](brigade::sio::Event& event) {
      if (event.ack) event.ack(std::move(event.args));
    });
  });

  std::signal(SIGINT, [](int) { stopRequested = 1; });
  std::signal(SIGTERM, [](int) { stopRequested = 1; });
  std::signal(SIGPIPE, SIG_IGN);
  io.listen(host, port);
  std::cout << "PID=" << getpid() << "\n"
            << "{\"listening\":\"" << host << ":" << io.port()
            << "\",\"threads\":" << io.loops().size() << ",\"scheme\":\""
            << (options.tls ? "https" : "http") << "\"}" << std::endl;
  while (!stopRequested) pause();
  io.close();
  return 0;
}
