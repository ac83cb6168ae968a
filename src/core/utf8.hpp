#pragma once

#include <cstdint>
#include <string_view>

namespace brigade::utf8 {

// Incremental UTF-8 validator (RFC 3629: no overlongs, no surrogates, <= U+10FFFF),
// so that fragmented WebSocket text messages can be checked piece by piece.
class Validator {
 public:
  // Feeds bytes; returns false as soon as the input can no longer be valid.
  bool feed(std::string_view bytes);
  // True when the input so far ends on a character boundary.
  bool complete() const { return need_ == 0; }
  void reset() {
    need_ = 0;
    lower_ = 0x80;
    upper_ = 0xBF;
  }

 private:
  uint8_t need_ = 0;
  uint8_t lower_ = 0x80;
  uint8_t upper_ = 0xBF;
};

inline bool valid(std::string_view bytes) {
  Validator v;
  return v.feed(bytes) && v.complete();
}

}  // namespace brigade::utf8
