// Tests of the Wilson interval, moment merging and the quantile sketch.
#include "attain/stats.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace attain {
namespace {

// Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score).
TEST(StatsTest, WilsonMatchesPublishedValues) {
  struct Case {
    std::uint64_t hits, n;
    double lo, hi;
  };
  for (const Case& c : {Case{81, 263, 0.2553, 0.3662}, Case{15, 148, 0.0624, 0.1605},
                        Case{0, 20, 0.0, 0.1611}, Case{1, 29, 0.0061, 0.1718}}) {
    auto [lo, hi] = wilson_interval(c.hits, c.n);
    EXPECT_NEAR(lo, c.lo, 5e-5) << c.hits << "/" << c.n;
    EXPECT_NEAR(hi, c.hi, 5e-5) << c.hits << "/" << c.n;
  }
}

TEST(StatsTest, WilsonBoundariesAreExact) {
  auto [lo0, hi0] = wilson_interval(0, 1000);
  EXPECT_EQ(lo0, 0.0);
  EXPECT_GT(hi0, 0.0);
  auto [lo1, hi1] = wilson_interval(1000, 1000);
  EXPECT_EQ(hi1, 1.0);
  EXPECT_LT(lo1, 1.0);
  auto [lo, hi] = wilson_interval(0, 0);
  EXPECT_EQ(lo, 0.0);
  EXPECT_EQ(hi, 1.0);
}

TEST(StatsTest, MomentsMergeLikeOnePass) {
  std::vector<double> v;
  for (int i = 0; i < 10000; ++i) v.push_back(1e6 + std::sin(i) * 3 + i * 1e-3);
  Moments all, a, b, c;
  for (std::size_t i = 0; i < v.size(); ++i) {
    all.add(v[i]);
    (i < 3000 ? a : i < 7000 ? b : c).add(v[i]);
  }
  a.merge(b);
  a.merge(c);
  EXPECT_EQ(a.n, all.n);
  EXPECT_NEAR(a.mean(), all.mean(), 1e-9);
  EXPECT_NEAR(a.sd(), all.sd(), 1e-9);
  EXPECT_EQ(a.min, all.min);
  EXPECT_EQ(a.max, all.max);
  double mean = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  EXPECT_NEAR(all.sd(), std::sqrt(ss / (static_cast<double>(v.size()) - 1)), 1e-9);
}

TEST(StatsTest, SketchQuantilesWithinRelativeBound) {
  std::mt19937_64 gen(3);  // test data only; engine draws never use std:: generators
  std::vector<double> v;
  for (int i = 0; i < 50000; ++i) {
    double u = static_cast<double>(gen() >> 11) * 0x1.0p-53;
    v.push_back(i % 7 == 0 ? 0.0 : (u - 0.3) * std::exp(10 * u));  // zeros, negatives, wide range
  }
  QuantileSketch s, s1, s2;
  for (std::size_t i = 0; i < v.size(); ++i) {
    s.add(v[i]);
    (i % 2 ? s1 : s2).add(v[i]);
  }
  s2.merge(s1);
  std::sort(v.begin(), v.end());
  for (double q : {0.001, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0}) {
    double exact = v[static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1];
    EXPECT_LE(std::fabs(s.quantile(q) - exact), std::ldexp(std::fabs(exact), -8)) << q;
    EXPECT_EQ(s.quantile(q), s2.quantile(q)) << "merge must be exact";
  }
  EXPECT_EQ(s.quantile(0.0), v.front());
  EXPECT_EQ(s.count(), v.size());
}

TEST(StatsTest, SketchOfConstantIsExact) {
  QuantileSketch s;
  for (int i = 0; i < 100; ++i) s.add(2.5);
  EXPECT_EQ(s.quantile(0.5), 2.5);
  EXPECT_TRUE(std::isnan(QuantileSketch().quantile(0.5)));
}

/// Values spread evenly in log from 1e-300 to 1e300, with their signs alternating: each
/// sign spans about 2 000 octaves, 250 000 buckets unbounded.
std::vector<double> wide_values(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 gen(seed);  // test data only
  std::vector<double> v;
  for (std::size_t i = 0; i < n; ++i) {
    const double u = static_cast<double>(gen() >> 11) * 0x1.0p-53;
    v.push_back((i % 3 == 0 ? -1.0 : 1.0) * std::pow(10.0, -300 + 600 * u));
  }
  return v;
}

TEST(StatsTest, SketchMemoryIsBoundedWhateverTheRange) {
  // Before the bound one such sketch held about 500 000 buckets (4 MB); a node at 200
  // steps, 0.8 GB.
  const std::vector<double> v = wide_values(100000, 5);
  QuantileSketch s;
  s.add(v.data(), static_cast<int>(v.size()));
  EXPECT_LE(s.buckets(), 2 * static_cast<std::size_t>(QuantileSketch::kMaxBuckets));
  EXPECT_LE(s.bytes(), QuantileSketch::max_bytes());
  EXPECT_LE(QuantileSketch::max_bytes(), std::size_t{66} * 1024);
  EXPECT_EQ(s.count(), v.size());
  // One value at a time, growing both ways, and in decreasing order: the same bound.
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  QuantileSketch up, down;
  for (double x : sorted) up.add(x);
  for (auto it = sorted.rbegin(); it != sorted.rend(); ++it) down.add(*it);
  EXPECT_LE(up.bytes(), QuantileSketch::max_bytes());
  EXPECT_LE(down.bytes(), QuantileSketch::max_bytes());
}

TEST(StatsTest, CollapsedSketchKeepsTheBoundsItStates) {
  // Upper quantiles (magnitudes >= 2^-32 of the largest of their sign) within 2^-8
  // relative error; lower ones within 2^-31 of that largest magnitude, absolutely.
  std::vector<double> v = wide_values(60000, 7);
  QuantileSketch s;
  for (double x : v) s.add(x);
  std::sort(v.begin(), v.end());
  const double largest_neg = -v.front(), largest_pos = v.back();
  int relative = 0, absolute = 0;
  for (int i = 1; i <= 1000; ++i) {
    const double q = i / 1000.0;
    const double exact =
        v[static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1];
    const double largest = exact < 0 ? largest_neg : largest_pos;
    const double got = s.quantile(q);
    if (std::fabs(exact) >= std::ldexp(largest, -32)) {
      EXPECT_LE(std::fabs(got - exact), std::ldexp(std::fabs(exact), -8)) << q;
      ++relative;
    } else {
      EXPECT_LE(std::fabs(got - exact), std::ldexp(largest, -31)) << q;
      ++absolute;
    }
  }
  EXPECT_GT(relative, 10);  // both cases are exercised
  EXPECT_GT(absolute, 500);
  EXPECT_EQ(s.quantile(0.0), v.front());
}

TEST(StatsTest, CollapsedSketchMergesExactlyInAnyOrder) {
  const std::vector<double> v = wide_values(40000, 9);
  auto state = [](const QuantileSketch& s) {
    std::vector<std::uint64_t> c;
    std::vector<double> r;
    s.save(c, r);
    return std::make_pair(c, r);
  };
  QuantileSketch whole;
  for (double x : v) whole.add(x);
  // Eight parts (interleaved, so each spans the whole range) merged left to right, right
  // to left and as a tree: the bits of one sketch of every value.
  std::vector<QuantileSketch> parts(8);
  for (std::size_t i = 0; i < v.size(); ++i) parts[(i * 7 + i / 1000) % 8].add(v[i]);
  QuantileSketch left, right, tree;
  for (const auto& p : parts) left.merge(p);
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) right.merge(*it);
  std::vector<QuantileSketch> level = parts;
  while (level.size() > 1) {
    std::vector<QuantileSketch> up;
    for (std::size_t i = 0; i + 1 < level.size(); i += 2) {
      up.push_back(level[i]);
      up.back().merge(level[i + 1]);
    }
    level = up;
  }
  tree = level[0];
  EXPECT_EQ(state(left), state(whole));
  EXPECT_EQ(state(right), state(whole));
  EXPECT_EQ(state(tree), state(whole));
  // A narrow sketch merged into a collapsed one and the other way round.
  QuantileSketch narrow, a, b;
  for (int i = 1; i <= 1000; ++i) narrow.add(i * 1e-200);
  a = whole;
  a.merge(narrow);
  b = narrow;
  b.merge(whole);
  EXPECT_EQ(state(a), state(b));
}

TEST(StatsTest, SketchStateWiderThanTheBoundIsCollapsedOnLoading) {
  // A state as files written before the bound hold it: positive buckets over 8 000
  // consecutive indices, none negative.
  const std::int64_t lo = 4000000;  // bucket index of a value about 2^-131
  std::vector<std::uint64_t> counts{static_cast<std::uint64_t>(lo), 8000, 8000};
  for (int i = 0; i < 8000; ++i) counts.push_back(1);
  counts.insert(counts.end(), {0, 0, 0, 0, 8000});  // no negatives; zeros; n
  std::vector<double> reals{0x1.0p-131, 0x1.0p-69};
  QuantileSketch loaded;
  std::size_t ci = 0, ri = 0;
  loaded.load(counts, ci, reals, ri);
  EXPECT_EQ(ci, counts.size());
  EXPECT_EQ(loaded.count(), 8000u);
  EXPECT_EQ(loaded.buckets(), static_cast<std::size_t>(QuantileSketch::kMaxBuckets));
  std::vector<std::uint64_t> c;
  std::vector<double> r;
  loaded.save(c, r);
  EXPECT_EQ(c[0], static_cast<std::uint64_t>(lo + 8000 - QuantileSketch::kMaxBuckets));
  EXPECT_EQ(c[3], 8000u - QuantileSketch::kMaxBuckets + 1);  // the collapsed bucket
  EXPECT_EQ(c[2], 8000u);                                    // total kept
}

}  // namespace
}  // namespace attain
