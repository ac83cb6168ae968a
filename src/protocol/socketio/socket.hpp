#pragma once

// A socket: one client in one namespace. See docs/ARCHITECTURE.md, "Ownership and
// threads": a socket belongs to its client's event loop and its methods are called
// there (its handlers run there; other threads use post()). A SocketPtr may be kept
// anywhere and outlive the client: loop(), post(), handshake(), id() stay valid.

#include <any>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "net/loop.hpp"
#include "protocol/engineio/server.hpp"
#include "protocol/socketio/broadcast.hpp"
#include "protocol/socketio/types.hpp"

namespace brigade::sio {

struct Handshake {
  Json auth;           // the CONNECT payload (an object; empty when none was sent)
  std::string pid;     // connection state recovery: the client's previous private id
  std::string offset;  // ... and the offset of the last event it got
  // url, query, headers, address. Shared with the Engine.IO session (whose memory
  // it keeps, not its connection), so it stays valid as long as the socket.
  std::shared_ptr<const eio::Handshake> transport;

  std::string_view header(std::string_view lowerName) const {
    return transport ? transport->header(lowerName) : std::string_view{};
  }
  std::optional<std::string> query(std::string_view name) const {
    return transport ? transport->queryParam(name) : std::nullopt;
  }
};

// Answers an event the client sent with an acknowledgement. Callable once, on the
// socket's loop; empty (false) when the client asked for none.
class Ack {
 public:
  Ack() = default;
  Ack(std::weak_ptr<Socket> socket, uint64_t id) : socket_(std::move(socket)), id_(id) {}
  explicit operator bool() const { return !socket_.expired() && !used_; }
  void operator()(Args args, Attachments attachments = {});

 private:
  std::weak_ptr<Socket> socket_;
  uint64_t id_ = 0;
  bool used_ = false;
};

struct Event {
  Socket& socket;
  std::string name;
  Args args;  // without the name; binary attachments appear as placeholders
  Attachments attachments;
  Ack ack;
};

// A refusal from middleware, sent to the client as CONNECT_ERROR {message, data}.
struct ConnectError {
  std::string message;
  Json data;
};
// Middleware calls next() once, possibly later and from any thread. Until then the
// socket is the middleware's: it may read handshake() and set data / setPid() from
// that thread; next() hands the socket back to its loop.
using Next = std::function<void(std::optional<ConnectError>)>;
using Middleware = std::function<void(Socket&, Next)>;
using EventHandler = std::function<void(Event&)>;
using DisconnectHandler = std::function<void(Socket&, std::string_view reason)>;
using ConnectionHandler = std::function<void(const SocketPtr&)>;
// The client's acknowledgement of a server emit (its args and binary attachments),
// or an error ("timeout", "disconnected").
using AckCallback = std::function<void(std::optional<Error>, Args, Attachments)>;

class Socket : public std::enable_shared_from_this<Socket> {
 public:
  Socket(detail::EngineAccess, Namespace& nsp, const std::shared_ptr<Client>& client,
         net::Loop& loop, std::string id, Handshake handshake);
  ~Socket();

  // Fixed at creation: callable from any thread.
  const std::string& id() const { return id_; }
  Namespace& nsp() { return nsp_; }
  const Handshake& handshake() const { return handshake_; }
  net::Loop& loop() const { return loop_; }

  bool connected() const { return connected_; }
  // The private id sent in the CONNECT answer (recovery on): middleware may set
  // the client's previous one to tell it its state was recovered.
  const std::string& pid() const { return pid_; }
  void setPid(std::string pid) { pid_ = std::move(pid); }
  bool recovered() const { return !pid_.empty() && pid_ == handshake_.pid; }
  // False while the connection's send queue is over its high watermark.
  bool writable() const;

  void on(std::string event, EventHandler handler);
  // Events that have no handler of their own.
  void onAny(EventHandler handler);
  void onDisconnect(DisconnectHandler handler);

  void emit(std::string_view event, Args args = {}, Attachments attachments = {});
  void emitWithAck(std::string_view event, Args args, int64_t timeoutMs, AckCallback callback,
                   Attachments attachments = {});

  // Every socket is also, implicitly, in the room named after its id.
  void join(const std::string& room);
  void leave(const std::string& room);
  const std::vector<std::string>& rooms() const { return rooms_; }  // without the id room
  // Everyone in the namespace but this socket / in `room` but this socket.
  BroadcastOperator broadcast();
  BroadcastOperator to(std::string room);

  // Holding: broadcasts reaching this socket are kept instead of sent (at most
  // kMaxHeldBroadcasts; past that the socket is disconnected). release() sends the
  // kept ones whose tag is above `skipUpTo`, in order, and stops holding. Lets an
  // application replay history to a socket that is already in its rooms with no
  // gap and no duplicate.
  static constexpr size_t kMaxHeldBroadcasts = 10000;
  void hold();
  void release(uint64_t skipUpTo);
  bool holding() const { return holding_; }
  // Emits an already serialised JSON array (name first) to this socket only.
  void emitRaw(std::string_view jsonArray);

  // Leaves the namespace; with close, ends the whole connection.
  void disconnect(bool close = false);
  // Runs fn on this socket's loop (from any thread) if it is still connected.
  void post(std::function<void(Socket&)> fn);

  std::any data;  // the application's own state

  // Engine-internal (client, namespace, broadcast).
  std::shared_ptr<Client> client(detail::EngineAccess) const { return client_.lock(); }
  detail::ShardSlot& shardSlot(detail::EngineAccess) { return slot_; }
  void attach(detail::EngineAccess, Client& client);        // connected, on the client's loop
  void closed(detail::EngineAccess, DisconnectReason why);  // left the namespace, for any reason
  void onEvent(detail::EngineAccess, std::string name, Args args, Attachments attachments,
               std::optional<uint64_t> id);
  void onAck(detail::EngineAccess, uint64_t id, Args args, Attachments attachments);
  void sendAck(detail::EngineAccess, uint64_t id, Args args, Attachments attachments);
  void deliverBroadcast(detail::EngineAccess, const FramesPtr& frames, uint64_t tag);

 private:
  struct PendingAck {
    AckCallback callback;
    std::shared_ptr<net::Loop::TimerHandle> timer;
  };

  void sendEncoded(const std::string& text, const Attachments& attachments);

  Namespace& nsp_;   // lives as long as the server
  net::Loop& loop_;  // loops outlive every socket
  // The client, for the middleware phase; it may be gone when the middleware answers.
  std::weak_ptr<Client> client_;
  // The client while connected (on the loop): it ends its sockets before it goes.
  Client* attached_ = nullptr;
  std::string id_;
  std::string pid_;
  Handshake handshake_;
  std::vector<std::string> rooms_;
  // Few per socket: a flat list is smaller and as fast as a hash map.
  std::vector<std::pair<std::string, EventHandler>> handlers_;
  EventHandler anyHandler_;
  std::vector<DisconnectHandler> disconnectHandlers_;
  std::vector<std::pair<uint64_t, PendingAck>> pendingAcks_;  // usually none or a few
  uint64_t nextAckId_ = 0;
  detail::ShardSlot slot_;
  std::vector<std::pair<uint64_t, FramesPtr>> held_;
  bool holding_ = false;
  bool connected_ = false;
};

}  // namespace brigade::sio
