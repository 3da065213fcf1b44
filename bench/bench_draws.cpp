// Google Benchmark: draws per second of every distribution, one stream vs a stream per draw.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "attain/distributions.hpp"
#include "attain/random.hpp"

namespace {

using attain::DistKind;

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Case {
  std::string label;
  DistKind kind;
  std::vector<double> p;
};

const attain::DistTable kDiscreteTable{{1.0, 2.0, 5.0, 10.0}, {0.1, 0.4, 0.9, 1.0}};

attain::DistTable make_empirical() {
  attain::DistTable t;
  for (int i = 0; i < 1000; ++i) t.values.push_back(0.5 * i);
  return t;
}
const attain::DistTable kEmpiricalTable = make_empirical();

// One or two parameter sets per kind; Poisson and binomial on both sides of the switch
// from inversion to transformed rejection (mean 30).
const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"normal", DistKind::kNormal, {0.0, 1.0}},
      {"lognormal", DistKind::kLogNormal, {0.0, 0.5}},
      {"uniform", DistKind::kUniform, {2.0, 5.0}},
      {"triangular", DistKind::kTriangular, {0.0, 2.0, 10.0}},
      {"pert", DistKind::kPert, {0.0, 2.0, 10.0, 4.0}},
      {"beta", DistKind::kBeta, {2.0, 5.0, 0.0, 1.0}},
      {"gamma/shape2", DistKind::kGamma, {2.0, 1.5}},
      {"truncnormal/two_sided", DistKind::kTruncNormal, {10.0, 2.0, 8.0, 11.0}},
      {"truncnormal/tail_min5", DistKind::kTruncNormal, {0.0, 1.0, 5.0, kInf}},
      {"discrete", DistKind::kDiscrete, {}},
      {"empirical", DistKind::kEmpirical, {}},
      {"poisson/rate5", DistKind::kPoisson, {5.0}},
      {"poisson/rate100", DistKind::kPoisson, {100.0}},
      {"binomial/n20_p0.3", DistKind::kBinomial, {20.0, 0.3}},
      {"binomial/n1000_p0.4", DistKind::kBinomial, {1000.0, 0.4}},
      {"bernoulli", DistKind::kBernoulli, {0.3}},
  };
  return all;
}

const attain::DistTable* table_for(DistKind kind) {
  if (kind == DistKind::kDiscrete) return &kDiscreteTable;
  if (kind == DistKind::kEmpirical) return &kEmpiricalTable;
  return nullptr;
}

// Many values from one stream: the sampler's own cost plus a quarter Philox block each.
void one_stream(benchmark::State& state, const Case& c) {
  const attain::DistTable* table = table_for(c.kind);
  attain::Stream stream(42, 0, 7, 0, attain::StreamPurpose::kTest);
  for (auto _ : state) {
    benchmark::DoNotOptimize(attain::draw(c.kind, c.p, table, stream));
  }
  state.SetItemsProcessed(state.iterations());
}

// A new stream per draw, each with its own run index, as the engine draws uncertain
// parameters: every draw pays for a full Philox block.
void stream_per_draw(benchmark::State& state, const Case& c) {
  const attain::DistTable* table = table_for(c.kind);
  std::uint64_t run = 0;
  for (auto _ : state) {
    attain::Stream stream(42, run++, 7, 0, attain::StreamPurpose::kTest);
    benchmark::DoNotOptimize(attain::draw(c.kind, c.p, table, stream));
  }
  state.SetItemsProcessed(state.iterations());
}

// Baselines separating the generator from the transformation.
void u01_only(benchmark::State& state) {
  attain::Stream stream(42, 0, 7, 0, attain::StreamPurpose::kTest);
  for (auto _ : state) benchmark::DoNotOptimize(stream.u01());
  state.SetItemsProcessed(state.iterations());
}

void normal_quantile_only(benchmark::State& state) {
  std::vector<double> us(4096);
  attain::Stream stream(42, 0, 7, 0, attain::StreamPurpose::kTest);
  for (double& u : us) u = stream.u01();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(attain::normal_quantile(us[i]));
    i = (i + 1) & (us.size() - 1);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("u01_only", u01_only);
  benchmark::RegisterBenchmark("normal_quantile_only", normal_quantile_only);
  for (const Case& c : cases()) {
    benchmark::RegisterBenchmark(("one_stream/" + c.label).c_str(), one_stream, c);
  }
  for (const Case& c : cases()) {
    benchmark::RegisterBenchmark(("stream_per_draw/" + c.label).c_str(), stream_per_draw, c);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
