#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/change.hpp"
#include "store/sql/connection.hpp"
#include "store/sql/dialect.hpp"
#include "store/types.hpp"

// Row readers shared by the domain operations, inside the writer's transaction and on the
// readers alike.
namespace brigade::store::sql {

Error notFound(std::string_view what, int64_t id);
Error versionConflict(std::string_view what, int64_t id, int64_t current);
// Another writer changed the record after this write read it (the UPDATE matched no row, or
// a unique key was taken meanwhile): a version conflict for a caller that named the version
// it saw; otherwise errc::kRaced, and the write runs again on the record as it is now.
Error lostRace(std::optional<int64_t> expected_version, std::string_view what, int64_t id,
               int64_t version);

extern const char* const kUserColumns;      // SELECT ... FROM users (then WHERE ...)
extern const char* const kCategoryColumns;  // SELECT ... FROM menu_categories
extern const char* const kItemColumns;      // SELECT ... FROM menu_items
extern const char* const kActiveStatuses;   // the statuses of an order a rider is on, as SQL

User userFromRow(const Statement& st);
Result<User> userById(Connection& c, int64_t id);
MenuCategory categoryFromRow(const Statement& st);
Result<MenuCategory> categoryById(Connection& c, int64_t id);
MenuItem itemFromRow(const Statement& st);
Result<std::vector<OptionGroup>> parseOptionGroups(const std::string& text);
Result<MenuItem> itemById(Connection& c, int64_t id);
Result<Order> orderFromJson(const std::string& text);
Result<Order> orderById(Connection& c, int64_t id);
Result<Restaurant> restaurantRow(Connection& c);
// Riders with their active orders; `only` restricts to one user id.
Result<std::vector<Rider>> riders(Connection& c, std::optional<int64_t> only);
Result<Rider> riderById(Connection& c, int64_t id);
Result<void> ensureRiderRow(Connection& c, int64_t id);
Result<std::vector<ChangePtr>> fetchChanges(Connection& c, const Dialect& dialect,
                                            int64_t after_seq, size_t limit,
                                            const ChangeAudience& audience);

// A consistent snapshot for reads made of several statements.
class ReadTransaction {
 public:
  ReadTransaction(Connection& c, const Dialect& dialect);
  ~ReadTransaction();
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  Connection& c_;
  bool ok_ = false;
};

}  // namespace brigade::store::sql
