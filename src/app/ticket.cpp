#include "app/ticket.hpp"

namespace brigade::app {
namespace json = boost::json;

bool isAcceptance(const store::Change& change) {
  if (change.collection != store::kOrders || change.op != store::ChangeOp::kUpdate) return false;
  const auto& doc = change.document;
  const auto* status = doc.if_contains("status");
  const auto* history = doc.if_contains("history");
  const auto* updated = doc.if_contains("updated_at");
  if (!status || !status->is_string() || status->get_string() != "accepted") return false;
  if (!history || !history->is_array() || history->get_array().empty() || !updated) return false;
  const auto& last = history->get_array().back();
  if (!last.is_object()) return false;
  const auto* lastStatus = last.get_object().if_contains("status");
  const auto* lastAt = last.get_object().if_contains("at");
  return lastStatus && *lastStatus == "accepted" && lastAt && *lastAt == *updated;
}

namespace {

std::string text(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// Printers take 7-bit text safely; other bytes become '?' (a UTF-8 name stays readable in
// its ASCII parts; code pages are a printer's setting).
std::string ascii(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else if (c < 0x80 || (c & 0xc0) == 0xc0) {
      out += '?';  // a control byte, or the first byte of a UTF-8 sequence
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> ticketLines(const json::object& order,
                                     const std::map<int64_t, std::vector<std::string>>& allergens,
                                     bool reprint) {
  std::vector<std::string> lines;
  if (reprint) lines.push_back("*** REPRINT ***");
  const auto* id = order.if_contains("id");
  lines.push_back("ORDER #" + (id && id->is_int64() ? std::to_string(id->get_int64()) : "?"));
  lines.push_back(text(order, "updated_at").substr(0, 16));
  if (const auto* prep = order.if_contains("prep_minutes"); prep && prep->is_int64()) {
    lines.push_back("Ready in " + std::to_string(prep->get_int64()) + " min");
  }
  lines.push_back(std::string(kTicketColumns, '-'));
  if (const auto* items = order.if_contains("items"); items && items->is_array()) {
    for (const auto& l : items->get_array()) {
      if (!l.is_object()) continue;
      const auto& line = l.get_object();
      const auto* qty = line.if_contains("quantity");
      lines.push_back((qty && qty->is_int64() ? std::to_string(qty->get_int64()) : "?") + " x " +
                      ascii(text(line, "name")));
      if (const auto* options = line.if_contains("options"); options && options->is_array()) {
        for (const auto& o : options->get_array()) {
          if (o.is_object()) lines.push_back("   > " + ascii(text(o.get_object(), "name")));
        }
      }
      if (auto note = text(line, "notes"); !note.empty())
        lines.push_back("   NOTE: " + ascii(note));
      const auto* item = line.if_contains("item_id");
      if (item && item->is_int64()) {
        if (auto a = allergens.find(item->get_int64());
            a != allergens.end() && !a->second.empty()) {
          std::string list;
          for (const auto& name : a->second) list += (list.empty() ? "" : ", ") + name;
          lines.push_back("   ALLERGENS: " + list);
        }
      }
    }
  }
  lines.push_back(std::string(kTicketColumns, '-'));
  if (auto note = text(order, "notes"); !note.empty()) lines.push_back("NOTE: " + ascii(note));
  return lines;
}

std::string escposTicket(const std::vector<std::string>& lines) {
  std::string out = "\x1b@";  // initialise
  for (size_t i = 0; i < lines.size(); ++i) {
    const bool big = lines[i].rfind("ORDER #", 0) == 0 || lines[i] == "*** REPRINT ***";
    if (big)
      out +=
          "\x1b"
          "E\x01"
          "\x1d!\x11";  // bold, double width and height
    out += lines[i];
    out += '\n';
    if (big)
      out += std::string(
          "\x1d!\x00\x1b"
          "E\x00",
          6);
  }
  out +=
      "\n\n\n\x1d"
      "VA\x03";  // feed, then cut
  return out;
}

}  // namespace brigade::app
