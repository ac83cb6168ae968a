#include "server/config_command.hpp"

#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "server/config.hpp"

namespace brigade::server {

int runConfigCommand(int argc, char** argv) {
  if (argc < 3 || std::string_view(argv[1]) != "check" ||
      std::string_view(argv[2]).starts_with("-")) {
    std::cerr << "usage: brigade config check FILE [flags]\n";
    return 1;
  }
  // As a start would parse it: brigade --config FILE [flags].
  std::vector<std::string> args{"brigade", "--config", argv[2]};
  for (int i = 3; i < argc; ++i) args.emplace_back(argv[i]);
  std::vector<char*> all;
  for (auto& a : args) all.push_back(a.data());
  std::string effective;
  const int code = checkConfig(static_cast<int>(all.size()), all.data(), &effective);
  if (code >= 0) return code == 0 ? 0 : 2;
  std::cout << "# brigade: the effective configuration of " << argv[2]
            << " (flags > environment > file > defaults)\n"
            << effective;
  return 0;
}

}  // namespace brigade::server
