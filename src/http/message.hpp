#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace brigade::http {

// Limits on untrusted requests.
inline constexpr size_t kMaxHeaderBytes = 16 * 1024;  // request line + headers (431 above)
inline constexpr size_t kDefaultMaxBody = 1 << 20;    // 413 above

using Headers = std::vector<std::pair<std::string, std::string>>;

// A parsed request, independent of the parser library. Header names are lower case.
struct Request {
  std::string method;
  std::string target;  // as sent: path and query
  std::string path;    // percent-decoded path
  std::string query;   // raw query, without '?'
  Headers headers;
  std::string body;
  bool keepAlive = true;
  // The client: the TCP peer, or the address a trusted proxy forwarded for
  // (TrustedProxies). Rate limits and caps key on this.
  std::string remoteAddress;
  std::string peerAddress;  // the TCP peer as connected
  // How the client reached us: "http", or what a trusted proxy says it accepted
  // (X-Forwarded-Proto). Same-origin checks compare it with the Origin's scheme.
  std::string scheme = "http";
  // This request's id: the one a trusted proxy sent (X-Request-Id), else a new random one.
  // Sent back in the answer's X-Request-Id and written in the logs about the request.
  std::string requestId;

  std::string_view header(std::string_view lowerName) const;
  // A decoded query parameter; nullopt when absent.
  std::optional<std::string> queryParam(std::string_view name) const;
  bool isWebSocketUpgrade() const;
};

struct Response {
  int status = 200;
  std::string contentType = "text/plain; charset=UTF-8";
  Headers headers;
  std::string body;
  // Announced instead of body.size() when set: answers to HEAD (and 304s) carry no
  // body but the Content-Length a GET would have got (RFC 9110 sections 9.3.2, 8.6).
  std::optional<size_t> contentLength;

  Response& set(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  static Response text(int status, std::string body);
  static Response json(int status, std::string body);
};

std::string_view reasonPhrase(int status);
// The bytes of a response with Content-Length (no chunking).
std::string serialize(const Response& response, bool keepAlive);

}  // namespace brigade::http
