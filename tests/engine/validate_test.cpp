// validate(Model): a model built in code, not read from YAML, is checked the same way,
// and the engine's entry points refuse an invalid one with an InputError instead of
// reaching undefined behaviour.
#include "attain/validate.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "attain/ensemble.hpp"
#include "attain/graph.hpp"
#include "attain/program.hpp"

namespace attain {
namespace {

ExprPtr expr(const std::string& text) {
  return parse_expression(text, TextOrigin{{"code", 1, 1}, true});
}

Node node(const std::string& name, NodeKind kind) {
  Node n;
  n.name = name;
  n.kind = kind;
  n.id = stable_id(name);
  n.label = n.unit = n.description = n.source = name;
  return n;
}

/// A valid three-node model: a lever, an uncertain parameter and a stock.
Model code_model() {
  Model m;
  m.name = "coded";
  m.description = "built in code";
  m.time.start = 2017;
  m.time.end = 2020;
  Node funding = node("funding", NodeKind::kLever);
  funding.lever.value = 3;
  Node yield = node("yield", NodeKind::kParameter);
  yield.dist.kind = DistKind::kUniform;
  yield.dist.p = {2, 6};
  Node firms = node("firms", NodeKind::kStock);
  firms.initial = expr("40");
  firms.change = expr("yield * funding");
  for (Node* n : {&funding, &yield, &firms}) {
    m.node_index[n->name] = static_cast<int>(m.nodes.size());
    m.nodes.push_back(*n);
  }
  Target t;
  t.name = t.node = "firms";
  t.year = 2020;
  t.threshold = 60;
  t.label = t.source = "t";
  m.targets.push_back(t);
  return m;
}

/// The message of the InputError that build_graph (validating first) throws for `m`.
std::string entry_error(const Model& m) {
  try {
    build_graph(m);
  } catch (const InputError& e) {
    EXPECT_EQ(std::count(e.text().begin(), e.text().end(), '\n'), 0) << e.what();
    return e.text();
  }
  ADD_FAILURE() << "build_graph accepted an invalid model";
  return {};
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(ValidateTest, ValidCodeModelRuns) {
  Model m = code_model();
  EXPECT_NO_THROW(validate(m));
  Program p = compile(m, build_graph(m));
  auto values = replay_run(p, 1, 0);
  ASSERT_EQ(values.size(), 4u);
  EXPECT_EQ(values[0][2], 40);
}

TEST(ValidateTest, EntryPointsRefuseInvalidModels) {
  struct Case {
    const char* expect;
    std::function<void(Model&)> spoil;
  };
  const Case cases[] = {
      {"unknown node 'fundng'", [](Model& m) { m.nodes[2].change = expr("yield * fundng"); }},
      {"is not indexed", [](Model& m) { m.node_index.erase("yield"); }},
      {"declared twice", [](Model& m) { m.nodes[1].name = "funding"; }},
      {"not an identifier",
       [](Model& m) {
         m.nodes[0].name = "bad name";
         m.node_index.clear();
         for (std::size_t i = 0; i < m.nodes.size(); ++i)
           m.node_index[m.nodes[i].name] = static_cast<int>(i);
       }},
      {"not the stable id", [](Model& m) { m.nodes[1].id = 7; }},
      {"sd must be >= 0",
       [](Model& m) {
         m.nodes[1].dist.kind = DistKind::kNormal;
         m.nodes[1].dist.p = {1, -1};
       }},
      {"needs 2 parameters",
       [](Model& m) {
         m.nodes[1].kind = NodeKind::kShock;
         m.nodes[1].dist.p_expr = {expr("1")};
       }},
      {"at least one value", [](Model& m) { m.nodes[1].dist.kind = DistKind::kEmpirical; }},
      {"needs 'change'", [](Model& m) { m.nodes[2].change = nullptr; }},
      {"must be > 0 years", [](Model& m) { m.time.step = 0; }},
      {"must increase",
       [](Model& m) {
         m.nodes[0].lever.form = LeverRule::Form::kSeries;
         m.nodes[0].lever.series = {{2018, 1}, {2017, 2}};
       }},
      {"not on the time axis", [](Model& m) { m.targets[0].year = 2016.5; }},
      {"unknown node 'firm'", [](Model& m) { m.targets[0].node = "firm"; }},
      {"needs 'source'", [](Model& m) { m.nodes[1].source = ""; }},
      {"before the start year", [](Model& m) { m.nodes[2].history[2018] = 1; }},
      {"always NaN", [](Model& m) { m.nodes[2].initial = expr("0 / 0"); }},
      {"the correlation matrix needs 2 rows",
       [](Model& m) {
         Node other = node("other", NodeKind::kParameter);
         other.dist = m.nodes[1].dist;
         m.node_index["other"] = 3;
         m.nodes.push_back(other);
         CorrelationGroup g;
         g.parameters = {"yield", "other"};
         g.rank = Eigen::MatrixXd::Identity(3, 3);
         m.correlations.push_back(g);
       }},
      {"strictly increasing",
       [](Model& m) {
         Lookup l;
         l.name = "curve";
         l.label = l.unit = l.description = l.source = "c";
         l.x = {0, 0};
         l.y = {1, 2};
         m.lookup_index["curve"] = 0;
         m.lookups.push_back(l);
       }},
  };
  for (const auto& c : cases) {
    Model m = code_model();
    c.spoil(m);
    std::string message = entry_error(m);
    EXPECT_TRUE(contains(message, c.expect)) << "expected '" << c.expect << "' in: " << message;
  }
}

/// A correlation group's cost grows as n^3: more than 256 parameters are refused before
/// any decomposition.
TEST(ValidateTest, CorrelationGroupSizeIsBounded) {
  Model m = code_model();
  CorrelationGroup g;
  for (int i = 0; i < 300; ++i) {
    std::string name = "p";  // (not "p" + ...: GCC 12 warns falsely, -Wrestrict)
    name += std::to_string(i);
    Node p = node(name, NodeKind::kParameter);
    p.dist = m.nodes[1].dist;
    m.node_index[p.name] = static_cast<int>(m.nodes.size());
    m.nodes.push_back(p);
    g.parameters.push_back(p.name);
  }
  g.rank = Eigen::MatrixXd::Identity(300, 300);
  m.correlations.push_back(g);
  try {
    validate(m);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_TRUE(contains(e.text(), "at most 256 parameters (got 300)")) << e.what();
  }
  m.correlations[0].parameters.resize(256);
  m.correlations[0].rank = Eigen::MatrixXd::Identity(256, 256);
  EXPECT_NO_THROW(validate(m));
}

TEST(ValidateTest, CompileChecksItsGraph) {
  Model m = code_model();
  DependencyGraph g = build_graph(m);
  Model bigger = m;
  Node extra = node("extra", NodeKind::kLever);
  bigger.node_index["extra"] = 3;
  bigger.nodes.push_back(extra);
  EXPECT_THROW(compile(bigger, g), std::invalid_argument);
  Model broken = m;
  broken.nodes[2].change = expr("nowhere");
  EXPECT_THROW(compile(broken, g), InputError);
}

}  // namespace
}  // namespace attain
