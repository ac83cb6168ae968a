#pragma once

// `brigade config check FILE [flags]`: validates a configuration file (with the environment
// and any flags given, as a start would) and prints the effective settings, one
// `key = "value"  # source` line each, secrets masked. Exit codes: 0 valid, 1 bad usage,
// 2 invalid (one line says why).

namespace brigade::server {

int runConfigCommand(int argc, char** argv);

}  // namespace brigade::server
