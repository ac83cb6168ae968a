#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace brigade {

// An immutable byte buffer shared by every receiver of a broadcast: it is
// encoded and framed once, and each receiving connection only holds a reference.
using SharedBuffer = std::shared_ptr<const std::string>;

inline SharedBuffer makeShared(std::string bytes) {
  return std::make_shared<const std::string>(std::move(bytes));
}

}  // namespace brigade

namespace brigade {

// A view into bytes kept alive by `owner`: lets a connection's send queue hold a
// slice of a shared, immutable broadcast frame without copying it.
struct BufferRef {
  std::shared_ptr<const void> owner;
  std::string_view bytes;
};

}  // namespace brigade
