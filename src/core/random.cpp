#include "core/random.hpp"

#include <sodium.h>

#include <stdexcept>
#include <vector>

#include "core/base64.hpp"

namespace brigade {

std::string randomId(size_t bytes) {
  static const bool initialised = [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    return true;
  }();
  (void)initialised;
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  return base64::encodeUrl(raw);
}

}  // namespace brigade
