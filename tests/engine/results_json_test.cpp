// Tests of the JSON documents and CSV tables of results (results_json.hpp).
#include "attain/results_json.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "attain/analysis.hpp"
#include "attain/graph.hpp"
#include "attain/program.hpp"
#include "attain/yaml_reader.hpp"

namespace attain {
namespace {

/// An RFC 4180 reader (tests only): records of fields, CRLF between records.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, in_field = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      EXPECT_TRUE(field.empty()) << "a quote inside an unquoted field";
      quoted = true;
      in_field = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
      in_field = true;
    } else if (c == '\r') {
      EXPECT_TRUE(i + 1 < text.size() && text[i + 1] == '\n') << "CR without LF";
      row.push_back(field);
      rows.push_back(row);
      row.clear();
      field.clear();
      in_field = false;
      ++i;
    } else {
      EXPECT_NE(c, '\n') << "a bare LF ends no record";
      field += c;
      in_field = true;
    }
  }
  EXPECT_FALSE(quoted);
  EXPECT_FALSE(in_field) << "the last record has no CRLF";
  return rows;
}

TEST(ResultsCsvTest, FieldsAreQuotedAsRfc4180Says) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field("cr\rhere"), "\"cr\rhere\"");
  EXPECT_EQ(csv_field("研发投入强度 2.5%"), "研发投入强度 2.5%");
  std::ostringstream os;
  CsvWriter w(os);
  w.text("a,\"b\"\r\nc").text("研发").number(0.1).count(7).boolean(true).empty();
  w.end_row();
  auto rows = parse_csv(os.str());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a,\"b\"\r\nc", "研发", "0.1", "7", "true", ""}));
}

TEST(ResultsCsvTest, NumbersReadBackExactly) {
  EXPECT_EQ(csv_number(0.1), "0.1");
  EXPECT_EQ(csv_number(2020), "2020");
  EXPECT_EQ(csv_number(std::numeric_limits<double>::quiet_NaN()), "");
  EXPECT_EQ(csv_number(std::numeric_limits<double>::infinity()), "inf");
  const double values[] = {1.0 / 3,     0.29137,
                           1e-300,      4.9e-324,
                           -2.5e17,     123456789.123456789,
                           0.95 - 0.05, std::nextafter(1.0, 2.0)};
  for (double v : values) {
    const std::string text = csv_number(v);
    EXPECT_EQ(std::strtod(text.c_str(), nullptr), v) << text;
    EXPECT_LE(text.size(), 24u) << text;
  }
}

const char* kModel = R"(model: small
description: test
time: {start: 2017, end: 2020}
levers:
  funding: {label: '资金, "万元"', unit: m, description: d, source: s, value: 3}
parameters:
  yield: {label: 产出, unit: 1, description: d, source: s, dist: uniform, min: 2, max: 6}
stocks:
  firms: {label: "企业数量", unit: firms, description: d, source: s, initial: 40,
          change: yield * funding}
targets:
  - {name: firms, node: firms, year: 2020, op: ">=", threshold: 60, label: "60 家企业, 2020",
     source: plan}
  - {name: early, node: firms, year: 2019, op: "<", threshold: 50.5, label: early, source: plan}
actuals:
  - {node: firms, year: 2018, value: 45, label: counted, source: stats}
)";

struct Fixture {
  Model model = parse_model(kModel, "m.yaml");
  DependencyGraph graph = build_graph(model);
  Scenario scenario = default_scenario(model);
  Program program = compile(apply_scenario(model, scenario), graph);
  EnsembleResult result;
  StoredResults stored;
  explicit Fixture(bool summaries = true) {
    AnalysisOptions o;
    o.runs = 3000;
    o.seed = 5;
    result = run_scenario(program, o, summaries, nullptr, false);
    RunInfo info;
    info.seed = 5;
    info.runs = 3000;
    info.analysis = "run";
    stored = stored_results(model, info, "out.h5");
    stored.scenarios.push_back(stored_scenario(scenario, result));
  }
};

TEST(ResultsJsonTest, RunDocumentHasItsSchemaAndTheResults) {
  Fixture f;
  nlohmann::json j = run_document(f.stored);
  EXPECT_EQ(j["schema"], "attain-run");
  EXPECT_EQ(j["version"], kDocumentVersion);
  EXPECT_EQ(j["model"], "small");
  EXPECT_EQ(j["seed"], 5);
  EXPECT_EQ(j["output"], "out.h5");
  EXPECT_TRUE(j["ci_width"].is_null());
  ASSERT_EQ(j["scenarios"].size(), 1u);
  const auto& s = j["scenarios"][0];
  EXPECT_EQ(s["runs"], 3000);
  ASSERT_EQ(s["targets"].size(), 2u);
  EXPECT_EQ(s["targets"][0]["label"], "60 家企业, 2020");
  EXPECT_EQ(s["targets"][0]["hits"], f.result.targets[0].hits);
  EXPECT_EQ(s["targets"][0]["probability"].get<double>(), f.result.targets[0].probability);
  EXPECT_EQ(s["joint"]["hits"], f.result.joint_hits);
  ASSERT_EQ(s["actuals"].size(), 1u);
  EXPECT_EQ(s["actuals"][0]["percentile"].get<double>(), f.result.actuals[0].percentile);
  // first_met counts every run that met the target at some step; never_met the rest.
  std::uint64_t met = 0;
  for (const auto& [year, n] : s["targets"][0]["first_met"].items()) met += n.get<std::uint64_t>();
  EXPECT_EQ(met + s["targets"][0]["never_met"].get<std::uint64_t>(), 3000u);
  // The text the CLI prints reads back as the same document.
  EXPECT_EQ(nlohmann::json::parse(document_text(j)), j);
}

TEST(ResultsJsonTest, PartsFollowWhatTheResultsHold) {
  Fixture f;
  EXPECT_EQ(default_part(f.stored), ExportPart::kTargets);
  auto parts = parts_of(f.stored);
  EXPECT_EQ(parts, (std::vector<ExportPart>{ExportPart::kTargets, ExportPart::kSummary,
                                            ExportPart::kRuns}));
  try {
    compare_document(f.stored);
    FAIL() << "a run has no comparisons";
  } catch (const OutputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "'out.h5' has no comparisons (it was written by 'attain run'); it has targets, "
              "summary and runs (--what)");
  }
  EXPECT_THROW(sweep_document(f.stored), OutputError);
  EXPECT_THROW(search_document(f.stored), OutputError);
  EXPECT_THROW(sensitivity_document(f.stored), OutputError);
  std::ostringstream os;
  EXPECT_THROW(write_csv(os, f.stored, ExportPart::kSweep), OutputError);
  EXPECT_TRUE(os.str().empty());
  f.stored.info.store = StoreLevel::kSummary;
  EXPECT_THROW(require_part(f.stored, ExportPart::kRuns), OutputError);
  for (ExportPart p : all_parts()) EXPECT_EQ(part_of(part_name(p)), p);
  EXPECT_FALSE(part_of("target"));
  // Without node summaries (a run without --out) there is no summary part.
  Fixture g(false);
  EXPECT_FALSE(g.stored.scenarios[0].summary);
  EXPECT_THROW(summary_document(g.stored), OutputError);
}

TEST(ResultsCsvTest, TargetsTableIsTidyWithTheJointFlagged) {
  Fixture f;
  std::ostringstream os;
  write_csv(os, f.stored, ExportPart::kTargets);
  auto rows = parse_csv(os.str());
  ASSERT_EQ(rows.size(), 4u);  // header, 2 targets, the joint
  EXPECT_EQ(rows[0], (std::vector<std::string>{"scenario", "target", "label", "node", "year", "op",
                                               "threshold", "probability", "ci_low", "ci_high",
                                               "hits", "runs", "joint"}));
  EXPECT_EQ(rows[1][0], "default");
  EXPECT_EQ(rows[1][2], "60 家企业, 2020");
  EXPECT_EQ(rows[1][5], ">=");
  EXPECT_EQ(rows[2][6], "50.5");
  EXPECT_EQ(std::strtod(rows[1][7].c_str(), nullptr), f.result.targets[0].probability);
  EXPECT_EQ(std::strtod(rows[1][9].c_str(), nullptr), f.result.targets[0].ci_high);
  EXPECT_EQ(rows[1][10], std::to_string(f.result.targets[0].hits));
  EXPECT_EQ(rows[1][12], "false");
  EXPECT_EQ(rows[3][1], "all targets");
  EXPECT_EQ(rows[3][4], "");  // no year for the joint
  EXPECT_EQ(rows[3][10], std::to_string(f.result.joint_hits));
  EXPECT_EQ(rows[3][12], "true");
}

TEST(ResultsCsvTest, SummaryTableHasEveryNodeAndTime) {
  Fixture f;
  std::ostringstream os;
  write_csv(os, f.stored, ExportPart::kSummary);
  auto rows = parse_csv(os.str());
  const std::size_t nodes = f.model.nodes.size(), steps = 4;
  ASSERT_EQ(rows.size(), 1 + nodes * steps);
  EXPECT_EQ(rows[0],
            (std::vector<std::string>{"scenario", "node", "label", "unit", "time", "mean", "sd",
                                      "min", "max", "q05", "q25", "q50", "q75", "q95"}));
  const int firms = f.model.node_index.at("firms");
  const std::size_t row = 1 + static_cast<std::size_t>(firms) * steps + 3;
  EXPECT_EQ(rows[row][1], "firms");
  EXPECT_EQ(rows[row][2], "企业数量");
  EXPECT_EQ(rows[row][4], "2020");
  const Moments& m = f.result.moments[static_cast<std::size_t>(firms) * steps + 3];
  EXPECT_EQ(std::strtod(rows[row][5].c_str(), nullptr), m.mean());
  EXPECT_EQ(std::strtod(rows[row][6].c_str(), nullptr), m.sd());
  EXPECT_EQ(std::strtod(rows[row][11].c_str(), nullptr),
            f.result.quantiles[static_cast<std::size_t>(firms) * steps + 3][2]);
  // The lever's label has a comma and quotes: one field.
  const int funding = f.model.node_index.at("funding");
  EXPECT_EQ(rows[1 + static_cast<std::size_t>(funding) * steps][2], "资金, \"万元\"");
  // The JSON summary holds the same numbers.
  nlohmann::json j = summary_document(f.stored);
  EXPECT_EQ(j["schema"], "attain-summary");
  EXPECT_EQ(j["time"].size(), steps);
  EXPECT_EQ(j["scenarios"][0]["nodes"][firms]["mean"][3].get<double>(), m.mean());
  EXPECT_EQ(j["scenarios"][0]["nodes"][firms]["quantiles"][3][2].get<double>(),
            f.result.quantiles[static_cast<std::size_t>(firms) * steps + 3][2]);
}

TEST(ResultsCsvTest, RunsTableHasAColumnPerParameterAndTarget) {
  Fixture f;
  StoredRuns x;
  x.model = "small";
  x.first_run = 10;
  x.parameters = {"yield"};
  x.values = {{2.5, std::numeric_limits<double>::quiet_NaN()}};
  x.targets = {"firms", "early"};
  x.target_values = {{61, 55}, {48.25, 0.1}};
  std::ostringstream os;
  write_csv(os, f.stored, ExportPart::kRuns, {x});
  auto rows = parse_csv(os.str());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"scenario", "run", "parameter:yield", "target:firms",
                                               "target:early"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"default", "10", "2.5", "61", "48.25"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"default", "11", "", "55", "0.1"}));
  nlohmann::json j = runs_document(f.stored, {x});
  EXPECT_EQ(j["schema"], "attain-runs");
  EXPECT_EQ(j["scenarios"][0]["run"], (std::vector<int>{10, 11}));
  EXPECT_TRUE(j["scenarios"][0]["parameter_values"][0][1].is_null());
  // Columns of different lengths are refused, not written.
  x.values[0].pop_back();
  std::ostringstream bad;
  EXPECT_THROW(write_csv(bad, f.stored, ExportPart::kRuns, {x}), OutputError);
  EXPECT_TRUE(bad.str().empty());
}

TEST(ResultsCsvTest, ComparisonsTableAndDocument) {
  Fixture f;
  Scenario more = f.scenario;
  more.name = "more";
  Model mm = f.model;
  mm.nodes[static_cast<std::size_t>(mm.node_index.at("funding"))].lever.value = 4;
  Program p2 = compile(mm, f.graph);
  AnalysisOptions o;
  o.runs = 3000;
  o.seed = 5;
  CompareResult c = compare(f.model, {&f.program, &p2}, {"default", "more"}, o, true);
  RunInfo info;
  info.analysis = "compare";
  StoredResults s = stored_results(f.model, info, "");
  s.scenarios.push_back(stored_scenario(f.scenario, c.scenarios[0]));
  s.scenarios.push_back(stored_scenario(more, c.scenarios[1]));
  s.comparisons = c.comparisons;
  EXPECT_EQ(default_part(s), ExportPart::kComparisons);
  nlohmann::json j = compare_document(s);
  EXPECT_EQ(j["schema"], "attain-compare");
  EXPECT_TRUE(j["output"].is_null());
  EXPECT_EQ(j["runs"], 3000);
  EXPECT_EQ(j["comparisons"][0]["targets"][0]["hurt"], 0);
  std::ostringstream os;
  write_csv(os, s, ExportPart::kComparisons);
  auto rows = parse_csv(os.str());
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0][2], "target");
  EXPECT_EQ(rows[1][1], "more");
  EXPECT_EQ(rows[1][2], "firms");
  EXPECT_EQ(rows[1][13], "0");  // hurt
  EXPECT_EQ(rows[1][12], std::to_string(c.comparisons[0].targets[0].table.helped));
  EXPECT_EQ(rows[3][2], "all targets");
  EXPECT_EQ(rows[3][3], "true");
  EXPECT_EQ(rows[3][16], "");  // no value difference for the joint
}

}  // namespace
}  // namespace attain
