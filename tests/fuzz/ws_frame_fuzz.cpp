// FrameReader on arbitrary client bytes. The input is read twice, whole and in
// chunks whose sizes come from the first byte (unconsumed bytes carried over the
// way a connection does); both reads must see the same events and the same failure.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/utf8.hpp"
#include "ws/frame.hpp"

namespace brigade::ws {
namespace {

constexpr size_t kMaxMessage = 1 << 16;

// Folds every event into a transcript (bounded: messages are at most kMaxMessage).
class TranscriptSink : public FrameSink {
 public:
  void onMessage(bool binary, std::string&& payload) override {
    if (payload.size() > kMaxMessage) std::abort();
    if (!binary && !utf8::valid(payload)) std::abort();  // text is always UTF-8
    add(binary ? 'B' : 'T', payload);
  }
  void onPing(std::string_view payload) override {
    check(payload);
    add('i', payload);
  }
  void onPong(std::string_view payload) override {
    check(payload);
    add('o', payload);
  }
  void onClose(uint16_t code, std::string_view reason) override {
    check(reason);
    add('C', std::to_string(code) + ":" + std::string(reason));
    closed = true;
  }

  std::string transcript;
  bool closed = false;

 private:
  static void check(std::string_view control) {
    if (control.size() > kMaxControlPayload) std::abort();
  }
  void add(char kind, std::string_view payload) {
    transcript += kind;
    transcript += std::to_string(payload.size());
    transcript += ':';
    transcript += payload;
  }
};

struct Run {
  std::string transcript;
  uint16_t failure = 0;
};

Run read(std::string_view data, size_t chunk) {
  FrameReader reader(kMaxMessage);
  TranscriptSink sink;
  std::string pending;
  Run run;
  for (size_t pos = 0; pos < data.size() && !sink.closed;) {
    size_t n = std::min(chunk, data.size() - pos);
    pending.append(data.substr(pos, n));
    pos += n;
    size_t used = reader.feed(pending, sink);
    if (used == FrameReader::kFailed) {
      run.failure = reader.failure();
      if (run.failure == 0 || reader.feed("", sink) != FrameReader::kFailed) std::abort();
      break;
    }
    if (used > pending.size()) std::abort();
    pending.erase(0, used);
    if (reader.buffered() > kMaxMessage) std::abort();
  }
  run.transcript = std::move(sink.transcript);
  return run;
}

}  // namespace
}  // namespace brigade::ws

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace brigade::ws;
  if (size == 0) return 0;
  std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  size_t chunk = 1 + bytes[0] % 32;
  Run whole = read(data, data.size() + 1);
  Run chunked = read(data, chunk);
  if (whole.failure != chunked.failure || whole.transcript != chunked.transcript) std::abort();

  // Whatever the bytes, a masked binary frame carrying them reads back unchanged.
  if (data.size() <= (1 << 16)) {
    uint32_t mask = size >= 5 ? uint32_t{bytes[1]} << 24 | uint32_t{bytes[2]} << 16 |
                                    uint32_t{bytes[3]} << 8 | bytes[4]
                              : 0;
    Run echo = read(encodeClientFrame(Opcode::kBinary, data, mask), chunk);
    if (echo.failure != 0 ||
        echo.transcript != "B" + std::to_string(data.size()) + ":" + std::string(data)) {
      std::abort();
    }
  }
  return 0;
}
