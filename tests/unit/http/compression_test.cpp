#include "http/compression.hpp"

#include <brotli/decode.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace brigade::http {
namespace {

std::string gunzip(const std::string& coded) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(coded.data()));
  z.avail_in = static_cast<uInt>(coded.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(out.size() - z.avail_out);
  inflateEnd(&z);
  return out;
}

std::string unbrotli(const std::string& coded) {
  std::string out(1 << 20, '\0');
  size_t size = out.size();
  EXPECT_EQ(BrotliDecoderDecompress(coded.size(), reinterpret_cast<const uint8_t*>(coded.data()),
                                    &size, reinterpret_cast<uint8_t*>(out.data())),
            BROTLI_DECODER_RESULT_SUCCESS);
  out.resize(size);
  return out;
}

TEST(PreferredCoding, BrotliThenGzipThenIdentity) {
  EXPECT_EQ(preferredCoding("gzip, deflate, br"), Coding::kBrotli);
  EXPECT_EQ(preferredCoding("gzip, deflate, br", false), Coding::kGzip);
  EXPECT_EQ(preferredCoding("gzip"), Coding::kGzip);
  EXPECT_EQ(preferredCoding("deflate"), Coding::kIdentity);
  EXPECT_EQ(preferredCoding(""), Coding::kIdentity);
  EXPECT_EQ(preferredCoding("identity"), Coding::kIdentity);
}

TEST(PreferredCoding, QualitiesAndWildcards) {
  EXPECT_EQ(preferredCoding("br;q=0, gzip"), Coding::kGzip);
  EXPECT_EQ(preferredCoding("gzip;q=0"), Coding::kIdentity);
  EXPECT_EQ(preferredCoding("br;q=0.5, gzip;q=0.9"), Coding::kGzip);
  EXPECT_EQ(preferredCoding("br;q=1.0, gzip;q=0.9"), Coding::kBrotli);
  EXPECT_EQ(preferredCoding("*"), Coding::kBrotli);
  EXPECT_EQ(preferredCoding("*", false), Coding::kGzip);
  EXPECT_EQ(preferredCoding("*;q=0, gzip"), Coding::kGzip);
  EXPECT_EQ(preferredCoding("GZIP , BR ; Q=0"), Coding::kGzip);
  EXPECT_EQ(preferredCoding("x-gzip"), Coding::kGzip);
  EXPECT_EQ(preferredCoding("gzip;q=abc"), Coding::kIdentity);  // a bad q-value refuses
  EXPECT_EQ(preferredCoding(",,;;,"), Coding::kIdentity);
}

TEST(Compressible, TextTypesOnly) {
  EXPECT_TRUE(compressible("application/json"));
  EXPECT_TRUE(compressible("text/html; charset=utf-8"));
  EXPECT_TRUE(compressible("application/javascript"));
  EXPECT_TRUE(compressible("image/svg+xml"));
  EXPECT_FALSE(compressible("image/png"));
  EXPECT_FALSE(compressible("application/octet-stream"));
}

TEST(Codings, RoundTrip) {
  std::string body;
  for (int i = 0; i < 500; ++i)
    body += R"({"id":)" + std::to_string(i) + R"(,"name":"Margherita"},)";
  auto gz = gzipCompress(body, kDynamicGzipLevel);
  ASSERT_TRUE(gz);
  EXPECT_LT(gz->size(), body.size() / 4);
  EXPECT_EQ(gunzip(*gz), body);
  auto br = brotliCompress(body, 5);
  ASSERT_TRUE(br);
  EXPECT_LT(br->size(), body.size() / 4);
  EXPECT_EQ(unbrotli(*br), body);
  EXPECT_EQ(gunzip(*gzipCompress("", 1)), "");
}

}  // namespace
}  // namespace brigade::http
