// The panels' file index against arbitrary request paths. A fixed web directory
// (with links planted to a secret next to it and to /etc/passwd) is indexed once and
// then deleted, so any answer must come from memory. Each input is tried as a
// decoded path, as a raw request target through the real request parser, and as a
// whole raw request (methods, If-None-Match); an answer that is not 404/405/304 or
// the bytes of one of the indexed files, for one of the indexed paths, aborts.

#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "core/log.hpp"
#include "http/request_parser.hpp"
#include "server/static_files.hpp"

namespace {

namespace fs = std::filesystem;
using brigade::server::StaticFiles;

constexpr std::string_view kSecret = "BRIGADE-FUZZ-SECRET";

struct Fixture {
  StaticFiles files;
  std::map<std::string, std::string, std::less<>> expected;  // request path -> body
};

void write(const fs::path& path, std::string_view bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

Fixture& fixture() {
  static Fixture* f = [] {
    spdlog::set_level(spdlog::level::off);
    std::string tmpl = (fs::temp_directory_path() / "brigade-static-fuzz-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) std::abort();
    fs::path tmp = tmpl;
    fs::path web = tmp / "web";
    const std::pair<const char*, const char*> pages[] = {
        {"index.html", "<title>customer</title>"},
        {"admin/index.html", "<title>admin</title>"},
        {"rider/index.html", "<title>rider</title>"},
        {"assets/app.js", "console.log(1)"},
        {"assets/style.css", "body{}"},
    };
    for (const auto& [path, body] : pages) write(web / path, body);
    write(tmp / "secret", kSecret);
    fs::create_symlink(tmp / "secret", web / "secret");
    fs::create_symlink(tmp, web / "evildir");
    fs::create_symlink("/etc/passwd", web / "evil");
    auto* created = new Fixture{StaticFiles::index(web.string()), {}};
    fs::remove_all(tmp);
    for (const auto& [path, body] : pages) created->expected.emplace(std::string("/") + path, body);
    const std::pair<const char*, const char*> aliases[] = {
        {"/", "/index.html"},
        {"/admin/", "/admin/index.html"},
        {"/admin", "/admin/index.html"},
        {"/rider/", "/rider/index.html"},
        {"/rider", "/rider/index.html"},
    };
    for (const auto& [alias, page] : aliases) {
      created->expected.emplace(alias, created->expected.at(page));
    }
    if (created->files.fileCount() != 5) std::abort();
    return created;
  }();
  return *f;
}

// An answer to `path` is either a miss or exactly the expected file.
void checkAnswer(const brigade::http::Request& request, const brigade::http::Response& response) {
  const Fixture& f = fixture();
  if (response.body.find(kSecret) != std::string::npos) std::abort();
  if (response.body.find("root:") != std::string::npos) std::abort();
  bool getOrHead = request.method == "GET" || request.method == "HEAD";
  if (!getOrHead) {
    if (response.status != 405) std::abort();
    return;
  }
  auto expected = f.expected.find(request.path);
  if (expected == f.expected.end()) {
    if (response.status != 404) std::abort();
    // HEAD answers never carry a body, not even a 404's text.
    if (response.body != (request.method == "HEAD" ? "" : "not found")) std::abort();
    return;
  }
  if (response.status == 304) {
    if (!response.body.empty()) std::abort();
    return;
  }
  if (response.status != 200) std::abort();
  if (request.method == "HEAD") {
    if (!response.body.empty() || response.contentLength != expected->second.size()) std::abort();
  } else if (response.body != expected->second) {
    std::abort();
  }
}

void throughParser(std::string_view bytes) {
  brigade::http::RequestParser parser;
  auto step = parser.feed(bytes);
  if (step.state != brigade::http::RequestParser::State::kDone) return;
  auto request = parser.take();
  checkAnswer(request, fixture().files.answer(request));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixture& f = fixture();
  std::string input(reinterpret_cast<const char*>(data), size);

  // 1. As a decoded path, the way the router hands it over.
  const brigade::server::StaticFile* file = f.files.find(input);
  auto expected = f.expected.find(input);
  if ((file != nullptr) != (expected != f.expected.end())) std::abort();
  if (file && file->body != expected->second) std::abort();
  brigade::http::Request request;
  request.method = "GET";
  request.path = input;
  checkAnswer(request, f.files.answer(request));

  // 2. As a raw request target, percent-decoded by the real parser.
  throughParser("GET " + input + " HTTP/1.1\r\nHost: fuzz\r\n\r\n");
  // 3. As a whole raw request (any method and headers).
  throughParser(input);
  return 0;
}
