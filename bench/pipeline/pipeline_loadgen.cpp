// pipeline-loadgen: the live pipeline benchmark of issue 5, client side.
//
// A running brigade, A admin sockets and N customer sockets (raw WebSocket,
// Engine.IO v4 / Socket.IO v5, authenticated with `40{"token":...}` and caught
// up with the `ready` event), then orders placed over REST by random customers
// on a fixed open-loop schedule. It measures, per order, the time from sending
// the POST to each admin's and to the owner's `order:changed` (insert), and
// counts lost, duplicated and misdelivered events.
//
// One thread, one epoll set, non-blocking sockets, edge-triggered; its own
// SHA-1/base64 (copied from bench/load/loadgen.cpp, which has its own users).
// Every connection goes to 127.0.0.1 only.
//
//   pipeline-loadgen --port P --pid PID (--server-log FILE | --admin-email E
//       --admin-password W) [--customers 5000] [--admins 3] [--rate 400]
//       [--duration 20] [--pool 256] ...
//
// For the soak (issue 10, bench/soak/): --riders R rider sockets sharing their
// location every ~second, --reconnect-percent P customer sockets closed and
// resumed with their last offset every minute, and --sample-seconds S for one
// JSON line per window (latency, server RSS and open descriptors) and soak
// verdicts in the result line.
//
// See bench/pipeline/README.md and bench/soak/README.md for what every figure means.

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../load/bench_kit.hpp"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace {

constexpr const char* kTargetAddress = "127.0.0.1";  // the only destination ever used
constexpr size_t kReadChunk = 256 * 1024;
constexpr size_t kMaxHttpHead = 16 * 1024;
constexpr size_t kMaxHttpBody = 4 * 1024 * 1024;
constexpr uint64_t kMaxMessage = 64ull * 1024 * 1024;
constexpr int kMaxEvents = 4096;
constexpr int kMaxReportedErrors = 10;
constexpr int kMaxAdmins = 8;
// fds_ok: open descriptors at the end within max(20, 1%) of the baseline. Sockets
// the server is still closing (a lingering close) may be counted for a moment.
constexpr int64_t kFdToleranceAbs = 20;
constexpr double kFdTolerancePct = 1;
// Rate-limited location answers tolerated (5, or 0.1% of those sent) before they
// count as errors: a location delayed by a busy server loop is taken < 1 s before
// the next one.
constexpr int64_t kRateLimitedAllowed = 5;
constexpr double kRateLimitedAllowedFraction = 0.001;

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

using namespace brigade::bench;  // clock, SHA-1, base64, helpers (bench_kit.hpp)

// An order still missing an event this long after its POST counts as lost in the
// per-window figures (the final count waits for the whole grace period instead).
constexpr int64_t kLostAfterNs = 10 * kNsPerSec;

// The non-negative integer right after the first `key` in `text`, if any.
std::optional<int64_t> integerAfter(std::string_view text, std::string_view key, size_t from = 0) {
  const size_t at = text.find(key, from);
  if (at == std::string_view::npos) return std::nullopt;
  size_t i = at + key.size();
  const size_t first = i;
  int64_t value = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (i - first >= 18) return std::nullopt;
    value = value * 10 + (text[i] - '0');
    ++i;
  }
  if (i == first) return std::nullopt;
  return value;
}

// The JSON string (without escapes) right after the first `key` (e.g. `"token":"`).
std::optional<std::string_view> stringAfter(std::string_view text, std::string_view key,
                                            size_t from = 0) {
  const size_t at = text.find(key, from);
  if (at == std::string_view::npos) return std::nullopt;
  const size_t start = at + key.size();
  const size_t end = text.find('"', start);
  if (end == std::string_view::npos) return std::nullopt;
  const std::string_view value = text.substr(start, end - start);
  if (value.find('\\') != std::string_view::npos) return std::nullopt;
  return value;
}

struct ProcSample {
  bool valid = false;
  int64_t rssKb = 0;
  double cpuSeconds = 0;
};

// VmRSS from /proc/PID/status and utime+stime (all threads) from /proc/PID/stat.
ProcSample sampleProcess(int pid) {
  ProcSample s;
  if (pid <= 0) return s;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  bool haveRss = false;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      s.rssKb = std::strtoll(line.c_str() + 6, nullptr, 10);
      haveRss = true;
      break;
    }
  }
  std::ifstream statFile("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(statFile)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  if (!haveRss || paren == std::string::npos) return s;
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  uint64_t utime = 0;
  uint64_t stime = 0;
  // Fields after the command: state is field 3, utime 14, stime 15.
  for (int index = 3; index <= 15 && (fields >> field); ++index) {
    if (index == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (index == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  s.cpuSeconds = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  s.valid = true;
  return s;
}

// Entries of /proc/PID/fd, or -1.
int64_t countFds(int pid) {
  if (pid <= 0) return -1;
  DIR* dir = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (dir == nullptr) return -1;
  int64_t count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

double ownCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

void printLatency(const char* what, const LatencySummary& s) {
  std::printf(
      "%-22s (%7zu samples): p50 %8.2f ms  p99 %8.2f  p99.9 %8.2f  max %8.2f  (mean %.2f)\n", what,
      s.count, s.p50Ms, s.p99Ms, s.p999Ms, s.maxMs, s.meanMs);
}

// ---------------------------------------------------------------------------
// Options.

struct Options {
  std::string label;
  int port = 0;
  int pid = 0;
  std::string serverLog;
  std::string adminEmail;
  std::string adminPassword;
  int64_t customers = 5000;
  int admins = 3;
  bool statusChanged = false;  // admins listen to the tutorial's statusChanged (issue 15)
  double rate = 400;
  double duration = 20;
  int64_t pool = 256;
  int64_t registerConcurrency = 32;
  int64_t concurrency = 128;
  double settle = 1;
  double grace = 5;
  double timeout = 300;
  double p99LimitMs = 1000;
  double minPlaced = 0.95;
  int sources = 4;
  uint64_t seed = 0;
  // Soak (issue 10).
  int64_t riders = 0;
  double locationIntervalMs = 1000;
  double reconnectPercent = 0;  // of the customer sockets, per minute
  double reconnectDelay = 1;    // seconds a reconnecting socket stays closed
  double sampleSeconds = 0;     // 0: no windows
  double warmup = 60;
  double p99Growth = 2;
  double p99SlackMs = 5;
};

[[noreturn]] void usage(const char* error) {
  if (error != nullptr) std::fprintf(stderr, "pipeline-loadgen: %s\n\n", error);
  std::fprintf(
      stderr,
      "usage: pipeline-loadgen --port P [options]      (always connects to 127.0.0.1)\n"
      "  --server-log FILE        read the admin account from the server's {\"demo_accounts\"} "
      "line\n"
      "  --admin-email E --admin-password W   or give it\n"
      "  --pid PID                server process measured (CPU, VmRSS)\n"
      "  --customers N=5000       customers registered, one socket each\n"
      "  --admins A=3             admin logins, one socket each (at most 8)\n"
      "  --status-changed         the admins listen to statusChanged (the tutorial's event);\n"
      "                           without it they opt out with auth.statusChanged=false, as\n"
      "                           the panels do\n"
      "  --rate R=400             orders per second (open loop)\n"
      "  --duration D=20          seconds of orders\n"
      "  --pool P=256             keep-alive HTTP connections for the orders\n"
      "  --register-concurrency C=32  registrations in flight during setup\n"
      "  --concurrency C=128      socket handshakes in flight during setup\n"
      "  --settle S=1 --grace S=5 --timeout S=300 --sources K=4 --label NAME --seed X\n"
      "  --p99-limit-ms L=1000 --min-placed F=0.95   what counts as 'held'\n"
      "soak:\n"
      "  --riders R=0             riders (created by the admin, online), one socket each,\n"
      "                           sending rider:location --location-interval-ms=1000 after the\n"
      "                           previous one was answered\n"
      "  --reconnect-percent P=0  customer sockets closed and resumed (auth.offset) per minute\n"
      "  --reconnect-delay S=1    how long a reconnecting socket stays closed\n"
      "  --sample-seconds S=0     one JSON line per window of S seconds (0: none)\n"
      "  --warmup S=60            RSS drift and p99 trend are measured after this\n"
      "  --p99-growth F=2 --p99-slack-ms M=5   p99_stable: last windows' p99 <= F x the\n"
      "                           first windows' (medians of up to 3), or within M ms\n");
  std::exit(error != nullptr ? 2 : 0);
}

Options parseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") usage(nullptr);
    if (arg == "--status-changed") {  // the one flag without a value
      o.statusChanged = true;
      continue;
    }
    if (i + 1 >= argc) usage(("missing value for " + std::string(arg)).c_str());
    const char* v = argv[++i];
    char* end = nullptr;
    auto number = [&]() {
      const double d = std::strtod(v, &end);
      if (end == v || *end != '\0' || d < 0) usage(("bad value for " + std::string(arg)).c_str());
      return d;
    };
    if (arg == "--label") {
      o.label = v;
    } else if (arg == "--port") {
      o.port = static_cast<int>(number());
    } else if (arg == "--pid") {
      o.pid = static_cast<int>(number());
    } else if (arg == "--server-log") {
      o.serverLog = v;
    } else if (arg == "--admin-email") {
      o.adminEmail = v;
    } else if (arg == "--admin-password") {
      o.adminPassword = v;
    } else if (arg == "--customers") {
      o.customers = static_cast<int64_t>(number());
    } else if (arg == "--admins") {
      o.admins = static_cast<int>(number());
    } else if (arg == "--rate") {
      o.rate = number();
    } else if (arg == "--duration") {
      o.duration = number();
    } else if (arg == "--pool") {
      o.pool = static_cast<int64_t>(number());
    } else if (arg == "--register-concurrency") {
      o.registerConcurrency = static_cast<int64_t>(number());
    } else if (arg == "--concurrency") {
      o.concurrency = static_cast<int64_t>(number());
    } else if (arg == "--settle") {
      o.settle = number();
    } else if (arg == "--grace") {
      o.grace = number();
    } else if (arg == "--timeout") {
      o.timeout = number();
    } else if (arg == "--p99-limit-ms") {
      o.p99LimitMs = number();
    } else if (arg == "--min-placed") {
      o.minPlaced = number();
    } else if (arg == "--sources") {
      o.sources = static_cast<int>(number());
    } else if (arg == "--seed") {
      o.seed = static_cast<uint64_t>(number());
    } else if (arg == "--riders") {
      o.riders = static_cast<int64_t>(number());
    } else if (arg == "--location-interval-ms") {
      o.locationIntervalMs = number();
    } else if (arg == "--reconnect-percent") {
      o.reconnectPercent = number();
    } else if (arg == "--reconnect-delay") {
      o.reconnectDelay = number();
    } else if (arg == "--sample-seconds") {
      o.sampleSeconds = number();
    } else if (arg == "--warmup") {
      o.warmup = number();
    } else if (arg == "--p99-growth") {
      o.p99Growth = number();
    } else if (arg == "--p99-slack-ms") {
      o.p99SlackMs = number();
    } else {
      usage(("unknown option " + std::string(arg)).c_str());
    }
  }
  if (o.port <= 0 || o.port > 65535) usage("--port is required");
  if (o.customers < 1) usage("--customers must be at least 1");
  if (o.admins < 1 || o.admins > kMaxAdmins) usage("--admins must be 1..8");
  if (o.rate <= 0) usage("--rate must be above 0");
  if (o.pool < 1) usage("--pool must be at least 1");
  if (o.sources < 1 || o.sources > 250) usage("--sources must be 1..250");
  if (o.reconnectPercent > 100) usage("--reconnect-percent must be 0..100");
  if (o.locationIntervalMs < 1) usage("--location-interval-ms must be at least 1");
  if (o.registerConcurrency < 1) o.registerConcurrency = 1;
  if (o.concurrency < 1) o.concurrency = 1;
  if (o.serverLog.empty() && (o.adminEmail.empty() || o.adminPassword.empty())) {
    usage("give --server-log or --admin-email and --admin-password");
  }
  return o;
}

// Reads `{"demo_accounts":[{"role":"admin","email":"...","password":"..."},...]}` from
// the server's standard output, waiting up to 10 s for the line to appear.
bool adminFromServerLog(Options& o) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::ifstream in(o.serverLog);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("{\"demo_accounts\"", 0) != 0) continue;
      const size_t admin = line.find("\"role\":\"admin\"");
      if (admin == std::string::npos) return false;
      const auto email = stringAfter(line, "\"email\":\"", admin);
      const auto password = stringAfter(line, "\"password\":\"", admin);
      if (!email || !password) return false;
      o.adminEmail = std::string(*email);
      o.adminPassword = std::string(*password);
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// ---------------------------------------------------------------------------
// Connections.

enum class ConnState : uint8_t {
  kIdle,  // socket not opened yet
  kConnecting,
  // Socket.IO connections
  kUpgrading,
  kWaitOpen,
  kWaitConnect,
  kWaitReady,
  kReady,
  // HTTP connections
  kHttpFree,
  kHttpBusy,
  kClosed,
};

enum class Job : uint8_t {
  kNone,
  kLogin,
  kRegister,
  kOrder,
  kCreateRider,
  kRiderLogin,
  kRiderOnline
};

struct Connection {
  int fd = -1;
  uint32_t generation = 0;  // +1 whenever the fd is closed (an fd number can be reused at once)
  ConnState state = ConnState::kIdle;
  bool http = false;
  bool fragmented = false;
  bool wasReady = false;
  bool dirty = false;   // queued in dirty_ for the flush before epoll_wait
  std::string in;       // bytes received but not yet parsed
  std::string out;      // bytes not yet accepted by the kernel
  std::string partial;  // a fragmented message being reassembled
  std::string key;      // Sec-WebSocket-Key
  int64_t connectNs = 0;
  int64_t lastOrderSeq = -1;  // highest order:changed seq seen on this socket
  int64_t lastAlertSeq = -1;  // highest alert seq seen on this socket
  std::string offset;         // the last offset string received, sent back on a reconnect
  bool resuming = false;      // reconnected with auth.offset: events before `ready` are a replay
  Job job = Job::kNone;       // HTTP: the request in flight
  int64_t jobIndex = 0;       // admin, customer or order index
  int64_t jobSentNs = 0;
};

struct Customer {
  int64_t userId = -1;
  std::string token;
};

struct Rider {
  int64_t userId = -1;
  std::string token;
  int64_t nextLocationNs = 0;
  int64_t ackId = 0;
  bool awaitingAck = false;
};

// One scheduled order, k = 0 .. scheduled-1.
struct Order {
  int64_t sendNs = -1;    // -1: not placed (pool exhausted) or not due yet
  int64_t orderId = -1;   // from the POST answer or the first event
  int32_t customer = -1;  // index into customers_
  int16_t status = 0;     // HTTP status of the POST, 0 while unanswered
  uint8_t adminSeen = 0;  // bit per admin: order:changed insert received
  uint8_t customerSeen = 0;
  uint8_t alerts[kMaxAdmins] = {};
};

struct Counters {
  int64_t failed = 0;          // sockets refused or closed before `ready`
  int64_t dropped = 0;         // sockets closed by the server after `ready`
  int64_t protocolErrors = 0;  // anything the protocol does not allow
  int64_t httpErrors = 0;      // setup requests that failed
  int64_t heartbeats = 0;
  int64_t wsPings = 0;
  int64_t ready = 0;
  int64_t notPlaced = 0;    // due while every pool connection was busy
  int64_t placed = 0;       // POSTs sent
  int64_t postOk = 0;       // 201
  int64_t postErrors = 0;   // any other status, or the connection closed
  int64_t adminEvents = 0;  // first insert per admin and order
  int64_t customerEvents = 0;
  int64_t alertsFirst = 0;  // first alert per admin and order
  int64_t duplicates = 0;   // an order:changed seq at or below one already seen
  int64_t alertDuplicates = 0;
  int64_t misdelivered = 0;   // a customer got another customer's order
  int64_t foreignEvents = 0;  // order events for orders this run did not place
  int64_t otherOps = 0;       // order:changed other than insert
  int64_t unmatchedAlerts = 0;
  int64_t otherEvents = 0;
  int64_t statusChanged = 0;       // statusChanged events received (all admins)
  int64_t statusChangedBytes = 0;  // and their size
  int64_t reconnects = 0;          // HTTP keep-alive connections closed by the server while idle
  // Soak.
  int64_t socketReconnects = 0;  // customer sockets closed by loadgen to be resumed
  int64_t reconnectsReady = 0;   // ... and ready again
  int64_t reconnectsSkipped = 0;
  int64_t replayed = 0;          // order:changed received in a replay (before `ready`)
  int64_t replayedInserts = 0;   // first insert of an order delivered by a replay
  int64_t replayDuplicates = 0;  // replayed seq at or below one already seen (deduplicated)
  int64_t resyncs = 0;
  int64_t locationsSent = 0;
  int64_t locationsOk = 0;
  int64_t locationsRateLimited = 0;
  int64_t locationsFailed = 0;  // any other answer
};

class PipelineLoadGen {
 public:
  explicit PipelineLoadGen(Options options)
      : options_(std::move(options)),
        rng_(options_.seed ? options_.seed : static_cast<uint64_t>(monotonicNs())) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) die("epoll_create1");
    readBuffer_.resize(kReadChunk);
    deadlineNs_ = nowNs() + static_cast<int64_t>(options_.timeout * kNsPerSec);
    sockets_ = static_cast<size_t>(options_.admins + options_.customers + options_.riders);
    conns_.resize(sockets_ + static_cast<size_t>(options_.pool));
    for (size_t i = sockets_; i < conns_.size(); ++i) conns_[i].http = true;
    customers_.resize(static_cast<size_t>(options_.customers));
    riders_.resize(static_cast<size_t>(options_.riders));
    adminTokens_.resize(static_cast<size_t>(options_.admins));
  }
  ~PipelineLoadGen() {
    closeAll();
    if (epoll_ >= 0) close(epoll_);
  }
  PipelineLoadGen(const PipelineLoadGen&) = delete;
  PipelineLoadGen& operator=(const PipelineLoadGen&) = delete;

  int run();

 private:
  [[noreturn]] static void die(const char* what) {
    std::fprintf(stderr, "pipeline-loadgen: %s: %s\n", what, std::strerror(errno));
    std::exit(2);
  }

  size_t indexOf(const Connection& c) const { return static_cast<size_t>(&c - conns_.data()); }
  bool isAdmin(size_t index) const { return index < static_cast<size_t>(options_.admins); }
  size_t customerOf(size_t index) const { return index - static_cast<size_t>(options_.admins); }
  size_t firstRider() const { return static_cast<size_t>(options_.admins + options_.customers); }
  bool isRider(size_t index) const { return index >= firstRider() && index < sockets_; }
  size_t riderOf(size_t index) const { return index - firstRider(); }
  const std::string& tokenOf(size_t index) const {
    if (isAdmin(index)) return adminTokens_[index];
    if (isRider(index)) return riders_[riderOf(index)].token;
    return customers_[customerOf(index)].token;
  }

  void report(int64_t& counter, const Connection* c, std::string_view what) {
    ++counter;
    if (reported_++ < kMaxReportedErrors) {
      const long index = c == nullptr ? -1 : static_cast<long>(indexOf(*c));
      std::fprintf(stderr, "pipeline-loadgen: connection %ld: %.*s\n", index,
                   static_cast<int>(what.size()), what.data());
    }
  }

  void protocolError(Connection& c, std::string_view what) {
    report(counters_.protocolErrors, &c, std::string("protocol error: ") + std::string(what));
    connectionGone(c, nullptr);
  }

  // The connection ended: counts it (unless `why` is null: already counted),
  // fails the HTTP job in flight, and reopens an HTTP connection.
  void connectionGone(Connection& c, const char* why) {
    if (c.state == ConnState::kClosed) return;
    const bool wasBusy = c.http && c.state == ConnState::kHttpBusy;
    const bool wasConnecting = c.state == ConnState::kConnecting;
    if (!c.http && c.state != ConnState::kReady && c.state != ConnState::kIdle) --inFlight_;
    if (why != nullptr && !tearingDown_) {
      if (c.http) {
        if (wasBusy || wasConnecting) {
          report(counters_.httpErrors, &c, std::string("HTTP connection lost: ") + why);
        } else {
          ++counters_.reconnects;
        }
      } else if (c.wasReady) {
        report(counters_.dropped, &c, std::string("dropped: ") + why);
      } else {
        report(counters_.failed, &c, std::string("failed: ") + why);
      }
    }
    closeFd(c);
    if (!c.http || tearingDown_) return;
    if (wasBusy) failJob(c);
    // A keep-alive connection closed by the server is replaced; one that cannot
    // even connect is not retried (the setup then fails on its own).
    if (!wasConnecting) openConnection(indexOf(c));
  }

  void closeFd(Connection& c) {
    if (c.fd >= 0) close(c.fd);
    c.fd = -1;
    ++c.generation;
    c.state = ConnState::kClosed;
    c.dirty = false;
    std::string().swap(c.in);
    std::string().swap(c.out);
    std::string().swap(c.partial);
  }

  void closeAll() {
    tearingDown_ = true;
    for (auto& c : conns_) closeFd(c);
  }

  void openConnection(size_t index) {
    Connection& c = conns_[index];
    c.state = ConnState::kConnecting;
    c.connectNs = nowNs();
    c.job = Job::kNone;
    c.fragmented = false;
    if (!c.http) ++inFlight_;
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      connectionGone(c, "socket() failed");
      return;
    }
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (options_.sources > 1) {
      // Each source address has its own ephemeral port range.
      sockaddr_in source{};
      source.sin_family = AF_INET;
      source.sin_addr.s_addr = htonl(0x7F000001u + static_cast<uint32_t>(index % options_.sources));
      setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      if (bind(c.fd, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) {
        connectionGone(c, "bind() failed");
        return;
      }
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = index;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev) != 0) die("epoll_ctl");
    if (connect(c.fd, reinterpret_cast<const sockaddr*>(&target_), sizeof target_) != 0 &&
        errno != EINPROGRESS) {
      connectionGone(c, "connect() failed");
    }
  }

  // Queues bytes; every connection written to in a loop turn is flushed once
  // before the next epoll_wait.
  void write(Connection& c, std::string_view bytes) {
    if (c.state == ConnState::kClosed) return;
    if (c.out.empty() && !c.dirty) {
      c.dirty = true;
      dirty_.push_back(static_cast<uint32_t>(indexOf(c)));
    }
    c.out.append(bytes);
  }

  void flushDirty() {
    for (size_t i = 0; i < dirty_.size(); ++i) {
      Connection& c = conns_[dirty_[i]];
      if (!c.dirty) continue;
      c.dirty = false;
      if (c.state != ConnState::kClosed) flush(c);
    }
    dirty_.clear();
  }

  void flush(Connection& c) {
    size_t sent = 0;
    while (sent < c.out.size()) {
      const ssize_t n = send(c.fd, c.out.data() + sent, c.out.size() - sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;  // EPOLLOUT resumes
        connectionGone(c, "send() failed");
        return;
      }
      sent += static_cast<size_t>(n);
    }
    c.out.erase(0, sent);
  }

  // A masked client frame (RFC 6455 5.3).
  void sendText(Connection& c, std::string_view payload) {
    std::string& f = frameScratch_;
    f.clear();
    f.push_back(static_cast<char>(0x81));
    appendFrameRest(f, payload);
    write(c, f);
  }

  void sendControl(Connection& c, uint8_t opcode, std::string_view payload) {
    std::string& f = frameScratch_;
    f.clear();
    f.push_back(static_cast<char>(0x80 | opcode));
    appendFrameRest(f, payload);
    write(c, f);
  }

  void appendFrameRest(std::string& f, std::string_view payload) {
    const size_t size = payload.size();
    if (size < 126) {
      f.push_back(static_cast<char>(0x80 | size));
    } else if (size <= 0xFFFF) {
      f.push_back(static_cast<char>(0x80 | 126));
      f.push_back(static_cast<char>(size >> 8));
      f.push_back(static_cast<char>(size & 0xFF));
    } else {
      f.push_back(static_cast<char>(0x80 | 127));
      for (int i = 7; i >= 0; --i) {
        f.push_back(static_cast<char>((uint64_t{size} >> (i * 8)) & 0xFF));
      }
    }
    const auto maskWord = static_cast<uint32_t>(rng_.next());
    char mask[4];
    std::memcpy(mask, &maskWord, 4);
    f.append(mask, 4);
    const size_t start = f.size();
    f.append(payload);
    for (size_t i = 0; i < size; ++i) f[start + i] ^= mask[i & 3];
  }

  // -------------------------------------------------------------------------
  // Events from epoll.

  void onEvent(size_t index, uint32_t events) {
    Connection& c = conns_[index];
    if (c.state == ConnState::kClosed || c.state == ConnState::kIdle) return;
    if (c.state == ConnState::kConnecting) {
      if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
      int error = 0;
      socklen_t len = sizeof error;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &len);
      if (error != 0) {
        connectionGone(c, std::strerror(error));
        return;
      }
      if (c.http) {
        c.state = ConnState::kHttpFree;
        freeHttp_.push_back(static_cast<uint32_t>(index));
      } else {
        sendUpgrade(c);
      }
    } else if (events & EPOLLOUT) {
      flush(c);
    }
    if (c.state == ConnState::kClosed) return;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readAll(c);
  }

  void readAll(Connection& c) {
    for (;;) {
      const ssize_t n = recv(c.fd, readBuffer_.data(), readBuffer_.size(), 0);
      if (n > 0) {
        if (!consume(c, readBuffer_.data(), static_cast<size_t>(n))) return;
        if (static_cast<size_t>(n) < readBuffer_.size()) return;  // drained (edge-triggered)
        continue;
      }
      if (n == 0) {
        connectionGone(c, "closed by the server");
        return;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      connectionGone(c, "recv() failed");
      return;
    }
  }

  // Parses what can be parsed; keeps the rest. False once the connection is closed.
  bool consume(Connection& c, const char* data, size_t size) {
    const uint32_t generation = c.generation;
    if (c.in.empty()) {
      const size_t used = c.http ? parseHttp(c, data, size) : parseWs(c, data, size);
      if (c.generation != generation || c.state == ConnState::kClosed) return false;
      if (used < size) c.in.assign(data + used, size - used);
      return true;
    }
    c.in.append(data, size);
    const size_t used =
        c.http ? parseHttp(c, c.in.data(), c.in.size()) : parseWs(c, c.in.data(), c.in.size());
    if (c.generation != generation || c.state == ConnState::kClosed) return false;
    c.in.erase(0, used);
    return true;
  }

  // -------------------------------------------------------------------------
  // HTTP/1.1 client: one request at a time per keep-alive connection.

  void sendRequest(Connection& c, Job job, int64_t index, std::string_view path,
                   std::string_view token, std::string_view body) {
    std::string& r = requestScratch_;
    r.clear();
    r += "POST ";
    r += path;
    r += " HTTP/1.1\r\nHost: ";
    r += hostHeader_;
    if (!token.empty()) {
      r += "\r\nAuthorization: Bearer ";
      r += token;
    }
    r += "\r\nContent-Type: application/json\r\nContent-Length: ";
    r += std::to_string(body.size());
    r += "\r\n\r\n";
    r += body;
    c.state = ConnState::kHttpBusy;
    c.job = job;
    c.jobIndex = index;
    c.jobSentNs = nowNs();
    write(c, r);
  }

  // The next free pool connection, or null.
  Connection* takeFree() {
    while (!freeHttp_.empty()) {
      Connection& c = conns_[freeHttp_.front()];
      freeHttp_.pop_front();
      if (c.state == ConnState::kHttpFree) return &c;
    }
    return nullptr;
  }

  size_t parseHttp(Connection& c, const char* data, size_t size) {
    const std::string_view view(data, size);
    const size_t end = view.find("\r\n\r\n");
    if (end == std::string_view::npos) {
      if (size > kMaxHttpHead) protocolError(c, "HTTP response headers too long");
      return 0;
    }
    if (c.state != ConnState::kHttpBusy) {
      protocolError(c, "HTTP response without a request");
      return 0;
    }
    const std::string_view head = view.substr(0, end);
    if (head.size() < 12 || head.rfind("HTTP/1.1 ", 0) != 0) {
      protocolError(c, "bad HTTP status line");
      return 0;
    }
    const int status = std::atoi(std::string(head.substr(9, 3)).c_str());
    std::optional<size_t> length;
    bool close = false;
    size_t lineEnd = head.find("\r\n");
    while (lineEnd != std::string_view::npos) {
      const size_t next = head.find("\r\n", lineEnd + 2);
      const std::string_view line =
          head.substr(lineEnd + 2,
                      next == std::string_view::npos ? std::string_view::npos : next - lineEnd - 2);
      lineEnd = next;
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      const std::string_view name = trim(line.substr(0, colon));
      const std::string_view value = trim(line.substr(colon + 1));
      if (equalsIgnoreCase(name, "Content-Length")) {
        length = static_cast<size_t>(std::strtoull(std::string(value).c_str(), nullptr, 10));
      } else if (equalsIgnoreCase(name, "Transfer-Encoding")) {
        protocolError(c, "chunked HTTP responses are not expected");
        return 0;
      } else if (equalsIgnoreCase(name, "Connection") && equalsIgnoreCase(value, "close")) {
        close = true;
      }
    }
    if (!length) {
      protocolError(c, "HTTP response without Content-Length");
      return 0;
    }
    if (*length > kMaxHttpBody) {
      protocolError(c, "HTTP body too large");
      return 0;
    }
    if (size - end - 4 < *length) return 0;
    const std::string_view body = view.substr(end + 4, *length);
    const Job job = c.job;
    const int64_t index = c.jobIndex;
    const int64_t sentNs = c.jobSentNs;
    c.job = Job::kNone;
    c.state = ConnState::kHttpFree;
    onResponse(job, index, sentNs, status, body);
    if (c.state != ConnState::kHttpFree) return end + 4 + *length;
    if (close) {
      connectionGone(c, "closed by the server");  // reopened: counted as a reconnect
      return 0;
    }
    freeHttp_.push_back(static_cast<uint32_t>(indexOf(c)));
    return end + 4 + *length;
  }

  void onResponse(Job job, int64_t index, int64_t sentNs, int status, std::string_view body) {
    switch (job) {
      case Job::kLogin:
      case Job::kRegister: {
        const int expected = job == Job::kLogin ? 200 : 201;
        const auto token = stringAfter(body, "\"token\":\"");
        const auto userId = integerAfter(body, "\"id\":");
        if (status != expected || !token || !userId) {
          report(counters_.httpErrors, nullptr,
                 std::string(job == Job::kLogin ? "login" : "register") + " answered " +
                     std::to_string(status) + ": " + std::string(body.substr(0, 200)));
          return;
        }
        if (job == Job::kLogin) {
          adminTokens_[static_cast<size_t>(index)] = std::string(*token);
        } else {
          auto& customer = customers_[static_cast<size_t>(index)];
          customer.token = std::string(*token);
          customer.userId = *userId;
        }
        ++setupDone_;
        return;
      }
      case Job::kCreateRider:
      case Job::kRiderLogin:
      case Job::kRiderOnline: {
        Rider& rider = riders_[static_cast<size_t>(index)];
        const auto userId = integerAfter(body, "\"id\":");
        const auto token = stringAfter(body, "\"token\":\"");
        const bool ok = job == Job::kCreateRider  ? status == 201 && userId
                        : job == Job::kRiderLogin ? status == 200 && token
                                                  : status == 200 && body.find("\"online\":true") !=
                                                                         std::string_view::npos;
        if (!ok) {
          report(counters_.httpErrors, nullptr,
                 "rider setup answered " + std::to_string(status) + ": " +
                     std::string(body.substr(0, 200)));
          return;
        }
        if (job == Job::kCreateRider) rider.userId = *userId;
        if (job == Job::kRiderLogin) rider.token = std::string(*token);
        ++setupDone_;
        return;
      }
      case Job::kOrder: {
        Order& o = orders_[static_cast<size_t>(index)];
        o.status = static_cast<int16_t>(status);
        --postsOutstanding_;
        if (status != 201) {
          ++counters_.postErrors;
          if (postErrorsReported_++ < 5) {
            std::fprintf(stderr, "pipeline-loadgen: order %" PRId64 " answered %d: %.*s\n", index,
                         status, static_cast<int>(std::min<size_t>(body.size(), 200)), body.data());
          }
          return;
        }
        ++counters_.postOk;
        postLatencyNs_.push_back(nowNs() - sentNs);
        if (auto id = integerAfter(body, "\"id\":")) {
          if (o.orderId < 0) {
            o.orderId = *id;
            orderByServerId_.emplace(*id, index);
          }
        }
        return;
      }
      case Job::kNone:
        return;
    }
  }

  void failJob(Connection& c) {
    if (c.job == Job::kOrder) {
      Order& o = orders_[static_cast<size_t>(c.jobIndex)];
      o.status = -1;
      --postsOutstanding_;
      ++counters_.postErrors;
    }
    c.job = Job::kNone;
  }

  // -------------------------------------------------------------------------
  // WebSocket, Engine.IO and Socket.IO.

  void sendUpgrade(Connection& c) {
    uint8_t nonce[16];
    for (int i = 0; i < 16; i += 8) {
      const uint64_t r = rng_.next();
      std::memcpy(nonce + i, &r, 8);
    }
    c.key = base64(nonce, sizeof nonce);
    std::string request = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ";
    request += hostHeader_;
    request += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + c.key +
               "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    c.state = ConnState::kUpgrading;
    write(c, request);
  }

  bool checkUpgradeResponse(Connection& c, std::string_view head) {
    size_t lineEnd = head.find("\r\n");
    const std::string_view status = head.substr(0, lineEnd);
    if (status.rfind("HTTP/1.1 101", 0) != 0) {
      protocolError(c, "upgrade refused: " + std::string(status));
      return false;
    }
    bool acceptOk = false;
    while (lineEnd != std::string_view::npos) {
      const size_t next = head.find("\r\n", lineEnd + 2);
      const std::string_view line =
          head.substr(lineEnd + 2,
                      next == std::string_view::npos ? std::string_view::npos : next - lineEnd - 2);
      lineEnd = next;
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      const std::string_view name = trim(line.substr(0, colon));
      const std::string_view value = trim(line.substr(colon + 1));
      if (equalsIgnoreCase(name, "Sec-WebSocket-Accept")) {
        if (value != websocketAccept(c.key)) {
          protocolError(c, "wrong Sec-WebSocket-Accept");
          return false;
        }
        acceptOk = true;
      } else if (equalsIgnoreCase(name, "Sec-WebSocket-Extensions") && !value.empty()) {
        protocolError(c, "server negotiated an extension: " + std::string(value));
        return false;
      }
    }
    if (!acceptOk) {
      protocolError(c, "no Sec-WebSocket-Accept");
      return false;
    }
    return true;
  }

  size_t parseWs(Connection& c, const char* data, size_t size) {
    size_t pos = 0;
    if (c.state == ConnState::kUpgrading) {
      const std::string_view view(data, size);
      const size_t end = view.find("\r\n\r\n");
      if (end == std::string_view::npos) {
        if (size > kMaxHttpHead) protocolError(c, "HTTP response headers too long");
        return 0;
      }
      if (!checkUpgradeResponse(c, view.substr(0, end))) return 0;
      c.state = ConnState::kWaitOpen;
      pos = end + 4;
    }
    while (size - pos >= 2) {
      const auto b0 = static_cast<uint8_t>(data[pos]);
      const auto b1 = static_cast<uint8_t>(data[pos + 1]);
      const bool fin = (b0 & 0x80) != 0;
      const uint8_t opcode = b0 & 0x0F;
      if (b0 & 0x70) {
        protocolError(c, "reserved bits set (no extension was negotiated)");
        return pos;
      }
      if (b1 & 0x80) {
        protocolError(c, "masked server frame");
        return pos;
      }
      uint64_t length = b1 & 0x7F;
      size_t header = 2;
      if (length == 126) {
        if (size - pos < 4) break;
        length = uint64_t{static_cast<uint8_t>(data[pos + 2])} << 8 |
                 static_cast<uint8_t>(data[pos + 3]);
        header = 4;
      } else if (length == 127) {
        if (size - pos < 10) break;
        length = 0;
        for (int i = 0; i < 8; ++i) length = length << 8 | static_cast<uint8_t>(data[pos + 2 + i]);
        header = 10;
      }
      if (length > kMaxMessage) {
        protocolError(c, "frame larger than 64 MiB");
        return pos;
      }
      if (size - pos - header < length) break;
      const std::string_view payload(data + pos + header, static_cast<size_t>(length));
      pos += header + static_cast<size_t>(length);
      if (!onFrame(c, fin, opcode, payload)) return pos;
    }
    return pos;
  }

  bool onFrame(Connection& c, bool fin, uint8_t opcode, std::string_view payload) {
    switch (opcode) {
      case 0x1:
        if (c.fragmented) {
          protocolError(c, "text frame inside a fragmented message");
          return false;
        }
        if (fin) {
          onMessage(c, payload);
        } else {
          c.partial.assign(payload);
          c.fragmented = true;
        }
        break;
      case 0x0:
        if (!c.fragmented) {
          protocolError(c, "continuation frame without a message");
          return false;
        }
        c.partial.append(payload);
        if (c.partial.size() > kMaxMessage) {
          protocolError(c, "message larger than 64 MiB");
          return false;
        }
        if (fin) {
          c.fragmented = false;
          std::string message;
          message.swap(c.partial);
          onMessage(c, message);
        }
        break;
      case 0x2:
        protocolError(c, "binary frame (Brigade sends text frames only)");
        return false;
      case 0x8:
        connectionGone(c, "WebSocket close frame");
        return false;
      case 0x9:
        if (!fin || payload.size() > 125) {
          protocolError(c, "invalid ping frame");
          return false;
        }
        ++counters_.wsPings;
        sendControl(c, 0xA, payload);
        break;
      case 0xA:
        break;
      default:
        protocolError(c, "unknown opcode " + std::to_string(opcode));
        return false;
    }
    return c.state != ConnState::kClosed;
  }

  // One Engine.IO packet.
  void onMessage(Connection& c, std::string_view m) {
    if (m.empty()) {
      protocolError(c, "empty Engine.IO packet");
      return;
    }
    switch (m[0]) {
      case '0': {
        if (c.state != ConnState::kWaitOpen) {
          protocolError(c, "unexpected open packet");
          return;
        }
        if (m.find("\"sid\":") == std::string_view::npos || !integerAfter(m, "\"pingInterval\":")) {
          protocolError(c, "open packet without sid/pingInterval");
          return;
        }
        c.state = ConnState::kWaitConnect;
        // A resumed socket sends back the last offset it received: the server
        // replays what it missed, then `ready`.
        const std::string quiet =
            isAdmin(indexOf(c)) && !options_.statusChanged ? ",\"statusChanged\":false" : "";
        if (c.resuming) {
          sendText(c, "40{\"token\":\"" + tokenOf(indexOf(c)) + "\",\"offset\":\"" + c.offset +
                          "\"" + quiet + "}");
        } else {
          sendText(c, "40{\"token\":\"" + tokenOf(indexOf(c)) + "\"" + quiet + "}");
        }
        return;
      }
      case '2': {
        ++counters_.heartbeats;
        std::string pong(m);
        pong[0] = '3';
        sendText(c, pong);
        return;
      }
      case '1':
        connectionGone(c, "Engine.IO close packet");
        return;
      case '6':
        return;
      case '4':
        onSocketIo(c, m.substr(1));
        return;
      default:
        protocolError(c, "unexpected Engine.IO packet " + std::string(m.substr(0, 40)));
        return;
    }
  }

  // One Socket.IO packet on the main namespace.
  void onSocketIo(Connection& c, std::string_view p) {
    if (p.empty()) {
      protocolError(c, "empty Socket.IO packet");
      return;
    }
    switch (p[0]) {
      case '0':
        if (c.state != ConnState::kWaitConnect || p.size() < 2 || p[1] != '{' ||
            p.find("\"sid\"") == std::string_view::npos) {
          protocolError(c, "unexpected CONNECT " + std::string(p.substr(0, 60)));
          return;
        }
        c.state = ConnState::kWaitReady;
        return;
      case '4':
        connectionGone(c, ("CONNECT_ERROR " + std::string(p.substr(0, 80))).c_str());
        return;
      case '1':
        connectionGone(c, "DISCONNECT from the server");
        return;
      case '2':
        onSocketEvent(c, p.substr(1));
        return;
      case '3':
        onAck(c, p.substr(1));
        return;
      default:
        protocolError(c, "unexpected Socket.IO packet " + std::string(p.substr(0, 40)));
        return;
    }
  }

  // `<id>[{"ok":true,...}]`: the answer to a rider's `rider:location`.
  void onAck(Connection& c, std::string_view a) {
    const size_t index = indexOf(c);
    if (!isRider(index) || !riders_[riderOf(index)].awaitingAck) {
      protocolError(c, "unexpected ack " + std::string(a.substr(0, 60)));
      return;
    }
    Rider& rider = riders_[riderOf(index)];
    rider.awaitingAck = false;
    rider.nextLocationNs = nowNs() + static_cast<int64_t>(options_.locationIntervalMs * kNsPerMs);
    if (a.find("\"ok\":true") != std::string_view::npos) {
      ++counters_.locationsOk;
    } else if (a.find("\"rate_limited\"") != std::string_view::npos) {
      ++counters_.locationsRateLimited;
    } else {
      ++counters_.locationsFailed;
      if (reported_++ < kMaxReportedErrors) {
        std::fprintf(stderr, "pipeline-loadgen: rider:location answered %.*s\n",
                     static_cast<int>(std::min<size_t>(a.size(), 200)), a.data());
      }
    }
  }

  // The offset string that ends an event `[..., "<seq>"]` or `"<seq>.1"`, or empty.
  static std::string_view trailingOffset(std::string_view e) {
    if (e.size() < 4 || e.back() != ']' || e[e.size() - 2] != '"') return {};
    const size_t open = e.rfind('"', e.size() - 3);
    if (open == std::string_view::npos || open == 0 || e[open - 1] != ',') return {};
    const std::string_view value = e.substr(open + 1, e.size() - 3 - open);
    if (value.empty()) return {};
    for (char ch : value) {
      if ((ch < '0' || ch > '9') && ch != '.') return {};
    }
    return value;
  }

  // `["name",{...},"<seq>"]`
  void onSocketEvent(Connection& c, std::string_view e) {
    if (e.rfind("[\"order:changed\",", 0) == 0) {
      // Before `ready` only on a resumed socket: the replay of what it missed.
      if (c.state != ConnState::kReady && !(c.resuming && c.state == ConnState::kWaitReady)) {
        protocolError(c, "order:changed before ready");
        return;
      }
      onOrderChanged(c, e);
    } else if (e.rfind("[\"alert\",", 0) == 0) {
      if (c.state != ConnState::kReady) {
        protocolError(c, "alert before ready");
        return;
      }
      onAlert(c, e);
    } else if (e.rfind("[\"ready\",", 0) == 0) {
      if (c.state != ConnState::kWaitReady || !integerAfter(e, "\"last_seq\":")) {
        protocolError(c, "unexpected ready " + std::string(e.substr(0, 80)));
        return;
      }
      c.state = ConnState::kReady;
      --inFlight_;
      ++counters_.ready;
      c.offset.assign(trailingOffset(e));
      if (c.resuming) {
        c.resuming = false;
        ++counters_.reconnectsReady;
        winResumeNs_.push_back(nowNs() - c.connectNs);
      } else {
        handshakeNs_.push_back(nowNs() - c.connectNs);
      }
      c.wasReady = true;
    } else if (e.rfind("[\"resync\",", 0) == 0) {
      report(counters_.resyncs, &c, "resync: " + std::string(e.substr(0, 80)));
    } else if (e.rfind("[\"statusChanged\",", 0) == 0) {
      if (!isAdmin(indexOf(c)) || !options_.statusChanged) {
        ++counters_.misdelivered;  // only listening admins may receive it
        return;
      }
      ++counters_.statusChanged;
      counters_.statusChangedBytes += static_cast<int64_t>(e.size());
    } else {
      ++counters_.otherEvents;
    }
  }

  void onOrderChanged(Connection& c, std::string_view e) {
    const int64_t now = nowNs();
    const auto seq = integerAfter(e, "\"seq\":");
    const auto customerId = integerAfter(e, "\"customer_id\":");
    if (!seq || !customerId || e.find("\"op\":\"") == std::string_view::npos) {
      protocolError(c, "order:changed without seq/op/customer_id: " + std::string(e.substr(0, 80)));
      return;
    }
    const size_t index = indexOf(c);
    const bool admin = isAdmin(index);
    const bool replay = c.state != ConnState::kReady;
    // Riders see only the orders assigned to them, and no order is assigned here.
    if (isRider(index) || (!admin && *customerId != customers_[customerOf(index)].userId)) {
      ++counters_.misdelivered;
      return;
    }
    if (replay) ++counters_.replayed;
    if (*seq <= c.lastOrderSeq) {
      // A replay may overlap what was seen (deduplicated by seq); a live event may not.
      ++(replay ? counters_.replayDuplicates : counters_.duplicates);
      return;
    }
    c.lastOrderSeq = *seq;
    c.offset.assign(trailingOffset(e));
    if (e.find("\"op\":\"insert\"") == std::string_view::npos) {
      ++counters_.otherOps;
      return;
    }
    const auto k = integerAfter(e, "\"notes\":\"bench:");
    if (!k || *k < 0 || *k >= static_cast<int64_t>(orders_.size()) ||
        orders_[static_cast<size_t>(*k)].sendNs < 0 || runTag_ != markerTag(e)) {
      ++counters_.foreignEvents;
      return;
    }
    Order& o = orders_[static_cast<size_t>(*k)];
    if (o.orderId < 0) {
      if (auto id = integerAfter(e, "\"id\":")) {
        o.orderId = *id;
        orderByServerId_.emplace(*id, *k);
      }
    }
    const int64_t latency = now - o.sendNs;
    if (admin) {
      const auto bit = static_cast<uint8_t>(1u << index);
      if (o.adminSeen & bit) {
        ++counters_.duplicates;
        return;
      }
      o.adminSeen |= bit;
      ++counters_.adminEvents;
      adminLatencyNs_.push_back(latency);
      if (sampling_) winAdminNs_.push_back(latency);
    } else {
      if (static_cast<size_t>(o.customer) != customerOf(index)) {
        ++counters_.misdelivered;
        return;
      }
      if (o.customerSeen++ > 0) {
        ++counters_.duplicates;
        return;
      }
      ++counters_.customerEvents;
      // An order that reached its owner through a replay waited for the socket to
      // come back: that time is the reconnect's, not the pipeline's.
      if (replay) {
        ++counters_.replayedInserts;
        return;
      }
      customerLatencyNs_.push_back(latency);
      if (sampling_) winCustomerNs_.push_back(latency);
    }
  }

  // The run tag in `"notes":"bench:<k>:<tag>"`, so that orders of an earlier run
  // on the same server are never taken for this run's.
  static std::string_view markerTag(std::string_view e) {
    const size_t at = e.find("\"notes\":\"bench:");
    if (at == std::string_view::npos) return {};
    const size_t colon = e.find(':', at + 15);
    const size_t quote = e.find('"', at + 15);
    if (colon == std::string_view::npos || quote == std::string_view::npos || colon > quote) {
      return {};
    }
    return e.substr(colon + 1, quote - colon - 1);
  }

  void onAlert(Connection& c, std::string_view e) {
    const size_t index = indexOf(c);
    if (!isAdmin(index)) {
      ++counters_.misdelivered;
      return;
    }
    const auto orderId = integerAfter(e, "\"order_id\":");
    if (!orderId) {
      protocolError(c, "alert without order_id: " + std::string(e.substr(0, 80)));
      return;
    }
    // The alert's offset (the last array element) is the seq of its change.
    const size_t lastQuote = e.rfind(",\"");
    std::optional<int64_t> alertSeq;
    if (lastQuote != std::string_view::npos) alertSeq = integerAfter(e, ",\"", lastQuote);
    if (alertSeq) {
      if (*alertSeq <= c.lastAlertSeq) {
        ++counters_.alertDuplicates;
        return;
      }
      c.lastAlertSeq = *alertSeq;
      c.offset.assign(trailingOffset(e));
    }
    const auto it = orderByServerId_.find(*orderId);
    if (it == orderByServerId_.end()) {
      ++counters_.unmatchedAlerts;
      return;
    }
    Order& o = orders_[static_cast<size_t>(it->second)];
    if (o.alerts[index]++ > 0) {
      ++counters_.alertDuplicates;
      return;
    }
    ++counters_.alertsFirst;
  }

  // -------------------------------------------------------------------------
  // The loop.

  // Runs until `done` is true. `pump` runs every turn and may lower wakeNs_.
  // False when the global --timeout expired first.
  bool loop(const std::function<bool()>& done, const std::function<void()>& pump = {}) {
    epoll_event events[kMaxEvents];
    for (;;) {
      wakeNs_ = nowNs() + 100 * kNsPerMs;
      if (pump) pump();
      flushDirty();
      if (done()) return true;
      const int64_t now = nowNs();
      if (now >= deadlineNs_) {
        timedOut_ = true;
        std::fprintf(stderr, "pipeline-loadgen: global --timeout of %.0f s expired\n",
                     options_.timeout);
        return false;
      }
      const int64_t wake = std::min(wakeNs_, deadlineNs_);
      const int timeoutMs =
          wake <= now ? 0 : static_cast<int>((wake - now + kNsPerMs - 1) / kNsPerMs);
      const int n = epoll_wait(epoll_, events, kMaxEvents, timeoutMs);
      if (n < 0) {
        if (errno == EINTR) continue;
        die("epoll_wait");
      }
      for (int i = 0; i < n; ++i) {
        onEvent(static_cast<size_t>(events[i].data.u64), events[i].events);
      }
    }
  }

  void idle(double secondsToWait) {
    const int64_t until = nowNs() + static_cast<int64_t>(secondsToWait * kNsPerSec);
    loop([&] { return nowNs() >= until; }, [&] { wakeNs_ = std::min(wakeNs_, until); });
  }

  void raiseFileLimit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < conns_.size() + 64) {
      std::fprintf(stderr, "pipeline-loadgen: open-file limit %llu is below the %zu connections\n",
                   static_cast<unsigned long long>(limit.rlim_cur), conns_.size());
    }
  }

  bool openPool() {
    for (size_t i = sockets_; i < conns_.size(); ++i) openConnection(i);
    const auto done = [&] {
      size_t open = 0;
      for (size_t i = sockets_; i < conns_.size(); ++i) {
        if (conns_[i].state == ConnState::kHttpFree) ++open;
        if (conns_[i].state == ConnState::kClosed) return true;
      }
      return open == conns_.size() - sockets_;
    };
    return loop(done) && counters_.httpErrors == 0;
  }

  // Runs `count` setup requests with at most `concurrency` in flight.
  bool runSetup(Job job, int64_t count, int64_t concurrency) {
    int64_t launched = 0;
    setupDone_ = 0;
    const auto pump = [&] {
      int64_t busy = 0;
      for (size_t i = sockets_; i < conns_.size(); ++i) {
        if (conns_[i].state == ConnState::kHttpBusy) ++busy;
      }
      while (launched < count && busy < concurrency) {
        Connection* c = takeFree();
        if (c == nullptr) break;
        const std::string n = std::to_string(launched);
        const std::string riderEmail = "rider-" + runTag_ + "-" + n + "@bench.test";
        const auto i = static_cast<size_t>(launched);
        switch (job) {
          case Job::kLogin:
            sendRequest(*c, job, launched, "/api/auth/login", {},
                        "{\"email\":\"" + options_.adminEmail + "\",\"password\":\"" +
                            options_.adminPassword + "\"}");
            break;
          case Job::kRegister:
            sendRequest(*c, job, launched, "/api/auth/register", {},
                        "{\"email\":\"bench-" + runTag_ + "-" + n +
                            "@bench.test\",\"password\":\"bench-password\",\"name\":\"Bench " + n +
                            "\"}");
            break;
          case Job::kCreateRider:
            sendRequest(*c, job, launched, "/api/users", adminTokens_[0],
                        "{\"email\":\"" + riderEmail +
                            "\",\"password\":\"bench-password\",\"name\":\"Rider " + n +
                            "\",\"role\":\"rider\"}");
            break;
          case Job::kRiderLogin:
            sendRequest(*c, job, launched, "/api/auth/login", {},
                        "{\"email\":\"" + riderEmail + "\",\"password\":\"bench-password\"}");
            break;
          case Job::kRiderOnline:
            sendRequest(*c, job, launched, "/api/riders/me/online", riders_[i].token,
                        "{\"online\":true}");
            break;
          case Job::kOrder:
          case Job::kNone:
            break;
        }
        ++launched;
        ++busy;
      }
    };
    const auto done = [&] { return setupDone_ == count || counters_.httpErrors > 0; };
    return loop(done, pump) && setupDone_ == count;
  }

  bool connectSockets() {
    size_t launched = 0;
    const auto pump = [&] {
      while (launched < sockets_ && inFlight_ < options_.concurrency) openConnection(launched++);
    };
    const auto done = [&] { return launched == sockets_ && inFlight_ == 0; };
    return loop(done, pump) && counters_.ready == static_cast<int64_t>(sockets_);
  }

  void placeOrder(int64_t k, int64_t scheduledNs) {
    Order& o = orders_[static_cast<size_t>(k)];
    Connection* c = takeFree();
    if (c == nullptr) {
      ++counters_.notPlaced;
      return;
    }
    o.customer = static_cast<int32_t>(rng_.next() % static_cast<uint64_t>(options_.customers));
    std::string body =
        "{\"items\":[{\"item_id\":1,\"quantity\":1}],\"delivery\":{\"address\":\"1 Bench "
        "Street\"},\"notes\":\"bench:" +
        std::to_string(k) + ":" + runTag_ + "\"}";
    sendRequest(*c, Job::kOrder, k, "/api/orders",
                customers_[static_cast<size_t>(o.customer)].token, body);
    o.sendNs = c->jobSentNs;
    scheduleLagNs_.push_back(o.sendNs - scheduledNs);
    if (sampling_) winLagNs_.push_back(o.sendNs - scheduledNs);
    ++counters_.placed;
    ++postsOutstanding_;
  }

  // -------------------------------------------------------------------------
  // Soak: rider locations, resumed customer sockets, windows.

  // Every ready rider sends `rider:location` (with an ack) once the interval has
  // passed since its previous one was answered. The server takes at most one a
  // second per rider, timed when it reads the message, and answers after that:
  // timed from the send, a location the server read late (busy loop) would be
  // followed < 1 s later by one read on time, and refused.
  void pumpRiders(int64_t now) {
    for (size_t r = 0; r < riders_.size(); ++r) {
      Rider& rider = riders_[r];
      Connection& c = conns_[firstRider() + r];
      if (c.state != ConnState::kReady || rider.awaitingAck) continue;
      if (now < rider.nextLocationNs) {
        wakeNs_ = std::min(wakeNs_, rider.nextLocationNs);
        continue;
      }
      // A short walk around one point, a new position every time.
      const double angle = static_cast<double>(rng_.next() % 3600) / 10.0 * M_PI / 180.0;
      char event[160];
      std::snprintf(event, sizeof event,
                    "42%" PRId64 "[\"rider:location\",{\"lat\":%.6f,\"lng\":%.6f}]", rider.ackId++,
                    48.8566 + 0.01 * std::sin(angle), 2.3522 + 0.01 * std::cos(angle));
      sendText(c, event);
      rider.awaitingAck = true;
      ++counters_.locationsSent;
    }
  }

  // Customer k of the resumes is due at t0 + (k + 1) x period, spread evenly over
  // each minute; sockets are taken in a shuffled order, in turn.
  void pumpReconnects(int64_t now, bool schedule) {
    if (schedule && reconnectPeriodNs_ > 0) {
      while (reconnectStartNs_ + (reconnectsDue_ + 1) * reconnectPeriodNs_ <= now) {
        ++reconnectsDue_;
        resumeNext();
      }
      wakeNs_ = std::min(wakeNs_, reconnectStartNs_ + (reconnectsDue_ + 1) * reconnectPeriodNs_);
    }
    while (!reopen_.empty() && reopen_.front().first <= now) {
      const uint32_t index = reopen_.front().second;
      reopen_.pop_front();
      Connection& c = conns_[index];
      if (c.state != ConnState::kClosed) continue;
      c.resuming = true;
      openConnection(index);
    }
    if (!reopen_.empty()) wakeNs_ = std::min(wakeNs_, reopen_.front().first);
  }

  // Closes the next ready customer socket (every other one with a WebSocket close
  // frame first, the others abruptly) and queues its reconnect.
  void resumeNext() {
    const size_t n = reconnectOrder_.size();
    for (size_t tried = 0; tried < n; ++tried) {
      const uint32_t index = reconnectOrder_[reconnectCursor_++ % n];
      Connection& c = conns_[index];
      if (c.state != ConnState::kReady) continue;
      if (counters_.socketReconnects % 2 == 0) {
        sendControl(c, 0x8, std::string_view("\x03\xe8", 2));  // 1000, normal closure
        flush(c);
        if (c.state == ConnState::kClosed) return;  // the send failed: counted as dropped
      }
      closeFd(c);
      ++counters_.socketReconnects;
      reopen_.emplace_back(nowNs() + static_cast<int64_t>(options_.reconnectDelay * kNsPerSec),
                           index);
      return;
    }
    ++counters_.reconnectsSkipped;
  }

  // Orders sent at least kLostAfterNs ago (not refused) still missing an event.
  int64_t lostSoFar(int64_t now) const {
    int64_t lost = 0;
    const auto all = static_cast<uint8_t>((1u << options_.admins) - 1);
    for (const Order& o : orders_) {
      if (o.sendNs < 0 || o.sendNs > now - kLostAfterNs) continue;
      if (o.status != 0 && o.status != 201) continue;
      bool alerts = true;
      for (int a = 0; a < options_.admins; ++a) alerts = alerts && o.alerts[a] > 0;
      if (o.adminSeen != all || o.customerSeen == 0 || !alerts) ++lost;
    }
    return lost;
  }

  struct Window {
    double endS = 0;
    double adminP99Ms = 0;
    int64_t rssKb = -1;
    int64_t fds = -1;
  };

  // One JSON line for the window that ends now.
  void takeWindow(int64_t now, int64_t t0) {
    const Counters& d = counters_;
    const Counters& p = windowStart_;
    const LatencySummary admin = summarize(winAdminNs_);
    const LatencySummary customer = summarize(winCustomerNs_);
    const LatencySummary lag = summarize(winLagNs_);
    const LatencySummary resume = summarize(winResumeNs_);
    const ProcSample server = sampleProcess(options_.pid);
    Window w;
    w.endS = seconds(now - t0);
    w.adminP99Ms = admin.p99Ms;
    w.rssKb = server.valid ? server.rssKb : -1;
    w.fds = countFds(options_.pid);
    JsonLine j;
    j.add("window", static_cast<int64_t>(windows_.size() + 1))
        .add("t_s", w.endS)
        .add("placed", d.placed - p.placed)
        .add("not_placed", d.notPlaced - p.notPlaced)
        .add("answered", d.postOk + d.postErrors - p.postOk - p.postErrors)
        .add("post_errors", d.postErrors - p.postErrors)
        .add("admin_samples", static_cast<int64_t>(admin.count))
        .add("admin_p50_ms", admin.p50Ms)
        .add("admin_p99_ms", admin.p99Ms)
        .add("admin_max_ms", admin.maxMs)
        .add("customer_p99_ms", customer.p99Ms)
        .add("schedule_lag_max_ms", lag.maxMs)
        .add("reconnects", d.socketReconnects - p.socketReconnects)
        .add("resumed", d.reconnectsReady - p.reconnectsReady)
        .add("resume_p99_ms", resume.p99Ms)
        .add("replayed", d.replayed - p.replayed)
        .add("replayed_inserts", d.replayedInserts - p.replayedInserts)
        .add("locations_ok", d.locationsOk - p.locationsOk)
        .add("locations_rate_limited", d.locationsRateLimited - p.locationsRateLimited)
        .add("rss_kb", w.rssKb)
        .add("fds", w.fds)
        .add("lost_so_far", lostSoFar(now))
        .add("duplicated_so_far", d.duplicates + d.alertDuplicates)
        .add("misdelivered_so_far", d.misdelivered)
        .add("dropped_so_far", d.dropped)
        .add("load1", loadAverage().substr(0, loadAverage().find(' ')));
    std::printf("%s\n", j.str().c_str());
    windows_.push_back(w);
    windowStart_ = counters_;
    winAdminNs_.clear();
    winCustomerNs_.clear();
    winLagNs_.clear();
    winResumeNs_.clear();
  }

  // The soak's figures and verdicts (bench/soak/README.md):
  // - rss_drift_ok: RSS at the end is less than 5% above RSS at the end of the
  //   warm-up (the first window ending at or after --warmup);
  // - fds_ok: descriptors at the end within max(20, 1%) of the baseline (all
  //   sockets ready, before the first order);
  // - p99_stable: over the windows after the warm-up, the median p99 of the last k
  //   windows is at most --p99-growth times that of the first k (k = a third of
  //   them, 1..3), or within --p99-slack-ms of it;
  // - nothing_lost: every order reached every admin and its owner, exactly once.
  void addSoakVerdicts(JsonLine& j, int64_t fdsBaseline, int64_t fdsEnd, const ProcSample& atEnd,
                       int64_t lost, int64_t missing, bool correct) {
    size_t warm = 0;
    while (warm < windows_.size() &&
           static_cast<double>(warm + 1) * options_.sampleSeconds < options_.warmup - 1e-9) {
      ++warm;
    }
    std::string p99s = "[";
    for (size_t i = 0; i < windows_.size(); ++i) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%s%.2f", i ? "," : "", windows_[i].adminP99Ms);
      p99s += buf;
    }
    p99s += "]";
    j.add("windows", static_cast<int64_t>(windows_.size()))
        .add("sample_s", options_.sampleSeconds)
        .add("warmup_s", options_.warmup)
        .addRaw("window_admin_p99_ms", p99s);
    const int64_t rssWarm = warm < windows_.size() ? windows_[warm].rssKb : -1;
    const int64_t rssEnd = atEnd.valid ? atEnd.rssKb : -1;
    std::optional<bool> rssOk;
    if (rssWarm > 0 && rssEnd > 0) {
      const double drift =
          static_cast<double>(rssEnd - rssWarm) / static_cast<double>(rssWarm) * 100;
      j.add("rss_warmup_kb", rssWarm).add("rss_end_kb", rssEnd).add("rss_drift_pct", drift);
      rssOk = drift < 5;
    } else {
      j.addNull("rss_warmup_kb").addNull("rss_end_kb").addNull("rss_drift_pct");
    }
    std::optional<bool> fdsOk;
    j.add("fds_baseline", fdsBaseline).add("fds_end", fdsEnd);
    if (fdsBaseline >= 0 && fdsEnd >= 0) {
      const auto tolerance = std::max<int64_t>(
          kFdToleranceAbs,
          static_cast<int64_t>(kFdTolerancePct / 100 * static_cast<double>(fdsBaseline)));
      fdsOk = std::abs(fdsEnd - fdsBaseline) <= tolerance;
    }
    std::optional<bool> p99Ok;
    std::vector<double> after;
    for (size_t i = warm + 1; i < windows_.size(); ++i) after.push_back(windows_[i].adminP99Ms);
    if (after.size() >= 2) {
      const size_t k = std::clamp<size_t>(after.size() / 3, 1, 3);
      const double first = median({after.begin(), after.begin() + static_cast<ptrdiff_t>(k)});
      const double last = median({after.end() - static_cast<ptrdiff_t>(k), after.end()});
      j.add("p99_windows_compared", static_cast<int64_t>(k))
          .add("p99_first_ms", first)
          .add("p99_last_ms", last)
          .add("p99_growth_limit", options_.p99Growth)
          .add("p99_slack_ms", options_.p99SlackMs);
      p99Ok = last <= std::max(options_.p99Growth * first, first + options_.p99SlackMs);
    }
    const bool nothingLost = lost == 0 && missing == 0 && correct;
    const auto verdict = [&](const char* key, std::optional<bool> v) {
      if (v) {
        j.add(key, *v);
      } else {
        j.addNull(key);
      }
    };
    verdict("rss_drift_ok", rssOk);
    verdict("fds_ok", fdsOk);
    verdict("p99_stable", p99Ok);
    j.add("nothing_lost", nothingLost);
    soakOk_ =
        rssOk.value_or(false) && fdsOk.value_or(false) && p99Ok.value_or(false) && nothingLost;
    j.add("soak_ok", soakOk_);
  }

  int finish(JsonLine& j, int code) {
    std::printf("%s\n", j.str().c_str());
    std::fflush(stdout);
    return code;
  }

  int setupFailed(const char* what) {
    std::fprintf(stderr, "pipeline-loadgen: setup failed: %s\n", what);
    JsonLine j;
    j.add("label", options_.label).add("rate", options_.rate).add("setup_failed", what);
    j.add("protocol_errors", counters_.protocolErrors)
        .add("failed", counters_.failed)
        .add("http_errors", counters_.httpErrors)
        .add("timed_out", timedOut_)
        .add("ok", false);
    return finish(j, timedOut_ ? 3 : (counters_.protocolErrors > 0 ? 1 : 2));
  }

  Options options_;
  XorShift rng_;
  int epoll_ = -1;
  sockaddr_in target_{};
  std::string hostHeader_;
  std::string runTag_;
  size_t sockets_ = 0;  // conns_[0, admins) admins, then customers, then the HTTP pool
  std::vector<Connection> conns_;
  std::vector<Customer> customers_;
  std::vector<Rider> riders_;
  std::vector<std::string> adminTokens_;
  std::vector<Order> orders_;
  std::unordered_map<int64_t, int64_t> orderByServerId_;
  // Oldest free connection first, so that every pool connection is used in turn
  // and none sits idle long enough for the server's keep-alive timeout.
  std::deque<uint32_t> freeHttp_;
  std::vector<char> readBuffer_;
  std::string frameScratch_;
  std::string requestScratch_;
  std::vector<uint32_t> dirty_;
  Counters counters_;
  std::vector<int64_t> handshakeNs_;
  std::vector<int64_t> adminLatencyNs_;
  std::vector<int64_t> customerLatencyNs_;
  std::vector<int64_t> postLatencyNs_;
  std::vector<int64_t> scheduleLagNs_;
  int64_t inFlight_ = 0;  // socket handshakes in flight
  int64_t setupDone_ = 0;
  int64_t postsOutstanding_ = 0;
  int64_t deadlineNs_ = 0;
  int64_t wakeNs_ = 0;
  int reported_ = 0;
  int postErrorsReported_ = 0;
  bool timedOut_ = false;
  bool tearingDown_ = false;
  // Soak.
  bool sampling_ = false;
  bool soakOk_ = false;
  std::vector<uint32_t> reconnectOrder_;  // customer sockets, shuffled
  size_t reconnectCursor_ = 0;
  int64_t reconnectStartNs_ = 0;
  int64_t reconnectPeriodNs_ = 0;  // 0: no reconnects
  int64_t reconnectsDue_ = 0;
  std::deque<std::pair<int64_t, uint32_t>> reopen_;  // (when, socket), in time order
  Counters windowStart_;
  std::vector<Window> windows_;
  std::vector<int64_t> winAdminNs_;
  std::vector<int64_t> winCustomerNs_;
  std::vector<int64_t> winLagNs_;
  std::vector<int64_t> winResumeNs_;
};

int PipelineLoadGen::run() {
  if (!options_.serverLog.empty() && options_.adminEmail.empty() && !adminFromServerLog(options_)) {
    std::fprintf(stderr, "pipeline-loadgen: no {\"demo_accounts\"} admin in %s\n",
                 options_.serverLog.c_str());
    return 2;
  }
  raiseFileLimit();
  target_.sin_family = AF_INET;
  target_.sin_port = htons(static_cast<uint16_t>(options_.port));
  inet_pton(AF_INET, kTargetAddress, &target_.sin_addr);
  hostHeader_ = std::string(kTargetAddress) + ":" + std::to_string(options_.port);
  runTag_ = std::to_string(getpid()) + "x" + std::to_string(rng_.next() % 1000000);
  const std::string loadBefore = loadAverage();
  const ProcSample atStart = sampleProcess(options_.pid);
  std::printf(
      "pipeline %s: %d admins + %" PRId64 " customers + %" PRId64
      " riders, %g orders/s for %g s, pool %" PRId64 ", reconnects %g%%/min, load average %s\n",
      options_.label.c_str(), options_.admins, options_.customers, options_.riders, options_.rate,
      options_.duration, options_.pool, options_.reconnectPercent, loadBefore.c_str());

  // Setup: the HTTP pool, admin logins, registrations, sockets.
  if (!openPool()) return setupFailed("could not open the HTTP pool");
  if (!runSetup(Job::kLogin, options_.admins, options_.admins)) {
    return setupFailed("admin login");
  }
  int64_t t = nowNs();
  const ProcSample beforeRegister = sampleProcess(options_.pid);
  if (!runSetup(Job::kRegister, options_.customers, options_.registerConcurrency)) {
    return setupFailed("customer registration");
  }
  const double registerS = seconds(nowNs() - t);
  const ProcSample afterRegister = sampleProcess(options_.pid);
  std::printf("setup: %" PRId64 " customers registered in %.2f s (%.0f/s, server CPU %.2f s)\n",
              options_.customers, registerS, static_cast<double>(options_.customers) / registerS,
              afterRegister.cpuSeconds - beforeRegister.cpuSeconds);
  if (options_.riders > 0) {
    // Created by the admin, signed in, online; their sockets open with the others.
    if (!runSetup(Job::kCreateRider, options_.riders, options_.registerConcurrency)) {
      return setupFailed("rider creation");
    }
    if (!runSetup(Job::kRiderLogin, options_.riders, options_.registerConcurrency)) {
      return setupFailed("rider login");
    }
    if (!runSetup(Job::kRiderOnline, options_.riders, options_.registerConcurrency)) {
      return setupFailed("rider online");
    }
  }
  t = nowNs();
  if (!connectSockets()) return setupFailed("sockets (connect, auth, ready)");
  const double connectS = seconds(nowNs() - t);
  const LatencySummary handshake = summarize(handshakeNs_);
  std::printf(
      "setup: %zu sockets ready in %.2f s (%.0f/s); connect-to-ready p50 %.1f ms, p99 %.1f "
      "ms\n",
      sockets_, connectS, static_cast<double>(sockets_) / connectS, handshake.p50Ms,
      handshake.p99Ms);
  idle(options_.settle);
  if (counters_.protocolErrors > 0 || counters_.dropped > 0) return setupFailed("sockets dropped");

  // Orders: k at t0 + k / rate, open loop.
  const auto scheduled = static_cast<int64_t>(std::llround(options_.rate * options_.duration));
  orders_.assign(static_cast<size_t>(scheduled), Order{});
  orderByServerId_.reserve(static_cast<size_t>(scheduled) * 2);
  adminLatencyNs_.reserve(static_cast<size_t>(scheduled * options_.admins));
  customerLatencyNs_.reserve(static_cast<size_t>(scheduled));
  postLatencyNs_.reserve(static_cast<size_t>(scheduled));
  scheduleLagNs_.reserve(static_cast<size_t>(scheduled));
  const double periodNs = static_cast<double>(kNsPerSec) / options_.rate;
  const ProcSample before = sampleProcess(options_.pid);
  const int64_t fdsBaseline = countFds(options_.pid);
  const double ownBefore = ownCpuSeconds();
  const int64_t t0 = nowNs();
  for (size_t r = 0; r < riders_.size(); ++r) {
    riders_[r].nextLocationNs = t0 + static_cast<int64_t>(options_.locationIntervalMs * kNsPerMs) *
                                         static_cast<int64_t>(r) /
                                         static_cast<int64_t>(riders_.size());
  }
  const double resumesPerMinute =
      options_.reconnectPercent / 100 * static_cast<double>(options_.customers);
  if (resumesPerMinute > 0) {
    reconnectPeriodNs_ = static_cast<int64_t>(60.0 * kNsPerSec / resumesPerMinute);
    reconnectStartNs_ = t0;
    for (int64_t i = 0; i < options_.customers; ++i) {
      reconnectOrder_.push_back(static_cast<uint32_t>(options_.admins + i));
    }
    for (size_t i = reconnectOrder_.size(); i > 1; --i) {
      std::swap(reconnectOrder_[i - 1], reconnectOrder_[rng_.next() % i]);
    }
  }
  sampling_ = options_.sampleSeconds > 0;
  const auto sampleNs = static_cast<int64_t>(options_.sampleSeconds * kNsPerSec);
  const int64_t samplesPlanned =
      sampling_
          ? static_cast<int64_t>(std::floor(options_.duration / options_.sampleSeconds + 1e-9))
          : 0;
  windowStart_ = counters_;
  const auto dueAt = [&](int64_t k) {
    return t0 + static_cast<int64_t>(static_cast<double>(k) * periodNs);
  };
  const int64_t scheduleEndNs = dueAt(scheduled);
  int64_t next = 0;
  int64_t lastReportNs = t0;
  const auto pumpOrders = [&] {
    const int64_t now = nowNs();
    while (next < scheduled && dueAt(next) <= now) {
      placeOrder(next, dueAt(next));
      ++next;
    }
    if (next < scheduled) wakeNs_ = std::min(wakeNs_, dueAt(next));
    pumpRiders(now);
    pumpReconnects(now, now < scheduleEndNs);
    if (sampling_ && static_cast<int64_t>(windows_.size()) < samplesPlanned) {
      const int64_t due = t0 + (static_cast<int64_t>(windows_.size()) + 1) * sampleNs;
      if (now >= due) takeWindow(now, t0);
      wakeNs_ = std::min(wakeNs_, t0 + (static_cast<int64_t>(windows_.size()) + 1) * sampleNs);
    }
    if (!sampling_ && now - lastReportNs >= 5 * kNsPerSec) {
      lastReportNs = now;
      std::printf("  t=%5.1f s: %" PRId64 " placed, %" PRId64 " not placed, %" PRId64
                  " answered, admin events %" PRId64 ", customer events %" PRId64 "\n",
                  seconds(now - t0), counters_.placed, counters_.notPlaced,
                  counters_.postOk + counters_.postErrors, counters_.adminEvents,
                  counters_.customerEvents);
    }
  };
  loop([&] { return next >= scheduled && static_cast<int64_t>(windows_.size()) >= samplesPlanned; },
       pumpOrders);
  const int64_t sendEndNs = nowNs();
  const ProcSample afterSend = sampleProcess(options_.pid);
  const double ownAfterSend = ownCpuSeconds();

  // Grace: every answer and every expected event, or the grace period is over.
  const int64_t graceEndNs =
      std::max(sendEndNs, scheduleEndNs) + static_cast<int64_t>(options_.grace * kNsPerSec);
  const auto complete = [&] {
    if (postsOutstanding_ > 0 || inFlight_ > 0 || !reopen_.empty()) return false;
    return counters_.adminEvents == counters_.postOk * options_.admins &&
           counters_.customerEvents == counters_.postOk &&
           counters_.alertsFirst == counters_.postOk * options_.admins;
  };
  if (!timedOut_) {
    loop([&] { return complete() || nowNs() >= graceEndNs; },
         [&] {
           pumpReconnects(nowNs(), false);
           wakeNs_ = std::min(wakeNs_, graceEndNs);
         });
  }
  const int64_t endNs = nowNs();
  const ProcSample after = sampleProcess(options_.pid);
  // The end of a soak: every socket back, then 2 s for the server to finish the
  // closes it had started.
  int64_t fdsEnd = -1;
  ProcSample atEnd;
  if (sampling_ && !timedOut_) {
    idle(2);
    fdsEnd = countFds(options_.pid);
    atEnd = sampleProcess(options_.pid);
  }
  const double ownCpu = ownCpuSeconds() - ownBefore;
  const std::string loadAfter = loadAverage();

  // Losses: every order sent whose POST was not refused must reach every admin
  // (order:changed insert and alert) and its owner.
  int64_t lostAdmin = 0;
  int64_t lostCustomer = 0;
  int64_t alertsMissing = 0;
  int64_t unanswered = 0;
  for (const Order& o : orders_) {
    if (o.sendNs < 0) continue;
    if (o.status == 0) ++unanswered;
    if (o.status != 0 && o.status != 201) continue;
    for (int a = 0; a < options_.admins; ++a) {
      if ((o.adminSeen & (1u << a)) == 0) ++lostAdmin;
      if (o.alerts[a] == 0) ++alertsMissing;
    }
    if (o.customerSeen == 0) ++lostCustomer;
  }
  const LatencySummary adminLatency = summarize(adminLatencyNs_);
  const LatencySummary customerLatency = summarize(customerLatencyNs_);
  const LatencySummary postLatency = summarize(postLatencyNs_);
  const LatencySummary lag = summarize(scheduleLagNs_);
  const double phaseS = seconds(endNs - t0);
  const double sendS = seconds(sendEndNs - t0);
  const double placedRatio =
      scheduled > 0 ? static_cast<double>(counters_.placed) / static_cast<double>(scheduled) : 0;
  const int64_t rateLimitedAllowed = std::max<int64_t>(
      kRateLimitedAllowed, static_cast<int64_t>(kRateLimitedAllowedFraction *
                                                static_cast<double>(counters_.locationsSent)));
  const bool correct =
      counters_.duplicates == 0 && counters_.alertDuplicates == 0 && counters_.misdelivered == 0 &&
      counters_.protocolErrors == 0 && counters_.dropped == 0 && counters_.resyncs == 0 &&
      counters_.locationsFailed == 0 && counters_.locationsRateLimited <= rateLimitedAllowed;
  const bool held = correct && !timedOut_ && lostAdmin == 0 && lostCustomer == 0 &&
                    alertsMissing == 0 && unanswered == 0 && counters_.postErrors == 0 &&
                    placedRatio >= options_.minPlaced && adminLatency.p99Ms < options_.p99LimitMs &&
                    customerLatency.p99Ms < options_.p99LimitMs;

  std::printf("orders: %" PRId64 " scheduled at %g/s, %" PRId64 " placed (%.1f%%), %" PRId64
              " not placed (pool of %" PRId64 " exhausted), %" PRId64 " answered 201, %" PRId64
              " errors, %" PRId64 " unanswered\n",
              scheduled, options_.rate, counters_.placed, placedRatio * 100, counters_.notPlaced,
              options_.pool, counters_.postOk, counters_.postErrors, unanswered);
  printLatency("POST -> admin event", adminLatency);
  printLatency("POST -> owner event", customerLatency);
  printLatency("POST answer", postLatency);
  printLatency("schedule lag", lag);
  std::printf("events: lost %" PRId64 " admin + %" PRId64 " customer, duplicated %" PRId64
              ", misdelivered %" PRId64 ", alerts missing %" PRId64 " / duplicated %" PRId64
              " / unmatched %" PRId64 ", foreign %" PRId64 "\n",
              lostAdmin, lostCustomer, counters_.duplicates, counters_.misdelivered, alertsMissing,
              counters_.alertDuplicates, counters_.unmatchedAlerts, counters_.foreignEvents);
  JsonLine j;
  j.add("label", options_.label)
      .add("rate", options_.rate)
      .add("duration_s", options_.duration)
      .add("customers", options_.customers)
      .add("admins", static_cast<int64_t>(options_.admins))
      .add("status_changed", options_.statusChanged ? "listening" : "off")
      .add("status_changed_events", counters_.statusChanged)
      .add("status_changed_bytes", counters_.statusChangedBytes)
      .add("pool", options_.pool)
      .add("register_s", registerS)
      .add("connect_s", connectS)
      .addLatency("ready", handshake)
      .add("scheduled", scheduled)
      .add("placed", counters_.placed)
      .add("not_placed", counters_.notPlaced)
      .add("placed_ratio", placedRatio)
      .add("post_201", counters_.postOk)
      .add("post_errors", counters_.postErrors)
      .add("post_unanswered", unanswered)
      .addLatency("admin", adminLatency)
      .addLatency("customer", customerLatency)
      .addLatency("post", postLatency)
      .add("schedule_lag_p99_ms", lag.p99Ms)
      .add("schedule_lag_max_ms", lag.maxMs)
      .add("lost_admin", lostAdmin)
      .add("lost_customer", lostCustomer)
      .add("lost", lostAdmin + lostCustomer)
      .add("duplicates", counters_.duplicates)
      .add("misdelivered", counters_.misdelivered)
      .add("alerts_missing", alertsMissing)
      .add("alerts_duplicated", counters_.alertDuplicates)
      .add("alerts_unmatched", counters_.unmatchedAlerts)
      .add("foreign_events", counters_.foreignEvents)
      .add("other_ops", counters_.otherOps)
      .add("heartbeats", counters_.heartbeats)
      .add("http_reconnects", counters_.reconnects)
      .add("riders", options_.riders)
      .add("locations_sent", counters_.locationsSent)
      .add("locations_ok", counters_.locationsOk)
      .add("locations_rate_limited", counters_.locationsRateLimited)
      .add("locations_failed", counters_.locationsFailed)
      .add("locations_unanswered", counters_.locationsSent - counters_.locationsOk -
                                       counters_.locationsRateLimited - counters_.locationsFailed)
      .add("reconnect_percent", options_.reconnectPercent)
      .add("reconnects", counters_.socketReconnects)
      .add("reconnects_ready", counters_.reconnectsReady)
      .add("reconnects_skipped", counters_.reconnectsSkipped)
      .add("replayed", counters_.replayed)
      .add("replayed_inserts", counters_.replayedInserts)
      .add("replay_duplicates", counters_.replayDuplicates)
      .add("resyncs", counters_.resyncs)
      .add("phase_s", phaseS)
      .add("send_s", sendS)
      .add("loadgen_cpu_s", ownCpu)
      .add("loadgen_cpu_send_s", ownAfterSend - ownBefore)
      .add("load_before", loadBefore)
      .add("load_after", loadAfter);
  if (before.valid && after.valid) {
    const double cpu = after.cpuSeconds - before.cpuSeconds;
    const double cpuSend = afterSend.cpuSeconds - before.cpuSeconds;
    const double perOrderUs =
        counters_.postOk > 0 ? cpu * 1e6 / static_cast<double>(counters_.postOk) : 0;
    std::printf(
        "server: CPU %.2f s over %.1f s (%.0f%% of one core while sending), %.0f us per "
        "order; RSS %.1f MB at start, %.1f MB with sockets, %.1f MB after; loadgen CPU "
        "%.2f s (%.0f%% of one core while sending)\n",
        cpu, phaseS, cpuSend / sendS * 100, perOrderUs, atStart.rssKb / 1024.0,
        before.rssKb / 1024.0, after.rssKb / 1024.0, ownCpu,
        (ownAfterSend - ownBefore) / sendS * 100);
    j.add("server_cpu_s", cpu)
        .add("server_cpu_send_s", cpuSend)
        .add("server_cpu_pct", cpuSend / sendS * 100)
        .add("server_cpu_us_per_order", perOrderUs)
        .add("rss_start_kb", atStart.rssKb)
        .add("rss_before_kb", before.rssKb)
        .add("rss_after_kb", after.rssKb);
  } else {
    std::printf("server not measured (no --pid or process gone); loadgen CPU %.2f s\n", ownCpu);
    j.addNull("server_cpu_s").addNull("rss_after_kb");
  }
  if (sampling_)
    addSoakVerdicts(j, fdsBaseline, fdsEnd, atEnd, lostAdmin + lostCustomer,
                    alertsMissing + unanswered + counters_.postErrors, correct);
  j.add("protocol_errors", counters_.protocolErrors)
      .add("failed", counters_.failed)
      .add("dropped", counters_.dropped)
      .add("timed_out", timedOut_)
      .add("correct", correct)
      .add("held", held)
      .add("ok", correct && !timedOut_);
  std::printf("%s at %g orders/s: %s\n", options_.label.c_str(), options_.rate,
              held ? "HELD" : "not held");
  if (timedOut_) return finish(j, 3);
  return finish(j, correct ? 0 : 1);
}

bool selfTest() {
  // RFC 6455 section 1.3.
  return websocketAccept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  if (!selfTest()) {
    std::fprintf(stderr, "pipeline-loadgen: SHA-1/base64 self-test failed\n");
    return 2;
  }
  Options options = parseOptions(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  PipelineLoadGen gen(std::move(options));
  return gen.run();
}
