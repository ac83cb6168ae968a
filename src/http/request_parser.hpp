#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "http/message.hpp"

namespace brigade::http {

// Incremental HTTP/1.1 request parser (Boost.Beast's parser behind a firewall so
// that Beast stays out of every other translation unit).
class RequestParser {
 public:
  explicit RequestParser(size_t maxBody = kDefaultMaxBody);
  ~RequestParser();

  enum class State { kNeedMore, kDone, kError };
  struct Step {
    State state;
    size_t consumed;
    int errorStatus = 0;  // 400, 413 or 431 when state == kError
  };
  Step feed(std::string_view data);
  // The request after kDone; the parser is then ready for the next one.
  Request take();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  size_t maxBody_;
};

}  // namespace brigade::http
