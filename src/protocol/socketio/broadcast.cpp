#include "protocol/socketio/broadcast.hpp"

#include "protocol/socketio/namespace.hpp"
#include "protocol/socketio/packet.hpp"
#include "protocol/socketio/shard.hpp"
#include "protocol/socketio/socket.hpp"

namespace brigade::sio {

namespace json = boost::json;
using detail::kEngine;

FramesPtr encodeFrames(const std::string& text, const Attachments& attachments) {
  auto frames = std::make_shared<Frames>();
  frames->reserve(1 + attachments.size());
  frames->push_back(eio::makeMessage(text));
  for (const auto& bytes : attachments) frames->push_back(eio::makeMessage(bytes, true));
  return frames;
}

Json eventPayload(std::string_view event, Args&& args) {
  json::array full;
  full.reserve(args.size() + 1);
  full.emplace_back(event);
  for (auto& arg : args) full.push_back(std::move(arg));
  return full;
}

BroadcastOperator BroadcastOperator::to(std::string room) const {
  BroadcastOperator next = *this;
  next.targets_.rooms.push_back(std::move(room));
  return next;
}

BroadcastOperator BroadcastOperator::except(std::string room) const {
  BroadcastOperator next = *this;
  next.targets_.except.push_back(std::move(room));
  return next;
}

void BroadcastOperator::emit(std::string_view event, Args args, Attachments attachments) const {
  json::value payload = eventPayload(event, std::move(args));
  auto type = attachments.empty() ? PacketType::kEvent : PacketType::kBinaryEvent;
  nsp_->noteEvent(kEngine, event, 0, true);
  deliver(encodeFrames(encodePacket(type, nsp_->name(), std::nullopt, &payload, attachments.size()),
                       attachments),
          0);
}

void BroadcastOperator::emitRaw(std::string_view jsonArray, uint64_t tag) const {
  std::string text = encodePacket(PacketType::kEvent, nsp_->name(), std::nullopt, nullptr);
  text += jsonArray;
  nsp_->noteEvent(kEngine, rawEventName(jsonArray), 0, true);
  deliver(encodeFrames(text, {}), tag);
}

// One task per loop, each walking its own shard: no lock, and the frames are shared.
void BroadcastOperator::deliver(FramesPtr frames, uint64_t tag) const {
  auto targets = std::make_shared<const Targets>(targets_);
  Namespace* nsp = nsp_;
  auto& loops = nsp->loops(kEngine);
  for (unsigned i = 0; i < loops.size(); ++i) {
    net::Loop& loop = loops.at(i);
    loop.dispatch([nsp, &loop, frames, targets, tag] {
      uint64_t reached = 0;
      nsp->shard(kEngine, loop).select(*targets, [&](Socket* socket) {
        socket->deliverBroadcast(kEngine, frames, tag);
        ++reached;
      });
      nsp->noteDelivered(kEngine, reached);
    });
  }
}

void BroadcastOperator::disconnectSockets(bool close) const {
  forEachSocket([close](Socket& socket) { socket.disconnect(close); });
}

void BroadcastOperator::forEachSocket(std::function<void(Socket&)> fn) const {
  auto targets = std::make_shared<const Targets>(targets_);
  auto shared = std::make_shared<const std::function<void(Socket&)>>(std::move(fn));
  Namespace* nsp = nsp_;
  auto& loops = nsp->loops(kEngine);
  for (unsigned i = 0; i < loops.size(); ++i) {
    net::Loop& loop = loops.at(i);
    loop.dispatch([nsp, &loop, targets, shared] {
      // Chosen first: fn may change the shard (leave rooms, disconnect).
      std::vector<SocketPtr> chosen;
      nsp->shard(kEngine, loop).select(*targets, [&](Socket* socket) {
        chosen.push_back(socket->shared_from_this());
      });
      for (auto& socket : chosen) {
        if (socket->connected()) (*shared)(*socket);
      }
    });
  }
}

}  // namespace brigade::sio
