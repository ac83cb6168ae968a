#include "app/unanswered_orders.hpp"

#include "store/errors.hpp"
#include "store/timestamp.hpp"

namespace brigade::app {

using store::OrderStatus;

UnansweredOrders::UnansweredOrders(App& app, sio::Server& io) : app_(app), io_(io) {}

UnansweredOrders::~UnansweredOrders() {
  stop();
}

void UnansweredOrders::start() {
  app_.metrics().onScrape([this](Metrics& m) {
    m.setTotal("brigade_orders_not_answered_total", "Orders rejected for want of an answer", {},
               static_cast<double>(rejected_.load()));
  });
  timer_ = io_.runEvery(kUnansweredSweepMs, [this] { sweep(nullptr); });
}

void UnansweredOrders::stop() {
  timer_.cancel();
}

void UnansweredOrders::sweep(std::function<void()> done) {
  {
    std::lock_guard lock(mutex_);
    if (done) waiting_.push_back(std::move(done));
    if (running_) {
      again_ = true;
      return;
    }
    running_ = true;
  }
  run();
}

void UnansweredOrders::run() {
  auto settings = app_.restaurant().current();
  resumeExpiredPause(*settings, [this, settings] {
    rejectDue(*settings, [this, settings](size_t rejected) {
      if (rejected == 0 || !settings->pause_on_auto_reject) return finish();
      // Pause until a person looks: the kitchen is not answering.
      app_.restaurant().edit(
          std::nullopt,
          [](RestaurantSettings& s, bool& unchanged) -> std::optional<ApiError> {
            if (!s.pause_on_auto_reject || (s.paused && !s.paused_until)) unchanged = true;
            s.paused = true;
            s.paused_until.reset();
            return std::nullopt;
          },
          [this](auto, auto) { finish(); });
    });
  });
}

void UnansweredOrders::finish() {
  std::vector<std::function<void()>> done;
  bool again = false;
  {
    std::lock_guard lock(mutex_);
    if (again_) {
      // Someone asked for a pass while this one ran: theirs starts now.
      again_ = false;
      again = true;
    } else {
      running_ = false;
      done.swap(waiting_);
    }
  }
  if (again) return run();
  for (auto& fn : done) fn();
}

void UnansweredOrders::resumeExpiredPause(const RestaurantSettings& settings,
                                          std::function<void()> done) {
  const auto now = app_.clock().wallNow();
  if (!settings.paused || !settings.paused_until || now < *settings.paused_until) return done();
  app_.restaurant().edit(
      std::nullopt,
      [now](RestaurantSettings& s, bool& unchanged) -> std::optional<ApiError> {
        // Read again in the edit: a person may have changed the pause meanwhile.
        if (!s.paused || !s.paused_until || now < *s.paused_until) {
          unchanged = true;
        } else {
          s.paused = false;
          s.paused_until.reset();
        }
        return std::nullopt;
      },
      [done = std::move(done)](auto, auto) { done(); });
}

void UnansweredOrders::rejectDue(const RestaurantSettings& settings,
                                 std::function<void(size_t)> done) {
  if (!settings.auto_reject_after_s) return done(0);
  const auto cutoff = app_.clock().wallNow() - std::chrono::seconds(*settings.auto_reject_after_s);
  store::OrderQuery query;
  query.status = OrderStatus::kPending;
  query.created_before = store::formatTimestamp(cutoff);
  query.oldest_first = true;
  query.limit = kUnansweredBatch;
  app_.store().listOrders(
      query, [this, done = std::move(done)](Result<std::vector<store::Order>> orders) {
        if (!orders || orders->empty()) return done(0);
        struct Tally {
          std::atomic<size_t> left;
          std::atomic<size_t> rejected{0};
          std::function<void(size_t)> done;
        };
        auto tally = std::make_shared<Tally>();
        tally->left = orders->size();
        tally->done = std::move(done);
        for (const auto& order : *orders) {
          store::OrderUpdate update;
          update.id = order.id;
          update.expected_version = order.version;  // another node, or a person, got there first
          update.check = [](const store::Order& current) -> Result<void> {
            if (current.status != OrderStatus::kPending) {
              return makeError("illegal_transition", "answered meanwhile");
            }
            return {};
          };
          update.status = OrderStatus::kRejected;
          update.status_reason = std::optional<std::string>(kNotAnswered);
          app_.store().updateOrder(std::move(update), [this, tally](Result<store::Order> r) {
            if (r) {
              tally->rejected.fetch_add(1);
              rejected_.fetch_add(1);
            }
            if (tally->left.fetch_sub(1) == 1) tally->done(tally->rejected.load());
          });
        }
      });
}

}  // namespace brigade::app
