#include "server/static_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>
#include <vector>

#include "core/log.hpp"
#include "http/compression.hpp"

namespace brigade::server {

namespace fs = std::filesystem;

namespace {

std::string contentType(const fs::path& path) {
  std::string ext = path.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "application/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".mp3") return "audio/mpeg";
  if (ext == ".wav") return "audio/wav";
  if (ext == ".webmanifest") return "application/manifest+json";
  return "application/octet-stream";
}

// Vite names everything under assets/ after a hash of its content, so those never
// change under their name; the pages that reference them must be revalidated.
constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
constexpr std::string_view kRevalidate = "no-cache";

// FNV-1a, 64 bits: the ETag only tells versions of one file apart (with the size).
uint64_t fnv1a(std::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string etagOf(std::string_view bytes) {
  char tag[48];
  std::snprintf(tag, sizeof tag, "\"%zx-%016llx\"", bytes.size(),
                static_cast<unsigned long long>(fnv1a(bytes)));
  return tag;
}

enum class ReadError { kUnreadable, kTooLarge };

// Reads a regular file of at most `cap` bytes. O_NOFOLLOW and the fstat on the open
// descriptor make sure that what is read is the regular file that was listed, even
// if it was swapped for a symlink or a FIFO in between (O_NONBLOCK: a FIFO would
// otherwise block the open).
std::optional<std::string> readCapped(const fs::path& path, uintmax_t cap, ReadError& error) {
  error = ReadError::kUnreadable;
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  std::optional<std::string> bytes;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    if (static_cast<uintmax_t>(st.st_size) > cap) {
      error = ReadError::kTooLarge;
    } else {
      // The size may change while reading: never read more than cap + 1 bytes.
      std::string data;
      char chunk[64 * 1024];
      bool ok = true;
      while (data.size() <= cap) {
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) ok = false;
        if (n <= 0) break;
        data.append(chunk, static_cast<size_t>(n));
      }
      if (ok && data.size() > cap) error = ReadError::kTooLarge;
      if (ok && data.size() <= cap) bytes = std::move(data);
    }
  }
  ::close(fd);
  return bytes;
}

}  // namespace

StaticFiles StaticFiles::index(const std::string& webDir, StaticLimits limits, Examples examples) {
  StaticFiles files;
  if (webDir.empty()) {
    spdlog::info("panels not built: the web paths answer a page saying so");
    return files;
  }
  files.built_ = true;
  // The configured directory itself may be a link (an operator's choice); nothing
  // below it is followed.
  std::error_code ec;
  fs::path root = fs::canonical(webDir, ec);
  if (ec) {
    spdlog::warn("panels: cannot open {}: {}", webDir, ec.message());
    return files;
  }

  auto shown = [&root](const fs::path& path) {
    return path.lexically_relative(root).generic_string();
  };
  std::vector<fs::path> regular;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code statusError;
    fs::file_status status = it->symlink_status(statusError);
    if (statusError) {
      spdlog::warn("panels: skipped {}: {}", shown(it->path()), statusError.message());
    } else if (fs::is_symlink(status)) {
      it.disable_recursion_pending();  // the iterator does not follow links; be explicit
      spdlog::warn("panels: skipped {}: symbolic links are not followed", shown(it->path()));
    } else if (fs::is_regular_file(status)) {
      regular.push_back(it->path());
    } else if (!fs::is_directory(status)) {
      spdlog::warn("panels: skipped {}: not a regular file", shown(it->path()));
    }
  }
  if (ec) spdlog::warn("panels: listing {} stopped: {}", root.string(), ec.message());
  // Sorted, so which files the total cap leaves out does not depend on listing order.
  std::sort(regular.begin(), regular.end());

  const std::set<fs::path> present(regular.begin(), regular.end());
  for (const auto& path : regular) {
    std::string relative = shown(path);
    if (examples == Examples::kLeftOut && relative.starts_with(kExamplesDir)) continue;
    // A coding of another file: attached to it below.
    const std::string name = path.filename().string();
    if ((name.ends_with(kGzipSuffix) || name.ends_with(kBrotliSuffix)) &&
        present.count(path.parent_path() / path.stem())) {
      continue;
    }
    ReadError error;
    auto bytes = readCapped(path, limits.maxFile, error);
    if (!bytes) {
      if (error == ReadError::kTooLarge) {
        spdlog::warn("panels: skipped {}: larger than {} bytes", relative, limits.maxFile);
      } else {
        spdlog::warn("panels: skipped {}: cannot read it", relative);
      }
      continue;
    }
    if (files.totalBytes_ + bytes->size() > limits.maxTotal) {
      spdlog::warn("panels: skipped {}: the panels would exceed {} bytes in all", relative,
                   limits.maxTotal);
      continue;
    }
    auto file = std::make_shared<StaticFile>();
    file->relativePath = relative;
    file->contentType = contentType(path);
    file->cacheControl = relative.starts_with("assets/") ? kImmutable : kRevalidate;
    file->etag = etagOf(*bytes);
    file->body = std::move(*bytes);
    // The build's codings, when present, readable and smaller.
    auto coding = [&](std::string_view suffix, std::string& out) {
      fs::path sibling = path;
      sibling += std::string(suffix);
      if (!present.count(sibling)) return;
      ReadError codingError;
      auto coded = readCapped(sibling, limits.maxFile, codingError);
      if (coded && coded->size() < file->body.size() &&
          files.totalBytes_ + file->body.size() + coded->size() <= limits.maxTotal) {
        out = std::move(*coded);
        files.totalBytes_ += out.size();
      }
    };
    coding(kGzipSuffix, file->gzip);
    coding(kBrotliSuffix, file->brotli);
    files.totalBytes_ += file->body.size();
    ++files.fileCount_;

    std::shared_ptr<const StaticFile> shared = std::move(file);
    files.routes_.emplace("/" + relative, shared);
    if (path.filename() == "index.html") {
      // "/", "/admin/" and "/admin" all open a directory's page.
      std::string dir = relative.substr(0, relative.size() - std::string_view("index.html").size());
      files.routes_.emplace("/" + dir, shared);
      if (!dir.empty()) files.routes_.emplace("/" + dir.substr(0, dir.size() - 1), shared);
    }
  }
  spdlog::info("panels: {} files, {} bytes indexed from {}", files.fileCount_, files.totalBytes_,
               root.string());
  return files;
}

const StaticFile* StaticFiles::find(std::string_view path) const {
  auto found = routes_.find(path);
  return found == routes_.end() ? nullptr : found->second.get();
}

http::Response StaticFiles::answer(const http::Request& request) const {
  if (request.method != "GET" && request.method != "HEAD") {
    auto response = http::Response::text(405, "method not allowed");
    response.set("Allow", "GET, HEAD");
    return response;
  }
  http::Response response = answerGet(request);
  // Whatever the status, an answer to HEAD has no body (the next answer on the
  // connection would start inside it) but announces the length a GET gets.
  if (request.method == "HEAD" && !response.contentLength) {
    response.contentLength = response.body.size();
    response.body.clear();
  }
  return response;
}

http::Response StaticFiles::answerGet(const http::Request& request) const {
  http::Response response;
  if (!built_) {
    response.contentType = "text/html; charset=utf-8";
    response.body =
        "<!doctype html><title>Brigade</title><h1>Brigade is running</h1>"
        "<p>The panels are not built in this checkout. The REST API is under "
        "<code>/api</code>, the real-time channel at <code>/socket.io/</code>.</p>";
    return response;
  }
  const StaticFile* file = find(request.path);
  if (!file) return http::Response::text(404, "not found");
  response.contentType = file->contentType;
  response.set("Cache-Control", file->cacheControl);
  // The coding the client takes best among those the build made.
  http::Coding coding = http::preferredCoding(request.header("accept-encoding"), true);
  if (coding == http::Coding::kBrotli && file->brotli.empty()) {
    coding = http::preferredCoding(request.header("accept-encoding"), false);
  }
  if (coding == http::Coding::kGzip && file->gzip.empty()) coding = http::Coding::kIdentity;
  const std::string* body = &file->body;
  std::string etag = file->etag;
  if (coding != http::Coding::kIdentity) {
    body = coding == http::Coding::kBrotli ? &file->brotli : &file->gzip;
    etag.insert(etag.size() - 1, "-" + std::string(http::codingName(coding)));
    response.set("Content-Encoding", std::string(http::codingName(coding)));
  }
  if (!file->gzip.empty() || !file->brotli.empty()) response.set("Vary", "Accept-Encoding");
  response.set("ETag", etag);
  // Weak comparison (RFC 9110 13.1.2): the quoted tag anywhere in the list, or "*".
  std::string_view ifNoneMatch = request.header("if-none-match");
  if (ifNoneMatch == "*" || ifNoneMatch.find(etag) != std::string_view::npos) {
    response.status = 304;
    response.contentLength = body->size();
    return response;
  }
  // One copy per GET: the HTTP layer sends a Response's own string.
  response.body = *body;
  return response;
}

void StaticFiles::mount(http::Router& router) const {
  http::Route route;
  route.handle = [files = *this](http::Request&& request, const http::ResponderPtr& responder) {
    responder->send(files.answer(request));
  };
  router.add("/", std::move(route));
}

std::string findWebDir(const std::string& configured, const char* argv0) {
  if (!configured.empty()) return fs::is_directory(configured) ? configured : std::string();
  std::error_code ec;
  fs::path exe = fs::canonical(fs::path(argv0), ec);
  for (fs::path dir = exe.parent_path(); !ec && !dir.empty() && dir != dir.root_path();
       dir = dir.parent_path()) {
    if (fs::is_directory(dir / "web" / "dist")) return (dir / "web" / "dist").string();
  }
  if (fs::is_directory("web/dist")) return "web/dist";
  return {};
}

}  // namespace brigade::server
