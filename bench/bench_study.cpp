// Benchmarks of studies and the analyses built on them: paired comparison against two
// separate ensembles, chance-constrained search, what each standard reducer costs per
// run (results: docs/performance.md, "Studies: compare, search and reducers"), and the
// interactive case of a dashboard moving one lever.
#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "attain/analysis.hpp"
#include "attain/checkpoint.hpp"
#include "attain/graph.hpp"
#include "attain/program.hpp"
#include "attain/study.hpp"
#include "attain/yaml_reader.hpp"

namespace {

using namespace attain;

std::string source_path(const std::string& relative) {
  return std::string(ATTAIN_SOURCE_DIR) + "/" + relative;
}

/// The Guandu model compiled under its plan and boost scenarios, loaded as the CLI does.
struct Guandu {
  Model model;
  DependencyGraph graph;
  Model plan_model;
  Program plan, boost;
};

Guandu load_guandu() {
  Model m = load_model(source_path("models/guandu_innovation.yaml"));
  DependencyGraph g = build_graph(m);
  Model plan_model = apply_scenario(m, load_scenario(source_path("scenarios/guandu/plan.yaml"), m));
  Model boost_model =
      apply_scenario(m, load_scenario(source_path("scenarios/guandu/boost.yaml"), m));
  Program plan = compile(plan_model, g);
  Program boost = compile(boost_model, g);
  return Guandu{std::move(m), std::move(g), std::move(plan_model), std::move(plan),
                std::move(boost)};
}

const Guandu& guandu() {
  static const Guandu g = load_guandu();
  return g;
}

AnalysisOptions analysis_options(std::uint64_t runs, int threads) {
  AnalysisOptions o;
  o.runs = runs;
  o.seed = 1;
  o.threads = threads;
  return o;
}

void runs_counter(benchmark::State& state, std::uint64_t runs_per_iteration) {
  state.counters["runs_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * runs_per_iteration), benchmark::Counter::kIsRate);
}

/// Keeps a result alive through the const overload of DoNotOptimize: with GCC the non-const
/// overload's "+r,m" constraint can corrupt a double in place (google/benchmark#903; seen
/// here as SearchResult::level reading 4.6e-310).
template <class T>
void keep(const T& value) {
  benchmark::DoNotOptimize(value);
}

/// A counter of the benchmark's time (real or CPU, as the benchmark measures) divided by
/// `runs`, in nanoseconds: an inverted rate of runs per 1e-9.
benchmark::Counter ns_per_run(double runs) {
  return benchmark::Counter(runs * 1e-9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// ---------------------------------------------------------------------------------------
// 1. Paired comparison of plan and boost against two separate single-scenario ensembles.

/// `compare` of plan (reference) and boost on the same runs, as `attain compare` without
/// --out: two attainment reducers and one paired reducer. Counters: the mean 95 % interval
/// width of the per-target differences, paired (Newcombe 10 with the table's phi) and
/// unpaired (the same with phi = 0: what two separate ensembles of this size give).
void BM_Compare_Guandu(benchmark::State& state) {
  const Guandu& g = guandu();
  const auto runs = static_cast<std::uint64_t>(state.range(0));
  const AnalysisOptions o = analysis_options(runs, static_cast<int>(state.range(1)));
  CompareResult r;
  for (auto _ : state) {
    r = compare(g.model, {&g.plan, &g.boost}, {"plan", "boost"}, o);
    keep(r.runs);
  }
  // Over all targets, and over the targets boost changes in some run (helped + hurt > 0;
  // on the others the paired interval is near zero and a ratio means little).
  double paired = 0, unpaired = 0, paired_changed = 0, unpaired_changed = 0;
  int changed = 0;
  const auto& targets = r.comparisons.at(0).targets;
  for (const auto& t : targets) {
    const double pw = t.paired.hi - t.paired.lo, uw = t.unpaired.hi - t.unpaired.lo;
    paired += pw;
    unpaired += uw;
    if (t.table.helped + t.table.hurt > 0) {
      ++changed;
      paired_changed += pw;
      unpaired_changed += uw;
    }
  }
  const auto n = static_cast<double>(targets.size());
  state.counters["targets"] = n;
  state.counters["mean_paired_width"] = paired / n;
  state.counters["mean_unpaired_width"] = unpaired / n;
  state.counters["unpaired_over_paired"] = unpaired / paired;
  state.counters["changed_targets"] = changed;
  if (changed > 0) {
    state.counters["changed_mean_paired_width"] = paired_changed / changed;
    state.counters["changed_mean_unpaired_width"] = unpaired_changed / changed;
    state.counters["changed_unpaired_over_paired"] = unpaired_changed / paired_changed;
  }
  const auto& joint = r.comparisons.at(0).joint;
  state.counters["joint_paired_width"] = joint.paired.hi - joint.paired.lo;
  state.counters["joint_unpaired_width"] = joint.unpaired.hi - joint.unpaired.lo;
  runs_counter(state, 2 * runs);  // scenario-runs: each run is evaluated under both
}

/// Two separate single-scenario ensembles (plan, then boost), as `attain run --scenario plan
/// --scenario boost` without --out: attainment and actuals reducers each.
void BM_TwoRuns_Guandu(benchmark::State& state) {
  const Guandu& g = guandu();
  const auto runs = static_cast<std::uint64_t>(state.range(0));
  const AnalysisOptions o = analysis_options(runs, static_cast<int>(state.range(1)));
  for (auto _ : state) {
    EnsembleResult a = run_scenario(g.plan, o, false, nullptr, false);
    EnsembleResult b = run_scenario(g.boost, o, false, nullptr, false);
    benchmark::DoNotOptimize(a.joint_hits + b.joint_hits);
  }
  runs_counter(state, 2 * runs);
}

#define ATTAIN_COMPARE_BENCH(fn)        \
  BENCHMARK(fn)                         \
      ->ArgsProduct({{100000}, {1, 2}}) \
      ->ArgNames({"runs", "threads"})   \
      ->Unit(benchmark::kMillisecond)   \
      ->UseRealTime()                   \
      ->MeasureProcessCPUTime()         \
      ->Iterations(2)
ATTAIN_COMPARE_BENCH(BM_Compare_Guandu);
ATTAIN_COMPARE_BENCH(BM_TwoRuns_Guandu);

// ---------------------------------------------------------------------------------------
// 2. Chance-constrained search.

/// The least value of fiscal_st_index with P(t03_high_tech_enterprises) >= 0.5, tolerance
/// 0.01, `runs` runs per evaluation (on the program pruned to what the target needs).
void BM_Search_Guandu(benchmark::State& state) {
  const Guandu& g = guandu();
  SearchSpec spec;
  spec.levers = {"fiscal_st_index"};
  for (std::size_t t = 0; t < g.model.targets.size(); ++t)
    if (g.model.targets[t].name == "t03_high_tech_enterprises") spec.target = static_cast<int>(t);
  if (spec.target < 0) {
    state.SkipWithError("no target t03_high_tech_enterprises");
    return;
  }
  spec.goal = 0.5;
  spec.tolerance = 0.01;
  const auto runs = static_cast<std::uint64_t>(state.range(0));
  const AnalysisOptions o = analysis_options(runs, static_cast<int>(state.range(1)));
  SearchResult r;
  for (auto _ : state) {
    r = search(g.plan, g.plan_model, spec, o);
    keep(r.level);
  }
  const auto evaluations = static_cast<double>(r.evaluations.size());
  state.counters["evaluations"] = evaluations;
  state.counters["level"] = r.level;
  state.counters["level_low"] = r.level_low;
  state.counters["level_high"] = r.level_high;
  state.counters["s_per_evaluation"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * evaluations,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Search_Guandu)
    ->ArgsProduct({{20000}, {1, 2}})
    ->ArgNames({"runs", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Iterations(2);

// ---------------------------------------------------------------------------------------
// 2b. The interactive case.

/// The dashboard case: a warm engine (the Guandu plan loaded and compiled, TBB's worker
/// threads started, one study run before timing) answers one lever setting per
/// iteration: fiscal_st_index scaled by 1.0, 1.1, ..., 2.0 in turn (LeverKnob::apply, i.e.
/// Program::set_lever, as sweep and search move a lever), then P of every target and of
/// all together with its 95 % Wilson interval over `runs` runs (run_study with an
/// AttainmentReducer, as sweep evaluates a point; run_study builds its own task arena per
/// call, which is part of the cost). Wall milliseconds per setting and runs per second.
/// Aim: <= 100 ms wall per setting at 10^5 runs on the 2-core machine.
void BM_Interactive_Guandu(benchmark::State& state) {
  const Guandu& g = guandu();
  const auto runs = static_cast<std::uint64_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  Program p = g.plan;  // the copy whose lever the dashboard moves
  const LeverKnob knob(g.plan_model, {"fiscal_st_index"});
  Study s;
  s.variants = {&p};
  s.reducers.push_back(std::make_unique<AttainmentReducer>(p.model(), 0));
  StudyOptions o;
  o.first = 0;
  o.last = runs;
  o.seed = 1;
  o.threads = threads;
  const std::size_t targets = p.model().targets.size();
  // One setting: the probabilities and intervals a dashboard shows; returns their sum.
  auto setting = [&](double level) {
    knob.apply(p, level);
    const StudyResult r = run_study(s, o);
    const auto& a = r.get<AttainmentReducer>(0);
    double sum = 0;
    for (std::size_t t = 0; t < targets; ++t) {
      const Proportion q = proportion(a.hits(t), a.runs());
      sum += q.p + q.lo + q.hi;
    }
    const Proportion joint = proportion(a.joint_hits(), a.runs());
    return sum + joint.p + joint.lo + joint.hi;
  };
  tbb::task_arena arena(threads);  // held: the workers stay up between settings
  arena.initialize();
  keep(setting(1.0));  // warm: the workers started, the caches filled
  int i = 0;
  double last = 0;
  for (auto _ : state) {
    last = setting(1.0 + 0.1 * (i % 11));
    keep(last);
    ++i;
  }
  state.counters["targets"] = static_cast<double>(targets);
  state.counters["last_sum_of_p_lo_hi"] = last;
  runs_counter(state, runs);
}
BENCHMARK(BM_Interactive_Guandu)
    ->ArgsProduct({{100000}, {1, 2}})
    ->ArgNames({"runs", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Iterations(5);  // five settings (1.0 to 1.4) per case, whatever --benchmark_min_time

// ---------------------------------------------------------------------------------------
// 3. What each reducer costs per run.

enum ReducerSet : int {
  kNone = 0,    ///< evaluation only: an empty reducer list
  kAttainment,  ///< AttainmentReducer
  kActuals,     ///< + ActualsReducer
  kSummary,     ///< + SummaryReducer
  kRows,        ///< + RowsReducer (targets store) with a null sink
  kNoneTwo,     ///< two variants (plan, boost), evaluation only
  kPairedTwo,   ///< two variants, PairedReducer only
  kCompareTwo,  ///< two variants, 2 x AttainmentReducer + PairedReducer (as compare)
  kReducerSetCount,
};

const char* reducer_set_name(int set) {
  static const char* names[] = {"none",
                                "attainment",
                                "attainment+actuals",
                                "+summary",
                                "+rows(null sink)",
                                "two_variants:none",
                                "two:paired",
                                "two:2x_attainment+paired"};
  return names[set];
}

Study make_study(int set) {
  const Guandu& g = guandu();
  Study s;
  const bool two = set >= kNoneTwo;
  s.variants =
      two ? std::vector<const Program*>{&g.plan, &g.boost} : std::vector<const Program*>{&g.plan};
  if (set >= kAttainment && set <= kRows)
    s.reducers.push_back(std::make_unique<AttainmentReducer>(g.model, 0));
  if (set >= kActuals && set <= kRows)
    s.reducers.push_back(std::make_unique<ActualsReducer>(g.model, 0));
  if (set >= kSummary && set <= kRows)
    s.reducers.push_back(std::make_unique<SummaryReducer>(g.plan.nodes(), g.plan.steps(), 0));
  if (set == kRows)
    s.reducers.push_back(std::make_unique<RowsReducer>(g.model, g.plan, 0, false, nullptr));
  if (set == kCompareTwo) {
    s.reducers.push_back(std::make_unique<AttainmentReducer>(g.model, 0));
    s.reducers.push_back(std::make_unique<AttainmentReducer>(g.model, 1));
  }
  if (set == kPairedTwo || set == kCompareTwo)
    s.reducers.push_back(std::make_unique<PairedReducer>(g.model, 0, 1));
  return s;
}

/// A whole study of one Guandu program (two for the paired sets), one thread: nanoseconds
/// of process CPU time per run. Differences between consecutive sets are the cost of the reducer
/// added.
void BM_StudyReducers_Guandu(benchmark::State& state) {
  const int set = static_cast<int>(state.range(0));
  state.SetLabel(reducer_set_name(set));
  const Study s = make_study(set);
  StudyOptions o;
  o.first = 0;
  o.last = static_cast<std::uint64_t>(state.range(1));
  o.threads = 1;
  for (auto _ : state) {
    const StudyResult r = run_study(s, o);
    keep(r.last);
  }
  state.counters["ns_per_run"] = ns_per_run(static_cast<double>(state.iterations() * o.last));
}
BENCHMARK(BM_StudyReducers_Guandu)
    ->ArgsProduct({{kNone, kAttainment, kActuals, kSummary, kRows, kNoneTwo, kPairedTwo,
                    kCompareTwo},
                   {16384}})
    ->ArgNames({"set", "runs"})
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime();  // one thread: CPU time is steadier than wall on a shared VM

/// One reducer alone on a chunk of runs evaluated beforehand (plan and boost, 16 blocks of
/// 256 runs): a fresh copy per chunk, add() of each block, chunk_done(), merge into a
/// total, as the study does. Nanoseconds per run, without the evaluation's noise.
void BM_ReducerAlone_Guandu(benchmark::State& state) {
  const Guandu& g = guandu();
  constexpr int kBlock = 256, kBlocks = 16;
  const int which = static_cast<int>(state.range(0));
  std::unique_ptr<Reducer> proto;
  switch (which) {
    case 0:
      proto = std::make_unique<AttainmentReducer>(g.model, 0);
      break;
    case 1:
      proto = std::make_unique<ActualsReducer>(g.model, 0);
      break;
    case 2:
      proto = std::make_unique<SummaryReducer>(g.plan.nodes(), g.plan.steps(), 0);
      break;
    case 3:
      proto = std::make_unique<RowsReducer>(g.model, g.plan, 0, false, nullptr);
      break;
    default:
      proto = std::make_unique<PairedReducer>(g.model, 0, 1);
      break;
  }
  state.SetLabel(proto->kind());
  std::vector<Program::Block> plan_blocks, boost_blocks;
  std::vector<std::vector<BlockView>> views(kBlocks);
  plan_blocks.reserve(kBlocks);
  boost_blocks.reserve(kBlocks);
  for (int b = 0; b < kBlocks; ++b) {
    const auto run0 = static_cast<std::uint64_t>(b) * kBlock;
    plan_blocks.push_back(g.plan.make_block(kBlock));
    boost_blocks.push_back(g.boost.make_block(kBlock));
    g.plan.evaluate(plan_blocks.back(), 1, run0, kBlock);
    g.boost.evaluate(boost_blocks.back(), 1, run0, kBlock);
  }
  for (int b = 0; b < kBlocks; ++b) {
    const auto run0 = static_cast<std::uint64_t>(b) * kBlock;
    views[static_cast<std::size_t>(b)] = {
        BlockView(g.plan, plan_blocks[static_cast<std::size_t>(b)], run0, kBlock),
        BlockView(g.boost, boost_blocks[static_cast<std::size_t>(b)], run0, kBlock)};
  }
  std::unique_ptr<Reducer> total = proto->empty();
  for (auto _ : state) {
    std::unique_ptr<Reducer> r = proto->empty();
    for (int b = 0; b < kBlocks; ++b) {
      const auto& v = views[static_cast<std::size_t>(b)];
      r->add(StudyBlock{v[0].first_run(), kBlock, v});
    }
    r->chunk_done();
    total->merge(*r);
  }
  benchmark::DoNotOptimize(total.get());
  state.counters["ns_per_run"] =
      ns_per_run(static_cast<double>(state.iterations()) * kBlock * kBlocks);
}
BENCHMARK(BM_ReducerAlone_Guandu)
    ->DenseRange(0, 4)
    ->ArgName("reducer")
    ->Unit(benchmark::kMicrosecond);

/// One checkpoint of `attain run --out` on Guandu's plan (attainment, actuals and every
/// node's summary, as the CLI keeps them): the state of `chunks` chunks of 4096 runs,
/// whose partials number popcount(chunks), written to state.h5 (temporary, fsync,
/// rename, fsync of the folder). Milliseconds per checkpoint and the file's bytes.
void BM_Checkpoint_Guandu(benchmark::State& state) {
  const Guandu& g = guandu();
  const auto chunks = static_cast<std::uint64_t>(state.range(0));
  Study s;
  s.variants = {&g.plan};
  s.reducers = scenario_reducers(g.plan, true, nullptr, false);
  StudyOptions o;
  o.first = 0;
  o.last = chunks * 4096;
  const StudyResult r = run_study(s, o);
  const std::string folder = (std::filesystem::temp_directory_path() /
                              ("attain-bench-checkpoint-" + std::to_string(::getpid())))
                                 .string();
  std::filesystem::create_directories(folder);
  CheckpointScenario entry;
  entry.name = "plan";
  entry.state = &r.state;
  const Fingerprint fingerprint{{"model", g.model.source_text}};
  for (auto _ : state) write_checkpoint(folder, fingerprint, {entry});
  state.counters["partials"] = static_cast<double>(r.state.partials().size());
  state.counters["bytes"] = static_cast<double>(std::filesystem::file_size(folder + "/state.h5"));
  std::filesystem::remove_all(folder);
}
BENCHMARK(BM_Checkpoint_Guandu)
    ->Arg(255)
    ->Arg(1023)
    ->ArgName("chunks")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
