#pragma once

// --redirect-http: the route that answers every plain-HTTP request with a redirect to the
// same path on the HTTPS port (308: the method and body are kept, as a form post needs).

#include <cstdint>
#include <string>
#include <string_view>

#include "http/server.hpp"

namespace brigade::server {

// The https:// URL for a request that reached the plain port with this Host header and
// target: the host's name without its port, then `httpsPort` (left out when 443). Empty when
// the Host header is missing or not a plausible host (no redirect to a forged place).
std::string httpsLocation(std::string_view host, std::string_view target, uint16_t httpsPort);

http::Route httpsRedirect(uint16_t httpsPort);

}  // namespace brigade::server
