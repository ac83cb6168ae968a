// loadgen: the client side of shared/docs/BENCH-CONTRACT.md on raw epoll.
//
// One thread, one epoll set, non-blocking sockets, edge-triggered events. It
// carries its own SHA-1 and base64 so that it measures a server without
// sharing a line of code with it. Every connection goes to 127.0.0.1 only.
// With --tls every connection speaks TLS first (OpenSSL through memory BIOs,
// no certificate verification), then the same WebSocket/Socket.IO traffic.
//
//   loadgen connect --port P --n N [--settle S]
//   loadgen fanout  --port P --n N --rate R --count M [--pad P] [--window W]
//   loadgen echo    --port P --n K --window W --duration D [--pad P]
//
// See bench/load/README.md for what every figure means.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench_kit.hpp"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace {

constexpr const char* kTargetAddress = "127.0.0.1";  // the only destination ever used
constexpr size_t kReadChunk = 256 * 1024;
constexpr size_t kMaxHttpResponse = 16 * 1024;
constexpr uint64_t kMaxMessage = 64ull * 1024 * 1024;
constexpr int kMaxEvents = 4096;
constexpr int kMaxReportedErrors = 10;
constexpr int64_t kExpectedPingInterval = 25000;
constexpr int64_t kExpectedPingTimeout = 20000;

using namespace brigade::bench;  // clock, SHA-1, base64, helpers (bench_kit.hpp)

// Parses the plain non-negative integer that follows `key` (e.g. `"seq":`). The
// contract forbids exponents and fractions, so anything but digits followed by
// `,` `}` or `]` is rejected.
std::optional<int64_t> integerAfter(std::string_view text, std::string_view key) {
  const size_t at = text.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  size_t i = at + key.size();
  int64_t value = 0;
  const size_t first = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (i - first >= 18) return std::nullopt;
    value = value * 10 + (text[i] - '0');
    ++i;
  }
  if (i == first || i >= text.size()) return std::nullopt;
  if (text[i] != ',' && text[i] != '}' && text[i] != ']') return std::nullopt;
  return value;
}

struct ProcSample {
  bool valid = false;
  int64_t rssKb = 0;
  double cpuSeconds = 0;
};

// VmRSS from /proc/PID/status and utime+stime from /proc/PID/stat.
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

double ownCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void printLatency(const char* what, const LatencySummary& s) {
  std::printf(
      "%s latency (%zu samples): mean %.2f ms, p50 %.2f, p90 %.2f, p99 %.2f, p99.9 %.2f, max %.2f "
      "ms\n",
      what, s.count, s.meanMs, s.p50Ms, s.p90Ms, s.p99Ms, s.p999Ms, s.maxMs);
}

// ---------------------------------------------------------------------------
// Options.

struct Options {
  std::string scenario;
  std::string label;
  int port = 0;
  int pid = 0;
  int64_t n = 1000;
  double settle = -1;  // per-scenario default when negative
  double rate = 0;
  int64_t count = 100;
  int64_t pad = 0;
  int64_t window = -1;  // per-scenario default when negative
  double duration = 10;
  int64_t concurrency = 128;
  double timeout = 120;
  double drain = 5;
  int sources = 4;
  bool rst = false;
  bool tls = false;
};

[[noreturn]] void usage(const char* error) {
  if (error != nullptr) std::fprintf(stderr, "loadgen: %s\n\n", error);
  std::fprintf(stderr,
               "usage: loadgen SCENARIO --port P [options]   (always connects to 127.0.0.1)\n"
               "  connect  --n N [--settle S=2]                  idle connections, RSS per "
               "connection\n"
               "  fanout   --n N --rate R --count M [--pad P] [--window W=4]  broadcast to N\n"
               "           (R=0 saturates, keeping W broadcasts not yet delivered to all)\n"
               "  echo     --n K --window W --duration D [--pad P]             acks round trip\n"
               "common: --pid PID | --pid-file FILE (reads PID=<pid>), --concurrency C=128\n"
               "        (handshakes in flight), --timeout S=120, --drain S=5, --sources K=4\n"
               "        (source addresses 127.0.0.1..K), --label NAME, --rst (close with RST),\n"
               "        --tls (TLS to the server, certificate not verified)\n");
  std::exit(error != nullptr ? 2 : 0);
}

int pidFromFile(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const size_t at = line.find("PID=");
    if (at != std::string::npos) return std::atoi(line.c_str() + at + 4);
  }
  return 0;
}

Options parseOptions(int argc, char** argv) {
  Options o;
  int i = 1;
  if (i < argc && argv[i][0] != '-') o.scenario = argv[i++];
  for (; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") usage(nullptr);
    if (arg == "--rst") {
      o.rst = true;
      continue;
    }
    if (arg == "--tls") {
      o.tls = true;
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
    if (arg == "--scenario") {
      o.scenario = v;
    } else if (arg == "--label") {
      o.label = v;
    } else if (arg == "--port") {
      o.port = static_cast<int>(number());
    } else if (arg == "--pid") {
      o.pid = static_cast<int>(number());
    } else if (arg == "--pid-file") {
      o.pid = pidFromFile(v);
      if (o.pid <= 0) usage("no PID=<pid> line in --pid-file");
    } else if (arg == "--n") {
      o.n = static_cast<int64_t>(number());
    } else if (arg == "--settle") {
      o.settle = number();
    } else if (arg == "--rate") {
      o.rate = number();
    } else if (arg == "--count") {
      o.count = static_cast<int64_t>(number());
    } else if (arg == "--pad") {
      o.pad = static_cast<int64_t>(number());
    } else if (arg == "--window") {
      o.window = static_cast<int64_t>(number());
    } else if (arg == "--duration") {
      o.duration = number();
    } else if (arg == "--concurrency") {
      o.concurrency = static_cast<int64_t>(number());
    } else if (arg == "--timeout") {
      o.timeout = number();
    } else if (arg == "--drain") {
      o.drain = number();
    } else if (arg == "--sources") {
      o.sources = static_cast<int>(number());
    } else {
      usage(("unknown option " + std::string(arg)).c_str());
    }
  }
  if (o.scenario != "connect" && o.scenario != "fanout" && o.scenario != "echo") {
    usage("scenario must be connect, fanout or echo");
  }
  if (o.port <= 0 || o.port > 65535) usage("--port is required");
  if (o.n < 1) usage("--n must be at least 1");
  if (o.sources < 1 || o.sources > 250) usage("--sources must be 1..250");
  if (o.concurrency < 1) o.concurrency = 1;
  if (o.settle < 0) o.settle = o.scenario == "connect" ? 2 : 1;
  if (o.window < 0) o.window = o.scenario == "fanout" ? 4 : 10;
  if (o.scenario != "connect" && o.window < 1) usage("--window must be at least 1");
  if (o.scenario == "fanout" && o.count < 1) usage("--count must be at least 1");
  return o;
}

// ---------------------------------------------------------------------------
// Connections and the event loop.

enum class ConnState : uint8_t {
  kIdle,
  kConnecting,
  kTlsHandshake,  // --tls: TCP is up, the TLS handshake is not done yet
  kUpgrading,
  kWaitOpen,
  kWaitConnect,
  kEstablished,
  kClosed,
};

struct Connection {
  int fd = -1;
  ConnState state = ConnState::kIdle;
  bool fragmented = false;
  bool wasEstablished = false;
  bool dirty = false;    // queued in dirty_ for the flush before epoll_wait
  std::string in;        // bytes received but not yet parsed
  std::string out;       // bytes not yet accepted by the kernel
  std::string partial;   // a fragmented message being reassembled
  std::string key;       // Sec-WebSocket-Key
  SSL* ssl = nullptr;    // --tls: the session, reading and writing memory BIOs
  std::string plainOut;  // --tls: bytes to encrypt before the next send
  int64_t connectNs = 0;
  int64_t lastSeq = -1;  // fanout: highest seq seen
  uint64_t nextAckId = 1;
  std::vector<std::pair<uint64_t, int64_t>> pending;  // echo: ack id, send time
};

struct Counters {
  int64_t launched = 0;
  int64_t inFlight = 0;
  int64_t established = 0;
  int64_t failed = 0;          // refused, 44, 41, closed before 40{...}
  int64_t dropped = 0;         // established, then closed by the server
  int64_t protocolErrors = 0;  // anything the contract does not allow
  int64_t heartbeats = 0;      // `2` answered with `3`
  int64_t wsPings = 0;         // WebSocket pings answered with pongs
  int64_t otherEvents = 0;     // events other than tick
  int64_t delivered = 0;       // fanout: ticks received
  int64_t duplicates = 0;      // fanout: seq at or below one already seen
  int64_t gaps = 0;            // fanout: times a seq skipped ahead
  int64_t gapMissing = 0;      // fanout: seqs skipped by those jumps
  int64_t acked = 0;           // echo: acks matched
  int64_t ackedInWindow = 0;   // echo: acks matched before the send window closed
  int64_t pingInterval = -1;
  int64_t pingTimeout = -1;
};

class LoadGen {
 public:
  explicit LoadGen(Options options) : options_(std::move(options)), rng_(monotonicNs()) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) die("epoll_create1");
    readBuffer_.resize(kReadChunk);
    if (options_.tls) {
      plainBuffer_.resize(kReadChunk);
      // A benchmark against 127.0.0.1 with a throwaway certificate: no verification, no
      // session resumption (every connection makes a full handshake), buffers released
      // while a connection is idle.
      tls_ = SSL_CTX_new(TLS_client_method());
      if (tls_ == nullptr) dieTls("SSL_CTX_new");
      SSL_CTX_set_verify(tls_, SSL_VERIFY_NONE, nullptr);
      SSL_CTX_set_min_proto_version(tls_, TLS1_2_VERSION);
      SSL_CTX_set_session_cache_mode(tls_, SSL_SESS_CACHE_OFF);
      SSL_CTX_set_mode(tls_, SSL_MODE_RELEASE_BUFFERS);
    }
    deadlineNs_ = nowNs() + static_cast<int64_t>(options_.timeout * kNsPerSec);
  }
  ~LoadGen() {
    closeAll();
    if (epoll_ >= 0) close(epoll_);
    if (tls_ != nullptr) SSL_CTX_free(tls_);
  }
  LoadGen(const LoadGen&) = delete;
  LoadGen& operator=(const LoadGen&) = delete;

  int run() {
    if (options_.scenario == "connect") return runConnect();
    if (options_.scenario == "fanout") return runFanout();
    return runEcho();
  }

 private:
  [[noreturn]] static void die(const char* what) {
    std::fprintf(stderr, "loadgen: %s: %s\n", what, std::strerror(errno));
    std::exit(2);
  }

  [[noreturn]] static void dieTls(const char* what) {
    std::fprintf(stderr, "loadgen: %s\n", tlsError(what).c_str());
    std::exit(2);
  }

  // `what` and OpenSSL's first queued error.
  static std::string tlsError(std::string_view what) {
    char reason[256] = "no OpenSSL error queued";
    if (const unsigned long code = ERR_get_error(); code != 0) {
      ERR_error_string_n(code, reason, sizeof reason);
    }
    ERR_clear_error();
    return std::string(what) + ": " + reason;
  }

  void report(int64_t& counter, Connection* c, std::string_view what) {
    ++counter;
    if (reported_++ < kMaxReportedErrors) {
      const long index = c == nullptr ? -1 : static_cast<long>(c - conns_.data());
      std::fprintf(stderr, "loadgen: connection %ld: %.*s\n", index, static_cast<int>(what.size()),
                   what.data());
    }
  }

  // A violation of the contract: counted, reported, connection closed.
  void protocolError(Connection& c, std::string_view what) {
    report(counters_.protocolErrors, &c, std::string("protocol error: ") + std::string(what));
    closeConnection(c);
  }

  // The connection ended before or after it was established.
  void connectionLost(Connection& c, std::string_view what) {
    if (c.state == ConnState::kClosed) return;
    if (c.wasEstablished) {
      if (!tearingDown_)
        report(counters_.dropped, &c, std::string("dropped: ") + std::string(what));
    } else {
      report(counters_.failed, &c, std::string("failed: ") + std::string(what));
    }
    closeConnection(c);
  }

  void closeConnection(Connection& c) {
    if (c.state == ConnState::kClosed || c.fd < 0) {
      c.state = ConnState::kClosed;
      return;
    }
    if (!c.wasEstablished && c.state != ConnState::kIdle) --counters_.inFlight;
    if (options_.rst) {
      linger l{1, 0};
      setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    } else if (c.ssl != nullptr && c.out.empty() && SSL_is_init_finished(c.ssl)) {
      // A clean close says so (close_notify), as FIN does for plain TCP: best effort,
      // only when nothing else is waiting to be sent.
      ERR_clear_error();
      SSL_shutdown(c.ssl);
      pullCipher(c);
      if (!c.out.empty()) send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    close(c.fd);
    c.fd = -1;
    c.state = ConnState::kClosed;
    if (c.ssl != nullptr) {
      SSL_free(c.ssl);  // frees its two memory BIOs
      c.ssl = nullptr;
    }
    std::string().swap(c.in);
    std::string().swap(c.out);
    std::string().swap(c.partial);
    std::string().swap(c.plainOut);
  }

  void closeAll() {
    tearingDown_ = true;
    for (auto& c : conns_) closeConnection(c);
  }

  // Opens connection `index` from source address 127.0.0.(1 + index % sources).
  void openConnection(size_t index) {
    Connection& c = conns_[index];
    ++counters_.launched;
    ++counters_.inFlight;
    c.state = ConnState::kConnecting;
    c.connectNs = nowNs();
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      connectionLost(c, std::string("socket: ") + std::strerror(errno));
      return;
    }
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in source{};
    source.sin_family = AF_INET;
    source.sin_addr.s_addr = htonl(0x7F000001u + static_cast<uint32_t>(index % options_.sources));
    if (options_.sources > 1) {
      // Let connect() pick the port per destination, so each source address has
      // its own full ephemeral range.
      setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      if (bind(c.fd, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) {
        connectionLost(c, std::string("bind: ") + std::strerror(errno));
        return;
      }
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = index;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev) != 0) die("epoll_ctl");
    if (connect(c.fd, reinterpret_cast<const sockaddr*>(&target_), sizeof target_) != 0 &&
        errno != EINPROGRESS) {
      connectionLost(c, std::string("connect: ") + std::strerror(errno));
    }
    // Completion (or failure) is reported by EPOLLOUT.
  }

  // --tls: the TCP connection is up; the ClientHello goes out with the next flush and the
  // Upgrade request once the handshake is done (readTls).
  void startTls(Connection& c) {
    c.ssl = SSL_new(tls_);
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    if (c.ssl == nullptr || in == nullptr || out == nullptr) dieTls("SSL_new");
    SSL_set_bio(c.ssl, in, out);
    SSL_set_connect_state(c.ssl);
    c.state = ConnState::kTlsHandshake;
    ERR_clear_error();
    const int r = SSL_do_handshake(c.ssl);
    if (r != 1 && SSL_get_error(c.ssl, r) != SSL_ERROR_WANT_READ) {
      connectionLost(c, tlsError("TLS handshake failed"));
      return;
    }
    queueCipher(c);
  }

  void sendUpgrade(Connection& c) {
    uint8_t nonce[16];
    for (int i = 0; i < 16; i += 8) {
      const uint64_t r = rng_.next();
      std::memcpy(nonce + i, &r, 8);
    }
    c.key = base64(nonce, sizeof nonce);
    std::string request = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ";
    request += kTargetAddress;
    request += ":" + std::to_string(options_.port);
    request += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + c.key +
               "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    c.state = ConnState::kUpgrading;
    write(c, request);
  }

  // Queues bytes; every connection written to in a loop turn is flushed once
  // before the next epoll_wait (one send() per connection per turn). With --tls
  // they are encrypted at that flush, all of the turn's bytes in one SSL_write.
  void write(Connection& c, std::string_view bytes) {
    if (c.state == ConnState::kClosed) return;
    markDirty(c);
    (c.ssl != nullptr ? c.plainOut : c.out).append(bytes);
  }

  void markDirty(Connection& c) {
    if (c.out.empty() && !c.dirty) {
      c.dirty = true;
      dirty_.push_back(static_cast<uint32_t>(&c - conns_.data()));
    }
  }

  // --tls: moves the records OpenSSL has written to the connection's send queue.
  void pullCipher(Connection& c) {
    BIO* wbio = SSL_get_wbio(c.ssl);
    const size_t pending = BIO_ctrl_pending(wbio);
    if (pending == 0) return;
    const size_t at = c.out.size();
    c.out.resize(at + pending);
    const int n = BIO_read(wbio, c.out.data() + at, static_cast<int>(pending));
    c.out.resize(at + static_cast<size_t>(std::max(n, 0)));
  }

  // --tls: the same, for records written outside a flush (the handshake).
  void queueCipher(Connection& c) {
    if (BIO_ctrl_pending(SSL_get_wbio(c.ssl)) == 0) return;
    markDirty(c);
    pullCipher(c);
  }

  void flushDirty() {
    for (size_t i = 0; i < dirty_.size(); ++i) {
      Connection& c = conns_[dirty_[i]];
      c.dirty = false;
      if (c.state != ConnState::kClosed) flush(c);
    }
    dirty_.clear();
  }

  void flush(Connection& c) {
    if (c.ssl != nullptr) {
      if (!c.plainOut.empty() && SSL_is_init_finished(c.ssl)) {
        // Memory BIOs never block: the whole buffer becomes records at once.
        ERR_clear_error();
        if (SSL_write(c.ssl, c.plainOut.data(), static_cast<int>(c.plainOut.size())) <= 0) {
          protocolError(c, tlsError("TLS write failed"));
          return;
        }
        c.plainOut.clear();
      }
      pullCipher(c);
    }
    size_t sent = 0;
    while (sent < c.out.size()) {
      const ssize_t n = send(c.fd, c.out.data() + sent, c.out.size() - sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;  // EPOLLOUT resumes
        connectionLost(c, std::string("send: ") + std::strerror(errno));
        return;
      }
      sent += static_cast<size_t>(n);
    }
    c.out.erase(0, sent);
  }

  // A masked client frame (RFC 6455 5.3).
  void sendFrame(Connection& c, uint8_t opcode, std::string_view payload) {
    std::string& f = frameScratch_;
    f.clear();
    f.push_back(static_cast<char>(0x80 | opcode));
    const size_t size = payload.size();
    if (size < 126) {
      f.push_back(static_cast<char>(0x80 | size));
    } else if (size <= 0xFFFF) {
      f.push_back(static_cast<char>(0x80 | 126));
      f.push_back(static_cast<char>(size >> 8));
      f.push_back(static_cast<char>(size & 0xFF));
    } else {
      f.push_back(static_cast<char>(0x80 | 127));
      for (int i = 7; i >= 0; --i)
        f.push_back(static_cast<char>((uint64_t{size} >> (i * 8)) & 0xFF));
    }
    const uint32_t maskWord = static_cast<uint32_t>(rng_.next());
    char mask[4];
    std::memcpy(mask, &maskWord, 4);
    f.append(mask, 4);
    const size_t start = f.size();
    f.append(payload);
    for (size_t i = 0; i < size; ++i) f[start + i] ^= mask[i & 3];
    write(c, f);
  }

  void sendText(Connection& c, std::string_view text) { sendFrame(c, 0x1, text); }

  void onEvent(size_t index, uint32_t events) {
    Connection& c = conns_[index];
    if (c.state == ConnState::kClosed || c.state == ConnState::kIdle) return;
    if (c.state == ConnState::kConnecting) {
      if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
      int error = 0;
      socklen_t len = sizeof error;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &len);
      if (error != 0) {
        connectionLost(c, std::string("connect: ") + std::strerror(error));
        return;
      }
      if (options_.tls) {
        startTls(c);
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
        const bool open = c.ssl != nullptr ? readTls(c, readBuffer_.data(), static_cast<size_t>(n))
                                           : consume(c, readBuffer_.data(), static_cast<size_t>(n));
        if (!open) return;
        // Edge-triggered: a short read means the socket was drained; new bytes
        // raise a new edge.
        if (static_cast<size_t>(n) < readBuffer_.size()) return;
        continue;
      }
      if (n == 0) {
        connectionLost(c, "closed by the server");
        return;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      connectionLost(c, std::string("recv: ") + std::strerror(errno));
      return;
    }
  }

  // --tls: records received. Finishes the handshake (then sends the Upgrade request)
  // and parses what they decrypt to, a buffer at a time. False once the connection is
  // closed.
  bool readTls(Connection& c, const char* data, size_t size) {
    BIO_write(SSL_get_rbio(c.ssl), data, static_cast<int>(size));
    if (c.state == ConnState::kTlsHandshake) {
      ERR_clear_error();
      const int r = SSL_do_handshake(c.ssl);
      queueCipher(c);
      if (r != 1) {
        const int error = SSL_get_error(c.ssl, r);
        if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return true;
        connectionLost(c, tlsError("TLS handshake failed"));
        return false;
      }
      if (tlsVersion_.empty()) {
        tlsVersion_ = std::string(SSL_get_version(c.ssl)) + " " + SSL_get_cipher_name(c.ssl);
      }
      sendUpgrade(c);
    }
    for (;;) {
      size_t have = 0;
      int error = SSL_ERROR_NONE;
      while (have < plainBuffer_.size()) {
        ERR_clear_error();
        const int n = SSL_read(c.ssl, plainBuffer_.data() + have,
                               static_cast<int>(plainBuffer_.size() - have));
        if (n <= 0) {
          error = SSL_get_error(c.ssl, n);
          break;
        }
        have += static_cast<size_t>(n);
      }
      if (have > 0 && !consume(c, plainBuffer_.data(), have)) return false;
      if (error == SSL_ERROR_NONE) continue;  // the buffer was full: read on
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) break;
      if (error == SSL_ERROR_ZERO_RETURN) {
        connectionLost(c, "TLS close_notify from the server");
      } else {
        protocolError(c, tlsError("TLS read failed"));
      }
      return false;
    }
    queueCipher(c);  // what reading produced, if anything (a KeyUpdate answer)
    return true;
  }

  // Parses what can be parsed; keeps the rest. False once the connection is closed.
  bool consume(Connection& c, const char* data, size_t size) {
    if (c.in.empty()) {
      const size_t used = parse(c, data, size);
      if (c.state == ConnState::kClosed) return false;
      if (used < size) c.in.assign(data + used, size - used);
      return true;
    }
    c.in.append(data, size);
    const size_t used = parse(c, c.in.data(), c.in.size());
    if (c.state == ConnState::kClosed) return false;
    c.in.erase(0, used);
    return true;
  }

  size_t parse(Connection& c, const char* data, size_t size) {
    size_t pos = 0;
    if (c.state == ConnState::kUpgrading) {
      const std::string_view view(data, size);
      const size_t end = view.find("\r\n\r\n");
      if (end == std::string_view::npos) {
        if (size > kMaxHttpResponse) protocolError(c, "HTTP response headers too long");
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
        protocolError(c, "binary frame (the contract uses text frames only)");
        return false;
      case 0x8:
        connectionLost(c, "WebSocket close frame");
        return false;
      case 0x9:
        if (!fin || payload.size() > 125) {
          protocolError(c, "invalid ping frame");
          return false;
        }
        ++counters_.wsPings;
        sendFrame(c, 0xA, payload);
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
        const auto interval = integerAfter(m, "\"pingInterval\":");
        const auto timeout = integerAfter(m, "\"pingTimeout\":");
        if (!interval || !timeout || m.find("\"sid\":") == std::string_view::npos) {
          protocolError(c, "open packet without sid/pingInterval/pingTimeout");
          return;
        }
        counters_.pingInterval = *interval;
        counters_.pingTimeout = *timeout;
        c.state = ConnState::kWaitConnect;
        sendText(c, "40");
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
        connectionLost(c, "Engine.IO close packet");
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
        c.state = ConnState::kEstablished;
        c.wasEstablished = true;
        --counters_.inFlight;
        ++counters_.established;
        handshakeNs_.push_back(nowNs() - c.connectNs);
        return;
      case '4':
        connectionLost(c, "CONNECT_ERROR " + std::string(p.substr(0, 80)));
        return;
      case '1':
        connectionLost(c, "DISCONNECT from the server");
        return;
      case '2':
        if (p.rfind("2[\"tick\",", 0) == 0) {
          onTick(c, p);
        } else {
          ++counters_.otherEvents;
        }
        return;
      case '3':
        onAck(c, p.substr(1));
        return;
      default:
        protocolError(c, "unexpected Socket.IO packet " + std::string(p.substr(0, 40)));
        return;
    }
  }

  void onTick(Connection& c, std::string_view p) {
    const auto seq = integerAfter(p, "\"seq\":");
    const auto ts = integerAfter(p, "\"ts\":");
    if (!seq || !ts) {
      protocolError(c, "tick without plain integer seq/ts: " + std::string(p.substr(0, 80)));
      return;
    }
    if (*seq >= static_cast<int64_t>(perSeqDelivered_.size())) {
      protocolError(c, "tick with a seq never sent: " + std::to_string(*seq));
      return;
    }
    const int64_t now = nowNs();
    latencyNs_.push_back(now - *ts);
    ++counters_.delivered;
    lastDeliveryNs_ = now;
    if (*seq <= c.lastSeq) {
      ++counters_.duplicates;
    } else {
      if (*seq > c.lastSeq + 1) {
        ++counters_.gaps;
        counters_.gapMissing += *seq - c.lastSeq - 1;
      }
      c.lastSeq = *seq;
    }
    if (++perSeqDelivered_[static_cast<size_t>(*seq)] == receivers_) ++completedBroadcasts_;
  }

  void onAck(Connection& c, std::string_view p) {
    size_t i = 0;
    uint64_t id = 0;
    while (i < p.size() && p[i] >= '0' && p[i] <= '9')
      id = id * 10 + static_cast<uint64_t>(p[i++] - '0');
    if (i == 0 || i >= p.size() || p[i] != '[' || p.find("\"t\":") == std::string_view::npos) {
      protocolError(c, "malformed ack " + std::string(p.substr(0, 60)));
      return;
    }
    auto it = std::find_if(c.pending.begin(), c.pending.end(),
                           [id](const auto& entry) { return entry.first == id; });
    if (it == c.pending.end()) {
      protocolError(c, "ack for an id never sent: " + std::to_string(id));
      return;
    }
    const int64_t now = nowNs();
    latencyNs_.push_back(now - it->second);
    *it = c.pending.back();
    c.pending.pop_back();
    ++counters_.acked;
    if (echoSending_) {
      ++counters_.ackedInWindow;
      sendEcho(c);
    }
  }

  void sendEcho(Connection& c) {
    const uint64_t id = c.nextAckId++;
    const int64_t now = nowNs();
    std::string m = "42" + std::to_string(id) + "[\"echo\",{\"t\":" + std::to_string(now) +
                    ",\"pad\":\"" + pad_ + "\"}]";
    c.pending.emplace_back(id, now);
    sendText(c, m);
  }

  void sendBroadcast(Connection& trigger, int64_t seq) {
    std::string m = "42[\"bench:broadcast\",{\"seq\":" + std::to_string(seq) +
                    ",\"ts\":" + std::to_string(nowNs()) + ",\"pad\":\"" + pad_ + "\"}]";
    sendText(trigger, m);
  }

  // Runs the loop until `done` is true. `pump` runs every turn (launching
  // connections, sending on schedule) and may lower wakeNs_ for a timely turn.
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
        std::fprintf(stderr, "loadgen: global --timeout of %.0f s expired\n", options_.timeout);
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
      for (int i = 0; i < n; ++i)
        onEvent(static_cast<size_t>(events[i].data.u64), events[i].events);
    }
  }

  void idle(double secondsToWait) {
    const int64_t until = nowNs() + static_cast<int64_t>(secondsToWait * kNsPerSec);
    loop([&] { return nowNs() >= until; }, [&] { wakeNs_ = std::min(wakeNs_, until); });
  }

  // Opens the first `count` connections with at most --concurrency handshakes in
  // flight. True when every one of them was established.
  bool connectAll(int64_t count) {
    conns_.resize(static_cast<size_t>(count));
    handshakeNs_.reserve(static_cast<size_t>(count));
    const auto pump = [&] {
      while (counters_.launched < count && counters_.inFlight < options_.concurrency) {
        openConnection(static_cast<size_t>(counters_.launched));
      }
    };
    const auto done = [&] { return counters_.launched == count && counters_.inFlight == 0; };
    if (!loop(done, pump)) return false;
    return counters_.established == count;
  }

  void raiseFileLimit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
    const auto needed = static_cast<rlim_t>(options_.n + 64);
    if (limit.rlim_cur < needed) {
      std::fprintf(
          stderr, "loadgen: open-file limit %llu is below the %lld connections asked for\n",
          static_cast<unsigned long long>(limit.rlim_cur), static_cast<long long>(options_.n));
    }
  }

  void prepare() {
    raiseFileLimit();
    target_.sin_family = AF_INET;
    target_.sin_port = htons(static_cast<uint16_t>(options_.port));
    inet_pton(AF_INET, kTargetAddress, &target_.sin_addr);
    pad_.assign(static_cast<size_t>(options_.pad), 'x');
  }

  JsonLine commonJson() {
    JsonLine j;
    j.add("scenario", options_.scenario);
    j.add("label", options_.label);
    j.add("n", options_.n);
    if (options_.tls) j.add("tls", tlsVersion_);
    return j;
  }

  void addCounters(JsonLine& j) {
    j.add("established", counters_.established)
        .add("failed", counters_.failed)
        .add("dropped", counters_.dropped)
        .add("protocol_errors", counters_.protocolErrors)
        .add("timed_out", timedOut_)
        .add("ping_interval", counters_.pingInterval)
        .add("ping_timeout", counters_.pingTimeout);
  }

  void warnHeartbeat() {
    if (counters_.pingInterval >= 0 && (counters_.pingInterval != kExpectedPingInterval ||
                                        counters_.pingTimeout != kExpectedPingTimeout)) {
      std::printf("note: server uses pingInterval %" PRId64 " / pingTimeout %" PRId64
                  " (contract default 25000/20000)\n",
                  counters_.pingInterval, counters_.pingTimeout);
    }
  }

  bool healthy() const {
    return !timedOut_ && counters_.failed == 0 && counters_.dropped == 0 &&
           counters_.protocolErrors == 0;
  }

  int finish(JsonLine& j, bool ok) {
    warnHeartbeat();
    if (options_.tls) std::printf("tls: %s\n", tlsVersion_.c_str());
    j.add("ok", ok);
    std::printf("%s\n", j.str().c_str());
    std::fflush(stdout);
    if (counters_.protocolErrors > 0) return 1;
    if (timedOut_) return 3;
    return ok ? 0 : 1;
  }

  // -------------------------------------------------------------------------

  int runConnect() {
    prepare();
    const ProcSample before = sampleProcess(options_.pid);
    const double ownBefore = ownCpuSeconds();
    const int64_t t0 = nowNs();
    const bool allUp = connectAll(options_.n);
    const int64_t elapsed = nowNs() - t0;
    const ProcSample afterConnect = sampleProcess(options_.pid);
    const double ownCpu = ownCpuSeconds() - ownBefore;
    if (allUp) idle(options_.settle);
    const ProcSample after = sampleProcess(options_.pid);
    const LatencySummary handshake = summarize(handshakeNs_);

    const double secs = seconds(elapsed);
    const double rate = static_cast<double>(counters_.established) / secs;
    std::printf("connect %s: %" PRId64 "/%" PRId64
                " established in %.3f s (%.0f connections/s), "
                "%" PRId64 " failed, %" PRId64 " protocol errors, concurrency %" PRId64 "\n",
                options_.label.c_str(), counters_.established, options_.n, secs, rate,
                counters_.failed, counters_.protocolErrors, options_.concurrency);
    printLatency("handshake", handshake);
    JsonLine j = commonJson();
    j.add("concurrency", options_.concurrency)
        .add("connect_s", secs)
        .add("connections_per_s", rate)
        .add("settle_s", options_.settle)
        .addLatency("handshake", handshake)
        .add("loadgen_cpu_s", ownCpu);
    if (before.valid && after.valid && counters_.established > 0) {
      const double perConn = static_cast<double>(after.rssKb - before.rssKb) * 1024.0 /
                             static_cast<double>(counters_.established);
      const double cpu = afterConnect.cpuSeconds - before.cpuSeconds;
      std::printf(
          "server RSS %.1f MB -> %.1f MB after %.1f s settle: %.0f bytes (%.2f KB) per "
          "connection; server CPU %.2f s to accept (%.1f us per connection); loadgen CPU "
          "%.2f s\n",
          before.rssKb / 1024.0, after.rssKb / 1024.0, options_.settle, perConn, perConn / 1024.0,
          cpu, cpu * 1e6 / static_cast<double>(counters_.established), ownCpu);
      j.add("rss_before_kb", before.rssKb)
          .add("rss_after_kb", after.rssKb)
          .add("bytes_per_conn", perConn)
          .add("server_cpu_s", cpu)
          .add("server_cpu_us_per_conn", cpu * 1e6 / static_cast<double>(counters_.established));
    } else {
      std::printf("server not measured (no --pid or process gone)\n");
      j.addNull("bytes_per_conn").addNull("server_cpu_s");
    }
    addCounters(j);
    return finish(j, allUp && healthy());
  }

  int runFanout() {
    prepare();
    receivers_ = options_.n;
    perSeqDelivered_.assign(static_cast<size_t>(options_.count), 0);
    const uint64_t expected =
        static_cast<uint64_t>(options_.n) * static_cast<uint64_t>(options_.count);
    latencyNs_.reserve(static_cast<size_t>(std::min<uint64_t>(expected, 64ull << 20)));
    const bool allUp = connectAll(options_.n);
    std::printf("fanout %s: %" PRId64 "/%" PRId64 " connected (%" PRId64 " failed)\n",
                options_.label.c_str(), counters_.established, options_.n, counters_.failed);
    if (!allUp) {
      JsonLine j = commonJson();
      addCounters(j);
      return finish(j, false);
    }
    idle(options_.settle);

    // Connection 0 is the trigger; it is also one of the N receivers, so each
    // broadcast is expected exactly N times.
    Connection& trigger = conns_[0];
    const bool saturate = options_.rate <= 0;
    const int64_t period = saturate ? 0 : static_cast<int64_t>(kNsPerSec / options_.rate);
    int64_t sent = 0;
    const ProcSample before = sampleProcess(options_.pid);
    const double ownBefore = ownCpuSeconds();
    const int64_t t0 = nowNs();
    int64_t lastSendNs = t0;
    int64_t lastProgressNs = t0;
    int64_t lastDelivered = 0;
    bool stalled = false;

    const auto pump = [&] {
      const int64_t now = nowNs();
      if (counters_.delivered != lastDelivered) {
        lastDelivered = counters_.delivered;
        lastProgressNs = now;
      }
      if (trigger.state != ConnState::kEstablished) return;
      if (saturate) {
        while (sent < options_.count && sent - completedBroadcasts_ < options_.window) {
          sendBroadcast(trigger, sent++);
          lastSendNs = nowNs();
        }
      } else {
        while (sent < options_.count && now >= t0 + sent * period) {
          sendBroadcast(trigger, sent++);
          lastSendNs = nowNs();
        }
        if (sent < options_.count) wakeNs_ = std::min(wakeNs_, t0 + sent * period);
      }
    };
    const auto done = [&] {
      if (static_cast<uint64_t>(counters_.delivered) >= expected) return true;
      if (trigger.state != ConnState::kEstablished) return true;
      const int64_t now = nowNs();
      const int64_t drainNs = static_cast<int64_t>(options_.drain * kNsPerSec);
      // Nothing new for --drain seconds after the last send: the rest is lost.
      if (now - std::max(lastProgressNs, lastSendNs) > drainNs &&
          (sent == options_.count || saturate)) {
        stalled = true;
        return true;
      }
      return false;
    };
    loop(done, pump);
    const int64_t end = counters_.delivered > 0 ? lastDeliveryNs_ : nowNs();
    const ProcSample after = sampleProcess(options_.pid);
    const double ownCpu = ownCpuSeconds() - ownBefore;

    const double secs = seconds(end - t0);
    const int64_t lost = static_cast<int64_t>(expected) - counters_.delivered;
    const double rate = static_cast<double>(counters_.delivered) / secs;
    const LatencySummary latency = summarize(latencyNs_);
    char mode[64];
    if (saturate) {
      std::snprintf(mode, sizeof mode, "saturated, window %" PRId64, options_.window);
    } else {
      std::snprintf(mode, sizeof mode, "%g/s", options_.rate);
    }
    std::printf("fanout %s: %" PRId64 " broadcasts x %" PRId64 " receivers (%s, pad %" PRId64
                "): %" PRId64 " delivered in %.3f s = %.0f msgs/s; lost %" PRId64
                ", duplicates/reordered %" PRId64 ", gaps %" PRId64 " (%" PRId64 " seqs)%s\n",
                options_.label.c_str(), sent, options_.n, mode, options_.pad, counters_.delivered,
                secs, rate, lost, counters_.duplicates, counters_.gaps, counters_.gapMissing,
                stalled ? " (stalled)" : "");
    printLatency("delivery", latency);
    JsonLine j = commonJson();
    j.add("rate", options_.rate)
        .add("window", saturate ? options_.window : int64_t{0})
        .add("count", options_.count)
        .add("pad", options_.pad)
        .add("sent", sent)
        .add("expected", static_cast<int64_t>(expected))
        .add("delivered", counters_.delivered)
        .add("lost", lost)
        .add("duplicates", counters_.duplicates)
        .add("gaps", counters_.gaps)
        .add("gap_missing", counters_.gapMissing)
        .add("elapsed_s", secs)
        .add("msgs_per_s", rate)
        .addLatency("latency", latency)
        .add("loadgen_cpu_s", ownCpu);
    if (before.valid && after.valid && counters_.delivered > 0) {
      const double cpu = after.cpuSeconds - before.cpuSeconds;
      const double perMsgUs = cpu * 1e6 / static_cast<double>(counters_.delivered);
      std::printf(
          "server CPU %.2f s = %.3f us per delivered message; server RSS %.1f MB; "
          "loadgen CPU %.2f s\n",
          cpu, perMsgUs, after.rssKb / 1024.0, ownCpu);
      j.add("server_cpu_s", cpu)
          .add("server_cpu_us_per_msg", perMsgUs)
          .add("rss_after_kb", after.rssKb);
    } else {
      std::printf("server not measured (no --pid or process gone); loadgen CPU %.2f s\n", ownCpu);
      j.addNull("server_cpu_s").addNull("server_cpu_us_per_msg");
    }
    addCounters(j);
    const bool ok = healthy() && lost == 0 && counters_.duplicates == 0 && counters_.gaps == 0;
    return finish(j, ok);
  }

  int runEcho() {
    prepare();
    const bool allUp = connectAll(options_.n);
    std::printf("echo %s: %" PRId64 "/%" PRId64 " connected (%" PRId64 " failed)\n",
                options_.label.c_str(), counters_.established, options_.n, counters_.failed);
    if (!allUp) {
      JsonLine j = commonJson();
      addCounters(j);
      return finish(j, false);
    }
    idle(options_.settle);
    handshakeNs_.clear();
    latencyNs_.reserve(1 << 20);

    const ProcSample before = sampleProcess(options_.pid);
    const double ownBefore = ownCpuSeconds();
    const int64_t t0 = nowNs();
    const int64_t stopNs = t0 + static_cast<int64_t>(options_.duration * kNsPerSec);
    echoSending_ = true;
    for (auto& c : conns_) {
      for (int64_t w = 0; w < options_.window && c.state == ConnState::kEstablished; ++w) {
        sendEcho(c);
      }
    }
    loop([&] { return nowNs() >= stopNs; }, [&] { wakeNs_ = std::min(wakeNs_, stopNs); });
    echoSending_ = false;
    const ProcSample after = sampleProcess(options_.pid);
    const double ownCpu = ownCpuSeconds() - ownBefore;
    // Collect the acks still outstanding so their latency counts too.
    const int64_t drainUntil = nowNs() + static_cast<int64_t>(options_.drain * kNsPerSec);
    const auto outstanding = [&] {
      int64_t total = 0;
      for (const auto& c : conns_) {
        if (c.state == ConnState::kEstablished) total += static_cast<int64_t>(c.pending.size());
      }
      return total;
    };
    loop([&] { return outstanding() == 0 || nowNs() >= drainUntil; },
         [&] { wakeNs_ = std::min(wakeNs_, drainUntil); });
    const int64_t unanswered = outstanding();

    const double secs = options_.duration;
    const double rate = static_cast<double>(counters_.ackedInWindow) / secs;
    const LatencySummary latency = summarize(latencyNs_);
    std::printf("echo %s: %" PRId64 " clients x %" PRId64 " outstanding (pad %" PRId64 "): %" PRId64
                " round trips in %.1f s = %.0f round trips/s; unanswered %" PRId64 "\n",
                options_.label.c_str(), options_.n, options_.window, options_.pad,
                counters_.ackedInWindow, secs, rate, unanswered);
    printLatency("ack", latency);
    JsonLine j = commonJson();
    j.add("window", options_.window)
        .add("pad", options_.pad)
        .add("duration_s", secs)
        .add("round_trips", counters_.ackedInWindow)
        .add("round_trips_per_s", rate)
        .add("unanswered", unanswered)
        .addLatency("latency", latency)
        .add("loadgen_cpu_s", ownCpu);
    if (before.valid && after.valid && counters_.ackedInWindow > 0) {
      const double cpu = after.cpuSeconds - before.cpuSeconds;
      const double perTripUs = cpu * 1e6 / static_cast<double>(counters_.ackedInWindow);
      std::printf("server CPU %.2f s = %.2f us per round trip; loadgen CPU %.2f s\n", cpu,
                  perTripUs, ownCpu);
      j.add("server_cpu_s", cpu).add("server_cpu_us_per_trip", perTripUs);
    } else {
      std::printf("server not measured (no --pid or process gone); loadgen CPU %.2f s\n", ownCpu);
      j.addNull("server_cpu_s");
    }
    addCounters(j);
    return finish(j, healthy() && unanswered == 0);
  }

  Options options_;
  XorShift rng_;
  int epoll_ = -1;
  sockaddr_in target_{};
  std::vector<Connection> conns_;
  std::vector<char> readBuffer_;
  std::vector<char> plainBuffer_;  // --tls: what SSL_read decrypts
  SSL_CTX* tls_ = nullptr;         // --tls
  std::string tlsVersion_;         // --tls: protocol and cipher of the first handshake
  std::string frameScratch_;
  std::vector<uint32_t> dirty_;
  std::string pad_;
  Counters counters_;
  std::vector<int64_t> handshakeNs_;
  std::vector<int64_t> latencyNs_;
  std::vector<int64_t> perSeqDelivered_;
  int64_t receivers_ = 0;
  int64_t completedBroadcasts_ = 0;
  int64_t lastDeliveryNs_ = 0;
  int64_t deadlineNs_ = 0;
  int64_t wakeNs_ = 0;
  int reported_ = 0;
  bool timedOut_ = false;
  bool tearingDown_ = false;
  bool echoSending_ = false;
};

bool selfTest() {
  // RFC 6455 section 1.3.
  return websocketAccept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  if (!selfTest()) {
    std::fprintf(stderr, "loadgen: SHA-1/base64 self-test failed\n");
    return 2;
  }
  const Options options = parseOptions(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  LoadGen gen(options);
  return gen.run();
}
