#include "http/message.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>

namespace brigade::http {

namespace {
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}
bool containsToken(std::string_view list, std::string_view token) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    std::string_view item = list.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (iequals(item, token)) return true;
    start = end + 1;
  }
  return false;
}
}  // namespace

std::string_view Request::header(std::string_view lowerName) const {
  for (const auto& [name, value] : headers) {
    if (name == lowerName) return value;
  }
  return {};
}

std::optional<std::string> Request::queryParam(std::string_view name) const {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return std::nullopt;
  for (auto param : url->params()) {
    if (param.key == name) return std::string(param.value);
  }
  return std::nullopt;
}

bool Request::isWebSocketUpgrade() const {
  return method == "GET" && containsToken(header("connection"), "upgrade") &&
         iequals(header("upgrade"), "websocket");
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.contentType = "application/json";
  r.body = std::move(body);
  return r;
}

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

std::string serialize(const Response& response, bool keepAlive) {
  std::string out;
  out.reserve(128 + response.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += reasonPhrase(response.status);
  out += "\r\n";
  if (response.status != 204 && response.status != 101 && !response.contentType.empty()) {
    out += "Content-Type: ";
    out += response.contentType;
    out += "\r\n";
  }
  for (const auto& [name, value] : response.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (response.status != 204 && response.status != 101) {
    out += "Content-Length: ";
    out += std::to_string(response.contentLength.value_or(response.body.size()));
    out += "\r\n";
  }
  if (!keepAlive) out += "Connection: close\r\n";
  out += "\r\n";
  out += response.body;
  return out;
}

}  // namespace brigade::http
