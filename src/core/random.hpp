#pragma once

#include <cstddef>
#include <string>

namespace brigade {

// Unguessable identifiers (session ids authorise long-polling requests): `bytes`
// random bytes from the operating system's CSPRNG, URL-safe base64 without padding.
std::string randomId(size_t bytes = 15);

}  // namespace brigade
