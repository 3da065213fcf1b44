// Tests of the compiled program and the ensemble: closed forms, reproducibility, statistics.
#include "attain/ensemble.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "attain/graph.hpp"
#include "attain/program.hpp"
#include "attain/yaml_reader.hpp"

namespace attain {
namespace {

/// Collects every chunk in memory (tests only).
struct MemorySink : ChunkSink {
  std::vector<ChunkData> chunks;
  void write(const ChunkData& c) override { chunks.push_back(c); }
  std::vector<double> column(std::vector<double> ChunkData::*field, std::size_t width,
                             std::size_t col) const {
    std::vector<double> out;
    for (const auto& c : chunks)
      for (int r = 0; r < c.count; ++r)
        out.push_back((c.*field)[static_cast<std::size_t>(r) * width + col]);
    return out;
  }
};

Program compile_text(const std::string& text) {
  Model m = parse_model(text, "test.yaml");
  return compile(m, build_graph(m));
}

std::string header(const std::string& time = "{start: 2017, end: 2020}") {
  return "model: t\ndescription: test\ntime: " + time + "\n";
}

const char* kNode = "{label: x, unit: '1', description: d, source: s, ";

double value(const Program& p, const std::string& node, int step, std::uint64_t run = 0) {
  auto v = replay_run(p, 1, run);
  return v[static_cast<std::size_t>(step)][static_cast<std::size_t>(p.model().node_index.at(node))];
}

TEST(EnsembleTest, StockHasItsClosedForm) {
  // S' = r S with Euler steps of dt: S_k = S0 (1 + r dt)^k.
  Program p = compile_text(header("{start: 2017, end: 2020, step: 0.25}") +
                           "stocks:\n  s: " + kNode + "initial: 100, change: 0.08 * s}\n");
  for (int k = 0; k < p.steps(); ++k)
    EXPECT_NEAR(value(p, "s", k), 100 * std::pow(1 + 0.08 * 0.25, k), 1e-9) << "step " << k;
}

TEST(EnsembleTest, LaggedFeedbackLoop) {
  // x = 0.5 prev(x) + 1 from history 0: 1, 1.5, 1.75, 1.875; y reads x at the same step.
  Program q = compile_text(header() + "auxiliaries:\n  x: " + kNode +
                           "history: {2016: 0}, formula: 0.5 * prev(x) + 1}\n  y: " + kNode +
                           "history: {2016: 10}, formula: 2 * x + prev(y)}\n");
  const double xs[] = {1, 1.5, 1.75, 1.875};
  double y = 10;
  for (int k = 0; k < 4; ++k) {
    EXPECT_DOUBLE_EQ(value(q, "x", k), xs[k]);
    y += 2 * xs[k];
    EXPECT_DOUBLE_EQ(value(q, "y", k), y);
  }
}

TEST(EnsembleTest, FeedbackThroughStockAndAuxiliary) {
  // firms' = 5 + 0.1 firms - firms / 10 = 5: a loop through a stock, linear growth.
  Program p =
      compile_text(header() + "stocks:\n  firms: " + kNode +
                   "initial: 50, change: entries - exits}\nauxiliaries:\n  entries: " + kNode +
                   "formula: 5 + 0.1 * firms}\n  exits: " + kNode + "formula: firms / 10}\n");
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(value(p, "firms", k), 50 + 5 * k, 1e-12);
}

const std::string kStochastic =
    header() +
    "parameters:\n"
    "  g: {label: g, unit: '1', description: d, source: s, dist: normal, mean: 0.08, sd: 0.02}\n"
    "  y: {label: y, unit: '1', description: d, source: s, dist: gamma, shape: 2, scale: 1.5}\n"
    "shocks:\n"
    "  new: {label: n, unit: '1', description: d, dist: poisson, rate: 3 * y}\n"
    "  noise: {label: e, unit: '1', description: d, dist: normal, mean: 0, sd: 0.01}\n"
    "auxiliaries:\n"
    "  growth: {label: gr, unit: '1', description: d, formula: exp(g + noise) - 1}\n"
    "stocks:\n"
    "  gdp: {label: gdp, unit: '1', description: d, source: s, initial: 1000, change: growth * "
    "gdp}\n"
    "  firms: {label: f, unit: '1', description: d, source: s, initial: 40, change: new}\n"
    "correlations:\n"
    "  - parameters: [g, y]\n"
    "    matrix: [[1, 0.6], [0.6, 1]]\n"
    "targets:\n"
    "  - {node: gdp, op: '>=', threshold: 1270, label: gdp, source: s}\n"
    "  - {node: firms, op: '>=', threshold: 65, label: firms, source: s}\n"
    "  - {name: firms_2019, node: firms, year: 2019, op: '>', threshold: 50, label: f19, source: "
    "s}\n";

struct Outcome {
  EnsembleResult result;
  MemorySink sink;
};

Outcome run(const Program& p, std::uint64_t runs, int threads, int block, StoreLevel store) {
  Outcome o;
  EnsembleOptions opt;
  opt.runs = runs;
  opt.seed = 42;
  opt.threads = threads;
  opt.block = block;
  opt.store = store;
  o.result = run_ensemble(p, opt, &o.sink);
  return o;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

TEST(EnsembleTest, BitIdenticalAcrossThreadsAndBlockSizes) {
  Program p = compile_text(kStochastic);
  Outcome ref = run(p, 10000, 1, 256, StoreLevel::kFull);
  for (auto [threads, block] : {std::pair{2, 256}, {4, 256}, {1, 64}, {2, 1000}, {4, 7}}) {
    Outcome o = run(p, 10000, threads, block, StoreLevel::kFull);
    SCOPED_TRACE(testing::Message() << threads << " threads, block " << block);
    ASSERT_EQ(o.sink.chunks.size(), ref.sink.chunks.size());
    for (std::size_t c = 0; c < ref.sink.chunks.size(); ++c) {
      EXPECT_TRUE(same_bits(o.sink.chunks[c].full, ref.sink.chunks[c].full));
      EXPECT_TRUE(same_bits(o.sink.chunks[c].parameters, ref.sink.chunks[c].parameters));
    }
    for (std::size_t i = 0; i < ref.result.moments.size(); ++i) {
      const Moments &a = ref.result.moments[i], &b = o.result.moments[i];
      EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0) << "moments of node-step " << i;
      EXPECT_EQ(std::memcmp(ref.result.quantiles[i].data(), o.result.quantiles[i].data(),
                            5 * sizeof(double)),
                0);
    }
    for (std::size_t t = 0; t < ref.result.targets.size(); ++t) {
      EXPECT_EQ(o.result.targets[t].hits, ref.result.targets[t].hits);
      EXPECT_EQ(o.result.targets[t].first_met, ref.result.targets[t].first_met);
    }
    EXPECT_EQ(o.result.joint_hits, ref.result.joint_hits);
  }
}

TEST(EnsembleTest, ReplayGivesTheEnsembleValues) {
  Program p = compile_text(kStochastic);
  Outcome o = run(p, 9000, 2, 128, StoreLevel::kFull);
  const auto nodes = static_cast<std::size_t>(p.nodes()),
             steps = static_cast<std::size_t>(p.steps());
  for (std::uint64_t r : {0ULL, 1ULL, 4095ULL, 4096ULL, 8999ULL}) {
    auto replay = replay_run(p, 42, r);
    const ChunkData& c = o.sink.chunks[r / 4096];
    const std::size_t row = r - c.first_run;
    for (std::size_t k = 0; k < steps; ++k)
      for (std::size_t n = 0; n < nodes; ++n)
        EXPECT_EQ(
            std::memcmp(&replay[k][n], &c.full[(row * steps + k) * nodes + n], sizeof(double)), 0)
            << "run " << r << " step " << k << " node " << n;
  }
}

TEST(EnsembleTest, CommonRandomNumbersAcrossScenarios) {
  Model m = parse_model(kStochastic, "test.yaml");
  DependencyGraph g = build_graph(m);
  Model changed = m;
  // A different gdp start changes nothing random: same parameters and shock draws per run.
  changed.nodes[static_cast<std::size_t>(changed.node_index.at("gdp"))].initial =
      parse_expression("1100", {});
  Program a = compile(m, g), b = compile(changed, g);
  Outcome oa = run(a, 3000, 2, 256, StoreLevel::kFull),
          ob = run(b, 3000, 1, 100, StoreLevel::kFull);
  const auto nodes = static_cast<std::size_t>(a.nodes());
  for (std::size_t c = 0; c < oa.sink.chunks.size(); ++c) {
    EXPECT_TRUE(same_bits(oa.sink.chunks[c].parameters, ob.sink.chunks[c].parameters));
    for (const char* shock : {"new", "noise"}) {
      auto n = static_cast<std::size_t>(a.model().node_index.at(shock));
      for (std::size_t i = n; i < oa.sink.chunks[c].full.size(); i += nodes)
        ASSERT_EQ(oa.sink.chunks[c].full[i], ob.sink.chunks[c].full[i]);
    }
  }
  // ... and the paired difference is exactly the deterministic one: gdp scales by 1.1.
  EXPECT_NEAR(
      ob.result.moments[static_cast<std::size_t>(a.model().node_index.at("gdp")) * 4 + 3].mean() /
          oa.result.moments[static_cast<std::size_t>(a.model().node_index.at("gdp")) * 4 + 3]
              .mean(),
      1.1, 1e-12);
}

TEST(EnsembleTest, NormalUpperTailProbability) {
  Program p = compile_text(
      header() + "parameters:\n  x: " + kNode +
      "dist: normal, mean: 0, sd: 1}\ntargets:\n  - {node: x, op: '>=', threshold: 1.6448536, "
      "label: tail, source: s}\n");
  Outcome o = run(p, 400000, 2, 256, StoreLevel::kSummary);
  const auto& t = o.result.targets[0];
  EXPECT_LE(t.ci_low, 0.05);
  EXPECT_GE(t.ci_high, 0.05);
  EXPECT_LT(t.ci_high - t.ci_low, 0.0015);
}

TEST(EnsembleTest, JointProbabilityOfIndependentTargetsIsTheProduct) {
  Program p = compile_text(header() + "parameters:\n  a: " + kNode +
                           "dist: uniform, min: 0, max: 1}\n  b: " + kNode +
                           "dist: uniform, min: 0, max: 1}\ntargets:\n"
                           "  - {node: a, op: '>=', threshold: 0.3, label: a, source: s}\n"
                           "  - {node: b, op: '<', threshold: 0.4, label: b, source: s}\n");
  Outcome o = run(p, 200000, 2, 256, StoreLevel::kSummary);
  const double pa = o.result.targets[0].probability, pb = o.result.targets[1].probability;
  EXPECT_NEAR(pa, 0.7, 4 * std::sqrt(0.21 / 200000));
  EXPECT_NEAR(pb, 0.4, 4 * std::sqrt(0.24 / 200000));
  const double joint = o.result.joint_probability;
  EXPECT_NEAR(joint, pa * pb, 4 * std::sqrt(0.28 * 0.72 / 200000));
  EXPECT_LE(o.result.joint_low, 0.28);
  EXPECT_GE(o.result.joint_high, 0.28);
}

std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<std::size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (std::size_t i = 0; i < idx.size(); ++i) r[idx[i]] = static_cast<double>(i);
  return r;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  double ma = std::accumulate(a.begin(), a.end(), 0.0) / n,
         mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

TEST(EnsembleTest, RankCorrelationIsAchieved) {
  Program p = compile_text(kStochastic);
  Outcome o = run(p, 60000, 2, 256, StoreLevel::kTargets);
  auto g = o.sink.column(&ChunkData::parameters, 2, 0),
       y = o.sink.column(&ChunkData::parameters, 2, 1);
  const double rho = pearson(ranks(g), ranks(y));
  EXPECT_NEAR(rho, 0.6, 0.01);
  // Margins stay as declared: the normal keeps its mean and sd.
  double mean = std::accumulate(g.begin(), g.end(), 0.0) / static_cast<double>(g.size());
  EXPECT_NEAR(mean, 0.08, 4 * 0.02 / std::sqrt(60000.0));
}

TEST(EnsembleTest, SummaryMatchesExactStatistics) {
  Program p = compile_text(kStochastic);
  Outcome o = run(p, 20000, 2, 256, StoreLevel::kFull);
  const auto nodes = static_cast<std::size_t>(p.nodes()),
             steps = static_cast<std::size_t>(p.steps());
  for (std::size_t n = 0; n < nodes; ++n) {
    std::vector<double> v;
    for (const auto& c : o.sink.chunks)
      for (int r = 0; r < c.count; ++r)
        v.push_back(c.full[(static_cast<std::size_t>(r) * steps + 3) * nodes + n]);
    const Moments& m = o.result.moments[n * steps + 3];
    double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    double ss = 0;
    for (double x : v) ss += (x - mean) * (x - mean);
    EXPECT_NEAR(m.mean(), mean, 1e-9 * (1 + std::fabs(mean)));
    EXPECT_NEAR(m.sd(), std::sqrt(ss / static_cast<double>(v.size() - 1)),
                1e-7 * (1 + std::sqrt(ss)));
    std::sort(v.begin(), v.end());
    EXPECT_EQ(m.min, v.front());
    EXPECT_EQ(m.max, v.back());
    for (std::size_t q = 0; q < 5; ++q) {
      double level = EnsembleResult::kQuantileLevels[q];
      double exact =
          v[static_cast<std::size_t>(std::ceil(level * static_cast<double>(v.size()))) - 1];
      EXPECT_LE(std::fabs(o.result.quantiles[n * steps + 3][q] - exact),
                std::ldexp(std::fabs(exact), -8) + 1e-300)
          << "node " << n << " q " << level;
    }
  }
}

TEST(EnsembleTest, FirstYearMetAddsUp) {
  Program p = compile_text(kStochastic);
  Outcome o = run(p, 5000, 2, 256, StoreLevel::kSummary);
  for (const auto& t : o.result.targets) {
    std::uint64_t total = t.never;
    for (auto c : t.first_met) total += c;
    EXPECT_EQ(total, 5000u);
    // Met at the target year implies first met at or before it.
    std::uint64_t met_by_year =
        std::accumulate(t.first_met.begin(), t.first_met.end(), std::uint64_t{0});
    EXPECT_GE(met_by_year, t.hits);
  }
  // firms start at 40 < 50, so "firms_2019 > 50" cannot be met first in 2017.
  EXPECT_EQ(o.result.targets[2].first_met[0], 0u);
  EXPECT_EQ(o.result.targets[2].first_met[3], 0u);  // after its year: never counted
}

TEST(EnsembleTest, NonFiniteValueStopsTheRunNamingNodeStepAndRun) {
  Program p = compile_text(header() + "parameters:\n  x: " + kNode +
                           "dist: uniform, min: -1, max: 1}\nauxiliaries:\n  bad: " + kNode +
                           "formula: 'if(year == 2019 and x > 0.9, ln(x - 2), 0)'}\n");
  EnsembleOptions opt;
  opt.runs = 2000;
  opt.threads = 2;
  try {
    run_ensemble(p, opt, nullptr);
    FAIL() << "expected a RunError";
  } catch (const RunError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("auxiliary 'bad'"), std::string::npos) << what;
    EXPECT_NE(what.find("2019"), std::string::npos) << what;
    EXPECT_NE(what.find(std::to_string(e.run())), std::string::npos) << what;
    // The failing run fails alone too, and its neighbour does not.
    EXPECT_THROW(replay_run(p, 1, e.run()), RunError);
  }
}

TEST(EnsembleTest, InvalidShockParameterStopsTheRun) {
  Program p = compile_text(header() + "parameters:\n  x: " + kNode +
                           "dist: uniform, min: -1, max: 1}\nshocks:\n  n: {label: n, unit: '1', "
                           "description: d, dist: poisson, rate: x}\n");
  EnsembleOptions opt;
  opt.runs = 100;
  EXPECT_THROW(run_ensemble(p, opt, nullptr), RunError);
  try {
    run_ensemble(p, opt, nullptr);
  } catch (const RunError& e) {
    EXPECT_NE(std::string(e.what()).find("shock 'n'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("rate"), std::string::npos) << e.what();
  }
}

TEST(EnsembleTest, LeversCanChangeWithTheSameRandomNumbers) {
  Program p = compile_text(
      header() + "levers:\n  f: " + kNode + "value: 1}\nparameters:\n  y: " + kNode +
      "dist: uniform, min: 0, max: 2}\nauxiliaries:\n  out: " + kNode + "formula: f * y}\n");
  double before = value(p, "out", 2, 77), y = value(p, "y", 2, 77);
  LeverRule doubled;
  doubled.value = 2;
  p.set_lever("f", doubled);
  EXPECT_DOUBLE_EQ(value(p, "out", 2, 77), 2 * before);
  EXPECT_DOUBLE_EQ(value(p, "y", 2, 77), y);
}

TEST(EnsembleTest, CancelStopsEarly) {
  Program p = compile_text(kStochastic);
  std::atomic<bool> cancel{true};
  EnsembleOptions opt;
  opt.runs = 100000;
  opt.cancel = &cancel;
  EXPECT_THROW(run_ensemble(p, opt, nullptr), InterruptedError);
}

}  // namespace
}  // namespace attain
