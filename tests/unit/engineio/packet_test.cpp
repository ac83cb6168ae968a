#include "protocol/engineio/packet.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ws/frame.hpp"

namespace brigade::eio {
namespace {

using Packets = std::vector<Packet>;

Packet msg(std::string data) {
  return Packet{PacketType::kMessage, std::move(data), false};
}
Packet bin(std::string data) {
  return Packet{PacketType::kMessage, std::move(data), true};
}

std::string raw(std::initializer_list<int> list) {
  std::string out;
  for (int b : list) out += static_cast<char>(b);
  return out;
}

// --- decodeText -------------------------------------------------------------------

TEST(DecodeText, EveryPacketType) {
  const std::pair<const char*, Packet> vectors[] = {
      {R"(0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"]})",
       {PacketType::kOpen, R"({"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"]})"}},
      {"1", {PacketType::kClose, ""}},
      {"2", {PacketType::kPing, ""}},
      {"2probe", {PacketType::kPing, "probe"}},
      {"3probe", {PacketType::kPong, "probe"}},
      {"4hello", {PacketType::kMessage, "hello"}},
      {"4", {PacketType::kMessage, ""}},
      {"4\xe2\x82\xac", {PacketType::kMessage, "\xe2\x82\xac"}},
      {"5", {PacketType::kUpgrade, ""}},
      {"6", {PacketType::kNoop, ""}},
      {"42[\"hey\",\"Jude\"]", {PacketType::kMessage, "2[\"hey\",\"Jude\"]"}},
  };
  for (const auto& [text, expected] : vectors) {
    auto packet = decodeText(text);
    ASSERT_TRUE(packet.ok()) << text;
    EXPECT_EQ(*packet, expected) << text;
    EXPECT_FALSE(packet->binary);
    // Encoding gives the same bytes back.
    EXPECT_EQ(encodeText(expected.type, expected.data), text);
  }
}

TEST(DecodeText, DataKeepsSeparatorsAndNulBytes) {
  std::string text("4a\x1e\0b", 5);
  auto packet = decodeText(text);
  ASSERT_TRUE(packet.ok());
  EXPECT_EQ(packet->data, std::string("a\x1e\0b", 4));
}

TEST(DecodeText, RejectsMalformed) {
  for (std::string bad :
       {std::string(""), std::string("7"), std::string("9hello"), std::string("x"),
        std::string("b"), std::string("bAQIDBA=="), std::string("/"), std::string(":"),
        std::string(" 4"), std::string("\0", 1), std::string("\xff")}) {
    auto packet = decodeText(bad);
    ASSERT_FALSE(packet.ok()) << bad;
    EXPECT_EQ(packet.error().code, "parse_error");
    EXPECT_FALSE(packet.error().message.empty());
  }
}

// --- decodePayload ----------------------------------------------------------------

TEST(DecodePayload, SpecVectors) {
  struct Vector {
    std::string body;
    Packets packets;
  };
  const Vector vectors[] = {
      {"4hello", {msg("hello")}},
      {"4hello\x1e"
       "4\xe2\x82\xac",
       {msg("hello"), msg("\xe2\x82\xac")}},
      {"4\xe2\x82\xac\x1e"
       "bAQIDBA==",
       {msg("\xe2\x82\xac"), bin(raw({1, 2, 3, 4}))}},
      {"42[\"hello\"]\x1e"
       "42[\"world\"]",
       {msg("2[\"hello\"]"), msg("2[\"world\"]")}},
      {"1", {Packet{PacketType::kClose, ""}}},
      {"2\x1e"
       "6\x1e"
       "3probe",
       {Packet{PacketType::kPing, ""}, Packet{PacketType::kNoop, ""},
        Packet{PacketType::kPong, "probe"}}},
      {"b", {bin("")}},
      {"bAA==", {bin(std::string(1, '\0'))}},
  };
  for (const auto& v : vectors) {
    auto packets = decodePayload(v.body);
    ASSERT_TRUE(packets.ok()) << v.body;
    EXPECT_EQ(*packets, v.packets) << v.body;
    EXPECT_EQ(encodePayload(v.packets), v.body);
  }
}

TEST(DecodePayload, EverySplitIntoTwoPayloads) {
  // A body is the concatenation of its records: any cut at a record boundary
  // decodes to the same packets, and the records decode one by one like the whole.
  const Packets packets = {
      msg("hello"), bin(raw({0, 1, 2, 0xfe, 0xff})), Packet{PacketType::kPing, "probe"}, msg(""),
      bin(""),      msg("2[\"a\",{\"b\":1}]"),       Packet{PacketType::kClose, ""}};
  const std::string body = encodePayload(packets);
  for (size_t k = 0; k <= packets.size(); ++k) {
    Packets head(packets.begin(), packets.begin() + static_cast<long>(k));
    Packets tail(packets.begin() + static_cast<long>(k), packets.end());
    std::string joined = encodePayload(head);
    if (!head.empty() && !tail.empty()) joined += kRecordSeparator;
    joined += encodePayload(tail);
    EXPECT_EQ(joined, body) << k;
    auto decoded = decodePayload(joined);
    ASSERT_TRUE(decoded.ok()) << k;
    EXPECT_EQ(*decoded, packets);
  }
  // Cutting anywhere else than at a separator breaks a record, never crashes.
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    auto prefix = decodePayload(std::string_view(body).substr(0, cut));
    if (prefix.ok()) {
      EXPECT_LE(prefix->size(), packets.size());
    } else {
      EXPECT_EQ(prefix.error().code, "parse_error");
    }
  }
}

TEST(DecodePayload, RejectsMalformed) {
  const std::string bad[] = {
      "",        // no packet at all
      "\x1e",    // two empty records
      "4a\x1e",  // trailing separator
      "\x1e"
      "4a",  // leading separator
      "4a\x1e\x1e"
      "4b",  // empty record in the middle
      "4a\x1e"
      "7",       // unknown type
      "bAQIDB",  // base64 length not a multiple of 4
      "b!!!!",   // not base64
      "4a\x1e"
      "bA===",  // too much padding
      "4a\x1e"
      "bAQ==AQ==",  // padding inside
  };
  for (const auto& body : bad) {
    auto packets = decodePayload(body);
    ASSERT_FALSE(packets.ok()) << body;
    EXPECT_EQ(packets.error().code, "parse_error");
  }
}

std::string repeatRecords(size_t n) {
  std::string body;
  for (size_t i = 0; i < n; ++i) {
    if (i) body += kRecordSeparator;
    body += "2";
  }
  return body;
}

TEST(DecodePayload, MaxPacketsPerPayload) {
  auto atLimit = decodePayload(repeatRecords(kMaxPacketsPerPayload));
  ASSERT_TRUE(atLimit.ok());
  EXPECT_EQ(atLimit->size(), kMaxPacketsPerPayload);
  auto over = decodePayload(repeatRecords(kMaxPacketsPerPayload + 1));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, "parse_error");
  EXPECT_NE(over.error().message.find("too many"), std::string::npos);
  // Empty records count as well (and fail anyway).
  EXPECT_FALSE(decodePayload(std::string(kMaxPacketsPerPayload + 5, kRecordSeparator)).ok());
}

// --- Encoding ---------------------------------------------------------------------

TEST(Encode, TextAndPayloadRecords) {
  EXPECT_EQ(encodeText(PacketType::kPing), "2");
  EXPECT_EQ(encodeText(PacketType::kPong, "probe"), "3probe");
  EXPECT_EQ(encodeText(PacketType::kMessage, "hello"), "4hello");
  std::string out;
  appendPayloadRecord(out, msg("hello"));
  EXPECT_EQ(out, "4hello");
  appendPayloadRecord(out, bin(raw({1, 2, 3, 4})));
  EXPECT_EQ(out,
            "4hello\x1e"
            "bAQIDBA==");
  appendPayloadRecord(out, Packet{PacketType::kNoop, ""});
  EXPECT_EQ(out,
            "4hello\x1e"
            "bAQIDBA==\x1e"
            "6");
  EXPECT_EQ(encodePayload({}), "");
}

TEST(Encode, PayloadRoundTripAllBytes) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  Packets packets = {bin(all), msg("x"), bin(all.substr(0, 1)), bin(all.substr(0, 2))};
  auto decoded = decodePayload(encodePayload(packets));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, packets);
}

// --- Outbound packets (WebSocket frame + polling record, encoded once) --------------

TEST(OutPacket, TextMessageFrame) {
  auto p = makeMessage("hello");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->binary);
  EXPECT_EQ(p->headerSize, 2);
  EXPECT_EQ(p->wsFrame(), raw({0x81, 6, '4', 'h', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(p->wsFrame(), ws::encodeServerFrame(ws::Opcode::kText, "4hello"));
  EXPECT_EQ(p->packet(), "4hello");
  std::string out;
  appendPayloadRecord(out, *p);
  appendPayloadRecord(out, *p);
  EXPECT_EQ(out,
            "4hello\x1e"
            "4hello");
}

TEST(OutPacket, ControlPacketsAsTextFrames) {
  auto ping = makeOutPacket(PacketType::kPing, "");
  EXPECT_EQ(ping->wsFrame(), raw({0x81, 1, '2'}));
  EXPECT_EQ(ping->packet(), "2");
  auto open = makeOutPacket(PacketType::kOpen, R"({"sid":"x"})");
  EXPECT_EQ(open->packet(), R"(0{"sid":"x"})");
  auto close = makeOutPacket(PacketType::kClose, "");
  EXPECT_EQ(close->packet(), "1");
}

TEST(OutPacket, HeaderSizesFollowLength) {
  // The EIO type byte counts: 124 data bytes make a 125-byte payload (short form).
  EXPECT_EQ(makeMessage(std::string(124, 'a'))->headerSize, 2);
  auto p16 = makeMessage(std::string(125, 'a'));
  EXPECT_EQ(p16->headerSize, 4);
  EXPECT_EQ(p16->wsFrame().substr(0, 4), raw({0x81, 126, 0, 126}));
  EXPECT_EQ(p16->packet(), "4" + std::string(125, 'a'));
  auto p64 = makeMessage(std::string(65535, 'a'));
  EXPECT_EQ(p64->headerSize, 10);
  EXPECT_EQ(p64->wsFrame().substr(0, 10), raw({0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(p64->packet().size(), 65536u);
  EXPECT_EQ(p64->wsFrame().size(), 65546u);
}

TEST(OutPacket, BinaryMessage) {
  const std::string data = raw({1, 2, 3, 4});
  auto p = makeMessage(data, true);
  EXPECT_TRUE(p->binary);
  EXPECT_EQ(p->wsFrame(), raw({0x82, 4, 1, 2, 3, 4}));
  EXPECT_EQ(p->packet(), data);
  std::string out = "4hello";
  appendPayloadRecord(out, *p);
  EXPECT_EQ(out,
            "4hello\x1e"
            "bAQIDBA==");
  auto decoded = decodePayload(out);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, (Packets{msg("hello"), bin(data)}));

  auto big = makeMessage(std::string(70000, '\xab'), true);
  EXPECT_EQ(big->headerSize, 10);
  EXPECT_EQ(big->packet().size(), 70000u);
  auto empty = makeMessage("", true);
  EXPECT_EQ(empty->wsFrame(), raw({0x82, 0}));
  EXPECT_EQ(empty->packet(), "");
}

TEST(OutPacket, RecordMatchesPacketEncoding) {
  // The shared outbound record is exactly what appendPayloadRecord(Packet) writes.
  const Packet packets[] = {msg("hello"), bin(raw({0, 0xff})), Packet{PacketType::kPong, "probe"},
                            msg(std::string(300, 'z'))};
  for (const auto& packet : packets) {
    OutPacketPtr out =
        packet.binary ? makeMessage(packet.data, true) : makeOutPacket(packet.type, packet.data);
    std::string a = "prefix", b = "prefix";
    appendPayloadRecord(a, packet);
    appendPayloadRecord(b, *out);
    EXPECT_EQ(a, b);
  }
}

}  // namespace
}  // namespace brigade::eio
