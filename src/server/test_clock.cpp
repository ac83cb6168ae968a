#include "server/test_clock.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace brigade::server {

namespace json = boost::json;

bool isLoopback(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

namespace {

// Runs due[i..] one after the other, then `done`.
void runFrom(std::shared_ptr<const std::vector<DueWork>> due, size_t i,
             std::function<void()> done) {
  if (i == due->size()) return done();
  (*due)[i]([due, i, done] { runFrom(due, i + 1, done); });
}

}  // namespace

void mountTestClock(http::Router& router, Clock& clock, store::Store& store,
                    std::vector<DueWork> due) {
  http::Route route;
  route.headAsGet = false;
  auto work = std::make_shared<const std::vector<DueWork>>(std::move(due));
  route.handle = [&clock, &store, work](http::Request&& request,
                                        const http::ResponderPtr& responder) {
    if (request.method != "POST") {
      return responder->send(http::Response::json(
          405, http::errorJson("method_not_allowed", "POST a body {advance_ms: N}")));
    }
    boost::system::error_code ec;
    json::value body = json::parse(request.body, ec);
    const json::value* advance =
        body.is_object() ? body.as_object().if_contains("advance_ms") : nullptr;
    if (ec || !advance || !advance->is_int64() || advance->as_int64() < 0 ||
        advance->as_int64() > kMaxTestClockAdvanceMs) {
      return responder->send(http::Response::json(
          422, http::errorJson("invalid", "advance_ms: an integer of milliseconds, 0 or more")));
    }
    clock.advance(advance->as_int64());
    store.purgeExpired([&clock, work, responder](Result<store::PurgeReport>) {
      runFrom(work, 0, [&clock, responder] {
        responder->send(http::Response::json(
            200, json::serialize(json::object{{"offset_ms", clock.offsetMs()}})));
      });
    });
  };
  router.add("/__test/clock", std::move(route));
}

}  // namespace brigade::server
