#include "protocol/socketio/packet.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <vector>

#include "protocol/engineio/packet.hpp"
#include "protocol/socketio/namespace.hpp"
#include "ws/frame.hpp"

namespace brigade::sio {
namespace {

namespace json = boost::json;

json::value J(std::string_view text) {
  return json::parse(text);
}

std::string raw(std::initializer_list<int> list) {
  std::string out;
  for (int b : list) out += static_cast<char>(b);
  return out;
}

// A readable summary of a packet so vectors compare in one assertion.
struct Summary {
  PacketType type;
  std::string nsp;
  std::optional<uint64_t> id;
  std::string data;  // serialized JSON, "null" when none
  size_t attachmentCount = 0;
  std::vector<std::string> attachments;

  friend bool operator==(const Summary&, const Summary&) = default;
};

std::ostream& operator<<(std::ostream& os, const Summary& s) {
  os << "{type=" << static_cast<int>(s.type) << " nsp=" << s.nsp << " id=";
  if (s.id)
    os << *s.id;
  else
    os << "none";
  return os << " data=" << s.data << " count=" << s.attachmentCount
            << " attachments=" << s.attachments.size() << "}";
}

Summary summarize(const Packet& p) {
  return Summary{p.type, p.nsp, p.id, json::serialize(p.data), p.attachmentCount, p.attachments};
}

struct Vector {
  std::string encoded;
  Summary expected;
};

// The examples of docs/socket.io-protocol/v5-current.md ("Packet encoding" and the
// sample session), as a client would send them.
const Vector kSpecVectors[] = {
    {"0", {PacketType::kConnect, "/", {}, "null"}},
    {"0/admin,", {PacketType::kConnect, "/admin", {}, "null"}},
    {R"(0{"token":"123"})", {PacketType::kConnect, "/", {}, R"({"token":"123"})"}},
    {R"(0/admin,{"token":"123"})", {PacketType::kConnect, "/admin", {}, R"({"token":"123"})"}},
    {R"(0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"})",
     {PacketType::kConnect, "/admin", {}, R"({"sid":"oSO0OpakMV_3jnilAAAA"})"}},
    {R"(4{"message":"Not authorized"})",
     {PacketType::kConnectError, "/", {}, R"({"message":"Not authorized"})"}},
    {R"(4"Not authorized")", {PacketType::kConnectError, "/", {}, R"("Not authorized")"}},
    {"1", {PacketType::kDisconnect, "/", {}, "null"}},
    {"1/admin,", {PacketType::kDisconnect, "/admin", {}, "null"}},
    {R"(2["foo"])", {PacketType::kEvent, "/", {}, R"(["foo"])"}},
    {R"(2/admin,["bar"])", {PacketType::kEvent, "/admin", {}, R"(["bar"])"}},
    {R"(2["hey","Jude"])", {PacketType::kEvent, "/", {}, R"(["hey","Jude"])"}},
    {R"(212["foo"])", {PacketType::kEvent, "/", 12, R"(["foo"])"}},
    {R"(2/admin,456["project:delete",123])",
     {PacketType::kEvent, "/admin", 456, R"(["project:delete",123])"}},
    {R"(2/admin,1["tellme"])", {PacketType::kEvent, "/admin", 1, R"(["tellme"])"}},
    {R"(2[42,"numeric event name"])",
     {PacketType::kEvent, "/", {}, R"([42,"numeric event name"])"}},
    {"3/admin,456[]", {PacketType::kAck, "/admin", 456, "[]"}},
    {"312[]", {PacketType::kAck, "/", 12, "[]"}},
    {R"(3/admin,13["bar"])", {PacketType::kAck, "/admin", 13, R"(["bar"])"}},
    {R"(51-["baz",{"_placeholder":true,"num":0}])",
     {PacketType::kBinaryEvent, "/", {}, R"(["baz",{"_placeholder":true,"num":0}])", 1}},
    {R"(51-["hello",{"_placeholder":true,"num":0}])",
     {PacketType::kBinaryEvent, "/", {}, R"(["hello",{"_placeholder":true,"num":0}])", 1}},
    {R"(52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])",
     {PacketType::kBinaryEvent,
      "/admin",
      {},
      R"(["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])",
      2}},
    {R"(51-14["foo",{"_placeholder":true,"num":0}])",
     {PacketType::kBinaryEvent, "/", 14, R"(["foo",{"_placeholder":true,"num":0}])", 1}},
    {R"(61-15["bar",{"_placeholder":true,"num":0}])",
     {PacketType::kBinaryAck, "/", 15, R"(["bar",{"_placeholder":true,"num":0}])", 1}},
    {R"(61-/admin,1[{"_placeholder":true,"num":0}])",
     {PacketType::kBinaryAck, "/admin", 1, R"([{"_placeholder":true,"num":0}])", 1}},
};

TEST(DecodePacket, SpecVectors) {
  for (const auto& v : kSpecVectors) {
    auto packet = decodePacket(v.encoded);
    ASSERT_TRUE(packet.ok()) << v.encoded << ": " << packet.error().message;
    EXPECT_EQ(summarize(*packet), v.expected) << v.encoded;
    EXPECT_TRUE(packet->attachments.empty());
  }
}

TEST(EncodePacket, SpecVectors) {
  for (const auto& v : kSpecVectors) {
    json::value data = J(v.expected.data);
    const json::value* p = data.is_null() ? nullptr : &data;
    EXPECT_EQ(
        encodePacket(v.expected.type, v.expected.nsp, v.expected.id, p, v.expected.attachmentCount),
        v.encoded);
  }
}

TEST(EncodePacket, RoundTrip) {
  json::value data = J(R"(["ev",{"a":[1,2.5,"\u00e9"],"b":null,"c":{"_placeholder":true,"num":1}},
                         {"_placeholder":true,"num":0}])");
  std::string text = encodePacket(PacketType::kBinaryEvent, "/orders", 99, &data, 2);
  EXPECT_EQ(text.substr(0, 13), "52-/orders,99");
  auto packet = decodePacket(text);
  ASSERT_TRUE(packet.ok());
  EXPECT_EQ(packet->type, PacketType::kBinaryEvent);
  EXPECT_EQ(packet->nsp, "/orders");
  EXPECT_EQ(packet->id, 99u);
  EXPECT_EQ(packet->attachmentCount, 2u);
  EXPECT_EQ(packet->data, data);
  // The main namespace is implicit.
  EXPECT_EQ(encodePacket(PacketType::kEvent, "", std::nullopt, &data), "2" + json::serialize(data));
}

TEST(EncodePacket, NonFiniteNumbersBecomeNull) {
  // 1e400 parses to infinity; echoing it must still be JSON (as JSON.stringify does).
  auto packet = decodePacket(R"(2["e",1e400,[-1e400],{"x":1e999,"y":2.5}])");
  ASSERT_TRUE(packet.ok());
  std::string text = encodePacket(PacketType::kEvent, "/", std::nullopt, &packet->data);
  EXPECT_EQ(text, R"(2["e",null,[null],{"x":null,"y":2.5E0}])");
  EXPECT_TRUE(decodePacket(text).ok());
  json::value nan = json::array{"e", std::nan("")};
  EXPECT_EQ(encodePacket(PacketType::kEvent, "/", 1, &nan), R"(21["e",null])");
  // The caller's value is left alone.
  EXPECT_TRUE(packet->data.as_array()[1].is_double());
}

TEST(Placeholder, ShapeAndValidation) {
  EXPECT_EQ(placeholder(3), J(R"({"_placeholder":true,"num":3})"));
  EXPECT_TRUE(placeholdersValid(J(R"(["a",{"_placeholder":true,"num":1}])"), 2));
  EXPECT_FALSE(placeholdersValid(J(R"(["a",{"_placeholder":true,"num":2}])"), 2));
  EXPECT_FALSE(placeholdersValid(J(R"({"x":[[{"_placeholder":true,"num":0}]]})"), 0));
  EXPECT_TRUE(placeholdersValid(J(R"({"x":[[{"_placeholder":true,"num":0}]]})"), 1));
  // Not a placeholder unless _placeholder is exactly true.
  EXPECT_TRUE(placeholdersValid(J(R"([{"_placeholder":1,"num":9}])"), 0));
  EXPECT_TRUE(placeholdersValid(J(R"([{"_placeholder":"true","num":9}])"), 0));
  EXPECT_TRUE(placeholdersValid(J("null"), 0));
}

// --- Malformed packets ------------------------------------------------------------

TEST(DecodePacket, RejectsMalformed) {
  const std::string bad[] = {
      "",                       // empty
      "7",                      // unknown type
      "9[\"a\"]",               //
      "a",                      //
      "/admin,0",               // type missing
      "2",                      // event without payload
      "2/admin,",               //
      "2[]",                    // empty event array
      "2{}",                    // event payload not an array
      "2\"foo\"",               //
      "2[{}]",                  // event name neither string nor number
      "2[null]",                //
      "2[[\"a\"]]",             //
      "2[\"connect\"]",         // reserved event names
      "2[\"connect_error\"]",   //
      "2[\"disconnect\"]",      //
      "2[\"disconnecting\"]",   //
      "2[\"newListener\"]",     //
      "2[\"removeListener\"]",  //
      "2[\"a\"",                // truncated JSON
      "2[\"a\"]x",              // trailing garbage
      "2[\"a\"]]",              //
      "2[\"a\",]",              // trailing comma
      "2[\"a\" /* c */]",       // comment
      "2[\"\xff\"]",            // invalid UTF-8 in JSON
      "2/admin[\"a\"]",         // namespace without comma swallows the payload
      "3",                      // ack without id
      "3[]",                    //
      "3/admin,[]",             //
      "312{}",                  // ack payload not an array
      "312\"a\"",               //
      "0[]",                    // CONNECT payload not an object
      "0\"token\"",             //
      "0/admin,12{}",           // id on CONNECT
      "1{}",                    // DISCONNECT with payload
      "1/admin,[]",             //
      "13",                     // id on DISCONNECT
      "4",                      // CONNECT_ERROR without payload
      "4[]",                    //
      "412{}",                  // id on CONNECT_ERROR
      "5[\"a\"]",               // binary without attachment count
      "5-[\"a\"]",              //
      "5x-[\"a\"]",             //
      "51[\"a\"]",              //
      "5+1-[\"a\"]",            //
      "51-",                    // binary event without payload
      "51-[]",                  //
      "51-{}",                  //
      "6",                      //
      "61-[]",                  // binary ack without id
      "61-1{}",                 //
      "51-[\"a\",{\"_placeholder\":true,\"num\":1}]",    // placeholder out of range
      "51-[\"a\",{\"_placeholder\":true,\"num\":-1}]",   //
      "51-[\"a\",{\"_placeholder\":true,\"num\":0.5}]",  //
      "51-[\"a\",{\"_placeholder\":true}]",              // no num
      "51-[\"a\",{\"_placeholder\":true,\"num\":\"0\"}]",
      "50-[\"a\",{\"_placeholder\":true,\"num\":0}]",
  };
  for (const auto& text : bad) {
    auto packet = decodePacket(text);
    ASSERT_FALSE(packet.ok()) << text;
    EXPECT_EQ(packet.error().code, "parse_error") << text;
    EXPECT_FALSE(packet.error().message.empty());
  }
}

TEST(DecodePacket, EveryPrefixOfAValidPacketIsHandled) {
  // Truncated packets give an answer (often an error), never a crash.
  for (const auto& v : kSpecVectors) {
    for (size_t n = 0; n <= v.encoded.size(); ++n) {
      auto packet = decodePacket(std::string_view(v.encoded).substr(0, n));
      if (!packet.ok()) {
        EXPECT_EQ(packet.error().code, "parse_error");
      }
    }
  }
}

// --- Limits -----------------------------------------------------------------------

TEST(Limits, MaxAttachments) {
  auto event = [](size_t count) {
    std::string text = "5" + std::to_string(count) + "-[\"a\"";
    for (size_t i = 0; i < count; ++i) text += "," + json::serialize(placeholder(i));
    return text + "]";
  };
  auto atLimit = decodePacket(event(kMaxAttachments));
  ASSERT_TRUE(atLimit.ok()) << atLimit.error().message;
  EXPECT_EQ(atLimit->attachmentCount, kMaxAttachments);
  auto over = decodePacket(event(kMaxAttachments + 1));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().message, "too many attachments");
  // A count too long to parse is refused without reading it.
  EXPECT_FALSE(decodePacket("51000-[\"a\"]").ok());
  EXPECT_FALSE(decodePacket("599999999999999999999999-[\"a\"]").ok());
}

std::string nested(unsigned depth) {
  // An event whose payload nests `depth` arrays: ["e",[[...]]] has depth 1 + (depth - 1).
  std::string inner;
  for (unsigned i = 1; i < depth; ++i) inner += '[';
  for (unsigned i = 1; i < depth; ++i) inner += ']';
  return "2[\"e\"" + (inner.empty() ? std::string() : "," + inner) + "]";
}

TEST(Limits, MaxJsonDepth) {
  auto atLimit = decodePacket(nested(kMaxJsonDepth));
  EXPECT_TRUE(atLimit.ok()) << atLimit.error().message;
  auto over = decodePacket(nested(kMaxJsonDepth + 1));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().message, "invalid JSON payload");
  // Objects count too, and a very deep payload is refused without recursion trouble.
  std::string deepObject = "0";
  for (unsigned i = 0; i <= kMaxJsonDepth; ++i) deepObject += "{\"a\":";
  deepObject += "1";
  for (unsigned i = 0; i <= kMaxJsonDepth; ++i) deepObject += "}";
  EXPECT_FALSE(decodePacket(deepObject).ok());
  EXPECT_FALSE(decodePacket("2[\"e\"," + std::string(100000, '[')).ok());
}

TEST(Limits, MaxNamespaceLength) {
  std::string nsp = "/" + std::string(kMaxNamespaceLength - 1, 'n');
  auto atLimit = decodePacket("0" + nsp + ",");
  ASSERT_TRUE(atLimit.ok());
  EXPECT_EQ(atLimit->nsp, nsp);
  auto over = decodePacket("0" + nsp + "n,");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().message, "namespace too long");
  // Also without the terminating comma.
  EXPECT_FALSE(decodePacket("0" + nsp + "n").ok());
}

TEST(Limits, MaxAckId) {
  auto atLimit = decodePacket("2" + std::to_string(kMaxAckId) + "[\"a\"]");
  ASSERT_TRUE(atLimit.ok());
  EXPECT_EQ(atLimit->id, kMaxAckId);
  EXPECT_EQ(encodePacket(PacketType::kAck, "/", kMaxAckId, &atLimit->data),
            "3" + std::to_string(kMaxAckId) + "[\"a\"]");
  auto over = decodePacket("2" + std::to_string(kMaxAckId + 1) + "[\"a\"]");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().message, "bad ack id");
  EXPECT_FALSE(decodePacket("3" + std::string(40, '9') + "[]").ok());  // beyond 64 bits
  auto zero = decodePacket("30[]");
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->id, 0u);
}

// --- Decoder: binary reassembly ---------------------------------------------------

TEST(Decoder, PlainPacketsComeOutAtOnce) {
  Decoder d;
  auto step = d.feedText(R"(2["foo"])");
  ASSERT_EQ(step.status, Decoder::Status::kPacket);
  EXPECT_FALSE(d.waitingForAttachments());
  EXPECT_EQ(summarize(d.take()), (Summary{PacketType::kEvent, "/", {}, R"(["foo"])"}));
}

TEST(Decoder, BinaryEventWithTwoAttachments) {
  Decoder d;
  auto step = d.feedText(
      R"(52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
  EXPECT_EQ(step.status, Decoder::Status::kNeedMore);
  EXPECT_TRUE(d.waitingForAttachments());
  EXPECT_EQ(d.feedBinary(raw({1, 2})).status, Decoder::Status::kNeedMore);
  EXPECT_TRUE(d.waitingForAttachments());
  EXPECT_EQ(d.feedBinary(raw({3, 4})).status, Decoder::Status::kPacket);
  EXPECT_FALSE(d.waitingForAttachments());
  Packet p = d.take();
  EXPECT_EQ(p.type, PacketType::kBinaryEvent);
  EXPECT_EQ(p.nsp, "/admin");
  EXPECT_EQ(p.attachments, (std::vector<std::string>{raw({1, 2}), raw({3, 4})}));
  // The decoder is ready for the next packet.
  EXPECT_EQ(d.feedText(R"(61-15["bar",{"_placeholder":true,"num":0}])").status,
            Decoder::Status::kNeedMore);
  EXPECT_EQ(d.feedBinary(std::string()).status, Decoder::Status::kPacket);
  Packet ack = d.take();
  EXPECT_EQ(ack.type, PacketType::kBinaryAck);
  EXPECT_EQ(ack.id, 15u);
  EXPECT_EQ(ack.attachments, std::vector<std::string>{""});
}

TEST(Decoder, BinaryWithZeroAttachmentsIsComplete) {
  Decoder d;
  EXPECT_EQ(d.feedText(R"(50-["a"])").status, Decoder::Status::kPacket);
  EXPECT_TRUE(d.take().attachments.empty());
}

TEST(Decoder, UnexpectedBinary) {
  Decoder d;
  auto step = d.feedBinary(raw({1}));
  EXPECT_EQ(step.status, Decoder::Status::kError);
  EXPECT_EQ(step.error.code, "parse_error");
  d.feedText(R"(2["a"])");
  EXPECT_EQ(d.feedBinary(raw({1})).status, Decoder::Status::kError);
}

TEST(Decoder, TextWhileWaitingForAttachments) {
  Decoder d;
  EXPECT_EQ(d.feedText(R"(51-["a",{"_placeholder":true,"num":0}])").status,
            Decoder::Status::kNeedMore);
  auto step = d.feedText(R"(2["b"])");
  EXPECT_EQ(step.status, Decoder::Status::kError);
  EXPECT_FALSE(step.error.message.empty());
}

TEST(Decoder, MalformedText) {
  Decoder d;
  auto step = d.feedText("2[]");
  EXPECT_EQ(step.status, Decoder::Status::kError);
  EXPECT_EQ(step.error.code, "parse_error");
  EXPECT_FALSE(d.waitingForAttachments());
  EXPECT_EQ(d.feedText(R"(2["ok"])").status, Decoder::Status::kPacket);
}

// --- Through the layers below: WebSocket frames and polling payloads ----------------

// What a connection does with client bytes: WebSocket frames -> Engine.IO packets ->
// Socket.IO Decoder. Each completed Socket.IO packet is summarized.
class Pipeline : public ws::FrameSink {
 public:
  void onMessage(bool binary, std::string&& payload) override {
    Decoder::Step step;
    if (binary) {
      step = decoder_.feedBinary(std::move(payload));
    } else {
      auto eio = eio::decodeText(payload);
      if (!eio || eio->type != eio::PacketType::kMessage) {
        errors.push_back("eio");
        return;
      }
      step = decoder_.feedText(eio->data);
    }
    if (step.status == Decoder::Status::kError) errors.push_back(step.error.message);
    if (step.status == Decoder::Status::kPacket) packets.push_back(summarize(decoder_.take()));
  }
  void onPing(std::string_view) override {}
  void onPong(std::string_view) override {}
  void onClose(uint16_t, std::string_view) override {}

  std::vector<Summary> packets;
  std::vector<std::string> errors;

 private:
  Decoder decoder_;
};

std::pair<std::vector<Summary>, std::vector<std::string>> runChunks(
    const std::vector<std::string>& chunks) {
  ws::FrameReader reader(1 << 20);
  Pipeline pipeline;
  std::string pending;
  for (const auto& chunk : chunks) {
    pending += chunk;
    size_t used = reader.feed(pending, pipeline);
    EXPECT_NE(used, ws::FrameReader::kFailed);
    if (used == ws::FrameReader::kFailed) break;
    pending.erase(0, used);
  }
  EXPECT_TRUE(pending.empty());
  return {pipeline.packets, pipeline.errors};
}

TEST(Pipeline, WebSocketFramesAtEverySplit) {
  using ws::encodeClientFrame;
  using ws::Opcode;
  const std::string wire =
      encodeClientFrame(Opcode::kText, "40/admin,", 0x11111111) +
      encodeClientFrame(Opcode::kText, R"(42/admin,1["tellme"])", 0x22222222) +
      // The text part fragmented, with a ping in between.
      encodeClientFrame(Opcode::kText, R"(451-["hello",{"_placeh)", 0x33333333, false) +
      encodeClientFrame(Opcode::kPing, "", 0x44444444) +
      encodeClientFrame(Opcode::kContinuation, R"(older":true,"num":0}])", 0x55555555) +
      encodeClientFrame(Opcode::kBinary, raw({1, 2, 3, 4}), 0x66666666) +
      encodeClientFrame(Opcode::kText, "43/admin,456[]", 0x77777777);
  const std::vector<Summary> expected = {
      {PacketType::kConnect, "/admin", {}, "null"},
      {PacketType::kEvent, "/admin", 1, R"(["tellme"])"},
      {PacketType::kBinaryEvent,
       "/",
       {},
       R"(["hello",{"_placeholder":true,"num":0}])",
       1,
       {raw({1, 2, 3, 4})}},
      {PacketType::kAck, "/admin", 456, "[]"},
  };
  auto whole = runChunks({wire});
  EXPECT_EQ(whole.first, expected);
  EXPECT_TRUE(whole.second.empty());
  for (size_t split = 0; split <= wire.size(); ++split) {
    auto two = runChunks({wire.substr(0, split), wire.substr(split)});
    ASSERT_EQ(two.first, expected) << "split at " << split;
    ASSERT_TRUE(two.second.empty());
  }
  std::vector<std::string> single;
  for (char c : wire) single.emplace_back(1, c);
  EXPECT_EQ(runChunks(single).first, expected);
}

TEST(Pipeline, PollingPayload) {
  // A POST body: the binary attachment travels as a 'b' + base64 record.
  std::string body =
      "40\x1e"
      R"(42["hello"])"
      "\x1e"
      R"(451-["baz",{"_placeholder":true,"num":0}])"
      "\x1e"
      "bAQIDBA==\x1e"
      R"(42["world"])";
  auto records = eio::decodePayload(body);
  ASSERT_TRUE(records.ok());
  Decoder d;
  std::vector<Summary> out;
  for (auto& record : *records) {
    auto step = record.binary ? d.feedBinary(std::move(record.data)) : d.feedText(record.data);
    ASSERT_NE(step.status, Decoder::Status::kError) << step.error.message;
    if (step.status == Decoder::Status::kPacket) out.push_back(summarize(d.take()));
  }
  const std::vector<Summary> expected = {
      {PacketType::kConnect, "/", {}, "null"},
      {PacketType::kEvent, "/", {}, R"(["hello"])"},
      {PacketType::kBinaryEvent,
       "/",
       {},
       R"(["baz",{"_placeholder":true,"num":0}])",
       1,
       {raw({1, 2, 3, 4})}},
      {PacketType::kEvent, "/", {}, R"(["world"])"},
  };
  EXPECT_EQ(out, expected);
}

}  // namespace
}  // namespace brigade::sio

namespace brigade::sio {
namespace {

// Metrics label events sent pre-serialised by the name at the head of their array.
TEST(RawEventName, IsTheFirstStringOfTheArray) {
  EXPECT_EQ(rawEventName(R"(["order:changed",{"seq":1}])"), "order:changed");
  EXPECT_EQ(rawEventName(R"( [ "resync",{}])"), "resync");
  EXPECT_EQ(rawEventName(R"([1,"x"])"), "");
  EXPECT_EQ(rawEventName(R"(["unterminated)"), "");
  EXPECT_EQ(rawEventName(""), "");
  EXPECT_EQ(rawEventName(R"(["a\"b"])"), "a");  // cut at an escape: only the label suffers
}

}  // namespace
}  // namespace brigade::sio
