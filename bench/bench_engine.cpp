// Benchmarks of the compiled program and the ensemble (results: docs/performance.md).
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <filesystem>
#include <random>
#include <string>

#include "attain/ensemble.hpp"
#include "attain/graph.hpp"
#include "attain/program.hpp"
#include "attain/results_file.hpp"
#include "attain/yaml_reader.hpp"

namespace {

using namespace attain;

/// A random DAG of `n` arithmetic nodes over 8 levers in (0, 1). Each node applies one
/// operation that keeps values in [0, 1] (product, minimum, maximum, mean) to two random
/// earlier nodes, so no value overflows however deep the graph is.
std::string random_graph(int n, unsigned seed) {
  std::mt19937 gen(seed);  // only shapes the test graph; never used for draws
  std::string text =
      "model: random_graph\ndescription: generated\ntime: {start: 2017, end: 2020}\nlevers:\n";
  for (int i = 0; i < 8; ++i)
    text += fmt::format("  l{}: {{label: l, unit: '1', description: d, source: s, value: {}}}\n", i,
                        0.1 + 0.1 * i);
  text += "auxiliaries:\n";
  auto name = [](int i) { return i < 8 ? fmt::format("l{}", i) : fmt::format("n{}", i - 8); };
  for (int i = 8; i < n + 8; ++i) {
    std::uniform_int_distribution<int> pick(std::max(0, i - 64), i - 1);  // local, like real models
    std::string a = name(pick(gen)), b = name(pick(gen));
    const char* forms[] = {"{} * {}", "min({}, {})", "max({}, {})", "{} * {}"};
    std::string f = fmt::format(fmt::runtime(forms[gen() % 4]), a, b);
    text +=
        fmt::format("  {}: {{label: n, unit: '1', description: d, formula: '{}'}}\n", name(i), f);
  }
  return text;
}

Program compile_text(const std::string& text, const std::string& path) {
  Model m = parse_model(text, path);
  return compile(m, build_graph(m));
}

/// Node evaluations per second per core: one thread evaluating blocks of the program.
void BM_ProgramRandomGraph(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const int block = static_cast<int>(state.range(1));
  Program p = compile_text(random_graph(n, 1), "random.yaml");
  Program::Block b = p.make_block(block);
  std::uint64_t run = 0;
  for (auto _ : state) {
    p.evaluate(b, 1, run, block);
    run += static_cast<std::uint64_t>(block);
    benchmark::DoNotOptimize(b.values.data());
  }
  const double evals = static_cast<double>(n) * p.steps() * block;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * evals));
  state.counters["node_evals_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * evals, benchmark::Counter::kIsRate);
  state.counters["instructions_per_node"] = static_cast<double>(p.instructions_per_step()) / n;
}
BENCHMARK(BM_ProgramRandomGraph)
    ->ArgsProduct({{10, 100, 1000, 10000}, {16, 64, 256, 1024}})
    ->ArgNames({"nodes", "block"})
    ->Unit(benchmark::kMicrosecond);

std::string model_path(const std::string& name) {
  return std::string(ATTAIN_SOURCE_DIR) + "/models/" + name + ".yaml";
}

/// End-to-end runs per second for an example model (all scenarios as written).
void run_model(benchmark::State& state, const std::string& name, bool write) {
  Model m = load_model(model_path(name));
  DependencyGraph g = build_graph(m);
  Program p = compile(m, g);
  const auto runs = static_cast<std::uint64_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  auto out = std::filesystem::temp_directory_path() / fmt::format("attain-bench-{}.h5", name);
  for (auto _ : state) {
    EnsembleOptions o;
    o.runs = runs;
    o.threads = threads;
    o.store = write ? StoreLevel::kTargets : StoreLevel::kSummary;
    if (write) {
      RunInfo info;
      info.runs = runs;
      info.store = o.store;
      ResultsFile f(out.string(), m, info);
      EnsembleResult r = run_ensemble(p, o, &f.begin_scenario(default_scenario(m), p));
      f.end_scenario(r);
      f.commit();
    } else {
      benchmark::DoNotOptimize(run_ensemble(p, o, nullptr).joint_hits);
    }
  }
  std::filesystem::remove(out);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * runs));
  state.counters["runs_per_s"] = benchmark::Counter(static_cast<double>(state.iterations() * runs),
                                                    benchmark::Counter::kIsRate);
}

void BM_EndToEnd_Teaching(benchmark::State& s) {
  run_model(s, "teaching_firms", false);
}
void BM_EndToEnd_Teaching_HDF5(benchmark::State& s) {
  run_model(s, "teaching_firms", true);
}
void BM_EndToEnd_AllConstructs(benchmark::State& s) {
  run_model(s, "all_constructs", false);
}
void BM_EndToEnd_AllConstructs_HDF5(benchmark::State& s) {
  run_model(s, "all_constructs", true);
}
void BM_EndToEnd_Guandu(benchmark::State& s) {
  run_model(s, "guandu_innovation", false);
}
void BM_EndToEnd_Guandu_HDF5(benchmark::State& s) {
  run_model(s, "guandu_innovation", true);
}

#define ATTAIN_END_TO_END(fn)           \
  BENCHMARK(fn)                         \
      ->ArgsProduct({{100000}, {1, 2}}) \
      ->ArgNames({"runs", "threads"})   \
      ->Unit(benchmark::kMillisecond)   \
      ->UseRealTime()                   \
      ->MeasureProcessCPUTime()         \
      ->Iterations(3)
ATTAIN_END_TO_END(BM_EndToEnd_Teaching);
ATTAIN_END_TO_END(BM_EndToEnd_Teaching_HDF5);
ATTAIN_END_TO_END(BM_EndToEnd_AllConstructs);
ATTAIN_END_TO_END(BM_EndToEnd_AllConstructs_HDF5);
ATTAIN_END_TO_END(BM_EndToEnd_Guandu);
ATTAIN_END_TO_END(BM_EndToEnd_Guandu_HDF5);

/// Speed-up from 1 to 2 threads on a compute-bound graph (1000 nodes).
void BM_ThreadScaling(benchmark::State& state) {
  Program p = compile_text(random_graph(1000, 2), "random.yaml");
  const auto runs = static_cast<std::uint64_t>(state.range(0));
  for (auto _ : state) {
    EnsembleOptions o;
    o.runs = runs;
    o.threads = static_cast<int>(state.range(1));
    o.store = StoreLevel::kSummary;
    benchmark::DoNotOptimize(run_ensemble(p, o, nullptr).runs);
  }
  state.counters["runs_per_s"] = benchmark::Counter(static_cast<double>(state.iterations() * runs),
                                                    benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ThreadScaling)
    ->ArgsProduct({{32768}, {1, 2}})
    ->ArgNames({"runs", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
