#include "core/utf8.hpp"

namespace brigade::utf8 {

bool Validator::feed(std::string_view bytes) {
  for (unsigned char c : bytes) {
    if (need_ == 0) {
      if (c < 0x80) continue;
      lower_ = 0x80;
      upper_ = 0xBF;
      if (c >= 0xC2 && c <= 0xDF) {
        need_ = 1;
      } else if (c >= 0xE0 && c <= 0xEF) {
        need_ = 2;
        if (c == 0xE0) lower_ = 0xA0;
        if (c == 0xED) upper_ = 0x9F;
      } else if (c >= 0xF0 && c <= 0xF4) {
        need_ = 3;
        if (c == 0xF0) lower_ = 0x90;
        if (c == 0xF4) upper_ = 0x8F;
      } else {
        return false;
      }
      continue;
    }
    if (c < lower_ || c > upper_) return false;
    lower_ = 0x80;
    upper_ = 0xBF;
    --need_;
  }
  return true;
}

}  // namespace brigade::utf8
