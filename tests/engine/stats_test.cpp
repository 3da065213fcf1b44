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

}  // namespace
}  // namespace attain
