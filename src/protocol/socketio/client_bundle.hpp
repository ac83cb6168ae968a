#pragma once

#include <string>

#include "http/server.hpp"

namespace brigade::sio {

// Serves the official socket.io-client browser bundle (from npm, embedded at
// build time) at <path>socket.io.js and <path>socket.io.min.js, as Node does.
void mountClientBundle(http::Router& router, const std::string& path);

}  // namespace brigade::sio
