// The coverage of adaptive stopping (--ci-width): many independent studies (seeds) of a
// target with known probability p, each stopped once the Wilson 95 % half-width is at
// most W; the share of final intervals holding p. Not a speed benchmark: its counters are
// the figures of docs/analyses.md ("--ci-width W — adaptive stopping").
#include <benchmark/benchmark.h>

#include <string>

#include "attain/analysis.hpp"
#include "attain/graph.hpp"
#include "attain/yaml_reader.hpp"

namespace {

using namespace attain;

/// Args: p in thousandths, W in ten-thousandths, chunk runs, studies.
void BM_AdaptiveCoverage(benchmark::State& state) {
  const double p = static_cast<double>(state.range(0)) / 1000;
  const double w = static_cast<double>(state.range(1)) / 10000;
  const int chunk = static_cast<int>(state.range(2));
  const int studies = static_cast<int>(state.range(3));
  const Model m = parse_model(
      "model: b\ndescription: d\ntime: {start: 2019, end: 2020}\nparameters:\n"
      "  x: {label: x, unit: '1', description: d, source: s, dist: uniform, min: 0, max: 1}\n"
      "targets:\n  - {node: x, op: '<', threshold: " +
          std::to_string(p) + ", label: t, source: s}\n",
      "bernoulli.yaml");
  const Program prog = compile(m, build_graph(m));
  int covered = 0;
  double runs = 0;
  for (auto _ : state) {
    covered = 0;
    runs = 0;
    for (int seed = 1; seed <= studies; ++seed) {
      AnalysisOptions o;
      o.runs = 100000000;
      o.chunk = chunk;
      o.ci_width = w;
      o.seed = static_cast<std::uint64_t>(seed);
      const EnsembleResult r = run_scenario(prog, o, false, nullptr, false);
      covered += r.targets[0].ci_low <= p && p <= r.targets[0].ci_high;
      runs += static_cast<double>(r.runs);
    }
  }
  state.counters["coverage"] = static_cast<double>(covered) / studies;
  state.counters["mean_runs"] = runs / studies;
}
BENCHMARK(BM_AdaptiveCoverage)
    ->Args({300, 200, 256, 2000})
    ->Args({300, 200, 4096, 1000})
    ->Args({500, 100, 4096, 1000})
    ->Args({50, 50, 4096, 1000})
    ->ArgNames({"p_milli", "w_1e4", "chunk", "studies"})
    ->Iterations(1)
    ->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
