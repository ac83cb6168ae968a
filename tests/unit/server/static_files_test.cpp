#include "server/static_files.hpp"

#include "http/compression.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace brigade::server {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string header(const http::Response& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return {};
}

http::Request request(std::string method, std::string path) {
  http::Request r;
  r.method = std::move(method);
  r.target = path;
  r.path = std::move(path);
  return r;
}

// A built web directory, with things around and inside it that must never be served:
// a secret next to it, links pointing out of it, a FIFO, a file over the cap.
class StaticFilesTest : public ::testing::Test {
 protected:
  static constexpr uintmax_t kTestMaxFile = 1000;

  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "brigade-static-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    tmp_ = tmpl;
    web_ = tmp_ / "web";
    write(web_ / "index.html", "<h1>customer</h1>");
    write(web_ / "admin" / "index.html", "<h1>admin</h1>");
    write(web_ / "rider" / "index.html", "<h1>rider</h1>");
    write(web_ / "assets" / "x.js", "console.log('x')");
    write(web_ / "assets" / "style.css", "body{}");
    write(web_ / "icons" / "logo.svg", "<svg/>");
    write(web_ / "big.bin", std::string(kTestMaxFile + 1, 'b'));
    write(web_ / "exact.bin", std::string(kTestMaxFile, 'e'));
    write(tmp_ / "secret.txt", "SECRET");
    fs::create_directories(tmp_ / "outside");
    write(tmp_ / "outside" / "passwd", "root:x:0:0");
    fs::create_symlink("/etc/passwd", web_ / "evil");
    fs::create_symlink(tmp_ / "secret.txt", web_ / "secret.txt");
    fs::create_symlink(tmp_ / "outside", web_ / "evildir");
    fs::create_symlink("../index.html", web_ / "assets" / "inner.js");  // even inside: not followed
    ASSERT_EQ(mkfifo((web_ / "pipe").c_str(), 0600), 0);
  }
  void TearDown() override { fs::remove_all(tmp_); }

  StaticFiles index() const { return StaticFiles::index(web_.string(), {kTestMaxFile, 1 << 20}); }

  fs::path tmp_;
  fs::path web_;
};

TEST_F(StaticFilesTest, IndexesOnlyRegularFilesWithinTheCaps) {
  auto files = index();
  EXPECT_TRUE(files.built());
  // index.html, admin/index.html, rider/index.html, assets/x.js, assets/style.css,
  // icons/logo.svg, exact.bin: not big.bin, the links or the FIFO.
  EXPECT_EQ(files.fileCount(), 7u);
  EXPECT_EQ(files.totalBytes(), 17u + 14u + 14u + 16u + 6u + 6u + kTestMaxFile);
  ASSERT_NE(files.find("/exact.bin"), nullptr);
  EXPECT_EQ(files.find("/big.bin"), nullptr);
}

TEST_F(StaticFilesTest, FindsFilesAndDirectoryPages) {
  auto files = index();
  auto bodyOf = [&](std::string_view path) -> std::string {
    const StaticFile* file = files.find(path);
    return file ? file->body : "<missing>";
  };
  EXPECT_EQ(bodyOf("/"), "<h1>customer</h1>");
  EXPECT_EQ(bodyOf("/index.html"), "<h1>customer</h1>");
  EXPECT_EQ(bodyOf("/admin"), "<h1>admin</h1>");
  EXPECT_EQ(bodyOf("/admin/"), "<h1>admin</h1>");
  EXPECT_EQ(bodyOf("/admin/index.html"), "<h1>admin</h1>");
  EXPECT_EQ(bodyOf("/rider"), "<h1>rider</h1>");
  EXPECT_EQ(bodyOf("/rider/"), "<h1>rider</h1>");
  EXPECT_EQ(bodyOf("/assets/x.js"), "console.log('x')");
  EXPECT_EQ(bodyOf("/icons/logo.svg"), "<svg/>");
  EXPECT_EQ(files.find("/admin/index.html")->relativePath, "admin/index.html");
}

TEST_F(StaticFilesTest, EveryOtherSpellingMisses) {
  auto files = index();
  const std::string misses[] = {
      "",
      "index.html",
      "//etc/passwd",
      "/etc/passwd",
      "//index.html",
      "///",
      "//",
      "/./index.html",
      "/admin/../index.html",
      "/admin/./index.html",
      "/admin//",
      "/admin//index.html",
      "/../secret.txt",
      "/../web/index.html",
      "/..",
      "/.",
      "/%2findex.html",
      "/%2e%2e/secret.txt",
      "/index.html%00.png",
      std::string("/index.html\0.png", 16),
      std::string("/\0", 2),
      "/index.html/",
      "/index.html/.",
      "\\index.html",
      "/admin\\index.html",
      "/..\\..\\etc\\passwd",
      "/ADMIN",
      "/Index.html",
      "/index.html ",
      "/assets",
      "/assets/",
      "/icons",
      "/icons/",
      "/evil",
      "/secret.txt",
      "/evildir",
      "/evildir/",
      "/evildir/passwd",
      "/assets/inner.js",
      "/pipe",
      "/big.bin",
      "/proc/self/environ",
      "//proc/kmsg",
      (tmp_ / "secret.txt").string(),
      "/" + (tmp_ / "secret.txt").string(),
      (web_ / "index.html").string(),
      "/" + (web_ / "index.html").string(),
  };
  for (const auto& path : misses) {
    EXPECT_EQ(files.find(path), nullptr) << "path: " << path;
    auto response = files.answer(request("GET", path));
    EXPECT_EQ(response.status, 404) << "path: " << path;
    EXPECT_EQ(response.body, "not found");
  }
}

TEST_F(StaticFilesTest, ExamplesAreServedOnlyWhenAskedFor) {
  write(web_ / "examples" / "tutorial" / "index.html", "<h1>tutorial</h1>");
  write(web_ / "examples.html", "<h1>not in the examples directory</h1>");
  auto plain = index();
  EXPECT_EQ(plain.find("/examples/tutorial/"), nullptr);
  EXPECT_EQ(plain.find("/examples/tutorial/index.html"), nullptr);
  EXPECT_EQ(plain.answer(request("GET", "/examples/tutorial/")).status, 404);
  EXPECT_NE(plain.find("/examples.html"), nullptr);
  auto served = StaticFiles::index(web_.string(), {kTestMaxFile, 1 << 20}, Examples::kServed);
  ASSERT_NE(served.find("/examples/tutorial/"), nullptr);
  EXPECT_EQ(served.find("/examples/tutorial/")->body, "<h1>tutorial</h1>");
  EXPECT_EQ(served.fileCount(), plain.fileCount() + 1);
}

TEST_F(StaticFilesTest, BuildCodingsAreServedToClientsThatTakeThem) {
  std::string js;
  for (int i = 0; i < 40; ++i) js += "console.log('line " + std::to_string(i) + "');\n";
  write(web_ / "assets" / "big.js", js);
  write(web_ / "assets" / "big.js.gz", *http::gzipCompress(js, 9));
  write(web_ / "assets" / "big.js.br", *http::brotliCompress(js, 11));
  write(web_ / "assets" / "lonely.txt.gz", "a gzip file of its own");  // no lonely.txt
  auto files = StaticFiles::index(web_.string(), {1 << 20, 1 << 20});
  EXPECT_EQ(files.find("/assets/big.js.gz"), nullptr) << "a coding is not a file of its own";
  EXPECT_NE(files.find("/assets/lonely.txt.gz"), nullptr);
  auto get = [&](std::string accept, std::string ifNoneMatch = "") {
    auto r = request("GET", "/assets/big.js");
    if (!accept.empty()) r.headers.emplace_back("accept-encoding", accept);
    if (!ifNoneMatch.empty()) r.headers.emplace_back("if-none-match", ifNoneMatch);
    return files.answer(r);
  };
  auto br = get("gzip, deflate, br");
  EXPECT_EQ(header(br, "Content-Encoding"), "br");
  EXPECT_EQ(br.body, *http::brotliCompress(js, 11));
  EXPECT_EQ(header(br, "Vary"), "Accept-Encoding");
  auto gz = get("gzip");
  EXPECT_EQ(header(gz, "Content-Encoding"), "gzip");
  EXPECT_EQ(gz.body.size(), files.find("/assets/big.js")->gzip.size());
  auto plain = get("");
  EXPECT_EQ(header(plain, "Content-Encoding"), "");
  EXPECT_EQ(plain.body, js);
  EXPECT_EQ(header(plain, "Vary"), "Accept-Encoding");
  // Each coding has its own ETag, and a 304 answers only its own.
  EXPECT_NE(header(br, "ETag"), header(plain, "ETag"));
  EXPECT_NE(header(br, "ETag"), header(gz, "ETag"));
  EXPECT_EQ(get("br", header(br, "ETag")).status, 304);
  EXPECT_EQ(get("", header(br, "ETag")).status, 200);
  auto small = request("GET", "/assets/x.js");  // no codings built: as it is
  small.headers.emplace_back("accept-encoding", "br");
  EXPECT_EQ(header(files.answer(small), "Content-Encoding"), "");
}

TEST_F(StaticFilesTest, FilesAddedAfterIndexingAreNotServed) {
  auto files = index();
  write(web_ / "later.html", "later");
  write(web_ / "admin" / "later.js", "later");
  EXPECT_EQ(files.find("/later.html"), nullptr);
  EXPECT_EQ(files.find("/admin/later.js"), nullptr);
  // And changes to indexed files do not show either: the bytes are in memory.
  write(web_ / "index.html", "changed");
  EXPECT_EQ(files.find("/")->body, "<h1>customer</h1>");
}

TEST_F(StaticFilesTest, ContentTypesAndCacheHeaders) {
  auto files = index();
  auto js = files.answer(request("GET", "/assets/x.js"));
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log('x')");
  EXPECT_EQ(js.contentType, "application/javascript; charset=utf-8");
  EXPECT_EQ(header(js, "Cache-Control"), "public, max-age=31536000, immutable");

  auto css = files.answer(request("GET", "/assets/style.css"));
  EXPECT_EQ(css.contentType, "text/css; charset=utf-8");
  EXPECT_EQ(header(css, "Cache-Control"), "public, max-age=31536000, immutable");

  for (const char* page : {"/", "/admin", "/admin/", "/rider/", "/index.html"}) {
    auto html = files.answer(request("GET", page));
    EXPECT_EQ(html.status, 200) << page;
    EXPECT_EQ(html.contentType, "text/html; charset=utf-8") << page;
    EXPECT_EQ(header(html, "Cache-Control"), "no-cache") << page;
  }
  auto svg = files.answer(request("GET", "/icons/logo.svg"));
  EXPECT_EQ(svg.contentType, "image/svg+xml");
  EXPECT_EQ(header(svg, "Cache-Control"), "no-cache");  // not under assets/
  EXPECT_EQ(files.answer(request("GET", "/exact.bin")).contentType, "application/octet-stream");
}

TEST_F(StaticFilesTest, HeadAnnouncesTheLengthWithoutABody) {
  auto files = index();
  auto head = files.answer(request("HEAD", "/admin/"));
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.contentType, "text/html; charset=utf-8");
  std::string bytes = http::serialize(head, true);
  EXPECT_NE(bytes.find("\r\nContent-Length: 14\r\n"), std::string::npos) << bytes;
  EXPECT_TRUE(bytes.ends_with("\r\n\r\n")) << bytes;
  // A miss too: the 404's text must not follow the head on a kept-alive connection.
  auto miss = files.answer(request("HEAD", "//etc/passwd"));
  EXPECT_EQ(miss.status, 404);
  EXPECT_TRUE(miss.body.empty());
  EXPECT_EQ(miss.contentLength, std::string_view("not found").size());
  EXPECT_TRUE(http::serialize(miss, true).ends_with("\r\n\r\n"));
}

TEST_F(StaticFilesTest, OtherMethodsAre405WithAllow) {
  auto files = index();
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get"}) {
    auto response = files.answer(request(method, "/"));
    EXPECT_EQ(response.status, 405) << method;
    EXPECT_EQ(header(response, "Allow"), "GET, HEAD") << method;
  }
}

TEST_F(StaticFilesTest, ETagAndIfNoneMatch) {
  auto files = index();
  auto first = files.answer(request("GET", "/assets/x.js"));
  std::string etag = header(first, "ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(etag.front(), '"');
  EXPECT_EQ(etag.back(), '"');
  EXPECT_NE(etag, header(files.answer(request("GET", "/")), "ETag"));

  for (std::string condition : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    auto conditional = request("GET", "/assets/x.js");
    conditional.headers.emplace_back("if-none-match", condition);
    auto response = files.answer(conditional);
    EXPECT_EQ(response.status, 304) << condition;
    EXPECT_TRUE(response.body.empty());
    EXPECT_EQ(header(response, "ETag"), etag);
    // A 304 may only announce the length the 200 would have had.
    EXPECT_NE(http::serialize(response, true).find("Content-Length: 16\r\n"), std::string::npos);
  }
  auto stale = request("GET", "/assets/x.js");
  stale.headers.emplace_back("if-none-match", "\"0-0000000000000000\"");
  EXPECT_EQ(files.answer(stale).status, 200);
}

TEST_F(StaticFilesTest, TotalCapLeavesOutWhatDoesNotFit) {
  // Sorted order: admin/index.html (14), assets/style.css (6), assets/x.js (16), ...
  auto files = StaticFiles::index(web_.string(), {kTestMaxFile, 30});
  EXPECT_LE(files.totalBytes(), 30u);
  EXPECT_NE(files.find("/admin/"), nullptr);
  EXPECT_NE(files.find("/assets/style.css"), nullptr);
  EXPECT_EQ(files.find("/assets/x.js"), nullptr);
  EXPECT_EQ(files.find("/exact.bin"), nullptr);
}

TEST(StaticFilesNotBuilt, AnswersThePlaceholderPage) {
  auto files = StaticFiles::index("");
  EXPECT_FALSE(files.built());
  EXPECT_EQ(files.fileCount(), 0u);
  auto page = files.answer(request("GET", "/"));
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("not built"), std::string::npos);
  auto head = files.answer(request("HEAD", "/"));
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.contentLength, page.body.size());
  EXPECT_EQ(files.answer(request("POST", "/")).status, 405);
}

TEST(StaticFilesNotBuilt, MissingDirectoryServesNothing) {
  auto files = StaticFiles::index("/nonexistent/brigade-web");
  EXPECT_EQ(files.fileCount(), 0u);
  EXPECT_EQ(files.answer(request("GET", "/")).status, 404);
}

}  // namespace
}  // namespace brigade::server
