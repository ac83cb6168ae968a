#include "store/postgres/notified_changes.hpp"

#include <charconv>

namespace brigade::store::postgres {
namespace {

// Takes text up to `delimiter` from `rest`; nullopt when there is no delimiter.
std::optional<std::string_view> field(std::string_view& rest, char delimiter) {
  const auto end = rest.find(delimiter);
  if (end == std::string_view::npos) return std::nullopt;
  auto out = rest.substr(0, end);
  rest.remove_prefix(end + 1);
  return out;
}

template <typename T>
std::optional<T> number(std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<Notification> parseNotification(std::string_view payload) {
  Notification n;
  std::string_view rest = payload;
  const auto nl = rest.find('\n');
  auto head = number<int64_t>(rest.substr(0, nl));
  if (!head) return std::nullopt;
  n.head = *head;
  if (nl == std::string_view::npos) return n;
  rest.remove_prefix(nl + 1);
  int64_t previous = 0;
  while (!rest.empty()) {
    auto seq = field(rest, '\t');
    auto collection = field(rest, '\t');
    auto op = field(rest, '\t');
    auto record = field(rest, '\t');
    auto at = field(rest, '\t');
    auto rider = field(rest, '\t');
    auto bytes = field(rest, '\n');
    if (!seq || !collection || !op || !record || !at || !rider || !bytes) return std::nullopt;
    auto seq_n = number<int64_t>(*seq);
    auto record_n = number<int64_t>(*record);
    auto bytes_n = number<size_t>(*bytes);
    std::optional<int64_t> rider_n;
    if (!rider->empty()) {
      rider_n = number<int64_t>(*rider);
      if (!rider_n) return std::nullopt;
    }
    if (!seq_n || !record_n || !bytes_n || *bytes_n > rest.size() || !parseChangeOp(*op) ||
        *seq_n <= previous || *seq_n > n.head) {
      return std::nullopt;
    }
    previous = *seq_n;
    n.changes.push_back(makeChange(*seq_n, std::string(*collection), *op, *record_n,
                                   std::string(rest.substr(0, *bytes_n)), std::string(*at),
                                   rider_n));
    rest.remove_prefix(*bytes_n);
  }
  // A batch is numbered head-n+1 .. head: anything else is not what this parser knows.
  if (n.changes.empty() || n.changes.back()->seq != n.head ||
      n.changes.front()->seq != n.head - static_cast<int64_t>(n.changes.size()) + 1) {
    return std::nullopt;
  }
  return n;
}

void NotifiedChanges::add(std::vector<ChangePtr> changes) {
  std::lock_guard lock(mutex_);
  for (auto& c : changes) {
    // Notifications arrive in commit order; one that does not follow is kept anyway (the
    // reader serves only runs without holes), but never out of order.
    if (!kept_.empty() && c->seq <= kept_.back()->seq) kept_.clear();
    kept_.push_back(std::move(c));
  }
  while (kept_.size() > kMaxKept) kept_.pop_front();
}

std::optional<std::vector<ChangePtr>> NotifiedChanges::after(int64_t after_seq, size_t limit) {
  std::lock_guard lock(mutex_);
  while (!kept_.empty() && kept_.front()->seq <= after_seq) kept_.pop_front();
  if (kept_.empty() || kept_.front()->seq != after_seq + 1) return std::nullopt;
  std::vector<ChangePtr> out;
  int64_t expected = after_seq + 1;
  for (const auto& c : kept_) {
    if (out.size() == limit || c->seq != expected) break;
    out.push_back(c);
    ++expected;
  }
  return out;
}

void NotifiedChanges::clear() {
  std::lock_guard lock(mutex_);
  kept_.clear();
}

size_t NotifiedChanges::size() {
  std::lock_guard lock(mutex_);
  return kept_.size();
}

}  // namespace brigade::store::postgres
