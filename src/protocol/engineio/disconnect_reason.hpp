#pragma once

#include <cstdint>
#include <string_view>

namespace brigade::eio {

// Why a session, or a Socket.IO socket on it, ended: one enum for both layers,
// like socketioxide's DisconnectReason. Applications see toString()'s strings,
// the reasons Node's engine.io and socket.io give, so code ported from Node
// compares the same values.
enum class DisconnectReason : uint8_t {
  // The session (Engine.IO): every socket of the client ends with it.
  kTransportClose,     // the client closed the connection, or sent CLOSE
  kTransportError,     // a transport broke the protocol (e.g. two concurrent polls)
  kPingTimeout,        // no pong in time
  kParseError,         // an undecodable packet or payload
  kForcedClose,        // the server closed the session
  kServerShutdown,     // the engine closed every session
  kSendQueueOverflow,  // a client that does not read (send queue over its limit)
  // One socket (Socket.IO): it leaves its namespace, the session goes on.
  kServerNamespaceDisconnect,  // Socket::disconnect()
  kClientNamespaceDisconnect,  // the client sent DISCONNECT
  kServerShuttingDown,         // sio::Server::close()
};

// Node's string for a reason ("transport close", "server namespace disconnect", ...).
std::string_view toString(DisconnectReason reason);

}  // namespace brigade::eio
