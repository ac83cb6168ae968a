#include "protocol/socketio/socket.hpp"

#include <algorithm>

#include "core/assert.hpp"
#include "core/random.hpp"
#include "protocol/socketio/client.hpp"
#include "protocol/socketio/namespace.hpp"
#include "protocol/socketio/packet.hpp"
#include "protocol/socketio/server.hpp"

namespace brigade::sio {

namespace json = boost::json;
using detail::kEngine;

// ------------------------------------------------------------------ Ack

void Ack::operator()(Args args, Attachments attachments) {
  if (used_) return;
  used_ = true;
  if (auto socket = socket_.lock()) {
    socket->sendAck(kEngine, id_, std::move(args), std::move(attachments));
  }
}

// ------------------------------------------------------------------ Socket

Socket::Socket(detail::EngineAccess, Namespace& nsp, const std::shared_ptr<Client>& client,
               net::Loop& loop, std::string id, Handshake handshake)
    : nsp_(nsp),
      loop_(loop),
      client_(client),
      id_(std::move(id)),
      handshake_(std::move(handshake)) {
  if (nsp.server().options().connectionStateRecovery) pid_ = randomId(15);
}

Socket::~Socket() = default;

bool Socket::writable() const {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  return connected_ && attached_->writable();
}

void Socket::on(std::string event, EventHandler handler) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  for (auto& [name, existing] : handlers_) {
    if (name == event) {
      existing = std::move(handler);
      return;
    }
  }
  handlers_.emplace_back(std::move(event), std::move(handler));
}

void Socket::onAny(EventHandler handler) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  anyHandler_ = std::move(handler);
}

void Socket::onDisconnect(DisconnectHandler handler) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  disconnectHandlers_.push_back(std::move(handler));
}

void Socket::sendEncoded(const std::string& text, const Attachments& attachments) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  if (!connected_ || attached_->closed()) return;
  attached_->sendText(text);
  for (const auto& bytes : attachments) attached_->session()->send(eio::makeMessage(bytes, true));
}

void Socket::emit(std::string_view event, Args args, Attachments attachments) {
  json::value payload = eventPayload(event, std::move(args));
  auto type = attachments.empty() ? PacketType::kEvent : PacketType::kBinaryEvent;
  nsp_.noteEvent(kEngine, event, 1, false);
  sendEncoded(encodePacket(type, nsp_.name(), std::nullopt, &payload, attachments.size()),
              attachments);
}

void Socket::emitRaw(std::string_view jsonArray) {
  std::string text = encodePacket(PacketType::kEvent, nsp_.name(), std::nullopt, nullptr);
  text += jsonArray;
  nsp_.noteEvent(kEngine, rawEventName(jsonArray), 1, false);
  sendEncoded(text, {});
}

void Socket::deliverBroadcast(detail::EngineAccess, const FramesPtr& frames, uint64_t tag) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  if (!holding_) {
    attached_->sendFrames(*frames);
    return;
  }
  if (held_.size() >= kMaxHeldBroadcasts) {
    disconnect(true);  // cannot catch up: the client reconnects and replays again
    return;
  }
  held_.emplace_back(tag, frames);
}

void Socket::hold() {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  holding_ = true;
}

void Socket::release(uint64_t skipUpTo) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  holding_ = false;
  auto held = std::move(held_);
  if (!connected_) return;
  for (const auto& [tag, frames] : held) {
    if (tag == 0 || tag > skipUpTo) attached_->sendFrames(*frames);
  }
}

void Socket::emitWithAck(std::string_view event, Args args, int64_t timeoutMs, AckCallback callback,
                         Attachments attachments) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  if (!connected_) {
    callback(makeError("disconnected", "socket is not connected"), {}, {});
    return;
  }
  uint64_t id = nextAckId_++;
  PendingAck pending{std::move(callback), nullptr};
  if (timeoutMs > 0) {
    std::weak_ptr<Socket> weak = weak_from_this();
    pending.timer = loop_.runAfter(timeoutMs, [weak, id] {
      auto self = weak.lock();
      if (!self) return;
      auto it = std::find_if(self->pendingAcks_.begin(), self->pendingAcks_.end(),
                             [id](const auto& entry) { return entry.first == id; });
      if (it == self->pendingAcks_.end()) return;
      auto cb = std::move(it->second.callback);
      self->pendingAcks_.erase(it);
      cb(makeError("timeout", "operation has timed out"), {}, {});
    });
  }
  pendingAcks_.emplace_back(id, std::move(pending));
  json::value payload = eventPayload(event, std::move(args));
  auto type = attachments.empty() ? PacketType::kEvent : PacketType::kBinaryEvent;
  sendEncoded(encodePacket(type, nsp_.name(), id, &payload, attachments.size()), attachments);
}

void Socket::sendAck(detail::EngineAccess, uint64_t id, Args args, Attachments attachments) {
  json::value payload(std::move(args));
  auto type = attachments.empty() ? PacketType::kAck : PacketType::kBinaryAck;
  sendEncoded(encodePacket(type, nsp_.name(), id, &payload, attachments.size()), attachments);
}

void Socket::onEvent(detail::EngineAccess, std::string name, Args args, Attachments attachments,
                     std::optional<uint64_t> id) {
  Event event{*this, std::move(name), std::move(args), std::move(attachments),
              id ? Ack(weak_from_this(), *id) : Ack()};
  auto it = std::find_if(handlers_.begin(), handlers_.end(),
                         [&](const auto& entry) { return entry.first == event.name; });
  auto self = shared_from_this();  // a handler may disconnect this socket
  if (it != handlers_.end()) {
    auto handler = it->second;
    handler(event);
  } else if (anyHandler_) {
    auto handler = anyHandler_;
    handler(event);
  }
}

void Socket::onAck(detail::EngineAccess, uint64_t id, Args args, Attachments attachments) {
  auto it = std::find_if(pendingAcks_.begin(), pendingAcks_.end(),
                         [id](const auto& entry) { return entry.first == id; });
  if (it == pendingAcks_.end()) return;  // late (timed out) or unknown: ignored
  auto pending = std::move(it->second);
  pendingAcks_.erase(it);
  net::Loop::cancel(pending.timer);
  pending.callback(std::nullopt, std::move(args), std::move(attachments));
}

void Socket::join(const std::string& room) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  if (room == id_) return;  // always in it
  if (std::find(rooms_.begin(), rooms_.end(), room) != rooms_.end()) return;
  rooms_.push_back(room);
  if (connected_) nsp_.joined(kEngine, *this, room);
}

void Socket::leave(const std::string& room) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  auto it = std::find(rooms_.begin(), rooms_.end(), room);
  if (it == rooms_.end()) return;
  rooms_.erase(it);
  if (connected_) nsp_.left(kEngine, *this, room);
}

BroadcastOperator Socket::broadcast() {
  return BroadcastOperator(nsp_).except(id_);
}
BroadcastOperator Socket::to(std::string room) {
  return broadcast().to(std::move(room));
}

void Socket::disconnect(bool close) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  if (!connected_) return;
  attached_->sendText(encodePacket(PacketType::kDisconnect, nsp_.name(), std::nullopt, nullptr));
  if (close) {
    attached_->close();  // ends every socket of the client, this one included
    return;
  }
  closed(kEngine, DisconnectReason::kServerNamespaceDisconnect);
}

void Socket::post(std::function<void(Socket&)> fn) {
  std::weak_ptr<Socket> weak = weak_from_this();
  loop_.dispatch([weak, fn = std::move(fn)] {
    if (auto self = weak.lock(); self && self->connected_) fn(*self);
  });
}

void Socket::attach(detail::EngineAccess, Client& client) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  BRIGADE_ASSERT(&client.loop() == &loop_);
  attached_ = &client;
  connected_ = true;
}

void Socket::closed(detail::EngineAccess, DisconnectReason why) {
  BRIGADE_ASSERT_IN_LOOP(loop_);
  auto self = shared_from_this();
  bool wasConnected = connected_;
  if (wasConnected) {
    nsp_.remove(kEngine, *this);
    connected_ = false;
  }
  handlers_.clear();
  anyHandler_ = nullptr;
  auto pending = std::move(pendingAcks_);
  for (auto& [id, ack] : pending) {
    net::Loop::cancel(ack.timer);
    ack.callback(makeError("disconnected", "socket has been disconnected"), {}, {});
  }
  if (auto client = client_.lock()) client->removeSocket(*this);
  attached_ = nullptr;
  if (wasConnected) {
    auto handlers = std::move(disconnectHandlers_);
    for (auto& handler : handlers) handler(*this, toString(why));
  }
}

}  // namespace brigade::sio
