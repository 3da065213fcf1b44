// Tests of the results file's reducer state: run ranges saved to two files, read back and
// merged, equal one study over the whole range bit for bit.
#include "attain/results_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

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

}  // namespace
}  // namespace attain
