#pragma once

// `brigade admin create --email E --name N` and `brigade admin reset-password --email E`:
// the first admin of a restaurant that went live with --no-demo, and a way back in. The
// password comes from standard input (asked twice, unechoed, on a terminal; one line from a
// pipe). They open the database as the server does (--data-dir or --db), whether or not a
// server is running on it. One line out, exit 0; or one line on standard error, exit 1
// (refused) or 2 (the database cannot be opened).

namespace brigade::server {

// A password an admin may have (longer than a customer's: it opens the whole restaurant).
inline constexpr unsigned kMinAdminPasswordLength = 10;

// argv[0] is "admin".
int runAdminCommand(int argc, char** argv);

}  // namespace brigade::server
