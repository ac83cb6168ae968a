#include "protocol/socketio/packet.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>

namespace brigade::sio {

namespace json = boost::json;

namespace {

bool reservedEvent(std::string_view name) {
  return name == "connect" || name == "connect_error" || name == "disconnect" ||
         name == "disconnecting" || name == "newListener" || name == "removeListener";
}

Result<void> checkPayload(const Packet& packet, bool hasData) {
  const auto& data = packet.data;
  switch (packet.type) {
    case PacketType::kConnect:
      if (hasData && !data.is_object())
        return makeError("parse_error", "CONNECT data not an object");
      return {};
    case PacketType::kDisconnect:
      if (hasData) return makeError("parse_error", "DISCONNECT with data");
      return {};
    case PacketType::kConnectError:
      if (!hasData || !(data.is_object() || data.is_string())) {
        return makeError("parse_error", "CONNECT_ERROR data invalid");
      }
      return {};
    case PacketType::kEvent:
    case PacketType::kBinaryEvent: {
      if (!data.is_array() || data.as_array().empty()) {
        return makeError("parse_error", "event payload not a non-empty array");
      }
      const auto& name = data.as_array()[0];
      if (name.is_string()) {
        if (reservedEvent(std::string_view(name.as_string()))) {
          return makeError("parse_error", "reserved event name");
        }
      } else if (!name.is_number()) {
        return makeError("parse_error", "event name not a string");
      }
      return {};
    }
    case PacketType::kAck:
    case PacketType::kBinaryAck:
      if (!data.is_array()) return makeError("parse_error", "ack payload not an array");
      return {};
  }
  return makeError("parse_error", "unknown packet type");
}

void collectPlaceholders(const json::value& v, size_t count, bool& ok, unsigned depth) {
  if (!ok || depth > kMaxJsonDepth) return;
  if (v.is_array()) {
    for (const auto& item : v.as_array()) collectPlaceholders(item, count, ok, depth + 1);
  } else if (v.is_object()) {
    const auto& o = v.as_object();
    if (auto it = o.find("_placeholder"); it != o.end() && it->value() == true) {
      auto num = o.find("num");
      if (num == o.end() || !num->value().is_int64() || num->value().as_int64() < 0 ||
          static_cast<size_t>(num->value().as_int64()) >= count) {
        ok = false;
      }
      return;
    }
    for (const auto& item : o) collectPlaceholders(item.value(), count, ok, depth + 1);
  }
}

// JSON has no Infinity or NaN, but boost::json writes them as `Infinity`/`NaN`, which
// no client can parse (a client sending 1e400 would break the echo to every receiver).
// Like JSON.stringify, send them as null.
bool hasNonFinite(const json::value& v) {
  if (v.is_double()) return !std::isfinite(v.get_double());
  if (v.is_array()) {
    for (const auto& item : v.get_array()) {
      if (hasNonFinite(item)) return true;
    }
  } else if (v.is_object()) {
    for (const auto& item : v.get_object()) {
      if (hasNonFinite(item.value())) return true;
    }
  }
  return false;
}

void nullNonFinite(json::value& v) {
  if (v.is_double() && !std::isfinite(v.get_double())) {
    v = nullptr;
  } else if (v.is_array()) {
    for (auto& item : v.get_array()) nullNonFinite(item);
  } else if (v.is_object()) {
    for (auto& item : v.get_object()) nullNonFinite(item.value());
  }
}

}  // namespace

Result<Packet> decodePacket(std::string_view text) {
  if (text.empty()) return makeError("parse_error", "empty packet");
  if (text[0] < '0' || text[0] > '6') return makeError("parse_error", "unknown packet type");
  Packet packet;
  packet.type = static_cast<PacketType>(text[0] - '0');
  size_t i = 1;
  bool binary = packet.type == PacketType::kBinaryEvent || packet.type == PacketType::kBinaryAck;
  if (binary) {
    size_t dash = text.find('-', i);
    if (dash == std::string_view::npos || dash == i || dash - i > 3) {
      return makeError("parse_error", "bad attachment count");
    }
    size_t count = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + dash, count);
    if (ec != std::errc() || end != text.data() + dash) {
      return makeError("parse_error", "bad attachment count");
    }
    if (count > kMaxAttachments) return makeError("parse_error", "too many attachments");
    packet.attachmentCount = count;
    i = dash + 1;
  }
  if (i < text.size() && text[i] == '/') {
    size_t comma = text.find(',', i);
    size_t end = comma == std::string_view::npos ? text.size() : comma;
    if (end - i > kMaxNamespaceLength) return makeError("parse_error", "namespace too long");
    packet.nsp = std::string(text.substr(i, end - i));
    i = comma == std::string_view::npos ? text.size() : comma + 1;
  }
  size_t digits = i;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits > i) {
    if (packet.type != PacketType::kEvent && packet.type != PacketType::kBinaryEvent &&
        packet.type != PacketType::kAck && packet.type != PacketType::kBinaryAck) {
      return makeError("parse_error", "id on a packet that takes none");
    }
    uint64_t id = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + digits, id);
    if (ec != std::errc() || end != text.data() + digits || id > kMaxAckId) {
      return makeError("parse_error", "bad ack id");
    }
    packet.id = id;
    i = digits;
  }
  bool hasData = i < text.size();
  if (hasData) {
    json::parse_options options;
    options.max_depth = kMaxJsonDepth;
    boost::system::error_code ec;
    json::storage_ptr storage;
    packet.data = json::parse(text.substr(i), ec, storage, options);
    if (ec) return makeError("parse_error", "invalid JSON payload");
  }
  if ((packet.type == PacketType::kAck || packet.type == PacketType::kBinaryAck) && !packet.id) {
    return makeError("parse_error", "ack without id");
  }
  if (auto valid = checkPayload(packet, hasData); !valid) return valid.error();
  if (binary && !placeholdersValid(packet.data, packet.attachmentCount)) {
    return makeError("parse_error", "placeholder out of range");
  }
  return packet;
}

std::string encodePacket(PacketType type, std::string_view nsp, std::optional<uint64_t> id,
                         const json::value* data, size_t attachments) {
  std::string out;
  out += static_cast<char>('0' + static_cast<int>(type));
  if (type == PacketType::kBinaryEvent || type == PacketType::kBinaryAck) {
    out += std::to_string(attachments);
    out += '-';
  }
  if (!nsp.empty() && nsp != "/") {
    out += nsp;
    out += ',';
  }
  if (id) out += std::to_string(*id);
  if (data && hasNonFinite(*data)) {
    json::value copy = *data;
    nullNonFinite(copy);
    out += json::serialize(copy);
  } else if (data) {
    out += json::serialize(*data);
  }
  return out;
}

Decoder::Step Decoder::feedText(std::string_view text) {
  if (waiting_)
    return {Status::kError, makeError("parse_error", "text while awaiting attachments")};
  auto packet = decodePacket(text);
  if (!packet) return {Status::kError, packet.error()};
  packet_ = std::move(packet).value();
  if (packet_.attachmentCount > 0) {
    waiting_ = true;
    packet_.attachments.reserve(packet_.attachmentCount);
    return {Status::kNeedMore, {}};
  }
  return {Status::kPacket, {}};
}

Decoder::Step Decoder::feedBinary(std::string&& bytes) {
  if (!waiting_) return {Status::kError, makeError("parse_error", "unexpected binary message")};
  packet_.attachments.push_back(std::move(bytes));
  if (packet_.attachments.size() < packet_.attachmentCount) return {Status::kNeedMore, {}};
  waiting_ = false;
  return {Status::kPacket, {}};
}

json::value placeholder(size_t index) {
  return json::object{{"_placeholder", true}, {"num", index}};
}

bool placeholdersValid(const json::value& data, size_t count) {
  bool ok = true;
  collectPlaceholders(data, count, ok, 0);
  return ok;
}

}  // namespace brigade::sio
