#include "core/histogram.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace brigade {
namespace {

TEST(AtomicHistogram, CountsEachValueInTheFirstBucketThatHoldsIt) {
  AtomicHistogram h({1, 5, 10});
  for (double v : {0.5, 1.0, 1.5, 5.0, 7.0, 10.0, 11.0, 1000.0}) h.observe(v);
  const auto s = h.snapshot();
  EXPECT_EQ(s.bounds, (std::vector<double>{1, 5, 10}));
  // le=1: 0.5 and 1 (upper bounds are inclusive, as Prometheus has them); le=5: 1.5, 5;
  // le=10: 7, 10; +Inf: 11, 1000.
  EXPECT_EQ(s.counts, (std::vector<uint64_t>{2, 2, 2, 2}));
  EXPECT_EQ(s.count(), 8u);
  EXPECT_NEAR(s.sum, 1036.0, 1e-6);
}

TEST(AtomicHistogram, SnapshotsOfTheSameBoundsAdd) {
  AtomicHistogram a({1, 2});
  AtomicHistogram b({1, 2});
  a.observe(0.5);
  b.observe(1.5);
  b.observe(3);
  AtomicHistogram::Snapshot total;
  total.add(a.snapshot());
  total.add(b.snapshot());
  EXPECT_EQ(total.counts, (std::vector<uint64_t>{1, 1, 1}));
  EXPECT_NEAR(total.sum, 5.0, 1e-6);
  AtomicHistogram other({3});
  other.observe(1);
  total.add(other.snapshot());  // other bounds: ignored, not mixed in
  EXPECT_EQ(total.count(), 3u);
}

TEST(AtomicHistogram, ManyThreadsLoseNoObservation) {
  AtomicHistogram h({0.001, 0.01});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < 10000; ++i) h.observe(0.005);
    });
  }
  for (auto& t : threads) t.join();
  const auto s = h.snapshot();
  EXPECT_EQ(s.counts[1], 40000u);
  EXPECT_NEAR(s.sum, 200.0, 1e-3);
}

}  // namespace
}  // namespace brigade
