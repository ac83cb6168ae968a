#pragma once

#include <string>

#include "http/server.hpp"

namespace brigade::server {

// The built panels' directory: `configured` if set, else web/dist next to the
// source tree of the executable, else ./web/dist. Empty when none exists.
std::string findWebDir(const std::string& configured, const char* argv0);
// Serves the panels: / (customer), /admin/, /rider/ and their assets. Without a
// built web directory, / answers a short page saying so.
void mountStaticFiles(http::Router& router, const std::string& webDir);

}  // namespace brigade::server
