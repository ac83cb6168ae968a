#include "store/sqlite/sqlite_store.hpp"

#include <pthread.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <boost/json/parse.hpp>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "core/log.hpp"
#include "store/change_hub.hpp"
#include "store/documents.hpp"
#include "store/errors.hpp"
#include "store/sqlite/audience_query.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/schema.hpp"

namespace brigade::store::sqlite {
namespace {

namespace fs = std::filesystem;

constexpr std::chrono::milliseconds kCheckpointInterval{100};
constexpr int kBackstopCheckpointPages = 16384;  // 64 MiB of WAL with 4 KiB pages

Error notFound(std::string_view what, int64_t id) {
  return makeError(errc::kNotFound, std::string(what) + " " + std::to_string(id) + " not found");
}

// ---------------------------------------------------------------------------------------
// Row readers shared by the writer (inside its transaction) and the readers.

constexpr const char* kUserColumns =
    "SELECT id, email, name, role, password_hash, created_at, version FROM users ";

User userFromRow(const Statement& st) {
  User u;
  u.id = st.int64(0);
  u.email = st.text(1);
  u.name = st.text(2);
  u.role = parseRole(st.text(3)).value_or(Role::kCustomer);
  u.password_hash = st.text(4);
  u.created_at = st.text(5);
  u.version = st.int64(6);
  return u;
}

Result<User> userById(Connection& c, int64_t id) {
  auto st = c.statement(std::string(kUserColumns) + "WHERE id = ?");
  if (!st) return st.error();
  st->bind(1, id);
  const int rc = st->step();
  if (rc == SQLITE_DONE) return notFound("user", id);
  if (rc != SQLITE_ROW) return c.lastError(rc);
  return userFromRow(*st);
}

constexpr const char* kCategoryColumns =
    "SELECT id, name, position, version, created_at, updated_at FROM menu_categories ";

MenuCategory categoryFromRow(const Statement& st) {
  return MenuCategory{st.int64(0), st.text(1), st.int64(2), st.int64(3), st.text(4), st.text(5)};
}

Result<MenuCategory> categoryById(Connection& c, int64_t id) {
  auto st = c.statement(std::string(kCategoryColumns) + "WHERE id = ?");
  if (!st) return st.error();
  st->bind(1, id);
  const int rc = st->step();
  if (rc == SQLITE_DONE) return notFound("category", id);
  if (rc != SQLITE_ROW) return c.lastError(rc);
  return categoryFromRow(*st);
}

constexpr const char* kItemColumns =
    "SELECT id, category_id, name, description, price_cents, available, position, version, "
    "created_at, updated_at FROM menu_items ";

MenuItem itemFromRow(const Statement& st) {
  return MenuItem{st.int64(0),      st.int64(1), st.text(2),  st.text(3), st.int64(4),
                  st.int64(5) != 0, st.int64(6), st.int64(7), st.text(8), st.text(9)};
}

Result<MenuItem> itemById(Connection& c, int64_t id) {
  auto st = c.statement(std::string(kItemColumns) + "WHERE id = ?");
  if (!st) return st.error();
  st->bind(1, id);
  const int rc = st->step();
  if (rc == SQLITE_DONE) return notFound("menu item", id);
  if (rc != SQLITE_ROW) return c.lastError(rc);
  return itemFromRow(*st);
}

Result<Order> orderFromJson(const std::string& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return makeError(errc::kStorage, "order document is not JSON");
  return orderFromDocument(v.as_object());
}

Result<Order> orderById(Connection& c, int64_t id) {
  auto st = c.statement("SELECT document FROM order_documents WHERE id = ?");
  if (!st) return st.error();
  st->bind(1, id);
  const int rc = st->step();
  if (rc == SQLITE_DONE) return notFound("order", id);
  if (rc != SQLITE_ROW) return c.lastError(rc);
  return orderFromJson(st->text(0));
}

constexpr const char* kActiveStatuses = "('accepted','preparing','ready','picked_up')";

// Riders with their active orders; `only` restricts to one user id.
Result<std::vector<Rider>> riders(Connection& c, std::optional<int64_t> only) {
  auto st = c.statement(
      "SELECT u.id, u.name, u.email, coalesce(r.online, 0), r.lat, r.lng, r.located_at "
      "FROM users AS u LEFT JOIN riders AS r ON r.user_id = u.id "
      "WHERE u.role = 'rider' AND (?1 IS NULL OR u.id = ?1) ORDER BY u.id");
  if (!st) return st.error();
  st->bind(1, only);
  std::vector<Rider> out;
  std::map<int64_t, size_t> index;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) {
    Rider r;
    r.id = st->int64(0);
    r.name = st->text(1);
    r.email = st->text(2);
    r.online = st->int64(3) != 0;
    if (!st->isNull(4) && !st->isNull(5)) {
      r.last_location = Location{st->real(4), st->real(5), st->text(6)};
    }
    index[r.id] = out.size();
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return c.lastError(rc);
  auto active = c.statement(std::string("SELECT rider_id, id FROM orders WHERE rider_id IS NOT "
                                        "NULL AND (?1 IS NULL OR rider_id = ?1) AND status IN ") +
                            kActiveStatuses + " ORDER BY id");
  if (!active) return active.error();
  active->bind(1, only);
  while ((rc = active->step()) == SQLITE_ROW) {
    if (auto it = index.find(active->int64(0)); it != index.end()) {
      out[it->second].active_order_ids.push_back(active->int64(1));
    }
  }
  if (rc != SQLITE_DONE) return c.lastError(rc);
  return out;
}

Result<Rider> riderById(Connection& c, int64_t id) {
  auto list = riders(c, id);
  if (!list) return list.error();
  if (list->empty()) {
    auto user = userById(c, id);
    if (!user) return user.error();
    return makeError(errc::kNotARider, "user " + std::to_string(id) + " is not a rider");
  }
  return std::move(list->front());
}

Result<std::vector<ChangePtr>> fetchChanges(Connection& c, int64_t after_seq, size_t limit,
                                            const ChangeAudience& audience) {
  static const std::string kAllQuery = audienceQuery(ChangeAudience::Kind::kAll);
  static const std::string kCustomerQuery = audienceQuery(ChangeAudience::Kind::kCustomer);
  static const std::string kRiderQuery = audienceQuery(ChangeAudience::Kind::kRider);
  const std::string& sql = audience.kind == ChangeAudience::Kind::kAll        ? kAllQuery
                           : audience.kind == ChangeAudience::Kind::kCustomer ? kCustomerQuery
                                                                              : kRiderQuery;
  auto st = c.statement(sql);
  if (!st) return st.error();
  st->bind(1, after_seq).bind(2, static_cast<int64_t>(limit));
  if (audience.kind != ChangeAudience::Kind::kAll) st->bind(3, audience.user_id);
  std::vector<ChangePtr> out;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) {
    out.push_back(makeChange(st->int64(0), st->text(1), st->text(2), st->int64(3), st->text(4),
                             st->text(5), st->optInt64(6)));
  }
  if (rc != SQLITE_DONE) return c.lastError(rc);
  return out;
}

Result<StreamBounds> streamBounds(Connection& c) {
  // sqlite_sequence holds the largest seq ever assigned, even when retention emptied the table.
  auto st = c.statement(
      "SELECT (SELECT min(seq) FROM changes), "
      "coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0)");
  if (!st) return st.error();
  const int rc = st->step();
  if (rc != SQLITE_ROW) return c.lastError(rc);
  StreamBounds b;
  b.head = st->int64(1);
  b.oldest = st->isNull(0) ? b.head + 1 : st->int64(0);
  return b;
}

// A consistent snapshot for reads made of several statements.
class ReadTransaction {
 public:
  explicit ReadTransaction(Connection& c) : c_(c) { ok_ = c_.exec("BEGIN").ok(); }
  ~ReadTransaction() {
    if (ok_) (void)c_.exec("COMMIT");
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  Connection& c_;
  bool ok_ = false;
};

void configure(Connection& c, const SqliteOptions& o) {
  sqlite3_busy_timeout(c.raw(), static_cast<int>(o.busy_timeout.count()));
  c.execOrThrow("PRAGMA foreign_keys = ON", "enabling foreign keys");
}

// ---------------------------------------------------------------------------------------

class SqliteChangeSource final : public ChangeSource {
 public:
  explicit SqliteChangeSource(std::unique_ptr<Connection> c) : c_(std::move(c)) {}

  Result<std::vector<ChangePtr>> fetch(int64_t after_seq, size_t limit) override {
    return fetchChanges(*c_, after_seq, limit, ChangeAudience::all());
  }
  Result<StreamBounds> bounds() override { return streamBounds(*c_); }

  // data_version moves when any other connection (ours included) or process commits.
  bool maybeChanged() override {
    auto st = c_->statement("PRAGMA data_version");
    if (!st || st->step() != SQLITE_ROW) return true;
    const int64_t v = st->int64(0);
    const bool changed = v != data_version_;
    data_version_ = v;
    return changed;
  }

 private:
  std::unique_ptr<Connection> c_;
  int64_t data_version_ = -1;
};

class ReaderPool {
 public:
  using Task = std::function<void(Connection&)>;

  ReaderPool(const SqliteOptions& o) {
    for (int i = 0; i < std::max(1, o.readers); ++i) {
      auto c = std::make_unique<Connection>(o.path, SQLITE_OPEN_READWRITE);
      configure(*c, o);
      c->execOrThrow("PRAGMA query_only = ON", "configuring a reader");
      conns_.push_back(std::move(c));
    }
    for (auto& c : conns_) {
      threads_.emplace_back([this, conn = c.get()] {
        pthread_setname_np(pthread_self(), "store-reader");
        run(*conn);
      });
    }
  }

  ~ReaderPool() { stop(); }

  // Answers what is queued, then ends the threads; later posts are refused.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  bool stopped() {
    std::lock_guard lock(mutex_);
    return stop_;
  }

  bool post(Task task) {
    {
      std::lock_guard lock(mutex_);
      if (stop_) return false;
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
    return true;
  }

 private:
  void run(Connection& c) {
    for (;;) {
      Task task;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
        if (tasks_.empty()) return;  // stopping, and nothing left to answer
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task(c);
    }
  }

  std::vector<std::unique_ptr<Connection>> conns_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Task> tasks_;
  bool stop_ = false;
};

struct WriteJob {
  std::function<bool(Connection&)> apply;       // inside a savepoint; false: roll it back
  std::function<void(const Error*)> finish;     // after the batch: error only if it never committed
  std::function<void(Connection&)> alone;       // instead of apply: runs outside any batch
  std::function<void(const Error&)> on_closed;  // for `alone` jobs refused at shutdown
};

template <typename T, typename F>
Result<T> guardedCall(F& fn, Connection& c) {
  try {
    return fn(c);
  } catch (const std::exception& e) {
    return makeError(errc::kStorage, e.what());
  }
}

// ---------------------------------------------------------------------------------------

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(SqliteOptions options) : o_(std::move(options)) {
    openWriter();
    migrate();
    epoch_ = readEpoch();
    readers_ = std::make_unique<ReaderPool>(o_);
    auto hub_conn = std::make_unique<Connection>(o_.path, SQLITE_OPEN_READWRITE);
    configure(*hub_conn, o_);
    hub_conn->execOrThrow("PRAGMA query_only = ON", "configuring the stream reader");
    hub_ = std::make_unique<ChangeHub>(std::make_unique<SqliteChangeSource>(std::move(hub_conn)),
                                       epoch_, o_.poll_interval);
    checkpointer_ = std::make_unique<Connection>(o_.path, SQLITE_OPEN_READWRITE);
    configure(*checkpointer_, o_);
    writer_thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "store-writer");
      writerLoop();
    });
    checkpoint_thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "store-checkpoint");
      checkpointLoop();
    });
  }

  ~SqliteStore() override {
    {
      std::lock_guard lock(wmutex_);
      wstop_ = true;
    }
    wcv_.notify_all();
    ccv_.notify_all();
    // Threads stop in dependency order, but every component stays alive until all of
    // them have: a late callback calling the store meets a closed component (and gets
    // store_closed), never a destroyed one.
    if (writer_thread_.joinable()) writer_thread_.join();
    hub_->stop();
    readers_->stop();
    if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
  }

  // --- users and tokens ----------------------------------------------------------------

  void createUser(NewUser user, Callback<User> done) override {
    write<User>(
        [this, user = std::move(user)](Connection& c) -> Result<User> {
          auto st = c.statement(
              "INSERT INTO users(email, name, role, password_hash, created_at) "
              "VALUES (?, ?, ?, ?, ?) RETURNING id");
          if (!st) return st.error();
          st->bind(1, user.email).bind(2, user.name).bind(3, toString(user.role));
          st->bind(4, user.password_hash).bind(5, now());
          const int rc = st->step();
          if (rc == SQLITE_CONSTRAINT_UNIQUE) {
            return makeError(errc::kEmailTaken, "email already registered");
          }
          if (rc != SQLITE_ROW) return c.lastError(rc);
          const int64_t id = st->int64(0);
          if (user.role == Role::kRider) {
            if (auto r = ensureRiderRow(c, id); !r) return r.error();
          }
          return userById(c, id);
        },
        std::move(done));
  }

  void findUserByEmail(std::string email, Callback<User> done) override {
    read<User>(
        [email = std::move(email)](Connection& c) -> Result<User> {
          auto st = c.statement(std::string(kUserColumns) + "WHERE email = ?");
          if (!st) return st.error();
          st->bind(1, email);
          const int rc = st->step();
          if (rc == SQLITE_DONE) return makeError(errc::kNotFound, "no user with that email");
          if (rc != SQLITE_ROW) return c.lastError(rc);
          return userFromRow(*st);
        },
        std::move(done));
  }

  void findUserById(int64_t id, Callback<User> done) override {
    read<User>([id](Connection& c) { return userById(c, id); }, std::move(done));
  }

  void setUserRole(int64_t id, Role role, Callback<User> done) override {
    write<User>(
        [this, id, role](Connection& c) -> Result<User> {
          auto st = c.statement("UPDATE users SET role = ?, version = version + 1 WHERE id = ?");
          if (!st) return st.error();
          st->bind(1, toString(role)).bind(2, id);
          if (const int rc = st->step(); rc != SQLITE_DONE) return c.lastError(rc);
          if (c.changes() == 0) return notFound("user", id);
          if (role == Role::kRider) {
            if (auto r = ensureRiderRow(c, id); !r) return r.error();
          }
          return userById(c, id);
        },
        std::move(done));
  }

  void createToken(NewToken token, Callback<Token> done) override {
    write<Token>(
        [this, token = std::move(token)](Connection& c) -> Result<Token> {
          const auto t = o_.store.clock();
          Token out{token.hash, token.user_id, formatTimestamp(t), formatTimestamp(t + token.ttl)};
          auto st = c.statement(
              "INSERT INTO tokens(hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)");
          if (!st) return st.error();
          st->bind(1, out.hash)
              .bind(2, out.user_id)
              .bind(3, out.created_at)
              .bind(4, out.expires_at);
          const int rc = st->step();
          if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return notFound("user", token.user_id);
          if (rc != SQLITE_DONE) return c.lastError(rc);
          return out;
        },
        std::move(done));
  }

  void findActiveToken(std::string hash, Callback<Token> done) override {
    read<Token>(
        [this, hash = std::move(hash)](Connection& c) -> Result<Token> {
          auto st = c.statement(
              "SELECT hash, user_id, created_at, expires_at FROM tokens "
              "WHERE hash = ? AND revoked_at IS NULL AND expires_at > ?");
          if (!st) return st.error();
          st->bind(1, hash).bind(2, now());
          const int rc = st->step();
          if (rc == SQLITE_DONE) return makeError(errc::kNotFound, "no active token");
          if (rc != SQLITE_ROW) return c.lastError(rc);
          return Token{st->text(0), st->int64(1), st->text(2), st->text(3)};
        },
        std::move(done));
  }

  void revokeToken(std::string hash, Callback<void> done) override {
    write<void>(
        [this, hash = std::move(hash)](Connection& c) -> Result<void> {
          auto st =
              c.statement("UPDATE tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL");
          if (!st) return st.error();
          st->bind(1, now()).bind(2, hash);
          if (const int rc = st->step(); rc != SQLITE_DONE) return c.lastError(rc);
          if (c.changes() == 0) return makeError(errc::kNotFound, "no active token");
          return {};
        },
        std::move(done));
  }

  void revokeUserTokens(int64_t user_id, Callback<int64_t> done) override {
    write<int64_t>(
        [this, user_id](Connection& c) -> Result<int64_t> {
          auto st = c.statement(
              "UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL");
          if (!st) return st.error();
          st->bind(1, now()).bind(2, user_id);
          if (const int rc = st->step(); rc != SQLITE_DONE) return c.lastError(rc);
          return c.changes();
        },
        std::move(done));
  }

  // --- menu ----------------------------------------------------------------------------

  void listMenu(Callback<Menu> done) override {
    read<Menu>(
        [](Connection& c) -> Result<Menu> {
          ReadTransaction txn(c);
          Menu menu;
          std::map<int64_t, size_t> index;
          auto cats = c.statement(std::string(kCategoryColumns) + "ORDER BY position, id");
          if (!cats) return cats.error();
          int rc;
          while ((rc = cats->step()) == SQLITE_ROW) {
            index[cats->int64(0)] = menu.categories.size();
            menu.categories.push_back(MenuSection{categoryFromRow(*cats), {}});
          }
          if (rc != SQLITE_DONE) return c.lastError(rc);
          auto items = c.statement(std::string(kItemColumns) + "ORDER BY position, id");
          if (!items) return items.error();
          while ((rc = items->step()) == SQLITE_ROW) {
            auto item = itemFromRow(*items);
            if (auto it = index.find(item.category_id); it != index.end()) {
              menu.categories[it->second].items.push_back(std::move(item));
            }
          }
          if (rc != SQLITE_DONE) return c.lastError(rc);
          return menu;
        },
        std::move(done));
  }

  void getCategory(int64_t id, Callback<MenuCategory> done) override {
    read<MenuCategory>([id](Connection& c) { return categoryById(c, id); }, std::move(done));
  }

  void createCategory(NewMenuCategory category, Callback<MenuCategory> done) override {
    write<MenuCategory>(
        [this, category = std::move(category)](Connection& c) -> Result<MenuCategory> {
          auto st = c.statement(
              "INSERT INTO menu_categories(name, position, created_at, updated_at) VALUES (?1, "
              "coalesce(?2, (SELECT coalesce(max(position) + 1, 0) FROM menu_categories)), ?3, "
              "?3) RETURNING id");
          if (!st) return st.error();
          st->bind(1, category.name).bind(2, category.position).bind(3, now());
          const int rc = st->step();
          if (rc != SQLITE_ROW) return c.lastError(rc);
          const int64_t id = st->int64(0);
          return categoryById(c, id);
        },
        std::move(done));
  }

  void updateCategory(int64_t id, MenuCategoryPatch patch, std::optional<int64_t> expected_version,
                      Callback<MenuCategory> done) override {
    write<MenuCategory>(
        [this, id, patch = std::move(patch),
         expected_version](Connection& c) -> Result<MenuCategory> {
          auto cur = categoryById(c, id);
          if (!cur) return cur.error();
          if (expected_version && *expected_version != cur->version) {
            return versionConflict("category", id, cur->version);
          }
          auto st = c.statement(
              "UPDATE menu_categories SET name = ?, position = ?, updated_at = ?, "
              "version = version + 1 WHERE id = ?");
          if (!st) return st.error();
          st->bind(1, patch.name.value_or(cur->name))
              .bind(2, patch.position.value_or(cur->position));
          st->bind(3, now()).bind(4, id);
          if (const int rc = st->step(); rc != SQLITE_DONE) return c.lastError(rc);
          return categoryById(c, id);
        },
        std::move(done));
  }

  void deleteCategory(int64_t id, Callback<void> done) override {
    write<void>(
        [id](Connection& c) -> Result<void> {
          auto count = c.statement("SELECT count(*) FROM menu_items WHERE category_id = ?");
          if (!count) return count.error();
          count->bind(1, id);
          if (const int rc = count->step(); rc != SQLITE_ROW) return c.lastError(rc);
          if (count->int64(0) > 0) {
            return makeError(errc::kCategoryNotEmpty, "category still has menu items");
          }
          auto st = c.statement("DELETE FROM menu_categories WHERE id = ?");
          if (!st) return st.error();
          st->bind(1, id);
          if (const int rc = st->step(); rc != SQLITE_DONE) return c.lastError(rc);
          if (c.changes() == 0) return notFound("category", id);
          return {};
        },
        std::move(done));
  }

  void getMenuItem(int64_t id, Callback<MenuItem> done) override {
    read<MenuItem>([id](Connection& c) { return itemById(c, id); }, std::move(done));
  }

  void createMenuItem(NewMenuItem item, Callback<MenuItem> done) override {
    write<MenuItem>(
        [this, item = std::move(item)](Connection& c) -> Result<MenuItem> {
          if (item.price_cents < 0) return makeError(errc::kInvalid, "price_cents: negative");
          if (auto cat = categoryById(c, item.category_id); !cat) {
            return makeError(errc::kUnknownCategory, "category_id: no such category");
          }
          auto st = c.statement(
              "INSERT INTO menu_items(category_id, name, description, price_cents, available, "
              "position, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, coalesce(?6, (SELECT "
              "coalesce(max(position) + 1, 0) FROM menu_items WHERE category_id = ?1)), ?7, ?7) "
              "RETURNING id");
          if (!st) return st.error();
          st->bind(1, item.category_id).bind(2, item.name).bind(3, item.description);
          st->bind(4, item.price_cents).bind(5, item.available).bind(6, item.position);
          st->bind(7, now());
          const int rc = st->step();
          if (rc != SQLITE_ROW) return c.lastError(rc);
          const int64_t id = st->int64(0);
          return itemById(c, id);
        },
        std::move(done));
  }

  void updateMenuItem(int64_t id, MenuItemPatch patch, std::optional<int64_t> expected_version,
                      Callback<MenuItem> done) override {
    write<MenuItem>(
        [this, id, patch = std::move(patch), expected_version](Connection& c) -> Result<MenuItem> {
          auto cur = itemById(c, id);
          if (!cur) return cur.error();
          if (expected_version && *expected_version != cur->version) {
            return versionConflict("menu item", id, cur->version);
          }
          if (patch.price_cents && *patch.price_cents < 0) {
            return makeError(errc::kInvalid, "price_cents: negative");
          }
          if (patch.category_id && *patch.category_id != cur->category_id) {
            if (auto cat = categoryById(c, *patch.category_id); !cat) {
              return makeError(errc::kUnknownCategory, "category_id: no such category");
            }
          }
          auto st = c.statement(
              "UPDATE menu_items SET category_id = ?, name = ?, description = ?, price_cents = ?, "
              "available = ?, position = ?, updated_at = ?, version = version + 1 WHERE id = ?");
          if (!st) return st.error();
          st->bind(1, patch.category_id.value_or(cur->category_id));
          st->bind(2, patch.name.value_or(cur->name));
          st->bind(3, patch.description.value_or(cur->description));
          st->bind(4, patch.price_cents.value_or(cur->price_cents));
          st->bind(5, patch.available.value_or(cur->available));
          st->bind(6, patch.position.value_or(cur->position));
          st->bind(7, now()).bind(8, id);
          if (const int rc = st->step(); rc != SQLITE_DONE) return c.lastError(rc);
          return itemById(c, id);
        },
        std::move(done));
  }

  void deleteMenuItem(int64_t id, Callback<void> done) override {
    write<void>(
        [id](Connection& c) -> Result<void> {
          auto st = c.statement("DELETE FROM menu_items WHERE id = ?");
          if (!st) return st.error();
          st->bind(1, id);
          if (const int rc = st->step(); rc != SQLITE_DONE) return c.lastError(rc);
          if (c.changes() == 0) return notFound("menu item", id);
          return {};
        },
        std::move(done));
  }

  // --- orders --------------------------------------------------------------------------

  void createOrder(NewOrder order, Callback<OrderCreated> done) override {
    write<OrderCreated>(
        [this, order = std::move(order)](Connection& c) { return insertOrder(c, order); },
        std::move(done));
  }

  void getOrder(int64_t id, Callback<Order> done) override {
    read<Order>([id](Connection& c) { return orderById(c, id); }, std::move(done));
  }

  void listOrders(OrderQuery q, Callback<std::vector<Order>> done) override {
    read<std::vector<Order>>(
        [q](Connection& c) -> Result<std::vector<Order>> {
          // Only the conditions in use, so SQLite can pick the matching index.
          std::string where;
          auto add = [&](bool use, const char* cond) {
            if (use) where += (where.empty() ? " WHERE " : " AND ") + std::string(cond);
          };
          add(q.customer_id.has_value(), "customer_id = ?1");
          add(q.rider_id.has_value(), "rider_id = ?2");
          add(q.status.has_value(), "status = ?3");
          add(q.before_id.has_value(), "id < ?4");
          auto st = c.statement(
              "SELECT d.document FROM (SELECT id FROM orders" + where +
              " ORDER BY id DESC LIMIT ?5) AS o JOIN order_documents AS d ON d.id = o.id "
              "ORDER BY o.id DESC");
          if (!st) return st.error();
          st->bind(1, q.customer_id).bind(2, q.rider_id);
          if (q.status) st->bind(3, toString(*q.status));
          st->bind(4, q.before_id).bind(5, std::clamp<int64_t>(q.limit, 1, kMaxOrderListLimit));
          std::vector<Order> out;
          int rc;
          while ((rc = st->step()) == SQLITE_ROW) {
            auto o = orderFromJson(st->text(0));
            if (!o) return o.error();
            out.push_back(std::move(*o));
          }
          if (rc != SQLITE_DONE) return c.lastError(rc);
          return out;
        },
        std::move(done));
  }

  void updateOrder(OrderUpdate update, Callback<Order> done) override {
    write<Order>(
        [this, update = std::move(update)](Connection& c) -> Result<Order> {
          auto cur = orderById(c, update.id);
          if (!cur) return cur.error();
          if (update.expected_version && *update.expected_version != cur->version) {
            return versionConflict("order", update.id, cur->version);
          }
          if (update.check) {
            if (auto r = update.check(*cur); !r) return r.error();
          }
          const std::string at = now();
          if (update.status) {
            // History first: the orders row update below fires the capture trigger, whose
            // document must already show the new entry.
            auto h = c.statement(
                "INSERT INTO order_history(order_id, n, status, at, by_user) VALUES (?1, "
                "(SELECT coalesce(max(n), 0) + 1 FROM order_history WHERE order_id = ?1), ?2, ?3, "
                "?4)");
            if (!h) return h.error();
            h->bind(1, update.id).bind(2, toString(*update.status)).bind(3, at).bind(4, update.by);
            if (const int rc = h->step(); rc != SQLITE_DONE) return c.lastError(rc);
          }
          auto st = c.statement(
              "UPDATE orders SET status = ?, status_reason = ?, rider_id = ?, prep_minutes = ?, "
              "updated_at = ?, version = version + 1 WHERE id = ? AND version = ?");
          if (!st) return st.error();
          st->bind(1, toString(update.status.value_or(cur->status)));
          st->bind(2, update.status_reason ? *update.status_reason : cur->status_reason);
          st->bind(3, update.rider_id ? *update.rider_id : cur->rider_id);
          st->bind(4, update.prep_minutes ? *update.prep_minutes : cur->prep_minutes);
          st->bind(5, at).bind(6, update.id).bind(7, cur->version);
          const int rc = st->step();
          if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
            return makeError(errc::kNotFound, "rider_id: no such user");
          }
          if (rc != SQLITE_DONE) return c.lastError(rc);
          Order next = std::move(*cur);
          if (update.status) {
            next.status = *update.status;
            next.history.push_back(HistoryEntry{*update.status, at, update.by});
          }
          if (update.status_reason) next.status_reason = *update.status_reason;
          if (update.rider_id) next.rider_id = *update.rider_id;
          if (update.prep_minutes) next.prep_minutes = *update.prep_minutes;
          next.updated_at = at;
          ++next.version;
          return next;
        },
        std::move(done));
  }

  void orderStats(std::string from, std::string to, Callback<OrderStats> done) override {
    read<OrderStats>(
        [from = std::move(from), to = std::move(to)](Connection& c) -> Result<OrderStats> {
          ReadTransaction txn(c);
          OrderStats s;
          auto totals = c.statement(
              "SELECT count(*), coalesce(sum(CASE WHEN status NOT IN ('rejected','cancelled') "
              "THEN total_cents END), 0), avg(prep_minutes) FROM orders "
              "WHERE created_at >= ? AND created_at < ?");
          if (!totals) return totals.error();
          totals->bind(1, from).bind(2, to);
          if (const int rc = totals->step(); rc != SQLITE_ROW) return c.lastError(rc);
          s.orders = totals->int64(0);
          s.revenue_cents = totals->int64(1);
          s.avg_prep_minutes = totals->optReal(2);
          auto by = c.statement(
              "SELECT status, count(*) FROM orders WHERE created_at >= ? AND created_at < ? "
              "GROUP BY status");
          if (!by) return by.error();
          by->bind(1, from).bind(2, to);
          int rc;
          while ((rc = by->step()) == SQLITE_ROW) s.by_status[by->text(0)] = by->int64(1);
          if (rc != SQLITE_DONE) return c.lastError(rc);
          return s;
        },
        std::move(done));
  }

  // --- riders --------------------------------------------------------------------------

  void setRiderOnline(int64_t rider_id, bool online, Callback<Rider> done) override {
    write<Rider>(
        [rider_id, online](Connection& c) -> Result<Rider> {
          auto before = riderById(c, rider_id);
          if (!before) return before.error();
          auto st = c.statement(
              "INSERT INTO riders(user_id, online) VALUES (?1, ?2) ON CONFLICT(user_id) DO "
              "UPDATE SET online = excluded.online, version = version + 1");
          if (!st) return st.error();
          st->bind(1, rider_id).bind(2, online);
          if (const int rc = st->step(); rc != SQLITE_DONE) return c.lastError(rc);
          return riderById(c, rider_id);
        },
        std::move(done));
  }

  void setRiderLocation(int64_t rider_id, double lat, double lng,
                        Callback<Location> done) override {
    write<Location>(
        [this, rider_id, lat, lng](Connection& c) -> Result<Location> {
          if (!std::isfinite(lat) || lat < -90 || lat > 90) {
            return makeError(errc::kInvalid, "lat: must be within -90..90");
          }
          if (!std::isfinite(lng) || lng < -180 || lng > 180) {
            return makeError(errc::kInvalid, "lng: must be within -180..180");
          }
          auto before = riderById(c, rider_id);
          if (!before) return before.error();
          Location loc{lat, lng, now()};
          auto st = c.statement(
              "INSERT INTO riders(user_id, lat, lng, located_at) VALUES (?1, ?2, ?3, ?4) "
              "ON CONFLICT(user_id) DO UPDATE SET lat = excluded.lat, lng = excluded.lng, "
              "located_at = excluded.located_at, version = version + 1");
          if (!st) return st.error();
          st->bind(1, rider_id).bind(2, lat).bind(3, lng).bind(4, loc.at);
          if (const int rc = st->step(); rc != SQLITE_DONE) return c.lastError(rc);
          return loc;
        },
        std::move(done));
  }

  void getRider(int64_t rider_id, Callback<Rider> done) override {
    read<Rider>([rider_id](Connection& c) { return riderById(c, rider_id); }, std::move(done));
  }

  void listRiders(Callback<std::vector<Rider>> done) override {
    read<std::vector<Rider>>(
        [](Connection& c) {
          ReadTransaction txn(c);
          return riders(c, std::nullopt);
        },
        std::move(done));
  }

  // --- change stream -------------------------------------------------------------------

  const std::string& epoch() const override { return epoch_; }
  int64_t headSeq() const override { return hub_->head(); }

  using Store::readChanges;
  void readChanges(int64_t after_seq, size_t limit, ChangeAudience audience,
                   Callback<ChangePage> done) override {
    read<ChangePage>(
        [this, after_seq, limit, audience](Connection& c) -> Result<ChangePage> {
          // The bounds and the rows from one snapshot: a change committed in between would
          // otherwise fall below a last_seq taken later and never be read.
          ReadTransaction txn(c);
          auto b = streamBounds(c);
          if (!b) return b.error();
          if (after_seq < 0 || after_seq + 1 < b->oldest) {
            return makeError(errc::kHistoryLost, "changes after " + std::to_string(after_seq) +
                                                     " are no longer retained (oldest is " +
                                                     std::to_string(b->oldest) + ")");
          }
          const size_t n = std::clamp<size_t>(limit, 1, kMaxReadLimit);
          auto changes = fetchChanges(c, after_seq, n, audience);
          if (!changes) return changes.error();
          ChangePage page{std::move(*changes), epoch_, b->head, true};
          if (page.changes.size() == n) {
            // Full: more may follow that the audience may see.
            page.last_seq = page.changes.back()->seq;
            page.at_head = page.last_seq >= b->head;
          }
          return page;
        },
        std::move(done));
  }

  SubscriptionId subscribe(SubscribeOptions options, StreamCallback callback) override {
    return hub_->subscribe(std::move(options), std::move(callback));
  }

  void unsubscribe(SubscriptionId id) override { hub_->unsubscribe(id); }

  void purgeExpired(Callback<PurgeReport> done) override {
    WriteJob job;
    job.on_closed = [done](const Error& e) { done(e); };
    job.alone = [this, done](Connection&) {
      PurgeReport report;
      Result<bool> more = true;
      while (more && *more) more = retentionStep(&report);
      if (!more) {
        done(more.error());
      } else {
        done(report);
      }
    };
    enqueue(std::move(job));
  }

  StoreStats stats() const override {
    StoreStats s;
    s.writes = writes_.load();
    s.failed_writes = failed_writes_.load();
    s.batches = batches_.load();
    s.largest_batch = largest_batch_.load();
    s.split_batches = split_batches_.load();
    return s;
  }

 private:
  std::string now() const { return formatTimestamp(o_.store.clock()); }

  static Error versionConflict(std::string_view what, int64_t id, int64_t current) {
    return makeError(errc::kVersionConflict, std::string(what) + " " + std::to_string(id) +
                                                 " is at version " + std::to_string(current));
  }

  static Result<void> ensureRiderRow(Connection& c, int64_t id) {
    auto st = c.statement("INSERT OR IGNORE INTO riders(user_id) VALUES (?)");
    if (!st) return st.error();
    st->bind(1, id);
    if (const int rc = st->step(); rc != SQLITE_DONE) return c.lastError(rc);
    return {};
  }

  Result<OrderCreated> insertOrder(Connection& c, const NewOrder& order) {
    const auto clock_now = o_.store.clock();
    const std::string at = formatTimestamp(clock_now);
    if (order.idempotency) {
      auto st = c.statement(
          "SELECT request_hash, order_id, created_at FROM idempotency_keys "
          "WHERE customer_id = ? AND key = ?");
      if (!st) return st.error();
      st->bind(1, order.customer_id).bind(2, order.idempotency->key);
      const int rc = st->step();
      if (rc == SQLITE_ROW) {
        const bool fresh = st->text(2) >= formatTimestamp(clock_now - kIdempotencyTtl);
        if (fresh) {
          if (st->text(0) != order.idempotency->request_hash) {
            return makeError(errc::kIdempotencyKeyReused,
                             "this Idempotency-Key was used with a different request");
          }
          auto existing = orderById(c, st->int64(1));
          if (!existing) return existing.error();
          return OrderCreated{std::move(*existing), true};
        }
      } else if (rc != SQLITE_DONE) {
        return c.lastError(rc);
      }
    }
    if (order.items.empty() || order.items.size() > kMaxOrderLines) {
      return makeError(errc::kInvalid,
                       "items: between 1 and " + std::to_string(kMaxOrderLines) + " lines");
    }
    struct Priced {
      std::string name;
      int64_t price;
    };
    std::vector<Priced> priced;
    int64_t subtotal = 0;
    for (size_t i = 0; i < order.items.size(); ++i) {
      const auto& line = order.items[i];
      const std::string field = "items[" + std::to_string(i) + "]";
      if (line.quantity < 1 || line.quantity > kMaxLineQuantity) {
        return makeError(errc::kInvalid,
                         field + ".quantity: between 1 and " + std::to_string(kMaxLineQuantity));
      }
      auto item = c.statement("SELECT name, price_cents, available FROM menu_items WHERE id = ?");
      if (!item) return item.error();
      item->bind(1, line.item_id);
      const int rc = item->step();
      if (rc == SQLITE_DONE) {
        return makeError(errc::kUnknownItem, field + ".item_id: no such menu item");
      }
      if (rc != SQLITE_ROW) return c.lastError(rc);
      if (item->int64(2) == 0) {
        return makeError(errc::kItemUnavailable, field + ".item_id: currently unavailable");
      }
      priced.push_back(Priced{item->text(0), item->int64(1)});
      int64_t line_total = 0;
      if (__builtin_mul_overflow(priced.back().price, line.quantity, &line_total) ||
          __builtin_add_overflow(subtotal, line_total, &subtotal)) {
        return makeError(errc::kInvalid, field + ": amount too large");
      }
    }
    int64_t total = 0;
    if (order.delivery_fee_cents < 0 ||
        __builtin_add_overflow(subtotal, order.delivery_fee_cents, &total)) {
      return makeError(errc::kInvalid, "delivery_fee_cents: out of range");
    }

    // The id is chosen first so lines and history can precede the orders row (see schema).
    auto next = c.statement(
        "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'orders'), 0), "
        "coalesce((SELECT max(id) FROM orders), 0)) + 1");
    if (!next) return next.error();
    if (const int rc = next->step(); rc != SQLITE_ROW) return c.lastError(rc);
    const int64_t id = next->int64(0);

    for (size_t i = 0; i < order.items.size(); ++i) {
      auto st = c.statement(
          "INSERT INTO order_items(order_id, line, item_id, name, unit_price_cents, quantity, "
          "notes) VALUES (?, ?, ?, ?, ?, ?, ?)");
      if (!st) return st.error();
      st->bind(1, id).bind(2, static_cast<int64_t>(i + 1)).bind(3, order.items[i].item_id);
      st->bind(4, priced[i].name).bind(5, priced[i].price).bind(6, order.items[i].quantity);
      st->bind(7, order.items[i].notes);
      if (const int rc = st->step(); rc != SQLITE_DONE) return c.lastError(rc);
    }
    auto hist = c.statement(
        "INSERT INTO order_history(order_id, n, status, at, by_user) VALUES (?, 1, 'pending', ?, "
        "?)");
    if (!hist) return hist.error();
    hist->bind(1, id).bind(2, at).bind(3, order.customer_id);
    if (const int rc = hist->step(); rc != SQLITE_DONE) return c.lastError(rc);

    auto st = c.statement(
        "INSERT INTO orders(id, customer_id, subtotal_cents, delivery_fee_cents, total_cents, "
        "status, delivery_address, delivery_lat, delivery_lng, notes, created_at, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?8, ?9, ?10, ?10)");
    if (!st) return st.error();
    st->bind(1, id).bind(2, order.customer_id).bind(3, subtotal).bind(4, order.delivery_fee_cents);
    st->bind(5, total).bind(6, order.delivery.address).bind(7, order.delivery.lat);
    st->bind(8, order.delivery.lng).bind(9, order.notes).bind(10, at);
    if (const int rc = st->step(); rc != SQLITE_DONE) {
      if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return notFound("customer", order.customer_id);
      return c.lastError(rc);
    }
    if (order.idempotency) {
      auto key = c.statement(
          "INSERT OR REPLACE INTO idempotency_keys(customer_id, key, request_hash, order_id, "
          "created_at) VALUES (?, ?, ?, ?, ?)");
      if (!key) return key.error();
      key->bind(1, order.customer_id).bind(2, order.idempotency->key);
      key->bind(3, order.idempotency->request_hash).bind(4, id).bind(5, at);
      if (const int rc = key->step(); rc != SQLITE_DONE) return c.lastError(rc);
    }
    // Built here rather than read back through order_documents: this is the hot path, and
    // the suite checks both give the same document.
    Order created;
    created.id = id;
    created.customer_id = order.customer_id;
    auto name = c.statement("SELECT name FROM users WHERE id = ?");
    if (!name) return name.error();
    name->bind(1, order.customer_id);
    if (name->step() == SQLITE_ROW) created.customer_name = name->text(0);
    for (size_t i = 0; i < order.items.size(); ++i) {
      created.items.push_back(OrderLine{order.items[i].item_id, priced[i].name, priced[i].price,
                                        order.items[i].quantity, order.items[i].notes});
    }
    created.subtotal_cents = subtotal;
    created.delivery_fee_cents = order.delivery_fee_cents;
    created.total_cents = total;
    created.delivery = order.delivery;
    created.notes = order.notes;
    created.created_at = at;
    created.updated_at = at;
    created.version = 1;
    created.history.push_back(HistoryEntry{OrderStatus::kPending, at, order.customer_id});
    return OrderCreated{std::move(created), false};
  }

  // --- start-up --------------------------------------------------------------------------

  [[noreturn]] void fail(const std::string& why) {
    throw StoreError("cannot open Brigade database " + o_.path + ": " + why);
  }

  std::string describe(int rc) {
    std::string msg = sqlite3_errmsg(writer_->raw());
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
      msg += " (another process holds a lock on it)";
    } else if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) {
      msg += " (the file is corrupt)";
    }
    return msg;
  }

  // Runs a statement returning one text value; start-up only.
  std::optional<std::string> scalar(const std::string& sql, std::string_view what) {
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(writer_->raw(), sql.c_str(), -1, &st, nullptr);
    if (rc != SQLITE_OK) fail(std::string(what) + ": " + describe(rc));
    rc = sqlite3_step(st);
    std::optional<std::string> out;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      const std::string msg = describe(rc);
      sqlite3_finalize(st);
      fail(std::string(what) + ": " + msg);
    }
    sqlite3_finalize(st);
    return out;
  }

  void openWriter() {
    std::error_code ec;
    const bool existed = fs::exists(o_.path, ec) && fs::file_size(o_.path, ec) > 0;
    if (existed) {
      // A non-SQLite file must not be "repaired" into an empty database.
      std::ifstream in(o_.path, std::ios::binary);
      char header[16] = {};
      in.read(header, sizeof header);
      if (!in && !in.eof()) fail("cannot read the file");
      if (std::memcmp(header, "SQLite format 3", 16) != 0) {
        fail("not a SQLite database (corrupt or a different file); refusing to touch it");
      }
    }
    const fs::path dir =
        fs::path(o_.path).has_parent_path() ? fs::path(o_.path).parent_path() : fs::path(".");
    if (fs::exists(dir, ec) && access(dir.c_str(), W_OK) != 0) {
      // WAL needs its -wal and -shm files next to the database.
      fail("the directory " + dir.string() + " is read-only; Brigade needs to write there");
    }
    const int flags = SQLITE_OPEN_READWRITE | (existed ? 0 : SQLITE_OPEN_CREATE);
    try {
      writer_ = std::make_unique<Connection>(o_.path, flags);
    } catch (const StoreError& e) {
      fail(e.what());
    }
    if (sqlite3_db_readonly(writer_->raw(), "main") == 1) {
      fail("the file is read-only; Brigade needs to write it (check permissions)");
    }
    sqlite3_busy_timeout(writer_->raw(), static_cast<int>(o_.busy_timeout.count()));
    if (existed) {
      // Read-only checks first: a file that fails any of them is left exactly as it was.
      if (o_.check_integrity) {
        auto r = scalar("PRAGMA quick_check", "integrity check");
        if (r != "ok") {
          std::string detail = r.value_or("no answer");
          if (detail.size() > 200) detail = detail.substr(0, 200) + "...";
          fail("the file is corrupt (integrity check: " + detail + ")");
        }
      }
      const bool has_schema =
          scalar("SELECT count(*) FROM sqlite_master WHERE name = 'schema_migrations'",
                 "reading the schema") == "1";
      if (has_schema) {
        const int version =
            std::stoi(scalar("SELECT coalesce(max(version), 0) FROM schema_migrations",
                             "reading the "
                             "schema version")
                          .value_or("0"));
        if (version > latestSchemaVersion()) {
          fail("its schema version " + std::to_string(version) +
               " is newer than this Brigade supports (" + std::to_string(latestSchemaVersion()) +
               "); upgrade Brigade");
        }
      } else if (scalar("SELECT count(*) FROM sqlite_master", "reading the schema") != "0") {
        fail("it has tables but no schema_migrations table: not a Brigade database");
      }
    }
    auto mode = scalar("PRAGMA journal_mode = WAL", "enabling WAL");
    if (mode != "wal") fail("cannot enable WAL (journal_mode is " + mode.value_or("?") + ")");
    const char* sync = o_.synchronous == Synchronous::kFull     ? "FULL"
                       : o_.synchronous == Synchronous::kNormal ? "NORMAL"
                                                                : "OFF";
    writer_->execOrThrow(std::string("PRAGMA synchronous = ") + sync, "setting synchronous");
    writer_->execOrThrow("PRAGMA foreign_keys = ON", "enabling foreign keys");
    writer_->execOrThrow("PRAGMA wal_autocheckpoint = " + std::to_string(kBackstopCheckpointPages),
                         "setting the checkpoint backstop");
  }

  void migrate() {
    try {
      writer_->execOrThrow(
          "CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY, "
          "name TEXT NOT NULL, applied_at TEXT NOT NULL)",
          "creating schema_migrations");
      const int current =
          std::stoi(scalar("SELECT coalesce(max(version), 0) FROM schema_migrations",
                           "reading the schema version")
                        .value_or("0"));
      for (const auto& m : migrations()) {
        if (m.version <= current) continue;
        writer_->execOrThrow("BEGIN IMMEDIATE", "starting migration");
        try {
          writer_->execOrThrow(m.sql, "migration " + std::to_string(m.version));
          writer_->execOrThrow("INSERT INTO schema_migrations(version, name, applied_at) VALUES (" +
                                   std::to_string(m.version) + ", '" + m.name + "', '" + now() +
                                   "')",
                               "recording migration");
          writer_->execOrThrow("COMMIT", "committing migration");
        } catch (...) {
          (void)writer_->exec("ROLLBACK");
          throw;
        }
        spdlog::info("store: applied migration {} ({})", m.version, m.name);
      }
    } catch (const StoreError& e) {
      if (std::string_view(e.what()).starts_with("cannot open Brigade database")) throw;
      fail(e.what());
    }
  }

  std::string readEpoch() {
    auto epoch = scalar("SELECT value FROM meta WHERE key = 'epoch'", "reading the epoch");
    if (!epoch || epoch->empty()) fail("the change stream has no epoch");
    return *epoch;
  }

  // --- writer ----------------------------------------------------------------------------

  template <typename T, typename F>
  void write(F fn, Callback<T> done) {
    auto result = std::make_shared<std::optional<Result<T>>>();
    WriteJob job;
    job.apply = [fn = std::move(fn), result](Connection& c) mutable {
      result->emplace(guardedCall<T>(fn, c));
      return (*result)->ok();
    };
    job.finish = [result, done = std::move(done)](const Error* error) {
      if (!done) return;
      if (error) {
        done(Result<T>(*error));
      } else {
        done(std::move(**result));
      }
    };
    enqueue(std::move(job));
  }

  template <typename T, typename F>
  void read(F fn, Callback<T> done) {
    if (readers_->stopped()) {
      if (done) done(makeError(errc::kClosed, "the store is closing"));
      return;
    }
    auto task = [fn = std::move(fn), done = std::move(done)](Connection& c) mutable {
      Result<T> r = guardedCall<T>(fn, c);
      if (done) done(std::move(r));
    };
    (void)readers_->post(std::move(task));
  }

  void enqueue(WriteJob job) {
    {
      std::lock_guard lock(wmutex_);
      if (!wstop_) {
        wqueue_.push_back(std::move(job));
        wcv_.notify_one();
        return;
      }
    }
    const Error closed = makeError(errc::kClosed, "the store is closing");
    if (job.finish) job.finish(&closed);
    if (job.on_closed) job.on_closed(closed);
  }

  void writerLoop() {
    using Steady = std::chrono::steady_clock;
    auto next_retention = Steady::now() + o_.store.retention_interval;
    const size_t max_batch = o_.group_commit ? std::max<size_t>(1, o_.max_batch) : 1;
    for (;;) {
      std::vector<WriteJob> batch;
      {
        std::unique_lock lock(wmutex_);
        wcv_.wait_until(lock, next_retention, [this] { return wstop_ || !wqueue_.empty(); });
        if (wqueue_.empty() && wstop_) return;
        while (!wqueue_.empty() && batch.size() < max_batch) {
          // A stand-alone job runs by itself, between batches.
          if (wqueue_.front().alone && !batch.empty()) break;
          batch.push_back(std::move(wqueue_.front()));
          wqueue_.pop_front();
          if (batch.back().alone) break;
        }
      }
      if (!batch.empty()) {
        if (batch.front().alone) {
          batch.front().alone(*writer_);
        } else {
          std::vector<WriteJob*> jobs;
          for (auto& j : batch) jobs.push_back(&j);
          commitBatch(jobs);
        }
      }
      if (Steady::now() >= next_retention) {
        auto more = retentionStep(nullptr);
        if (!more) spdlog::warn("store: retention failed: {}", more.error().message);
        next_retention =
            Steady::now() + (more && *more ? std::chrono::seconds(0) : o_.store.retention_interval);
      }
    }
  }

  // Checkpoints copy the WAL back into the database file and fsync it: milliseconds of
  // work that would otherwise land inside some unlucky writer's commit. Here they run
  // beside the writer (WAL allows that); the writer's own auto-checkpoint stays as a
  // backstop at a much larger WAL size.
  void checkpointLoop() {
    for (;;) {
      {
        std::unique_lock lock(wmutex_);
        ccv_.wait_for(lock, kCheckpointInterval, [this] { return wstop_; });
        if (wstop_) return;
      }
      int log = 0, done = 0;
      const int rc = sqlite3_wal_checkpoint_v2(checkpointer_->raw(), nullptr,
                                               SQLITE_CHECKPOINT_PASSIVE, &log, &done);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        spdlog::warn("store: checkpoint failed: {}", sqlite3_errmsg(checkpointer_->raw()));
      }
    }
  }

  void commitBatch(const std::vector<WriteJob*>& jobs) {
    sqlite3* db = writer_->raw();
    if (auto begin = writer_->exec("BEGIN IMMEDIATE"); !begin) {
      for (auto* j : jobs) finishJob(*j, &begin.error(), false);
      return;
    }
    std::vector<bool> ok(jobs.size(), false);
    bool broken = false;
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (!run("SAVEPOINT w")) {
        broken = true;
        break;
      }
      ok[i] = jobs[i]->apply(*writer_);
      // Some errors (disk full, I/O) make SQLite roll back the whole transaction.
      if (sqlite3_get_autocommit(db)) {
        broken = true;
        break;
      }
      if (!ok[i]) (void)run("ROLLBACK TO w");
      (void)run("RELEASE w");
    }
    Result<void> commit = broken ? Result<void>(makeError(errc::kStorage, sqlite3_errmsg(db)))
                                 : writer_->exec("COMMIT");
    if (!commit) {
      if (!sqlite3_get_autocommit(db)) (void)writer_->exec("ROLLBACK");
      if (jobs.size() > 1) {
        ++split_batches_;
        // Find the culprit(s): each write again in its own transaction.
        for (auto* j : jobs) commitBatch({j});
        return;
      }
      finishJob(*jobs.front(), &commit.error(), false);
      return;
    }
    ++batches_;
    uint64_t largest = largest_batch_.load();
    while (jobs.size() > largest && !largest_batch_.compare_exchange_weak(largest, jobs.size())) {
    }
    hub_->notify();
    for (size_t i = 0; i < jobs.size(); ++i) finishJob(*jobs[i], nullptr, ok[i]);
  }

  // A cached statement (savepoints run twice per write; re-parsing them shows in profiles).
  bool run(const char* sql) {
    auto st = writer_->statement(sql);
    return st && st->step() == SQLITE_DONE;
  }

  void finishJob(WriteJob& job, const Error* error, bool ok) {
    if (ok) {
      ++writes_;
    } else {
      ++failed_writes_;
    }
    if (job.finish) job.finish(error);
  }

  // One small retention transaction; true when more may remain.
  Result<bool> retentionStep(PurgeReport* report) {
    const auto t = o_.store.clock();
    const std::string cutoff = formatTimestamp(t - o_.store.retention);
    const std::string idem_cutoff = formatTimestamp(t - kIdempotencyTtl);
    if (auto begin = writer_->exec("BEGIN IMMEDIATE"); !begin) return begin.error();
    auto body = [&]() -> Result<bool> {
      // Only ever a prefix of the stream (never a hole in the middle), and never past what
      // the stream thread has delivered.
      auto st = writer_->statement("SELECT seq, at FROM changes ORDER BY seq LIMIT ?");
      if (!st) return st.error();
      st->bind(1, kRetentionBatch);
      int64_t last = -1, count = 0, rows = 0;
      const int64_t head = hub_ ? hub_->head() : 0;
      bool stopped = false;
      int rc;
      while ((rc = st->step()) == SQLITE_ROW) {
        ++rows;
        if (stopped) continue;
        if (st->text(1) < cutoff && st->int64(0) <= head) {
          last = st->int64(0);
          ++count;
        } else {
          stopped = true;
        }
      }
      if (rc != SQLITE_DONE) return writer_->lastError(rc);
      if (last >= 0) {
        auto del = writer_->statement("DELETE FROM changes WHERE seq <= ?");
        if (!del) return del.error();
        del->bind(1, last);
        if (const int drc = del->step(); drc != SQLITE_DONE) return writer_->lastError(drc);
      }
      auto keys = writer_->statement(
          "DELETE FROM idempotency_keys WHERE (customer_id, key) IN (SELECT customer_id, key "
          "FROM idempotency_keys WHERE created_at < ? LIMIT ?)");
      if (!keys) return keys.error();
      keys->bind(1, idem_cutoff).bind(2, kRetentionBatch);
      if (const int krc = keys->step(); krc != SQLITE_DONE) return writer_->lastError(krc);
      const int64_t keys_removed = writer_->changes();
      if (report) {
        report->changes_removed += count;
        report->idempotency_keys_removed += keys_removed;
      }
      return (count == kRetentionBatch) || keys_removed == kRetentionBatch;
    };
    auto r = body();
    if (!r) {
      if (!sqlite3_get_autocommit(writer_->raw())) (void)writer_->exec("ROLLBACK");
      return r;
    }
    if (auto commit = writer_->exec("COMMIT"); !commit) {
      (void)writer_->exec("ROLLBACK");
      return commit.error();
    }
    hub_->notify();
    return r;
  }

  SqliteOptions o_;
  std::unique_ptr<Connection> writer_;
  std::string epoch_;
  std::unique_ptr<ReaderPool> readers_;
  std::unique_ptr<ChangeHub> hub_;

  std::mutex wmutex_;
  std::condition_variable wcv_;
  std::deque<WriteJob> wqueue_;
  bool wstop_ = false;
  std::thread writer_thread_;
  std::unique_ptr<Connection> checkpointer_;
  std::condition_variable ccv_;  // the checkpointer's own: wcv_ must only wake the writer
  std::thread checkpoint_thread_;

  std::atomic<uint64_t> writes_{0}, failed_writes_{0}, batches_{0}, largest_batch_{0},
      split_batches_{0};
};

}  // namespace

std::unique_ptr<Store> openSqliteStore(SqliteOptions options) {
  // Memory statistics put a global mutex around every SQLite allocation; the writer makes
  // thousands per batch. Only possible before SQLite initialises (harmless if too late).
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  return std::make_unique<SqliteStore>(std::move(options));
}

}  // namespace brigade::store::sqlite
