#include "server/print_command.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include "app/ticket.hpp"
#include "server/tool_store.hpp"
#include "store/await.hpp"
#include "store/errors.hpp"

namespace brigade::server {
namespace {

namespace json = boost::json;
volatile std::sig_atomic_t stopping = 0;

struct State {
  std::string epoch;
  int64_t seq = 0;                   // every ticket up to here was taken by the printer
  std::optional<int64_t> in_flight;  // the ticket being sent when the state was written
};

std::optional<State> loadState(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  const json::object* o = !ec ? v.if_object() : nullptr;
  if (!o || !o->contains("epoch") || !o->at("epoch").is_string() || !o->contains("seq") ||
      !o->at("seq").is_int64()) {
    error = "the state file " + path + " is not Brigade's (remove it to start from now)";
    return std::nullopt;
  }
  State s{std::string(o->at("epoch").get_string()), o->at("seq").get_int64(), std::nullopt};
  if (const auto* f = o->if_contains("in_flight"); f && f->is_int64()) s.in_flight = f->get_int64();
  return s;
}

// Written whole and renamed into place, with fsync: a crash leaves the old or the new state.
bool saveState(const std::string& path, const State& s) {
  json::object o{{"epoch", s.epoch}, {"seq", s.seq}};
  o["in_flight"] = s.in_flight ? json::value(*s.in_flight) : json::value(nullptr);
  const std::string tmp = path + ".tmp";
  const std::string text = json::serialize(o) + "\n";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) return false;
  auto dir = std::filesystem::path(path).parent_path();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

bool waitFor(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1 && (p.revents & events);
}

// Sends one ticket and waits for the printer's status byte. `wrote` says whether any byte
// reached the printer (then the ticket may have printed even if this fails).
bool sendTicket(const std::string& host, const std::string& port, const std::string& bytes,
                bool& wrote, std::string& error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    error = gai_strerror(rc);
    return false;
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, ::freeaddrinfo);
  int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::strerror(errno);
    return false;
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::connect(fd, found->ai_addr, found->ai_addrlen) != 0 && errno != EINPROGRESS) {
    error = std::strerror(errno);
    return false;
  }
  int soError = 0;
  socklen_t len = sizeof soError;
  if (!waitFor(fd, POLLOUT, kPrinterConnectTimeout) ||
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len) != 0 || soError != 0) {
    error = soError ? std::strerror(soError) : "connect timed out";
    return false;
  }
  const std::string all = bytes + app::kStatusRequest;
  size_t sent = 0;
  while (sent < all.size()) {
    if (!waitFor(fd, POLLOUT, kPrinterAckTimeout)) {
      error = "the printer stopped taking data";
      return false;
    }
    ssize_t n = ::send(fd, all.data() + sent, all.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      error = std::strerror(errno);
      return false;
    }
    sent += static_cast<size_t>(n);
    wrote = true;
  }
  char status = 0;
  if (!waitFor(fd, POLLIN, kPrinterAckTimeout) || ::recv(fd, &status, 1, 0) != 1) {
    error = "no status from the printer";
    return false;
  }
  return true;
}

void sleepFor(std::chrono::milliseconds ms) {
  for (auto left = ms; left.count() > 0 && !stopping; left -= std::chrono::milliseconds(50)) {
    std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(50)));
  }
}

}  // namespace

int runPrintCommand(int argc, char** argv) {
  CLI::App cli{"Brigade kitchen tickets: every accepted order, on a network receipt printer"};
  std::string printer, statePath, db, dataDir = "./data";
  cli.add_option("--printer", printer, "HOST:PORT of the printer (raw ESC/POS, usually 9100)")
      ->required();
  cli.add_option("--state", statePath, "where the position in the change stream is kept")
      ->required();
  cli.add_option("--data-dir", dataDir, "the server's data folder (SQLite)")
      ->envname("BRIGADE_DATA_DIR")
      ->capture_default_str();
  cli.add_option("--db", db, "postgres://... when the nodes share PostgreSQL")
      ->envname("BRIGADE_DB");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return cli.exit(e);
    std::cerr << "brigade: " << e.what() << " (brigade print --help)\n";
    return 1;
  }
  const auto colon = printer.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == printer.size()) {
    std::cerr << "brigade: --printer: HOST:PORT\n";
    return 1;
  }
  const std::string host = printer.substr(0, colon), port = printer.substr(colon + 1);
  std::signal(SIGTERM, [](int) { stopping = 1; });
  std::signal(SIGINT, [](int) { stopping = 1; });

  std::unique_ptr<store::Store> store;
  try {
    store = openToolStore(db, dataDir, "print", false);
  } catch (const std::exception& e) {
    std::cerr << "brigade: cannot open the database: " << e.what() << "\n";
    return 2;
  }
  std::string stateError;
  auto loaded = loadState(statePath, stateError);
  if (!stateError.empty()) {
    std::cerr << "brigade: " << stateError << "\n";
    return 2;
  }
  State state;
  if (loaded) {
    state = *loaded;
    if (state.epoch != store->epoch()) {
      std::cerr << "brigade: the database's change stream is not the one " << statePath
                << " follows (restored or replaced); remove the file to start from now\n";
      return 2;
    }
  } else {
    auto head = store::await<store::ChangePage>(
        [&](auto done) { store->readChanges(INT64_MAX / 2, 1, done); });
    state = State{store->epoch(), head ? head->last_seq : store->headSeq(), std::nullopt};
    if (!saveState(statePath, state)) {
      std::cerr << "brigade: cannot write " << statePath << "\n";
      return 2;
    }
  }
  // Allergens by item, for the tickets; kept current from the menu's changes.
  std::map<int64_t, std::vector<std::string>> allergens;
  if (auto menu = store::await<store::Menu>([&](auto done) { store->listMenu(done); })) {
    for (const auto& section : menu->categories) {
      for (const auto& item : section.items) allergens[item.id] = item.allergens;
    }
  }
  std::cout << "brigade print: following from seq " << state.seq << " to " << printer << std::endl;

  while (!stopping) {
    auto page = store::await<store::ChangePage>(
        [&](auto done) { store->readChanges(state.seq, 100, done); });
    if (!page) {
      if (page.error().code == store::errc::kHistoryLost) {
        std::cerr << "brigade: changes after seq " << state.seq
                  << " were removed by retention: tickets may be missing; remove the state "
                     "file to start from now\n";
        return 3;
      }
      std::cerr << "brigade print: " << page.error().message << "; retrying\n";
      sleepFor(kMaxPrinterBackoff);
      continue;
    }
    for (const auto& change : page->changes) {
      if (stopping) break;
      if (change->collection == store::kMenuItems) {
        const auto* id = change->document.if_contains("id");
        const auto* list = change->document.if_contains("allergens");
        if (id && id->is_int64()) {
          std::vector<std::string> names;
          if (list && list->is_array()) {
            for (const auto& a : list->get_array()) {
              if (a.is_string()) names.emplace_back(a.get_string());
            }
          }
          allergens[id->get_int64()] = std::move(names);
        }
      }
      if (app::isAcceptance(*change)) {
        bool reprint = state.in_flight == change->seq;
        state.in_flight = change->seq;
        if (!saveState(statePath, state)) {
          std::cerr << "brigade: cannot write " << statePath << "\n";
          return 2;
        }
        auto backoff = std::chrono::milliseconds(250);
        for (;;) {
          const std::string bytes =
              app::escposTicket(app::ticketLines(change->document, allergens, reprint));
          bool wrote = false;
          std::string error;
          if (sendTicket(host, port, bytes, wrote, error)) break;
          reprint = reprint || wrote;  // it may have printed: the next one says so
          std::cerr << "brigade print: order #" << change->record_id << ": " << error
                    << "; retrying\n";
          sleepFor(backoff);
          backoff = std::min(backoff * 2, kMaxPrinterBackoff);
          if (stopping) return 0;  // the state still names it: it prints again next time
        }
        state.seq = change->seq;
        state.in_flight.reset();
        if (!saveState(statePath, state)) {
          std::cerr << "brigade: cannot write " << statePath << "\n";
          return 2;
        }
        std::cout << "printed order #" << change->record_id << (reprint ? " (REPRINT)" : "")
                  << " seq " << change->seq << std::endl;
      } else {
        state.seq = change->seq;
      }
    }
    if (page->changes.empty()) {
      if (page->last_seq > state.seq) state.seq = page->last_seq;
      saveState(statePath, state);  // where the stream stands, so a restart reads less
      sleepFor(kPrintPollInterval);
    }
  }
  saveState(statePath, state);
  return 0;
}

}  // namespace brigade::server
