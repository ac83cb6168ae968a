#include "app/app.hpp"

#include <sodium.h>

#include <boost/json/serialize.hpp>
#include <charconv>
#include <cstdio>
#include <ctime>

#include "app/delivery_code.hpp"
#include "app/fields.hpp"
#include "app/lifecycle.hpp"
#include "app/menu_options.hpp"
#include "app/prep_times.hpp"
#include "app/views.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "store/await.hpp"
#include "store/errors.hpp"
#include "store/timestamp.hpp"

namespace brigade::app {

using store::OrderStatus;
using store::Role;

namespace {

std::optional<int64_t> queryInt(const http::Request& request, std::string_view name,
                                bool& malformed) {
  auto text = request.queryParam(name);
  if (!text) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size()) {
    malformed = true;
    return std::nullopt;
  }
  return value;
}

// 429 with Retry-After in whole seconds (rounded up).
http::Response rateLimited(int64_t waitMs, std::string message) {
  auto response = http::Response::json(
      429, json::serialize(errorBody({429, "rate_limited", std::move(message), ""})));
  response.set("Retry-After", std::to_string((waitMs + 999) / 1000));
  return response;
}

std::string hashHex(std::string_view bytes) {
  return tokenHash(bytes);
}

// Milliseconds from `now` until a store timestamp ("2026-11-25T14:24:50.682Z");
// 0 when it is past or unreadable.
int64_t msUntil(const std::string& at, std::chrono::system_clock::time_point now) {
  auto when = store::parseTimestamp(at);
  if (!when) return 0;
  return std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(*when - now).count());
}

}  // namespace

bool visible(const store::Change& change, const Caller& caller) {
  if (caller.role == Role::kAdmin) return true;
  if (change.collection != store::kOrders) return true;  // the menu is everyone's
  const auto& doc = change.document;
  auto idOf = [&](std::string_view key) -> std::optional<int64_t> {
    auto* v = doc.if_contains(key);
    if (!v || !v->is_int64()) return std::nullopt;
    return v->get_int64();
  };
  if (caller.role == Role::kCustomer) return idOf("customer_id") == caller.id;
  return idOf("rider_id") == caller.id || change.previous_rider_id == caller.id;
}

store::ChangeAudience audienceOf(const Caller& caller) {
  switch (caller.role) {
    case Role::kAdmin:
      return store::ChangeAudience::all();
    case Role::kCustomer:
      return store::ChangeAudience::customer(caller.id);
    case Role::kRider:
      return store::ChangeAudience::rider(caller.id);
  }
  return store::ChangeAudience::customer(caller.id);  // the narrowest, should a role be added
}

App::App(store::Store& store, AppConfig config)
    : store_(store),
      config_(std::move(config)),
      hashers_(config_.hashThreads),
      loginByPair_(config_.loginBackoff),
      loginByAccount_(config_.loginFailuresPerAccount, kAccountWindowMs),
      loginByAddress_(config_.loginFailuresPerAddress, kLoginWindowMs),
      registrationsByAddress_(config_.registrationsPerAddress, kRegistrationWindowMs),
      router_([this](const std::string& hash,
                     std::function<void(Result<Caller>)> done) { authenticate(hash, done); },
              config_.cors),
      signals_(store),
      restaurant_(store, config_.clock, config_.deliveryFeeCents),
      offers_(store, config_.clock, restaurant_) {
  routes();
  // Failed sign-ins on other nodes count here too: the limits hold across nodes.
  signals_.on("login_failure", [this](const json::object& s) {
    const auto* account = s.if_contains("account");
    const auto* address = s.if_contains("address");
    if (!account || !account->is_string() || !address || !address->is_string()) return;
    recordLoginFailure(std::string(account->get_string()), std::string(address->get_string()));
  });
  // Sign-ups on other nodes count here too (counted where they were accepted, as here).
  signals_.on("registration", [this](const json::object& s) {
    const auto* address = s.if_contains("address");
    if (!address || !address->is_string()) return;
    registrationsByAddress_.record(std::string(address->get_string()), clock().nowMs());
  });
  signals_.on("login_success", [this](const json::object& s) {
    const auto* account = s.if_contains("account");
    const auto* address = s.if_contains("address");
    if (!account || !account->is_string() || !address || !address->is_string()) return;
    loginByPair_.reset(std::string(account->get_string()) + '\n' +
                       std::string(address->get_string()));
  });
  addProcessMetrics(metrics_);
  metrics_.onScrape([this](Metrics& m) {
    const auto s = store_.stats();
    m.setTotal("brigade_store_writes_total", "Write operations committed", {},
               static_cast<double>(s.writes));
    m.setTotal("brigade_store_failed_writes_total", "Write operations that returned an error", {},
               static_cast<double>(s.failed_writes));
    m.setTotal("brigade_store_batches_total", "Transactions committed (group commit: fewer)", {},
               static_cast<double>(s.batches));
    m.setHistogram("brigade_store_commit_seconds",
                   "Each batch's transaction, BEGIN to COMMIT, in seconds", s.commit_seconds);
    m.setHistogram("brigade_store_batch_size", "Writes per committed batch", s.batch_size);
    m.setTotal("brigade_orders_created_total", "Orders created (not counting replayed keys)", {},
               static_cast<double>(ordersCreated_.load()));
    m.setGauge("brigade_change_head_seq", "The newest seq of the change stream", {},
               static_cast<double>(store_.headSeq()));
    m.setGauge("brigade_database_up",
               "1 while the database answers (0: writes get 503 and /healthz is unhealthy)", {},
               store_.reachable() ? 1 : 0);
  });
}

void App::recordLoginFailure(const std::string& account, const std::string& address) {
  int64_t t = clock().nowMs();
  loginByPair_.recordFailure(account + '\n' + address, t);
  loginByAccount_.record(account, t);
  loginByAddress_.record(address, t);
}

App::~App() = default;

void App::authenticate(const std::string& hash, std::function<void(Result<Caller>)> done) {
  const int64_t askedAt = clock().nowMs();
  if (auto found = callers_.find(hash, askedAt); found.hit) {
    if (!found.caller) return done(unauthorized());  // a revoked token
    done(std::move(*found.caller));
    return;
  }
  store_.findActiveToken(
      hash, [this, hash, askedAt, done = std::move(done)](Result<store::ActiveToken> found) {
        if (!found) {
          // Not found: the token is invalid. Anything else (the database is unreachable) is
          // not the token's fault: the caller answers 503, never "signed out".
          done(found.error().code == store::errc::kNotFound ? Result<Caller>(unauthorized())
                                                            : Result<Caller>(found.error()));
          return;
        }
        const store::User& user = found->user;
        Caller caller{user.id, user.role, user.email, user.name, hash};
        // Cached no longer than the token lives.
        callers_.remember(hash, caller, askedAt,
                          msUntil(found->token.expires_at, clock().wallNow()), clock().nowMs());
        done(std::move(caller));
      });
}

void App::forgetToken(const std::string& hash) {
  callers_.revoke(hash, clock().nowMs());
}

Result<store::User> App::createUserBlocking(const std::string& email, const std::string& password,
                                            const std::string& name, Role role) {
  std::string hash = hashPassword(password, config_.passwords);
  if (hash.empty()) return makeError("storage_error", "password hashing failed");
  store::NewUser user{lowerAscii(email), name, role, hash};
  return store::await<store::User>([&](auto done) { store_.createUser(user, done); });
}

void App::mount(http::Router& router) {
  router_.mount(router);
  http::Route health;
  health.handle = [this](http::Request&&, const http::ResponderPtr& responder) {
    // Unhealthy while the database cannot be reached: a balancer sends new clients to
    // other nodes, and this one keeps its sockets for when the database is back.
    const bool up = store_.reachable();
    json::object body{{"status", up ? "ok" : "database_unavailable"},
                      {"epoch", store_.epoch()},
                      {"last_seq", store_.headSeq()}};
    auto response = http::Response::json(up ? 200 : 503, json::serialize(body));
    if (!up) response.set("Retry-After", std::to_string(kRetryAfterUnavailableS));
    responder->send(std::move(response));
  };
  router.add("/healthz", std::move(health));
  http::Route metrics;
  metrics.handle = [this](http::Request&& request, const http::ResponderPtr& responder) {
    this->metrics(request, responder);
  };
  router.add("/metrics", std::move(metrics));
}

void App::routes() {
  auto& r = router_;
  auto bind = [this](void (App::*fn)(const ApiRequestPtr&, const ReplyPtr&)) {
    return [this, fn](const ApiRequestPtr& request, const ReplyPtr& reply) {
      (this->*fn)(request, reply);
    };
  };
  r.add("POST", "/api/auth/register", Access::kAnyone, true, bind(&App::registerUser));
  r.add("POST", "/api/auth/login", Access::kAnyone, true, bind(&App::login));
  r.add("POST", "/api/auth/logout", Access::kSignedIn, false, bind(&App::logout));
  r.add("GET", "/api/me", Access::kSignedIn, false,
        [](const ApiRequestPtr& request, const ReplyPtr& reply) {
          const Caller& c = *request->caller;
          reply->json(200, json::object{{"id", c.id},
                                        {"email", c.email},
                                        {"name", c.name},
                                        {"role", store::toString(c.role)}});
        });
  r.add("POST", "/api/users", Access::kAdmin, true, bind(&App::createUser));

  r.add("GET", "/api/menu", Access::kAnyone, false,
        [this](const ApiRequestPtr&, const ReplyPtr& reply) {
          store_.listMenu([reply](Result<store::Menu> menu) {
            if (!menu) return reply->error(fromStore(menu.error()));
            reply->json(200, toJson(*menu));
          });
        });
  r.add("POST", "/api/menu/categories", Access::kAdmin, true, bind(&App::createCategory));
  r.add("PATCH", "/api/menu/categories/:id", Access::kAdmin, true, bind(&App::updateCategory));
  r.add("DELETE", "/api/menu/categories/:id", Access::kAdmin, false,
        [this](const ApiRequestPtr& request, const ReplyPtr& reply) {
          auto id = request->id();
          if (!id) return reply->error(notFound());
          store_.deleteCategory(*id, [reply](Result<void> done) {
            if (!done) return reply->error(fromStore(done.error()));
            reply->noContent();
          });
        });
  r.add("POST", "/api/menu/items", Access::kAdmin, true, bind(&App::createItem));
  r.add("PATCH", "/api/menu/items/:id", Access::kAdmin, true, bind(&App::updateItem));
  r.add("DELETE", "/api/menu/items/:id", Access::kAdmin, false,
        [this](const ApiRequestPtr& request, const ReplyPtr& reply) {
          auto id = request->id();
          if (!id) return reply->error(notFound());
          store_.deleteMenuItem(*id, [reply](Result<void> done) {
            if (!done) return reply->error(fromStore(done.error()));
            reply->noContent();
          });
        });

  r.add("POST", "/api/orders", Access::kCustomer, true, bind(&App::createOrder));
  r.add("GET", "/api/orders", Access::kSignedIn, false, bind(&App::listOrders));
  r.add("GET", "/api/orders/:id", Access::kSignedIn, false, bind(&App::getOrder));
  r.add("POST", "/api/orders/:id/status", Access::kSignedIn, true, bind(&App::moveOrder));
  r.add("POST", "/api/orders/:id/assign", Access::kSignedIn, true, bind(&App::assignRider));
  r.add("POST", "/api/orders/:id/payment", Access::kSignedIn, true, bind(&App::setPayment));
  offers_.routes(r);

  r.add("GET", "/api/riders/me", Access::kRider, false,
        [this](const ApiRequestPtr& request, const ReplyPtr& reply) {
          store_.getRider(request->caller->id, [reply](Result<store::Rider> rider) {
            if (!rider) return reply->error(fromStore(rider.error()));
            reply->json(200, toJson(*rider));
          });
        });
  r.add("POST", "/api/riders/me/online", Access::kRider, true,
        [this](const ApiRequestPtr& request, const ReplyPtr& reply) {
          Fields f(request->body.get_object());
          auto online = f.boolean("online", true);
          if (!f.ok()) return reply->error(*f.error());
          store_.setRiderOnline(request->caller->id, *online, [reply](Result<store::Rider> rider) {
            if (!rider) return reply->error(fromStore(rider.error()));
            reply->json(200, toJson(*rider));
          });
        });
  r.add("GET", "/api/riders", Access::kAdmin, false,
        [this](const ApiRequestPtr&, const ReplyPtr& reply) {
          store_.listRiders([reply](Result<std::vector<store::Rider>> riders) {
            if (!riders) return reply->error(fromStore(riders.error()));
            json::array list;
            for (const auto& rider : *riders) list.push_back(toJson(rider));
            reply->json(200, json::object{{"riders", std::move(list)}});
          });
        });
  r.add("GET", "/api/stats/today", Access::kAdmin, false, bind(&App::stats));
  restaurant_.routes(r);
  r.add("GET", "/api/changes", Access::kSignedIn, false, bind(&App::listChanges));
}

// ------------------------------------------------------------------ accounts

void App::issueToken(const store::User& user, int status, const ReplyPtr& reply) {
  std::string token = newToken();
  store::NewToken record{tokenHash(token), user.id, config_.tokenTtl};
  store_.createToken(record, [reply, user, token, status](Result<store::Token> created) {
    if (!created) return reply->error(fromStore(created.error()));
    reply->json(status, json::object{{"user", toJson(user)}, {"token", token}});
  });
}

void App::registerUser(const ApiRequestPtr& request, const ReplyPtr& reply) {
  Fields f(request->body.get_object());
  auto email = f.text("email", true, 3, kMaxEmailLength);
  auto password = f.text("password", true, kMinPasswordLength, kMaxPasswordLength);
  auto name = f.text("name", true, 1, kMaxNameLength);
  if (f.ok() && !plausibleEmail(*email)) f.fail("email", "is not an email address");
  if (!f.ok()) return reply->error(*f.error());
  const std::string& address = request->http.remoteAddress;
  int64_t now = clock().nowMs();
  if (int64_t wait = registrationsByAddress_.acquire(address, now); wait > 0) {
    metrics_.count(kRateLimitedMetric, kRateLimitedHelp, {{"limit", "registration"}});
    return reply->send(rateLimited(wait, "too many accounts registered from your address"));
  }
  signals_.publish(json::object{{"kind", "registration"}, {"address", address}});
  // The password as sent (not trimmed): spaces may be part of it.
  std::string plain(request->body.get_object().at("password").get_string());
  // Background: a queue of sign-ups never delays a sign-in.
  bool queued = hashers_.submit(
      [this, reply, email = lowerAscii(*email), plain, name = *name] {
        std::string hash = hashPassword(plain, config_.passwords);
        if (hash.empty()) return reply->error(internalError());
        store_.createUser(store::NewUser{email, name, Role::kCustomer, hash},
                          [this, reply](Result<store::User> user) {
                            if (!user) return reply->error(fromStore(user.error()));
                            issueToken(*user, 201, reply);
                          });
      },
      WorkerPool::Priority::kBackground);
  if (!queued) reply->error({503, "busy", "too many sign-ups at once, retry", ""});
}

void App::login(const ApiRequestPtr& request, const ReplyPtr& reply) {
  Fields f(request->body.get_object());
  auto email = f.text("email", true, 1, kMaxEmailLength);
  auto password = f.text("password", true, 1, kMaxPasswordLength);
  if (!f.ok()) return reply->error(*f.error());
  std::string emailKey = lowerAscii(*email);
  std::string addressKey = request->http.remoteAddress;
  std::string pairKey = emailKey + '\n' + addressKey;
  int64_t now = clock().nowMs();
  int64_t wait = std::max({loginByPair_.retryAfterMs(pairKey, now),
                           loginByAccount_.retryAfterMs(emailKey, now),
                           loginByAddress_.retryAfterMs(addressKey, now)});
  if (wait > 0) {
    metrics_.count(kRateLimitedMetric, kRateLimitedHelp, {{"limit", "login"}});
    return reply->send(rateLimited(wait, "too many failed logins, wait"));
  }
  std::string plain(request->body.get_object().at("password").get_string());
  store_.findUserByEmail(emailKey, [this, reply, plain, emailKey, addressKey,
                                    pairKey](Result<store::User> user) {
    if (!user && user.error().code != store::errc::kNotFound) {
      return reply->error(fromStore(user.error()));
    }
    std::optional<store::User> found;
    if (user) found = *user;
    bool queued = hashers_.submit([this, reply, plain, found, emailKey, addressKey, pairKey] {
      // Unknown emails are checked against a decoy so both answers take as long.
      bool ok = verifyPassword(plain, found ? found->password_hash : decoyHash(config_.passwords));
      const json::object who{{"account", emailKey}, {"address", addressKey}};
      if (!ok || !found) {
        recordLoginFailure(emailKey, addressKey);
        metrics_.count("brigade_login_failures_total", "Sign-ins refused: wrong email or password");
        json::object signal = who;
        signal["kind"] = "login_failure";
        signals_.publish(signal);
        return reply->error({401, "invalid_credentials", "wrong email or password", ""});
      }
      loginByPair_.reset(pairKey);
      json::object signal = who;
      signal["kind"] = "login_success";
      signals_.publish(signal);
      issueToken(*found, 200, reply);
    });
    if (!queued) reply->error({503, "busy", "too many logins at once, retry", ""});
  });
}

void App::logout(const ApiRequestPtr& request, const ReplyPtr& reply) {
  std::string hash = request->caller->tokenHash;
  forgetToken(hash);
  store_.revokeToken(hash, [this, reply, hash](Result<void> done) {
    if (!done && done.error().code != store::errc::kNotFound) {
      return reply->error(fromStore(done.error()));
    }
    if (onTokenRevoked_) onTokenRevoked_(hash);
    reply->noContent();
  });
}

void App::createUser(const ApiRequestPtr& request, const ReplyPtr& reply) {
  Fields f(request->body.get_object());
  auto email = f.text("email", true, 3, kMaxEmailLength);
  auto password = f.text("password", true, kMinPasswordLength, kMaxPasswordLength);
  auto name = f.text("name", true, 1, kMaxNameLength);
  auto roleText = f.text("role", true, 1, 20);
  if (f.ok() && !plausibleEmail(*email)) f.fail("email", "is not an email address");
  std::optional<Role> role;
  if (f.ok()) {
    role = store::parseRole(*roleText);
    if (!role || *role == Role::kCustomer) f.fail("role", "must be admin or rider");
  }
  if (!f.ok()) return reply->error(*f.error());
  std::string plain(request->body.get_object().at("password").get_string());
  bool queued = hashers_.submit([this, reply, email = lowerAscii(*email), plain, name = *name,
                                 role = *role] {
    std::string hash = hashPassword(plain, config_.passwords);
    if (hash.empty()) return reply->error(internalError());
    store_.createUser(store::NewUser{email, name, role, hash}, [reply](Result<store::User> user) {
      if (!user) return reply->error(fromStore(user.error()));
      reply->json(201, json::object{{"user", toJson(*user)}});
    });
  });
  if (!queued) reply->error({503, "busy", "too many requests at once, retry", ""});
}

// ------------------------------------------------------------------ menu

void App::createCategory(const ApiRequestPtr& request, const ReplyPtr& reply) {
  Fields f(request->body.get_object());
  auto name = f.text("name", true, 1, kMaxNameLength);
  auto position = f.integer("position", false, 0, 1'000'000);
  if (!f.ok()) return reply->error(*f.error());
  store_.createCategory({*name, position}, [reply](Result<store::MenuCategory> category) {
    if (!category) return reply->error(fromStore(category.error()));
    reply->json(201, toJson(*category));
  });
}

void App::updateCategory(const ApiRequestPtr& request, const ReplyPtr& reply) {
  auto id = request->id();
  if (!id) return reply->error(notFound());
  Fields f(request->body.get_object());
  store::MenuCategoryPatch patch;
  patch.name = f.text("name", false, 1, kMaxNameLength);
  patch.position = f.integer("position", false, 0, 1'000'000);
  auto version = f.integer("if_version", false, 0, INT64_MAX);
  if (!f.ok()) return reply->error(*f.error());
  store_.updateCategory(*id, patch, version, [reply](Result<store::MenuCategory> category) {
    if (!category) return reply->error(fromStore(category.error()));
    reply->json(200, toJson(*category));
  });
}

void App::createItem(const ApiRequestPtr& request, const ReplyPtr& reply) {
  Fields f(request->body.get_object());
  store::NewMenuItem item;
  auto category = f.integer("category_id", true, 1, INT64_MAX);
  auto name = f.text("name", true, 1, kMaxNameLength);
  auto description = f.text("description", false, 0, kMaxDescriptionLength);
  auto price = f.integer("price_cents", true, 0, kMaxPriceCents);
  auto available = f.boolean("available", false);
  auto position = f.integer("position", false, 0, 1'000'000);
  if (!f.ok()) return reply->error(*f.error());
  item.category_id = *category;
  item.name = *name;
  item.description = description.value_or("");
  item.price_cents = *price;
  item.available = available.value_or(true);
  item.position = position;
  const json::object& body = request->body.get_object();
  if (const auto* groups = body.if_contains("option_groups")) {
    if (auto bad = readOptionGroups(*groups, item.option_groups)) return reply->error(*bad);
  }
  if (const auto* allergens = body.if_contains("allergens")) {
    if (auto bad = readAllergens(*allergens, item.allergens)) return reply->error(*bad);
  }
  store_.createMenuItem(item, [reply](Result<store::MenuItem> created) {
    if (!created) return reply->error(fromStore(created.error()));
    reply->json(201, toJson(*created));
  });
}

void App::updateItem(const ApiRequestPtr& request, const ReplyPtr& reply) {
  auto id = request->id();
  if (!id) return reply->error(notFound());
  Fields f(request->body.get_object());
  store::MenuItemPatch patch;
  patch.category_id = f.integer("category_id", false, 1, INT64_MAX);
  patch.name = f.text("name", false, 1, kMaxNameLength);
  patch.description = f.text("description", false, 0, kMaxDescriptionLength);
  patch.price_cents = f.integer("price_cents", false, 0, kMaxPriceCents);
  patch.available = f.boolean("available", false);
  patch.position = f.integer("position", false, 0, 1'000'000);
  auto version = f.integer("if_version", false, 0, INT64_MAX);
  if (!f.ok()) return reply->error(*f.error());
  const json::object& body = request->body.get_object();
  if (const auto* groups = body.if_contains("option_groups")) {
    patch.option_groups.emplace();
    if (auto bad = readOptionGroups(*groups, *patch.option_groups)) return reply->error(*bad);
  }
  if (const auto* allergens = body.if_contains("allergens")) {
    patch.allergens.emplace();
    if (auto bad = readAllergens(*allergens, *patch.allergens)) return reply->error(*bad);
  }
  store_.updateMenuItem(*id, patch, version, [reply](Result<store::MenuItem> item) {
    if (!item) return reply->error(fromStore(item.error()));
    reply->json(200, toJson(*item));
  });
}

// ------------------------------------------------------------------ orders

void App::createOrder(const ApiRequestPtr& request, const ReplyPtr& reply) {
  const json::object& body = request->body.get_object();
  Fields f(body);
  store::NewOrder order;
  order.customer_id = request->caller->id;
  order.delivery_fee_cents = config_.deliveryFeeCents;
  const json::value* items = body.if_contains("items");
  if (!items || !items->is_array()) {
    f.fail("items", items ? "must be an array" : "is required");
  } else if (items->get_array().empty()) {
    f.fail("items", "must not be empty");
  } else if (items->get_array().size() > store::kMaxOrderLines) {
    f.fail("items", "at most " + std::to_string(store::kMaxOrderLines) + " lines");
  } else {
    const auto& lines = items->get_array();
    for (size_t i = 0; i < lines.size() && f.ok(); ++i) {
      std::string prefix = "items[" + std::to_string(i) + "]";
      if (!lines[i].is_object()) {
        f.fail(prefix, "must be an object");
        break;
      }
      Fields line(lines[i].get_object(), prefix);
      auto itemId = line.integer("item_id", true, 1, INT64_MAX);
      auto quantity = line.integer("quantity", true, 1, store::kMaxLineQuantity);
      auto notes = line.text("notes", false, 0, kMaxNotesLength);
      if (!line.ok()) return reply->error(*line.error());
      std::vector<int64_t> options;
      if (const auto* chosen = lines[i].get_object().if_contains("options")) {
        if (auto bad = readLineOptions(*chosen, prefix + ".options", options)) {
          return reply->error(*bad);
        }
      }
      order.items.push_back({*itemId, *quantity, notes.value_or(""), std::move(options)});
    }
  }
  if (!f.ok()) return reply->error(*f.error());
  const json::value* delivery = body.if_contains("delivery");
  if (!delivery || !delivery->is_object()) {
    f.fail("delivery", delivery ? "must be an object" : "is required");
    return reply->error(*f.error());
  }
  Fields d(delivery->get_object(), "delivery");
  auto address = d.text("address", true, 1, kMaxAddressLength);
  auto lat = d.number("lat", false, -90, 90);
  auto lng = d.number("lng", false, -180, 180);
  if (d.ok() && lat.has_value() != lng.has_value())
    d.fail(lat ? "lng" : "lat", "is required with the other coordinate");
  if (!d.ok()) return reply->error(*d.error());
  auto notes = f.text("notes", false, 0, kMaxNotesLength);
  if (!f.ok()) return reply->error(*f.error());
  auto payment = f.text("payment_method", false, 1, 10);
  if (payment && *payment != store::kPaymentCash && *payment != store::kPaymentCard) {
    f.fail("payment_method", "is \"cash\" or \"card\" (paid on delivery)");
  }
  if (!f.ok()) return reply->error(*f.error());
  order.delivery = {*address, lat, lng, std::nullopt};
  order.notes = notes.value_or("");
  order.payment_method = payment.value_or(std::string(store::kPaymentCash));
  order.delivery_code = newDeliveryCode();
  order.admit = restaurant_.admission();
  std::optional<GeoPoint> point;
  if (lat) point = GeoPoint{*lat, *lng};
  order.price = restaurant_.pricing(point);

  std::string_view key = request->http.header("idempotency-key");
  if (!key.empty()) {
    if (key.size() > kMaxIdempotencyKeyLength) {
      return reply->error(invalid("Idempotency-Key", "at most 200 characters"));
    }
    // The request as the server understood it: same meaning, same hash.
    json::array lines;
    for (const auto& line : order.items) {
      json::array options;
      for (int64_t o : line.options) options.push_back(o);
      lines.push_back(json::array{line.item_id, line.quantity, line.notes, options});
    }
    json::array canonical{lines,
                          order.delivery.address,
                          lat ? json::value(*lat) : json::value(nullptr),
                          lng ? json::value(*lng) : json::value(nullptr),
                          order.notes,
                          order.payment_method};
    order.idempotency =
        store::IdempotencyRequest{std::string(key), hashHex(json::serialize(canonical))};
  }
  store_.createOrder(std::move(order), [this, reply](Result<store::OrderCreated> created) {
    reply->onLoop([this, reply, created = std::move(created)] {
      if (!created) return reply->error(fromStore(created.error()));
      if (!created->replayed) ordersCreated_.fetch_add(1, std::memory_order_relaxed);
      reply->json(created->replayed ? 200 : 201, toJson(created->order));
    });
  });
}

namespace {

bool canSee(const store::Order& order, const Caller& caller) {
  switch (caller.role) {
    case Role::kAdmin:
      return true;
    case Role::kCustomer:
      return order.customer_id == caller.id;
    case Role::kRider:
      return order.rider_id == caller.id;
  }
  return false;
}

}  // namespace

void App::listOrders(const ApiRequestPtr& request, const ReplyPtr& reply) {
  const Caller& caller = *request->caller;
  store::OrderQuery query;
  bool bad = false;
  if (auto status = request->http.queryParam("status")) {
    query.status = store::parseOrderStatus(*status);
    if (!query.status) return reply->error(invalid("status", "unknown status"));
  }
  auto limit = queryInt(request->http, "limit", bad);
  if (bad || (limit && (*limit < 1 || *limit > store::kMaxOrderListLimit))) {
    return reply->error(invalid("limit", "must be between 1 and 200"));
  }
  query.limit = limit.value_or(50);
  auto before = queryInt(request->http, "before", bad);
  if (bad || (before && *before < 1)) return reply->error(invalid("before", "must be an order id"));
  query.before_id = before;
  if (caller.role == Role::kCustomer) query.customer_id = caller.id;
  if (caller.role == Role::kRider) query.rider_id = caller.id;
  int64_t pageSize = query.limit;
  store_.listOrders(query, [reply, pageSize, caller](Result<std::vector<store::Order>> orders) {
    if (!orders) return reply->error(fromStore(orders.error()));
    json::array list;
    for (const auto& order : *orders) list.push_back(toJson(order, caller.role));
    json::value next = nullptr;
    if (static_cast<int64_t>(orders->size()) == pageSize && !orders->empty()) {
      next = orders->back().id;
    }
    reply->json(200, json::object{{"orders", std::move(list)}, {"next_before", next}});
  });
}

void App::getOrder(const ApiRequestPtr& request, const ReplyPtr& reply) {
  auto id = request->id();
  if (!id) return reply->error(notFound("no such order"));
  store_.getOrder(*id, [request, reply](Result<store::Order> order) {
    if (!order || !canSee(*order, *request->caller)) {
      if (order || order.error().code == store::errc::kNotFound) {
        return reply->error(notFound("no such order"));
      }
      return reply->error(fromStore(order.error()));
    }
    reply->json(200, toJson(*order, request->caller->role));
  });
}

void App::moveOrder(const ApiRequestPtr& request, const ReplyPtr& reply) {
  auto id = request->id();
  if (!id) return reply->error(notFound("no such order"));
  const Caller caller = *request->caller;
  Fields f(request->body.get_object());
  auto statusText = f.text("status", true, 1, 20);
  auto reason = f.text("reason", false, 0, kMaxReasonLength);
  auto prep = f.integer("prep_minutes", false, 1, kMaxPrepMinutes);
  auto version = f.integer("if_version", false, 0, INT64_MAX);
  auto code = f.text("code", false, 1, 16);
  auto paid = f.boolean("paid", false);
  std::optional<OrderStatus> to;
  if (f.ok()) {
    to = store::parseOrderStatus(*statusText);
    if (!to) f.fail("status", "unknown status");
  }
  if (!f.ok()) return reply->error(*f.error());
  const bool delivering = *to == OrderStatus::kDelivered;
  if ((code || paid) && !delivering) {
    return reply->error(invalid(code ? "code" : "paid", "only with status \"delivered\""));
  }
  store::OrderUpdate update;
  update.id = *id;
  // if_version is checked in `check`, after visibility and role, so a stale version
  // tells nothing about an order the caller may not see (404) or move (403).
  update.status = *to;
  update.by = caller.id;
  bool hasReason = reason && !reason->empty();
  if (*to == OrderStatus::kRejected || *to == OrderStatus::kCancelled ||
      (delivering && caller.role == Role::kAdmin)) {
    update.status_reason = hasReason ? std::optional<std::string>(*reason) : std::nullopt;
  }
  if (prep && (*to == OrderStatus::kAccepted || *to == OrderStatus::kPreparing)) {
    // Busy mode: the customer's quote includes the kitchen's extra minutes, added once,
    // when the order is accepted.
    int64_t busy = *to == OrderStatus::kAccepted ? restaurant_.current()->busy_extra_minutes : 0;
    update.prep_minutes = std::optional<int64_t>(*prep + busy);
  }
  if (paid && *paid) update.payment_status = std::string(store::kPaid);
  // Picking an order up takes it: an open offer is accepted by it.
  if (*to == OrderStatus::kPickedUp) update.accept_offer = true;
  bool needsReason = *to == OrderStatus::kRejected;
  OrderStatus target = *to;
  const bool codeRequired = restaurant_.current()->delivery_code_required;
  update.check = [caller, target, needsReason, hasReason, version, delivering, code,
                  codeRequired](const store::Order& order) -> Result<void> {
    if (!canSee(order, caller)) return makeError("not_found", "no such order");
    auto allowed = checkMove(order, target, caller.role, caller.id);
    if (!allowed) return allowed;
    if (version && *version != order.version) {
      return makeError(store::errc::kVersionConflict, "the order changed since that version");
    }
    if (needsReason && !hasReason)
      return makeError("reason_required", "a rejection needs a reason");
    if (delivering) return checkDeliveryProof(order, caller, code, codeRequired, hasReason);
    return {};
  };
  store_.updateOrder(std::move(update),
                     [this, reply, caller, orderId = *id](Result<store::Order> order) {
                       if (!order && order.error().code == kWrongCode) {
                         return countWrongCode(orderId, order.error(), reply);
                       }
                       reply->onLoop([reply, caller, order = std::move(order)] {
                         if (!order) return reply->error(fromStore(order.error()));
                         reply->json(200, toJson(*order, caller.role));
                       });
                     });
}

void App::countWrongCode(int64_t orderId, Error wrong, const ReplyPtr& reply, int attempts) {
  // Counted on the order as it is in the write (code_attempts + 1): guesses sent in parallel
  // are each counted. A change by another node meanwhile is a conflict: counted again.
  store::OrderUpdate count;
  count.id = orderId;
  count.count_wrong_code = true;
  count.check = [](const store::Order& order) -> Result<void> {
    if (order.status != OrderStatus::kPickedUp) return makeError("not_counted", "moved on");
    return {};
  };
  store_.updateOrder(
      std::move(count), [this, reply, wrong, attempts, orderId](Result<store::Order> counted) {
        if (!counted && counted.error().code == store::errc::kVersionConflict && attempts > 1) {
          return countWrongCode(orderId, wrong, reply, attempts - 1);
        }
        if (!counted && counted.error().code != "not_counted") {
          return reply->error(fromStore(counted.error()));
        }
        reply->error(fromStore(wrong));
      });
}

void App::setPayment(const ApiRequestPtr& request, const ReplyPtr& reply) {
  auto id = request->id();
  if (!id) return reply->error(notFound("no such order"));
  const Caller caller = *request->caller;
  Fields f(request->body.get_object());
  auto status = f.text("status", true, 1, 10);
  auto version = f.integer("if_version", false, 0, INT64_MAX);
  if (f.ok() && *status != store::kPaid && *status != store::kUnpaid) {
    f.fail("status", "is \"paid\" or \"unpaid\"");
  }
  if (!f.ok()) return reply->error(*f.error());
  store::OrderUpdate update;
  update.id = *id;
  update.expected_version = version;
  update.payment_status = *status;
  update.check = [caller](const store::Order& order) -> Result<void> {
    if (!canSee(order, caller)) return makeError("not_found", "no such order");
    // Staff, or the rider who carries it (collected on delivery).
    if (caller.role == Role::kCustomer) {
      return makeError("forbidden", "only staff and the order's rider record a payment");
    }
    return {};
  };
  store_.updateOrder(std::move(update), [reply, caller](Result<store::Order> order) {
    reply->onLoop([reply, caller, order = std::move(order)] {
      if (!order) return reply->error(fromStore(order.error()));
      reply->json(200, toJson(*order, caller.role));
    });
  });
}

void App::assignRider(const ApiRequestPtr& request, const ReplyPtr& reply) {
  auto id = request->id();
  if (!id) return reply->error(notFound("no such order"));
  const Caller caller = *request->caller;
  Fields f(request->body.get_object());
  auto riderId = f.integer("rider_id", true, 1, INT64_MAX);
  auto version = f.integer("if_version", false, 0, INT64_MAX);
  if (!f.ok()) return reply->error(*f.error());
  int64_t orderId = *id;
  auto assign = [this, reply, caller, orderId, rider = *riderId, version] {
    store::OrderUpdate update;
    update.id = orderId;
    update.expected_version = version;
    update.rider_id = std::optional<int64_t>(rider);
    update.by = caller.id;
    offers_.offer(update);  // the rider accepts or declines (app/rider_offers.hpp)
    update.check = [caller](const store::Order& order) -> Result<void> {
      if (!canSee(order, caller)) return makeError("not_found", "no such order");
      if (caller.role != Role::kAdmin) return makeError("forbidden", "only staff assign riders");
      if (!assignable(order.status)) {
        return makeError("not_assignable",
                         "riders are assigned to accepted, preparing or ready orders");
      }
      return {};
    };
    store_.updateOrder(std::move(update), [reply](Result<store::Order> order) {
      reply->onLoop([reply, order = std::move(order)] {
        if (!order) return reply->error(fromStore(order.error()));
        reply->json(200, toJson(*order));  // staff only
      });
    });
  };
  if (caller.role != Role::kAdmin) {
    // Others may not assign; those who cannot see the order get 404 (checked first).
    store_.getOrder(orderId, [reply, caller](Result<store::Order> order) {
      if (!order || !canSee(*order, caller)) return reply->error(notFound("no such order"));
      reply->error(forbidden("only staff assign riders"));
    });
    return;
  }
  // An unknown order is 404 before anything is said about the rider.
  store_.getOrder(orderId, [this, reply, assign, rider = *riderId](Result<store::Order> order) {
    if (!order) {
      if (order.error().code == store::errc::kNotFound) {
        return reply->error(notFound("no such order"));
      }
      return reply->error(fromStore(order.error()));
    }
    store_.getRider(rider, [reply, assign](Result<store::Rider> rider) {
      if (!rider) {
        if (rider.error().code == store::errc::kNotFound ||
            rider.error().code == store::errc::kNotARider) {
          return reply->error(invalid("rider_id", "no such rider"));
        }
        return reply->error(fromStore(rider.error()));
      }
      if (!rider->online) return reply->error(conflict("rider_offline", "that rider is offline"));
      assign();
    });
  });
}

// ------------------------------------------------------------------ changes, stats, metrics

void App::listChanges(const ApiRequestPtr& request, const ReplyPtr& reply) {
  bool bad = false;
  auto after = queryInt(request->http, "after", bad);
  if (bad || (after && *after < 0)) return reply->error(invalid("after", "must be a seq (>= 0)"));
  auto limit = queryInt(request->http, "limit", bad);
  if (bad || (limit && (*limit < 1 || *limit > static_cast<int64_t>(store::kMaxReadLimit)))) {
    return reply->error(invalid("limit", "must be between 1 and 1000"));
  }
  // One read: the store returns only the caller's changes, and its last_seq moves past
  // everybody else's (a caller who sees few changes still moves forward without gaps).
  const Caller caller = *request->caller;
  store_.readChanges(
      after.value_or(0), static_cast<size_t>(limit.value_or(100)), audienceOf(caller),
      [reply, caller](Result<store::ChangePage> page) {
        if (!page) {
          if (page.error().code == store::errc::kHistoryLost) {
            return reply->error(
                {410, "history_lost", "changes after that seq are no longer kept; reload", ""});
          }
          return reply->error(fromStore(page.error()));
        }
        json::array changes;
        for (const auto& change : page->changes) {
          if (visible(*change, caller)) changes.push_back(toJson(*change, caller.role));
        }
        reply->json(200, json::object{{"changes", std::move(changes)},
                                      {"epoch", page->epoch},
                                      {"last_seq", page->last_seq}});
      });
}

void App::stats(const ApiRequestPtr&, const ReplyPtr& reply) {
  restaurant_.read([this, reply](Result<std::shared_ptr<const RestaurantSettings>> settings) {
    if (!settings) return reply->error(fromStore(settings.error()));
    // The restaurant's day: local midnight to local midnight in its time zone.
    const auto* zone = (*settings)->zone();
    const auto now = clock().wallNow();
    DayBounds day = localDay(zone, now);
    // The week behind the per-item figures: the six local days before today, and today.
    DayBounds weekStart =
        localDay(zone, day.from - std::chrono::hours(24 * 6) + std::chrono::hours(12));
    store_.orderTimings(store::formatTimestamp(weekStart.from), store::formatTimestamp(day.to),
                        [this, reply, day, zone](Result<std::vector<store::OrderTiming>> timings) {
                          if (!timings) return reply->error(fromStore(timings.error()));
                          auto measured = measuredTimes(*timings, day.from, day.to, zone);
                          dayStats(store::formatTimestamp(day.from), store::formatTimestamp(day.to),
                                   std::move(measured), reply);
                        });
  });
}

void App::dayStats(std::string from, std::string to, json::object measured, const ReplyPtr& reply) {
  store_.orderStats(
      from, to,
      [reply, from, to, measured = std::move(measured)](Result<store::OrderStats> stats) mutable {
        if (!stats) return reply->error(fromStore(stats.error()));
        json::object byStatus;
        for (const auto& [status, count] : stats->by_status) byStatus[status] = count;
        json::value avg = nullptr;
        if (stats->avg_prep_minutes) avg = *stats->avg_prep_minutes;
        reply->json(200, json::object{{"from", from},
                                      {"to", to},
                                      {"orders", stats->orders},
                                      {"revenue_cents", stats->revenue_cents},
                                      {"avg_prep_minutes", avg},
                                      {"by_status", std::move(byStatus)},
                                      {"measured", std::move(measured)}});
      });
}

void App::metrics(const http::Request& request, const http::ResponderPtr& responder) {
  auto answer = [this, responder] {
    http::Response response;
    response.contentType = "text/plain; version=0.0.4";
    response.body = metrics_.scrape();
    responder->send(std::move(response));
  };
  auto token = bearerToken(request);
  auto refuse = [responder] {
    auto response = http::Response::json(
        401, json::serialize(errorBody({401, "unauthorized", "metrics need a token", ""})));
    responder->send(std::move(response));
  };
  if (!token) return refuse();
  if (!config_.metricsToken.empty() &&
      sodium_memcmp(token->data(), config_.metricsToken.data(),
                    std::min(token->size(), config_.metricsToken.size())) == 0 &&
      token->size() == config_.metricsToken.size()) {
    return answer();
  }
  authenticate(tokenHash(*token), [answer, refuse](Result<Caller> caller) {
    if (caller && caller->role == Role::kAdmin) return answer();
    refuse();
  });
}

}  // namespace brigade::app
