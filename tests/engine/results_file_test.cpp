// Tests of the results file: run ranges saved to two files, read back and merged, equal
// one study over the whole range bit for bit; read_results gives back what was written.
#include "attain/results_file.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "attain/analysis.hpp"
#include "attain/checkpoint.hpp"
#include "attain/graph.hpp"
#include "attain/yaml_reader.hpp"
#include "temp_dir.hpp"

namespace attain {
namespace {

namespace fs = std::filesystem;

const char* kModel =
    "model: s\ndescription: d\ntime: {start: 2017, end: 2020}\n"
    "parameters:\n"
    "  y: {label: y, unit: '1', description: d, source: s, dist: gamma, shape: 2, scale: 1.5}\n"
    "shocks:\n"
    "  new: {label: n, unit: '1', description: d, dist: poisson, rate: 3 * y}\n"
    "stocks:\n"
    "  firms: {label: f, unit: '1', description: d, source: s, initial: 40, change: new}\n"
    "targets:\n"
    "  - {node: firms, op: '>=', threshold: 55, label: firms, source: s}\n"
    "actuals:\n"
    "  - {node: firms, year: 2019, value: 50, label: a, source: s}\n";

/// Runs [first, last) of the scenario into `path` with its state.
StudyResult run_range(const Model& m, const Program& p, const std::string& path,
                      std::uint64_t first, std::uint64_t last) {
  Study s;
  s.variants = {&p};
  s.reducers = scenario_reducers(p, true, nullptr, false);
  StudyOptions o;
  o.first = first;
  o.last = last;
  o.chunk = 512;
  o.seed = 4;
  StudyResult r = run_study(s, o);
  RunInfo info;
  info.first_run = first;
  info.runs = last - first;
  info.chunk = 512;
  info.store = StoreLevel::kSummary;
  ResultsFile f(path, m, info);
  f.begin_scenario(default_scenario(m), p);
  f.end_scenario(ensemble_result(m, &r.get<AttainmentReducer>(0), &r.get<ActualsReducer>(1),
                                 &r.get<SummaryReducer>(2), r.seconds),
                 &r);
  f.commit();
  return r;
}

TEST(ResultsFileTest, RangesSavedToFilesMergeToTheWholeRangeBitForBit) {
  Model m = parse_model(kModel, "s.yaml");
  Program p = compile(m, build_graph(m));
  const fs::path dir = fs::temp_directory_path() / ("attain-state-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::uint64_t n = 512 * 11 + 100;
  StudyResult whole = run_range(m, p, (dir / "whole.h5").string(), 0, n);
  for (std::uint64_t k : {512u * 3, 512u * 8}) {
    SCOPED_TRACE(k);
    run_range(m, p, (dir / "a.h5").string(), 0, k);
    run_range(m, p, (dir / "b.h5").string(), k, n);
    const auto protos = scenario_reducers(p, true, nullptr, false);
    std::uint64_t first = 1, last = 0;
    StudyState merged = read_state((dir / "a.h5").string(), "default", protos, &first, &last);
    EXPECT_EQ(first, 0u);
    EXPECT_EQ(last, k);
    merged.append(read_state((dir / "b.h5").string(), "default", protos));
    const auto reducers = merged.result();
    ASSERT_EQ(reducers.size(), whole.reducers.size());
    for (std::size_t i = 0; i < reducers.size(); ++i)
      EXPECT_EQ(reducers[i]->save(), whole.reducers[i]->save()) << reducers[i]->kind();
  }
  // A state read with the wrong reducers, or from a scenario without one, is refused.
  auto wrong = scenario_reducers(p, false, nullptr, false);
  wrong.insert(wrong.begin(), std::make_unique<SummaryReducer>(p.nodes(), p.steps(), 0));
  EXPECT_THROW(read_state((dir / "a.h5").string(), "default", wrong), OutputError);
  EXPECT_THROW(read_state((dir / "a.h5").string(), "nope", wrong), OutputError);
  EXPECT_THROW(read_state((dir / "missing.h5").string(), "default", wrong), OutputError);
  fs::remove_all(dir);
}

TEST(ResultsFileTest, ReadResultsGivesBackWhatWasWritten) {
  Model m = parse_model(kModel, "s.yaml");
  Program p = compile(m, build_graph(m));
  const fs::path dir = fs::temp_directory_path() / ("attain-read-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "r.h5").string();
  const StudyResult r = run_range(m, p, path, 0, 3000);
  const EnsembleResult e =
      ensemble_result(m, &r.get<AttainmentReducer>(0), &r.get<ActualsReducer>(1),
                      &r.get<SummaryReducer>(2), r.seconds);
  const StoredResults s = read_results(path);
  EXPECT_EQ(s.version_major, 2);
  EXPECT_EQ(s.info.runs, 3000u);
  EXPECT_EQ(s.info.chunk, 512);
  EXPECT_EQ(s.info.store, StoreLevel::kSummary);
  EXPECT_EQ(s.info.analysis, "run");
  EXPECT_EQ(s.model.name, "s");
  EXPECT_EQ(s.model.source_text, kModel);
  ASSERT_EQ(s.scenarios.size(), 1u);
  const StoredScenario& sc = s.scenarios[0];
  EXPECT_EQ(sc.name, "default");
  EXPECT_EQ(sc.result.runs, e.runs);
  ASSERT_EQ(sc.result.targets.size(), 1u);
  EXPECT_EQ(sc.result.targets[0].hits, e.targets[0].hits);
  EXPECT_EQ(sc.result.targets[0].ci_low, e.targets[0].ci_low);
  EXPECT_EQ(sc.result.targets[0].first_met, e.targets[0].first_met);
  EXPECT_EQ(sc.result.targets[0].never, e.targets[0].never);
  EXPECT_EQ(sc.result.joint_hits, e.joint_hits);
  EXPECT_EQ(sc.result.joint_high, e.joint_high);
  ASSERT_EQ(sc.result.actuals.size(), 1u);
  EXPECT_EQ(sc.result.actuals[0].below, e.actuals[0].below);
  EXPECT_EQ(sc.result.actuals[0].percentile, e.actuals[0].percentile);
  ASSERT_TRUE(sc.summary.has_value());
  ASSERT_EQ(sc.summary->mean.size(), e.moments.size());
  for (std::size_t i = 0; i < e.moments.size(); ++i) {
    EXPECT_EQ(sc.summary->mean[i], e.moments[i].mean());
    EXPECT_EQ(sc.summary->max[i], e.moments[i].max);
    for (std::size_t q = 0; q < 5; ++q)
      EXPECT_EQ(sc.summary->quantiles[i * 5 + q], e.quantiles[i][q]);
  }

  // Another major version is refused with the versions named.
  {
    hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    hid_t a = H5Aopen(f, "version", H5P_DEFAULT);
    const int v[2] = {1, 2};
    H5Awrite(a, H5T_NATIVE_INT, v);
    H5Aclose(a);
    H5Fclose(f);
  }
  try {
    read_results(path);
    ADD_FAILURE() << "a version 1.2 file was read";
  } catch (const OutputError& err) {
    EXPECT_NE(std::string(err.what()).find("version 1.2"), std::string::npos) << err.what();
  }
  // Not a results file at all.
  std::ofstream(dir / "text.h5") << "hello";
  EXPECT_THROW(read_results((dir / "text.h5").string()), OutputError);
  EXPECT_THROW(read_results((dir / "missing.h5").string()), OutputError);
  fs::remove_all(dir);
}

// ---------------------------------------------------------------------------------------
// Round trips: each result type written (ResultsFile::write_*, write_checkpoint) and read
// back (read_results, read_checkpoint_*) gives what was written.

using attain_test::TempDir;

void expect_same(const Proportion& a, const Proportion& b) {
  EXPECT_EQ(a.hits, b.hits);
  EXPECT_EQ(a.runs, b.runs);
  EXPECT_EQ(a.p, b.p);
  EXPECT_EQ(a.lo, b.lo);
  EXPECT_EQ(a.hi, b.hi);
}

void expect_same(const Estimate& a, const Estimate& b) {
  EXPECT_EQ(a.value, b.value);
  EXPECT_EQ(a.lo, b.lo);
  EXPECT_EQ(a.hi, b.hi);
}

/// A results file of model kModel's default scenario (a few runs) with `extra` written
/// after it, read back.
template <class Write>
StoredResults write_and_read(const TempDir& dir, Write extra) {
  Model m = parse_model(kModel, "s.yaml");
  Program p = compile(m, build_graph(m));
  const std::string path = dir.file("r.h5");
  Study s;
  s.variants = {&p};
  s.reducers = scenario_reducers(p, true, nullptr, false);
  StudyOptions o;
  o.last = 600;
  o.chunk = 256;
  const StudyResult r = run_study(s, o);
  RunInfo info;
  info.runs = 600;
  info.chunk = 256;
  info.store = StoreLevel::kSummary;
  ResultsFile f(path, m, info);
  f.begin_scenario(default_scenario(m), p);
  f.end_scenario(ensemble_result(m, &r.get<AttainmentReducer>(0), &r.get<ActualsReducer>(1),
                                 &r.get<SummaryReducer>(2), r.seconds));
  extra(f, m);
  f.commit();
  return read_results(path);
}

TEST(ResultsFileTest, ComparisonsRoundTrip) {
  TempDir dir;
  Comparison c;
  c.reference = "default";
  c.scenario = "default";
  c.targets.push_back(paired_target("firms", {120, 30, 12, 438}));
  c.targets[0].value_difference = MeanInterval{1.5, 0.25, 2.75, 4.125};
  c.joint = paired_target("all targets", {100, 20, 10, 470});
  const StoredResults s =
      write_and_read(dir, [&](ResultsFile& f, const Model&) { f.write_comparisons({c}); });
  ASSERT_EQ(s.comparisons.size(), 1u);
  const Comparison& b = s.comparisons[0];
  EXPECT_EQ(b.reference, c.reference);
  EXPECT_EQ(b.scenario, c.scenario);
  ASSERT_EQ(b.targets.size(), 1u);
  for (const auto& [x, y] : {std::pair{&b.targets[0], &c.targets[0]}, {&b.joint, &c.joint}}) {
    EXPECT_EQ(x->name, y->name);
    EXPECT_EQ(x->table.both, y->table.both);
    EXPECT_EQ(x->table.helped, y->table.helped);
    EXPECT_EQ(x->table.hurt, y->table.hurt);
    EXPECT_EQ(x->table.neither, y->table.neither);
    expect_same(x->reference, y->reference);
    expect_same(x->other, y->other);
    EXPECT_EQ(x->paired.difference, y->paired.difference);
    EXPECT_EQ(x->paired.lo, y->paired.lo);
    EXPECT_EQ(x->unpaired.hi, y->unpaired.hi);
    EXPECT_EQ(x->p_value, y->p_value);
  }
  ASSERT_TRUE(b.targets[0].value_difference.has_value());
  EXPECT_EQ(b.targets[0].value_difference->mean, 1.5);
  EXPECT_EQ(b.targets[0].value_difference->lo, 0.25);
  EXPECT_EQ(b.targets[0].value_difference->hi, 2.75);
  EXPECT_EQ(b.targets[0].value_difference->sd, 4.125);
}

TEST(ResultsFileTest, SweepRoundTrip) {
  TempDir dir;
  SweepResult sw;
  sw.axes = {{"y", 0.5, 1.5, 2}};
  sw.absolute = {false};
  sw.points.push_back(
      {{0.5}, {{10, 600, 1.0 / 60, 0.01, 0.03}}, {10, 600, 1.0 / 60, 0.01, 0.03}, 2.5});
  sw.points.push_back({{1.5}, {{300, 600, 0.5, 0.46, 0.54}}, {300, 600, 0.5, 0.46, 0.54}, 7.5});
  sw.runs = 600;
  sw.non_monotone = {"firms: y 0.5 -> 1.5"};
  sw.seconds = 0.125;
  const StoredResults s = write_and_read(
      dir, [&](ResultsFile& f, const Model& m) { f.write_sweep(sw, default_scenario(m)); });
  ASSERT_TRUE(s.sweep.has_value());
  const SweepResult& b = *s.sweep;
  EXPECT_EQ(s.analysis_scenario, "default");
  ASSERT_EQ(b.axes.size(), 1u);
  EXPECT_EQ(b.axes[0].lever, "y");
  EXPECT_EQ(b.axes[0].from, 0.5);
  EXPECT_EQ(b.axes[0].to, 1.5);
  EXPECT_EQ(b.axes[0].points, 2);
  EXPECT_EQ(b.absolute, sw.absolute);
  ASSERT_EQ(b.points.size(), sw.points.size());
  for (std::size_t i = 0; i < b.points.size(); ++i) {
    EXPECT_EQ(b.points[i].levels, sw.points[i].levels);
    ASSERT_EQ(b.points[i].targets.size(), 1u);
    expect_same(b.points[i].targets[0], sw.points[i].targets[0]);
    expect_same(b.points[i].joint, sw.points[i].joint);
    EXPECT_EQ(b.points[i].cost, sw.points[i].cost);
  }
  EXPECT_EQ(b.runs, sw.runs);
  EXPECT_EQ(b.non_monotone, sw.non_monotone);
  EXPECT_EQ(b.seconds, sw.seconds);
}

TEST(ResultsFileTest, SearchRoundTrip) {
  TempDir dir;
  SearchResult r;
  r.levers = {"y"};
  r.absolute = true;
  r.target = "firms";
  r.goal = 0.8;
  r.range_low = 0, r.range_high = 6, r.tolerance = 0.01;
  r.reachable = true;
  r.level = 3.25, r.level_low = 3, r.level_high = 3.5;
  r.at_level = {490, 600, 490.0 / 600, 0.78, 0.85};
  r.monotone = false;
  r.evaluations = {{0, {0, 600, 0, 0, 0.006}}, {3.25, {490, 600, 490.0 / 600, 0.78, 0.85}}};
  r.runs = 600;
  r.seconds = 0.5;
  const StoredResults s = write_and_read(
      dir, [&](ResultsFile& f, const Model& m) { f.write_search(r, default_scenario(m)); });
  ASSERT_TRUE(s.search.has_value());
  const SearchResult& b = *s.search;
  EXPECT_EQ(s.analysis_scenario, "default");
  EXPECT_EQ(b.levers, r.levers);
  EXPECT_EQ(b.absolute, r.absolute);
  EXPECT_EQ(b.target, r.target);
  EXPECT_EQ(b.goal, r.goal);
  EXPECT_EQ(b.range_low, r.range_low);
  EXPECT_EQ(b.range_high, r.range_high);
  EXPECT_EQ(b.tolerance, r.tolerance);
  EXPECT_EQ(b.reachable, r.reachable);
  EXPECT_EQ(b.monotone, r.monotone);
  EXPECT_EQ(b.level, r.level);
  EXPECT_EQ(b.level_low, r.level_low);
  EXPECT_EQ(b.level_high, r.level_high);
  expect_same(b.at_level, r.at_level);
  ASSERT_EQ(b.evaluations.size(), r.evaluations.size());
  for (std::size_t i = 0; i < b.evaluations.size(); ++i) {
    EXPECT_EQ(b.evaluations[i].level, r.evaluations[i].level);
    expect_same(b.evaluations[i].p, r.evaluations[i].p);
  }
  EXPECT_EQ(b.runs, r.runs);
  EXPECT_EQ(b.seconds, r.seconds);
}

/// A sensitivity result of kModel's one target and one uncertain parameter, with a box.
SensitivityResult sensitivity_result() {
  SensitivityResult r;
  Factor f;
  f.name = "y", f.why = "parameter", f.members = {"y"};
  r.factors = {f};
  r.uncertain = {"y"};
  for (int target : {0, -1}) {
    OutputSensitivity o;
    o.output = {target, true};
    o.name = target < 0 ? "all targets together" : "firms";
    o.mean = 0.25, o.variance = 0.1875;
    o.factors = {{{0.5, 0.375, 0.625}, {0.75, 0.625, 0.875}}};
    o.sum_s1 = {0.5, 0.375, 0.625};
    o.sum_st = {0.75, 0.625, 0.875};
    o.thirds = {{Third{200, 0.125, 0.0625, 0.25}, Third{200, 0.25, 0.1875, 0.3125},
                 Third{200, 0.375, 0.3125, 0.4375}}};
    r.outputs.push_back(o);
  }
  PrimTarget pt;
  pt.target = 0;
  PrimResult& p = pt.result;
  p.trajectory = {{{0}, {1}, 1, 1, 0.25, 0, 400, 100}, {{0.5}, {1}, 0.5, 0.75, 0.375, 1, 200, 75}};
  p.chosen = 1;
  p.pastes = 0;
  p.box = p.trajectory[1];
  p.restricted = {{0, "y", 0.5, 1, true, false, 0.001}};
  r.prim = {pt};
  r.rows = 100, r.runs = 300, r.prim_points = 400;
  r.resamples = 50;
  r.sampling = Sampling::kRandom;
  r.seconds = 1.5;
  return r;
}

TEST(ResultsFileTest, SensitivityRoundTrip) {
  TempDir dir;
  const SensitivityResult r = sensitivity_result();
  const StoredResults s =
      write_and_read(dir, [&](ResultsFile& f, const Model&) { f.write_sensitivity("default", r); });
  ASSERT_EQ(s.sensitivity.size(), 1u);
  EXPECT_EQ(s.sensitivity[0].first, "default");
  const SensitivityResult& b = s.sensitivity[0].second;
  ASSERT_EQ(b.factors.size(), 1u);
  EXPECT_EQ(b.factors[0].name, "y");
  EXPECT_EQ(b.factors[0].why, "parameter");
  EXPECT_EQ(b.factors[0].members, r.factors[0].members);
  EXPECT_EQ(b.uncertain, r.uncertain);
  EXPECT_EQ(b.rows, r.rows);
  EXPECT_EQ(b.runs, r.runs);
  EXPECT_EQ(b.prim_points, r.prim_points);
  EXPECT_EQ(b.resamples, r.resamples);
  EXPECT_EQ(b.sampling, r.sampling);
  EXPECT_EQ(b.seconds, r.seconds);
  ASSERT_EQ(b.outputs.size(), r.outputs.size());
  for (std::size_t o = 0; o < b.outputs.size(); ++o) {
    const OutputSensitivity &x = b.outputs[o], &y = r.outputs[o];
    EXPECT_EQ(x.output.target, y.output.target);
    EXPECT_EQ(x.output.met, y.output.met);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.mean, y.mean);
    EXPECT_EQ(x.variance, y.variance);
    ASSERT_EQ(x.factors.size(), 1u);
    expect_same(x.factors[0].s1, y.factors[0].s1);
    expect_same(x.factors[0].st, y.factors[0].st);
    expect_same(x.sum_s1, y.sum_s1);
    expect_same(x.sum_st, y.sum_st);
    ASSERT_EQ(x.thirds.size(), 1u);
    for (std::size_t q = 0; q < 3; ++q) {
      EXPECT_EQ(x.thirds[0][q].runs, y.thirds[0][q].runs);
      EXPECT_EQ(x.thirds[0][q].value, y.thirds[0][q].value);
      EXPECT_EQ(x.thirds[0][q].lo, y.thirds[0][q].lo);
      EXPECT_EQ(x.thirds[0][q].hi, y.thirds[0][q].hi);
    }
  }
  ASSERT_EQ(b.prim.size(), 1u);
  const PrimResult &x = b.prim[0].result, &y = r.prim[0].result;
  EXPECT_EQ(b.prim[0].target, 0);
  EXPECT_EQ(x.chosen, y.chosen);
  EXPECT_EQ(x.pastes, y.pastes);
  EXPECT_EQ(x.reason, y.reason);
  ASSERT_EQ(x.trajectory.size(), y.trajectory.size());
  for (std::size_t i = 0; i < x.trajectory.size(); ++i) {
    EXPECT_EQ(x.trajectory[i].mass, y.trajectory[i].mass);
    EXPECT_EQ(x.trajectory[i].coverage, y.trajectory[i].coverage);
    EXPECT_EQ(x.trajectory[i].density, y.trajectory[i].density);
    EXPECT_EQ(x.trajectory[i].restricted, y.trajectory[i].restricted);
  }
  EXPECT_EQ(x.box.lower, y.box.lower);
  EXPECT_EQ(x.box.upper, y.box.upper);
  EXPECT_EQ(x.box.mass, y.box.mass);
  EXPECT_EQ(x.box.points, y.box.points);
  EXPECT_EQ(x.box.hits, y.box.hits);
  EXPECT_EQ(x.box.restricted, y.box.restricted);
  ASSERT_EQ(x.restricted.size(), 1u);
  EXPECT_EQ(x.restricted[0].dim, 0);
  EXPECT_EQ(x.restricted[0].name, "y");
  EXPECT_EQ(x.restricted[0].lower, 0.5);
  EXPECT_TRUE(x.restricted[0].lower_restricted);
  EXPECT_FALSE(x.restricted[0].upper_restricted);
  EXPECT_EQ(x.restricted[0].quasi_p, 0.001);
}

TEST(ResultsFileTest, CheckpointRoundTrip) {
  TempDir dir;
  Model m = parse_model(kModel, "s.yaml");
  Program p = compile(m, build_graph(m));
  const StudyResult r = run_range(m, p, dir.file("r.h5"), 0, 1300);
  const Fingerprint fingerprint = {{"model", "s"}, {"seed", "4"}};
  write_checkpoint(dir.root(), fingerprint,
                   {{"default", true, 2.5, 640, "rows-0", nullptr, &r.state, std::nullopt}});
  const CheckpointInfo info = read_checkpoint_info(dir.root());
  EXPECT_EQ(info.fingerprint, fingerprint);
  ASSERT_EQ(info.scenarios.size(), 1u);
  EXPECT_EQ(info.scenarios[0].name, "default");
  EXPECT_TRUE(info.scenarios[0].done);
  EXPECT_EQ(info.scenarios[0].seconds, 2.5);
  EXPECT_EQ(info.scenarios[0].rows_bytes, 640u);
  EXPECT_EQ(info.scenarios[0].rows_file, "rows-0");
  EXPECT_EQ(info.scenarios[0].first, 0u);
  EXPECT_EQ(info.scenarios[0].last, 1300u);
  const auto protos = scenario_reducers(p, true, nullptr, false);
  const StudyState state = read_checkpoint_state(dir.root(), 0, protos);
  EXPECT_EQ(state.first, r.state.first);
  EXPECT_EQ(state.last, r.state.last);
  EXPECT_EQ(state.chunk, r.state.chunk);
  const auto reducers = state.result();
  ASSERT_EQ(reducers.size(), r.reducers.size());
  for (std::size_t i = 0; i < reducers.size(); ++i)
    EXPECT_EQ(reducers[i]->save(), r.reducers[i]->save()) << reducers[i]->kind();
  EXPECT_THROW(read_checkpoint_state(dir.root(), 1, protos), OutputError);
}

}  // namespace
}  // namespace attain
