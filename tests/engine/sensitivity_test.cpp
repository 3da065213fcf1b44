// Tests of global sensitivity: Sobol indices against analytic values (Ishigami, a linear
// model, an indicator of a box), the shock factor, conditional thirds, PRIM on the
// design sample, factors, and bit-identity across threads and split run ranges.
#include "attain/sensitivity.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numbers>

#include "attain/graph.hpp"
#include "attain/yaml_reader.hpp"

#ifndef ATTAIN_TEST_DATA
#define ATTAIN_TEST_DATA "tests/data"
#endif

namespace attain {
namespace {

Program compile_text(const std::string& text) {
  Model m = parse_model(text, "test.yaml");
  return compile(m, build_graph(m));
}

Program ishigami() {
  Model m = load_model(std::string(ATTAIN_TEST_DATA) + "/ishigami.yaml");
  return compile(m, build_graph(m));
}

std::string uniform_param(const std::string& name) {
  return "  " + name + ": {label: " + name +
         ", unit: '1', description: d, source: s, dist: uniform, min: 0, max: 1}\n";
}

/// Met iff a > 0.7 and b < 0.3; c and d are irrelevant.
const std::string kBoxModel =
    "model: box\ndescription: d\ntime: {start: 2020, end: 2021}\n"
    "parameters:\n" +
    uniform_param("a") + uniform_param("b") + uniform_param("c") + uniform_param("d") +
    "auxiliaries:\n"
    "  z: {label: z, unit: '1', description: d, formula: 'if(a > 0.7 "
    "and b < 0.3, 1, 0) + 0 * c * d'}\n"
    "targets:\n"
    "  - {node: z, op: '>=', threshold: 0.5, label: box, source: s}\n";

/// y = a + 2 b (+ 0 c): S1 = ST = 1/5, 4/5, 0.
const std::string kLinearModel =
    "model: linear\ndescription: d\ntime: {start: 2020, end: 2021}\n"
    "parameters:\n" +
    uniform_param("a") + uniform_param("b") + uniform_param("c") +
    "auxiliaries:\n"
    "  y: {label: y, unit: '1', description: d, formula: a + 2 * b + 0 * c}\n"
    "targets:\n"
    "  - {node: y, op: '>=', threshold: 1.5, label: y, source: s}\n";

/// The outcome depends only on the shocks; the parameter only on a node no target reads.
const std::string kShockModel =
    "model: shocky\ndescription: d\ntime: {start: 2017, end: 2020}\n"
    "parameters:\n" +
    uniform_param("a") +
    "shocks:\n"
    "  e: {label: e, unit: '1', description: d, dist: normal, mean: 0, sd: 1}\n"
    "auxiliaries:\n"
    "  unused: {label: u, unit: '1', description: d, formula: 3 * a}\n"
    "stocks:\n"
    "  s: {label: s, unit: '1', description: d, source: s, initial: 0, change: e}\n"
    "targets:\n"
    "  - {node: s, op: '>=', threshold: 0, label: s, source: s}\n";

const OutputSensitivity& value_output(const SensitivityResult& r, int target) {
  for (const auto& o : r.outputs)
    if (o.output.target == target && !o.output.met) return o;
  throw std::logic_error("no value output");
}
const OutputSensitivity& met_output(const SensitivityResult& r, int target) {
  for (const auto& o : r.outputs)
    if (o.output.target == target && o.output.met) return o;
  throw std::logic_error("no met output");
}
std::size_t factor_index(const SensitivityResult& r, const std::string& name) {
  for (std::size_t j = 0; j < r.factors.size(); ++j)
    if (r.factors[j].name == name) return j;
  throw std::logic_error("no factor " + name);
}

void expect_inside(const Estimate& e, double truth, const std::string& what) {
  EXPECT_LE(e.lo, truth) << what << ": " << e.value << " [" << e.lo << ", " << e.hi << "]";
  EXPECT_GE(e.hi, truth) << what << ": " << e.value << " [" << e.lo << ", " << e.hi << "]";
  EXPECT_LT(e.hi - e.lo, 0.3) << what;
}

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

TEST(SensitivityTest, IshigamiIndicesInsideTheirIntervals) {
  const Program p = ishigami();
  constexpr double a = 7, b = 0.1, pi = std::numbers::pi;
  const double v1 = 0.5 * std::pow(1 + b * std::pow(pi, 4) / 5, 2);
  const double v2 = a * a / 8;
  const double v13 = b * b * std::pow(pi, 8) * 8 / 225;
  const double v = v1 + v2 + v13;
  for (Sampling sampling : {Sampling::kSobol, Sampling::kRandom}) {
    SensitivityOptions o;
    o.rows = 4096;
    o.sampling = sampling;
    o.threads = 2;
    const SensitivityResult r = run_sensitivity(p, o);
    ASSERT_EQ(r.factors.size(), 3u);  // a and b are fixed: not factors; no shocks
    EXPECT_EQ(r.runs, 4096u * 5);
    const auto& y = value_output(r, 0);
    EXPECT_NEAR(y.variance, v, 0.05 * v);
    const std::size_t x1 = factor_index(r, "x1"), x2 = factor_index(r, "x2"),
                      x3 = factor_index(r, "x3");
    const std::string s = sampling == Sampling::kSobol ? "sobol " : "random ";
    expect_inside(y.factors[x1].s1, v1 / v, s + "S1 x1");
    expect_inside(y.factors[x2].s1, v2 / v, s + "S1 x2");
    expect_inside(y.factors[x3].s1, 0.0, s + "S1 x3");
    expect_inside(y.factors[x1].st, (v1 + v13) / v, s + "ST x1");
    expect_inside(y.factors[x2].st, v2 / v, s + "ST x2");
    expect_inside(y.factors[x3].st, v13 / v, s + "ST x3");
    // What is left to interactions: 1 - sum S1 = V13 / V.
    expect_inside(y.sum_s1, (v1 + v2) / v, s + "sum S1");
  }
}

TEST(SensitivityTest, IntervalsShrinkAsOneOverRootN) {
  const Program p = ishigami();
  auto width = [&](std::uint64_t rows) {
    SensitivityOptions o;
    o.rows = rows;
    o.sampling = Sampling::kRandom;
    const SensitivityResult r = run_sensitivity(p, o);
    const auto& y = value_output(r, 0);
    double w = 0;
    for (const auto& f : y.factors) w += (f.s1.hi - f.s1.lo) + (f.st.hi - f.st.lo);
    return w;
  };
  const double ratio = width(1024) / width(16384);  // 1/sqrt(N): 4
  EXPECT_GT(ratio, 3.0);
  EXPECT_LT(ratio, 5.3);
}

TEST(SensitivityTest, LinearModelAndIrrelevantFactor) {
  const Program p = compile_text(kLinearModel);
  SensitivityOptions o;
  o.rows = 2048;
  const SensitivityResult r = run_sensitivity(p, o);
  const auto& y = value_output(r, 0);
  expect_inside(y.factors[0].s1, 0.2, "S1 a");
  expect_inside(y.factors[1].s1, 0.8, "S1 b");
  expect_inside(y.factors[0].st, 0.2, "ST a");
  expect_inside(y.factors[1].st, 0.8, "ST b");
  // c changes nothing: every AB_c row equals A, so its indices are exactly 0.
  EXPECT_EQ(y.factors[2].s1.value, 0.0);
  EXPECT_EQ(y.factors[2].st.value, 0.0);
  EXPECT_EQ(y.factors[2].st.hi, 0.0);
  // Conditional means by thirds of b: E[y | b in third t] = 0.5 + 2 (t + 0.5) / 3.
  for (int t = 0; t < 3; ++t) {
    const Third& th = y.thirds[1][static_cast<std::size_t>(t)];
    const double truth = 0.5 + 2 * (t + 0.5) / 3;
    EXPECT_LE(th.lo, truth);
    EXPECT_GE(th.hi, truth);
  }
}

TEST(SensitivityTest, BoxIndicatorIndicesThirdsAndPrim) {
  const Program p = compile_text(kBoxModel);
  SensitivityOptions o;
  o.rows = 8192;
  const SensitivityResult r = run_sensitivity(p, o);
  ASSERT_EQ(r.factors.size(), 4u);
  const auto& met = met_output(r, 0);
  // Y = 1{a > 0.7} 1{b < 0.3}: p = 0.09, V = 0.0819, V_a = V_b = 0.3^2 * 0.7 * 0.3.
  const double v = 0.09 * 0.91, va = 0.09 * 0.21;
  EXPECT_NEAR(met.mean, 0.09, 0.01);
  expect_inside(met.factors[0].s1, va / v, "S1 a");
  expect_inside(met.factors[1].s1, va / v, "S1 b");
  expect_inside(met.factors[0].st, 1 - va / v, "ST a");
  expect_inside(met.factors[1].st, 1 - va / v, "ST b");
  for (std::size_t j : {2u, 3u}) {
    EXPECT_LE(met.factors[j].s1.lo, 0.0);
    EXPECT_GE(met.factors[j].s1.hi, 0.0);
    EXPECT_LE(met.factors[j].st.lo, 0.0);
    EXPECT_GE(met.factors[j].st.hi, 0.0);
  }
  // Closed forms: P(met | a in third) = 0, 0, 0.3 * 0.3 / (1/3) = 0.27;
  // P(met | b in third) = 0.27, 0, 0; c: 0.09 in each third.
  const double truth[3][3] = {{0, 0, 0.27}, {0.27, 0, 0}, {0.09, 0.09, 0.09}};
  for (std::size_t q = 0; q < 3; ++q)
    for (std::size_t t = 0; t < 3; ++t) {
      const Third& th = met.thirds[q][t];
      EXPECT_NEAR(static_cast<double>(th.runs), 2 * 8192 / 3.0, 2 * 8192 * 0.02);
      EXPECT_LE(th.lo, truth[q][t] + 1e-12) << q << " " << t;
      EXPECT_GE(th.hi, truth[q][t] - 1e-12) << q << " " << t;
    }
  // PRIM on the A and B points finds the box.
  ASSERT_EQ(r.prim.size(), 1u);
  const PrimResult& box = r.prim[0].result;
  ASSERT_TRUE(box.reason.empty()) << box.reason;
  EXPECT_NEAR(box.box.lower[0], 0.7, 0.03);
  EXPECT_NEAR(box.box.upper[1], 0.3, 0.03);
  EXPECT_GT(box.box.density, 0.9);
  ASSERT_EQ(box.restricted.size(), 2u);
  for (const auto& d : box.restricted) {
    EXPECT_TRUE(d.dim == 0 || d.dim == 1);
    EXPECT_LT(d.quasi_p, 1e-10);
  }
}

TEST(SensitivityTest, ShockFactorTakesTheWholeVariance) {
  const Program p = compile_text(kShockModel);
  SensitivityOptions o;
  o.rows = 4096;
  const SensitivityResult r = run_sensitivity(p, o);
  ASSERT_EQ(r.factors.size(), 2u);
  EXPECT_TRUE(r.factors[1].shocks);
  for (const auto* out : {&value_output(r, 0), &met_output(r, 0)}) {
    EXPECT_NEAR(out->factors[1].st.value, 1.0, 0.05);
    EXPECT_NEAR(out->factors[1].s1.value, 1.0, 0.08);
    EXPECT_EQ(out->factors[0].st.value, 0.0);  // a changes no output at all
  }
}

TEST(SensitivityTest, ShocksAloneOrNothingUncertain) {
  // No uncertain parameter: the shocks are the only factor, on either sampling.
  const std::string shocks_only =
      "model: s\ndescription: d\ntime: {start: 2017, end: 2020}\n"
      "shocks:\n  e: {label: e, unit: '1', description: d, dist: normal, mean: 0, sd: 1}\n"
      "stocks:\n  s: {label: s, unit: '1', description: d, source: s, initial: 0, change: e}\n"
      "targets:\n  - {node: s, op: '>=', threshold: 0, label: s, source: s}\n";
  const Program p = compile_text(shocks_only);
  for (Sampling sampling : {Sampling::kSobol, Sampling::kRandom}) {
    SensitivityOptions o;
    o.rows = 512;
    o.sampling = sampling;
    const SensitivityResult r = run_sensitivity(p, o);
    ASSERT_EQ(r.factors.size(), 1u);
    EXPECT_NEAR(value_output(r, 0).factors[0].st.value, 1.0, 0.1);
    EXPECT_TRUE(r.prim.empty());  // no parameter to put limits on
  }
  // Nothing uncertain at all: refused with a reason.
  const Program fixed = compile_text(
      "model: f\ndescription: d\ntime: {start: 2017, end: 2020}\n"
      "parameters:\n  a: {label: a, unit: '1', description: d, source: s, value: 2}\n"
      "stocks:\n  s: {label: s, unit: '1', description: d, source: s, initial: 0, change: a}\n"
      "targets:\n  - {node: s, op: '>=', threshold: 0, label: s, source: s}\n");
  EXPECT_THROW(run_sensitivity(fixed, {}), std::invalid_argument);
}

TEST(SensitivityTest, CorrelationGroupsAndHandMadeFactors) {
  Model m = load_model(std::string(ATTAIN_TEST_DATA) + "/stochastic.yaml");
  const Program p = compile(m, build_graph(m));
  auto f = sensitivity_factors(p);
  ASSERT_EQ(f.size(), 2u);  // g + y (correlated), the shocks
  EXPECT_EQ(f[0].name, "g + y");
  EXPECT_EQ(f[0].parameters.size(), 2u);
  EXPECT_TRUE(f[1].shocks);
  // A group that splits the correlated pair is refused, naming the pair.
  try {
    sensitivity_factors(p, {{"growth", {"g"}}});
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("g, y"), std::string::npos) << e.what();
  }
  EXPECT_THROW(sensitivity_factors(p, {{"x", {"nope"}}}), std::invalid_argument);
  EXPECT_THROW(sensitivity_factors(p, {{"x", {"g", "y"}}, {"z", {"y"}}}), std::invalid_argument);
  f = sensitivity_factors(p, {{"both", {"g", "y"}}});
  EXPECT_EQ(f[0].name, "both");
  // The study runs with the correlated group as one factor.
  SensitivityOptions o;
  o.rows = 512;
  const SensitivityResult r = run_sensitivity(p, o);
  EXPECT_EQ(r.outputs.size(), 5u);  // 2 targets x (met, value) + the joint
}

TEST(SensitivityTest, BitIdenticalAcrossThreadsBlocksAndSplitRanges) {
  Model m = load_model(std::string(ATTAIN_TEST_DATA) + "/stochastic.yaml");
  const Program p = compile(m, build_graph(m));
  const auto factors = sensitivity_factors(p);
  auto study = [&] {
    Study s;
    for (std::size_t v = 0; v < factors.size() + 2; ++v) s.variants.push_back(&p);
    s.design = saltelli_design(p, factors, 9, Sampling::kSobol);
    s.reducers.push_back(std::make_unique<SobolReducer>(p, factors, 50, 9));
    s.reducers.push_back(std::make_unique<DesignSampleReducer>(p, 300));
    return s;
  };
  auto run = [&](std::uint64_t first, std::uint64_t last, int threads, int block) {
    StudyOptions o;
    o.first = first;
    o.last = last;
    o.seed = 9;
    o.threads = threads;
    o.block = block;
    o.chunk = 64;
    return run_study(study(), o);
  };
  const StudyResult whole = run(0, 1000, 1, 16);
  const StudyResult two = run(0, 1000, 2, 256);
  StudyResult left = run(0, 384, 2, 32);
  StudyResult right = run(384, 1000, 1, 64);
  left.state.append(std::move(right.state));
  const auto merged = left.state.result();
  const ReducerState ref = whole.reducers[0]->save();
  EXPECT_EQ(two.reducers[0]->save(), ref);
  EXPECT_EQ(merged[0]->save(), ref);
  EXPECT_EQ(merged[1]->save(), whole.reducers[1]->save());
  EXPECT_EQ(whole.get<DesignSampleReducer>(1).points(), 600u);
  // Saved and loaded state gives the same indices.
  auto copy = whole.reducers[0]->empty();
  copy->load(ref);
  const auto a = sobol_indices(p, whole.get<SobolReducer>(0));
  const auto b = sobol_indices(p, dynamic_cast<const SobolReducer&>(*copy));
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t o = 0; o < a.size(); ++o)
    for (std::size_t j = 0; j < a[o].factors.size(); ++j) {
      EXPECT_TRUE(same_bits(a[o].factors[j].st.value, b[o].factors[j].st.value));
      EXPECT_TRUE(same_bits(a[o].factors[j].s1.lo, b[o].factors[j].s1.lo));
    }
}

TEST(SensitivityTest, SobolDesignIsTheShiftedSequence) {
  // Matrix A of the linear model: rows are distinct points in (0, 1), and the A and B
  // columns of a row differ; the same seed gives the same design, another seed another.
  const Program p = compile_text(kLinearModel);
  const auto factors = sensitivity_factors(p);
  auto fill = [&](std::uint64_t seed, std::size_t variant) {
    Design d = saltelli_design(p, factors, seed, Sampling::kSobol);
    std::vector<double> u(3 * 8);
    d.draws[variant].parameters(0, 8, 8, u.data());
    return u;
  };
  const auto a = fill(1, 0), b = fill(1, 1), a2 = fill(1, 0), other = fill(2, 0);
  EXPECT_EQ(a, a2);
  EXPECT_NE(a, other);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_GT(a[i], 0.0);
    EXPECT_LT(a[i], 1.0);
    EXPECT_NE(a[i], b[i]);
  }
  // One coordinate of 8 consecutive Sobol points, shifted modulo 1: one in each eighth.
  std::vector<int> eighth(8, 0);
  for (int i = 0; i < 8; ++i)
    ++eighth[static_cast<std::size_t>(a[static_cast<std::size_t>(i)] * 8)];
  // Points 1..8 of a base-2 sequence: 7 of the 8 elementary intervals of one (0..7) plus
  // point 8; shifted, at most 2 share an eighth.
  for (int c : eighth) EXPECT_LE(c, 2);
  // AB_0 takes column 0 from B and the rest from A.
  const auto ab0 = fill(1, 2);
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(ab0[i], b[i]);
    EXPECT_EQ(ab0[8 + i], a[8 + i]);
  }
}

TEST(SensitivityTest, GivenDataFirstOrderByBinning) {
  // Ishigami on 100 000 independent points (the streams of the test purpose).
  constexpr double pi = std::numbers::pi, a = 7, b = 0.1;
  const std::size_t n = 100000;
  std::vector<std::vector<double>> x(4, std::vector<double>(n));
  std::vector<std::vector<double>> y(2, std::vector<double>(n));
  for (std::size_t i = 0; i < n; ++i) {
    Stream s(3, i, 0, 0, StreamPurpose::kTest);
    for (auto& c : x) c[i] = -pi + 2 * pi * s.u01();
    const double x1 = x[0][i], x2 = x[1][i], x3 = x[2][i];
    y[0][i] = std::sin(x1) + a * std::pow(std::sin(x2), 2) + b * std::pow(x3, 4) * std::sin(x1);
    y[1][i] = y[0][i] >= 3.5 ? 1.0 : 0.0;
  }
  const auto r = given_data_indices(x, y, {0, 1}, {});
  ASSERT_EQ(r.size(), 2u);
  ASSERT_EQ(r[0].size(), 4u);
  const double v1 = 0.5 * std::pow(1 + b * std::pow(pi, 4) / 5, 2), v2 = a * a / 8;
  const double v = v1 + v2 + b * b * std::pow(pi, 8) * 8 / 225;
  const double truth[4] = {v1 / v, v2 / v, 0, 0};
  for (std::size_t q = 0; q < 4; ++q) {
    // Binning into 32 bins smooths E[y | x] a little: allow 0.01 beyond the interval.
    EXPECT_LE(r[0][q].s1.lo - 0.01, truth[q]) << q << ": " << r[0][q].s1.value;
    EXPECT_GE(r[0][q].s1.hi + 0.01, truth[q]) << q << ": " << r[0][q].s1.value;
    EXPECT_LT(r[0][q].s1.hi - r[0][q].s1.lo, 0.05);
  }
  // The unused x4: an interval around 0.
  EXPECT_LE(r[0][3].s1.lo, 0.0);
  EXPECT_GE(r[0][3].s1.hi, 0.0);
  EXPECT_LE(r[1][3].s1.lo, 0.0);
  EXPECT_GE(r[1][3].s1.hi, 0.0);
  // Thirds by rank: a third of the runs each; P(y >= 3.5 | x2 in its middle third) is the
  // lowest (sin^2 x2 is small near 0).
  for (const auto& t : r[1][1].thirds) EXPECT_NEAR(static_cast<double>(t.runs), n / 3.0, 1);
  EXPECT_LT(r[1][1].thirds[1].value, r[1][1].thirds[0].value);
  EXPECT_LT(r[1][1].thirds[1].value, r[1][1].thirds[2].value);
  // Too few runs for the bins and batches: refused.
  std::vector<std::vector<double>> small_x(1, std::vector<double>(50, 1.0));
  std::vector<std::vector<double>> small_y(1, std::vector<double>(50, 1.0));
  EXPECT_THROW(given_data_indices(small_x, small_y, {0}, {}), std::invalid_argument);
}

}  // namespace
}  // namespace attain
