// Levers' costs: the `cost` key read, validated with its place in the file, and summed
// over a scenario's years exactly as a hand computation does.
#include "attain/cost.hpp"

#include <gtest/gtest.h>

#include <string>

#include "attain/analysis.hpp"
#include "attain/ensemble.hpp"
#include "attain/graph.hpp"
#include "attain/yaml_reader.hpp"

namespace attain {
namespace {

// Each cost on its own line, so an error's column can be checked.
const std::string kModel = R"(model: priced
description: levers with costs
time: {start: 2017, end: 2020}
cost_unit: 100 million yuan
lookups:
  unit_price:
    {label: p, unit: 100 million yuan / 10k m2, description: d, source: s, x: [0, 10], y: [0.3, 0.2]}
levers:
  funding:
    label: funding
    unit: 100 million yuan / year
    description: d
    source: s
    growth: {initial: 3, rate: 0.1}
    cost: funding
  build:
    label: construction
    unit: 10k m2 / year
    description: d
    source: s
    series: {2017: 1, 2018: 4, 2020: 6}
    cost: build * unit_price(build) + 0.1 * prev(build)
  quota:
    label: quota
    unit: teams / year
    description: d
    source: s
    value: 9
    cost: 0.02 * quota * step(1, 2019) + 0 * year
  free:
    label: no cost
    unit: "1"
    description: d
    source: s
    value: 2
parameters:
  y: {label: y, unit: "1", description: d, source: s, dist: uniform, min: 1, max: 3}
stocks:
  firms:
    {label: f, unit: firms, description: d, source: s, initial: 10, change: y * funding + build + quota + free}
targets:
  - {node: firms, op: ">=", threshold: 60, label: t, source: s}
)";

/// The lookup's price at x (linear from 0.3 at 0 to 0.2 at 10).
double price(double x) {
  return 0.3 - 0.01 * x;
}

/// build's series: 1 in 2017, 4 in 2018, 5 in 2019 (interpolated), 6 in 2020.
double build(double t) {
  return t <= 2017 ? 1 : t <= 2018 ? 4 : t >= 2020 ? 6 : 4 + (t - 2018);
}

/// The model's costs in 2018, 2019 and 2020 computed by hand, with a factor on funding.
double by_hand(double funding_scale, double quota) {
  double total = 0;
  for (int t : {2018, 2019, 2020}) {
    total += funding_scale * 3 * std::pow(1.1, t - 2017);
    total += build(t) * price(build(t)) + 0.1 * build(t - 1);
    total += t >= 2019 ? 0.02 * quota : 0;
  }
  return total;
}

TEST(CostTest, ScenarioTotalIsTheSumOfEachLeversCostOverTheYearsAfterTheStart) {
  Model m = parse_model(kModel, "t.yaml");
  auto c = scenario_cost(m);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->unit, "100 million yuan");
  EXPECT_EQ(c->times, (std::vector<double>{2018, 2019, 2020}));
  ASSERT_EQ(c->levers.size(), 3u);  // `free` has no cost
  EXPECT_EQ(c->levers[0].lever, "funding");
  EXPECT_NEAR(c->levers[0].total, 3 * (1.1 + 1.21 + 1.331), 1e-12);
  EXPECT_NEAR(c->levers[1].per_year[0], 4 * price(4) + 0.1 * 1, 1e-12);
  EXPECT_NEAR(c->levers[2].total, 2 * 0.02 * 9, 1e-12);
  EXPECT_NEAR(c->total, by_hand(1, 9), 1e-12);
  EXPECT_NEAR(c->total, c->levers[0].total + c->levers[1].total + c->levers[2].total, 1e-12);

  // A scenario's scale and value move the costs with the levers.
  Scenario s = parse_scenario(
      "scenario: more\nmodel: priced\ndescription: d\nlevers:\n  funding: {scale: 2}\n"
      "  quota: {value: 12}\n",
      "s.yaml", m);
  auto cs = scenario_cost(apply_scenario(m, s));
  ASSERT_TRUE(cs);
  EXPECT_NEAR(cs->total, by_hand(2, 12), 1e-12);

  // The ensemble carries the scenario's cost; a step of half a year halves each year's weight.
  Model applied = apply_scenario(m, s);
  Program p = compile(applied, build_graph(applied));
  EnsembleOptions o;
  o.runs = 100;
  EnsembleResult r = run_ensemble(p, o, nullptr);
  ASSERT_TRUE(r.cost);
  EXPECT_EQ(r.cost->total, cs->total);
}

TEST(CostTest, SweepReportsTheCostAtEachPoint) {
  Model m = parse_model(kModel, "t.yaml");
  Program p = compile(m, build_graph(m));
  AnalysisOptions o;
  o.runs = 200;
  // funding grows: its level is a scale factor; quota is constant: its level is its value.
  SweepResult r = sweep(p, m, {SweepAxis{"funding", 0.5, 2, 4}, SweepAxis{"quota", 6, 12, 3}}, o);
  ASSERT_EQ(r.points.size(), 12u);
  for (const auto& pt : r.points) {
    ASSERT_TRUE(pt.cost);
    EXPECT_NEAR(*pt.cost, by_hand(pt.levels[0], pt.levels[1]), 1e-12);
  }
}

TEST(CostTest, AModelWithoutCostsHasNone) {
  std::string text = kModel;
  for (const char* line : {"    cost: funding\n",
                           "    cost: build * unit_price(build) + 0.1 * "
                           "prev(build)\n",
                           "    cost: 0.02 * quota * step(1, 2019) + 0 * year\n"})
    text.erase(text.find(line), std::string(line).size());
  EXPECT_FALSE(scenario_cost(parse_model(text, "t.yaml")));
}

TEST(CostTest, HalfYearStepsWeighEachCostByTheStep) {
  std::string text = kModel;
  text.replace(text.find("end: 2020}"), 10, "end: 2020, step: 0.5}");
  auto c = scenario_cost(parse_model(text, "t.yaml"));
  ASSERT_TRUE(c);
  ASSERT_EQ(c->times.size(), 6u);
  double funding = 0;
  for (double t : c->times) funding += 0.5 * 3 * std::pow(1.1, t - 2017);
  EXPECT_NEAR(c->levers[0].total, funding, 1e-12);
}

/// The error reading `text` gives, as file:line:col: error: text.
std::string error_of(const std::string& text) {
  try {
    parse_model(text, "t.yaml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

std::string with_cost(const std::string& cost) {
  std::string text = kModel;
  text.replace(text.find("cost: funding"), 13, "cost: " + cost);
  return text;
}

TEST(CostTest, BadCostsAreRefusedWithTheirPlace) {
  // Line 15, column 11: where the expression starts after "    cost: ".
  EXPECT_EQ(error_of(with_cost("3 * y")),
            "t.yaml:15:15: error: 'cost' of lever 'funding' may use only levers, 'year', 'dt' "
            "and lookups (a cost is known before any run), not a parameter 'y'");
  EXPECT_EQ(error_of(with_cost("firms / 10")),
            "t.yaml:15:11: error: 'cost' of lever 'funding' may use only levers, 'year', 'dt' "
            "and lookups (a cost is known before any run), not a stock 'firms'");
  EXPECT_EQ(error_of(with_cost("fundng")),
            "t.yaml:15:11: error: unknown node 'fundng' in 'cost' of lever 'funding'; did you "
            "mean 'funding'?");
  EXPECT_EQ(error_of(with_cost("smooth(funding, 2)")),
            "t.yaml:15:11: error: 'cost' of lever 'funding' cannot use smooth(), which keeps a "
            "state from run to run");
  EXPECT_EQ(error_of(with_cost("funding / (year - 2019)")),
            "t.yaml:15:19: error: 'cost' of lever 'funding' is infinite in 2019; check the "
            "division, logarithm or power");
  EXPECT_EQ(error_of(with_cost("1 / 0")).substr(0, 20), "t.yaml:15:13: error:");
  std::string no_unit = kModel;
  no_unit.erase(no_unit.find("cost_unit: 100 million yuan\n"), 28);
  EXPECT_EQ(error_of(no_unit),
            "t.yaml:14:11: error: lever 'funding' has a 'cost' but the model has no "
            "'cost_unit': name the money unit of costs at the top of the file, e.g. cost_unit: "
            "100 million yuan");
  std::string on_parameter = kModel;
  on_parameter.replace(on_parameter.find("max: 3}"), 7, "max: 3, cost: 1}");
  EXPECT_NE(error_of(on_parameter).find("unknown key 'cost'"), std::string::npos)
      << error_of(on_parameter);
}

}  // namespace
}  // namespace attain
