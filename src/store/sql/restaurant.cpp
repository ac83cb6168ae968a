// The restaurant's settings: one versioned record whose content the app interprets.
#include "store/sql/rows.hpp"
#include "store/sql/sql_store.hpp"
#include "store/sql/store_calls.hpp"

namespace brigade::store::sql {

void SqlStore::getRestaurant(Callback<Restaurant> done) {
  read<Restaurant>([](Connection& c) { return restaurantRow(c); }, std::move(done));
}

void SqlStore::updateRestaurant(std::string settings, std::optional<int64_t> expected_version,
                                Callback<Restaurant> done) {
  write<Restaurant>(
      [this, settings = std::move(settings),
       expected_version](Connection& c) -> Result<Restaurant> {
        auto cur = restaurantRow(c);
        if (!cur) return cur.error();
        if (expected_version && *expected_version != cur->version) {
          return versionConflict("restaurant", 1, cur->version);
        }
        auto st = c.statement(
            "UPDATE restaurant SET settings = ?, updated_at = ?, version = version + 1 "
            "WHERE id = 1 AND version = ?");
        if (!st) return st.error();
        const std::string at = now();
        st->bind(1, settings).bind(2, at).bind(3, cur->version);
        if (const Step rc = st->step(); rc != Step::kDone) return c.lastError(rc);
        // Changed by another writer since it was read (another node): not overwritten.
        if (c.changes() == 0) return versionConflict("restaurant", 1, cur->version + 1);
        return Restaurant{settings, cur->version + 1, at};
      },
      std::move(done));
}

}  // namespace brigade::store::sql
