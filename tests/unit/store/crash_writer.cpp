// Helper for the crash test: writes orders as fast as it can with `concurrency` writes in
// flight and prints "<order id>\n" on stdout for each one the store acknowledged. The test
// kills it with SIGKILL mid-load and checks every printed id survived.
//
// Usage: store_crash_writer <db> <customer id> <item id> <concurrency>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "store/sqlite/sqlite_store.hpp"

using namespace brigade::store;

namespace {

struct Chain {
  Store* store;
  NewOrder order;

  void next() {
    store->createOrder(order, [this](brigade::Result<OrderCreated> r) {
      if (r) {
        // Printed only now: the callback runs after the batch's COMMIT returned.
        const std::string line = std::to_string(r->order.id) + "\n";
        if (::write(1, line.data(), line.size()) < 0) std::_Exit(3);
      }
      next();
    });
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s <db> <customer id> <item id> <concurrency>\n", argv[0]);
    return 2;
  }
  sqlite::SqliteOptions o;
  o.path = argv[1];
  auto store = sqlite::openSqliteStore(o);
  const int concurrency = std::atoi(argv[4]);
  std::vector<std::unique_ptr<Chain>> chains;
  for (int i = 0; i < concurrency; ++i) {
    NewOrder order;
    order.customer_id = std::atoll(argv[2]);
    order.items = {NewOrderLine{std::atoll(argv[3]), 1 + i % 3, "crash"}};
    order.delivery = Delivery{"1 Crash Lane", std::nullopt, std::nullopt};
    chains.push_back(std::make_unique<Chain>(Chain{store.get(), std::move(order)}));
  }
  for (auto& c : chains) c->next();
  for (;;) pause();
}
