#include "http/compression.hpp"

#include <brotli/encode.h>
#include <zlib.h>

#include <cctype>
#include <cstdlib>
#include <vector>

namespace brigade::http {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// The q-value of one Accept-Encoding member ("gzip;q=0.5"): 1 without one, 0 for a bad one.
double qualityOf(std::string_view params) {
  size_t q = params.find("q=");
  if (q == std::string_view::npos) q = params.find("Q=");
  if (q == std::string_view::npos) return 1;
  std::string value(trim(params.substr(q + 2)));
  char* end = nullptr;
  double v = std::strtod(value.c_str(), &end);
  if (end == value.c_str() || v < 0 || v > 1) return 0;
  return v;
}

}  // namespace

Coding preferredCoding(std::string_view header, bool brotli) {
  double br = -1, gzip = -1, any = -1;
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view member = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    size_t semi = member.find(';');
    std::string_view name = trim(member.substr(0, semi));
    double q = semi == std::string_view::npos ? 1 : qualityOf(member.substr(semi + 1));
    if (equalsIgnoreCase(name, "br")) br = q;
    if (equalsIgnoreCase(name, "gzip") || equalsIgnoreCase(name, "x-gzip")) gzip = q;
    if (name == "*") any = q;
  }
  if (br < 0) br = any;
  if (gzip < 0) gzip = any;
  if (brotli && br > 0 && br >= gzip) return Coding::kBrotli;
  if (gzip > 0) return Coding::kGzip;
  if (brotli && br > 0) return Coding::kBrotli;
  return Coding::kIdentity;
}

std::string_view codingName(Coding coding) {
  switch (coding) {
    case Coding::kGzip:
      return "gzip";
    case Coding::kBrotli:
      return "br";
    case Coding::kIdentity:
      break;
  }
  return "identity";
}

bool compressible(std::string_view type) {
  type = type.substr(0, type.find(';'));
  return type.starts_with("text/") || type == "application/json" ||
         type == "application/javascript" || type == "application/manifest+json" ||
         type == "image/svg+xml" || type == "application/xml" || type == "application/wasm";
}

std::optional<std::string> gzipCompress(std::string_view body, int level) {
  z_stream z{};
  // windowBits 15 + 16: a gzip wrapper (RFC 1952), not zlib's.
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::nullopt;
  }
  std::string out(deflateBound(&z, static_cast<uLong>(body.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  z.avail_in = static_cast<uInt>(body.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const size_t written = out.size() - z.avail_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return std::nullopt;
  out.resize(written);
  return out;
}

std::optional<std::string> brotliCompress(std::string_view body, int quality) {
  size_t size = BrotliEncoderMaxCompressedSize(body.size());
  if (size == 0) return std::nullopt;
  std::string out(size, '\0');
  if (!BrotliEncoderCompress(quality, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, body.size(),
                             reinterpret_cast<const uint8_t*>(body.data()), &size,
                             reinterpret_cast<uint8_t*>(out.data()))) {
    return std::nullopt;
  }
  out.resize(size);
  return out;
}

}  // namespace brigade::http
