#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "http/server.hpp"

namespace brigade::server {

// Limits on what the panels' directory may hold in memory: a file over
// kMaxStaticFile, or one that would take the index over kMaxStaticTotal, is left
// out (with a warning). The built panels are well under both.
inline constexpr uintmax_t kMaxStaticFile = 16 << 20;
inline constexpr uintmax_t kMaxStaticTotal = 64 << 20;

struct StaticLimits {
  uintmax_t maxFile = kMaxStaticFile;
  uintmax_t maxTotal = kMaxStaticTotal;
};

// The example clients (examples/, built into <web>/examples/) are served only when the
// operator asks (--examples): they are teaching pages, not part of the product.
inline constexpr std::string_view kExamplesDir = "examples/";
enum class Examples { kLeftOut, kServed };

// A file's precompressed siblings end in these; they are served as codings of the file
// (Content-Encoding), not as files of their own.
inline constexpr std::string_view kGzipSuffix = ".gz";
inline constexpr std::string_view kBrotliSuffix = ".br";

// One indexed file with its answer's pieces, built once at start-up.
struct StaticFile {
  std::string relativePath;  // "admin/index.html", '/'-separated
  std::string contentType;
  std::string cacheControl;
  std::string etag;  // quoted
  std::string body;
  // The same bytes coded at build time (F.gz and F.br beside F, scripts/build-web.sh), when
  // they are smaller; empty otherwise. Their ETags add "-gzip" / "-br" inside the quotes.
  std::string gzip;
  std::string brotli;
};

// The built panels, served from memory. index() reads every regular file under the
// web directory once, before the loops start; a request path is then only looked up
// in a map, never joined onto a directory, so no spelling of a path (encoded
// slashes, "..", NUL, backslashes) can reach a file outside the index, and no
// request touches the disk from an event loop. Symlinks are never followed, so a
// link planted in the web directory cannot point the index elsewhere.
// Copies are cheap and share the files; a StaticFiles is immutable once built, so
// every loop can read it without locks.
class StaticFiles {
 public:
  // An empty `webDir` means the panels are not built: mount() then serves a page
  // saying so. Files that cannot be read or exceed the limits are skipped.
  static StaticFiles index(const std::string& webDir, StaticLimits limits = {},
                           Examples examples = Examples::kLeftOut);

  // The file answering a (percent-decoded) request path: "/" + an indexed file's
  // path, or "/dir/" and "/dir" for a directory holding an index.html (so "/" is
  // index.html and "/admin" is admin/index.html). The panels route with
  // location.hash, so there is no other fallback. nullptr when absent.
  const StaticFile* find(std::string_view path) const;
  // The answer to one request: GET and HEAD from the index (304 when If-None-Match
  // names the file's ETag), 404 for a path outside it, 405 for other methods.
  http::Response answer(const http::Request& request) const;
  // Serves answer() as the router's fallback ("/": every path no other route takes).
  void mount(http::Router& router) const;

  bool built() const { return built_; }
  size_t fileCount() const { return fileCount_; }
  uintmax_t totalBytes() const { return totalBytes_; }

 private:
  http::Response answerGet(const http::Request& request) const;

  bool built_ = false;
  size_t fileCount_ = 0;
  uintmax_t totalBytes_ = 0;
  std::map<std::string, std::shared_ptr<const StaticFile>, std::less<>> routes_;
};

// The built panels' directory: `configured` if set, else web/dist next to the
// source tree of the executable, else ./web/dist. Empty when none exists.
std::string findWebDir(const std::string& configured, const char* argv0);

}  // namespace brigade::server
