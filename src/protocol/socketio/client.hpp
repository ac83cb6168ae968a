#pragma once

// Engine-internal: the Socket.IO side of one Engine.IO session. It decodes packets
// and routes them to the sockets of the namespaces the client joined.
//
// Ownership: the session owns its client (eio::Session::attachment) until it
// finishes; the client owns its sockets until they leave (Client::onClose ends every
// one of them first). Sockets keep only a weak_ptr to their client, and the client
// a plain pointer while they are connected. Everything here runs on the session's loop.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/fifo_timer.hpp"
#include "protocol/engineio/server.hpp"
#include "protocol/socketio/broadcast.hpp"
#include "protocol/socketio/packet.hpp"
#include "protocol/socketio/types.hpp"

namespace brigade::sio {

class Client : public std::enable_shared_from_this<Client> {
 public:
  struct Hook : net::FifoHook {
    Client* client = nullptr;
  };

  // `connectTimer` (the loop's): closes the client if it joins no namespace in time.
  Client(Server& server, eio::SessionPtr session, net::FifoTimer& connectTimer);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  net::Loop& loop() const { return session_->loop(); }
  bool closed() const { return closed_; }
  bool writable() const { return session_->writable(); }
  const eio::SessionPtr& session() const { return session_; }

  void sendText(std::string_view text);
  void sendFrames(const Frames& frames);
  void close(DisconnectReason why = DisconnectReason::kForcedClose);

  // From the session.
  void onMessage(std::string&& data, bool binary);
  void onClose(DisconnectReason why);

  // From its sockets and namespaces.
  void socketConnected() { connectTimer_.cancel(hook_); }
  void removeSocket(Socket& socket);

  // The connect timer's expiry: closes a client that joined no namespace.
  static void connectTimedOut(net::FifoHook& hook);

 private:
  SocketPtr find(const std::string& nsp);
  void onPacket(Packet&& packet);
  void connect(Packet& packet);
  bool anyConnected() const;

  Server& server_;
  eio::SessionPtr session_;
  net::FifoTimer& connectTimer_;
  Hook hook_;
  Decoder decoder_;
  std::vector<std::pair<std::string, SocketPtr>> sockets_;
  bool closed_ = false;
};

// The seam: Engine.IO sessions in, Socket.IO clients out (one per server).
class EngineBridge final : public eio::EngineHandler {
 public:
  EngineBridge(Server& server, net::LoopGroup& loops, int64_t connectTimeoutMs);
  ~EngineBridge() override;

  void onOpen(const eio::SessionPtr& session) override;
  void onMessage(const eio::SessionPtr& session, std::string&& data, bool binary) override;
  void onClose(const eio::SessionPtr& session, DisconnectReason why) override;

 private:
  Server& server_;
  std::vector<std::unique_ptr<net::FifoTimer>> connectTimers_;  // one per loop, by index
};

}  // namespace brigade::sio
