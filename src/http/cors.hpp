#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace brigade::http {

// One CORS policy for the REST API, long-polling and WebSocket upgrades alike.
struct CorsPolicy {
  // Origins allowed ("*" = any). Empty: same origin only.
  std::vector<std::string> origins;
  bool credentials = false;
  std::string allowHeaders = "Authorization, Content-Type, Idempotency-Key";
  std::string allowMethods = "GET, HEAD, POST, PATCH, DELETE, OPTIONS";
  std::string exposeHeaders = "Retry-After";

  // Whether a browser at the request's Origin may use the server: a listed origin,
  // or the server's own origin as the request reached it (scheme, host and port).
  bool allows(const Request& request) const;
  // Adds the CORS answer headers when the request's Origin is allowed, and
  // `Vary: Origin` always: the answer depends on the Origin (caches must not mix).
  void apply(const Request& request, Response& response) const;
  // The answer to an OPTIONS preflight (204; no CORS headers for a foreign origin).
  Response preflight(const Request& request) const;
};

// RFC 6454 origin comparison: `origin` ("scheme://host[:port]") against a server
// reached over `scheme` with the Host header `host`; default ports (80, 443) made
// explicit, scheme and host compared without case.
bool sameOrigin(std::string_view origin, std::string_view scheme, std::string_view host);

}  // namespace brigade::http
