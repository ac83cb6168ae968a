#include "http/cors.hpp"

namespace brigade::http {

bool CorsPolicy::allows(std::string_view origin, std::string_view host) const {
  for (const auto& allowed : origins) {
    if (allowed == "*" || allowed == origin) return true;
  }
  // Same origin: "scheme://host[:port]" whose authority is the Host header.
  size_t scheme = origin.find("://");
  return scheme != std::string_view::npos && !host.empty() && origin.substr(scheme + 3) == host;
}

void CorsPolicy::apply(const Request& request, Response& response) const {
  std::string_view origin = request.header("origin");
  if (origin.empty() || !allows(origin, request.header("host"))) return;
  bool any = !credentials && origins.size() == 1 && origins[0] == "*";
  response.set("Access-Control-Allow-Origin", any ? "*" : std::string(origin));
  if (!any) response.set("Vary", "Origin");
  if (credentials) response.set("Access-Control-Allow-Credentials", "true");
  if (!exposeHeaders.empty()) response.set("Access-Control-Expose-Headers", exposeHeaders);
}

Response CorsPolicy::preflight(const Request& request) const {
  Response response;
  response.status = 204;
  std::string_view origin = request.header("origin");
  if (origin.empty() || !allows(origin, request.header("host"))) return response;
  apply(request, response);
  response.set("Access-Control-Allow-Methods", allowMethods);
  response.set("Access-Control-Allow-Headers", allowHeaders);
  response.set("Access-Control-Max-Age", "600");
  return response;
}

}  // namespace brigade::http
