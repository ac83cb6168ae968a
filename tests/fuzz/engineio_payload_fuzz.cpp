// Engine.IO text packets and long-polling payloads from arbitrary bytes. A payload
// that decodes must encode and decode again to the same packets.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/engineio/packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace brigade::eio;
  std::string_view data(reinterpret_cast<const char*>(bytes), size);

  auto packet = decodeText(data);
  if (packet) {
    if (packet->binary || static_cast<int>(packet->type) > 6) std::abort();
    if (encodeText(packet->type, packet->data) != data) std::abort();
  }

  auto packets = decodePayload(data);
  if (!packets) return 0;
  if (packets->empty() || packets->size() > kMaxPacketsPerPayload) std::abort();
  auto again = decodePayload(encodePayload(*packets));
  if (!again || *again != *packets) std::abort();
  // The record of an outbound packet encoded once matches the plain encoding.
  const Packet& first = packets->front();
  OutPacketPtr out =
      first.binary ? makeMessage(first.data, true) : makeOutPacket(first.type, first.data);
  std::string a, b;
  appendPayloadRecord(a, first);
  appendPayloadRecord(b, *out);
  if (a != b || out->packet().size() + out->headerSize != out->wsFrame().size()) std::abort();
  return 0;
}
