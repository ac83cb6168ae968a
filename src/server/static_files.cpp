#include "server/static_files.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

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

// Files larger than this are not served from the panels' directory.
constexpr uintmax_t kMaxStaticFile = 16 << 20;

}  // namespace

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

void mountStaticFiles(http::Router& router, const std::string& webDir) {
  http::Route route;
  route.handle = [webDir](http::Request&& request, const http::ResponderPtr& responder) {
    if (request.method != "GET" && request.method != "HEAD") {
      return responder->send(http::Response::text(405, "method not allowed"));
    }
    if (webDir.empty()) {
      http::Response page;
      page.contentType = "text/html; charset=utf-8";
      page.body =
          "<!doctype html><title>Brigade</title><h1>Brigade is running</h1>"
          "<p>The panels are not built in this checkout. The REST API is under "
          "<code>/api</code>, the real-time channel at <code>/socket.io/</code>.</p>";
      return responder->send(std::move(page));
    }
    std::string path = request.path;
    if (path.find("..") != std::string::npos || path.find('\0') != std::string::npos) {
      return responder->send(http::Response::text(404, "not found"));
    }
    fs::path base(webDir);
    fs::path file = base / path.substr(1);
    std::error_code ec;
    if (fs::is_directory(file, ec)) file /= "index.html";
    if (!fs::is_regular_file(file, ec)) {
      // Panel routes without a file: the panel's own index (client-side routing).
      std::string panel = path.starts_with("/admin")   ? "admin/index.html"
                          : path.starts_with("/rider") ? "rider/index.html"
                                                       : "index.html";
      if (fs::path(path).has_extension()) {
        return responder->send(http::Response::text(404, "not found"));
      }
      file = base / panel;
    }
    if (!fs::is_regular_file(file, ec) || fs::file_size(file, ec) > kMaxStaticFile) {
      return responder->send(http::Response::text(404, "not found"));
    }
    std::ifstream in(file, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    http::Response response;
    response.contentType = contentType(file);
    if (request.method == "GET") response.body = bytes.str();
    bool hashed = file.string().find("/assets/") != std::string::npos;
    response.set("Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
    responder->send(std::move(response));
  };
  router.add("/", std::move(route));
}

}  // namespace brigade::server
