// Tests of the analyses against closed forms: paired differences, search, sweep.
#include "attain/analysis.hpp"

#include <gtest/gtest.h>

#include <boost/math/distributions/normal.hpp>
#include <cmath>

#include "attain/graph.hpp"
#include "attain/yaml_reader.hpp"

namespace attain {
namespace {

double phi(double x) {
  return boost::math::cdf(boost::math::normal_distribution<double>(), x);
}

Model model_of(const std::string& text) {
  return parse_model(text, "test.yaml");
}

Program compile_model(const Model& m) {
  return compile(m, build_graph(m));
}

/// x = a * s + z with z ~ N(0, 1) and the constant lever s: x ~ N(a s, 1).
std::string shifted_normal(double a, double threshold) {
  return "model: shift\ndescription: d\ntime: {start: 2019, end: 2020}\n"
         "levers:\n  s: {label: s, unit: '1', description: d, source: s, value: 0}\n"
         "parameters:\n"
         "  z: {label: z, unit: '1', description: d, source: s, dist: normal, mean: 0, sd: 1}\n"
         "auxiliaries:\n  x: {label: x, unit: '1', description: d, formula: " +
         std::to_string(a) +
         " * s + z}\ntargets:\n  - {node: x, op: '>=', threshold: " + std::to_string(threshold) +
         ", label: t, source: s}\n";
}

Program with_lever(const Program& p, const std::string& lever, double value) {
  Program q = p;
  LeverRule r;
  r.value = value;
  q.set_lever(lever, r);
  return q;
}

TEST(AnalysisTest, PairedDifferenceOfAShiftedNormalMatchesTheClosedForm) {
  Model m = model_of(shifted_normal(1, 1));
  Program ref = compile_model(m);               // x ~ N(0, 1)
  Program shifted = with_lever(ref, "s", 0.5);  // x ~ N(0.5, 1)
  AnalysisOptions o;
  o.runs = 200000;
  o.seed = 3;
  CompareResult r = compare(m, {&ref, &shifted}, {"ref", "shifted"}, o);
  ASSERT_EQ(r.comparisons.size(), 1u);
  const PairedTarget& t = r.comparisons[0].targets[0];
  const double exact = phi(1) - phi(0.5);  // P(x + 0.5 >= 1) - P(x >= 1)
  EXPECT_LE(t.paired.lo, exact);
  EXPECT_GE(t.paired.hi, exact);
  // The shift never lowers x: no run is hurt; the helped runs are those with z in
  // [0.5, 1), a binomial count with that probability.
  EXPECT_EQ(t.table.hurt, 0u);
  const double n = static_cast<double>(o.runs);
  EXPECT_NEAR(static_cast<double>(t.table.helped), n * exact,
              4.5 * std::sqrt(n * exact * (1 - exact)));
  EXPECT_DOUBLE_EQ(t.paired.difference, static_cast<double>(t.table.helped) / n);
  // Pairing makes the interval narrower than two independent ensembles would.
  EXPECT_LT(t.paired.hi - t.paired.lo, 0.7 * (t.unpaired.hi - t.unpaired.lo));
  EXPECT_LT(t.p_value, 1e-100);
  // The value difference is exactly the shift in every run.
  ASSERT_TRUE(t.value_difference);
  EXPECT_NEAR(t.value_difference->mean, 0.5, 1e-12);
  EXPECT_NEAR(t.value_difference->sd, 0, 1e-9);
  // A scenario compared with itself: zero difference, p = 1.
  CompareResult same = compare(m, {&ref, &ref}, {"a", "b"}, o);
  EXPECT_EQ(same.comparisons[0].targets[0].paired.difference, 0);
  EXPECT_EQ(same.comparisons[0].targets[0].p_value, 1);
}

/// Wilson 95 % interval written out independently of the engine.
std::pair<double, double> wilson(double x, double n) {
  const double z = 1.959963984540054, p = x / n;
  const double c = (p + z * z / (2 * n)) / (1 + z * z / n);
  const double h = z / (1 + z * z / n) * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n));
  return {c - h, c + h};
}

TEST(AnalysisTest, NewcombeMethod10AsPublished) {
  // Newcombe (1998), Statistics in Medicine 17, 2635-2650, method 10 for the table
  // both = 12, reference only = 9, scenario only = 2, neither = 21 (n = 44), written out:
  // theta = p2 - p1, L = theta - sqrt(d2^2 - 2 phi d2 e1 + e1^2) with d2 = p2 - l2 and
  // e1 = u1 - p1; U = theta + sqrt(d1^2 - 2 phi d1 e2 + e2^2) with d1 = p1 - l1, e2 = u2 - p2.
  PairedReducer::Table t{12, 2, 9, 21};
  const double n = 44, p1 = 21 / n, p2 = 14 / n;
  auto [l1, u1] = wilson(21, n);
  auto [l2, u2] = wilson(14, n);
  const double phi = (12.0 * 21 - 9.0 * 2) / std::sqrt(21.0 * 23 * 14 * 30);
  const double lo = (p2 - p1) - std::sqrt((p2 - l2) * (p2 - l2) - 2 * phi * (p2 - l2) * (u1 - p1) +
                                          (u1 - p1) * (u1 - p1));
  const double hi = (p2 - p1) + std::sqrt((p1 - l1) * (p1 - l1) - 2 * phi * (p1 - l1) * (u2 - p2) +
                                          (u2 - p2) * (u2 - p2));
  Difference d = paired_difference(t);
  EXPECT_NEAR(d.difference, -7 / n, 1e-15);
  EXPECT_NEAR(d.lo, lo, 1e-14);
  EXPECT_NEAR(d.hi, hi, 1e-14);
  // Positive correlation narrows the interval against the unpaired one (phi = 0).
  Difference u = unpaired_difference(t);
  EXPECT_LT(d.hi - d.lo, u.hi - u.lo);
  // Newcombe's own worked example for method 10 (his Table II: 36, 12, 2, 0; n = 50):
  // p1 - p2 = 0.2 with interval 0.0569 to 0.3404. Here p1 is the reference's.
  Difference ex = paired_difference({36, 2, 12, 0});
  EXPECT_NEAR(-ex.difference, 0.2, 1e-15);
  EXPECT_NEAR(-ex.hi, 0.0569, 5e-5);
  EXPECT_NEAR(-ex.lo, 0.3404, 5e-5);
  // Swapping the scenarios mirrors the interval.
  Difference m = paired_difference({12, 9, 2, 21});
  EXPECT_NEAR(m.lo, -d.hi, 1e-15);
  EXPECT_NEAR(m.hi, -d.lo, 1e-15);
  // Exact McNemar: 2 P(Bin(11, 1/2) <= 2) = 2 (1 + 11 + 55) / 2048.
  EXPECT_NEAR(mcnemar_exact_p(2, 9), 2.0 * 67 / 2048, 1e-14);
  EXPECT_NEAR(mcnemar_exact_p(9, 2), 2.0 * 67 / 2048, 1e-14);
  EXPECT_EQ(mcnemar_exact_p(0, 0), 1);
  EXPECT_EQ(mcnemar_exact_p(5, 5), 1);
  // A large table stays finite and tiny.
  EXPECT_LT(mcnemar_exact_p(0, 100000), 1e-300);
}

TEST(AnalysisTest, RaisingARateNeverHurtsARun) {
  // Poisson and binomial shocks whose rates rise with the lever (large rates included):
  // drawn by inversion of one uniform, no run may lose.
  const std::string text =
      "model: rates\ndescription: d\ntime: {start: 2017, end: 2020}\n"
      "levers:\n  push: {label: p, unit: '1', description: d, source: s, value: 1}\n"
      "parameters:\n"
      "  y: {label: y, unit: '1', description: d, source: s, dist: pert, min: 20, mode: 40, "
      "max: 90}\n"
      "shocks:\n"
      "  small: {label: n, unit: '1', description: d, dist: poisson, rate: 0.1 * y * push}\n"
      "  large: {label: n, unit: '1', description: d, dist: poisson, rate: 10 * y * push}\n"
      "  trials: {label: n, unit: '1', description: d, dist: binomial, n: 400, p: "
      "'min(0.9, 0.2 * push)'}\n"
      "stocks:\n"
      "  a: {label: a, unit: '1', description: d, source: s, initial: 0, change: small}\n"
      "  b: {label: b, unit: '1', description: d, source: s, initial: 0, change: large}\n"
      "  c: {label: c, unit: '1', description: d, source: s, initial: 0, change: trials}\n"
      "targets:\n"
      "  - {node: a, op: '>=', threshold: 13, label: a, source: s}\n"
      "  - {node: b, op: '>=', threshold: 1300, label: b, source: s}\n"
      "  - {node: c, op: '>=', threshold: 250, label: c, source: s}\n";
  Model m = model_of(text);
  Program ref = compile_model(m);
  Program more = with_lever(ref, "push", 1.1);
  AnalysisOptions o;
  o.runs = 20000;
  CompareResult r = compare(m, {&ref, &more}, {"ref", "more"}, o);
  for (const auto& t : r.comparisons[0].targets) {
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.table.hurt, 0u);
    EXPECT_GT(t.table.helped, 0u);
    EXPECT_GE(t.value_difference->mean, 0);
  }
  EXPECT_EQ(r.comparisons[0].joint.table.hurt, 0u);
}

TEST(AnalysisTest, SearchFindsTheClosedFormLevel) {
  // x ~ N(a s, 1): P(x >= t) >= 0.8 exactly when s >= (t + z_0.8) / a.
  const double a = 2, t = 3;
  Model m = model_of(shifted_normal(a, t));
  Program p = compile_model(m);
  SearchSpec spec;
  spec.levers = {"s"};
  spec.target = 0;
  spec.goal = 0.8;
  spec.low = 0;
  spec.high = 5;
  spec.tolerance = 0.01;
  AnalysisOptions o;
  o.runs = 20000;
  SearchResult r = search(p, m, spec, o);
  const double exact = (t + 0.8416212335729143) / a;
  ASSERT_TRUE(r.reachable);
  EXPECT_TRUE(r.absolute);
  // Tolerance plus 4 standard errors of the level (se(P) / dP/ds = 0.0028 / 0.56).
  EXPECT_NEAR(r.level, exact, 0.01 + 4 * 0.005);
  EXPECT_LE(r.level_low, exact + 0.01);
  EXPECT_GE(r.level_high, exact - 0.01);
  EXPECT_LE(r.level_low, r.level);
  EXPECT_GE(r.level_high, r.level);
  EXPECT_GE(r.at_level.p, 0.8);
  EXPECT_TRUE(r.monotone);
  EXPECT_LT(r.evaluations.size(), 30u);
  for (std::size_t i = 1; i < r.evaluations.size(); ++i)
    EXPECT_LT(r.evaluations[i - 1].level, r.evaluations[i].level);

  // A tolerance finer than the doubles between two levels still ends.
  SearchSpec fine = spec;
  fine.tolerance = 1e-17;
  SearchResult f = search(p, m, fine, o);
  EXPECT_NEAR(f.level, exact, 0.01 + 4 * 0.005);
  EXPECT_LT(f.evaluations.size(), 250u);
  // A range ending at the found level: P there reaches the goal, but its interval does
  // not lie wholly above it, so no level in the range does: level_high is NaN.
  ASSERT_LT(r.at_level.lo, 0.8);
  SearchSpec near_top = spec;
  near_top.high = r.level;
  SearchResult nt = search(p, m, near_top, o);
  EXPECT_TRUE(nt.reachable);
  EXPECT_TRUE(std::isnan(nt.level_high));
  EXPECT_FALSE(std::isnan(nt.level_low));

  // Unreachable in a range that stops short of it.
  spec.high = 1.5;
  SearchResult no = search(p, m, spec, o);
  EXPECT_FALSE(no.reachable);
  EXPECT_TRUE(std::isnan(no.level));
  EXPECT_LT(no.at_level.p, 0.8);
  EXPECT_EQ(no.evaluations.back().level, 1.5);
}

TEST(AnalysisTest, SearchAndSweepAgreeOnTheSameRuns) {
  Model m = model_of(shifted_normal(2, 3));
  Program p = compile_model(m);
  AnalysisOptions o;
  o.runs = 5000;
  SweepResult sw = sweep(p, m, {{"s", 0, 3, 7}}, o);
  ASSERT_EQ(sw.points.size(), 7u);
  EXPECT_TRUE(sw.non_monotone.empty());
  for (std::size_t i = 1; i < sw.points.size(); ++i)
    EXPECT_GE(sw.points[i].targets[0].hits, sw.points[i - 1].targets[0].hits);
  // The sweep's point at s = 2 is the same estimate as a search evaluation there.
  SearchSpec spec;
  spec.levers = {"s"};
  spec.target = 0;
  spec.goal = 0.5;
  spec.low = 0;
  spec.high = 2;
  SearchResult r = search(p, m, spec, o);
  EXPECT_EQ(r.evaluations.back().level, 2);
  EXPECT_EQ(r.evaluations.back().p.hits, sw.points[4].targets[0].hits);
}

TEST(AnalysisTest, SweepOfTwoLeversIsAGrid) {
  Model m = model_of(shifted_normal(1, 1));
  Program p = compile_model(m);
  AnalysisOptions o;
  o.runs = 1000;
  EXPECT_THROW(sweep(p, m, {{"nope", 0, 1, 2}}, o), InputError);
  EXPECT_THROW(sweep(p, m, {{"s", 0, 1, 2}, {"s", 0, 2, 2}}, o), InputError);  // twice
  EXPECT_THROW(sweep(p, m, {{"s", 0, 1, 10001}}, o), InputError);              // too many points
  SweepResult sw = sweep(p, m, {{"s", 0, 1, 3}}, o);
  EXPECT_EQ(sw.points[1].levels[0], 0.5);
  EXPECT_EQ(sw.runs, 1000u);
}

TEST(AnalysisTest, PrunedModelGivesTheSameValuesRunByRun) {
  const std::string text =
      "model: p\ndescription: d\ntime: {start: 2017, end: 2020}\n"
      "levers:\n  f: {label: f, unit: '1', description: d, source: s, value: 2}\n"
      "parameters:\n"
      "  a: {label: a, unit: '1', description: d, source: s, dist: pert, min: 1, mode: 2, max: "
      "5}\n"
      "  b: {label: b, unit: '1', description: d, source: s, dist: pert, min: 1, mode: 2, max: "
      "5}\n"
      "  c: {label: c, unit: '1', description: d, source: s, dist: normal, mean: 0, sd: 1}\n"
      "correlations:\n  - parameters: [a, b]\n    matrix: [[1, 0.7], [0.7, 1]]\n"
      "shocks:\n  n: {label: n, unit: '1', description: d, dist: poisson, rate: a * f}\n"
      "stocks:\n"
      "  x: {label: x, unit: '1', description: d, source: s, initial: 0, change: n}\n"
      "  y: {label: y, unit: '1', description: d, source: s, initial: 0, change: c + b}\n"
      "targets:\n"
      "  - {node: x, op: '>=', threshold: 20, label: x, source: s}\n"
      "  - {node: y, op: '>=', threshold: 5, label: y, source: s}\n";
  Model m = model_of(text);
  Model only_x = prune_model(m, {0});
  EXPECT_TRUE(only_x.find("a") && only_x.find("b") && only_x.find("n") && only_x.find("f"));
  EXPECT_FALSE(only_x.find("c") || only_x.find("y"));
  ASSERT_EQ(only_x.targets.size(), 1u);
  Program whole = compile_model(m), part = compile_model(only_x);
  for (std::uint64_t run = 0; run < 50; ++run) {
    auto w = replay_run(whole, 9, run), q = replay_run(part, 9, run);
    for (int k = 0; k < whole.steps(); ++k)
      EXPECT_EQ(
          w[static_cast<std::size_t>(k)][static_cast<std::size_t>(m.node_index.at("x"))],
          q[static_cast<std::size_t>(k)][static_cast<std::size_t>(only_x.node_index.at("x"))]);
  }
}

}  // namespace
}  // namespace attain
