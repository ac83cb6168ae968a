// The HTTP/1.1 request parser fed arbitrary bytes the way a connection feeds it:
// in pieces (the first input byte picks the piece size), keeping what it leaves
// unconsumed. Whatever the pieces, the requests it yields (method, target, body)
// and where it stops with an error must be the same as when it gets all the bytes
// at once; no request may exceed the header or body limits.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_parser.hpp"

namespace {

using brigade::http::RequestParser;

// A small body limit so that the fuzzer reaches it.
constexpr size_t kMaxBody = 512;
constexpr size_t kMaxRequests = 64;

struct Outcome {
  std::vector<std::string> requests;  // method, target, body and keep-alive, joined
  int errorStatus = 0;
  bool operator==(const Outcome&) const = default;
};

Outcome parse(std::string_view input, size_t piece) {
  RequestParser parser(kMaxBody);
  Outcome out;
  std::string inbox;
  size_t offset = 0;
  while (offset < input.size() && out.requests.size() < kMaxRequests) {
    size_t n = std::min(piece, input.size() - offset);
    inbox.append(input.substr(offset, n));
    offset += n;
    for (;;) {
      auto step = parser.feed(inbox);
      if (step.consumed > inbox.size()) std::abort();
      inbox.erase(0, step.consumed);
      if (step.state == RequestParser::State::kError) {
        if (step.errorStatus != 400 && step.errorStatus != 413 && step.errorStatus != 431) {
          std::abort();
        }
        out.errorStatus = step.errorStatus;
        return out;
      }
      if (step.state == RequestParser::State::kNeedMore) break;
      auto request = parser.take();
      if (request.body.size() > kMaxBody) std::abort();
      if (request.target.size() > brigade::http::kMaxHeaderBytes) std::abort();
      if (request.method.empty() || request.target.empty()) std::abort();
      out.requests.push_back(request.method + ' ' + request.target + ' ' +
                             (request.keepAlive ? "k " : "c ") + request.body);
      if (out.requests.size() >= kMaxRequests) return out;
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 1) return 0;
  size_t piece = 1 + bytes[0] % 17;
  std::string_view input(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  Outcome whole = parse(input, input.size() + 1);
  Outcome pieces = parse(input, piece);
  // The parser stops at the first error; in pieces it may only get there later.
  if (whole.errorStatus == 0 && pieces.errorStatus == 0 && whole != pieces) std::abort();
  if (whole.errorStatus != 0 && pieces.requests != whole.requests) std::abort();
  return 0;
}
