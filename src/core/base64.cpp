#include "core/base64.hpp"

#include <array>
#include <cstdint>

namespace brigade::base64 {
namespace {

constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> makeDecodeTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kStd[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr auto kDecode = makeDecodeTable();

std::string encodeWith(std::string_view in, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(in[k])); };
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t n = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += alphabet[n >> 6 & 63];
    out += alphabet[n & 63];
  }
  size_t rest = in.size() - i;
  if (rest == 1) {
    uint32_t n = byte(i) << 16;
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    uint32_t n = byte(i) << 16 | byte(i + 1) << 8;
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += alphabet[n >> 6 & 63];
    if (pad) out += '=';
  }
  return out;
}

}  // namespace

std::string encode(std::string_view bytes) {
  return encodeWith(bytes, kStd, true);
}
std::string encodeUrl(std::string_view bytes) {
  return encodeWith(bytes, kUrl, false);
}

std::optional<std::string> decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++padding;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t n = 0;
    bool last = i + 4 == text.size();
    for (size_t k = 0; k < 4; ++k) {
      char c = text[i + k];
      int v;
      if (c == '=') {
        if (!last || k < 4 - padding) return std::nullopt;
        v = 0;
      } else {
        v = kDecode[static_cast<unsigned char>(c)];
        if (v < 0) return std::nullopt;
      }
      n = n << 6 | static_cast<uint32_t>(v);
    }
    out += static_cast<char>(n >> 16 & 0xff);
    if (!last || padding < 2) out += static_cast<char>(n >> 8 & 0xff);
    if (!last || padding < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

}  // namespace brigade::base64
