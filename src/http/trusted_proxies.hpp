#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace brigade::http {

// The reverse proxies whose X-Forwarded-For header is believed. Without any, the
// client address is always the TCP peer: a header anyone can send never moves a
// rate limit or a connection cap onto another address.
class TrustedProxies {
 public:
  // Adds "203.0.113.7", "10.0.0.0/8", "::1" or "fd00::/8"; an error names what is wrong.
  Result<void> add(std::string_view addressOrNetwork);
  bool empty() const { return networks_.empty(); }
  bool contains(std::string_view address) const;

  // The client of a request that reached us from `peer`: the peer itself unless it
  // is trusted, else the right-most X-Forwarded-For entry that is not a trusted
  // proxy (the left-most entries are whatever the client wrote).
  std::string clientAddress(std::string_view peer, std::string_view forwardedFor) const;

 private:
  struct Network {
    std::array<unsigned char, 16> bytes{};  // IPv4 as IPv4-mapped IPv6
    unsigned prefix = 128;
  };
  static bool parse(std::string_view text, std::array<unsigned char, 16>& out);
  std::vector<Network> networks_;
};

}  // namespace brigade::http
