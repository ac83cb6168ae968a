#include "store/change_hub.hpp"

#include <pthread.h>

#include <exception>

#include "core/log.hpp"

namespace brigade::store {

ChangeHub::ChangeHub(std::unique_ptr<ChangeSource> source, std::string epoch,
                     std::chrono::milliseconds poll_interval)
    : source_(std::move(source)), epoch_(std::move(epoch)), poll_interval_(poll_interval) {
  // Changes committed before the hub existed are history, not live: start at the head.
  // Baseline first: a commit landing between the two calls then still triggers a pump.
  source_->maybeChanged();
  auto b = source_->bounds();
  if (!b) throw std::runtime_error("change stream: " + b.error().message);
  head_ = b->head;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "store-stream");
    run();
  });
  thread_id_ = thread_.get_id();
}

ChangeHub::~ChangeHub() {
  stop();
}

void ChangeHub::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ChangeHub::notify() {
  {
    std::lock_guard lock(mutex_);
    notified_ = true;
  }
  cv_.notify_one();
}

SubscriptionId ChangeHub::subscribe(SubscribeOptions options, StreamCallback callback) {
  auto sub = std::make_shared<Subscription>();
  sub->options = std::move(options);
  sub->callback = std::move(callback);
  {
    std::lock_guard lock(mutex_);
    sub->id = next_id_++;
    pending_.push_back(sub);
    all_.emplace(sub->id, sub);
  }
  cv_.notify_one();
  return sub->id;
}

void ChangeHub::unsubscribe(SubscriptionId id) {
  {
    // Found wherever it is: pending, being replayed, or live.
    std::lock_guard lock(mutex_);
    auto it = all_.find(id);
    if (it == all_.end()) return;
    it->second->active = false;
    all_.erase(it);
    live_.erase(id);
    std::erase_if(pending_, [id](const SubPtr& s) { return s->id == id; });
  }
  // Wait out a callback that may be running right now on the hub thread, unless we are it.
  if (std::this_thread::get_id() != thread_id_) {
    std::lock_guard wait(delivery_mutex_);
  }
}

void ChangeHub::run() {
  for (;;) {
    bool notified = false;
    std::vector<SubPtr> admitting;
    {
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, poll_interval_,
                   [this] { return stop_ || notified_ || !pending_.empty(); });
      if (stop_) return;
      notified = notified_;
      notified_ = false;
      admitting.swap(pending_);
    }
    // Asked also when woken if the source needs it, so its baseline (SQLite's
    // data_version) follows our own commits too.
    const bool external = (!notified || source_->checkWhenWoken()) && source_->maybeChanged();
    std::lock_guard delivery(delivery_mutex_);
    if (auto changed = source_->epochChange()) switchEpoch(std::move(*changed));
    if (notified || external || !admitting.empty()) pump();
    source_->caughtUp(head_);
    for (const auto& sub : admitting) admit(sub);
  }
}

void ChangeHub::pump() {
  std::vector<SubPtr> subs;
  {
    std::lock_guard lock(mutex_);
    subs.reserve(live_.size());
    for (const auto& [id, sub] : live_) subs.push_back(sub);
  }
  if (subs.empty()) {
    // Nobody to deliver to: move the position without reading (and parsing) documents.
    if (auto b = source_->bounds(); b && b->head > head_) head_ = b->head;
    return;
  }
  for (;;) {
    auto batch = source_->fetch(head_, kFetchChunk);
    if (!batch) {
      spdlog::error("store: reading changes after {} failed: {}", head_.load(),
                    batch.error().message);
      return;
    }
    for (const auto& change : *batch) {
      if (change->seq != head_ + 1) {
        // Only retention outrunning the hub by days could do this; say so loudly.
        spdlog::error("store: change stream jumped from {} to {}", head_.load(), change->seq);
      }
      head_ = change->seq;
      StreamEvent event{StreamEventKind::kChange, change, change->seq, {}, {}};
      for (const auto& sub : subs) {
        if (sub->options.filter && !sub->options.filter(*change)) continue;
        deliver(sub, event);
      }
    }
    if (batch->size() < kFetchChunk) return;
  }
}

void ChangeHub::admit(const SubPtr& sub) {
  if (!sub->active) return;
  const auto& opt = sub->options;
  if (opt.epoch && *opt.epoch != epoch()) {
    resync(sub, kResyncEpochMismatch);
  } else if (opt.after_seq) {
    replay(sub, *opt.after_seq);
  }
  ready(sub);
  std::lock_guard lock(mutex_);
  if (sub->active) live_.emplace(sub->id, sub);
}

void ChangeHub::replay(const SubPtr& sub, int64_t after_seq) {
  // An offset this node has not reached yet may come from another node that is ahead
  // (several nodes on one database): catch up with the database before calling it ahead.
  if (after_seq > head_) pump();
  if (after_seq > head_) {
    resync(sub, kResyncOffsetAhead);
    return;
  }
  auto bounds = source_->bounds();
  if (!bounds) {
    spdlog::error("store: stream bounds: {}", bounds.error().message);
    resync(sub, kResyncHistoryLost);
    return;
  }
  if (after_seq < 0 || after_seq + 1 < bounds->oldest) {
    resync(sub, kResyncHistoryLost);
    return;
  }
  int64_t cursor = after_seq;
  while (cursor < head_ && sub->active) {
    auto batch = source_->fetch(cursor, kFetchChunk);
    if (!batch || batch->empty() || batch->front()->seq != cursor + 1) {
      // Retention removed what we were about to send: never deliver a silent gap.
      resync(sub, kResyncHistoryLost);
      return;
    }
    for (const auto& change : *batch) {
      if (change->seq > head_) return;  // the live pump delivers the rest
      cursor = change->seq;
      if (sub->options.filter && !sub->options.filter(*change)) continue;
      deliver(sub, StreamEvent{StreamEventKind::kChange, change, change->seq, {}, {}});
    }
  }
}

void ChangeHub::switchEpoch(std::string epoch) {
  spdlog::warn(
      "store: the database's epoch changed from {} to {} (restored or replaced): every "
      "subscriber resyncs",
      this->epoch(), epoch);
  {
    std::lock_guard lock(epoch_mutex_);
    epoch_ = std::move(epoch);
  }
  if (auto b = source_->bounds()) head_ = b->head;
  std::vector<SubPtr> subs;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, sub] : live_) subs.push_back(sub);
  }
  for (const auto& sub : subs) {
    resync(sub, kResyncEpochMismatch);
    ready(sub);
  }
}

void ChangeHub::deliver(const SubPtr& sub, const StreamEvent& event) {
  if (!sub->active) return;
  try {
    sub->callback(event);
  } catch (const std::exception& e) {
    spdlog::error("store: subscriber {} threw: {}", sub->id, e.what());
  }
}

void ChangeHub::ready(const SubPtr& sub) {
  deliver(sub, StreamEvent{StreamEventKind::kReady, nullptr, head_, epoch(), {}});
}

void ChangeHub::resync(const SubPtr& sub, std::string_view reason) {
  deliver(sub, StreamEvent{StreamEventKind::kResync, nullptr, head_, epoch(), std::string(reason)});
}

}  // namespace brigade::store
