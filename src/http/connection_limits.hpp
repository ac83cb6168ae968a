#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace brigade::http {

// Defaults of the caps on open connections (docs/SECURITY.md). One client must not
// be able to take every descriptor of the process and keep everyone else out.
// Generous enough for many people behind one NAT (an office, carrier-grade NAT).
inline constexpr size_t kDefaultMaxConnectionsPerAddress = 512;
// Connections that have not yet completed their first request (idle sockets, slow
// headers). A burst of parallel requests from one client is accepted faster than
// its requests are read, so this leaves room for a burst of a hundred or so.
inline constexpr size_t kDefaultMaxPendingPerAddress = 128;
// Descriptors kept free for the database, logs and the answers to refused
// connections when the global cap is derived from the process's descriptor limit.
inline constexpr size_t kReservedDescriptors = 256;

struct ConnectionLimitOptions {
  size_t maxConnections = 0;  // 0: the descriptor limit less kReservedDescriptors
  size_t maxPerAddress = kDefaultMaxConnectionsPerAddress;     // 0: no cap
  size_t maxPendingPerAddress = kDefaultMaxPendingPerAddress;  // 0: no cap
};

class ConnectionLimiter;

// One admitted connection's place in the counts; released when destroyed (the
// connection holds it until it closes, whichever handler it has by then).
// The counts behind a ConnectionLimiter, shared with its tickets: a ticket released after
// its server is gone (a connection's last handler destroyed when the loops shut down)
// still finds them.
class ConnectionCounts;

class ConnectionTicket {
 public:
  ConnectionTicket(std::shared_ptr<ConnectionCounts> counts, std::string address, bool counted);
  ~ConnectionTicket();
  ConnectionTicket(const ConnectionTicket&) = delete;
  ConnectionTicket& operator=(const ConnectionTicket&) = delete;

  // The first request is complete: the connection no longer counts as pending.
  void requestSeen();
  // Counts the connection against `address` (a trusted proxy's client); false, and
  // nothing changed, when that address is at its cap.
  bool attribute(const std::string& address);
  bool attributed() const { return counted_; }

 private:
  std::shared_ptr<ConnectionCounts> counts_;
  std::string address_;
  bool counted_;  // against address_ (proxies' own connections are not)
  bool pending_ = true;
};

// Open connections in all, and open and pending ones per client address, across
// every loop of a server (accepts on different loops share it: thread-safe).
class ConnectionLimiter {
 public:
  explicit ConnectionLimiter(ConnectionLimitOptions options);

  enum class Verdict { kAdmitted, kServerFull, kAddressFull };
  struct Admission {
    Verdict verdict = Verdict::kAdmitted;
    std::shared_ptr<ConnectionTicket> ticket;  // set when admitted
  };
  // A new connection from `address`. `perAddress` false for a trusted proxy: its
  // connections count by the forwarded address once the first request names it.
  Admission admit(const std::string& address, bool perAddress);

  size_t maxConnections() const { return options_.maxConnections; }
  size_t open() const;
  size_t openFrom(const std::string& address) const;

 private:
  ConnectionLimitOptions options_;
  std::shared_ptr<ConnectionCounts> counts_;
};

class ConnectionCounts {
 public:
  explicit ConnectionCounts(ConnectionLimitOptions options) : options_(options) {}
  ConnectionLimiter::Admission admit(const std::shared_ptr<ConnectionCounts>& self,
                                     const std::string& address, bool perAddress);
  bool take(const std::string& address, bool pending);
  void release(const std::string& address, bool counted, bool pending);
  void seen(const std::string& address);
  size_t open() const;
  size_t openFrom(const std::string& address) const;

 private:
  struct Counts {
    size_t open = 0;
    size_t pending = 0;
  };
  const ConnectionLimitOptions options_;
  mutable std::mutex mutex_;
  size_t open_ = 0;
  std::unordered_map<std::string, Counts> byAddress_;
};

}  // namespace brigade::http
