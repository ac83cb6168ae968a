#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace brigade::app {

// Argon2id (libsodium crypto_pwhash) parameters. The defaults are libsodium's
// "interactive" level (64 MiB, 2 passes); tests may lower the memory.
struct PasswordPolicy {
  uint64_t opsLimit = 2;
  size_t memLimit = 64u << 20;
};

inline constexpr size_t kMinPasswordLength = 8;
inline constexpr size_t kMaxPasswordLength = 1024;

// Blocking, CPU- and memory-heavy: call on a WorkerPool, never on an event loop.
// Empty string when hashing failed (out of memory).
std::string hashPassword(std::string_view password, const PasswordPolicy& policy);
// Constant-time verification against a stored "$argon2id$..." string.
bool verifyPassword(std::string_view password, const std::string& stored);
// A hash of a random password, verified against when an email is unknown so that
// the answer takes as long as for a known one (no account enumeration by timing).
const std::string& decoyHash(const PasswordPolicy& policy);
// A random bearer token: 32 bytes from the CSPRNG, URL-safe base64.
std::string newToken();

}  // namespace brigade::app
