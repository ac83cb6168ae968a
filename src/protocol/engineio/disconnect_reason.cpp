#include "protocol/engineio/disconnect_reason.hpp"

namespace brigade::eio {

// The only place the strings are spelt (engine.io's lib/socket.ts and socket.io's
// lib/socket.ts name them).
std::string_view toString(DisconnectReason reason) {
  switch (reason) {
    case DisconnectReason::kTransportClose:
      return "transport close";
    case DisconnectReason::kTransportError:
      return "transport error";
    case DisconnectReason::kPingTimeout:
      return "ping timeout";
    case DisconnectReason::kParseError:
      return "parse error";
    case DisconnectReason::kForcedClose:
      return "forced close";
    case DisconnectReason::kServerShutdown:
      return "forced server close";
    case DisconnectReason::kSendQueueOverflow:
      return "send queue overflow";
    case DisconnectReason::kServerNamespaceDisconnect:
      return "server namespace disconnect";
    case DisconnectReason::kClientNamespaceDisconnect:
      return "client namespace disconnect";
    case DisconnectReason::kServerShuttingDown:
      return "server shutting down";
  }
  return "unknown";
}

}  // namespace brigade::eio
