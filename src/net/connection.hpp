#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/buffer.hpp"

namespace brigade::net {

class Loop;

// What a connection hands its bytes to. Swapped when a connection changes
// protocol (HTTP → WebSocket).
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // New bytes (with whatever the handler left unconsumed before). Returns how many
  // it consumed; the rest is kept for the next call.
  virtual size_t onData(std::string_view data) = 0;
  // The connection is closed (by either side); no call follows.
  virtual void onClose(std::string_view reason) = 0;
  // The send queue fell below the low watermark after having crossed the high one.
  virtual void onDrain() {}
};

// Send-queue limits. Above kHighWatermark a connection reports itself not
// writable (applications may skip volatile messages); above kMaxQueued bytes it is
// closed: a client too slow to read must not grow the server's memory.
inline constexpr size_t kHighWatermark = 1 << 20;
inline constexpr size_t kLowWatermark = 256 << 10;
inline constexpr size_t kDefaultMaxQueued = 16 << 20;
// A connection that stays above the high watermark this long is closed too.
inline constexpr int64_t kSlowClientGraceMs = 10000;
// The close reason given to handlers in both cases.
inline constexpr std::string_view kReasonSendOverflow = "send queue overflow";
// Bytes a handler may leave unconsumed (a request still arriving, pipelined ones waiting)
// before the connection is closed: a client cannot grow the server's memory by sending
// without reading. Plain and TLS connections alike.
inline constexpr size_t kMaxUnconsumed = 4 << 20;

// A lingering close (closeLingering) reads and drops what the peer still sends
// for at most this long and this many bytes before the socket is closed.
inline constexpr int64_t kLingerMs = 5000;
inline constexpr size_t kLingerMaxBytes = 16 << 20;

// A TCP connection owned by one loop. Every method must be called on that loop.
class TcpConnection : public std::enable_shared_from_this<TcpConnection> {
 public:
  virtual ~TcpConnection() = default;

  virtual Loop& loop() = 0;
  // Queues bytes; they are written at the end of this loop turn, gathered with
  // everything else queued meanwhile, one write in flight at a time.
  virtual void send(BufferRef bytes) = 0;
  void send(std::string bytes) {
    auto owner = std::make_shared<const std::string>(std::move(bytes));
    send(BufferRef{owner, *owner});
  }
  // Closes after the queued bytes are written (graceful) or at once.
  virtual void close(bool graceful = true) = 0;
  // Closes after the queued bytes are written, like nginx's lingering close: only
  // the sending side is shut down, and what the peer still sends is read and
  // dropped (bounded by kLingerMs and kLingerMaxBytes) before the socket closes.
  // For an answer sent while the peer may still be sending (a refused body, a
  // WebSocket close): closing with unread input makes the kernel send a reset,
  // and the peer then loses the answer it has not read yet. The handler sees
  // onClose when the lingering starts; the connection counts as closed.
  virtual void closeLingering() = 0;
  virtual bool closed() const = 0;
  virtual void setHandler(std::unique_ptr<ConnectionHandler> handler) = 0;
  // Queues bytes as if they had been received (bytes read past an HTTP upgrade).
  virtual void inject(std::string_view bytes) = 0;
  // Offers the bytes kept unconsumed to the handler again (after it was busy).
  virtual void resume() = 0;
  // Reads and hands to the handler, now, what the peer has sent that is already
  // here, instead of when the loop gets to it: for a request on another
  // connection whose answer depends on what this peer sent before it.
  virtual void readNow() = 0;
  virtual size_t queuedBytes() const = 0;
  virtual bool writable() const = 0;  // below the high watermark
  virtual void setMaxQueued(size_t bytes) = 0;
  virtual std::string remoteAddress() const = 0;
  // Keeps `owned` alive until the connection closes (it moves with the connection
  // to another loop): what a connection holds for its whole life, whichever handler
  // serves it (its place in the per-address connection counts).
  virtual void attach(std::shared_ptr<void> owned) = 0;
  // Hands the socket to another loop: this object closes silently (no onClose) and
  // `then` runs on `target` with the new connection before it starts reading.
  virtual void moveTo(Loop& target,
                      std::function<void(const std::shared_ptr<TcpConnection>&)> then) = 0;
  // Called by the loop's flush phase.
  virtual void flush() = 0;
};

using TcpConnectionPtr = std::shared_ptr<TcpConnection>;

}  // namespace brigade::net
