#pragma once

// `brigade print --printer HOST:PORT --state FILE` (with --data-dir or --db): follows the
// change stream from the position saved in FILE and sends an ESC/POS kitchen ticket for
// every accepted order to a network receipt printer (raw TCP, usually port 9100).
//
// It never skips a ticket. Before a ticket is sent the state file names it as in flight;
// once the printer has answered the status request that follows it, the state moves past
// it. After a crash (kill -9) it resumes from the saved position, and only the ticket that
// was in flight can print a second time, marked REPRINT. A printer that refuses or does
// not answer is retried (backing off to kMaxPrinterBackoff) until it takes the ticket; the
// tickets after it wait, in order. A first start (no state file) begins at the stream's
// head: a new print station does not print the past.

#include <chrono>

namespace brigade::server {

inline constexpr std::chrono::milliseconds kPrinterConnectTimeout{3000};
inline constexpr std::chrono::milliseconds kPrinterAckTimeout{10000};
inline constexpr std::chrono::milliseconds kMaxPrinterBackoff{5000};
inline constexpr std::chrono::milliseconds kPrintPollInterval{200};

// argv[0] is "print".
int runPrintCommand(int argc, char** argv);

}  // namespace brigade::server
