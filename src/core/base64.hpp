#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace brigade::base64 {

std::string encode(std::string_view bytes);
// Standard alphabet with padding; returns nullopt on any invalid character or length.
std::optional<std::string> decode(std::string_view text);
// URL-safe alphabet, no padding (ids, tokens).
std::string encodeUrl(std::string_view bytes);

}  // namespace brigade::base64
