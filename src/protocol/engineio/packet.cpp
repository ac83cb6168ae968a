#include "protocol/engineio/packet.hpp"

#include "core/base64.hpp"
#include "ws/frame.hpp"

namespace brigade::eio {

Result<Packet> decodeText(std::string_view text) {
  if (text.empty()) return makeError("parse_error", "empty packet");
  char c = text[0];
  if (c < '0' || c > '6') return makeError("parse_error", "unknown packet type");
  return Packet{static_cast<PacketType>(c - '0'), std::string(text.substr(1)), false};
}

Result<std::vector<Packet>> decodePayload(std::string_view body) {
  std::vector<Packet> packets;
  size_t start = 0;
  while (true) {
    if (packets.size() >= kMaxPacketsPerPayload) {
      return makeError("parse_error", "too many packets in payload");
    }
    size_t end = body.find(kRecordSeparator, start);
    std::string_view record =
        body.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (!record.empty() && record[0] == 'b') {
      auto bytes = base64::decode(record.substr(1));
      if (!bytes) return makeError("parse_error", "invalid base64 record");
      packets.push_back(Packet{PacketType::kMessage, std::move(*bytes), true});
    } else {
      auto packet = decodeText(record);
      if (!packet) return packet.error();
      packets.push_back(std::move(packet).value());
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return packets;
}

std::string encodeText(PacketType type, std::string_view data) {
  std::string out;
  out.reserve(1 + data.size());
  out += static_cast<char>('0' + static_cast<int>(type));
  out += data;
  return out;
}

void appendPayloadRecord(std::string& out, const Packet& packet) {
  if (!out.empty()) out += kRecordSeparator;
  if (packet.binary) {
    out += 'b';
    out += base64::encode(packet.data);
  } else {
    out += static_cast<char>('0' + static_cast<int>(packet.type));
    out += packet.data;
  }
}

std::string encodePayload(const std::vector<Packet>& packets) {
  std::string out;
  for (const auto& packet : packets) appendPayloadRecord(out, packet);
  return out;
}

OutPacketPtr makeOutPacket(PacketType type, std::string_view data) {
  auto packet = std::make_shared<OutPacket>();
  size_t length = 1 + data.size();
  char header[ws::kMaxServerHeader];
  size_t headerSize = ws::writeServerHeader(header, ws::Opcode::kText, length);
  packet->frame.reserve(headerSize + length);
  packet->frame.append(header, headerSize);
  packet->frame += static_cast<char>('0' + static_cast<int>(type));
  packet->frame.append(data);
  packet->headerSize = static_cast<uint8_t>(headerSize);
  return packet;
}

OutPacketPtr makeMessage(std::string_view data, bool binary) {
  if (!binary) return makeOutPacket(PacketType::kMessage, data);
  auto packet = std::make_shared<OutPacket>();
  char header[ws::kMaxServerHeader];
  size_t headerSize = ws::writeServerHeader(header, ws::Opcode::kBinary, data.size());
  packet->frame.reserve(headerSize + data.size());
  packet->frame.append(header, headerSize);
  packet->frame.append(data);
  packet->headerSize = static_cast<uint8_t>(headerSize);
  packet->binary = true;
  return packet;
}

void appendPayloadRecord(std::string& out, const OutPacket& packet) {
  if (!out.empty()) out += kRecordSeparator;
  if (packet.binary) {
    out += 'b';
    out += base64::encode(packet.packet());
  } else {
    out += packet.packet();
  }
}

}  // namespace brigade::eio
