#include "ws/frame.hpp"

#include <algorithm>
#include <boost/uuid/detail/sha1.hpp>
#include <cstring>

#include "core/base64.hpp"

namespace brigade::ws {

size_t writeServerHeader(char* out, Opcode opcode, uint64_t length, bool fin) {
  out[0] = static_cast<char>((fin ? 0x80 : 0x00) | static_cast<uint8_t>(opcode));
  if (length < 126) {
    out[1] = static_cast<char>(length);
    return 2;
  }
  if (length <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<char>(length >> 8);
    out[3] = static_cast<char>(length);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<char>(length >> (56 - 8 * i));
  return 10;
}

std::string encodeServerFrame(Opcode opcode, std::string_view payload) {
  char header[kMaxServerHeader];
  size_t n = writeServerHeader(header, opcode, payload.size());
  std::string out;
  out.reserve(n + payload.size());
  out.append(header, n);
  out.append(payload);
  return out;
}

std::string encodeClientFrame(Opcode opcode, std::string_view payload, uint32_t mask, bool fin,
                              uint8_t rsv) {
  std::string out;
  out += static_cast<char>((fin ? 0x80 : 0x00) | (rsv & 0x7) << 4 | static_cast<uint8_t>(opcode));
  if (payload.size() < 126) {
    out += static_cast<char>(0x80 | payload.size());
  } else if (payload.size() <= 0xFFFF) {
    out += static_cast<char>(0x80 | 126);
    out += static_cast<char>(payload.size() >> 8);
    out += static_cast<char>(payload.size());
  } else {
    out += static_cast<char>(0x80 | 127);
    for (int i = 0; i < 8; ++i) out += static_cast<char>(uint64_t{payload.size()} >> (56 - 8 * i));
  }
  char key[4] = {static_cast<char>(mask >> 24), static_cast<char>(mask >> 16),
                 static_cast<char>(mask >> 8), static_cast<char>(mask)};
  out.append(key, 4);
  for (size_t i = 0; i < payload.size(); ++i) out += static_cast<char>(payload[i] ^ key[i % 4]);
  return out;
}

std::string closePayload(uint16_t code, std::string_view reason) {
  std::string out;
  out += static_cast<char>(code >> 8);
  out += static_cast<char>(code & 0xFF);
  // Cut at a character boundary: a peer fails a close reason that is not UTF-8.
  size_t n = std::min(reason.size(), kMaxControlPayload - 2);
  if (n < reason.size()) {
    while (n > 0 && (static_cast<uint8_t>(reason[n]) & 0xC0) == 0x80) --n;
  }
  out.append(reason.substr(0, n));
  return out;
}

size_t FrameReader::fail(uint16_t code, const char* reason) {
  failure_ = code;
  failureReason_ = reason;
  return kFailed;
}

size_t FrameReader::feed(std::string_view data, FrameSink& sink) {
  if (failure_ != 0) return kFailed;
  size_t used = 0;
  while (true) {
    std::string_view rest = data.substr(used);
    if (rest.size() < 2) return used;
    auto b0 = static_cast<uint8_t>(rest[0]);
    auto b1 = static_cast<uint8_t>(rest[1]);
    bool fin = (b0 & 0x80) != 0;
    if ((b0 & 0x70) != 0) return fail(kCloseProtocolError, "reserved bits set");
    auto opcode = static_cast<Opcode>(b0 & 0x0F);
    bool control = (b0 & 0x08) != 0;
    switch (opcode) {
      case Opcode::kContinuation:
      case Opcode::kText:
      case Opcode::kBinary:
      case Opcode::kClose:
      case Opcode::kPing:
      case Opcode::kPong:
        break;
      default:
        return fail(kCloseProtocolError, "unknown opcode");
    }
    if ((b1 & 0x80) == 0) return fail(kCloseProtocolError, "client frame not masked");
    uint64_t length = b1 & 0x7F;
    size_t header = 2;
    if (length == 126) {
      if (rest.size() < 4) return used;
      length = uint64_t{static_cast<uint8_t>(rest[2])} << 8 | static_cast<uint8_t>(rest[3]);
      if (length < 126) return fail(kCloseProtocolError, "non-minimal length");
      header = 4;
    } else if (length == 127) {
      if (rest.size() < 10) return used;
      length = 0;
      for (int i = 0; i < 8; ++i) length = length << 8 | static_cast<uint8_t>(rest[2 + i]);
      if (length >> 63) return fail(kCloseProtocolError, "length with top bit set");
      if (length <= 0xFFFF) return fail(kCloseProtocolError, "non-minimal length");
      header = 10;
    }
    if (control) {
      if (!fin) return fail(kCloseProtocolError, "fragmented control frame");
      if (length > kMaxControlPayload) return fail(kCloseProtocolError, "control frame too long");
    } else {
      if (opcode == Opcode::kContinuation && !inMessage_) {
        return fail(kCloseProtocolError, "continuation without a message");
      }
      if (opcode != Opcode::kContinuation && inMessage_) {
        return fail(kCloseProtocolError, "new message inside a fragmented one");
      }
      // Checked before the frame is complete so an oversized frame never gets buffered.
      if (length > maxMessage_ || message_.size() + length > maxMessage_) {
        return fail(kCloseTooBig, "message too big");
      }
    }
    if (rest.size() < header + 4 + length) return used;
    const char* mask = rest.data() + header;
    const char* body = mask + 4;
    size_t frameSize = header + 4 + static_cast<size_t>(length);

    if (control) {
      char payload[kMaxControlPayload];
      for (size_t i = 0; i < length; ++i) payload[i] = static_cast<char>(body[i] ^ mask[i % 4]);
      std::string_view p(payload, static_cast<size_t>(length));
      used += frameSize;
      if (opcode == Opcode::kPing) {
        sink.onPing(p);
      } else if (opcode == Opcode::kPong) {
        sink.onPong(p);
      } else {
        if (p.size() == 1) return fail(kCloseProtocolError, "close payload of one byte");
        uint16_t code = 1005;
        std::string_view reason;
        if (p.size() >= 2) {
          code =
              static_cast<uint16_t>(static_cast<uint8_t>(p[0]) << 8 | static_cast<uint8_t>(p[1]));
          reason = p.substr(2);
          bool validCode = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
                           (code >= 3000 && code <= 4999);
          if (!validCode) return fail(kCloseProtocolError, "invalid close code");
          if (!utf8::valid(reason)) return fail(kCloseInvalidPayload, "close reason not UTF-8");
        }
        sink.onClose(code, reason);
        return used;  // nothing after a close frame is read
      }
      continue;
    }

    if (opcode != Opcode::kContinuation) {
      inMessage_ = true;
      messageOpcode_ = opcode;
      utf8_.reset();
    }
    size_t start = message_.size();
    message_.resize(start + static_cast<size_t>(length));
    char* dst = message_.data() + start;
    for (size_t i = 0; i < length; ++i) dst[i] = static_cast<char>(body[i] ^ mask[i % 4]);
    used += frameSize;
    bool text = messageOpcode_ == Opcode::kText;
    if (text && !utf8_.feed(std::string_view(dst, static_cast<size_t>(length)))) {
      return fail(kCloseInvalidPayload, "text message not UTF-8");
    }
    if (fin) {
      if (text && !utf8_.complete()) return fail(kCloseInvalidPayload, "text message not UTF-8");
      inMessage_ = false;
      std::string message;
      message.swap(message_);
      sink.onMessage(!text, std::move(message));
      if (failure_ != 0) return kFailed;
    }
  }
}

std::string acceptKey(std::string_view clientKey) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  boost::uuids::detail::sha1 sha;
  sha.process_bytes(clientKey.data(), clientKey.size());
  sha.process_bytes(kGuid.data(), kGuid.size());
  boost::uuids::detail::sha1::digest_type digest;
  sha.get_digest(digest);
  char bytes[20];
  for (int i = 0; i < 5; ++i) {
    bytes[4 * i] = static_cast<char>(digest[i] >> 24);
    bytes[4 * i + 1] = static_cast<char>(digest[i] >> 16);
    bytes[4 * i + 2] = static_cast<char>(digest[i] >> 8);
    bytes[4 * i + 3] = static_cast<char>(digest[i]);
  }
  return base64::encode(std::string_view(bytes, 20));
}

}  // namespace brigade::ws
