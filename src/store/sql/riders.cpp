// Riders: online state and location.
#include <algorithm>
#include <cmath>

#include "store/errors.hpp"
#include "store/sql/rows.hpp"
#include "store/sql/sql_store.hpp"
#include "store/sql/store_calls.hpp"

namespace brigade::store::sql {

void SqlStore::setRiderOnline(int64_t rider_id, bool online, Callback<Rider> done) {
  write<Rider>(
      [rider_id, online](Connection& c) -> Result<Rider> {
        auto before = riderById(c, rider_id);
        if (!before) return before.error();
        auto st = c.statement(
            "INSERT INTO riders(user_id, online) VALUES (?1, ?2) ON CONFLICT(user_id) DO "
            "UPDATE SET online = excluded.online, version = riders.version + 1");
        if (!st) return st.error();
        st->bind(1, rider_id).bind(2, online);
        if (const Step rc = st->step(); rc != Step::kDone) return c.lastError(rc);
        return riderById(c, rider_id);
      },
      std::move(done));
}

void SqlStore::setRiderLocation(int64_t rider_id, double lat, double lng, Callback<Location> done) {
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
            "located_at = excluded.located_at, version = riders.version + 1");
        if (!st) return st.error();
        st->bind(1, rider_id).bind(2, lat).bind(3, lng).bind(4, loc.at);
        if (const Step rc = st->step(); rc != Step::kDone) return c.lastError(rc);
        return loc;
      },
      std::move(done));
}

void SqlStore::getRider(int64_t rider_id, Callback<Rider> done) {
  read<Rider>([rider_id](Connection& c) { return riderById(c, rider_id); }, std::move(done));
}

void SqlStore::listRiders(Callback<std::vector<Rider>> done) {
  read<std::vector<Rider>>(
      [this](Connection& c) {
        ReadTransaction txn(c, *dialect_);
        return riders(c, std::nullopt);
      },
      std::move(done));
}

}  // namespace brigade::store::sql
