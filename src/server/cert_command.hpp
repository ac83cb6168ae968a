#pragma once

// `brigade cert self-signed --host NAME --out DIR`: a certificate and key for a box on a
// restaurant's own network, where no public certificate can be had (docs/OPERATIONS.md,
// "HTTPS"). Exit codes: 0 written, 1 bad usage, 2 refused or failed.

namespace brigade::server {

int runCertCommand(int argc, char** argv);

}  // namespace brigade::server
