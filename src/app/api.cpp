#include "app/api.hpp"

#include <sodium.h>

#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <unordered_set>

#include "store/errors.hpp"

namespace brigade::app {

ApiError malformed(std::string message) {
  return {400, "malformed_request", std::move(message), ""};
}
ApiError invalid(std::string field, std::string message) {
  return {422, "invalid", std::move(message), std::move(field)};
}
ApiError notFound(std::string what) {
  return {404, "not_found", std::move(what), ""};
}
ApiError forbidden(std::string message) {
  return {403, "forbidden", std::move(message), ""};
}
ApiError conflict(std::string code, std::string message) {
  return {409, std::move(code), std::move(message), ""};
}
ApiError internalError() {
  return {500, "internal_error", "something went wrong", ""};
}

ApiError fromStore(const Error& error) {
  namespace errc = store::errc;
  const std::string& code = error.code;
  if (code == errc::kNotFound) return notFound();
  if (code == errc::kVersionConflict) {
    return conflict("version_conflict", "the record changed since that version");
  }
  if (code == errc::kEmailTaken) return conflict("email_taken", "that email is already registered");
  if (code == errc::kCategoryNotEmpty) {
    return conflict("category_not_empty", "the category still has items");
  }
  if (code == errc::kItemUnavailable) {
    return {409, "item_unavailable", error.message, ""};
  }
  // The store prefixes messages with the field ("items[2].options[0]: ..."); keep it.
  auto fieldOf = [&error] {
    size_t colon = error.message.find(": ");
    return colon == std::string::npos ? std::string() : error.message.substr(0, colon);
  };
  auto textOf = [&error] {
    size_t colon = error.message.find(": ");
    return colon == std::string::npos ? error.message : error.message.substr(colon + 2);
  };
  if (code == errc::kUnknownOption) return invalid(fieldOf(), textOf());
  if (code == errc::kOptionUnavailable) return {409, "option_unavailable", textOf(), fieldOf()};
  if (code == errc::kUnknownCategory) return invalid("category_id", "no such category");
  if (code == errc::kUnknownItem) {
    // The store prefixes the message with the field, e.g. "items[2].item_id: ...".
    size_t colon = error.message.find(':');
    std::string field = colon == std::string::npos ? "" : error.message.substr(0, colon);
    if (!field.empty() && !field.ends_with(".item_id")) field += ".item_id";
    return invalid(field.empty() ? "items" : field, "no such menu item");
  }
  if (code == errc::kIdempotencyKeyReused) {
    return {422, "idempotency_key_reused", "that Idempotency-Key was used for another request", ""};
  }
  if (code == errc::kNotARider) return invalid("rider_id", "that user is not a rider");
  if (code == errc::kConflict) return conflict("conflict", error.message);
  if (code == errc::kInvalid) return invalid(fieldOf(), textOf());
  if (code == errc::kBusy) return {503, "busy", "the database is busy, retry", ""};
  if (code == errc::kUnavailable) {
    return {503, "database_unavailable",
            "the database cannot be reached; retry (with the same Idempotency-Key)", ""};
  }
  // Our own checks (life cycle) pass API codes through the store unchanged.
  if (code == "illegal_transition" || code == "rider_offline" || code == "not_assignable" ||
      code == "restaurant_closed" || code == "ordering_paused" || code == "kitchen_full") {
    return conflict(code, error.message);
  }
  if (code == "wrong_code" || code == "code_required") return {422, code, textOf(), "code"};
  if (code == "code_locked") return conflict(code, error.message);
  if (code == "outside_delivery_area") return {422, code, error.message, "delivery"};
  if (code == "below_minimum") return {422, code, error.message, "items"};
  if (code == "forbidden") return forbidden(error.message);
  if (code == "reason_required") return invalid("reason", error.message);
  return internalError();
}

json::value errorBody(const ApiError& error) {
  json::object inner{{"code", error.code}, {"message", error.message}};
  if (!error.field.empty()) inner["field"] = error.field;
  return json::object{{"error", std::move(inner)}};
}

namespace {

bool stringsWithinLimit(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return v.get_string().size() <= kMaxJsonString;
    case json::kind::array:
      for (const auto& item : v.get_array()) {
        if (!stringsWithinLimit(item)) return false;
      }
      return true;
    case json::kind::object:
      for (const auto& [key, item] : v.get_object()) {
        if (key.size() > kMaxJsonString || !stringsWithinLimit(item)) return false;
      }
      return true;
    default:
      return true;
  }
}

// A basic_parser handler that only looks at object keys: a parsed json::object
// keeps one of two equal keys silently, so duplicates are found before that.
class DuplicateKeyFinder {
 public:
  static constexpr std::size_t max_array_size = -1;
  static constexpr std::size_t max_object_size = -1;
  static constexpr std::size_t max_string_size = -1;
  static constexpr std::size_t max_key_size = -1;

  bool duplicate = false;

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_array_begin(boost::system::error_code&) { return true; }
  bool on_array_end(std::size_t, boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    keys_.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    keys_.pop_back();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_key_part(json::string_view s, std::size_t, boost::system::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, boost::system::error_code& ec) {
    key_.append(s.data(), s.size());
    if (!keys_.back().insert(std::move(key_)).second) {
      duplicate = true;
      ec = json::error::syntax;  // stop here: the answer is known
      key_.clear();
      return false;
    }
    key_.clear();
    return true;
  }
  bool on_number_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_int64(int64_t, json::string_view, boost::system::error_code&) { return true; }
  bool on_uint64(uint64_t, json::string_view, boost::system::error_code&) { return true; }
  bool on_double(double, json::string_view, boost::system::error_code&) { return true; }
  bool on_bool(bool, boost::system::error_code&) { return true; }
  bool on_null(boost::system::error_code&) { return true; }
  bool on_comment_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(json::string_view, boost::system::error_code&) { return true; }

 private:
  std::vector<std::unordered_set<std::string>> keys_;
  std::string key_;
};

bool hasDuplicateKeys(std::string_view body) {
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  json::basic_parser<DuplicateKeyFinder> parser(options);
  boost::system::error_code ec;
  parser.write_some(false, body.data(), body.size(), ec);
  return parser.handler().duplicate;
}

}  // namespace

std::optional<ApiError> parseBody(std::string_view body, json::value& out) {
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  out = json::parse(body, ec, {}, options);
  if (ec == json::error::too_deep) {
    return invalid("", "JSON nested deeper than " + std::to_string(kMaxJsonDepth));
  }
  if (ec) return malformed("malformed JSON: " + ec.message());
  // Two values for one key: which one counts would depend on the parser.
  if (hasDuplicateKeys(body)) return malformed("malformed JSON: a key appears twice in an object");
  if (!stringsWithinLimit(out)) {
    return invalid("", "a string is longer than " + std::to_string(kMaxJsonString) + " bytes");
  }
  return std::nullopt;
}

Reply::Reply(http::ResponderPtr responder, const http::CorsPolicy& cors, http::Request request)
    : responder_(std::move(responder)), cors_(cors), request_(std::move(request)) {}

void Reply::send(http::Response response) {
  cors_.apply(request_, response);
  response.set("Cache-Control", "no-store");
  responder_->send(std::move(response));
}

void Reply::onLoop(std::function<void()> fn) {
  responder_->loop().post(std::move(fn));
}

void Reply::json(int status, const json::value& body) {
  send(http::Response::json(status, json::serialize(body)));
}

void Reply::noContent() {
  http::Response response;
  response.status = 204;
  send(std::move(response));
}

void Reply::error(const ApiError& error) {
  auto response = http::Response::json(error.status, json::serialize(errorBody(error)));
  if (error.status == 401) response.set("WWW-Authenticate", "Bearer");
  if (error.status == 503) response.set("Retry-After", std::to_string(kRetryAfterUnavailableS));
  send(std::move(response));
}

std::optional<int64_t> ApiRequest::id(size_t index) const {
  if (index >= params.size()) return std::nullopt;
  const std::string& text = params[index];
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

std::string tokenHash(std::string_view token) {
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return std::string(hex, 64);
}

std::optional<std::string> bearerToken(const http::Request& request) {
  // RFC 9110 section 11.1: the scheme is case-insensitive, then one or more spaces.
  std::string_view header = request.header("authorization");
  constexpr std::string_view kScheme = "bearer";
  if (header.size() <= kScheme.size() || header[kScheme.size()] != ' ') return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return std::nullopt;
  }
  std::string_view token = header.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty() || token.size() > kMaxTokenLength) return std::nullopt;
  return std::string(token);
}

http::Headers securityHeaders() {
  return {
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
  };
}

namespace {

std::vector<std::string> splitPath(std::string_view path) {
  std::vector<std::string> segments;
  size_t start = 0;
  while (start < path.size()) {
    if (path[start] == '/') {
      ++start;
      continue;
    }
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    segments.emplace_back(path.substr(start, end - start));
    start = end;
  }
  return segments;
}

bool allowed(Access access, const std::optional<Caller>& caller) {
  switch (access) {
    case Access::kAnyone:
    case Access::kSignedIn:
      return true;
    case Access::kAdmin:
      return caller && caller->role == store::Role::kAdmin;
    case Access::kCustomer:
      return caller && caller->role == store::Role::kCustomer;
    case Access::kRider:
      return caller && caller->role == store::Role::kRider;
  }
  return false;
}

}  // namespace

ApiRouter::ApiRouter(Authenticate authenticate, const http::CorsPolicy& cors)
    : authenticate_(std::move(authenticate)), cors_(cors) {}

void ApiRouter::add(std::string method, std::string pattern, Access access, bool jsonBody,
                    Handler handler) {
  std::string label = method + " " + pattern;
  routes_.push_back({std::move(method), splitPath(pattern), access, jsonBody, std::move(handler),
                     std::move(label)});
}

void ApiRouter::mount(http::Router& router) {
  http::Route route;
  route.handle = [this](http::Request&& request, const http::ResponderPtr& responder) {
    dispatch(std::move(request), responder);
  };
  router.add("/api/", std::move(route));
}

void ApiRouter::dispatch(http::Request&& request, const http::ResponderPtr& responder) {
  if (request.method == "OPTIONS") {
    auto response = cors_.preflight(request);
    responder->send(std::move(response));
    return;
  }
  auto segments = splitPath(request.path);
  const Route* match = nullptr;
  bool pathMatched = false;
  std::vector<std::string> allowedMethods;  // for a 405's Allow header
  std::vector<std::string> params;
  for (const auto& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    std::vector<std::string> captured;
    bool ok = true;
    for (size_t i = 0; i < segments.size() && ok; ++i) {
      if (route.segments[i][0] == ':') {
        captured.push_back(segments[i]);
      } else {
        ok = route.segments[i] == segments[i];
      }
    }
    if (!ok) continue;
    pathMatched = true;
    allowedMethods.push_back(route.method);
    if (route.method == request.method) {
      match = &route;
      params = std::move(captured);
      break;
    }
  }
  if (match) responder->setRoute(match->label);
  auto api = std::make_shared<ApiRequest>();
  auto reply = std::make_shared<Reply>(responder, cors_, http::Request{});
  if (!match) {
    reply = std::make_shared<Reply>(responder, cors_, std::move(request));
    if (pathMatched) {
      // The HTTP layer answers HEAD wherever GET works.
      if (std::find(allowedMethods.begin(), allowedMethods.end(), "GET") != allowedMethods.end()) {
        allowedMethods.push_back("HEAD");
      }
      std::sort(allowedMethods.begin(), allowedMethods.end());
      std::string allow;
      for (const auto& m : allowedMethods) allow += (allow.empty() ? "" : ", ") + m;
      auto response = http::Response::json(
          405, json::serialize(
                   errorBody({405, "method_not_allowed", "method not allowed on this path", ""})));
      response.set("Allow", allow);
      reply->send(std::move(response));
    } else {
      reply->error(notFound("no such endpoint"));
    }
    return;
  }
  api->params = std::move(params);
  if (match->jsonBody) {
    if (auto error = parseBody(request.body, api->body)) {
      reply = std::make_shared<Reply>(responder, cors_, std::move(request));
      reply->error(*error);
      return;
    }
    if (!api->body.is_object()) {
      reply = std::make_shared<Reply>(responder, cors_, std::move(request));
      reply->error(invalid("", "the body must be a JSON object"));
      return;
    }
  }
  auto token = bearerToken(request);
  // The reply keeps the request's headers (CORS); the handler gets the rest.
  http::Request headersOnly;
  headersOnly.headers = request.headers;
  reply = std::make_shared<Reply>(responder, cors_, std::move(headersOnly));
  api->http = std::move(request);
  const Route& route = *match;
  if (!token) {
    if (route.access != Access::kAnyone) {
      reply->error({401, "unauthorized", "sign in first", ""});
      return;
    }
    route.handler(api, reply);
    return;
  }
  authenticate_(tokenHash(*token), [api, reply, &route](Result<Caller> caller) {
    if (!caller) {
      if (caller.error().code == kUnauthorizedCode) {
        reply->error({401, "unauthorized", "the token is invalid, expired or revoked", ""});
      } else {
        reply->error(fromStore(caller.error()));  // 503 while the database is unreachable
      }
      return;
    }
    api->caller = std::move(*caller);
    if (!allowed(route.access, api->caller)) {
      reply->error(forbidden());
      return;
    }
    route.handler(api, reply);
  });
}

}  // namespace brigade::app
