// HTTPS through net/tls.cpp on a real loopback socket, with OpenSSL as the client: the
// handshake, a request and its answer (a large one, many records), keep-alive, the peer's
// close_notify, plain HTTP on the TLS port, and a certificate reloaded for new connections.
// Under ASan and TSan in CI (.ci/run), like every unit test.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "http/server.hpp"
#include "net/loop.hpp"
#include "net/tls.hpp"

namespace brigade {
namespace {

namespace fs = std::filesystem;

// A throwaway self-signed certificate for common name `cn` and its key, written into `dir`
// (the common name tells two certificates apart).
std::string writeCertificate(const fs::path& dir, const std::string& cn) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert),
                   static_cast<long>(std::hash<std::string>{}(cn)&0x7fffffff));
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  X509_sign(cert, key, EVP_sha256());
  FILE* c = std::fopen((dir / "cert.pem").c_str(), "w");
  PEM_write_X509(c, cert);
  std::fclose(c);
  FILE* k = std::fopen((dir / "key.pem").c_str(), "w");
  PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(k);
  X509_free(cert);
  EVP_PKEY_free(key);
  return cn;
}

int connectTo(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// A blocking TLS client on one connection.
struct Client {
  explicit Client(uint16_t port) : ctx(SSL_CTX_new(TLS_client_method())) {
    fd = connectTo(port);
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    ok = SSL_connect(ssl) == 1;
  }
  ~Client() {
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ::close(fd);
  }
  std::string peerName() const {
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (!cert) return {};
    char name[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof name);
    X509_free(cert);
    return name;
  }
  // Sends a request and reads one answer (Content-Length framed).
  std::string exchange(const std::string& request) {
    SSL_write(ssl, request.data(), static_cast<int>(request.size()));
    std::string got;
    char buf[16384];
    for (;;) {
      const auto end = got.find("\r\n\r\n");
      if (end != std::string::npos) {
        const auto at = got.find("Content-Length: ");
        const size_t length = at == std::string::npos ? 0 : std::stoul(got.substr(at + 16));
        if (got.size() >= end + 4 + length) return got;
      }
      const int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) return got;
      got.append(buf, static_cast<size_t>(n));
    }
  }
  SSL_CTX* ctx;
  SSL* ssl = nullptr;
  int fd = -1;
  bool ok = false;
};

class TlsServer : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);  // a client writing to a connection the server closed
    dir_ = fs::temp_directory_path() / ("brigade-tls-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    writeCertificate(dir_, "first");
    auto tls = net::TlsContext::load((dir_ / "cert.pem").string(), (dir_ / "key.pem").string());
    ASSERT_TRUE(tls) << tls.error().message;
    tls_ = *tls;
    http::Route route;
    route.handle = [this](http::Request&& request, const http::ResponderPtr& responder) {
      if (request.path == "/hold") {  // never answered: what follows waits unconsumed
        held_.push_back(responder);
        return;
      }
      http::Response response;
      response.body =
          request.path == "/big" ? std::string(200000, 'x') : request.scheme + " " + request.path;
      responder->send(std::move(response));
    };
    router_.add("/", std::move(route));
    http::HttpOptions options;
    options.tls = tls_;
    server_ = std::make_unique<http::HttpServer>(loops_, router_, options);
    server_->listen("127.0.0.1", 0);
    loops_.start();
  }
  void TearDown() override {
    server_->close();
    loops_.stop();
    server_.reset();
    fs::remove_all(dir_);
  }

  fs::path dir_;
  std::shared_ptr<net::TlsContext> tls_;
  net::LoopGroup loops_{2};
  http::Router router_;
  std::unique_ptr<http::HttpServer> server_;
  std::vector<http::ResponderPtr> held_;  // touched on the loops only, after start
};

TEST_F(TlsServer, AnswersOverTlsWithKeepAliveAndLargeBodies) {
  Client c(server_->port());
  ASSERT_TRUE(c.ok);
  EXPECT_GE(SSL_version(c.ssl), TLS1_2_VERSION);
  const std::string first = c.exchange("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(first.find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(first.find("https /hello"), std::string::npos) << "the request knows it came over TLS";
  const std::string big = c.exchange("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");  // same connection
  EXPECT_NE(big.find("Content-Length: 200000"), std::string::npos);
  EXPECT_EQ(big.size() - big.find("\r\n\r\n") - 4, 200000u);
  SSL_shutdown(c.ssl);  // close_notify: the server closes its side
  char byte;
  EXPECT_LE(SSL_read(c.ssl, &byte, 1), 0);
}

TEST_F(TlsServer, PipelinedBytesPastKMaxUnconsumedCloseTheConnection) {
  Client c(server_->port());
  ASSERT_TRUE(c.ok);
  const std::string hold = "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_GT(SSL_write(c.ssl, hold.data(), static_cast<int>(hold.size())), 0);
  // Requests behind the unanswered one, past net::kMaxUnconsumed in all.
  const std::string next = "GET /next HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string burst;
  while (burst.size() < 64 * 1024) burst += next;
  size_t sent = 0;
  while (sent <= net::kMaxUnconsumed + burst.size()) {
    if (SSL_write(c.ssl, burst.data(), static_cast<int>(burst.size())) <= 0) break;  // closed
    sent += burst.size();
  }
  char byte;
  errno = 0;
  const int n = SSL_read(c.ssl, &byte, 1);
  const int error = SSL_get_error(c.ssl, n);
  const bool timedOut = error == SSL_ERROR_WANT_READ ||
                        (error == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK));
  EXPECT_LE(n, 0);
  EXPECT_FALSE(timedOut) << "the server closed the connection (it did not just stop reading)";
  ERR_clear_error();
}

TEST_F(TlsServer, PlainHttpOnTheTlsPortIsToldSo) {
  int fd = connectTo(server_->port());
  const std::string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string got;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  ::close(fd);
  EXPECT_EQ(got, std::string(net::kPlainHttpOnTlsPort));
}

TEST_F(TlsServer, OldProtocolsAreRefused) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
  SSL_CTX_set_security_level(ctx, 0);
  int fd = connectTo(server_->port());
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  EXPECT_NE(SSL_connect(ssl), 1);
  ERR_clear_error();
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
}

TEST_F(TlsServer, AReloadedCertificateServesNewConnectionsWhileOpenOnesStay) {
  Client before(server_->port());
  ASSERT_TRUE(before.ok);
  EXPECT_EQ(before.peerName(), "first");
  writeCertificate(dir_, "second");
  ASSERT_TRUE(tls_->reload());
  Client after(server_->port());
  ASSERT_TRUE(after.ok);
  EXPECT_EQ(after.peerName(), "second");
  // The connection opened before still works.
  EXPECT_NE(before.exchange("GET /still HTTP/1.1\r\nHost: x\r\n\r\n").find("https /still"),
            std::string::npos);
  // A broken file is refused and the current certificate stays.
  std::FILE* f = std::fopen((dir_ / "cert.pem").c_str(), "w");
  std::fputs("not a certificate", f);
  std::fclose(f);
  auto broken = tls_->reload();
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("cannot read the certificate"), std::string::npos);
  Client again(server_->port());
  ASSERT_TRUE(again.ok);
  EXPECT_EQ(again.peerName(), "second");
}

}  // namespace
}  // namespace brigade
