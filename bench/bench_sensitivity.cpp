// Benchmarks of `attain sensitivity` (results: docs/performance.md, "Sensitivity"): the
// whole analysis on the Guandu plan (Saltelli's design, N rows x (k + 2) runs, Sobol
// indices with 200 bootstrap replicates, thirds, PRIM on the design sample), and what
// the Sobol reducer and its bootstrap cost on top of evaluating the design.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attain/graph.hpp"
#include "attain/program.hpp"
#include "attain/sensitivity.hpp"
#include "attain/study.hpp"
#include "attain/yaml_reader.hpp"

namespace {

using namespace attain;

std::string source_path(const std::string& relative) {
  return std::string(ATTAIN_SOURCE_DIR) + "/" + relative;
}

/// The Guandu model compiled under its plan scenario, loaded as the CLI does.
struct Guandu {
  Model model;
  DependencyGraph graph;
  Model plan_model;
  Program plan;
};

Guandu load_guandu() {
  Model m = load_model(source_path("models/guandu_innovation.yaml"));
  DependencyGraph g = build_graph(m);
  Model plan_model = apply_scenario(m, load_scenario(source_path("scenarios/guandu/plan.yaml"), m));
  Program plan = compile(plan_model, g);
  return Guandu{std::move(m), std::move(g), std::move(plan_model), std::move(plan)};
}

const Guandu& guandu() {
  static const Guandu g = load_guandu();
  return g;
}

/// Keeps a result alive through the const overload of DoNotOptimize (google/benchmark#903).
template <class T>
void keep(const T& value) {
  benchmark::DoNotOptimize(value);
}

// ---------------------------------------------------------------------------------------
// 1. The whole analysis.

/// run_sensitivity on the Guandu plan as `attain sensitivity --rows N` runs it (Sobol
/// sampling, seed 1, 200 resamples, PRIM on the first 32768 rows' A and B points),
/// `threads` threads (0: every core). Counters: model runs (N (k + 2)) and runs per wall
/// second, rows, factors, and the widths of the 95 % bootstrap intervals of the total
/// (ST) and first-order (S1) indices over every met indicator (the targets and the joint)
/// and factor where the interval is finite: their mean and the largest.
void BM_Sensitivity_Guandu(benchmark::State& state) {
  const Guandu& g = guandu();
  SensitivityOptions o;
  o.rows = static_cast<std::uint64_t>(state.range(0));
  o.threads = static_cast<int>(state.range(1));
  SensitivityResult r;
  for (auto _ : state) {
    r = run_sensitivity(g.plan, o);
    keep(r.runs);
  }
  double st_sum = 0, st_max = 0, s1_sum = 0, s1_max = 0;
  int st_n = 0, s1_n = 0, outputs = 0;
  for (const auto& out : r.outputs) {
    if (!out.output.met) continue;
    ++outputs;
    for (const auto& f : out.factors) {
      if (std::isfinite(f.st.lo) && std::isfinite(f.st.hi)) {
        const double w = f.st.hi - f.st.lo;
        st_sum += w;
        st_max = std::max(st_max, w);
        ++st_n;
      }
      if (std::isfinite(f.s1.lo) && std::isfinite(f.s1.hi)) {
        const double w = f.s1.hi - f.s1.lo;
        s1_sum += w;
        s1_max = std::max(s1_max, w);
        ++s1_n;
      }
    }
  }
  state.counters["rows"] = static_cast<double>(r.rows);
  state.counters["factors"] = static_cast<double>(r.factors.size());
  state.counters["runs"] = static_cast<double>(r.runs);
  state.counters["runs_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(r.runs),
                         benchmark::Counter::kIsRate);
  state.counters["met_outputs"] = outputs;
  state.counters["st_intervals"] = st_n;
  if (st_n > 0) state.counters["st_mean_width"] = st_sum / st_n;
  state.counters["st_max_width"] = st_max;
  if (s1_n > 0) state.counters["s1_mean_width"] = s1_sum / s1_n;
  state.counters["s1_max_width"] = s1_max;
}
BENCHMARK(BM_Sensitivity_Guandu)
    ->ArgsProduct({{4096, 16384}, {0, 1}})
    ->ArgNames({"rows", "threads"})
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Iterations(1);  // seconds each

// ---------------------------------------------------------------------------------------
// 2. The reducers' share.

enum SobolSet : int {
  kEvaluate = 0,  ///< the design study with no reducer: evaluation of the N (k + 2) runs
  kSample,        ///< DesignSampleReducer only (PRIM's points)
  kSobol0,        ///< SobolReducer without bootstrap (resamples 0)
  kSobol200,      ///< SobolReducer with 200 resamples (the default)
  kBoth,          ///< SobolReducer (200) + DesignSampleReducer: run_sensitivity's study
  kSobolSetCount,
};

const char* sobol_set_name(int set) {
  static const char* names[] = {"evaluate_only", "design_sample", "sobol:resamples=0",
                                "sobol:resamples=200", "sobol(200)+design_sample"};
  return names[set];
}

/// The study of run_sensitivity (Saltelli's design on the Guandu plan, Sobol sampling,
/// seed 1) with only some of its reducers, `threads` threads. Counters: ns of process CPU
/// time per model run (one thread: the differences to evaluate_only are what the reducers
/// cost; sobol:resamples=200 against =0 is the bootstrap's cost) and runs per wall second
/// (two threads: how the study scales). PRIM and the indices' final computation are not in
/// it (BM_Sensitivity minus the sobol(200)+design_sample study is their share).
void BM_SobolReducer_Guandu(benchmark::State& state) {
  const Guandu& g = guandu();
  const int set = static_cast<int>(state.range(0));
  state.SetLabel(sobol_set_name(set));
  const auto rows = static_cast<std::uint64_t>(state.range(1));
  const std::vector<Factor> factors = sensitivity_factors(g.plan);
  Study s;
  for (std::size_t v = 0; v < factors.size() + 2; ++v) s.variants.push_back(&g.plan);
  s.design = saltelli_design(g.plan, factors, 1, Sampling::kSobol);
  if (set == kSobol0) s.reducers.push_back(std::make_unique<SobolReducer>(g.plan, factors, 0, 1));
  if (set == kSobol200 || set == kBoth)
    s.reducers.push_back(std::make_unique<SobolReducer>(g.plan, factors, 200, 1));
  if (set == kSample || set == kBoth)
    s.reducers.push_back(std::make_unique<DesignSampleReducer>(g.plan, 32768));
  StudyOptions o;
  o.first = 0;
  o.last = rows;
  o.seed = 1;
  o.threads = static_cast<int>(state.range(2));
  o.chunk = 256;  // as run_sensitivity
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const StudyResult r = run_study(s, o);
    keep(r.last);
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double runs = static_cast<double>(rows) * static_cast<double>(factors.size() + 2);
  const auto iterations = static_cast<double>(state.iterations());
  state.counters["runs"] = runs;
  state.counters["ns_per_run"] = benchmark::Counter(
      iterations * runs * 1e-9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["runs_per_wall_s"] = iterations * runs / wall;
}
BENCHMARK(BM_SobolReducer_Guandu)
    ->ArgsProduct({{kEvaluate, kSample, kSobol0, kSobol200, kBoth}, {4096}, {1}})
    ->Args({kEvaluate, 4096, 2})
    ->Args({kBoth, 4096, 2})
    ->ArgNames({"set", "rows", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()  // one thread: CPU time is steadier than wall on a shared VM
    ->Iterations(2);

}  // namespace

BENCHMARK_MAIN();
