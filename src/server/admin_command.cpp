#include "server/admin_command.hpp"

#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "app/app.hpp"
#include "app/fields.hpp"
#include "app/passwords.hpp"
#include "server/tool_store.hpp"
#include "store/await.hpp"
#include "store/errors.hpp"

namespace brigade::server {
namespace {

// One line of standard input without its line end; nullopt at end of input.
std::optional<std::string> readLine() {
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::optional<std::string> readSecret(const char* prompt) {
  termios saved{};
  const bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
  if (!tty) return readLine();
  std::cerr << prompt << std::flush;
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  auto line = readLine();
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  std::cerr << "\n";
  return line;
}

// The new password, checked; an empty result means refused (the reason is printed).
std::optional<std::string> newPassword() {
  auto password = readSecret("Password: ");
  if (!password) {
    std::cerr << "brigade: no password on standard input\n";
    return std::nullopt;
  }
  if (password->size() < kMinAdminPasswordLength) {
    std::cerr << "brigade: the password must be at least " << kMinAdminPasswordLength
              << " characters\n";
    return std::nullopt;
  }
  if (password->size() > app::kMaxPasswordLength) {
    std::cerr << "brigade: the password must be at most " << app::kMaxPasswordLength
              << " characters\n";
    return std::nullopt;
  }
  if (isatty(STDIN_FILENO)) {
    auto again = readSecret("Password again: ");
    if (!again || *again != *password) {
      std::cerr << "brigade: the two passwords differ\n";
      return std::nullopt;
    }
  }
  return password;
}

}  // namespace

int runAdminCommand(int argc, char** argv) {
  CLI::App cli{"Brigade accounts: create an admin, reset a password"};
  cli.require_subcommand(1);
  cli.fallthrough();  // --data-dir and --db after the subcommand too
  std::string dataDir = "./data";
  std::string db;
  std::string email;
  std::string name;
  size_t memLimit = app::PasswordPolicy{}.memLimit;
  cli.add_option("--data-dir", dataDir, "where the SQLite database lives")
      ->envname("BRIGADE_DATA_DIR")
      ->capture_default_str();
  cli.add_option("--db", db, "postgres://... when the nodes share PostgreSQL")
      ->envname("BRIGADE_DB");
  cli.add_option("--pwhash-memlimit", memLimit, "Argon2id memory per password hash, bytes")
      ->envname("BRIGADE_PWHASH_MEMLIMIT");
  auto* create = cli.add_subcommand("create", "create an admin (password from standard input)");
  create->add_option("--email", email, "the admin's email")->required();
  create->add_option("--name", name, "the admin's name")->required();
  auto* reset = cli.add_subcommand(
      "reset-password", "set a new password (from standard input); signs the account out");
  reset->add_option("--email", email, "the account's email")->required();
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return cli.exit(e);  // --help
    std::cerr << "brigade: " << e.what() << " (brigade admin --help)\n";
    return 1;
  }
  email = app::lowerAscii(email);
  if (email.size() > app::kMaxEmailLength || !app::plausibleEmail(email)) {
    std::cerr << "brigade: --email: not an email address\n";
    return 1;
  }
  if (create->parsed() && (name.empty() || name.size() > app::kMaxNameLength)) {
    std::cerr << "brigade: --name: 1 to " << app::kMaxNameLength << " characters\n";
    return 1;
  }
  auto password = newPassword();
  if (!password) return 1;

  std::unique_ptr<store::Store> store;
  try {
    store = openToolStore(db, dataDir, "admin", true);
  } catch (const std::exception& e) {
    std::cerr << "brigade: cannot open the database: " << e.what() << "\n";
    return 2;
  }
  app::PasswordPolicy policy;
  policy.memLimit = memLimit;
  std::string hash = app::hashPassword(*password, policy);
  if (hash.empty()) {
    std::cerr << "brigade: password hashing failed (out of memory?)\n";
    return 1;
  }
  if (create->parsed()) {
    auto user = store::await<store::User>([&](auto done) {
      store->createUser(store::NewUser{email, name, store::Role::kAdmin, hash}, done);
    });
    if (!user) {
      std::cerr << "brigade: "
                << (user.error().code == store::errc::kEmailTaken
                        ? "an account with that email already exists (use reset-password)"
                        : "cannot create the admin: " + user.error().message)
                << "\n";
      return 1;
    }
    std::cout << "brigade: admin " << user->email << " created (id " << user->id
              << "); sign in at /admin/\n";
    return 0;
  }
  auto user = store::await<store::User>([&](auto done) { store->findUserByEmail(email, done); });
  if (!user) {
    std::cerr << "brigade: "
              << (user.error().code == store::errc::kNotFound ? "no account with that email"
                                                              : user.error().message)
              << "\n";
    return 1;
  }
  auto updated =
      store::await<store::User>([&](auto done) { store->setUserPassword(user->id, hash, done); });
  if (!updated) {
    std::cerr << "brigade: cannot set the password: " << updated.error().message << "\n";
    return 1;
  }
  std::cout << "brigade: password of " << updated->email << " (" << store::toString(updated->role)
            << ") changed; its sessions are signed out\n";
  return 0;
}

}  // namespace brigade::server
