// Socket.IO Decoder on a sequence of messages: the input is split at '\x1e' into
// messages; the first byte of each says whether it is a text packet or a binary
// attachment (low bit), the rest is its content. A text packet that decodes must
// encode to text that decodes to the same packet (see sameData).

#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/socketio/packet.hpp"

namespace brigade::sio {
namespace {

namespace json = boost::json;

// What a receiver gets back is what was sent, except that non-finite numbers become
// null (JSON has none) and doubles may move by an ULP: Boost.JSON 1.81 does not parse
// long mantissas with correct rounding (precise parsing came in 1.83).
bool sameData(const json::value& sent, const json::value& back) {
  if (sent.is_double()) {
    double a = sent.get_double();
    if (!std::isfinite(a)) return back.is_null();
    if (!back.is_double()) return false;
    double b = back.get_double();
    return a == b || std::fabs(a - b) <= 1e-15 * std::fabs(a) || std::fabs(a - b) < 1e-300;
  }
  if (sent.kind() != back.kind()) return false;
  if (sent.is_array()) {
    const auto& x = sent.get_array();
    const auto& y = back.get_array();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!sameData(x[i], y[i])) return false;
    }
    return true;
  }
  if (sent.is_object()) {
    const auto& x = sent.get_object();
    const auto& y = back.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& item : x) {
      auto it = y.find(item.key());
      if (it == y.end() || !sameData(item.value(), it->value())) return false;
    }
    return true;
  }
  return sent == back;
}

// Numbers too large for a double parse as infinity and are written back as null
// (as JSON.stringify does), which may make a packet invalid: no round trip then.
bool hasNonFinite(const boost::json::value& v) {
  if (v.is_double()) return !std::isfinite(v.get_double());
  if (v.is_array()) {
    for (const auto& item : v.get_array()) {
      if (hasNonFinite(item)) return true;
    }
  }
  if (v.is_object()) {
    for (const auto& item : v.get_object()) {
      if (hasNonFinite(item.value())) return true;
    }
  }
  return false;
}

void checkRoundTrip(std::string_view text) {
  auto packet = decodePacket(text);
  if (!packet) {
    if (packet.error().message.empty()) std::abort();
    return;
  }
  const Packet& p = *packet;
  if (p.attachmentCount > kMaxAttachments || p.nsp.size() > kMaxNamespaceLength) std::abort();
  if (p.id && *p.id > kMaxAckId) std::abort();
  // Placeholders only mean something in binary packets; elsewhere they are plain data.
  bool binary = p.type == PacketType::kBinaryEvent || p.type == PacketType::kBinaryAck;
  if (binary && !placeholdersValid(p.data, p.attachmentCount)) std::abort();
  if (hasNonFinite(p.data)) return;
  std::string encoded =
      encodePacket(p.type, p.nsp, p.id, p.data.is_null() ? nullptr : &p.data, p.attachmentCount);
  auto again = decodePacket(encoded);
  if (!again) std::abort();
  if (again->type != p.type || again->nsp != p.nsp || again->id != p.id ||
      again->attachmentCount != p.attachmentCount) {
    std::abort();
  }
  if (!sameData(p.data, again->data)) std::abort();
}

}  // namespace
}  // namespace brigade::sio

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace brigade::sio;
  std::string_view data(reinterpret_cast<const char*>(bytes), size);
  Decoder decoder;
  size_t start = 0;
  while (start <= data.size()) {
    size_t end = data.find('\x1e', start);
    if (end == std::string_view::npos) end = data.size();
    std::string_view message = data.substr(start, end - start);
    start = end + 1;
    if (message.empty()) continue;
    bool binary = (static_cast<uint8_t>(message[0]) & 1) != 0;
    std::string_view content = message.substr(1);
    bool waiting = decoder.waitingForAttachments();
    Decoder::Step step;
    if (binary) {
      step = decoder.feedBinary(std::string(content));
      if (!waiting && step.status != Decoder::Status::kError) std::abort();
    } else {
      checkRoundTrip(content);
      step = decoder.feedText(content);
      if (waiting && step.status != Decoder::Status::kError) std::abort();
    }
    if (step.status == Decoder::Status::kError && step.error.message.empty()) std::abort();
    if (step.status == Decoder::Status::kPacket) {
      Packet packet = decoder.take();
      if (packet.attachments.size() != packet.attachmentCount) std::abort();
    }
  }
  return 0;
}
