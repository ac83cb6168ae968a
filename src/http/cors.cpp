#include "http/cors.hpp"

#include <charconv>

namespace brigade::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] + 32) : b[i];
    if (x != y) return false;
  }
  return true;
}

struct Authority {
  std::string_view host;
  int port = -1;  // -1: none given
};

// "host", "host:port", "[v6]" or "[v6]:port"; nullopt-like (empty host) when malformed.
Authority parseAuthority(std::string_view text) {
  Authority out;
  std::string_view portText;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return {};
    out.host = text.substr(0, close + 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return {};
      portText = rest.substr(1);
    }
  } else {
    size_t colon = text.find(':');
    out.host = text.substr(0, colon);
    if (colon != std::string_view::npos) portText = text.substr(colon + 1);
    if (colon != std::string_view::npos && portText.empty()) return {};
  }
  if (!portText.empty()) {
    int port = 0;
    auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
    if (ec != std::errc() || end != portText.data() + portText.size() || port < 0 || port > 65535) {
      return {};
    }
    out.port = port;
  }
  if (out.host.empty() || out.host.find_first_of("/?#@ ") != std::string_view::npos) return {};
  return out;
}

int defaultPort(std::string_view scheme) {
  if (iequals(scheme, "http") || iequals(scheme, "ws")) return 80;
  if (iequals(scheme, "https") || iequals(scheme, "wss")) return 443;
  return -1;
}

void addVary(Response& response) {
  for (const auto& [name, value] : response.headers) {
    if (iequals(name, "vary") && value.find("Origin") != std::string::npos) return;
  }
  response.set("Vary", "Origin");
}

}  // namespace

bool sameOrigin(std::string_view origin, std::string_view scheme, std::string_view host) {
  size_t separator = origin.find("://");
  if (separator == std::string_view::npos || host.empty()) return false;
  std::string_view originScheme = origin.substr(0, separator);
  if (!iequals(originScheme, scheme)) return false;
  Authority a = parseAuthority(origin.substr(separator + 3));
  Authority b = parseAuthority(host);
  if (a.host.empty() || b.host.empty() || !iequals(a.host, b.host)) return false;
  int port = defaultPort(scheme);
  return (a.port < 0 ? port : a.port) == (b.port < 0 ? port : b.port);
}

bool CorsPolicy::allows(const Request& request) const {
  std::string_view origin = request.header("origin");
  for (const auto& allowed : origins) {
    if (allowed == "*" || allowed == origin) return true;
  }
  return sameOrigin(origin, request.scheme, request.header("host"));
}

void CorsPolicy::apply(const Request& request, Response& response) const {
  addVary(response);
  std::string_view origin = request.header("origin");
  if (origin.empty() || !allows(request)) return;
  bool any = !credentials && origins.size() == 1 && origins[0] == "*";
  response.set("Access-Control-Allow-Origin", any ? "*" : std::string(origin));
  if (credentials) response.set("Access-Control-Allow-Credentials", "true");
  if (!exposeHeaders.empty()) response.set("Access-Control-Expose-Headers", exposeHeaders);
}

Response CorsPolicy::preflight(const Request& request) const {
  Response response;
  response.status = 204;
  addVary(response);
  std::string_view origin = request.header("origin");
  if (origin.empty() || !allows(request)) return response;
  apply(request, response);
  response.set("Access-Control-Allow-Methods", allowMethods);
  response.set("Access-Control-Allow-Headers", allowHeaders);
  response.set("Access-Control-Max-Age", "600");
  return response;
}

}  // namespace brigade::http
