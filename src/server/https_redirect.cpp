#include "server/https_redirect.hpp"

#include <cctype>

namespace brigade::server {

std::string httpsLocation(std::string_view host, std::string_view target, uint16_t httpsPort) {
  std::string_view name = host;
  if (!name.empty() && name.front() == '[') {  // [::1]:8080
    const auto close = name.find(']');
    if (close == std::string_view::npos) return {};
    name = name.substr(0, close + 1);
  } else if (const auto colon = name.rfind(':'); colon != std::string_view::npos) {
    name = name.substr(0, colon);
  }
  if (name.empty() || name.size() > 255) return {};
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '.' && c != '-' && c != '[' && c != ']' && c != ':') return {};
  }
  if (target.empty() || target.front() != '/') target = "/";
  std::string out = "https://" + std::string(name);
  if (httpsPort != 443) out += ":" + std::to_string(httpsPort);
  return out + std::string(target);
}

http::Route httpsRedirect(uint16_t httpsPort) {
  http::Route route;
  route.handle = [httpsPort](http::Request&& request, const http::ResponderPtr& responder) {
    const std::string location = httpsLocation(request.header("host"), request.target, httpsPort);
    if (location.empty()) {
      responder->send(http::Response::json(
          400, http::errorJson("malformed_request", "a Host header is needed to redirect")));
      return;
    }
    http::Response response;
    response.status = 308;
    response.set("Location", location);
    response.body = "Brigade is served over HTTPS: " + location + "\n";
    responder->send(std::move(response));
  };
  return route;
}

}  // namespace brigade::server
