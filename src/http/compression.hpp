#pragma once

// Compressed answers (RFC 9110 section 8.4, 12.5.3): which coding a client accepts, and the
// codings themselves (zlib's gzip and Google's brotli, from Debian). Static files are
// compressed once when indexed, at the best ratio; other answers (JSON, long-polling) with
// gzip at a fast level as they go out, when they are large enough to gain.

#include <optional>
#include <string>
#include <string_view>

namespace brigade::http {

enum class Coding { kIdentity, kGzip, kBrotli };

// Answers smaller than this are sent as they are: the headers would eat the gain.
inline constexpr size_t kMinCompressBytes = 1024;
inline constexpr int kDynamicGzipLevel = 4;  // on the event loop: fast
inline constexpr int kStaticGzipLevel = 9;   // once, at start-up
inline constexpr int kStaticBrotliQuality = 11;

// The coding to answer with, from an Accept-Encoding header: brotli when `brotli` is allowed
// and accepted, else gzip when accepted, else identity. q=0 refuses a coding; "*" stands
// for any not named.
Coding preferredCoding(std::string_view acceptEncoding, bool brotli = true);
std::string_view codingName(Coding coding);  // "br", "gzip", "identity"

// Whether a content type is worth compressing (text, JSON, JavaScript, SVG, ...).
bool compressible(std::string_view contentType);

// The body coded; nullopt when the library failed.
std::optional<std::string> gzipCompress(std::string_view body, int level);
std::optional<std::string> brotliCompress(std::string_view body, int quality);

}  // namespace brigade::http
