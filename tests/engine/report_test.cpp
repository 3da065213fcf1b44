// The HTML report module (report.hpp) and the graph's SVG (graph_svg.hpp). The page in a
// real browser: tests/cli/report_test.py.
#include "attain/report.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "attain/analysis.hpp"
#include "attain/graph.hpp"
#include "attain/graph_svg.hpp"
#include "attain/yaml_reader.hpp"

namespace attain {
namespace {

using nlohmann::json;

/// A StoredResults filled in-process, as read_results gives it: the teaching model under
/// its two scenarios, with every node's summary.
StoredResults teaching_results(Model m, std::uint64_t runs = 2000) {
  StoredResults r;
  r.path = "teaching.h5";
  r.version_major = 2;
  r.engine_version = "test";
  r.created = "2026-11-28T00:00:00Z";
  r.info.seed = 7;
  r.info.runs = runs;
  const DependencyGraph g = build_graph(m);
  const std::string dir = std::string(ATTAIN_SOURCE_DIR) + "/scenarios/teaching/";
  for (const char* name : {"as_written.yaml", "more_funding.yaml"}) {
    const Scenario s = load_scenario(dir + name, m);
    const Program p = compile(apply_scenario(m, s), g);
    AnalysisOptions o;
    o.runs = runs;
    o.seed = 7;
    o.threads = 1;
    StoredScenario st;
    st.name = s.name;
    st.description = s.description;
    st.path = s.path;
    st.sources = s.sources;
    st.result = run_scenario(p, o, true, nullptr, false);
    StoredSummary sum;
    for (const auto& mo : st.result.moments) {
      sum.mean.push_back(mo.mean());
      sum.sd.push_back(mo.sd());
      sum.min.push_back(mo.min);
      sum.max.push_back(mo.max);
    }
    sum.levels.assign(EnsembleResult::kQuantileLevels.begin(),
                      EnsembleResult::kQuantileLevels.end());
    for (const auto& q : st.result.quantiles)
      sum.quantiles.insert(sum.quantiles.end(), q.begin(), q.end());
    st.summary = sum;
    r.scenarios.push_back(std::move(st));
  }
  r.model = std::move(m);
  return r;
}

Model teaching_model() {
  return load_model(std::string(ATTAIN_SOURCE_DIR) + "/models/teaching_firms.yaml");
}

/// The inline JSON of a page, parsed back.
json page_data(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"attain-data\">";
  const auto a = html.find(open);
  EXPECT_NE(a, std::string::npos);
  const auto b = html.find("</script>", a);
  return json::parse(html.substr(a + open.size(), b - a - open.size()));
}

TEST(ReportTest, JsonForScriptCannotEndTheScriptElement) {
  const json j = {{"a", "</script><script>alert(1)</script>"},
                  {"b", "<!-- x -->"},
                  {"c", "R&D 投入 \u2028 line"},
                  {"d", "</SCRIPT >"}};
  const std::string s = json_for_script(j);
  EXPECT_EQ(s.find('<'), std::string::npos);
  EXPECT_EQ(s.find('>'), std::string::npos);
  EXPECT_EQ(s.find('&'), std::string::npos);
  EXPECT_EQ(s.find("\xe2\x80\xa8"), std::string::npos);
  EXPECT_NE(s.find("投入"), std::string::npos) << "UTF-8 stays UTF-8";
  EXPECT_EQ(json::parse(s), j) << "the escapes read back as the same JSON";
}

TEST(ReportTest, JsonForScriptReplacesInvalidUtf8) {
  const json j = {{"a", std::string("ok \xff\xfe end")}};
  const json back = json::parse(json_for_script(j));
  EXPECT_EQ(back["a"], "ok \xef\xbf\xbd\xef\xbf\xbd end");
}

TEST(ReportTest, DotToSvgLaysOutAGraph) {
  const std::string svg =
      dot_to_svg("digraph G { a [label=\"财政 <b>&\", shape=box]; b; a -> b [style=dashed]; }");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u) << svg.substr(0, 200);
  EXPECT_EQ(svg.find("<?xml"), std::string::npos);
  EXPECT_EQ(svg.find("<!DOCTYPE"), std::string::npos);
  EXPECT_NE(svg.find("<polygon"), std::string::npos);
  EXPECT_NE(svg.find("财政 &lt;b&gt;&amp;"), std::string::npos) << "labels are escaped as XML";
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

TEST(ReportTest, DotToSvgRefusesBrokenDot) {
  EXPECT_THROW(dot_to_svg("digraph G { a -> "), OutputError);
  // Graphviz is usable again afterwards.
  EXPECT_NE(dot_to_svg("digraph { x -> y }").find("<svg"), std::string::npos);
}

TEST(ReportTest, GraphToSvgHasEveryNode) {
  const Model m = teaching_model();
  const std::string svg = graph_to_svg(m, build_graph(m));
  for (const auto& n : m.nodes)
    EXPECT_NE(svg.find(">" + n.name + "<"), std::string::npos) << n.name;
}

TEST(ReportTest, RenderReportIsOneSelfContainedPage) {
  Model m = teaching_model();
  m.description = "A description with </script><script>alert(1)</script> and {{data}} in it.";
  const StoredResults r = teaching_results(m);
  const std::string html = render_report(r);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"),
            std::string::npos);
  EXPECT_LT(html.find("Content-Security-Policy"), html.find("<script"));
  // Three scripts (data, Chart.js, the page's own), whatever the model's text holds.
  std::size_t scripts = 0;
  for (std::size_t i = 0; (i = html.find("<script", i)) != std::string::npos; ++i) ++scripts;
  EXPECT_EQ(scripts, 3u);
  EXPECT_NE(html.find("Chart.js v3"), std::string::npos) << "Chart.js is inlined";
  const std::regex outside(R"re((src|href)\s*=\s*["']?\s*(https?:)?//)re", std::regex::icase);
  EXPECT_FALSE(std::regex_search(html, outside));
  EXPECT_EQ(html.find("<link"), std::string::npos);
  const json data = page_data(html);
  EXPECT_EQ(data["model"]["description"], m.description) << "placeholders are filled once";
  EXPECT_EQ(data["model"]["name"], "teaching_firms");
  ASSERT_EQ(data["scenarios"].size(), 2u);
  const auto& t = r.scenarios[1].result.targets[0];
  EXPECT_EQ(data["scenarios"][1]["targets"][0]["hits"], t.hits);
  EXPECT_DOUBLE_EQ(data["scenarios"][1]["targets"][0]["p"].get<double>(), t.probability);
  EXPECT_DOUBLE_EQ(data["scenarios"][1]["targets"][0]["hi"].get<double>(), t.ci_high);
  EXPECT_EQ(data["model"]["targets"][0]["label"], m.targets[0].label);
  EXPECT_TRUE(data["model"]["graph_svg"].get<std::string>().rfind("<svg", 0) == 0);
  // The fan chart of the target's node: 4 years, 5 quantiles each, ascending.
  const auto& q = data["scenarios"][0]["series"]["firms"]["q"];
  ASSERT_EQ(q.size(), 4u);
  for (const auto& row : q) {
    ASSERT_EQ(row.size(), 5u);
    for (std::size_t i = 1; i < 5; ++i) EXPECT_LE(row[i - 1].get<double>(), row[i].get<double>());
  }
  EXPECT_DOUBLE_EQ(q[0][2].get<double>(), 40) << "firms start at 40";
  // Levers' values per year, for the scenario table: more_funding is 1.5 times as_written.
  const auto& f0 = data["scenarios"][0]["series"]["funding"]["mean"];
  const auto& f1 = data["scenarios"][1]["series"]["funding"]["mean"];
  EXPECT_NEAR(f1[2].get<double>(), 1.5 * f0[2].get<double>(), 1e-12);
  // Parameters' distributions in words, with the 90 % range.
  bool pert = false;
  for (const auto& n : data["model"]["nodes"])
    if (n["name"] == "certification_yield") {
      pert = true;
      EXPECT_EQ(
          n["dist"].get<std::string>().rfind("PERT from 2 to 6, most likely 3.5; 90 % of draws", 0),
          0u)
          << n["dist"];
    }
  EXPECT_TRUE(pert);
}

TEST(ReportTest, MissingChartJsIsAClearError) {
  ReportOptions o;
  o.chartjs_path = "/nonexistent/chart.min.js";
  o.graph = false;
  try {
    render_report(teaching_results(teaching_model(), 100), o);
    FAIL() << "no error";
  } catch (const OutputError& e) {
    EXPECT_NE(std::string(e.what()).find("libjs-chart.js"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("/nonexistent/chart.min.js"), std::string::npos);
  }
}

TEST(ReportTest, NonFiniteNumbersBecomeNull) {
  StoredResults r = teaching_results(teaching_model(), 100);
  r.scenarios[0].result.targets[0].ci_low = std::nan("");
  r.info.ci_width = std::numeric_limits<double>::infinity();
  ReportOptions o;
  o.graph = false;
  const json data = report_data(r, o);
  EXPECT_TRUE(data["scenarios"][0]["targets"][0]["lo"].is_null());
  EXPECT_TRUE(data["run"]["ci_width"].is_null());
  EXPECT_NO_THROW(json::parse(json_for_script(data)));
}

}  // namespace
}  // namespace attain
