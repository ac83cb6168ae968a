#include "http/request_parser.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/url/decode_view.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <optional>

namespace brigade::http {

namespace beast = boost::beast;

struct RequestParser::Impl {
  std::optional<beast::http::request_parser<beast::http::string_body>> parser;
};

RequestParser::RequestParser(size_t maxBody) : impl_(std::make_unique<Impl>()), maxBody_(maxBody) {}
RequestParser::~RequestParser() = default;

RequestParser::Step RequestParser::feed(std::string_view data) {
  if (!impl_->parser) {
    impl_->parser.emplace();
    impl_->parser->header_limit(kMaxHeaderBytes);
    impl_->parser->body_limit(maxBody_);
    impl_->parser->eager(true);
  }
  auto& parser = *impl_->parser;
  size_t total = 0;
  while (!parser.is_done() && total < data.size()) {
    beast::error_code ec;
    size_t n = parser.put(boost::asio::const_buffer(data.data() + total, data.size() - total), ec);
    total += n;
    if (ec == beast::http::error::need_more) break;
    if (ec) {
      int status = 400;
      if (ec == beast::http::error::body_limit) status = 413;
      if (ec == beast::http::error::header_limit) status = 431;
      impl_->parser.reset();
      return {State::kError, total, status};
    }
    if (n == 0) break;
  }
  if (parser.is_done()) return {State::kDone, total};
  // Headers larger than the limit arrive piecewise; Beast reports header_limit
  // only once it holds them, so guard the buffered amount here too.
  if (!parser.is_header_done() && data.size() > kMaxHeaderBytes) {
    impl_->parser.reset();
    return {State::kError, total, 431};
  }
  return {State::kNeedMore, total};
}

Request RequestParser::take() {
  auto message = impl_->parser->release();
  impl_->parser.reset();
  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  request.keepAlive = message.keep_alive();
  for (const auto& field : message) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    request.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  request.body = std::move(message.body());
  std::string_view target = request.target;
  size_t q = target.find('?');
  std::string_view rawPath = target.substr(0, q);
  if (q != std::string_view::npos) request.query = std::string(target.substr(q + 1));
  auto decoded = boost::urls::make_pct_string_view(rawPath);
  if (decoded) {
    request.path.reserve(rawPath.size());
    for (char c : decoded->decode()) request.path += c;
  } else {
    request.path = std::string(rawPath);
  }
  return request;
}

}  // namespace brigade::http
