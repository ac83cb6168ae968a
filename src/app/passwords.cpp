#include "app/passwords.hpp"

#include <sodium.h>

#include <mutex>

#include "core/random.hpp"

namespace brigade::app {

std::string hashPassword(std::string_view password, const PasswordPolicy& policy) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), policy.opsLimit, policy.memLimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return {};
  }
  return std::string(out);
}

bool verifyPassword(std::string_view password, const std::string& stored) {
  if (stored.empty()) return false;
  return crypto_pwhash_str_verify(stored.c_str(), password.data(), password.size()) == 0;
}

const std::string& decoyHash(const PasswordPolicy& policy) {
  static std::once_flag once;
  static std::string hash;
  std::call_once(once, [&] { hash = hashPassword(randomId(16), policy); });
  return hash;
}

std::string newToken() {
  return randomId(32);
}

}  // namespace brigade::app
