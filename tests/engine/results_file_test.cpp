// Tests of the results file: run ranges saved to two files, read back and merged, equal
// one study over the whole range bit for bit; read_results gives back what was written.
#include "attain/results_file.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "attain/analysis.hpp"
#include "attain/graph.hpp"
#include "attain/yaml_reader.hpp"

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

}  // namespace
}  // namespace attain
