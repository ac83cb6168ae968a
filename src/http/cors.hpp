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
  std::string allowMethods = "GET, POST, PATCH, DELETE, OPTIONS";
  std::string exposeHeaders = "Retry-After";

  // Whether a browser at `origin` may talk to a server reached as `host` (the
  // request's Host header): same origin always may.
  bool allows(std::string_view origin, std::string_view host) const;
  // Adds the CORS answer headers when the request's Origin is allowed.
  void apply(const Request& request, Response& response) const;
  // The answer to an OPTIONS preflight (204; no CORS headers for a foreign origin).
  Response preflight(const Request& request) const;
};

}  // namespace brigade::http
