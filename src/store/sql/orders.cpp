// Orders: priced from the menu inside the write, idempotent, compare-and-set updates.
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <map>
#include <set>

#include "store/documents.hpp"

#include "store/errors.hpp"
#include "store/sql/rows.hpp"
#include "store/sql/sql_store.hpp"
#include "store/sql/store_calls.hpp"

namespace brigade::store::sql {
namespace {

// The options a line chose, checked against the item's groups: each one of this item, at most
// once, available, and every group between its min and max. Names and prices as they are now
// (frozen with the order). `field` is the line's ("items[2]").
Result<std::vector<ChosenOption>> chooseOptions(const std::vector<OptionGroup>& groups,
                                                const std::vector<int64_t>& chosen,
                                                const std::string& field) {
  std::vector<ChosenOption> out;
  std::map<int64_t, int64_t> perGroup;  // group id → options chosen
  std::set<int64_t> seen;
  for (size_t j = 0; j < chosen.size(); ++j) {
    const std::string at = field + ".options[" + std::to_string(j) + "]";
    const OptionGroup* group = nullptr;
    const MenuOption* option = nullptr;
    for (const auto& g : groups) {
      for (const auto& o : g.options) {
        if (o.id == chosen[j]) {
          group = &g;
          option = &o;
        }
      }
    }
    if (!option) return makeError(errc::kUnknownOption, at + ": not an option of this item");
    if (!seen.insert(option->id).second) {
      return makeError(errc::kInvalid, at + ": chosen twice");
    }
    if (!option->available) {
      return makeError(errc::kOptionUnavailable, at + ": " + option->name + " is unavailable");
    }
    ++perGroup[group->id];
    out.push_back(ChosenOption{option->id, group->name, option->name, option->price_cents});
  }
  for (const auto& g : groups) {
    const int64_t n = perGroup[g.id];
    if (n < g.min || n > g.max) {
      std::string range = g.min == g.max ? std::to_string(g.min)
                                         : std::to_string(g.min) + " to " + std::to_string(g.max);
      return makeError(errc::kInvalid,
                       field + ".options: choose " + range + " from \"" + g.name + "\"");
    }
  }
  return out;
}

}  // namespace

void SqlStore::createOrder(NewOrder order, Callback<OrderCreated> done) {
  write<OrderCreated>(
      [this, order = std::move(order)](Connection& c) { return insertOrder(c, order); },
      std::move(done));
}

void SqlStore::getOrder(int64_t id, Callback<Order> done) {
  read<Order>([id](Connection& c) { return orderById(c, id); }, std::move(done));
}

void SqlStore::listOrders(OrderQuery q, Callback<std::vector<Order>> done) {
  read<std::vector<Order>>(
      [q](Connection& c) -> Result<std::vector<Order>> {
        // Only the conditions in use, so the planner can pick the matching index; every
        // placeholder is one in use (PostgreSQL cannot type a parameter it never sees).
        std::string where;
        auto add = [&](bool use, const char* cond) {
          if (use) where += (where.empty() ? " WHERE " : " AND ") + std::string(cond);
        };
        add(q.customer_id.has_value(), "customer_id = ?");
        add(q.rider_id.has_value(), "rider_id = ?");
        add(q.status.has_value(), "status = ?");
        std::string anyOf = "status IN (";
        for (size_t i = 0; i < q.statuses.size(); ++i) anyOf += i ? ", ?" : "?";
        add(!q.statuses.empty(), (anyOf + ")").c_str());
        add(q.before_id.has_value(), "id < ?");
        add(q.created_from.has_value(), "created_at >= ?");
        add(q.created_before.has_value(), "created_at < ?");
        add(q.offer_expired_before.has_value(), "offer_expires_at < ?");
        add(q.unassigned, "rider_id IS NULL");
        const std::string order = q.oldest_first ? "ASC" : "DESC";
        auto st = c.statement("SELECT d.document FROM (SELECT id FROM orders" + where +
                              " ORDER BY id " + order +
                              " LIMIT ?) AS o JOIN order_documents AS d ON d.id = o.id "
                              "ORDER BY o.id " +
                              order);
        if (!st) return st.error();
        int n = 0;
        if (q.customer_id) st->bind(++n, *q.customer_id);
        if (q.rider_id) st->bind(++n, *q.rider_id);
        if (q.status) st->bind(++n, toString(*q.status));
        for (auto status : q.statuses) st->bind(++n, toString(status));
        if (q.before_id) st->bind(++n, *q.before_id);
        if (q.created_from) st->bind(++n, *q.created_from);
        if (q.created_before) st->bind(++n, *q.created_before);
        if (q.offer_expired_before) st->bind(++n, *q.offer_expired_before);
        st->bind(++n, std::clamp<int64_t>(q.limit, 1, kMaxOrderListLimit));
        std::vector<Order> out;
        Step rc;
        while ((rc = st->step()) == Step::kRow) {
          auto o = orderFromJson(st->text(0));
          if (!o) return o.error();
          out.push_back(std::move(*o));
        }
        if (rc != Step::kDone) return c.lastError(rc);
        return out;
      },
      std::move(done));
}

void SqlStore::updateOrder(OrderUpdate update, Callback<Order> done) {
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
        // An order's updated_at strictly increases, also within one millisecond, so every
        // change of it has its own time (a kitchen printer tells an acceptance, whose history
        // entry has the change's time, from a later change of the accepted order by it).
        std::string at = now();
        if (at <= cur->updated_at) {
          if (auto last = parseTimestamp(cur->updated_at)) {
            at = formatTimestamp(*last + std::chrono::milliseconds(1));
          }
        }
        if (update.status) {
          // History first: the orders row update below fires the capture trigger, whose
          // document must already show the new entry.
          auto h = c.statement(
              "INSERT INTO order_history(order_id, n, status, at, by_user) VALUES (?1, "
              "(SELECT coalesce(max(n), 0) + 1 FROM order_history WHERE order_id = ?1), ?2, ?3, "
              "?4)");
          if (!h) return h.error();
          h->bind(1, update.id).bind(2, toString(*update.status)).bind(3, at).bind(4, update.by);
          if (const Step rc = h->step(); rc != Step::kDone) {
            // Another writer appended this entry number first (it moved the order since it
            // was read above, on another node): the same race as a stale version.
            if (rc == Step::kUnique)
              return lostRace(update.expected_version, "order", update.id, cur->version + 1);
            return c.lastError(rc);
          }
        }
        if (update.payment_status && *update.payment_status != kPaid &&
            *update.payment_status != kUnpaid) {
          return makeError(errc::kInvalid, "payment_status: paid or unpaid");
        }
        std::vector<int64_t> declined = cur->declined_rider_ids;
        if (update.declined_by &&
            std::find(declined.begin(), declined.end(), *update.declined_by) == declined.end()) {
          declined.push_back(*update.declined_by);
        }
        std::string declinedJson = "[";
        for (size_t i = 0; i < declined.size(); ++i) {
          declinedJson += (i ? "," : "") + std::to_string(declined[i]);
        }
        declinedJson += "]";
        auto st = c.statement(
            "UPDATE orders SET status = ?, status_reason = ?, rider_id = ?, prep_minutes = ?, "
            "payment_status = ?, code_attempts = ?, offer_expires_at = ?, rider_accepted_at = ?, "
            "declined_rider_ids = ?, updated_at = ?, version = version + 1 "
            "WHERE id = ? AND version = ?");
        if (!st) return st.error();
        st->bind(1, toString(update.status.value_or(cur->status)));
        st->bind(2, update.status_reason ? *update.status_reason : cur->status_reason);
        st->bind(3, update.rider_id ? *update.rider_id : cur->rider_id);
        st->bind(4, update.prep_minutes ? *update.prep_minutes : cur->prep_minutes);
        st->bind(5, update.payment_status.value_or(cur->payment.status));
        const int64_t attempts = cur->code_attempts + (update.count_wrong_code ? 1 : 0);
        st->bind(6, attempts);
        std::optional<std::string> expires =
            update.offer_expires_at ? *update.offer_expires_at : cur->offer_expires_at;
        std::optional<std::string> accepted =
            update.rider_accepted_at ? *update.rider_accepted_at : cur->rider_accepted_at;
        if (update.accept_offer) {
          if (!accepted) accepted = at;
          expires.reset();
        }
        st->bind(7, expires);
        st->bind(8, accepted);
        st->bind(9, declinedJson);
        st->bind(10, at).bind(11, update.id).bind(12, cur->version);
        const Step rc = st->step();
        if (rc == Step::kForeignKey) {
          return makeError(errc::kNotFound, "rider_id: no such user");
        }
        if (rc != Step::kDone) return c.lastError(rc);
        // Another writer (a node, a batch on another connection) committed a change of this
        // order after it was read above: the row no longer has that version. The error rolls
        // this write back, history entry included.
        if (c.changes() == 0)
          return lostRace(update.expected_version, "order", update.id, cur->version + 1);
        Order next = std::move(*cur);
        if (update.status) {
          next.status = *update.status;
          next.history.push_back(HistoryEntry{*update.status, at, update.by});
        }
        if (update.status_reason) next.status_reason = *update.status_reason;
        if (update.rider_id) next.rider_id = *update.rider_id;
        if (update.prep_minutes) next.prep_minutes = *update.prep_minutes;
        if (update.payment_status) next.payment.status = *update.payment_status;
        next.code_attempts = attempts;
        next.offer_expires_at = expires;
        next.rider_accepted_at = accepted;
        next.declined_rider_ids = std::move(declined);
        next.updated_at = at;
        ++next.version;
        return next;
      },
      std::move(done));
}

void SqlStore::orderStats(std::string from, std::string to, Callback<OrderStats> done) {
  read<OrderStats>(
      [this, from = std::move(from), to = std::move(to)](Connection& c) -> Result<OrderStats> {
        ReadTransaction txn(c, *dialect_);
        OrderStats s;
        auto totals = c.statement(
            "SELECT count(*), coalesce(sum(CASE WHEN status NOT IN ('rejected','cancelled') "
            "THEN total_cents END), 0), avg(prep_minutes) FROM orders "
            "WHERE created_at >= ? AND created_at < ?");
        if (!totals) return totals.error();
        totals->bind(1, from).bind(2, to);
        if (const Step rc = totals->step(); rc != Step::kRow) return c.lastError(rc);
        s.orders = totals->int64(0);
        s.revenue_cents = totals->int64(1);
        s.avg_prep_minutes = totals->optReal(2);
        auto by = c.statement(
            "SELECT status, count(*) FROM orders WHERE created_at >= ? AND created_at < ? "
            "GROUP BY status");
        if (!by) return by.error();
        by->bind(1, from).bind(2, to);
        Step rc;
        while ((rc = by->step()) == Step::kRow) s.by_status[by->text(0)] = by->int64(1);
        if (rc != Step::kDone) return c.lastError(rc);
        return s;
      },
      std::move(done));
}
void SqlStore::orderTimings(std::string from, std::string to,
                            Callback<std::vector<OrderTiming>> done) {
  read<std::vector<OrderTiming>>(
      [this, from = std::move(from),
       to = std::move(to)](Connection& c) -> Result<std::vector<OrderTiming>> {
        ReadTransaction txn(c, *dialect_);
        auto st = c.statement(
            "SELECT o.id, o.created_at, "
            "(SELECT min(h.at) FROM order_history AS h WHERE h.order_id = o.id AND "
            "h.status = 'accepted'), "
            "(SELECT min(h.at) FROM order_history AS h WHERE h.order_id = o.id AND "
            "h.status = 'ready'), "
            "(SELECT min(h.at) FROM order_history AS h WHERE h.order_id = o.id AND "
            "h.status = 'delivered') "
            "FROM orders AS o WHERE o.created_at >= ? AND o.created_at < ? "
            "ORDER BY o.created_at DESC LIMIT ?");
        if (!st) return st.error();
        st->bind(1, from).bind(2, to).bind(3, kMaxTimedOrders);
        std::vector<OrderTiming> out;
        std::map<int64_t, size_t> index;
        Step rc;
        while ((rc = st->step()) == Step::kRow) {
          index[st->int64(0)] = out.size();
          out.push_back(OrderTiming{
              st->int64(0), st->text(1), st->optText(2), st->optText(3), st->optText(4), {}});
        }
        if (rc != Step::kDone) return c.lastError(rc);
        if (out.empty()) return out;
        auto items = c.statement(
            "SELECT i.order_id, i.item_id, i.name FROM order_items AS i JOIN orders AS o ON "
            "o.id = i.order_id WHERE o.created_at >= ? AND o.created_at < ? AND "
            "o.created_at >= ?");
        if (!items) return items.error();
        items->bind(1, from).bind(2, to).bind(3, out.back().created_at);
        while ((rc = items->step()) == Step::kRow) {
          if (auto it = index.find(items->int64(0)); it != index.end()) {
            out[it->second].items.emplace_back(items->int64(1), items->text(2));
          }
        }
        if (rc != Step::kDone) return c.lastError(rc);
        return out;
      },
      std::move(done));
}

// The order an unexpired use of this request's Idempotency-Key made (nullopt: none), or
// kIdempotencyKeyReused when that use was a different request. `use` is the key's row
// (request_hash, order_id, created_at), read by the caller.
Result<std::optional<OrderCreated>> SqlStore::replayIdempotent(Connection& c, const NewOrder& order,
                                                               const IdempotencyUse& use,
                                                               SystemClock::time_point now) {
  if (use.created_at < formatTimestamp(now - kIdempotencyTtl)) {
    return std::optional<OrderCreated>();
  }
  if (use.request_hash != order.idempotency->request_hash) {
    return makeError(errc::kIdempotencyKeyReused,
                     "this Idempotency-Key was used with a different request");
  }
  auto existing = orderById(c, use.order_id);
  if (!existing) return existing.error();
  return std::optional<OrderCreated>(OrderCreated{std::move(*existing), true});
}

Result<std::optional<OrderCreated>> SqlStore::findIdempotent(Connection& c, const NewOrder& order,
                                                             SystemClock::time_point now) {
  auto st = c.statement(
      "SELECT request_hash, order_id, created_at FROM idempotency_keys "
      "WHERE customer_id = ? AND key = ?");
  if (!st) return st.error();
  st->bind(1, order.customer_id).bind(2, order.idempotency->key);
  const Step rc = st->step();
  if (rc == Step::kDone) return std::optional<OrderCreated>();
  if (rc != Step::kRow) return c.lastError(rc);
  return replayIdempotent(c, order, IdempotencyUse{st->text(0), st->int64(1), st->text(2)}, now);
}

// Everything an order's write reads before it checks anything, in one statement (each
// statement is a round trip on PostgreSQL, and this is the hot path): a fresh order id, the
// customer's name, the restaurant, the last use of the request's Idempotency-Key, and the
// menu item of every line (one row per item found, the rest repeated on each).
Result<SqlStore::OrderContext> SqlStore::orderContext(Connection& c, const NewOrder& order) {
  std::set<int64_t> wanted;
  for (const auto& line : order.items) wanted.insert(line.item_id);
  std::string items = "1 = 0";
  if (!wanted.empty()) {
    items = "m.id IN (";
    for (size_t i = 0; i < wanted.size(); ++i) {
      items += (i ? ", ?" : "?") + std::to_string(i + 3);
    }
    items += ")";
  }
  auto st = c.statement("SELECT (" + dialect_->nextOrderIdSql() +
                        "), u.name, r.settings, r.version, r.updated_at, k.request_hash, "
                        "k.order_id, k.created_at, m.id, m.name, m.price_cents, m.available, "
                        "m.option_groups FROM (SELECT 1 AS one) AS one "
                        "LEFT JOIN restaurant AS r ON r.id = 1 "
                        "LEFT JOIN users AS u ON u.id = ?1 "
                        "LEFT JOIN idempotency_keys AS k ON k.customer_id = ?1 AND k.key = ?2 "
                        "LEFT JOIN menu_items AS m ON " +
                        items);
  if (!st) return st.error();
  st->bind(1, order.customer_id);
  st->bind(2, order.idempotency ? std::optional<std::string>(order.idempotency->key)
                                : std::optional<std::string>());
  int n = 2;
  for (const int64_t id : wanted) st->bind(++n, id);
  OrderContext ctx;
  Step rc;
  bool first = true;
  while ((rc = st->step()) == Step::kRow) {
    if (first) {
      first = false;
      ctx.next_id = st->int64(0);
      ctx.customer_name = st->optText(1);
      if (!st->isNull(2)) ctx.restaurant = Restaurant{st->text(2), st->int64(3), st->text(4)};
      if (!st->isNull(5)) ctx.key_use = IdempotencyUse{st->text(5), st->int64(6), st->text(7)};
    }
    if (!st->isNull(8)) {
      ctx.menu[st->int64(8)] =
          MenuRow{st->text(9), st->int64(10), st->int64(11) != 0, st->text(12)};
    }
  }
  if (rc != Step::kDone || first) return c.lastError(rc);
  return ctx;
}

Result<OrderCreated> SqlStore::insertOrder(Connection& c, const NewOrder& order) {
  const auto clock_now = o_.clock();
  const std::string at = formatTimestamp(clock_now);
  // Before anything is read: a request this malformed never made an order to replay.
  if (order.items.empty() || order.items.size() > kMaxOrderLines) {
    return makeError(errc::kInvalid,
                     "items: between 1 and " + std::to_string(kMaxOrderLines) + " lines");
  }
  auto ctx = orderContext(c, order);
  if (!ctx) return ctx.error();
  if (order.idempotency && ctx->key_use) {
    // The fast path: a repeat that already committed.
    auto seen = replayIdempotent(c, order, *ctx->key_use, clock_now);
    if (!seen) return seen.error();
    if (*seen) return std::move(**seen);
  }
  if ((order.admit || order.price) && !ctx->restaurant) return notFound("restaurant", 1);
  if (order.admit) {
    RecentOrders recent = [this, &c](const std::string& since, int64_t cap) -> Result<int64_t> {
      // Concurrent writers (PostgreSQL's connections, nodes) would each count without the
      // others' uncommitted orders and together pass the cap: the count is taken under a
      // lock held to the end of the transaction, so the next one counts this order too.
      if (const std::string& lock = dialect_->admissionLockSql(); !lock.empty()) {
        auto locked = c.statement(lock);
        if (!locked) return locked.error();
        if (const Step rc = locked->step(); rc != Step::kRow && rc != Step::kDone) {
          return c.lastError(rc);
        }
      }
      auto st = c.statement(
          "SELECT count(*) FROM (SELECT 1 FROM orders WHERE created_at >= ? LIMIT ?) AS r");
      if (!st) return st.error();
      st->bind(1, since).bind(2, cap);
      if (const Step rc = st->step(); rc != Step::kRow) return c.lastError(rc);
      return st->int64(0);
    };
    if (auto admitted = order.admit(*ctx->restaurant, recent); !admitted) {
      return admitted.error();
    }
  }
  const auto& menu = ctx->menu;
  struct Priced {
    std::string name;
    int64_t price;  // with the options
    std::vector<ChosenOption> options;
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
    const auto item = menu.find(line.item_id);
    if (item == menu.end()) {
      return makeError(errc::kUnknownItem, field + ".item_id: no such menu item");
    }
    if (!item->second.available) {
      return makeError(errc::kItemUnavailable, field + ".item_id: currently unavailable");
    }
    Priced p{item->second.name, item->second.price, {}};
    if (item->second.option_groups != "[]" || !line.options.empty()) {
      auto groups = parseOptionGroups(item->second.option_groups);
      if (!groups) return groups.error();
      auto chosen = chooseOptions(*groups, line.options, field);
      if (!chosen) return chosen.error();
      for (const auto& o : *chosen) {
        if (__builtin_add_overflow(p.price, o.price_cents, &p.price)) {
          return makeError(errc::kInvalid, field + ": amount too large");
        }
      }
      p.options = std::move(*chosen);
    }
    priced.push_back(std::move(p));
    int64_t line_total = 0;
    if (__builtin_mul_overflow(priced.back().price, line.quantity, &line_total) ||
        __builtin_add_overflow(subtotal, line_total, &subtotal)) {
      return makeError(errc::kInvalid, field + ": amount too large");
    }
  }
  DeliveryPrice delivery{order.delivery_fee_cents, order.delivery.distance_m};
  if (order.price) {
    auto priced_delivery = order.price(*ctx->restaurant, subtotal);
    if (!priced_delivery) return priced_delivery.error();
    delivery = *priced_delivery;
  }
  int64_t total = 0;
  if (delivery.fee_cents < 0 || __builtin_add_overflow(subtotal, delivery.fee_cents, &total)) {
    return makeError(errc::kInvalid, "delivery_fee_cents: out of range");
  }
  if (order.payment_method != kPaymentCash && order.payment_method != kPaymentCard) {
    return makeError(errc::kInvalid, "payment_method: cash or card");
  }

  // The id is chosen first so lines and history can precede the orders row (see schema).
  const int64_t id = ctx->next_id;

  if (order.idempotency) {
    // Claim the key before writing anything else. The primary key makes a concurrent
    // claim of the same key (another node, another batch) wait for this transaction and
    // then find it taken: one order per key across every node, never one per process.
    auto claim = c.statement(
        "INSERT INTO idempotency_keys(customer_id, key, request_hash, order_id, created_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(customer_id, key) DO NOTHING");
    if (!claim) return claim.error();
    claim->bind(1, order.customer_id).bind(2, order.idempotency->key);
    claim->bind(3, order.idempotency->request_hash).bind(4, id).bind(5, at);
    if (const Step rc = claim->step(); rc != Step::kDone) return c.lastError(rc);
    if (c.changes() == 0) {
      auto seen = findIdempotent(c, order, clock_now);
      if (!seen) return seen.error();
      if (*seen) return std::move(**seen);
      // Taken by an expired use: this request takes it over.
      auto renew = c.statement(
          "UPDATE idempotency_keys SET request_hash = ?, order_id = ?, created_at = ? "
          "WHERE customer_id = ? AND key = ?");
      if (!renew) return renew.error();
      renew->bind(1, order.idempotency->request_hash).bind(2, id).bind(3, at);
      renew->bind(4, order.customer_id).bind(5, order.idempotency->key);
      if (const Step rc = renew->step(); rc != Step::kDone) return c.lastError(rc);
    }
  }

  // Lines and history before the orders row, whose capture trigger reads them.
  const size_t lines = order.items.size();
  std::string items_sql =
      "INSERT INTO order_items(order_id, line, item_id, name, unit_price_cents, quantity, "
      "notes, options) VALUES ";
  for (size_t i = 0; i < lines; ++i)
    items_sql += i ? ", (?, ?, ?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?, ?, ?)";
  const int items_params = static_cast<int>(lines) * 8;
  auto bindItems = [&](Statement& st, int k) {
    for (size_t i = 0; i < lines; ++i, k += 8) {
      st.bind(k + 1, id).bind(k + 2, static_cast<int64_t>(i + 1));
      st.bind(k + 3, order.items[i].item_id).bind(k + 4, priced[i].name);
      st.bind(k + 5, priced[i].price).bind(k + 6, order.items[i].quantity);
      st.bind(k + 7, order.items[i].notes);
      st.bind(k + 8, priced[i].options.empty()
                         ? std::string("[]")
                         : boost::json::serialize(chosenOptionsJson(priced[i].options)));
    }
  };
  const std::string history_sql =
      "INSERT INTO order_history(order_id, n, status, at, by_user) VALUES (?, 1, 'pending', ?, "
      "?)";
  const int history_params = 3;
  auto bindHistory = [&](Statement& st, int k) {
    st.bind(k + 1, id).bind(k + 2, at).bind(k + 3, order.customer_id);
  };
  std::optional<std::string> code;
  if (!order.delivery_code.empty()) code = order.delivery_code;
  const std::string order_sql =
      "INSERT INTO orders(id, customer_id, subtotal_cents, delivery_fee_cents, total_cents, "
      "status, delivery_address, delivery_lat, delivery_lng, notes, created_at, updated_at, "
      "payment_method, delivery_code, delivery_distance_m) "
      "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  auto bindOrder = [&](Statement& st, int k) {
    st.bind(k + 1, id).bind(k + 2, order.customer_id).bind(k + 3, subtotal);
    st.bind(k + 4, delivery.fee_cents).bind(k + 5, total).bind(k + 6, order.delivery.address);
    st.bind(k + 7, order.delivery.lat).bind(k + 8, order.delivery.lng).bind(k + 9, order.notes);
    st.bind(k + 10, at).bind(k + 11, at).bind(k + 12, order.payment_method);
    st.bind(k + 13, code).bind(k + 14, delivery.distance_m);
  };
  // Built here rather than read back through order_documents: this is the hot path, and
  // the suite checks both give the same document (and, where the writer records the
  // change itself, that the change's document is the trigger's).
  Order created;
  created.id = id;
  created.customer_id = order.customer_id;
  created.customer_name = ctx->customer_name.value_or("");
  for (size_t i = 0; i < order.items.size(); ++i) {
    created.items.push_back(OrderLine{order.items[i].item_id, priced[i].name, priced[i].price,
                                      order.items[i].quantity, order.items[i].notes,
                                      priced[i].options});
  }
  created.subtotal_cents = subtotal;
  created.delivery_fee_cents = delivery.fee_cents;
  created.total_cents = total;
  created.delivery = order.delivery;
  created.delivery.distance_m = delivery.distance_m;
  created.payment = Payment{order.payment_method, std::string(kUnpaid)};
  created.delivery_code = code;
  created.notes = order.notes;
  created.created_at = at;
  created.updated_at = at;
  created.version = 1;
  created.history.push_back(HistoryEntry{OrderStatus::kPending, at, order.customer_id});
  Step rc;
  if (dialect_->writableCtes()) {
    // One statement: its AFTER triggers fire at its end and see all three inserts.
    auto st = c.statement("WITH l AS (" + items_sql + "), h AS (" + history_sql + ") " + order_sql);
    if (!st) return st.error();
    bindItems(*st, 0);
    bindHistory(*st, items_params);
    bindOrder(*st, items_params + history_params);
    rc = st->step();
    if (rc == Step::kDone && dialect_->writerCapturesNewOrders()) {
      c.recordAtCommit(RecordedChange{"orders", "insert", id,
                                      boost::json::serialize(toDocument(created)),
                                      order.customer_id, std::nullopt});
    }
  } else {
    auto items = c.statement(items_sql);
    if (!items) return items.error();
    bindItems(*items, 0);
    if (rc = items->step(); rc != Step::kDone) return c.lastError(rc);
    auto history = c.statement(history_sql);
    if (!history) return history.error();
    bindHistory(*history, 0);
    if (rc = history->step(); rc != Step::kDone) return c.lastError(rc);
    auto st = c.statement(order_sql);
    if (!st) return st.error();
    bindOrder(*st, 0);
    rc = st->step();
  }
  if (rc != Step::kDone) {
    if (rc == Step::kForeignKey) return notFound("customer", order.customer_id);
    return c.lastError(rc);
  }
  return OrderCreated{std::move(created), false};
}

}  // namespace brigade::store::sql
