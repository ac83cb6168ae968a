#pragma once

// The restaurant: accounts, menu, orders and riders over the JSON REST API
// (../shared/docs/PRODUCT.md), on the store and the engine's HTTP server.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "app/api.hpp"
#include "app/backoff.hpp"
#include "app/caller_cache.hpp"
#include "app/metrics.hpp"
#include "app/passwords.hpp"
#include "app/rate_limiter.hpp"
#include "app/restaurant_service.hpp"
#include "app/rider_offers.hpp"
#include "app/signals.hpp"
#include "app/worker_pool.hpp"
#include "core/clock.hpp"
#include "http/cors.hpp"
#include "http/server.hpp"
#include "store/store.hpp"

namespace brigade::app {

struct AppConfig {
  int64_t deliveryFeeCents = 299;
  PasswordPolicy passwords;
  std::chrono::seconds tokenTtl{std::chrono::hours(24 * 30)};
  http::CorsPolicy cors;
  std::string metricsToken;  // empty: only admins may read /metrics
  // Sign-in limits (docs/SECURITY.md). Keyed by account *and* client address, with
  // backoff: a stranger's wrong passwords do not lock the owner out.
  Backoff::Policy loginBackoff;
  // A looser ceiling per account over all addresses (a guess spread over many).
  size_t loginFailuresPerAccount = 50;
  // And per client address over all accounts (one address guessing many).
  size_t loginFailuresPerAddress = 100;
  // Accounts one client address may register per hour: each costs an Argon2id hash.
  size_t registrationsPerAddress = 10;
  unsigned hashThreads = 2;
  // Where every time limit of the app reads "now"; the store should be given the same
  // clock's wallNow() (main does, for --test-clock).
  std::shared_ptr<Clock> clock = std::make_shared<Clock>();
};

inline constexpr int64_t kLoginWindowMs = 60000;           // the per-address window
inline constexpr int64_t kAccountWindowMs = 15 * 60000;    // the per-account ceiling's
inline constexpr int64_t kRegistrationWindowMs = 3600000;  // registrations per address
inline constexpr int64_t kMaxPrepMinutes = 600;
inline constexpr int64_t kMaxPriceCents = 10'000'000;
inline constexpr size_t kMaxNameLength = 200;
inline constexpr size_t kMaxDescriptionLength = 2000;
inline constexpr size_t kMaxNotesLength = 1000;
inline constexpr size_t kMaxAddressLength = 500;
inline constexpr size_t kMaxEmailLength = 254;
inline constexpr size_t kMaxIdempotencyKeyLength = 200;
inline constexpr size_t kMaxReasonLength = 500;
// Signed-in callers are remembered this long, so that a request does not cost two
// database reads; logout replaces the entry at once (revocation is immediate).
inline constexpr int64_t kCallerCacheMs = 5000;
inline constexpr size_t kMaxCachedCallers = 100000;

// Whether a caller may see a change (REST, live events and replay alike).
bool visible(const store::Change& change, const Caller& caller);
// The changes the store reads for a caller: the same rules, answered from indexes, so
// that a read costs what the caller may see. visible() still checks each one.
store::ChangeAudience audienceOf(const Caller& caller);

class App {
 public:
  App(store::Store& store, AppConfig config);
  ~App();
  // Shutdown, before the store goes: finishes the queued password hashing (whose
  // jobs call the store) and ends its threads.
  // Before the store goes: queued password hashing finishes (into the store), and no
  // signal is taken or sent any more.
  void stop() {
    hashers_.stop();
    signals_.close();
    restaurant_.stop();
  }

  // Serves /api/..., /healthz and /metrics on the router.
  void mount(http::Router& router);
  store::Store& store() { return store_; }
  const AppConfig& config() const { return config_; }
  const Clock& clock() const { return *config_.clock; }

  // Called with a token's hash when it is revoked (logout), so live connections
  // authenticated with it can be closed. Set before serving.
  void onTokenRevoked(std::function<void(const std::string& tokenHash)> fn) {
    onTokenRevoked_ = std::move(fn);
  }
  // Signals to and from the other nodes sharing the database.
  Signals& signals() { return signals_; }
  // The restaurant's settings.
  RestaurantService& restaurant() { return restaurant_; }
  // Riders' offers (their expiry and the server's dispatch run by a timer of the caller's).
  RiderOffers& offers() { return offers_; }
  // Forgets a cached caller (the token was revoked here or on another node).
  void forgetToken(const std::string& hash);
  // What /metrics shows (app/metrics.hpp); the other parts add their own.
  Metrics& metrics() { return metrics_; }
  // Looks a token's hash up (for sockets too).
  // The caller a token stands for; the error is kUnauthorizedCode when the token is invalid,
  // expired or revoked, a store error (database_unavailable) when that cannot be told now.
  void authenticate(const std::string& tokenHash, std::function<void(Result<Caller>)> done);

  // Creates a user with a hashed password (blocking: start-up and tools only).
  Result<store::User> createUserBlocking(const std::string& email, const std::string& password,
                                         const std::string& name, store::Role role);

 private:
  void routes();
  void registerUser(const ApiRequestPtr& request, const ReplyPtr& reply);
  void login(const ApiRequestPtr& request, const ReplyPtr& reply);
  void logout(const ApiRequestPtr& request, const ReplyPtr& reply);
  // Counts a failed sign-in (here or, through a signal, on another node).
  void recordLoginFailure(const std::string& account, const std::string& address);
  void createUser(const ApiRequestPtr& request, const ReplyPtr& reply);
  void issueToken(const store::User& user, int status, const ReplyPtr& reply);

  void createCategory(const ApiRequestPtr& request, const ReplyPtr& reply);
  void updateCategory(const ApiRequestPtr& request, const ReplyPtr& reply);
  void createItem(const ApiRequestPtr& request, const ReplyPtr& reply);
  void updateItem(const ApiRequestPtr& request, const ReplyPtr& reply);

  void createOrder(const ApiRequestPtr& request, const ReplyPtr& reply);
  void listOrders(const ApiRequestPtr& request, const ReplyPtr& reply);
  void getOrder(const ApiRequestPtr& request, const ReplyPtr& reply);
  void moveOrder(const ApiRequestPtr& request, const ReplyPtr& reply);
  void assignRider(const ApiRequestPtr& request, const ReplyPtr& reply);
  void setPayment(const ApiRequestPtr& request, const ReplyPtr& reply);
  // Counts a wrong delivery code on the order, then answers `wrong` (retried on a change by
  // another node, `attempts` times at most).
  void countWrongCode(int64_t orderId, Error wrong, const ReplyPtr& reply, int attempts = 3);

  void listChanges(const ApiRequestPtr& request, const ReplyPtr& reply);
  void stats(const ApiRequestPtr& request, const ReplyPtr& reply);
  void dayStats(std::string from, std::string to, json::object measured, const ReplyPtr& reply);
  void metrics(const http::Request& request, const http::ResponderPtr& responder);

  store::Store& store_;
  AppConfig config_;
  CallerCache callers_{kCallerCacheMs, kMaxCachedCallers};
  WorkerPool hashers_;
  Backoff loginByPair_;  // account + address
  RateLimiter loginByAccount_;
  RateLimiter loginByAddress_;
  RateLimiter registrationsByAddress_;
  ApiRouter router_;
  std::function<void(const std::string&)> onTokenRevoked_;
  Metrics metrics_;
  // Last of the members it may call into: destroyed (unsubscribed) first.
  Signals signals_;
  RestaurantService restaurant_;
  RiderOffers offers_;
  std::atomic<uint64_t> ordersCreated_{0};
};

}  // namespace brigade::app
