// GoogleTest: common random numbers that survive a change of parameters. Every per-run
// value is the inverse CDF of one uniform, so raising a rate or shifting a distribution
// can only raise the value a run draws.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/gamma.hpp>
#include <boost/math/distributions/poisson.hpp>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "attain/distributions.hpp"
#include "attain/graph.hpp"
#include "attain/model.hpp"
#include "attain/program.hpp"
#include "attain/random.hpp"
#include "attain/yaml_reader.hpp"

namespace attain {
namespace {

namespace bm = boost::math;

// Uniforms over (0, 1): a regular grid, both tails down to 1e-300 and 1e-16, and the
// extreme values of u01().
std::vector<double> uniform_grid() {
  std::vector<double> us;
  for (int i = 1; i < 2000; ++i) us.push_back(i / 2000.0 + 1.234e-5);
  for (int e = 3; e <= 300; e += 3) us.push_back(std::pow(10.0, -e));
  for (int e = 3; e <= 16; ++e) us.push_back(1.0 - std::pow(10.0, -e));
  us.push_back(0.5 * 0x1p-52);
  us.push_back(1.0 - 0.5 * 0x1p-52);
  std::sort(us.begin(), us.end());
  return us;
}

// k is the smallest integer with F(k) >= u: F(k - 1) < u <= F(k), up to 1e-14 of the CDF
// relative to the tail, checked on the upper tail (Boost's complement) where u > 1/2. The
// sums from 0 of the small means add an absolute error of about 1e-16 per term there.
template <class Dist>
void expect_exact_quantile(const Dist& d, double k, double u, const std::string& what) {
  const double tol = 1e-14;
  if (u <= 0.5) {
    EXPECT_GE(bm::cdf(d, k), u * (1 - tol)) << what;
    if (k > 0) {
      EXPECT_LT(bm::cdf(d, k - 1), u * (1 + tol)) << what;
    }
  } else {
    const double v = 1.0 - u, slack = v * tol + 1e-14;
    EXPECT_LE(bm::cdf(bm::complement(d, k)), v + slack) << what;
    if (k > 0) {
      EXPECT_GT(bm::cdf(bm::complement(d, k - 1)), v - slack) << what;
    }
  }
}

const std::vector<double> kRates = {0.5, 5, 29.9, 30, 100, 1e4, 1e6};

TEST(CommonRandomNumbers, PoissonInverseCdfIsExactAndMonotoneInU) {
  const std::vector<double> us = uniform_grid();
  for (double rate : kRates) {
    const bm::poisson d(rate);
    double prev = -1;
    for (double u : us) {
      const double k = quantile(DistKind::kPoisson, std::vector<double>{rate}, nullptr, u);
      ASSERT_TRUE(k >= 0 && k == std::floor(k)) << rate << " " << u << " " << k;
      expect_exact_quantile(d, k, u, "rate " + std::to_string(rate) + " u " + std::to_string(u));
      ASSERT_GE(k, prev) << "monotone in u: rate " << rate << " u " << u;
      prev = k;
    }
  }
}

TEST(CommonRandomNumbers, BinomialInverseCdfIsExactAndMonotoneInU) {
  // Means 0.5 ... 1e6, both sides of p = 1/2, sequential and stepped.
  const std::vector<std::vector<double>> cases = {
      {1000, 0.0005}, {1000, 0.005}, {1000, 0.0299}, {1000, 0.03}, {1000, 0.1}, {100, 0.7},
      {200, 0.95},    {1000, 0.97},  {1e5, 0.1},     {1e5, 0.5},   {1e7, 0.1},  {50, 0.5}};
  const std::vector<double> us = uniform_grid();
  for (const auto& p : cases) {
    const bm::binomial d(p[0], p[1]);
    double prev = -1;
    for (double u : us) {
      const double k = quantile(DistKind::kBinomial, p, nullptr, u);
      ASSERT_TRUE(k >= 0 && k <= p[0] && k == std::floor(k)) << p[0] << " " << p[1] << " " << u;
      expect_exact_quantile(
          d, k, u,
          "n " + std::to_string(p[0]) + " p " + std::to_string(p[1]) + " u " + std::to_string(u));
      ASSERT_GE(k, prev) << "monotone in u: n " << p[0] << " p " << p[1] << " u " << u;
      prev = k;
    }
  }
}

TEST(CommonRandomNumbers, PoissonAndBinomialInverseCdfAreMonotoneInTheRate) {
  std::vector<double> us;
  for (int i = 1; i < 400; ++i) us.push_back(i / 400.0 - 1.7e-4);
  for (double t : {1e-12, 1e-6, 1 - 1e-6, 1 - 1e-12}) us.push_back(t);
  // The grid of rates, and dense sweeps across the switches (sequential / stepped at 30,
  // Temme's expansion from k + 1 > 200).
  std::vector<double> rates = kRates;
  for (double r = 25; r <= 35; r += 0.01) rates.push_back(r);
  for (double r = 180; r <= 220; r += 0.05) rates.push_back(r);
  std::sort(rates.begin(), rates.end());
  for (double u : us) {
    double prev = 0;
    for (double rate : rates) {
      const double k = quantile(DistKind::kPoisson, std::vector<double>{rate}, nullptr, u);
      ASSERT_GE(k, prev) << "Poisson: u " << u << " rate " << rate;
      prev = k;
    }
    // Binomial in p (n fixed) and in n (p fixed), across n min(p, 1 - p) = 30 and p = 1/2.
    prev = 0;
    for (double p = 0.001; p < 1; p += 0.001) {
      const double k = quantile(DistKind::kBinomial, std::vector<double>{100, p}, nullptr, u);
      ASSERT_GE(k, prev) << "binomial: u " << u << " p " << p;
      prev = k;
    }
    prev = 0;
    for (double n = 1; n <= 2000; n += 1) {
      const double k = quantile(DistKind::kBinomial, std::vector<double>{n, 0.1}, nullptr, u);
      ASSERT_GE(k, prev) << "binomial: u " << u << " n " << n;
      prev = k;
    }
  }
}

// ---- The engine: levers and scenarios keep the pairing of runs -------------------------

std::filesystem::path write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("attain_crn_" + std::to_string(::getpid()) + "_" + name + ".yaml");
  std::ofstream(path) << text;
  return path;
}

Model load_text(const std::string& name, const std::string& text) {
  const auto path = write_temp(name, text);
  Model m = load_model(path.string());
  std::filesystem::remove(path);
  return m;
}

// A lever scales Poisson rates (small, near the switch at 30, and large) and binomial
// probabilities (sequential and stepped); stocks count the events.
const char* kLeverModel = R"yaml(model: crn
description: a lever that raises rates
time: {start: 2017, end: 2022}
levers:
  effort: {label: effort, unit: "1", description: d, source: "assumption", value: 1}
parameters:
  yield: {label: y, unit: "1", description: d, source: "assumption", dist: pert, min: 2, mode: 3.5, max: 6}
  scale: {label: s, unit: "1", description: d, source: "assumption", dist: gamma, shape: 2, scale: 1.5}
shocks:
  few: {label: f, unit: "1", description: d, dist: poisson, rate: yield * effort}
  some: {label: s, unit: "1", description: d, dist: poisson, rate: 8 * yield * effort}
  many: {label: m, unit: "1", description: d, dist: poisson, rate: 3000 * scale * effort}
  trials: {label: t, unit: "1", description: d, dist: binomial, n: 40, p: "min(1, 0.1 * yield * effort)"}
  big: {label: b, unit: "1", description: d, dist: binomial, n: 2000, p: "min(1, 0.01 * scale * effort)"}
stocks:
  total: {label: t, unit: "1", description: d, source: "assumption", initial: 0, change: few + some + trials + big}
targets:
  - {node: total, op: ">=", threshold: 700, label: total, source: "assumption"}
)yaml";

std::vector<std::vector<double>> evaluate_all(const Program& p, const std::vector<int>& slots,
                                              int runs) {
  std::vector<std::vector<double>> out(slots.size());
  Program::Block b = p.make_block(256);
  for (int first = 0; first < runs; first += 256) {
    const int count = std::min(256, runs - first);
    p.evaluate(b, 11, static_cast<std::uint64_t>(first), count);
    for (std::size_t j = 0; j < slots.size(); ++j)
      for (int k = 0; k < p.steps(); ++k)
        for (int lane = 0; lane < count; ++lane)
          out[j].push_back(b.at(k, slots[j], lane, p.slots()));
  }
  return out;
}

TEST(CommonRandomNumbers, RaisingALeverNeverLowersARunsCount) {
  const Model m = load_text("lever", kLeverModel);
  const DependencyGraph g = build_graph(m);
  std::vector<int> slots;
  for (const char* name : {"few", "some", "many", "trials", "big", "total", "yield", "scale"})
    slots.push_back(m.node_index.at(name));
  const int runs = 3000;
  std::vector<std::vector<std::vector<double>>> by_level;
  Program p = compile(m, g);
  for (double level : {0.5, 1.0, 1.01, 1.3, 2.0}) {
    LeverRule rule;
    rule.value = level;
    p.set_lever("effort", rule);
    by_level.push_back(evaluate_all(p, slots, runs));
  }
  const std::size_t total = 5, steps = static_cast<std::size_t>(p.steps());
  for (std::size_t l = 1; l < by_level.size(); ++l) {
    const auto &lo = by_level[l - 1], &hi = by_level[l];
    int raised = 0;
    for (std::size_t j = 0; j < slots.size(); ++j) {
      for (std::size_t i = 0; i < lo[j].size(); ++i) {
        ASSERT_GE(hi[j][i], lo[j][i]) << "node " << m.nodes[slots[j]].name << " value " << i;
        raised += hi[j][i] > lo[j][i];
      }
    }
    EXPECT_GT(raised, 0);
    // Parameters do not depend on the lever: the same values in every run.
    EXPECT_EQ(lo[6], hi[6]);
    EXPECT_EQ(lo[7], hi[7]);
    // So P(target) is monotone in the lever, run by run.
    int hits_lo = 0, hits_hi = 0;
    for (std::size_t r = 0; r < static_cast<std::size_t>(runs); ++r) {
      // Values are stored per block step by step; the last step of run r:
      const std::size_t block = r / 256, lane = r % 256;
      const std::size_t count = std::min<std::size_t>(256, runs - block * 256);
      const std::size_t at = block * 256 * steps + (steps - 1) * count + lane;
      const bool a = lo[total][at] >= 700, b = hi[total][at] >= 700;
      EXPECT_LE(a, b) << "run " << r;
      hits_lo += a;
      hits_hi += b;
    }
    EXPECT_LE(hits_lo, hits_hi);
  }
}

DistSpec spec(DistKind kind, std::vector<double> p) {
  DistSpec d;
  d.kind = kind;
  d.p = std::move(p);
  return d;
}

TEST(CommonRandomNumbers, AParameterShiftedRightDrawsAtLeastTheSameValueInEveryRun) {
  const char* text = R"(model: shift
description: parameters to override
time: {start: 2017, end: 2018}
parameters:
  a: {label: a, unit: "1", description: d, source: "assumption", dist: pert, min: 1, mode: 2, max: 5}
  b: {label: b, unit: "1", description: d, source: "assumption", dist: gamma, shape: 2, scale: 1.5}
  c: {label: c, unit: "1", description: d, source: "assumption", dist: beta, alpha: 2, beta: 5}
  d: {label: d, unit: "1", description: d, source: "assumption", dist: pert, min: 0, mode: 0.3, max: 1}
correlations:
  - {parameters: [c, d], matrix: [[1, 0.5], [0.5, 1]]}
)";
  const Model m = load_text("shift", text);
  const DependencyGraph g = build_graph(m);
  // Each override moves a distribution to the right (first-order stochastic dominance):
  // a larger mode, a shift, a larger mode with a wider range, a larger shape or scale, a
  // larger alpha, a smaller beta (alpha up and beta down, never the reverse).
  const std::vector<std::pair<std::string, DistSpec>> overrides = {
      {"a", spec(DistKind::kPert, {1, 3, 5, 4})},
      {"a", spec(DistKind::kPert, {1.5, 2.5, 5.5, 4})},
      {"a", spec(DistKind::kPert, {1, 2.5, 6, 4})},
      {"b", spec(DistKind::kGamma, {2.5, 1.5})},
      {"b", spec(DistKind::kGamma, {2, 1.8})},
      {"c", spec(DistKind::kBeta, {3, 5, 0, 1})},
      {"c", spec(DistKind::kBeta, {2, 4, 0, 1})},
      {"d", spec(DistKind::kPert, {0, 0.5, 1, 4})},
      {"d", spec(DistKind::kPert, {0.1, 0.4, 1.1, 4})},
  };
  const Program base = compile(m, g);
  const int runs = 5000;
  std::vector<int> slots;
  for (const char* name : {"a", "b", "c", "d"}) slots.push_back(m.node_index.at(name));
  const auto before = evaluate_all(base, slots, runs);
  for (const auto& [name, dist] : overrides) {
    Scenario s = default_scenario(m);
    s.parameters.push_back({name, dist});
    const Program shifted = compile(apply_scenario(m, s), g);
    const auto after = evaluate_all(shifted, slots, runs);
    const std::size_t j = static_cast<std::size_t>(
        std::find(slots.begin(), slots.end(), m.node_index.at(name)) - slots.begin());
    int raised = 0;
    for (std::size_t i = 0; i < before[j].size(); ++i) {
      ASSERT_GE(after[j][i], before[j][i]) << name << " " << dist_name(dist.kind) << " value " << i;
      raised += after[j][i] > before[j][i];
    }
    EXPECT_GT(raised, static_cast<int>(before[j].size()) * 9 / 10) << name;
    // The other parameters keep their values (their own streams).
    for (std::size_t o = 0; o < slots.size(); ++o) {
      if (o == j) continue;
      // c and d are correlated: changing one's marginal does not move the other's uniform.
      EXPECT_EQ(after[o], before[o]) << name << " changed " << m.nodes[slots[o]].name;
    }
  }
}

// ---- The new draws follow their distributions -----------------------------------------

// Parameters are drawn as QuantileFunction(u) of one uniform per run: Kolmogorov-Smirnov
// against Boost's CDF at level 1e-6, and the mean within 5 standard errors.
TEST(CommonRandomNumbers, TabulatedParameterDrawsFollowTheirDistribution) {
  struct Case {
    DistKind kind;
    std::vector<double> p;
  };
  const std::vector<Case> cases = {
      {DistKind::kPert, {0, 3, 10, 4}},    {DistKind::kPert, {0.05, 0.085, 0.11, 4}},
      {DistKind::kBeta, {0.5, 0.5, 0, 1}}, {DistKind::kBeta, {2, 5, 10, 20}},
      {DistKind::kGamma, {0.3, 2}},        {DistKind::kGamma, {20, 0.5}}};
  const int n = 200000;
  for (const auto& c : cases) {
    const QuantileFunction q(c.kind, c.p, nullptr);
    std::vector<double> xs(n);
    double sum = 0;
    for (int i = 0; i < n; ++i) {
      Stream s(3, static_cast<std::uint64_t>(i), 17, kOncePerRun, StreamPurpose::kTest);
      xs[static_cast<std::size_t>(i)] = q(s.u01());
      sum += xs[static_cast<std::size_t>(i)];
    }
    const double mean = dist_mean(c.kind, c.p, nullptr);
    const double var = dist_variance(c.kind, c.p, nullptr);
    EXPECT_NEAR(sum / n, mean, 5 * std::sqrt(var / n)) << dist_name(c.kind);
    std::sort(xs.begin(), xs.end());
    double lo = 0, width = 1, a = 0, b = 0;
    if (c.kind == DistKind::kPert) {
      lo = c.p[0], width = c.p[2] - c.p[0];
      a = 1 + c.p[3] * (c.p[1] - c.p[0]) / width, b = 1 + c.p[3] * (c.p[2] - c.p[1]) / width;
    } else if (c.kind == DistKind::kBeta) {
      lo = c.p[2], width = c.p[3] - c.p[2], a = c.p[0], b = c.p[1];
    }
    double d = 0;
    for (int i = 0; i < n; ++i) {
      const double x = xs[static_cast<std::size_t>(i)];
      const double f =
          c.kind == DistKind::kGamma
              ? bm::cdf(bm::gamma_distribution<>(c.p[0], c.p[1]), x)
              : bm::cdf(bm::beta_distribution<>(a, b), std::clamp((x - lo) / width, 0.0, 1.0));
      d = std::max({d, f - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - f});
    }
    EXPECT_LT(d, std::sqrt(-std::log(1e-6 / 2) / (2.0 * n))) << dist_name(c.kind);
  }
}

}  // namespace
}  // namespace attain
