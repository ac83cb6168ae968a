#pragma once

// Socket.IO v5 packets: `<type>[<attachments>-][<nsp>,][<id>][<json>]`.
// Pure: bytes in, packets out, so it can be fuzzed and tested without sockets.

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace brigade::sio {

enum class PacketType : uint8_t {
  kConnect = 0,
  kDisconnect = 1,
  kEvent = 2,
  kAck = 3,
  kConnectError = 4,
  kBinaryEvent = 5,
  kBinaryAck = 6,
};

// Limits on what a client may send.
inline constexpr size_t kMaxAttachments = 16;  // binary attachments per packet
inline constexpr unsigned kMaxJsonDepth = 32;  // nesting of the JSON payload
inline constexpr size_t kMaxNamespaceLength = 256;
inline constexpr uint64_t kMaxAckId = (uint64_t{1} << 53) - 1;  // a JS number stays exact

struct Packet {
  PacketType type = PacketType::kEvent;
  std::string nsp = "/";
  std::optional<uint64_t> id;
  boost::json::value data;  // null when the packet carries none
  size_t attachmentCount = 0;
  std::vector<std::string> attachments;  // filled by Decoder for binary packets
};

// Decodes the text part of a packet and checks its payload's shape by type, as
// the reference parser does (events: a non-empty array starting with a name that
// is not reserved; CONNECT: an object or nothing; ...).
Result<Packet> decodePacket(std::string_view text);

// The text part; binary attachments travel as the following Engine.IO messages.
std::string encodePacket(PacketType type, std::string_view nsp, std::optional<uint64_t> id,
                         const boost::json::value* data, size_t attachments = 0);

// Reassembles binary packets: a BINARY_EVENT / BINARY_ACK text part is followed
// by its attachments, each its own Engine.IO binary message.
class Decoder {
 public:
  enum class Status { kPacket, kNeedMore, kError };
  struct Step {
    Status status;
    Error error;
  };
  Step feedText(std::string_view text);
  Step feedBinary(std::string&& bytes);
  // The completed packet after kPacket.
  Packet take() { return std::move(packet_); }
  bool waitingForAttachments() const { return waiting_; }

 private:
  Packet packet_;
  bool waiting_ = false;
};

// The object standing in a payload for binary attachment `index`.
boost::json::value placeholder(size_t index);
// Whether every placeholder of `data` refers to one of `count` attachments.
bool placeholdersValid(const boost::json::value& data, size_t count);

}  // namespace brigade::sio
