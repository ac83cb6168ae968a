#pragma once

// What both load generators need: a monotonic clock, SHA-1 and base64 for
// Sec-WebSocket-Accept, a small PRNG and string helpers. Header-only; the load
// generators share no code with the server they measure.

#include <time.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace brigade::bench {

inline constexpr int64_t kNsPerSec = 1'000'000'000;
inline constexpr int64_t kNsPerMs = 1'000'000;

// ---------------------------------------------------------------------------
// Clock: nanoseconds since the load generator started (CLOCK_MONOTONIC).

inline int64_t monotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * kNsPerSec + ts.tv_nsec;
}

inline const int64_t kStartNs = monotonicNs();

inline int64_t nowNs() {
  return monotonicNs() - kStartNs;
}

inline double seconds(int64_t ns) {
  return static_cast<double>(ns) / kNsPerSec;
}

// ---------------------------------------------------------------------------
// SHA-1 and base64, just enough for Sec-WebSocket-Accept.

inline uint32_t rotl(uint32_t v, int n) {
  return (v << n) | (v >> (32 - n));
}

inline std::array<uint8_t, 20> sha1(std::string_view data) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::string msg(data);
  const uint64_t bitLength = uint64_t{data.size()} * 8;
  msg.push_back('\x80');
  while (msg.size() % 64 != 56) msg.push_back('\0');
  for (int i = 7; i >= 0; --i) msg.push_back(static_cast<char>(bitLength >> (i * 8)));
  for (size_t off = 0; off < msg.size(); off += 64) {
    uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
      const auto* p = reinterpret_cast<const uint8_t*>(msg.data() + off + i * 4);
      w[i] = uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
    }
    for (int i = 16; i < 80; ++i) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      uint32_t f = 0;
      uint32_t k = 0;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDC;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6;
      }
      const uint32_t t = rotl(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
  std::array<uint8_t, 20> out{};
  for (int i = 0; i < 20; ++i) out[i] = static_cast<uint8_t>(h[i / 4] >> (24 - (i % 4) * 8));
  return out;
}

inline std::string base64(const uint8_t* data, size_t size) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < size; i += 3) {
    uint32_t v = uint32_t{data[i]} << 16;
    if (i + 1 < size) v |= uint32_t{data[i + 1]} << 8;
    if (i + 2 < size) v |= data[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < size ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < size ? kAlphabet[v & 63] : '=');
  }
  return out;
}

inline std::string websocketAccept(std::string_view key) {
  std::string input(key);
  input += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  const auto digest = sha1(input);
  return base64(digest.data(), digest.size());
}

// ---------------------------------------------------------------------------
// Small helpers.

class XorShift {
 public:
  explicit XorShift(uint64_t seed) : state_(seed | 1) {}
  uint64_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }

 private:
  uint64_t state_;
};

inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const char x = static_cast<char>(std::tolower(static_cast<unsigned char>(a[i])));
    const char y = static_cast<char>(std::tolower(static_cast<unsigned char>(b[i])));
    if (x != y) return false;
  }
  return true;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// ---------------------------------------------------------------------------
// Latency percentiles and one-line JSON results.

struct LatencySummary {
  size_t count = 0;
  double meanMs = 0, p50Ms = 0, p90Ms = 0, p99Ms = 0, p999Ms = 0, maxMs = 0;
};

inline LatencySummary summarize(std::vector<int64_t>& samples) {
  LatencySummary s;
  s.count = samples.size();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  auto rank = [&](double p) {
    const size_t index = static_cast<size_t>(std::ceil(p * static_cast<double>(samples.size())));
    return static_cast<double>(samples[std::min(samples.size() - 1, index == 0 ? 0 : index - 1)]) /
           kNsPerMs;
  };
  double sum = 0;
  for (int64_t v : samples) sum += static_cast<double>(v);
  s.meanMs = sum / static_cast<double>(samples.size()) / kNsPerMs;
  s.p50Ms = rank(0.50);
  s.p90Ms = rank(0.90);
  s.p99Ms = rank(0.99);
  s.p999Ms = rank(0.999);
  s.maxMs = static_cast<double>(samples.back()) / kNsPerMs;
  return s;
}

// One result as a single JSON line, keys in insertion order.
class JsonLine {
 public:
  JsonLine& add(std::string_view key, std::string_view value) {
    start(key);
    out_ += '"';
    for (char c : value) {
      if (c == '"' || c == '\\') out_ += '\\';
      if (static_cast<unsigned char>(c) >= 0x20) out_ += c;
    }
    out_ += '"';
    return *this;
  }
  JsonLine& add(std::string_view key, const char* value) {
    return add(key, std::string_view(value));
  }
  JsonLine& add(std::string_view key, bool value) {
    start(key);
    out_ += value ? "true" : "false";
    return *this;
  }
  JsonLine& add(std::string_view key, int64_t value) {
    start(key);
    out_ += std::to_string(value);
    return *this;
  }
  JsonLine& add(std::string_view key, double value) {
    start(key);
    if (!std::isfinite(value)) {
      out_ += "null";
    } else {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.6g", value);
      out_ += buf;
    }
    return *this;
  }
  // `raw` must already be JSON (an array, for instance).
  JsonLine& addRaw(std::string_view key, std::string_view raw) {
    start(key);
    out_ += raw;
    return *this;
  }
  JsonLine& addNull(std::string_view key) {
    start(key);
    out_ += "null";
    return *this;
  }
  JsonLine& addLatency(std::string_view prefix, const LatencySummary& s) {
    const std::string p(prefix);
    add(p + "_samples", static_cast<int64_t>(s.count));
    add(p + "_mean_ms", s.meanMs);
    add(p + "_p50_ms", s.p50Ms);
    add(p + "_p90_ms", s.p90Ms);
    add(p + "_p99_ms", s.p99Ms);
    add(p + "_p999_ms", s.p999Ms);
    add(p + "_max_ms", s.maxMs);
    return *this;
  }
  std::string str() const { return out_ + "}"; }

 private:
  void start(std::string_view key) {
    out_ += out_.empty() ? "{" : ",";
    out_ += '"';
    out_ += key;
    out_ += "\":";
  }
  std::string out_;
};

}  // namespace brigade::bench
