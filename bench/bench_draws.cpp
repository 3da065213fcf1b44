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

// One or two parameter sets per kind. Every draw inverts the CDF at one uniform; Poisson and
// binomial on both sides of the switch from summing the pmf from 0 to stepping from
// Giles' start with one exact CDF evaluation (mean 30), and at a large rate (Temme).
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
      {"poisson/rate1e4", DistKind::kPoisson, {1e4}},
      {"binomial/n20_p0.3", DistKind::kBinomial, {20.0, 0.3}},
      {"binomial/n1000_p0.4", DistKind::kBinomial, {1000.0, 0.4}},
      {"binomial/n1e5_p0.1", DistKind::kBinomial, {1e5, 0.1}},
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

// Uncertain parameters: the tabulated inverse CDF of their fixed distribution at the
// first word of a new stream per run, as Program::evaluate draws them.
void parameter_per_run(benchmark::State& state, const Case& c) {
  const attain::QuantileFunction q(c.kind, c.p, nullptr);
  std::uint64_t run = 0;
  for (auto _ : state) {
    attain::Stream stream(42, run++, 7, attain::kOncePerRun, attain::StreamPurpose::kTest);
    benchmark::DoNotOptimize(q(stream.u01()));
  }
  state.SetItemsProcessed(state.iterations());
}

// Building the table of one parameter (once per distribution and process).
void quantile_function_build(benchmark::State& state, const Case& c) {
  for (auto _ : state) {
    const attain::QuantileFunction q(c.kind, c.p, nullptr);
    benchmark::DoNotOptimize(q(0.5));
  }
  state.SetItemsProcessed(state.iterations());
}

const std::vector<Case>& parameter_cases() {
  static const std::vector<Case> all = {
      {"pert", DistKind::kPert, {0.0, 2.0, 10.0, 4.0}},
      {"beta", DistKind::kBeta, {2.0, 5.0, 0.0, 1.0}},
      {"gamma/shape2", DistKind::kGamma, {2.0, 1.5}},
  };
  return all;
}

// The form the engine draws in (Program::evaluate): for one node and step, the first
// uniform of every run of a block of 256 (first_uniforms: independent Philox calls in one
// loop), then the inverse CDF over the block. Items are draws.
constexpr int kBlock = 256;

void block_uniform(benchmark::State& state) {
  std::vector<double> u(kBlock);
  std::uint64_t run = 0;
  for (auto _ : state) {
    attain::first_uniforms(42, run, 7, 3, kBlock, u.data(), attain::StreamPurpose::kTest);
    benchmark::DoNotOptimize(u.data());
    benchmark::ClobberMemory();
    run += kBlock;
  }
  state.SetItemsProcessed(state.iterations() * kBlock);
}

void block_normal(benchmark::State& state) {
  std::vector<double> x(kBlock);
  std::uint64_t run = 0;
  for (auto _ : state) {
    attain::first_uniforms(42, run, 7, 3, kBlock, x.data(), attain::StreamPurpose::kTest);
    for (double& v : x) v = 1.0 + 2.0 * attain::normal_quantile(v);
    benchmark::DoNotOptimize(x.data());
    benchmark::ClobberMemory();
    run += kBlock;
  }
  state.SetItemsProcessed(state.iterations() * kBlock);
}

// PERT parameters as a model has them: `tables` different distributions (range(0)), each
// drawn for the whole block in turn (the Guandu model has 43).
void block_pert_parameters(benchmark::State& state) {
  const auto tables = static_cast<std::size_t>(state.range(0));
  std::vector<attain::QuantileFunction> q;
  for (std::size_t t = 0; t < tables; ++t) {
    const double lo = static_cast<double>(t), mode = lo + 0.1 + 0.37 * static_cast<double>(t % 7);
    q.emplace_back(DistKind::kPert, std::vector<double>{lo, mode, lo + 3.0, 4.0}, nullptr);
  }
  std::vector<double> u(kBlock), x(kBlock);
  std::uint64_t run = 0;
  for (auto _ : state) {
    for (std::size_t t = 0; t < tables; ++t) {
      attain::first_uniforms(42, run, t, attain::kOncePerRun, kBlock, u.data(),
                             attain::StreamPurpose::kTest);
      q[t](u.data(), x.data(), kBlock);
      benchmark::DoNotOptimize(x.data());
      benchmark::ClobberMemory();
    }
    run += kBlock;
  }
  state.SetItemsProcessed(state.iterations() * kBlock * static_cast<std::int64_t>(tables));
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
  for (const Case& c : parameter_cases()) {
    benchmark::RegisterBenchmark(("parameter_per_run/" + c.label).c_str(), parameter_per_run, c);
  }
  for (const Case& c : parameter_cases()) {
    benchmark::RegisterBenchmark(("quantile_function_build/" + c.label).c_str(),
                                 quantile_function_build, c)
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("block/uniform", block_uniform);
  benchmark::RegisterBenchmark("block/normal", block_normal);
  benchmark::RegisterBenchmark("block/pert_parameters", block_pert_parameters)
      ->ArgName("tables")
      ->Arg(1)
      ->Arg(43);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
