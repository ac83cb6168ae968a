#pragma once

#include <string>
#include <vector>

#include "app/app.hpp"

namespace brigade::app {

struct DemoAccount {
  std::string role;
  std::string email;
  std::string password;
};

// On an empty database (no menu, no users): a realistic demo menu (5 categories,
// 25 items) and one account per role with a random password. Returns the accounts
// created (none when the database was not empty). Blocking: call at start-up.
std::vector<DemoAccount> seedDemo(App& app);

}  // namespace brigade::app
