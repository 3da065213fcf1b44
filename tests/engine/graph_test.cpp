// GoogleTest: dependency graph: cycles, order, lagged edges, stable ids, lag checks, DOT, JSON.
#include "attain/graph.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "attain/ensemble.hpp"
#include "attain/program.hpp"
#include "attain/yaml_reader.hpp"

namespace attain {
namespace {

namespace fs = std::filesystem;

const std::string kHeader = "model: g\ndescription: graph test\ntime: {start: 2017, end: 2020}\n";

/// One auxiliary line `name: formula` (flow style, formula double-quoted).
std::string aux(const std::string& name, const std::string& formula,
                const std::string& extra = "") {
  return "  " + name + ": {label: " + name + ", unit: u, description: d, " + extra + "formula: \"" +
         formula + "\"}\n";
}

Model parse(const std::string& text) {
  return parse_model(text, "g.yaml");
}

InputError graph_error(const std::string& text) {
  Model m = parse(text);
  try {
    build_graph(m);
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return InputError({"", 0, 0}, "none");
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

int line_of(const std::string& text, const std::string& needle) {
  auto at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

/// The edge from -> to, or nullptr.
const Dependency* edge(const Model& m, const DependencyGraph& g, const std::string& from,
                       const std::string& to) {
  int f = m.node_index.at(from), t = m.node_index.at(to);
  for (const auto& e : g.edges)
    if (e.from == f && e.to == t) return &e;
  return nullptr;
}

/// Position of a node in the evaluation order.
long position(const Model& m, const DependencyGraph& g, const std::string& name) {
  int i = m.node_index.at(name);
  auto it = std::find(g.order.begin(), g.order.end(), i);
  EXPECT_NE(it, g.order.end()) << name;
  return it - g.order.begin();
}

TEST(GraphTest, CycleNamesTheWholeCycle) {
  std::string text = kHeader + "auxiliaries:\n" + aux("a", "c + 1") + aux("b", "2 * a") +
                     aux("c", "b - 1") + aux("d", "a");
  InputError e = graph_error(text);
  EXPECT_TRUE(contains(e.text(), "same-step cycle: a -> b -> c -> a")) << e.what();
  EXPECT_TRUE(contains(e.text(), "break it with a stock or prev()")) << e.what();
  EXPECT_EQ(e.loc().file, "g.yaml");
  EXPECT_EQ(e.loc().line, line_of(text, "  a: {"));
  EXPECT_EQ(e.loc().col, 3);
}

TEST(GraphTest, CycleThroughAStockInitialIsACycle) {
  // A stock's initial is evaluated at the first step: its references are same-step edges.
  std::string text = kHeader + "auxiliaries:\n" + aux("a", "s * 2") +
                     "stocks:\n  s: {label: s, unit: u, description: d, source: x, initial: a, "
                     "change: 1}\n";
  InputError e = graph_error(text);
  EXPECT_TRUE(contains(e.text(), "same-step cycle: a -> s -> a")) << e.what();
}

TEST(GraphTest, SelfCycle) {
  std::string text = kHeader + "auxiliaries:\n" + aux("a", "1") + aux("x", "a + x / 2");
  InputError e = graph_error(text);
  EXPECT_TRUE(contains(e.text(), "same-step cycle: x -> x")) << e.what();
  EXPECT_TRUE(contains(e.text(), "use prev(x)")) << e.what();
  EXPECT_EQ(e.loc().line, line_of(text, "  x: {"));
}

TEST(GraphTest, FeedbackThroughAStockIsLegal) {
  std::string text = kHeader +
                     "stocks:\n  s: {label: s, unit: u, description: d, source: x, initial: 10, "
                     "change: \"0.1 * f\"}\n"
                     "auxiliaries:\n" +
                     aux("f", "s * 2");
  Model m = parse(text);
  DependencyGraph g = build_graph(m);
  const Dependency* fs_edge = edge(m, g, "f", "s");
  ASSERT_NE(fs_edge, nullptr);
  EXPECT_TRUE(fs_edge->lagged);
  const Dependency* sf_edge = edge(m, g, "s", "f");
  ASSERT_NE(sf_edge, nullptr);
  EXPECT_FALSE(sf_edge->lagged);
  EXPECT_EQ(g.same_step_edges, 1);
  EXPECT_EQ(g.lagged_edges, 1);
  // s: 10, 10 + 0.1 * 20 = 12, 12 + 2.4 = 14.4, 14.4 + 2.88 = 17.28.
  auto v = replay_run(compile(m, g), 1, 0);
  int s = m.node_index.at("s"), f = m.node_index.at("f");
  std::vector<double> want = {10, 12, 14.4, 17.28};
  for (std::size_t k = 0; k < want.size(); ++k) {
    EXPECT_NEAR(v[k][static_cast<std::size_t>(s)], want[k], 1e-12) << k;
    EXPECT_NEAR(v[k][static_cast<std::size_t>(f)], 2 * want[k], 1e-12) << k;
  }
}

TEST(GraphTest, FeedbackThroughPrevIsLegal) {
  std::string text = kHeader + "auxiliaries:\n" +
                     aux("a", "prev(b) + 1", "source: h, history: {2016: 0}, ") +
                     aux("b", "2 * a", "source: h, history: {2016: 1}, ");
  Model m = parse(text);
  DependencyGraph g = build_graph(m);
  ASSERT_NE(edge(m, g, "b", "a"), nullptr);
  EXPECT_TRUE(edge(m, g, "b", "a")->lagged);
  EXPECT_FALSE(edge(m, g, "a", "b")->lagged);
  // a = prev(b) + 1: 2, 5, 11, 23; b = 2a: 4, 10, 22, 46.
  auto v = replay_run(compile(m, g), 1, 0);
  EXPECT_EQ(v[3][static_cast<std::size_t>(m.node_index.at("a"))], 23);
  EXPECT_EQ(v[3][static_cast<std::size_t>(m.node_index.at("b"))], 46);
}

TEST(GraphTest, TopologicalOrderRespectsSameStepEdges) {
  // Declared in reverse dependency order, with a diamond.
  std::string text = kHeader +
                     "levers:\n  l: {label: l, unit: u, description: d, source: s, "
                     "value: 1}\nauxiliaries:\n" +
                     aux("e", "c + d") + aux("d", "b * 2") + aux("c", "b + a") + aux("b", "a + l") +
                     aux("a", "l");
  Model m = parse(text);
  DependencyGraph g = build_graph(m);
  ASSERT_EQ(g.order.size(), m.nodes.size());
  for (const auto& e : g.edges) {
    if (e.lagged) continue;
    EXPECT_LT(position(m, g, m.nodes[static_cast<std::size_t>(e.from)].name),
              position(m, g, m.nodes[static_cast<std::size_t>(e.to)].name))
        << m.nodes[static_cast<std::size_t>(e.from)].name << " -> "
        << m.nodes[static_cast<std::size_t>(e.to)].name;
  }
  EXPECT_LT(position(m, g, "a"), position(m, g, "b"));
  EXPECT_LT(position(m, g, "b"), position(m, g, "c"));
  EXPECT_LT(position(m, g, "b"), position(m, g, "d"));
  EXPECT_LT(position(m, g, "c"), position(m, g, "e"));
  EXPECT_LT(position(m, g, "d"), position(m, g, "e"));
  EXPECT_EQ(g.same_step_edges, 8);
  // And the values are computed in that order: a 1, b 2, c 3, d 4, e 7.
  auto v = replay_run(compile(m, g), 1, 0);
  EXPECT_EQ(v[0][static_cast<std::size_t>(m.node_index.at("e"))], 7);
}

TEST(GraphTest, LaggedEdgesFlagged) {
  std::string text = kHeader +
                     "levers:\n  l: {label: l, unit: u, description: d, source: s, value: 1}\n"
                     "stocks:\n  s: {label: s, unit: u, description: d, source: x, initial: l, "
                     "change: \"p + q\", history: {2016: 0}}\n"
                     "auxiliaries:\n" +
                     aux("p", "prev(s) + lag(l, 2)") + aux("q", "s + prev(s)");
  Model m = parse(text);
  DependencyGraph g = build_graph(m);
  ASSERT_NE(edge(m, g, "l", "s"), nullptr);
  EXPECT_FALSE(edge(m, g, "l", "s")->lagged);  // stock initial: same step
  EXPECT_TRUE(edge(m, g, "p", "s")->lagged);   // stock change
  EXPECT_TRUE(edge(m, g, "q", "s")->lagged);
  EXPECT_TRUE(edge(m, g, "s", "p")->lagged);   // prev
  EXPECT_TRUE(edge(m, g, "l", "p")->lagged);   // lag
  EXPECT_FALSE(edge(m, g, "s", "q")->lagged);  // same step and prev: same step wins
  EXPECT_EQ(g.edges.size(), 6u);
  EXPECT_EQ(g.same_step_edges, 2);
  EXPECT_EQ(g.lagged_edges, 4);
}

TEST(GraphTest, StableIdsAreFnv1a64OfTheName) {
  EXPECT_EQ(stable_id("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(stable_id(""), 0xcbf29ce484222325ULL);  // the FNV-1a 64 offset basis
  EXPECT_EQ(stable_id("foobar"), 0x85944171f73967e8ULL);
  EXPECT_NE(stable_id("ab"), stable_id("ba"));

  std::string one = kHeader + "auxiliaries:\n" + aux("a", "1") + aux("b", "a + 1");
  std::string two = kHeader +
                    "levers:\n  new_lever: {label: n, unit: u, description: d, "
                    "source: s, value: 1}\nauxiliaries:\n" +
                    aux("zz", "new_lever") + aux("b", "a + 1") + aux("a", "1");
  Model m1 = parse(one), m2 = parse(two);
  EXPECT_EQ(m1.find("a")->id, 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(m2.find("a")->id, 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(m1.find("b")->id, m2.find("b")->id);
  EXPECT_NE(m1.node_index.at("a"), m2.node_index.at("a"));  // the index moved, the id did not
  // The JSON graph shows the id in hex.
  nlohmann::json j = graph_to_json(m1, build_graph(m1));
  EXPECT_EQ(j["nodes"][0]["id"], "af63dc4c8601ec8c");
}

TEST(GraphTest, StableIdsKeepRandomStreamsWhenNodesAreAdded) {
  // A shock draws from a stream keyed on its id, so adding a node leaves its values alone.
  std::string shock =
      "shocks:\n  n: {label: n, unit: u, description: d, dist: normal, mean: 0, sd: 1}\n";
  std::string one = kHeader + shock;
  std::string two = kHeader +
                    "parameters:\n  p: {label: p, unit: u, description: d, source: s, dist: "
                    "uniform, min: 0, max: 1}\n" +
                    shock + "auxiliaries:\n" + aux("x", "n + p");
  Model m1 = parse(one), m2 = parse(two);
  auto v1 = replay_run(compile(m1, build_graph(m1)), 5, 3);
  auto v2 = replay_run(compile(m2, build_graph(m2)), 5, 3);
  for (std::size_t k = 0; k < v1.size(); ++k)
    EXPECT_EQ(v1[k][static_cast<std::size_t>(m1.node_index.at("n"))],
              v2[k][static_cast<std::size_t>(m2.node_index.at("n"))]);
  EXPECT_NE(v1[0][0], v1[1][0]);  // drawn anew each step
}

TEST(GraphTest, UnusedNodesReported) {
  std::string text =
      kHeader +
      "levers:\n  l: {label: l, unit: u, description: d, source: s, value: 1}\n"
      "  spare: {label: l, unit: u, description: d, source: s, value: 1}\n"
      "stocks:\n  s: {label: s, unit: u, description: d, source: x, initial: 0, change: f}\n"
      "auxiliaries:\n" +
      aux("f", "l * 2") + aux("side", "s + spare") +
      "targets:\n  - {node: s, op: \">=\", threshold: 1, label: t, source: x}\n";
  Model m = parse(text);
  DependencyGraph g = build_graph(m);
  ASSERT_EQ(g.used.size(), m.nodes.size());
  EXPECT_TRUE(g.used[static_cast<std::size_t>(m.node_index.at("s"))]);
  EXPECT_TRUE(g.used[static_cast<std::size_t>(m.node_index.at("f"))]);  // through the change
  EXPECT_TRUE(g.used[static_cast<std::size_t>(m.node_index.at("l"))]);
  EXPECT_FALSE(g.used[static_cast<std::size_t>(m.node_index.at("spare"))]);
  EXPECT_FALSE(g.used[static_cast<std::size_t>(m.node_index.at("side"))]);
  // An actual counts as a user too.
  Model m2 = parse(text + "actuals:\n  - {node: side, value: 1, label: a, source: x}\n");
  DependencyGraph g2 = build_graph(m2);
  EXPECT_TRUE(g2.used[static_cast<std::size_t>(m2.node_index.at("spare"))]);
}

TEST(GraphTest, LagBeforeStartWithoutHistoryIsAnError) {
  std::string text = kHeader + "auxiliaries:\n" + aux("a", "year") + aux("b", "prev(a) + 1");
  InputError e = graph_error(text);
  EXPECT_TRUE(contains(e.text(),
                       "reads 'a' at 2016, before the start, but 'a' has no history "
                       "for 2016"))
      << e.what();
  EXPECT_TRUE(contains(e.text(), "the formula of 'b'")) << e.what();
  EXPECT_EQ(e.loc().line, line_of(text, "  b: {"));
  EXPECT_EQ(e.loc().col, static_cast<int>(std::string("  b: {label: b, unit: u, description: d, "
                                                      "formula: \"")
                                              .size()) +
                             1);
  // lag(a, 3) with history for 2016 and 2015 only: 2014 is missing.
  text = kHeader + "auxiliaries:\n" + aux("a", "year", "source: h, history: {2015: 1, 2016: 2}, ") +
         aux("b", "lag(a, 3)");
  e = graph_error(text);
  EXPECT_TRUE(contains(e.text(), "'a' has no history for 2014")) << e.what();
  // A stock's change reads the previous step too.
  text = kHeader +
         "stocks:\n  s: {label: s, unit: u, description: d, source: x, initial: 1, change: "
         "\"prev(s)\"}\n";
  e = graph_error(text);
  EXPECT_TRUE(contains(e.text(), "'change' of 's' reads 's' at 2016")) << e.what();
}

TEST(GraphTest, LagBeforeStartWithHistoryIsFine) {
  std::string text = kHeader +
                     "levers:\n  l: {label: l, unit: u, description: d, source: s, "
                     "value: 4}\nparameters:\n  p: {label: p, unit: u, description: d, "
                     "source: s, value: 3}\nauxiliaries:\n" +
                     aux("a", "year", "source: h, history: {2014: 7, 2015: 8, 2016: 9}, ") +
                     aux("b", "lag(a, 3) + lag(l, 5) + lag(p, 9)");
  Model m = parse(text);
  DependencyGraph g = build_graph(m);
  auto v = replay_run(compile(m, g), 1, 0);
  const auto b = static_cast<std::size_t>(m.node_index.at("b"));
  EXPECT_EQ(v[0][b], 7 + 4 + 3);
  EXPECT_EQ(v[1][b], 8 + 4 + 3);
  EXPECT_EQ(v[3][b], 2017 + 4 + 3);
}

TEST(GraphTest, DotOutput) {
  std::string text =
      kHeader +
      "levers:\n  l: {label: \"say \\\"hi\\\"\", unit: u, description: d, source: s, value: 1}\n"
      "stocks:\n  s: {label: 企业, unit: u, description: d, source: x, initial: 0, change: f}\n"
      "auxiliaries:\n" +
      aux("f", "l * 2") +
      "targets:\n  - {node: s, op: \">=\", threshold: 1, label: t, source: x}\n";
  Model m = parse(text);
  DependencyGraph g = build_graph(m);
  const std::string all = graph_to_dot(m, g);
  EXPECT_TRUE(contains(all, "digraph")) << all;
  // The legend: a cluster with the shapes of the kinds the model has (lever, auxiliary,
  // stock; no parameter or shock), the double outline of a target, both kinds of edge.
  const auto legend_at = all.find("subgraph cluster_legend {");
  ASSERT_NE(legend_at, std::string::npos) << all;
  const auto legend_end = all.find("}\n", legend_at);
  ASSERT_NE(legend_end, std::string::npos) << all;
  const std::string legend = all.substr(legend_at, legend_end - legend_at);
  for (const char* entry :
       {"legend_lever [label=\"lever: policy input\", shape=invhouse];",
        "legend_auxiliary [label=\"auxiliary: formula\", shape=ellipse];",
        "legend_stock [label=\"stock: accumulates its change\", shape=box];",
        "legend_target [label=\"double outline: has a target\", shape=ellipse, peripheries=2];",
        "legend_from -> legend_to [label=\"same step\"];",
        "legend_lag_from -> legend_lag_to [style=dashed, label=\"earlier step\"];"})
    EXPECT_TRUE(contains(legend, entry)) << entry << "\n" << legend;
  EXPECT_FALSE(contains(legend, "diamond")) << legend;  // no parameter in the model
  EXPECT_FALSE(contains(legend, "octagon")) << legend;  // no shock
  // The model's own nodes and edges, after the legend.
  const std::string dot = all.substr(legend_end);
  EXPECT_TRUE(contains(dot, "style=dashed")) << dot;
  // One dashed edge (the stock change), one plain edge.
  std::size_t dashed = 0;
  for (std::size_t at = dot.find("style=dashed"); at != std::string::npos;
       at = dot.find("style=dashed", at + 1))
    ++dashed;
  EXPECT_EQ(dashed, 1u);
  EXPECT_TRUE(contains(dot, "企业")) << dot;
  EXPECT_TRUE(contains(dot, "peripheries=2")) << dot;  // the target node

  if (std::system("command -v dot >/dev/null 2>&1") != 0) GTEST_SKIP() << "graphviz not found";
  static std::atomic<int> counter{0};
  fs::path dir = fs::temp_directory_path() / ("attain-graph-test-" + std::to_string(::getpid()) +
                                              "-" + std::to_string(counter++));
  fs::create_directories(dir);
  std::ofstream(dir / "g.dot") << all;
  std::string cmd = "dot -Tsvg '" + (dir / "g.dot").string() + "' -o '" + (dir / "g.svg").string() +
                    "' 2>'" + (dir / "err.txt").string() + "'";
  int rc = std::system(cmd.c_str());
  std::ifstream err(dir / "err.txt");
  std::string err_text((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << err_text;
  EXPECT_FALSE(contains(err_text, "rror")) << err_text;  // no syntax error (font warnings are fine)
  EXPECT_GT(fs::file_size(dir / "g.svg"), 100u);
  std::ifstream svg(dir / "g.svg");
  std::string svg_text((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(contains(svg_text, "<title>cluster_legend</title>"));  // the legend was drawn
  fs::remove_all(dir);
}

TEST(GraphTest, JsonOutput) {
  std::string text =
      kHeader + "levers:\n  l: {label: L, unit: yuan, description: d, source: s, value: 1}\n" +
      "stocks:\n  s: {label: S, unit: u, description: d, source: x, initial: 0, change: f}\n" +
      "auxiliaries:\n" + aux("f", "l * 2") + aux("spare", "1") +
      "targets:\n  - {node: s, op: \">=\", threshold: 1, label: t, source: x}\n";
  Model m = parse(text);
  DependencyGraph g = build_graph(m);
  nlohmann::json j = graph_to_json(m, g);
  EXPECT_EQ(j["model"], "g");
  ASSERT_EQ(j["nodes"].size(), 4u);
  EXPECT_EQ(j["nodes"][0]["name"], "l");
  EXPECT_EQ(j["nodes"][0]["kind"], "lever");
  EXPECT_EQ(j["nodes"][0]["label"], "L");
  EXPECT_EQ(j["nodes"][0]["unit"], "yuan");
  EXPECT_EQ(j["nodes"][0]["used"], true);
  EXPECT_EQ(j["nodes"][3]["name"], "s");
  EXPECT_EQ(j["nodes"][3]["kind"], "stock");
  EXPECT_EQ(j["nodes"][2]["name"], "spare");
  EXPECT_EQ(j["nodes"][2]["used"], false);
  ASSERT_EQ(j["edges"].size(), 2u);
  bool saw_lagged = false, saw_plain = false;
  for (const auto& e : j["edges"]) {
    if (e["from"] == "f" && e["to"] == "s") saw_lagged = e["lagged"] == true;
    if (e["from"] == "l" && e["to"] == "f") saw_plain = e["lagged"] == false;
  }
  EXPECT_TRUE(saw_lagged) << j.dump();
  EXPECT_TRUE(saw_plain) << j.dump();
  ASSERT_EQ(j["order"].size(), 4u);
}

}  // namespace
}  // namespace attain
