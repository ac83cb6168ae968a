#pragma once

// What every part of the Socket.IO engine names: payload types, the sockets'
// handle, the disconnect reasons, and the key of the engine's internal calls.

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "protocol/engineio/disconnect_reason.hpp"

namespace brigade::sio {

using Json = boost::json::value;
using Args = boost::json::array;
using Attachments = std::vector<std::string>;

// One enum for the session's and the socket's reasons; handlers get its string.
using DisconnectReason = eio::DisconnectReason;
using eio::toString;

class Socket;
class Namespace;
class Server;
class Client;
class BroadcastOperator;
using SocketPtr = std::shared_ptr<Socket>;

namespace detail {

// The engine's parts (client, namespace, socket, broadcast, server) call each
// other through methods that take this key: a narrow internal interface instead
// of friends, which applications have no reason to call (and would have to spell
// detail:: to).
struct EngineAccess {
  explicit EngineAccess() = default;
};
inline constexpr EngineAccess kEngine{};

// A connected socket's place in its namespace's shard (see namespace.cpp).
struct ShardSlot {
  uint64_t mark = 0;  // broadcast dedupe stamp
  size_t index = 0;   // position in the shard's socket list
};

}  // namespace detail

}  // namespace brigade::sio
