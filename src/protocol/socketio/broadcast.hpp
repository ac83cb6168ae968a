#pragma once

// Broadcasts: targets (rooms, exceptions) chosen on any thread, the event encoded
// and framed once, then one task per loop that walks that loop's shard.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/engineio/packet.hpp"
#include "protocol/socketio/types.hpp"

namespace brigade::sio {

// An event's frames (the packet, then its binary attachments), shared by every receiver.
using Frames = std::vector<eio::OutPacketPtr>;
using FramesPtr = std::shared_ptr<const Frames>;

// Rooms to reach (none: the whole namespace) and rooms whose sockets are skipped.
struct Targets {
  std::vector<std::string> rooms;
  std::vector<std::string> except;
};

// Targets of a broadcast: rooms to reach (none: the whole namespace) and rooms to
// skip. Each socket is reached once, however many of the rooms it is in. Usable
// from any thread; holds a pointer to its namespace, which lives as long as the server.
class BroadcastOperator {
 public:
  BroadcastOperator(Namespace& nsp) : nsp_(&nsp) {}  // NOLINT
  BroadcastOperator to(std::string room) const;
  BroadcastOperator in(std::string room) const { return to(std::move(room)); }
  BroadcastOperator except(std::string room) const;
  // Encodes once; every receiving socket shares the same frames.
  void emit(std::string_view event, Args args = {}, Attachments attachments = {}) const;
  // Sends an already serialised JSON array (name first) as the event payload.
  // `tag` (e.g. a change-stream seq) lets a held socket drop what it already has.
  void emitRaw(std::string_view jsonArray, uint64_t tag = 0) const;
  void disconnectSockets(bool close = false) const;
  // Runs fn for each selected socket, on the socket's own loop (from any thread).
  void forEachSocket(std::function<void(Socket&)> fn) const;

 private:
  void deliver(FramesPtr frames, uint64_t tag) const;

  Namespace* nsp_;
  Targets targets_;
};

// The frames of one message: the packet's text, then each attachment as binary.
FramesPtr encodeFrames(const std::string& text, const Attachments& attachments);
// ["event", ...args], the payload of an EVENT packet.
Json eventPayload(std::string_view event, Args&& args);

}  // namespace brigade::sio
