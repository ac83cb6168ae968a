#include "protocol/socketio/client.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>

#include "core/assert.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "protocol/socketio/namespace.hpp"
#include "protocol/socketio/server.hpp"
#include "protocol/socketio/socket.hpp"

namespace brigade::sio {

namespace json = boost::json;
using detail::kEngine;

Client::Client(Server& server, eio::SessionPtr session, net::FifoTimer& connectTimer)
    : server_(server), session_(std::move(session)), connectTimer_(connectTimer) {
  hook_.client = this;
  connectTimer_.arm(hook_);
}

void Client::connectTimedOut(net::FifoHook& hook) {
  Client* client = static_cast<Hook&>(hook).client;
  if (!client->anyConnected()) client->close();
}

void Client::sendText(std::string_view text) {
  session_->sendMessage(text);
}

void Client::sendFrames(const Frames& frames) {
  for (const auto& frame : frames) session_->send(frame);
}

void Client::close(DisconnectReason why) {
  session_->close(why);
}

void Client::onMessage(std::string&& data, bool binary) {
  BRIGADE_ASSERT_IN_LOOP(loop());
  auto step = binary ? decoder_.feedBinary(std::move(data)) : decoder_.feedText(data);
  if (step.status == Decoder::Status::kError) {
    spdlog::debug("socket.io: closing client on bad packet: {}", step.error.message);
    session_->close(DisconnectReason::kParseError);
    return;
  }
  if (step.status == Decoder::Status::kNeedMore) return;
  onPacket(decoder_.take());
}

void Client::onClose(DisconnectReason why) {
  BRIGADE_ASSERT_IN_LOOP(loop());
  closed_ = true;
  connectTimer_.cancel(hook_);
  auto sockets = std::move(sockets_);
  for (auto& [nsp, socket] : sockets) socket->closed(kEngine, why);
}

void Client::removeSocket(Socket& socket) {
  auto it = std::find_if(sockets_.begin(), sockets_.end(),
                         [&](const auto& entry) { return entry.second.get() == &socket; });
  if (it != sockets_.end()) sockets_.erase(it);
}

bool Client::anyConnected() const {
  return std::any_of(sockets_.begin(), sockets_.end(),
                     [](const auto& entry) { return entry.second->connected(); });
}

SocketPtr Client::find(const std::string& nsp) {
  for (auto& [name, socket] : sockets_) {
    if (name == nsp) return socket;
  }
  return nullptr;
}

void Client::onPacket(Packet&& packet) {
  switch (packet.type) {
    case PacketType::kConnect:
      connect(packet);
      return;
    case PacketType::kDisconnect:
      if (auto socket = find(packet.nsp)) {
        socket->closed(kEngine, DisconnectReason::kClientNamespaceDisconnect);
      }
      return;
    case PacketType::kEvent:
    case PacketType::kBinaryEvent: {
      auto socket = find(packet.nsp);
      if (!socket || !socket->connected()) return;  // not (yet) in that namespace
      auto& args = packet.data.as_array();
      std::string name =
          args[0].is_string() ? std::string(args[0].as_string()) : json::serialize(args[0]);
      args.erase(args.begin());
      socket->onEvent(kEngine, std::move(name), std::move(args), std::move(packet.attachments),
                      packet.id);
      return;
    }
    case PacketType::kAck:
    case PacketType::kBinaryAck: {
      auto socket = find(packet.nsp);
      if (socket && socket->connected()) {
        socket->onAck(kEngine, *packet.id, std::move(packet.data.as_array()),
                      std::move(packet.attachments));
      }
      return;
    }
    case PacketType::kConnectError:
      session_->close(DisconnectReason::kParseError);  // only servers send these
      return;
  }
}

void Client::connect(Packet& packet) {
  Namespace* nsp = server_.find(kEngine, packet.nsp);
  if (!nsp) {
    json::value data = json::object{{"message", "Invalid namespace"}};
    sendText(encodePacket(PacketType::kConnectError, packet.nsp, std::nullopt, &data));
    return;
  }
  if (find(packet.nsp)) return;  // already connected (or connecting) to it
  Handshake handshake;
  // Aliases the session: the socket's handshake stays valid as long as the socket.
  handshake.transport = std::shared_ptr<const eio::Handshake>(session_, &session_->handshake());
  if (packet.data.is_object()) {
    auto& auth = packet.data.as_object();
    if (auto pid = auth.if_contains("pid"); pid && pid->is_string()) {
      handshake.pid = std::string(pid->as_string());
    }
    if (auto offset = auth.if_contains("offset"); offset && offset->is_string()) {
      handshake.offset = std::string(offset->as_string());
    }
    handshake.auth = std::move(packet.data);
  } else {
    handshake.auth = json::object();
  }
  auto socket = std::make_shared<Socket>(kEngine, *nsp, shared_from_this(), loop(), randomId(11),
                                         std::move(handshake));
  sockets_.emplace_back(packet.nsp, socket);
  nsp->runMiddlewares(kEngine, socket, 0);
}

// ------------------------------------------------------------------ EngineBridge

EngineBridge::EngineBridge(Server& server, net::LoopGroup& loops, int64_t connectTimeoutMs)
    : server_(server) {
  for (unsigned i = 0; i < loops.size(); ++i) {
    connectTimers_.push_back(
        std::make_unique<net::FifoTimer>(loops.at(i), connectTimeoutMs, &Client::connectTimedOut));
  }
}

EngineBridge::~EngineBridge() = default;

void EngineBridge::onOpen(const eio::SessionPtr& session) {
  session->attachment =
      std::make_shared<Client>(server_, session, *connectTimers_[session->loop().index()]);
}

void EngineBridge::onMessage(const eio::SessionPtr& session, std::string&& data, bool binary) {
  if (auto client = std::static_pointer_cast<Client>(session->attachment)) {
    client->onMessage(std::move(data), binary);
  }
}

void EngineBridge::onClose(const eio::SessionPtr& session, DisconnectReason why) {
  if (auto client = std::static_pointer_cast<Client>(session->attachment)) client->onClose(why);
}

}  // namespace brigade::sio
