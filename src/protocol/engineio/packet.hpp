#pragma once

// Engine.IO v4 packets and long-polling payloads. Pure: no sockets.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace brigade::eio {

enum class PacketType : uint8_t {
  kOpen = 0,
  kClose = 1,
  kPing = 2,
  kPong = 3,
  kMessage = 4,
  kUpgrade = 5,
  kNoop = 6,
};

// Packets in one long-polling POST body; more is a malformed request.
inline constexpr size_t kMaxPacketsPerPayload = 10000;
inline constexpr char kRecordSeparator = '\x1e';

struct Packet {
  PacketType type = PacketType::kMessage;
  std::string data;
  bool binary = false;

  friend bool operator==(const Packet&, const Packet&) = default;
};

// A WebSocket text frame or one record of a polling payload ("4hello").
Result<Packet> decodeText(std::string_view text);
// A polling POST body: records separated by \x1e, binary ones as 'b' + base64.
Result<std::vector<Packet>> decodePayload(std::string_view body);

std::string encodeText(PacketType type, std::string_view data = {});
// One record of a polling payload (binary as 'b' + base64).
void appendPayloadRecord(std::string& out, const Packet& packet);
std::string encodePayload(const std::vector<Packet>& packets);

// An outbound packet encoded once: the bytes of its WebSocket frame, whose tail is
// also its polling record (for text). Shared by every receiver of a broadcast.
struct OutPacket {
  std::string frame;       // WebSocket header + EIO packet
  uint8_t headerSize = 0;  // WebSocket header length
  bool binary = false;

  std::string_view wsFrame() const { return frame; }
  // The EIO packet itself: "4..." for text, raw bytes for binary.
  std::string_view packet() const { return std::string_view(frame).substr(headerSize); }
};
using OutPacketPtr = std::shared_ptr<const OutPacket>;

OutPacketPtr makeOutPacket(PacketType type, std::string_view data);
// A message packet; `binary` sends `data` in a binary frame (or 'b' + base64).
OutPacketPtr makeMessage(std::string_view data, bool binary = false);
// Appends the polling record of an outbound packet.
void appendPayloadRecord(std::string& out, const OutPacket& packet);

}  // namespace brigade::eio
