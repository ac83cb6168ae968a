#pragma once

// RFC 6455 framing. Pure: bytes in, events out; no sockets, so it can be
// fuzzed and unit-tested on its own (STYLE.md, "Pure codecs").

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/utf8.hpp"

namespace brigade::ws {

enum class Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close codes used by the server (RFC 6455 section 7.4.1).
enum CloseCode : uint16_t {
  kCloseNormal = 1000,
  kCloseGoingAway = 1001,
  kCloseProtocolError = 1002,
  kCloseInvalidPayload = 1007,
  kClosePolicy = 1008,
  kCloseTooBig = 1009,
  kCloseInternal = 1011,
};

// Control frames carry at most 125 payload bytes (RFC 6455 5.5).
inline constexpr size_t kMaxControlPayload = 125;
// Largest header a server frame can have: 2 + 8 bytes (servers never mask).
inline constexpr size_t kMaxServerHeader = 10;

// Writes an unmasked server frame header for a payload of `length` bytes into
// `out` (at least kMaxServerHeader bytes); returns the header's length.
size_t writeServerHeader(char* out, Opcode opcode, uint64_t length, bool fin = true);
// A whole unmasked server frame.
std::string encodeServerFrame(Opcode opcode, std::string_view payload);
// Masked client frame (used by tests and the load generator's peers).
std::string encodeClientFrame(Opcode opcode, std::string_view payload, uint32_t mask,
                              bool fin = true, uint8_t rsv = 0);
// Payload of a close frame: the code in network order, then the reason.
std::string closePayload(uint16_t code, std::string_view reason = {});

// Receives complete messages and control frames from a FrameReader.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual void onMessage(bool binary, std::string&& payload) = 0;
  virtual void onPing(std::string_view payload) = 0;
  virtual void onPong(std::string_view payload) = 0;
  // A close frame from the peer; code 1005 when it carried none.
  virtual void onClose(uint16_t code, std::string_view reason) = 0;
};

// Parses frames sent by a client: they must be masked, use no reserved bits or
// opcodes, and control frames must be short and unfragmented. Messages are
// reassembled from fragments and text is checked to be UTF-8.
class FrameReader {
 public:
  explicit FrameReader(size_t maxMessage) : maxMessage_(maxMessage) {}

  // Consumes as many whole frames of `data` as possible and returns how many bytes
  // it used; the caller keeps the rest and offers it again with more data. On a
  // protocol violation returns kFailed and sets failure() to the close code to send.
  static constexpr size_t kFailed = static_cast<size_t>(-1);
  size_t feed(std::string_view data, FrameSink& sink);

  uint16_t failure() const { return failure_; }
  std::string_view failureReason() const { return failureReason_; }
  // Bytes of a fragmented message held so far.
  size_t buffered() const { return message_.size(); }

 private:
  size_t fail(uint16_t code, const char* reason);

  size_t maxMessage_;
  std::string message_;  // fragments of the message in progress
  utf8::Validator utf8_;
  Opcode messageOpcode_ = Opcode::kContinuation;
  bool inMessage_ = false;
  uint16_t failure_ = 0;
  const char* failureReason_ = "";
};

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
std::string acceptKey(std::string_view clientKey);

}  // namespace brigade::ws
