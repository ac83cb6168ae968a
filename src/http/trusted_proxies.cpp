#include "http/trusted_proxies.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace brigade::http {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool inNetwork(const std::array<unsigned char, 16>& address,
               const std::array<unsigned char, 16>& network, unsigned prefix) {
  unsigned full = prefix / 8;
  if (std::memcmp(address.data(), network.data(), full) != 0) return false;
  unsigned rest = prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (address[full] & mask) == (network[full] & mask);
}

}  // namespace

bool TrustedProxies::parse(std::string_view text, std::array<unsigned char, 16>& out) {
  // An IPv6 address may come in brackets (from a Host-like form) or with a zone.
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  char buffer[INET6_ADDRSTRLEN];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  in_addr v4{};
  if (inet_pton(AF_INET, buffer, &v4) == 1) {
    out.fill(0);
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return true;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, buffer, &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return true;
  }
  return false;
}

Result<void> TrustedProxies::add(std::string_view text) {
  std::string_view address = trim(text);
  unsigned prefix = 128;
  bool v4 = address.find(':') == std::string_view::npos;
  if (size_t slash = address.find('/'); slash != std::string_view::npos) {
    std::string_view bits = address.substr(slash + 1);
    address = address.substr(0, slash);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), value);
    if (ec != std::errc() || end != bits.data() + bits.size() || value > (v4 ? 32u : 128u)) {
      return makeError("invalid", "bad prefix length in trusted proxy '" + std::string(text) + "'");
    }
    prefix = v4 ? value + 96 : value;
  }
  Network network;
  if (!parse(address, network.bytes)) {
    return makeError("invalid", "'" + std::string(text) + "' is not an IP address or network");
  }
  network.prefix = prefix;
  networks_.push_back(network);
  return {};
}

bool TrustedProxies::contains(std::string_view address) const {
  if (networks_.empty()) return false;
  std::array<unsigned char, 16> bytes{};
  if (!parse(address, bytes)) return false;
  for (const auto& network : networks_) {
    if (inNetwork(bytes, network.bytes, network.prefix)) return true;
  }
  return false;
}

std::string TrustedProxies::clientAddress(std::string_view peer,
                                          std::string_view forwardedFor) const {
  if (!contains(peer)) return std::string(peer);
  // Walk from the right: each hop appended the address it received from.
  std::string_view rest = forwardedFor;
  std::string_view client = peer;
  while (!rest.empty()) {
    size_t comma = rest.rfind(',');
    std::string_view hop = trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    std::array<unsigned char, 16> bytes{};
    if (!parse(hop, bytes)) break;  // garbage: trust nothing further left
    client = hop;
    if (!contains(hop)) break;
  }
  return std::string(client);
}

}  // namespace brigade::http
