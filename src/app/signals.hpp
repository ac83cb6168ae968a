#pragma once

#include <atomic>
#include <boost/json/object.hpp>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "store/store.hpp"

namespace brigade::app {

// The application's side of the signals between nodes (store/signals.hpp): a signal is a
// JSON object whose "kind" picks its handler. Several parts of the application listen
// (the live layer: positions and logouts; the login limits: failures), so this sits
// between them and the store's single subscription. Handlers run on a store thread and
// must be quick; they may be set or cleared at any time.
class Signals {
 public:
  using Handler = std::function<void(const boost::json::object&)>;

  explicit Signals(store::Store& store);
  ~Signals();
  Signals(const Signals&) = delete;
  Signals& operator=(const Signals&) = delete;

  // Sends to every other node (nothing on a single node).
  void publish(const boost::json::object& signal);
  // Sets (or, with nullptr, clears) the handler of one kind; returns once a handler being
  // replaced is no longer running.
  void on(const std::string& kind, Handler handler);
  // Called when signals may have been lost (the link to the other nodes came back).
  void onMissed(const std::string& who, std::function<void()> handler);
  // Unsubscribes from the store and stops publishing (idempotent): before the store is
  // destroyed.
  void close();

 private:
  void deliver(const std::string& payload);
  void missed();

  store::Store& store_;
  std::atomic<bool> closed_{false};
  std::mutex mutex_;
  std::unordered_map<std::string, Handler> handlers_;
  std::unordered_map<std::string, std::function<void()>> missed_;
};

}  // namespace brigade::app
