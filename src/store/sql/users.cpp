// Users and bearer tokens.
#include <algorithm>

#include "store/errors.hpp"
#include "store/sql/rows.hpp"
#include "store/sql/sql_store.hpp"
#include "store/sql/store_calls.hpp"

namespace brigade::store::sql {

void SqlStore::createUser(NewUser user, Callback<User> done) {
  write<User>(
      [this, user = std::move(user)](Connection& c) -> Result<User> {
        auto st = c.statement(
            "INSERT INTO users(email, name, role, password_hash, created_at) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id");
        if (!st) return st.error();
        st->bind(1, user.email).bind(2, user.name).bind(3, toString(user.role));
        st->bind(4, user.password_hash).bind(5, now());
        const Step rc = st->step();
        if (rc == Step::kUnique) {
          return makeError(errc::kEmailTaken, "email already registered");
        }
        if (rc != Step::kRow) return c.lastError(rc);
        const int64_t id = st->int64(0);
        if (user.role == Role::kRider) {
          if (auto r = ensureRiderRow(c, id); !r) return r.error();
        }
        return userById(c, id);
      },
      std::move(done));
}

void SqlStore::findUserByEmail(std::string email, Callback<User> done) {
  read<User>(
      [email = std::move(email)](Connection& c) -> Result<User> {
        auto st = c.statement(std::string(kUserColumns) + "WHERE email = ?");
        if (!st) return st.error();
        st->bind(1, email);
        const Step rc = st->step();
        if (rc == Step::kDone) return makeError(errc::kNotFound, "no user with that email");
        if (rc != Step::kRow) return c.lastError(rc);
        return userFromRow(*st);
      },
      std::move(done));
}

void SqlStore::findUserById(int64_t id, Callback<User> done) {
  read<User>([id](Connection& c) { return userById(c, id); }, std::move(done));
}

void SqlStore::setUserPassword(int64_t id, std::string password_hash, Callback<User> done) {
  write<User>(
      [this, id, hash = std::move(password_hash)](Connection& c) -> Result<User> {
        auto st =
            c.statement("UPDATE users SET password_hash = ?, version = version + 1 WHERE id = ?");
        if (!st) return st.error();
        st->bind(1, hash).bind(2, id);
        if (const Step rc = st->step(); rc != Step::kDone) return c.lastError(rc);
        if (c.changes() == 0) return notFound("user", id);
        auto revoke = c.statement(
            "UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL");
        if (!revoke) return revoke.error();
        revoke->bind(1, now()).bind(2, id);
        if (const Step rc = revoke->step(); rc != Step::kDone) return c.lastError(rc);
        return userById(c, id);
      },
      std::move(done));
}

void SqlStore::countUsers(Role role, Callback<int64_t> done) {
  read<int64_t>(
      [role](Connection& c) -> Result<int64_t> {
        auto st = c.statement("SELECT count(*) FROM users WHERE role = ?");
        if (!st) return st.error();
        st->bind(1, toString(role));
        if (const Step rc = st->step(); rc != Step::kRow) return c.lastError(rc);
        return st->int64(0);
      },
      std::move(done));
}

void SqlStore::setUserRole(int64_t id, Role role, Callback<User> done) {
  write<User>(
      [this, id, role](Connection& c) -> Result<User> {
        auto st = c.statement("UPDATE users SET role = ?, version = version + 1 WHERE id = ?");
        if (!st) return st.error();
        st->bind(1, toString(role)).bind(2, id);
        if (const Step rc = st->step(); rc != Step::kDone) return c.lastError(rc);
        if (c.changes() == 0) return notFound("user", id);
        if (role == Role::kRider) {
          if (auto r = ensureRiderRow(c, id); !r) return r.error();
        }
        return userById(c, id);
      },
      std::move(done));
}

void SqlStore::createToken(NewToken token, Callback<Token> done) {
  write<Token>(
      [this, token = std::move(token)](Connection& c) -> Result<Token> {
        const auto t = o_.clock();
        Token out{token.hash, token.user_id, formatTimestamp(t), formatTimestamp(t + token.ttl)};
        auto st = c.statement(
            "INSERT INTO tokens(hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)");
        if (!st) return st.error();
        st->bind(1, out.hash).bind(2, out.user_id).bind(3, out.created_at).bind(4, out.expires_at);
        const Step rc = st->step();
        if (rc == Step::kForeignKey) return notFound("user", token.user_id);
        if (rc != Step::kDone) return c.lastError(rc);
        return out;
      },
      std::move(done));
}

void SqlStore::findActiveToken(std::string hash, Callback<ActiveToken> done) {
  read<ActiveToken>(
      [this, hash = std::move(hash)](Connection& c) -> Result<ActiveToken> {
        // The user's columns first, as userFromRow reads them.
        auto st = c.statement(
            "SELECT u.id, u.email, u.name, u.role, u.password_hash, u.created_at, u.version, "
            "t.hash, t.created_at, t.expires_at FROM tokens AS t JOIN users AS u "
            "ON u.id = t.user_id WHERE t.hash = ? AND t.revoked_at IS NULL AND t.expires_at > ?");
        if (!st) return st.error();
        st->bind(1, hash).bind(2, now());
        const Step rc = st->step();
        if (rc == Step::kDone) return makeError(errc::kNotFound, "no active token");
        if (rc != Step::kRow) return c.lastError(rc);
        User user = userFromRow(*st);
        Token token{st->text(7), user.id, st->text(8), st->text(9)};
        return ActiveToken{std::move(token), std::move(user)};
      },
      std::move(done));
}

void SqlStore::revokeToken(std::string hash, Callback<void> done) {
  write<void>(
      [this, hash = std::move(hash)](Connection& c) -> Result<void> {
        auto st =
            c.statement("UPDATE tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL");
        if (!st) return st.error();
        st->bind(1, now()).bind(2, hash);
        if (const Step rc = st->step(); rc != Step::kDone) return c.lastError(rc);
        if (c.changes() == 0) return makeError(errc::kNotFound, "no active token");
        return {};
      },
      std::move(done));
}

void SqlStore::revokeUserTokens(int64_t user_id, Callback<int64_t> done) {
  write<int64_t>(
      [this, user_id](Connection& c) -> Result<int64_t> {
        auto st = c.statement(
            "UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL");
        if (!st) return st.error();
        st->bind(1, now()).bind(2, user_id);
        if (const Step rc = st->step(); rc != Step::kDone) return c.lastError(rc);
        return c.changes();
      },
      std::move(done));
}

}  // namespace brigade::store::sql
