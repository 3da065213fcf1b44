// GoogleTest: scenarios: overrides, extends chains, errors, and common random numbers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "attain/diagnostics.hpp"
#include "attain/ensemble.hpp"
#include "attain/graph.hpp"
#include "attain/model.hpp"
#include "attain/program.hpp"
#include "attain/yaml_reader.hpp"
#include "temp_dir.hpp"

namespace attain {
namespace {

namespace fs = std::filesystem;

const std::string kModel = R"(model: base
description: a model for scenario tests
time: {start: 2017, end: 2020}
levers:
  funding: {label: funding, unit: u, description: d, source: s, value: 3}
  plan: {label: plan, unit: u, description: d, source: s, series: {2017: 1, 2020: 4}}
parameters:
  yield: {label: yield, unit: u, description: d, source: s, dist: uniform, min: 2, max: 6}
  other: {label: other, unit: u, description: d, source: s, dist: normal, mean: 10, sd: 2}
  third: {label: third, unit: u, description: d, source: s, dist: normal, mean: 0, sd: 1}
stocks:
  firms: {label: firms, unit: u, description: d, source: s, initial: 40, change: yield * funding}
auxiliaries:
  total: {label: total, unit: u, description: d, formula: funding + plan + other}
correlations:
  - parameters: [yield, other, third]
    matrix: [[1, 0.3, 0.2], [0.3, 1, 0.1], [0.2, 0.1, 1]]
)";

using attain_test::TempDir;

Model model() {
  return parse_model(kModel, "base.yaml");
}

/// A scenario file's text with the given lever and parameter blocks.
std::string scenario_text(const std::string& name, const std::string& body,
                          const std::string& extends = "") {
  std::string text = "scenario: " + name + "\nmodel: base\ndescription: test scenario\n";
  if (!extends.empty()) text += "extends: " + extends + "\n";
  return text + body;
}

Scenario parse(const std::string& text, const Model& m) {
  return parse_scenario(text, "s.yaml", m);
}

InputError scenario_error(const std::string& text, const Model& m,
                          const std::string& path = "s.yaml") {
  try {
    parse_scenario(text, path, m);
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return InputError({"", 0, 0}, "none");
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

/// Every node's value at every step, for run `run` with seed 7.
std::vector<std::vector<double>> run_of(const Model& m, std::uint64_t run = 0) {
  return replay_run(compile(m, build_graph(m)), 7, run);
}

double value(const Model& m, const std::vector<std::vector<double>>& v, const std::string& node,
             int step) {
  return v[static_cast<std::size_t>(step)][static_cast<std::size_t>(m.node_index.at(node))];
}

/// The lever's value at each step of the model's axis.
std::vector<double> lever_series(const Model& m, const std::string& name) {
  std::vector<double> out;
  const Node& n = *m.find(name);
  for (int k = 0; k < m.time.steps(); ++k) out.push_back(n.lever.at(m.time.time(k), m.time.start));
  return out;
}

TEST(ScenarioTest, OverrideByValue) {
  Model m = model();
  Scenario s = parse(scenario_text("more", "levers:\n  funding: {value: 5}\n"), m);
  EXPECT_EQ(s.name, "more");
  EXPECT_EQ(s.model_name, "base");
  EXPECT_EQ(s.description, "test scenario");
  ASSERT_EQ(s.levers.size(), 1u);
  Model applied = apply_scenario(m, s);
  EXPECT_EQ(lever_series(applied, "funding"), (std::vector<double>{5, 5, 5, 5}));
  auto v = run_of(applied);
  EXPECT_EQ(value(applied, v, "funding", 2), 5);
}

TEST(ScenarioTest, OverrideBySeriesAndGrowth) {
  Model m = model();
  Scenario s = parse(scenario_text("shape",
                                   "levers:\n"
                                   "  funding: {series: {2018: 2, 2020: 6}}\n"
                                   "  plan: {growth: {initial: 10, rate: 0.5}}\n"),
                     m);
  Model applied = apply_scenario(m, s);
  EXPECT_EQ(lever_series(applied, "funding"), (std::vector<double>{2, 2, 4, 6}));
  EXPECT_EQ(lever_series(applied, "plan"), (std::vector<double>{10, 15, 22.5, 33.75}));
  auto v = run_of(applied);
  EXPECT_EQ(value(applied, v, "plan", 3), 33.75);
  EXPECT_EQ(value(applied, v, "funding", 2), 4);
}

TEST(ScenarioTest, ScaleMultipliesTheModelRule) {
  Model m = model();
  Scenario s = parse(scenario_text("scaled", "levers:\n  plan: {scale: 2}\n"), m);
  ASSERT_EQ(s.levers.size(), 1u);
  EXPECT_FALSE(s.levers[0].second.rule.has_value());
  EXPECT_EQ(s.levers[0].second.scale, 2);
  Model applied = apply_scenario(m, s);
  EXPECT_EQ(lever_series(applied, "plan"), (std::vector<double>{2, 4, 6, 8}));
}

TEST(ScenarioTest, ScaleOnTopOfTheExtendedScenariosRule) {
  TempDir dir;
  Model m = model();
  dir.write("base/high.yaml", scenario_text("high",
                                            "levers:\n  funding: {value: 4}\n"
                                            "  plan: {scale: 2}\n"));
  std::string child =
      dir.write("variants/higher.yaml",
                scenario_text("higher", "levers:\n  funding: {scale: 1.5}\n  plan: {scale: 3}\n",
                              "../base/high.yaml"));
  // '..' leaves variants/, so the common folder must be allowed (--scenario-dir).
  EXPECT_THROW(load_scenario(child, m), InputError);
  const IncludeRules rules{{dir.root()}};
  Scenario s = load_scenario(child, m, rules);
  EXPECT_EQ(s.name, "higher");
  ASSERT_EQ(s.sources.size(), 2u);
  EXPECT_TRUE(s.sources[0].first.ends_with("base/high.yaml")) << s.sources[0].first;
  EXPECT_EQ(s.sources[1].first, child);
  Model applied = apply_scenario(m, s);
  EXPECT_EQ(lever_series(applied, "funding"), (std::vector<double>{6, 6, 6, 6}));
  EXPECT_EQ(lever_series(applied, "plan"), (std::vector<double>{6, 12, 18, 24}));
  // A rule in the child replaces the parent's rule and its scale.
  std::string reset =
      dir.write("variants/reset.yaml",
                scenario_text("reset", "levers:\n  plan: {value: 1}\n", "../base/high.yaml"));
  Model r = apply_scenario(m, load_scenario(reset, m, rules));
  EXPECT_EQ(lever_series(r, "plan"), (std::vector<double>{1, 1, 1, 1}));
  EXPECT_EQ(lever_series(r, "funding"), (std::vector<double>{4, 4, 4, 4}));
}

/// a.yaml <- sub/b.yaml <- sub/deeper/c.yaml, each extending the one before; returns c's path.
std::string write_chain_of_three(TempDir& dir) {
  dir.write("a.yaml", scenario_text("a",
                                    "parameters:\n  other: {value: 1}\n"
                                    "levers:\n  funding: {value: 10}\n"));
  dir.write("sub/b.yaml", scenario_text("b", "parameters:\n  other: {value: 2}\n", "../a.yaml"));
  std::string c = dir.write("sub/deeper/c.yaml",
                            scenario_text("c", "levers:\n  funding: {scale: 0.5}\n", "../b.yaml"));
  return c;
}

TEST(ScenarioTest, StoredSourcesRebuildTheScenarioWithoutTheFiles) {
  TempDir dir;
  Model m = model();
  const std::string c = write_chain_of_three(dir);
  const Scenario read = load_scenario(c, m, IncludeRules{{dir.root()}});
  const auto expected = run_of(apply_scenario(m, read), 3);
  // The files change on disk (or go): the stored texts still give the same scenario, in
  // whatever order they come.
  fs::remove_all(dir.root());
  auto sources = read.sources;
  std::reverse(sources.begin(), sources.end());
  const Scenario stored = parse_stored_scenario(c, sources, m);
  EXPECT_EQ(stored.name, "c");
  EXPECT_EQ(stored.sources, read.sources);
  EXPECT_EQ(run_of(apply_scenario(m, stored), 3), expected);
  // A text missing from the chain is named.
  sources.erase(std::find_if(sources.begin(), sources.end(),
                             [](const auto& p) { return p.first.ends_with("b.yaml"); }));
  try {
    parse_stored_scenario(c, sources, m);
    ADD_FAILURE() << "no error without b.yaml's text";
  } catch (const InputError& e) {
    EXPECT_TRUE(contains(e.text(),
                         "the stored sources hold no text of the extended scenario "
                         "'../b.yaml'"))
        << e.what();
    EXPECT_EQ(e.loc().file, c);
    EXPECT_EQ(e.loc().line, 4);
  }
  EXPECT_THROW(parse_stored_scenario("elsewhere.yaml", read.sources, m), InputError);
}

TEST(ScenarioTest, ExtendsChainOfThree) {
  TempDir dir;
  Model m = model();
  const std::string c = write_chain_of_three(dir);
  Scenario s = load_scenario(c, m, IncludeRules{{dir.root()}});
  EXPECT_EQ(s.sources.size(), 3u);
  Model applied = apply_scenario(m, s);
  EXPECT_EQ(lever_series(applied, "funding"), (std::vector<double>{5, 5, 5, 5}));
  EXPECT_TRUE(applied.find("other")->dist.fixed);
  EXPECT_EQ(applied.find("other")->dist.fixed_value, 2);  // the nearer scenario wins
}

TEST(ScenarioTest, ParameterOverrideByDistributionAndValue) {
  Model m = model();
  Scenario s = parse(scenario_text("known",
                                   "parameters:\n"
                                   "  yield: {dist: triangular, min: 3, mode: 4, max: 5}\n"
                                   "  other: {value: 4.5, source: measured}\n"),
                     m);
  ASSERT_EQ(s.parameters.size(), 2u);
  Model applied = apply_scenario(m, s);
  const DistSpec& y = applied.find("yield")->dist;
  EXPECT_EQ(y.kind, DistKind::kTriangular);
  EXPECT_EQ(y.p, (std::vector<double>{3, 4, 5}));
  EXPECT_TRUE(applied.find("other")->dist.fixed);
  for (std::uint64_t run = 0; run < 20; ++run) {
    auto v = run_of(applied, run);
    EXPECT_GE(value(applied, v, "yield", 0), 3);
    EXPECT_LE(value(applied, v, "yield", 0), 5);
    EXPECT_EQ(value(applied, v, "other", 0), 4.5);
    EXPECT_EQ(value(applied, v, "other", 3), 4.5);
  }
  // A fixed parameter leaves its correlation group; the rest keep their correlation.
  ASSERT_EQ(applied.correlations.size(), 1u);
  EXPECT_EQ(applied.correlations[0].parameters, (std::vector<std::string>{"yield", "third"}));
  ASSERT_EQ(applied.correlations[0].rank.rows(), 2);
  EXPECT_EQ(applied.correlations[0].rank(0, 1), 0.2);
  EXPECT_EQ(applied.correlations[0].rank(1, 0), 0.2);
}

TEST(ScenarioTest, InvalidParameterOverride) {
  Model m = model();
  InputError e = scenario_error(
      scenario_text("bad", "parameters:\n  yield: {dist: uniform, min: 6, max: 2}\n"), m);
  EXPECT_TRUE(contains(e.text(), "override of parameter 'yield'")) << e.what();
  EXPECT_TRUE(contains(e.text(), "min must be < max")) << e.what();
  EXPECT_EQ(e.loc().line, 5);
  e = scenario_error(scenario_text("bad",
                                   "parameters:\n  yield: {dist: uniform, min: funding, "
                                   "max: 2}\n"),
                     m);
  EXPECT_TRUE(contains(e.text(), "must be numbers")) << e.what();
}

TEST(ScenarioTest, ExtendsCycle) {
  TempDir dir;
  Model m = model();
  std::string a = dir.write("a.yaml", scenario_text("a", "", "b.yaml"));
  dir.write("b.yaml", scenario_text("b", "", "a.yaml"));
  try {
    load_scenario(a, m);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_TRUE(contains(e.text(), "extends itself")) << e.what();
    EXPECT_TRUE(e.loc().file.ends_with("b.yaml")) << e.what();
    EXPECT_EQ(e.loc().line, 4);
    EXPECT_EQ(e.loc().col, 10);
  }
  std::string self = dir.write("self.yaml", scenario_text("self", "", "./self.yaml"));
  try {
    load_scenario(self, m);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_TRUE(contains(e.text(), "extends itself")) << e.what();
  }
}

TEST(ScenarioTest, ExtendsMissingFile) {
  TempDir dir;
  Model m = model();
  std::string a = dir.write("a.yaml", scenario_text("a", "", "missing.yaml"));
  try {
    load_scenario(a, m);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_TRUE(contains(e.text(), "cannot read the extended scenario 'missing.yaml'")) << e.what();
    EXPECT_EQ(e.loc().file, a);
    EXPECT_EQ(e.loc().line, 4);
  }
}

/// `extends` reaches only scenario files in the folder tree of the scenario named by the
/// user or under a folder allowed explicitly; other files are never read or echoed.
TEST(ScenarioTest, ExtendsStaysInsideAllowedFolders) {
  TempDir dir;
  Model m = model();
  dir.write("shared/base.yaml", scenario_text("base", "levers:\n  funding: {value: 7}\n"));
  dir.write("secret.yaml", "scenario: secret-token-1234\n");
  dir.write("notes.txt", scenario_text("notes", ""));
  auto error_of = [&](const std::string& extends, const IncludeRules& rules = {}) {
    std::string a = dir.write("plans/a.yaml", scenario_text("a", "", extends));
    try {
      load_scenario(a, m, rules);
    } catch (const InputError& e) {
      EXPECT_EQ(e.loc().line, 4) << e.what();
      EXPECT_FALSE(contains(e.text(), "secret-token")) << e.what();
      return std::string(e.text());
    }
    ADD_FAILURE() << "no error for extends: " << extends;
    return std::string();
  };
  EXPECT_TRUE(contains(error_of("../secret.yaml"), "leads outside the folder"));
  EXPECT_TRUE(contains(error_of(dir.root() + "/secret.yaml"), "leads outside the folder"));
  EXPECT_TRUE(contains(error_of("/etc/passwd"), "ending in '.yaml' or '.yml'"));
  EXPECT_TRUE(contains(error_of("/dev/null"), "ending in '.yaml' or '.yml'"));
  EXPECT_TRUE(contains(error_of("../notes.txt"), "ending in '.yaml' or '.yml'"));
  EXPECT_TRUE(contains(error_of("''"), "'extends' is empty"));
  // A symbolic link inside the tree that points out of it is followed, then refused.
  fs::create_symlink(fs::path(dir.root()) / "secret.yaml", fs::path(dir.root()) / "plans/l.yaml");
  EXPECT_TRUE(contains(error_of("l.yaml"), "leads outside the folder"));
  // An allowed folder opens the way, by relative or absolute path.
  const IncludeRules shared{{dir.root() + "/shared"}};
  std::string a = dir.write("plans/a.yaml", scenario_text("a", "", "../shared/base.yaml"));
  EXPECT_EQ(load_scenario(a, m, shared).sources.size(), 2u);
  a = dir.write("plans/a.yaml", scenario_text("a", "", dir.root() + "/shared/base.yaml"));
  EXPECT_EQ(load_scenario(a, m, shared).sources.size(), 2u);
  EXPECT_TRUE(contains(error_of("../secret.yaml", shared), "leads outside the folder"));
}

/// A lone CR ends a line (YAML 1.2, 5.4), as CR LF and LF do; the embedded source keeps
/// the bytes as written.
TEST(ScenarioTest, CarriageReturnLineBreaks) {
  Model m = model();
  std::string lf = scenario_text("cr", "levers:\n  funding: {value: 3}\n");
  for (const char* brk : {"\r", "\r\n"}) {
    std::string text;
    for (char c : lf) c == '\n' ? text += brk : text += c;
    Scenario s = parse_scenario(text, "cr.yaml", m);
    EXPECT_EQ(s.name, "cr");
    ASSERT_EQ(s.levers.size(), 1u);
    EXPECT_EQ(s.sources.back().second, text);
  }
  std::string bad;
  for (char c : scenario_text("cr", "levers:\n  nope: {value: 3}\n"))
    c == '\n' ? bad += '\r' : bad += c;
  try {
    parse_scenario(bad, "cr.yaml", m);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_TRUE(contains(e.text(), "unknown lever 'nope'")) << e.what();
    EXPECT_EQ(e.loc().line, 5) << e.what();
  }
}

TEST(ScenarioTest, WrongModelName) {
  Model m = model();
  std::string text = "scenario: x\nmodel: other_model\ndescription: d\n";
  InputError e = scenario_error(text, m);
  EXPECT_TRUE(
      contains(e.text(), "scenario 'x' is for model 'other_model', but the model is 'base'"))
      << e.what();
  EXPECT_EQ(e.loc().line, 2);
  EXPECT_EQ(e.loc().col, 8);
}

TEST(ScenarioTest, OverridingANonLeverIsAnError) {
  Model m = model();
  std::string text = scenario_text("bad", "levers:\n  funding: {value: 1}\n  firms: {value: 3}\n");
  InputError e = scenario_error(text, m);
  EXPECT_TRUE(contains(e.text(),
                       "'firms' is a stock, not a lever; a scenario may override only "
                       "levers and parameters"))
      << e.what();
  EXPECT_EQ(e.loc().line, 6);
  EXPECT_EQ(e.loc().col, 3);
  text = scenario_text("bad", "parameters:\n  total: {value: 3}\n");
  e = scenario_error(text, m);
  EXPECT_TRUE(contains(e.text(), "'total' is a auxiliary, not a parameter") ||
              contains(e.text(), "'total' is an auxiliary, not a parameter"))
      << e.what();
  EXPECT_EQ(e.loc().line, 5);
  text = scenario_text("bad", "levers:\n  yield: {value: 3}\n");
  e = scenario_error(text, m);
  EXPECT_TRUE(contains(e.text(), "'yield' is a parameter, not a lever")) << e.what();
}

TEST(ScenarioTest, UnknownLeverWithDidYouMean) {
  Model m = model();
  std::string text = scenario_text("bad", "levers:\n  fundng: {value: 1}\n");
  InputError e = scenario_error(text, m);
  EXPECT_TRUE(contains(e.text(), "unknown lever 'fundng'; did you mean 'funding'?")) << e.what();
  EXPECT_EQ(e.loc().line, 5);
  EXPECT_EQ(e.loc().col, 3);
  e = scenario_error(scenario_text("bad", "parameters:\n  yeld: {value: 1}\n"), m);
  EXPECT_TRUE(contains(e.text(), "unknown parameter 'yeld'; did you mean 'yield'?")) << e.what();
}

TEST(ScenarioTest, OtherScenarioErrors) {
  Model m = model();
  InputError e =
      scenario_error(scenario_text("bad", "levers:\n  funding: {value: 1, scale: 2}\n"), m);
  EXPECT_TRUE(contains(e.text(), "needs exactly one of 'value', 'series', 'growth' or 'scale'"))
      << e.what();
  e = scenario_error(scenario_text("bad", "levers:\n  funding: {scale: -1}\n"), m);
  EXPECT_TRUE(contains(e.text(), "must be >= 0 (got -1)")) << e.what();
  e = scenario_error("scenario: x\nmodel: base\ndescription: d\nlevres: {}\n", m);
  EXPECT_TRUE(contains(e.text(), "unknown key 'levres' in the scenario; did you mean 'levers'?"))
      << e.what();
  EXPECT_EQ(e.loc().line, 4);
  e = scenario_error("model: base\ndescription: d\n", m);
  EXPECT_TRUE(contains(e.text(), "needs 'scenario'")) << e.what();
  e = scenario_error("scenario: not an id\nmodel: base\ndescription: d\n", m);
  EXPECT_TRUE(contains(e.text(), "is not an identifier")) << e.what();
}

TEST(ScenarioTest, ApplyScenarioLeavesOtherNodesUnchanged) {
  Model m = model();
  Scenario s = parse(scenario_text("one",
                                   "levers:\n  funding: {value: 9}\n"
                                   "parameters:\n  yield: {value: 1}\n"),
                     m);
  Model applied = apply_scenario(m, s);
  ASSERT_EQ(applied.nodes.size(), m.nodes.size());
  EXPECT_EQ(applied.node_index, m.node_index);
  EXPECT_EQ(applied.find("plan")->lever.series, m.find("plan")->lever.series);
  EXPECT_EQ(applied.find("plan")->lever.scale, 1);
  EXPECT_EQ(applied.find("other")->dist.p, m.find("other")->dist.p);
  EXPECT_FALSE(applied.find("other")->dist.fixed);
  EXPECT_EQ(applied.find("firms")->initial, m.find("firms")->initial);
  EXPECT_EQ(applied.find("total")->formula, m.find("total")->formula);
  // The input model itself is untouched.
  EXPECT_EQ(m.find("funding")->lever.value, 3);
  EXPECT_FALSE(m.find("yield")->dist.fixed);
  EXPECT_EQ(m.correlations[0].parameters.size(), 3u);
  // The default scenario changes nothing.
  Scenario d = default_scenario(m);
  EXPECT_EQ(d.name, "default");
  Model same = apply_scenario(m, d);
  auto v0 = run_of(m, 2), v1 = run_of(same, 2);
  EXPECT_EQ(v0, v1);
}

TEST(ScenarioTest, CommonRandomNumbersAcrossScenarios) {
  Model m = model();
  // The scenario changes funding and the distribution of yield, not other or third.
  Scenario s = parse(scenario_text("alt",
                                   "levers:\n  funding: {value: 8}\n"
                                   "parameters:\n  yield: {dist: uniform, min: 0, max: 1}\n"),
                     m);
  Model applied = apply_scenario(m, s);
  int yield_differs = 0;
  for (std::uint64_t run = 0; run < 10; ++run) {
    auto base = run_of(m, run), alt = run_of(applied, run);
    EXPECT_EQ(value(m, base, "other", 0), value(applied, alt, "other", 0)) << run;
    EXPECT_EQ(value(m, base, "third", 0), value(applied, alt, "third", 0)) << run;
    double yb = value(m, base, "yield", 0), ya = value(applied, alt, "yield", 0);
    if (yb != ya) ++yield_differs;
    // The same uniform drives both yields (uniform inverse CDF is linear): (yb - 2) / 4 == ya.
    EXPECT_NEAR((yb - 2) / 4, ya, 1e-12) << run;
  }
  EXPECT_EQ(yield_differs, 10);
  // Different runs draw different values.
  EXPECT_NE(value(m, run_of(m, 0), "other", 0), value(m, run_of(m, 1), "other", 0));
}

}  // namespace
}  // namespace attain
