// Socket.IO binary packets through the Decoder: the input builds a BINARY_EVENT
// (namespace, ack id, how many attachments, their bytes, where the placeholders
// stand in the arguments), its text part is encoded, then the Decoder is fed the
// text and the attachments as a connection would. It must give back exactly the
// attachments sent, in order, with valid placeholders; a packet that claims more
// attachments than the limit, or a text part while attachments are awaited, must
// be an error with a message, never a crash.

#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/socketio/packet.hpp"

namespace {

namespace json = boost::json;
using namespace brigade::sio;

struct Input {
  std::string_view rest;
  uint8_t byte() {
    if (rest.empty()) return 0;
    auto b = static_cast<uint8_t>(rest.front());
    rest.remove_prefix(1);
    return b;
  }
  std::string_view take(size_t n) {
    n = std::min(n, rest.size());
    auto out = rest.substr(0, n);
    rest.remove_prefix(n);
    return out;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  Input in{std::string_view(reinterpret_cast<const char*>(bytes), size)};
  size_t count = in.byte() % (kMaxAttachments + 3);  // crosses the limit sometimes
  bool withId = (in.byte() & 1) != 0;
  uint64_t id = in.byte();
  std::string nsp = (in.byte() & 1) ? "/" : "/orders";
  std::vector<std::string> attachments;
  for (size_t i = 0; i < count; ++i) attachments.emplace_back(in.take(in.byte() % 64));
  // ["event", <placeholders in an order the input picks, some nested>]
  json::array args{"event"};
  std::vector<size_t> order(count);
  for (size_t i = 0; i < count; ++i) order[i] = i;
  for (size_t i = count; i > 1; --i) std::swap(order[i - 1], order[in.byte() % i]);
  for (size_t index : order) {
    if (in.byte() & 1) {
      args.push_back(json::object{{"file", placeholder(index)}});
    } else {
      args.push_back(placeholder(index));
    }
  }
  json::value data = args;
  std::string text = encodePacket(PacketType::kBinaryEvent, nsp,
                                  withId ? std::optional(id) : std::nullopt, &data, count);
  Decoder decoder;
  auto step = decoder.feedText(text);
  if (count > kMaxAttachments) {
    if (step.status != Decoder::Status::kError || step.error.message.empty()) std::abort();
    return 0;
  }
  if (count == 0) {
    // A binary event without attachments is still a complete packet.
    if (step.status == Decoder::Status::kError && step.error.message.empty()) std::abort();
    return 0;
  }
  if (step.status != Decoder::Status::kNeedMore) std::abort();
  // A text part in the middle of the attachments is refused.
  if (in.byte() == 0xff) {
    auto wrong = decoder.feedText("2[\"x\"]");
    if (wrong.status != Decoder::Status::kError || wrong.error.message.empty()) std::abort();
    return 0;
  }
  for (size_t i = 0; i < count; ++i) {
    step = decoder.feedBinary(std::string(attachments[i]));
    bool last = i + 1 == count;
    if (step.status != (last ? Decoder::Status::kPacket : Decoder::Status::kNeedMore)) std::abort();
  }
  Packet packet = decoder.take();
  if (packet.type != PacketType::kBinaryEvent || packet.nsp != nsp) std::abort();
  if (packet.id != (withId ? std::optional(id) : std::nullopt)) std::abort();
  if (packet.attachments != attachments) std::abort();
  if (!placeholdersValid(packet.data, packet.attachmentCount)) std::abort();
  if (packet.data != data) std::abort();
  // One binary message more than announced is refused.
  auto extra = decoder.feedBinary("x");
  if (extra.status != Decoder::Status::kError || extra.error.message.empty()) std::abort();
  return 0;
}
