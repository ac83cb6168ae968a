#include "ws/frame.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace brigade::ws {
namespace {

std::string bytes(std::initializer_list<int> list) {
  std::string out;
  for (int b : list) out += static_cast<char>(b);
  return out;
}

// Records every event as a line, so whole runs compare with one EXPECT_EQ.
class RecordingSink : public FrameSink {
 public:
  void onMessage(bool binary, std::string&& payload) override {
    events.push_back((binary ? "binary:" : "text:") + payload);
  }
  void onPing(std::string_view payload) override {
    events.push_back("ping:" + std::string(payload));
  }
  void onPong(std::string_view payload) override {
    events.push_back("pong:" + std::string(payload));
  }
  void onClose(uint16_t code, std::string_view reason) override {
    events.push_back("close:" + std::to_string(code) + ":" + std::string(reason));
    closed = true;
  }

  std::vector<std::string> events;
  bool closed = false;
};

struct Outcome {
  std::vector<std::string> events;
  uint16_t failure = 0;   // close code of the protocol error, 0 when none
  size_t unconsumed = 0;  // bytes the reader left for the next read

  friend bool operator==(const Outcome&, const Outcome&) = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << "{failure=" << o.failure << " unconsumed=" << o.unconsumed << " events=[";
  for (const auto& e : o.events) os << '"' << e << "\",";
  return os << "]}";
}

// Feeds `chunks` the way a connection does: unconsumed bytes are kept and offered
// again in front of the next read; reading stops at a failure or after a close frame.
Outcome feedChunks(const std::vector<std::string>& chunks, size_t maxMessage) {
  FrameReader reader(maxMessage);
  RecordingSink sink;
  std::string pending;
  Outcome out;
  for (const auto& chunk : chunks) {
    pending += chunk;
    size_t used = reader.feed(pending, sink);
    if (used == FrameReader::kFailed) {
      out.failure = reader.failure();
      EXPECT_NE(out.failure, 0);
      EXPECT_FALSE(reader.failureReason().empty());
      // A failed reader stays failed.
      EXPECT_EQ(reader.feed(pending, sink), FrameReader::kFailed);
      break;
    }
    EXPECT_LE(used, pending.size());
    pending.erase(0, used);
    if (sink.closed) break;
  }
  out.events = sink.events;
  out.unconsumed = out.failure != 0 ? 0 : pending.size();
  return out;
}

constexpr size_t kDefaultMax = 1 << 20;

// Runs `wire` whole, in two pieces at every split point, and one byte at a time;
// every way must give the same outcome, which is returned.
Outcome feedEverySplit(const std::string& wire, size_t maxMessage = kDefaultMax) {
  Outcome whole = feedChunks({wire}, maxMessage);
  for (size_t split = 0; split <= wire.size(); ++split) {
    Outcome two = feedChunks({wire.substr(0, split), wire.substr(split)}, maxMessage);
    EXPECT_EQ(two, whole) << "split at " << split;
    if (two != whole) break;
  }
  std::vector<std::string> single;
  for (char c : wire) single.emplace_back(1, c);
  Outcome byByte = feedChunks(single, maxMessage);
  EXPECT_EQ(byByte, whole) << "byte by byte";
  return whole;
}

using Events = std::vector<std::string>;

std::string text(std::string_view payload, uint32_t mask = 0x37fa213d, bool fin = true) {
  return encodeClientFrame(Opcode::kText, payload, mask, fin);
}
std::string cont(std::string_view payload, bool fin, uint32_t mask = 0x01020304) {
  return encodeClientFrame(Opcode::kContinuation, payload, mask, fin);
}

// --- Golden vectors from RFC 6455 section 5.7 -------------------------------------

const std::string kRfcMaskedHello =
    bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
const std::string kRfcMaskedPong =
    bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});

TEST(FrameReader, RfcMaskedTextFrame) {
  EXPECT_EQ(feedEverySplit(kRfcMaskedHello), (Outcome{{"text:Hello"}, 0, 0}));
}

TEST(FrameReader, RfcMaskedPong) {
  EXPECT_EQ(feedEverySplit(kRfcMaskedPong), (Outcome{{"pong:Hello"}, 0, 0}));
}

TEST(EncodeClientFrame, MatchesRfcVector) {
  EXPECT_EQ(text("Hello"), kRfcMaskedHello);
  EXPECT_EQ(encodeClientFrame(Opcode::kPong, "Hello", 0x37fa213d), kRfcMaskedPong);
}

TEST(EncodeServerFrame, MatchesRfcVectors) {
  EXPECT_EQ(encodeServerFrame(Opcode::kText, "Hello"),
            bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(encodeServerFrame(Opcode::kPing, "Hello"),
            bytes({0x89, 0x05, 'H', 'e', 'l', 'l', 'o'}));
  std::string b256 = encodeServerFrame(Opcode::kBinary, std::string(256, 'x'));
  EXPECT_EQ(b256.substr(0, 4), bytes({0x82, 0x7e, 0x01, 0x00}));
  EXPECT_EQ(b256.size(), 4u + 256);
  std::string b64k = encodeServerFrame(Opcode::kBinary, std::string(65536, 'x'));
  EXPECT_EQ(b64k.substr(0, 10), bytes({0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}));
  EXPECT_EQ(b64k.size(), 10u + 65536);
}

TEST(WriteServerHeader, LengthForms) {
  char h[kMaxServerHeader];
  EXPECT_EQ(writeServerHeader(h, Opcode::kText, 0), 2u);
  EXPECT_EQ(std::string(h, 2), bytes({0x81, 0x00}));
  EXPECT_EQ(writeServerHeader(h, Opcode::kText, 125), 2u);
  EXPECT_EQ(std::string(h, 2), bytes({0x81, 125}));
  EXPECT_EQ(writeServerHeader(h, Opcode::kBinary, 126), 4u);
  EXPECT_EQ(std::string(h, 4), bytes({0x82, 126, 0x00, 126}));
  EXPECT_EQ(writeServerHeader(h, Opcode::kBinary, 0xFFFF), 4u);
  EXPECT_EQ(std::string(h, 4), bytes({0x82, 126, 0xff, 0xff}));
  EXPECT_EQ(writeServerHeader(h, Opcode::kBinary, 0x10000), 10u);
  EXPECT_EQ(std::string(h, 10), bytes({0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(writeServerHeader(h, Opcode::kBinary, 0x0102030405060708ull), 10u);
  EXPECT_EQ(std::string(h, 10), bytes({0x82, 127, 1, 2, 3, 4, 5, 6, 7, 8}));
  // RFC 6455 5.7: unmasked fragmented "Hel" + "lo".
  EXPECT_EQ(writeServerHeader(h, Opcode::kText, 3, false), 2u);
  EXPECT_EQ(std::string(h, 2), bytes({0x01, 0x03}));
  EXPECT_EQ(writeServerHeader(h, Opcode::kContinuation, 2, true), 2u);
  EXPECT_EQ(std::string(h, 2), bytes({0x80, 0x02}));
  EXPECT_EQ(writeServerHeader(h, Opcode::kClose, 2), 2u);
  EXPECT_EQ(static_cast<uint8_t>(h[0]), 0x88);
}

TEST(EncodeClientFrame, LengthFormsAndReservedBits) {
  EXPECT_EQ(static_cast<uint8_t>(text(std::string(125, 'a'))[1]), 0x80 | 125);
  std::string f126 = text(std::string(126, 'a'));
  EXPECT_EQ(f126.substr(1, 3), bytes({0x80 | 126, 0x00, 126}));
  EXPECT_EQ(f126.size(), 4u + 4 + 126);
  std::string f64k = text(std::string(65536, 'a'));
  EXPECT_EQ(f64k.substr(1, 9), bytes({0x80 | 127, 0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(f64k.size(), 10u + 4 + 65536);
  EXPECT_EQ(static_cast<uint8_t>(encodeClientFrame(Opcode::kText, "", 0, true, 4)[0]), 0xC1);
  EXPECT_EQ(static_cast<uint8_t>(encodeClientFrame(Opcode::kBinary, "", 0, false, 1)[0]), 0x12);
}

TEST(CloseCodecs, ClosePayload) {
  EXPECT_EQ(closePayload(1000), bytes({0x03, 0xe8}));
  EXPECT_EQ(closePayload(kCloseTooBig, "big"), bytes({0x03, 0xf1, 'b', 'i', 'g'}));
  // The reason is cut so that the payload fits a control frame.
  std::string long_reason(300, 'r');
  EXPECT_EQ(closePayload(1000, long_reason).size(), kMaxControlPayload);
}

TEST(CloseCodecs, TruncatedReasonStaysUtf8) {
  // 62 two-byte characters = 124 bytes: the cut at 123 bytes must not split one.
  std::string reason;
  for (int i = 0; i < 62; ++i) reason += "\xc3\xa9";
  std::string payload = closePayload(kCloseNormal, reason);
  EXPECT_LE(payload.size(), kMaxControlPayload);
  EXPECT_TRUE(utf8::valid(std::string_view(payload).substr(2)));
  EXPECT_EQ(payload.size(), 2u + 122);
  // A peer reading it back accepts it.
  Outcome o = feedEverySplit(encodeClientFrame(Opcode::kClose, payload, 0x11223344));
  EXPECT_EQ(o.failure, 0);
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0], "close:1000:" + reason.substr(0, 122));
}

TEST(AcceptKey, RfcExample) {
  EXPECT_EQ(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

// --- Valid streams ----------------------------------------------------------------

TEST(FrameReader, SeveralFramesInOneStream) {
  std::string wire = text("one") + encodeClientFrame(Opcode::kBinary, bytes({0, 1, 0xff}), 7) +
                     encodeClientFrame(Opcode::kPing, "p", 0xdeadbeef) +
                     encodeClientFrame(Opcode::kPong, "", 0) + text("two", 0);
  EXPECT_EQ(
      feedEverySplit(wire),
      (Outcome{{"text:one", "binary:" + bytes({0, 1, 0xff}), "ping:p", "pong:", "text:two"}}));
}

TEST(FrameReader, EmptyMessages) {
  std::string wire = text("") + encodeClientFrame(Opcode::kBinary, "", 0x55555555) +
                     encodeClientFrame(Opcode::kPing, "", 1);
  EXPECT_EQ(feedEverySplit(wire), (Outcome{{"text:", "binary:", "ping:"}}));
}

TEST(FrameReader, FragmentedMessageWithPingsBetweenFragments) {
  std::string wire = text("Hel", 0xa1b2c3d4, false) +
                     encodeClientFrame(Opcode::kPing, "mid", 0x0badf00d) + cont("lo", false) +
                     encodeClientFrame(Opcode::kPong, "x", 9) + cont(", world", true, 0xffffffff);
  Outcome o = feedEverySplit(wire);
  EXPECT_EQ(o, (Outcome{{"ping:mid", "pong:x", "text:Hello, world"}}));
}

TEST(FrameReader, FragmentedBinaryAndEmptyFragments) {
  std::string wire = encodeClientFrame(Opcode::kBinary, "", 3, false) + cont("\xff\xfe", false) +
                     cont("", false) + cont(std::string(1, '\0'), true);
  std::string payload("\xff\xfe\x00", 3);
  EXPECT_EQ(feedEverySplit(wire), (Outcome{{"binary:" + payload}}));
}

TEST(FrameReader, Utf8CharacterSplitAcrossFragments) {
  // "€" = e2 82 ac, "🍕" = f0 9f 8d 95: cut inside each character.
  std::string wire =
      text("a\xe2", 1, false) + cont("\x82\xac\xf0\x9f", false) + cont("\x8d\x95z", true);
  EXPECT_EQ(feedEverySplit(wire), (Outcome{{"text:a\xe2\x82\xac\xf0\x9f\x8d\x95z"}}));
}

TEST(FrameReader, BinaryMessagesNeedNotBeUtf8) {
  EXPECT_EQ(feedEverySplit(encodeClientFrame(Opcode::kBinary, "\xc0\xaf\xff", 42)),
            (Outcome{{"binary:\xc0\xaf\xff"}}));
}

TEST(FrameReader, SixteenAndSixtyFourBitLengths) {
  std::string p125(125, 'a'), p126(126, 'b'), p65535(65535, 'c'), p65536(65536, 'd');
  std::string wire = text(p125) + text(p126) + encodeClientFrame(Opcode::kBinary, p65535, 5) +
                     encodeClientFrame(Opcode::kBinary, p65536, 0x80808080);
  Outcome o = feedChunks({wire}, kDefaultMax);
  EXPECT_EQ(o, (Outcome{{"text:" + p125, "text:" + p126, "binary:" + p65535, "binary:" + p65536}}));
  // Every split point of the headers of the two long frames (the bodies are long;
  // splitting inside them is covered by the byte-by-byte run).
  for (size_t split = 0; split < 16; ++split) {
    std::string f = text(p126);
    EXPECT_EQ(feedChunks({f.substr(0, split), f.substr(split)}, kDefaultMax).events,
              Events{"text:" + p126});
    std::string g = encodeClientFrame(Opcode::kBinary, p65536, 0x80808080);
    EXPECT_EQ(feedChunks({g.substr(0, split), g.substr(split)}, kDefaultMax).events,
              Events{"binary:" + p65536});
  }
  std::vector<std::string> single;
  for (char c : encodeClientFrame(Opcode::kBinary, p65536, 77)) single.emplace_back(1, c);
  EXPECT_EQ(feedChunks(single, kDefaultMax).events, Events{"binary:" + p65536});
}

TEST(FrameReader, IncompleteFrameIsNotConsumed) {
  FrameReader reader(kDefaultMax);
  RecordingSink sink;
  std::string frame = text("Hello");
  for (size_t n = 0; n < frame.size(); ++n) {
    EXPECT_EQ(reader.feed(std::string_view(frame).substr(0, n), sink), 0u) << n;
  }
  EXPECT_TRUE(sink.events.empty());
  // A whole frame followed by part of the next: only the whole one is consumed.
  std::string two = frame + frame.substr(0, 4);
  EXPECT_EQ(reader.feed(two, sink), frame.size());
  EXPECT_EQ(sink.events, Events{"text:Hello"});
}

TEST(FrameReader, BuffersFragmentsUntilFin) {
  FrameReader reader(kDefaultMax);
  RecordingSink sink;
  std::string first = text("abc", 1, false);
  EXPECT_EQ(reader.feed(first, sink), first.size());
  EXPECT_EQ(reader.buffered(), 3u);
  EXPECT_TRUE(sink.events.empty());
  std::string last = cont("de", true);
  EXPECT_EQ(reader.feed(last, sink), last.size());
  EXPECT_EQ(reader.buffered(), 0u);
  EXPECT_EQ(sink.events, Events{"text:abcde"});
}

// --- Close frames -----------------------------------------------------------------

std::string closeFrame(std::string_view payload) {
  return encodeClientFrame(Opcode::kClose, payload, 0x12345678);
}

TEST(FrameReader, CloseWithoutCodeReports1005) {
  EXPECT_EQ(feedEverySplit(closeFrame("")), (Outcome{{"close:1005:"}}));
}

TEST(FrameReader, CloseWithCodeAndReason) {
  EXPECT_EQ(feedEverySplit(closeFrame(closePayload(1001, "bye \xe2\x82\xac"))),
            (Outcome{{"close:1001:bye \xe2\x82\xac"}}));
}

TEST(FrameReader, NothingAfterCloseIsConsumed) {
  FrameReader reader(kDefaultMax);
  RecordingSink sink;
  std::string close = closeFrame(closePayload(1000));
  std::string wire = text("a") + close + text("after");
  EXPECT_EQ(reader.feed(wire, sink), text("a").size() + close.size());
  EXPECT_EQ(sink.events, (Events{"text:a", "close:1000:"}));
}

TEST(FrameReader, CloseBetweenFragments) {
  std::string wire = text("frag", 1, false) + closeFrame(closePayload(1000, "x"));
  EXPECT_EQ(feedEverySplit(wire), (Outcome{{"close:1000:x"}}));
}

TEST(FrameReader, ValidCloseCodes) {
  for (uint16_t code :
       {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999}) {
    Outcome o = feedChunks({closeFrame(closePayload(code))}, kDefaultMax);
    EXPECT_EQ(o, (Outcome{{"close:" + std::to_string(code) + ":"}})) << code;
  }
}

TEST(FrameReader, InvalidCloseCodes) {
  for (uint16_t code :
       {0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    EXPECT_EQ(feedEverySplit(closeFrame(closePayload(code))), (Outcome{{}, kCloseProtocolError}))
        << code;
  }
}

TEST(FrameReader, CloseWithOneBytePayload) {
  EXPECT_EQ(feedEverySplit(closeFrame("\x03")), (Outcome{{}, kCloseProtocolError}));
}

TEST(FrameReader, CloseReasonNotUtf8) {
  EXPECT_EQ(feedEverySplit(closeFrame(closePayload(1000,
                                                   "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce"
                                                   "\xb5\xed\xa0\x80"))),
            (Outcome{{}, kCloseInvalidPayload}));
}

// --- Protocol violations ----------------------------------------------------------

TEST(FrameReader, ReservedBits) {
  for (uint8_t rsv : {1, 2, 3, 4, 7}) {
    EXPECT_EQ(feedEverySplit(text("ok") + encodeClientFrame(Opcode::kText, "x", 9, true, rsv)),
              (Outcome{{"text:ok"}, kCloseProtocolError}))
        << int{rsv};
    EXPECT_EQ(feedEverySplit(encodeClientFrame(Opcode::kPing, "", 9, true, rsv)),
              (Outcome{{}, kCloseProtocolError}));
  }
}

TEST(FrameReader, UnknownOpcodes) {
  for (int op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    std::string frame = encodeClientFrame(static_cast<Opcode>(op), "x", 9);
    EXPECT_EQ(feedEverySplit(text("ok") + frame), (Outcome{{"text:ok"}, kCloseProtocolError}))
        << op;
  }
}

TEST(FrameReader, UnmaskedClientFrame) {
  EXPECT_EQ(feedEverySplit(encodeServerFrame(Opcode::kText, "Hello")),
            (Outcome{{}, kCloseProtocolError}));
  EXPECT_EQ(feedEverySplit(text("a") + encodeServerFrame(Opcode::kPing, "")),
            (Outcome{{"text:a"}, kCloseProtocolError}));
}

TEST(FrameReader, ControlPayloadLimit) {
  std::string atLimit(kMaxControlPayload, 'p');
  EXPECT_EQ(feedEverySplit(encodeClientFrame(Opcode::kPing, atLimit, 3)),
            (Outcome{{"ping:" + atLimit}}));
  EXPECT_EQ(feedEverySplit(encodeClientFrame(Opcode::kPong, atLimit, 3)),
            (Outcome{{"pong:" + atLimit}}));
  std::string over(kMaxControlPayload + 1, 'p');
  for (Opcode op : {Opcode::kPing, Opcode::kPong, Opcode::kClose}) {
    EXPECT_EQ(feedEverySplit(encodeClientFrame(op, over, 3)), (Outcome{{}, kCloseProtocolError}));
  }
  // Rejected from the header alone, before the body arrives.
  FrameReader reader(kDefaultMax);
  RecordingSink sink;
  EXPECT_EQ(reader.feed(encodeClientFrame(Opcode::kPing, over, 3).substr(0, 4), sink),
            FrameReader::kFailed);
  EXPECT_EQ(reader.failure(), kCloseProtocolError);
}

TEST(FrameReader, FragmentedControlFrames) {
  for (Opcode op : {Opcode::kPing, Opcode::kPong, Opcode::kClose}) {
    EXPECT_EQ(feedEverySplit(encodeClientFrame(op, "", 3, false)),
              (Outcome{{}, kCloseProtocolError}));
  }
}

TEST(FrameReader, ContinuationWithoutMessage) {
  EXPECT_EQ(feedEverySplit(cont("x", true)), (Outcome{{}, kCloseProtocolError}));
  EXPECT_EQ(feedEverySplit(text("done") + cont("x", false)),
            (Outcome{{"text:done"}, kCloseProtocolError}));
}

TEST(FrameReader, NewMessageInsideFragmentedOne) {
  EXPECT_EQ(feedEverySplit(text("a", 1, false) + text("b")), (Outcome{{}, kCloseProtocolError}));
  EXPECT_EQ(feedEverySplit(text("a", 1, false) + encodeClientFrame(Opcode::kBinary, "b", 2)),
            (Outcome{{}, kCloseProtocolError}));
}

TEST(FrameReader, InvalidUtf8Text) {
  for (std::string bad :
       {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff", "\x80", "\xe2\x82"}) {
    EXPECT_EQ(feedEverySplit(text("ok") + text(bad)), (Outcome{{"text:ok"}, kCloseInvalidPayload}));
  }
}

TEST(FrameReader, InvalidUtf8AcrossFragments) {
  // A truncated character at the end of the last fragment.
  EXPECT_EQ(feedEverySplit(text("a\xe2", 1, false) + cont("\x82", true)),
            (Outcome{{}, kCloseInvalidPayload}));
  // Invalid in the first fragment: failed at once, without waiting for the rest.
  FrameReader reader(kDefaultMax);
  RecordingSink sink;
  EXPECT_EQ(reader.feed(text("\xff", 1, false), sink), FrameReader::kFailed);
  EXPECT_EQ(reader.failure(), kCloseInvalidPayload);
  // A continuation that breaks a character started in the previous fragment.
  EXPECT_EQ(feedEverySplit(text("\xe2\x82", 1, false) + cont("A", true)),
            (Outcome{{}, kCloseInvalidPayload}));
}

TEST(FrameReader, Utf8StateResetsBetweenMessages) {
  // A binary message with a partial sequence does not affect the next text message.
  std::string wire = encodeClientFrame(Opcode::kBinary, "\xe2", 1) + text("ok");
  EXPECT_EQ(feedEverySplit(wire), (Outcome{{"binary:\xe2", "text:ok"}}));
}

TEST(FrameReader, NonMinimalLengths) {
  // 16-bit form carrying a length below 126.
  EXPECT_EQ(feedEverySplit(bytes({0x81, 0x80 | 126, 0x00, 0x05, 0, 0, 0, 0}) + "Hello"),
            (Outcome{{}, kCloseProtocolError}));
  // 64-bit form carrying a length that fits in 16 bits.
  EXPECT_EQ(
      feedEverySplit(bytes({0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0x00, 0x05, 0, 0, 0, 0}) + "Hello"),
      (Outcome{{}, kCloseProtocolError}));
  EXPECT_EQ(feedEverySplit(bytes({0x82, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0})),
            (Outcome{{}, kCloseProtocolError}));
}

TEST(FrameReader, SixtyFourBitLengthWithTopBitSet) {
  EXPECT_EQ(feedEverySplit(bytes({0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})),
            (Outcome{{}, kCloseProtocolError}));
}

TEST(FrameReader, MessageSizeLimit) {
  constexpr size_t kMax = 300;
  std::string atLimit(kMax, 'm');
  EXPECT_EQ(feedEverySplit(text(atLimit), kMax), (Outcome{{"text:" + atLimit}}));
  EXPECT_EQ(feedEverySplit(text(atLimit + "m"), kMax), (Outcome{{}, kCloseTooBig}));
  // Across fragments: the total counts.
  std::string half(kMax / 2, 'h');
  EXPECT_EQ(feedEverySplit(text(half, 1, false) + cont(half, true), kMax),
            (Outcome{{"text:" + half + half}}));
  EXPECT_EQ(feedEverySplit(text(half, 1, false) + cont(half, false) + cont("x", true), kMax),
            (Outcome{{}, kCloseTooBig}));
  // Control frames do not count towards the message.
  EXPECT_EQ(feedEverySplit(text(half, 1, false) + encodeClientFrame(Opcode::kPing, "ping", 1) +
                               cont(half, true),
                           kMax),
            (Outcome{{"ping:ping", "text:" + half + half}}));
}

TEST(FrameReader, OversizedFrameRejectedFromItsHeader) {
  // A 64-bit length far beyond the limit fails before any body byte arrives, and
  // nothing is buffered.
  FrameReader reader(1000);
  RecordingSink sink;
  std::string header = bytes({0x82, 0x80 | 127, 0, 0, 0x01, 0, 0, 0, 0, 0});
  EXPECT_EQ(reader.feed(header, sink), FrameReader::kFailed);
  EXPECT_EQ(reader.failure(), kCloseTooBig);
  EXPECT_EQ(reader.buffered(), 0u);
  FrameReader second(1000);
  std::string frame = encodeClientFrame(Opcode::kBinary, std::string(1001, 'b'), 1);
  EXPECT_EQ(second.feed(std::string_view(frame).substr(0, 4), sink), FrameReader::kFailed);
  EXPECT_EQ(second.failure(), kCloseTooBig);
  EXPECT_TRUE(sink.events.empty());
}

TEST(FrameReader, MaskingRoundTripsAnyPayloadAndMask) {
  std::string payload;
  for (int i = 0; i < 256; ++i) payload += static_cast<char>(i);
  for (uint32_t mask : {0u, 0xffffffffu, 0x01020304u, 0x80000001u}) {
    for (size_t n : {0, 1, 2, 3, 4, 5, 255, 256}) {
      std::string p = payload.substr(0, n);
      EXPECT_EQ(feedChunks({encodeClientFrame(Opcode::kBinary, p, mask)}, kDefaultMax).events,
                Events{"binary:" + p});
    }
  }
}

}  // namespace
}  // namespace brigade::ws
