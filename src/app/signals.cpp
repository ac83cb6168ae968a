#include "app/signals.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace brigade::app {

namespace json = boost::json;

Signals::Signals(store::Store& store) : store_(store) {
  store_.onSignals([this](const std::string& payload) { deliver(payload); }, [this] { missed(); });
}

Signals::~Signals() {
  close();
}

void Signals::close() {
  if (closed_.exchange(true)) return;
  store_.onSignals(nullptr, nullptr);  // returns once no delivery is running
}

void Signals::publish(const json::object& signal) {
  if (closed_) return;
  store_.publishSignal(json::serialize(signal));
}

void Signals::on(const std::string& kind, Handler handler) {
  std::lock_guard lock(mutex_);
  if (handler) {
    handlers_[kind] = std::move(handler);
  } else {
    handlers_.erase(kind);
  }
}

void Signals::onMissed(const std::string& who, std::function<void()> handler) {
  std::lock_guard lock(mutex_);
  if (handler) {
    missed_[who] = std::move(handler);
  } else {
    missed_.erase(who);
  }
}

void Signals::deliver(const std::string& payload) {
  boost::system::error_code ec;
  auto parsed = json::parse(payload, ec);
  if (ec || !parsed.is_object()) return;
  const auto* kind = parsed.as_object().if_contains("kind");
  if (!kind || !kind->is_string()) return;
  std::lock_guard lock(mutex_);  // held while the handler runs: on(kind, nullptr) waits it out
  auto it = handlers_.find(std::string(kind->get_string()));
  if (it != handlers_.end()) it->second(parsed.as_object());
}

void Signals::missed() {
  std::lock_guard lock(mutex_);
  for (auto& [who, handler] : missed_) handler();
}

}  // namespace brigade::app
