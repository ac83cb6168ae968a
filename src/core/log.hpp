#pragma once

// Logging glue: the project logs through spdlog's default logger.
#include <spdlog/spdlog.h>

namespace brigade::log {

inline void setLevel(const char* level) {
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace brigade::log
