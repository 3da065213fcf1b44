// Issue 22: the report's graph stays quick for large models (what is drawn, and by which
// layout), and every text given to Graphviz is valid UTF-8 with no entity read in it.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "attain/graph.hpp"
#include "attain/graph_svg.hpp"
#include "attain/input_file.hpp"
#include "attain/yaml_reader.hpp"

namespace attain {
namespace {

/// A model of one parameter and `n - 1` auxiliaries in a chain (a0 reads p0, a(i) reads
/// a(i-1) and p0); the target is on a(`target_at`).
std::string chain_model(int n, int target_at, const std::string& label = "a quantity") {
  std::string y = fmt::format(
      "model: chain\ndescription: a generated chain\ntime: {{start: 2020, end: 2022}}\n"
      "parameters:\n  p0:\n    label: \"{}\"\n    unit: u\n    description: d\n    source: s\n"
      "    dist: uniform\n    min: 0\n    max: 1\nauxiliaries:\n",
      label);
  for (int i = 0; i + 1 < n; ++i)
    y += fmt::format(
        "  a{}:\n    label: aux {}\n    unit: u\n    description: d\n"
        "    formula: {} + 0.5 * p0\n",
        i, i, i == 0 ? std::string("p0") : fmt::format("a{}", i - 1));
  y += fmt::format(
      "targets:\n  - name: t\n    node: a{}\n    op: \">=\"\n    threshold: 1\n"
      "    label: the target\n    source: s\n",
      target_at);
  return y;
}

TEST(ReportBoundTest, SmallModelDrawsEveryNodeLayered) {
  const Model m = parse_model(chain_model(40, 38), "chain.yaml");
  const GraphDrawing plan = plan_graph_drawing(m, build_graph(m));
  EXPECT_EQ(plan.layout, "dot");
  EXPECT_EQ(plan.nodes, 40u);
  EXPECT_EQ(plan.note, "");
}

TEST(ReportBoundTest, LargeModelDrawsOnlyTheTargetsAncestors) {
  // 150 nodes, the target on a10: p0 and a0..a10 are what it depends on.
  const Model m = parse_model(chain_model(150, 10), "chain.yaml");
  const DependencyGraph g = build_graph(m);
  const GraphDrawing plan = plan_graph_drawing(m, g);
  EXPECT_EQ(plan.layout, "dot");
  EXPECT_EQ(plan.nodes, 12u);
  EXPECT_NE(plan.note.find("only the 12 of the 150 quantities"), std::string::npos) << plan.note;
  const std::string svg = report_graph_svg(m, g, plan);
  EXPECT_NE(svg.find(">a10<"), std::string::npos);
  EXPECT_EQ(svg.find(">a11<"), std::string::npos) << "a node the target does not read";
  EXPECT_EQ(svg.find(">a149<"), std::string::npos);
}

TEST(ReportBoundTest, LargeConnectedModelIsLaidOutForceDirected) {
  // 300 nodes that the target all depends on: the layered layout would take minutes.
  const Model m = parse_model(chain_model(300, 298), "chain.yaml");
  const DependencyGraph g = build_graph(m);
  const GraphDrawing plan = plan_graph_drawing(m, g);
  EXPECT_EQ(plan.layout, "sfdp");
  EXPECT_EQ(plan.nodes, 300u);
  EXPECT_NE(plan.note.find("force-directed"), std::string::npos) << plan.note;
  const std::string svg = report_graph_svg(m, g, plan);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find(">a298<"), std::string::npos);
}

TEST(ReportBoundTest, HugeModelIsNotDrawn) {
  const Model m = parse_model(chain_model(2100, 2098), "chain.yaml");
  const DependencyGraph g = build_graph(m);
  const GraphDrawing plan = plan_graph_drawing(m, g);
  EXPECT_EQ(plan.layout, "");
  EXPECT_EQ(plan.nodes, 0u);
  EXPECT_NE(plan.note.find("not drawn"), std::string::npos) << plan.note;
  EXPECT_EQ(report_graph_svg(m, g, plan), "");
}

TEST(ReportBoundTest, EntityInALabelIsDrawnLiterallyWithNoWarning) {
  // Graphviz reads HTML entities in labels: "&#xD800;" would become a lone surrogate, which
  // pango warns about on stderr.
  const Model m = parse_model(chain_model(3, 1, "&#xD800; & &amp;"), "chain.yaml");
  const DependencyGraph g = build_graph(m);
  const std::string dot = graph_to_dot(m, g);
  EXPECT_NE(dot.find("&amp;#xD800; &amp; &amp;amp;"), std::string::npos) << dot;
  testing::internal::CaptureStderr();
  const std::string svg = graph_to_svg(m, g);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "");
  EXPECT_NE(svg.find("&amp;#xD800; &amp; &amp;amp;"), std::string::npos) << "shown as written";
}

TEST(ReportBoundTest, InvalidUtf8InALabelBecomesReplacementCharacters) {
  // A results file's model is not checked as a model file is: bytes that are not UTF-8
  // (here a surrogate encoded in UTF-8) reach Graphviz only as U+FFFD.
  Model m = parse_model(chain_model(3, 1), "chain.yaml");
  m.nodes[0].label = "x \xed\xa0\x80 \xff y";
  const DependencyGraph g = build_graph(m);
  const std::string dot = graph_to_dot(m, g);
  EXPECT_EQ(dot.find("\xed\xa0\x80"), std::string::npos);
  EXPECT_NE(dot.find("\xef\xbf\xbd"), std::string::npos) << dot;
  testing::internal::CaptureStderr();
  graph_to_svg(m, g);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(ReportBoundTest, YamlSurrogateEscapeIsRefusedOrValid) {
  // yaml-cpp decodes "\uD800" itself: either it refuses it or the label is valid UTF-8.
  std::string text = chain_model(3, 1, "\\uD800");
  try {
    const Model m = parse_model(text, "chain.yaml");
    EXPECT_NO_THROW(check_utf8(m.nodes[0].label, "label"));
  } catch (const InputError& e) {
    EXPECT_EQ(e.loc().line, 6) << e.what();  // the label
  }
}

/// A model text whose lines end in `brk`, with an error (an unknown key) on line 6.
std::string model_with_breaks(const std::string& brk) {
  return "model: m" + brk + "description: d" + brk + "time: {start: 2020, end: 2022}" + brk +
         "parameters:" + brk + "  p0:" + brk + "    colour: blue" + brk;
}

TEST(ReportBoundTest, LineNumbersCountEachLineBreakOnce) {
  for (const std::string brk : {"\n", "\r\n", "\n\r", "\r"}) {
    try {
      parse_model(model_with_breaks(brk), "m.yaml");
      ADD_FAILURE() << "the unknown key was accepted";
    } catch (const InputError& e) {
      EXPECT_EQ(e.loc().line, 6) << e.what();
    }
    // check_utf8 numbers lines the same way.
    try {
      check_utf8("a" + brk + "b" + brk + "\xff", "m.yaml");
      ADD_FAILURE() << "invalid UTF-8 was accepted";
    } catch (const InputError& e) {
      EXPECT_EQ(e.loc().line, 3) << e.what();
    }
  }
}

}  // namespace
}  // namespace attain
