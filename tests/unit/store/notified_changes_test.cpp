#include "store/postgres/notified_changes.hpp"

#include <gtest/gtest.h>

#include <string>

namespace brigade::store::postgres {
namespace {

// One change as migration 9's numbering writes it.
std::string entry(int64_t seq, const std::string& collection, const std::string& op, int64_t record,
                  const std::string& rider, const std::string& document) {
  return std::to_string(seq) + "\t" + collection + "\t" + op + "\t" + std::to_string(record) +
         "\t2026-12-02T10:00:00.000Z\t" + rider + "\t" + std::to_string(document.size()) + "\n" +
         document;
}

TEST(ParseNotification, TheHeadAlone) {
  auto n = parseNotification("42");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->head, 42);
  EXPECT_TRUE(n->changes.empty());
}

TEST(ParseNotification, ChangesAreTakenByLength) {
  // Bytes, not characters; a document may hold newlines and tabs between its tokens.
  const std::string first = R"({"id":5,"name":"Zoë's \"café\""})";
  const std::string second = "{\"id\":9,\n\t\"status\":\"accepted\"}";
  auto n = parseNotification("8\n" + entry(7, "menu_items", "update", 5, "", first) +
                             entry(8, "orders", "update", 9, "31", second));
  ASSERT_TRUE(n);
  EXPECT_EQ(n->head, 8);
  ASSERT_EQ(n->changes.size(), 2u);
  const Change& a = *n->changes[0];
  EXPECT_EQ(a.seq, 7);
  EXPECT_EQ(a.collection, "menu_items");
  EXPECT_EQ(a.op, ChangeOp::kUpdate);
  EXPECT_EQ(a.record_id, 5);
  EXPECT_EQ(a.document_json, first);
  EXPECT_EQ(a.document.at("name").as_string(), "Zoë's \"café\"");
  EXPECT_EQ(a.at, "2026-12-02T10:00:00.000Z");
  EXPECT_FALSE(a.previous_rider_id);
  const Change& b = *n->changes[1];
  EXPECT_EQ(b.seq, 8);
  EXPECT_EQ(b.op, ChangeOp::kUpdate);
  EXPECT_EQ(b.previous_rider_id, 31);
  EXPECT_EQ(b.document.at("status").as_string(), "accepted");
}

TEST(ParseNotification, AnythingElseIsRefused) {
  const std::string doc = R"({"id":1})";
  for (const std::string& payload : std::vector<std::string>{
           std::string(""),
           std::string("x"),
           std::string("12x"),
           std::string("-"),
           // A length past the end, a short one leaving garbage, a field missing.
           "1\n1\tmenu\tinsert\t1\tat\t\t99\n" + doc,
           "1\n1\tmenu\tinsert\t1\tat\t\t3\n" + doc,
           std::string("1\n1\tmenu\tinsert\t1\tat\t8\n") + doc,
           // Not numbers, an unknown op.
           "1\nx\tmenu\tinsert\t1\tat\t\t8\n" + doc,
           "1\n1\tmenu\tinsert\t1\tat\tr\t8\n" + doc,
           "1\n1\tmenu\tupsert\t1\tat\t\t8\n" + doc,
           // Not the batch head-n+1 .. head, in order.
           "2\n" + entry(1, "menu", "insert", 1, "", doc),
           "3\n" + entry(3, "menu", "insert", 1, "", doc) + entry(2, "menu", "insert", 1, "", doc),
           "3\n" + entry(1, "menu", "insert", 1, "", doc) + entry(3, "menu", "insert", 1, "", doc),
           "1\n" + entry(1, "menu", "insert", 1, "", doc) + "\n",
       }) {
    EXPECT_FALSE(parseNotification(payload)) << payload;
  }
}

std::vector<ChangePtr> changes(int64_t from, int64_t to) {
  std::vector<ChangePtr> out;
  for (int64_t s = from; s <= to; ++s) {
    out.push_back(makeChange(s, "menu", "insert", s, R"({"id":1})", "at"));
  }
  return out;
}

std::vector<int64_t> seqs(const std::optional<std::vector<ChangePtr>>& run) {
  std::vector<int64_t> out;
  if (run) {
    for (const auto& c : *run) out.push_back(c->seq);
  }
  return out;
}

TEST(NotifiedChanges, ServesARunThatFollowsOnWithoutAHole) {
  NotifiedChanges kept;
  kept.add(changes(5, 7));
  kept.add(changes(9, 10));  // 8 was announced without its changes
  EXPECT_FALSE(kept.after(3, 100)) << "4 is missing: read the table";
  EXPECT_EQ(seqs(kept.after(4, 100)), (std::vector<int64_t>{5, 6, 7}));
  EXPECT_EQ(seqs(kept.after(4, 2)), (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(seqs(kept.after(6, 100)), (std::vector<int64_t>{7}));
  EXPECT_FALSE(kept.after(7, 100)) << "8 is missing";
  EXPECT_EQ(seqs(kept.after(8, 100)), (std::vector<int64_t>{9, 10}));
  EXPECT_EQ(kept.size(), 2u) << "what the reader has passed is dropped";
  EXPECT_FALSE(kept.after(10, 100));
  EXPECT_EQ(kept.size(), 0u);
}

TEST(NotifiedChanges, OutOfOrderOrClearedStartsAgain) {
  NotifiedChanges kept;
  kept.add(changes(5, 7));
  kept.add(changes(3, 3));  // another database's numbering (restored): the old run goes
  EXPECT_EQ(seqs(kept.after(2, 100)), (std::vector<int64_t>{3}));
  EXPECT_FALSE(kept.after(4, 100));
  kept.add(changes(10, 11));
  kept.clear();
  EXPECT_FALSE(kept.after(9, 100));
}

TEST(NotifiedChanges, KeepsABoundedNumber) {
  NotifiedChanges kept;
  const auto n = static_cast<int64_t>(NotifiedChanges::kMaxKept);
  kept.add(changes(1, n + 10));
  EXPECT_EQ(kept.size(), NotifiedChanges::kMaxKept);
  EXPECT_FALSE(kept.after(0, 100)) << "the oldest were dropped: read the table";
  EXPECT_EQ(seqs(kept.after(10, 1)), (std::vector<int64_t>{11}));
}

}  // namespace
}  // namespace brigade::store::postgres
