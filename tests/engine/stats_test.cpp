// Tests of the Wilson interval, moment merging and the quantile sketch.
#include "attain/stats.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

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
  const std::int64_t lo = (1023 - 131) << 7;  // bucket index of 2^-131
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

TEST(StatsTest, SketchStateNamingNoBucketIsRefused) {
  // Bucket indices are the top 19 bits of a double: 2^19 and above name no value.
  for (const std::uint64_t lo :
       {std::uint64_t{1} << 19, std::uint64_t{1} << 62, ~std::uint64_t{0}}) {
    const std::vector<std::uint64_t> counts{lo, 1, 1, 1, 0, 0, 0, 0, 1};
    const std::vector<double> reals{1.0, 1.0};
    QuantileSketch s;
    std::size_t ci = 0, ri = 0;
    EXPECT_THROW(s.load(counts, ci, reals, ri), std::invalid_argument) << lo;
  }
}

using SavedState = std::pair<std::vector<std::uint64_t>, std::vector<double>>;

SavedState saved(const QuantileSketch& s) {
  SavedState st;
  s.save(st.first, st.second);
  return st;
}

/// The state save() writes for `v`, computed from the values alone as the bounded dense
/// store defines it: per sign, buckets from max(lowest index, highest - kMaxBuckets + 1)
/// to the highest index, lower indices counted in the first.
SavedState reference_state(const std::vector<double>& v) {
  std::vector<std::int64_t> pos, neg;
  std::uint64_t zeros = 0;
  for (double x : v) {
    if (x == 0) {
      ++zeros;
      continue;
    }
    const auto index = static_cast<std::int64_t>(std::bit_cast<std::uint64_t>(std::fabs(x)) >> 45);
    (x > 0 ? pos : neg).push_back(index);
  }
  SavedState st;
  for (const auto* indices : {&pos, &neg}) {
    if (indices->empty()) {
      st.first.insert(st.first.end(), {0, 0, 0});
      continue;
    }
    const auto [lowest, highest] = std::minmax_element(indices->begin(), indices->end());
    const std::int64_t lo = std::max(*lowest, *highest - (QuantileSketch::kMaxBuckets - 1));
    std::vector<std::uint64_t> c(static_cast<std::size_t>(*highest - lo + 1), 0);
    for (const std::int64_t i : *indices) ++c[static_cast<std::size_t>(std::max(i, lo) - lo)];
    st.first.insert(st.first.end(), {static_cast<std::uint64_t>(lo), c.size(), indices->size()});
    st.first.insert(st.first.end(), c.begin(), c.end());
  }
  st.first.insert(st.first.end(), {zeros, v.size()});
  if (v.empty()) {
    st.second = {0.0, 0.0};
  } else {
    const auto [mn, mx] = std::minmax_element(v.begin(), v.end());
    st.second = {*mn, *mx};
  }
  return st;
}

/// The q-quantile of a saved state, as documented: the midpoint of the bucket of the
/// order statistic x_(ceil(q n)), clamped to [min, max].
double reference_quantile(const SavedState& st, double q) {
  const std::vector<std::uint64_t>& c = st.first;
  const std::size_t neg_at = 3 + static_cast<std::size_t>(c[1]);
  const std::size_t zeros_at = neg_at + 3 + static_cast<std::size_t>(c[neg_at + 1]);
  const std::uint64_t n = c[zeros_at + 1];
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n)));
  rank = std::clamp<std::uint64_t>(rank, 1, n);
  auto mid = [](std::uint64_t index) {
    return 0.5 * (std::bit_cast<double>(index << 45) + std::bit_cast<double>((index + 1) << 45));
  };
  std::uint64_t seen = 0;
  double v = 0;
  bool found = false;
  for (std::size_t i = c[neg_at + 1]; i-- > 0 && !found;)
    if ((seen += c[neg_at + 3 + i]) >= rank) v = -mid(c[neg_at] + i), found = true;
  if (!found && (seen += c[zeros_at]) >= rank) v = 0, found = true;
  for (std::size_t i = 0; i < c[1] && !found; ++i)
    if ((seen += c[3 + i]) >= rank) v = mid(c[0] + i), found = true;
  return std::clamp(v, st.second[0], st.second[1]);
}

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

/// Expects `s` to hold the state of `v` exactly: saved arrays and quantiles.
void expect_state_of(const QuantileSketch& s, const std::vector<double>& v, const char* how) {
  const SavedState want = reference_state(v);
  EXPECT_EQ(saved(s), want) << how << ", " << v.size() << " values";
  if (v.empty()) {
    EXPECT_TRUE(std::isnan(s.quantile(0.5))) << how;
    return;
  }
  for (double q : {0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0})
    EXPECT_TRUE(same_bits(s.quantile(q), reference_quantile(want, q))) << how << " q " << q;
}

/// Data sets of several shapes: the whole double range with both signs and zeros, a
/// narrow range, a normal sample crossing zero, values growing past the bound.
std::vector<std::vector<double>> data_sets() {
  std::mt19937_64 gen(11);  // test data only
  auto u = [&] { return static_cast<double>(gen() >> 11) * 0x1.0p-53; };
  std::vector<std::vector<double>> sets;
  for (const std::size_t n : {1, 2, 16, 200, 1000, 6000})
    for (int kind = 0; kind < 4; ++kind) {
      std::vector<double> v;
      for (std::size_t i = 0; i < n; ++i) {
        double x = 0;
        if (kind == 0)
          x = u() < 0.1 ? 0.0 : (u() < 0.5 ? -1 : 1) * std::pow(10.0, -300 + 600 * u());
        else if (kind == 1)
          x = 1 + u();
        else if (kind == 2)
          x = std::sqrt(-2 * std::log(1 - u())) * std::cos(6.283185307179586 * u());
        else
          x = std::pow(10.0, -300 + 600 * static_cast<double>(i) / static_cast<double>(n));
        v.push_back(x);
      }
      sets.push_back(v);
    }
  return sets;
}

TEST(StatsTest, SparseAndDenseStoresHoldTheSameState) {
  // Whatever form each store takes on the way (few values over a wide range stay sparse,
  // many values or a narrow range turn dense), the counts, the saved arrays and the
  // quantiles are those of the dense bounded store, and merging in any order gives them.
  int sparse_seen = 0, dense_seen = 0;
  for (const std::vector<double>& v : data_sets()) {
    QuantileSketch one, batch;
    for (double x : v) one.add(x);
    batch.add(v.data(), static_cast<int>(v.size()));
    expect_state_of(one, v, "one at a time");
    expect_state_of(batch, v, "in a batch");
    (one.sparse(1) ? sparse_seen : dense_seen)++;
    // Parts of uneven sizes (some sparse, some dense) merged left to right, right to
    // left, and each into the union of the others.
    for (const int parts : {3, 13}) {
      std::vector<QuantileSketch> p(static_cast<std::size_t>(parts));
      std::vector<std::vector<double>> pv(p.size());
      for (std::size_t i = 0; i < v.size(); ++i) {
        const std::size_t to = (i * i + i / 5) % p.size();
        p[to].add(v[i]);
        pv[to].push_back(v[i]);
      }
      QuantileSketch left, right, nested;
      for (const auto& s : p) left.merge(s);
      for (auto it = p.rbegin(); it != p.rend(); ++it) right.merge(*it);
      for (const auto& s : p) {
        QuantileSketch t = s;
        t.merge(nested);
        nested = t;
      }
      expect_state_of(left, v, "merged left to right");
      expect_state_of(right, v, "merged right to left");
      expect_state_of(nested, v, "merged nested");
      for (std::size_t i = 0; i < p.size(); ++i) {
        expect_state_of(p[i], pv[i], "a part");
        (p[i].sparse(1) ? sparse_seen : dense_seen)++;
      }
    }
    // Loaded, the state is the same and grows the same.
    const SavedState st = saved(one);
    QuantileSketch back;
    std::size_t ci = 0, ri = 0;
    back.load(st.first, ci, st.second, ri);
    expect_state_of(back, v, "loaded");
    std::vector<double> more = v;
    for (std::size_t i = 0; i < v.size() && i < 300; ++i) {
      back.add(-v[i] * 1e5);
      more.push_back(-v[i] * 1e5);
    }
    expect_state_of(back, more, "loaded, then added to");
  }
  EXPECT_GT(sparse_seen, 20);
  EXPECT_GT(dense_seen, 20);
}

TEST(StatsTest, SketchOfFewValuesOverAWideRangeIsSmall) {
  // 200 values spread over 1e-300..1e300 with both signs: each sign's dense array would
  // span the bound (4 097 buckets, 32 KiB); sparse, a sketch holds a few KiB.
  std::vector<double> v = wide_values(200, 13);
  QuantileSketch s;
  s.add(v.data(), static_cast<int>(v.size()));
  EXPECT_TRUE(s.sparse(1));
  EXPECT_TRUE(s.sparse(-1));
  EXPECT_LE(s.bytes(), std::size_t{4} * 1024);
  expect_state_of(s, v, "200 wide values");
  // The same values as 13 chunks of 16 merged, as the summary reducer holds them.
  QuantileSketch total;
  for (std::size_t at = 0; at < v.size(); at += 16) {
    QuantileSketch chunk;
    for (std::size_t i = at; i < std::min(at + 16, v.size()); ++i) chunk.add(v[i]);
    EXPECT_LE(chunk.bytes(), std::size_t{1024});
    total.merge(chunk);
  }
  EXPECT_LE(total.bytes(), std::size_t{4} * 1024);
  expect_state_of(total, v, "13 chunks merged");
}

TEST(StatsTest, SketchChangesFormExactly) {
  // Values filling a narrow span one bucket after another: sparse while they fill less
  // than a quarter of their span, dense after, with the state checked at every step.
  std::vector<double> v;
  QuantileSketch s;
  bool was_sparse = false, turned_dense = false;
  for (int i = 0; i < 400; ++i) {
    const double x = 1 + (i % 2 ? 0.5 : 0.25) * (1 + std::sin(i));
    v.push_back(x);
    s.add(x);
    if (was_sparse && !s.sparse(1)) turned_dense = true;
    was_sparse = s.sparse(1);
    expect_state_of(s, v, "growing");
  }
  EXPECT_TRUE(turned_dense);
  EXPECT_FALSE(s.sparse(1));
  // A dense store of few buckets that must grow over a wide span turns sparse, by add()
  // and by merge(), and the counts are unchanged.
  QuantileSketch narrow;
  std::vector<double> nv;
  for (int i = 0; i < 50; ++i) nv.push_back(1 + i / 64.0);
  narrow.add(nv.data(), static_cast<int>(nv.size()));
  ASSERT_FALSE(narrow.sparse(1));
  QuantileSketch added = narrow, merged = narrow, far;
  added.add(1e200);
  far.add(1e200);
  merged.merge(far);
  nv.push_back(1e200);
  EXPECT_TRUE(added.sparse(1));
  EXPECT_TRUE(merged.sparse(1));
  expect_state_of(added, nv, "dense, then a far value added");
  expect_state_of(merged, nv, "dense, then a far value merged");
  // And below the bound: a value 40 octaves down collapses into the lowest bucket kept.
  added.add(1e188);
  nv.push_back(1e188);
  expect_state_of(added, nv, "collapsed while sparse");
}

}  // namespace
}  // namespace attain
