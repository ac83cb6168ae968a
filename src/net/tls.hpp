#pragma once

// HTTPS and WSS on the same port (docs/OPERATIONS.md, "HTTPS"): OpenSSL through memory BIOs
// under the TcpConnection interface. A TLS connection wraps an accepted TCP connection: the
// bytes read are decrypted and handed to the connection's handler (HTTP, then WebSocket
// after an upgrade) exactly as a plain connection hands them; what the handler sends is
// encrypted and queued on the TCP connection, whose send queue, watermarks and slow-client
// rules apply unchanged. Nothing above the net layer knows whether a connection is TLS.

#include <memory>
#include <mutex>
#include <string>

#include "core/result.hpp"
#include "net/connection.hpp"

typedef struct ssl_ctx_st SSL_CTX;

namespace brigade::net {

// TLS 1.2 and 1.3 only, with the ciphers Mozilla's "intermediate" profile keeps (ECDHE with
// AES-GCM or ChaCha20-Poly1305); no renegotiation; ALPN http/1.1.
inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// The server's certificate and key. Thread-safe: connections take the current context when
// they are accepted; reload() replaces it for the connections that follow (open ones keep
// theirs, nothing is dropped).
class TlsContext {
 public:
  // Reads a PEM certificate chain and its private key. Error code "tls" with OpenSSL's
  // reason when they cannot be read or do not match.
  static Result<std::shared_ptr<TlsContext>> load(std::string certFile, std::string keyFile);

  // Reads the same files again (a renewed certificate). On failure the current
  // certificate stays in use and the error says why.
  Result<void> reload();

  // The context new connections use (it stays valid while they hold it).
  std::shared_ptr<SSL_CTX> current() const;

 private:
  TlsContext(std::string certFile, std::string keyFile, std::shared_ptr<SSL_CTX> ctx);

  const std::string certFile_;
  const std::string keyFile_;
  mutable std::mutex mutex_;
  std::shared_ptr<SSL_CTX> ctx_;
};

// The answer to a plain HTTP request sent to the TLS port, before the connection closes.
inline constexpr std::string_view kPlainHttpOnTlsPort =
    "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=UTF-8\r\n"
    "Content-Length: 43\r\nConnection: close\r\n\r\nThis port speaks HTTPS: use https:// here.\n";

// Wraps an accepted connection (before it starts reading): the returned connection speaks
// plain bytes to its handler and TLS on the wire. The TCP connection owns it.
TcpConnectionPtr wrapTls(const TcpConnectionPtr& tcp, const TlsContext& context);

}  // namespace brigade::net
