#pragma once

// Kitchen tickets: which change is an order's acceptance, and the ticket it prints, as text
// and as ESC/POS bytes for a network receipt printer (80 mm, 42 columns in font A). Pure.

#include <boost/json/object.hpp>
#include <map>
#include <string>
#include <vector>

#include "store/change.hpp"

namespace brigade::app {

inline constexpr size_t kTicketColumns = 42;

// Whether a change is the one that accepted an order (not a later change of an accepted
// order, such as a rider's assignment): its last history entry is "accepted" and was
// written with the change itself.
bool isAcceptance(const store::Change& change);

// The ticket's lines: a REPRINT banner when `reprint`, the order number and time, then
// per line the quantity and name, its options (the kitchen reads them first), its note and
// the item's allergens, then the order's note.
std::vector<std::string> ticketLines(const boost::json::object& order,
                                     const std::map<int64_t, std::vector<std::string>>& allergens,
                                     bool reprint);

// ESC/POS: initialise, the lines (the order number double size, bold), feed and cut, then a
// real-time status request (DLE EOT 1) whose one-byte answer says the printer took it.
std::string escposTicket(const std::vector<std::string>& lines);

inline constexpr char kStatusRequest[] = "\x10\x04\x01";

}  // namespace brigade::app
