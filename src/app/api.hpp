#pragma once

// The REST layer's plumbing: routes with path parameters, JSON bodies under
// limits, authentication and role checks before a handler runs, and every error
// in the contract's shape {"error":{"code","message","field"}}.

#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/cors.hpp"
#include "http/server.hpp"
#include "store/types.hpp"

namespace brigade::app {

namespace json = boost::json;

// Limits on request bodies (the HTTP layer refuses bodies over kMaxBodyBytes with 413).
inline constexpr size_t kMaxBodyBytes = 1 << 20;
inline constexpr unsigned kMaxJsonDepth = 16;
inline constexpr size_t kMaxJsonString = 10000;  // bytes in any one string of a body

// The error of a token that is invalid, expired or revoked (App::authenticate).
inline constexpr const char* kUnauthorizedCode = "unauthorized";
inline Error unauthorized() {
  return makeError(kUnauthorizedCode, "the token is invalid, expired or revoked");
}

// Retry-After on a 503 (database busy or unreachable): about how long a PostgreSQL restart
// or a failover takes.
inline constexpr int kRetryAfterUnavailableS = 2;

struct ApiError {
  int status = 500;
  std::string code;
  std::string message;
  std::string field;
};

ApiError malformed(std::string message);                                // 400
ApiError invalid(std::string field, std::string message);               // 422
ApiError notFound(std::string what = "not found");                      // 404
ApiError forbidden(std::string message = "your role may not do this");  // 403
ApiError conflict(std::string code, std::string message);               // 409
ApiError internalError();                                               // 500
// Maps a store error (store/errors.hpp codes) to the API's answer.
ApiError fromStore(const Error& error);

json::value errorBody(const ApiError& error);

// Parses a JSON body: 400 when malformed, 422 when nested deeper than
// kMaxJsonDepth or holding a string longer than kMaxJsonString.
std::optional<ApiError> parseBody(std::string_view body, json::value& out);

// The signed-in user making a request.
struct Caller {
  int64_t id = 0;
  store::Role role = store::Role::kCustomer;
  std::string email;
  std::string name;
  std::string tokenHash;
};

// Answers one request; thread-safe (store callbacks answer from store threads).
class Reply {
 public:
  Reply(http::ResponderPtr responder, const http::CorsPolicy& cors, http::Request request);
  void json(int status, const json::value& body);
  void noContent();
  void error(const ApiError& error);
  void send(http::Response response);
  // Runs fn on the connection's event loop: store callbacks move the work of
  // building the answer off the store's threads (the writer especially).
  void onLoop(std::function<void()> fn);
  const http::Request& request() const { return request_; }

 private:
  http::ResponderPtr responder_;
  const http::CorsPolicy& cors_;
  http::Request request_;  // headers, for CORS
};
using ReplyPtr = std::shared_ptr<Reply>;

struct ApiRequest {
  http::Request http;
  std::vector<std::string> params;  // values of the pattern's :name segments, in order
  json::value body;                 // parsed JSON body (null when the route takes none)
  std::optional<Caller> caller;

  // A path parameter as a positive id; nullopt when it is not one.
  std::optional<int64_t> id(size_t index = 0) const;
};
using ApiRequestPtr = std::shared_ptr<ApiRequest>;

// Who may call a route.
enum class Access {
  kAnyone,    // no token needed (an invalid one is still refused)
  kSignedIn,  // any role
  kAdmin,
  kCustomer,
  kRider,
};

using Handler = std::function<void(const ApiRequestPtr&, const ReplyPtr&)>;
// Looks a bearer token's hash up; calls back (on any thread) with the caller or nothing.
using Authenticate =
    std::function<void(const std::string& tokenHash, std::function<void(Result<Caller>)>)>;

// Tokens longer than this are refused without a lookup (ours are 43 characters).
inline constexpr size_t kMaxTokenLength = 256;

// Hash under which a bearer token is stored (BLAKE2b-256, hex).
std::string tokenHash(std::string_view token);
// The bearer token of a request, if it carries one.
std::optional<std::string> bearerToken(const http::Request& request);

class ApiRouter {
 public:
  ApiRouter(Authenticate authenticate, const http::CorsPolicy& cors);

  // pattern: "/api/orders/:id/status"; jsonBody: the route takes a JSON object body.
  void add(std::string method, std::string pattern, Access access, bool jsonBody, Handler handler);
  // Serves every route under "/api/".
  void mount(http::Router& router);

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Access access;
    bool jsonBody;
    Handler handler;
    std::string label;  // "POST /api/orders/:id/status": its metrics' route
  };
  void dispatch(http::Request&& request, const http::ResponderPtr& responder);

  Authenticate authenticate_;
  const http::CorsPolicy& cors_;
  std::vector<Route> routes_;
};

// Headers on every answer of the server (API, panels, real-time channel).
http::Headers securityHeaders();

}  // namespace brigade::app
