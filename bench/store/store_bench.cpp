// Store benchmark: durable order writes per second with change capture (1, 8 and 64
// concurrent writers; group commit on and off), and change -> subscriber latency at a
// fixed write rate. Prints figures for docs/BENCHMARKS.md; asserts nothing.
//
// Usage: store_bench [seconds per case (default 3)] [directory for the database files]
//                    [writers: only the group-commit throughput case with that many writers]
// With BRIGADE_BENCH_PG_URL=postgres://... the same cases run on PostgreSQL instead (each
// case on a fresh database created there with psql and dropped afterwards;
// synchronous_commit stays on).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/log.hpp"
#include "store/await.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

using namespace brigade::store;
using Clock = std::chrono::steady_clock;

namespace {

const char* pgUrl() {
  const char* url = std::getenv("BRIGADE_BENCH_PG_URL");
  return url && *url ? url : nullptr;
}

int psql(const std::string& url, const std::string& sql) {
  const std::string cmd = "psql -X -q -v ON_ERROR_STOP=1 '" + url + "' -c '" + sql + "' >/dev/null";
  return std::system(cmd.c_str());
}

struct Db {
  std::string dir;
  std::string pg_db;  // the PostgreSQL database of this case (PostgreSQL runs only)
  std::unique_ptr<Store> store;
  int64_t customer = 0;
  int64_t burger = 0;
  int64_t fries = 0;

  Db(const std::string& parent, bool group_commit) {
    std::string tmpl = parent + "/store-bench-XXXXXX";
    if (!mkdtemp(tmpl.data())) std::abort();
    dir = tmpl;
    if (pgUrl()) {
      static int n = 0;
      pg_db = "bench_" + std::to_string(getpid()) + "_" + std::to_string(++n);
      if (psql(pgUrl(), "CREATE DATABASE " + pg_db) != 0) std::abort();
      postgres::PostgresOptions o;
      std::string url = pgUrl();
      o.url = url.substr(0, url.find('/', url.find("://") + 3)) + "/" + pg_db;
      o.group_commit = group_commit;
      store = postgres::openPostgresStore(o);
    } else {
      sqlite::SqliteOptions o;
      o.path = dir + "/bench.db";
      o.group_commit = group_commit;  // synchronous stays FULL
      store = sqlite::openSqliteStore(o);
    }
    customer = await<User>([&](auto d) {
                 store->createUser(NewUser{"bench@example.com", "B", Role::kCustomer, "h"}, d);
               })->id;
    auto cat = await<MenuCategory>([&](auto d) { store->createCategory({"Mains", {}}, d); });
    burger = await<MenuItem>([&](auto d) {
               store->createMenuItem(NewMenuItem{cat->id, "Burger", "", 1250, true, {}}, d);
             })->id;
    fries = await<MenuItem>([&](auto d) {
              store->createMenuItem(NewMenuItem{cat->id, "Fries", "", 399, true, {}}, d);
            })->id;
  }
  ~Db() {
    store.reset();
    std::filesystem::remove_all(dir);
    if (!pg_db.empty()) psql(pgUrl(), "DROP DATABASE " + pg_db + " WITH (FORCE)");
  }

  NewOrder order(std::string notes = {}) const {
    NewOrder o;
    o.customer_id = customer;
    o.items = {NewOrderLine{burger, 2, ""}, NewOrderLine{fries, 1, "extra salt"}};
    o.delivery = Delivery{"221B Baker Street", 51.5237, -0.1585};
    o.notes = std::move(notes);
    return o;
  }
};

// `writers` chains, each with one createOrder in flight at a time, for `seconds`.
void throughput(const std::string& parent, bool group_commit, int writers, double seconds) {
  Db db(parent, group_commit);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> acked{0}, failed{0};
  std::atomic<int> running{writers};
  std::mutex m;
  std::condition_variable cv;
  struct Chain {
    Db* db;
    std::atomic<bool>* stop;
    std::atomic<int64_t>* acked;
    std::atomic<int64_t>* failed;
    std::atomic<int>* running;
    std::condition_variable* cv;
    void next() {
      db->store->createOrder(db->order(), [this](brigade::Result<OrderCreated> r) {
        if (r) {
          ++*acked;
        } else {
          ++*failed;
        }
        if (stop->load()) {
          if (--*running == 0) cv->notify_all();
          return;
        }
        next();
      });
    }
  };
  std::vector<std::unique_ptr<Chain>> chains;
  for (int i = 0; i < writers; ++i) {
    chains.push_back(std::make_unique<Chain>(Chain{&db, &stop, &acked, &failed, &running, &cv}));
  }
  const auto before = db.store->stats();
  const auto t0 = Clock::now();
  for (auto& c : chains) c->next();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const int64_t n = acked.load();
  const auto t1 = Clock::now();
  const auto after = db.store->stats();
  stop = true;
  {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return running.load() == 0; });
  }
  const double secs = std::chrono::duration<double>(t1 - t0).count();
  const double batches = static_cast<double>(after.batches - before.batches);
  std::printf("| %-3s | %2d | %9.0f | %7.1f | %s |\n", group_commit ? "on" : "off", writers,
              static_cast<double>(n) / secs,
              batches > 0 ? static_cast<double>(after.writes - before.writes) / batches : 0.0,
              failed.load() ? "FAILURES" : "0");
  std::fflush(stdout);
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

// One writer at a fixed rate, one live subscriber; latency from the createOrder call (so
// including the transaction and its fsync) and from the commit acknowledgement.
void latency(const std::string& parent, int rate, double seconds) {
  Db db(parent, true);
  const int total = static_cast<int>(rate * seconds);
  std::vector<Clock::time_point> submitted(static_cast<size_t>(total));
  std::vector<std::atomic<int64_t>> acked_ns(static_cast<size_t>(total));
  std::vector<double> from_call, from_ack;
  std::mutex m;
  std::condition_variable cv;
  int delivered = 0;
  const auto epoch0 = Clock::now();
  db.store->subscribe(SubscribeOptions{}, [&](const StreamEvent& e) {
    if (e.kind != StreamEventKind::kChange) return;
    const auto now = Clock::now();
    const auto* notes = e.change->document.if_contains("notes");
    if (!notes || !notes->is_string() || notes->as_string().empty()) return;
    const size_t i = std::strtoul(notes->as_string().c_str(), nullptr, 10);
    if (i >= submitted.size()) return;
    std::lock_guard lock(m);
    from_call.push_back(std::chrono::duration<double, std::milli>(now - submitted[i]).count());
    const int64_t ack = acked_ns[i].load();
    if (ack > 0) {
      const double since_ack =
          std::chrono::duration<double, std::milli>(now - (epoch0 + std::chrono::nanoseconds(ack)))
              .count();
      from_ack.push_back(std::max(0.0, since_ack));
    } else {
      from_ack.push_back(0.0);  // delivered before the writer's callback even ran
    }
    if (++delivered == total) cv.notify_all();
  });
  const auto interval = std::chrono::nanoseconds(1'000'000'000 / rate);
  auto next = Clock::now();
  for (int i = 0; i < total; ++i) {
    std::this_thread::sleep_until(next);
    next += interval;
    submitted[static_cast<size_t>(i)] = Clock::now();
    db.store->createOrder(db.order(std::to_string(i)), [&, i](brigade::Result<OrderCreated> r) {
      if (r) {
        acked_ns[static_cast<size_t>(i)] =
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - epoch0).count();
      }
    });
  }
  std::unique_lock lock(m);
  cv.wait_for(lock, std::chrono::seconds(10), [&] { return delivered == total; });
  std::vector<double> commit;
  for (size_t i = 0; i < submitted.size(); ++i) {
    const int64_t ack = acked_ns[i].load();
    if (ack > 0) {
      commit.push_back(std::chrono::duration<double, std::milli>(
                           epoch0 + std::chrono::nanoseconds(ack) - submitted[i])
                           .count());
    }
  }
  std::printf("| %d/s | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", rate, delivered,
              percentile(from_call, 0.5), percentile(from_call, 0.99), percentile(from_call, 1.0),
              percentile(from_ack, 0.5), percentile(from_ack, 0.99), percentile(commit, 0.5),
              percentile(commit, 0.99));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  const std::string parent = argc > 2 ? argv[2] : std::filesystem::temp_directory_path().string();
  if (pgUrl()) {
    std::printf(
        "Durable order writes on PostgreSQL (synchronous_commit on, change capture by "
        "trigger, seqs numbered at commit; each order 2 lines + history), %.1f s per case\n\n",
        seconds);
  } else {
    std::printf(
        "Durable order writes (synchronous=FULL, WAL, change capture by trigger; "
        "each order 2 lines + history), %.1f s per case, files in %s\n\n",
        seconds, parent.c_str());
  }
  std::printf("| group commit | writers | orders/s | writes/transaction | failures |\n");
  std::printf("|---|---|---|---|---|\n");
  if (argc > 3) {
    throughput(parent, true, std::atoi(argv[3]), seconds);
    return 0;
  }
  for (bool group : {true, false}) {
    for (int writers : {1, 8, 64}) throughput(parent, group, writers, seconds);
  }
  std::printf("\nChange -> subscriber latency (ms), one live subscriber, %.1f s\n\n", seconds);
  std::printf(
      "| rate | changes | p50 from call | p99 from call | max from call | "
      "p50 from commit ack | p99 from commit ack | p50 call to ack | p99 call to ack |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  latency(parent, 1000, seconds);
  return 0;
}
