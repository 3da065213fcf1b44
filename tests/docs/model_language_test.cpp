// GoogleTest: every yaml example of docs/model-language.md parses, checks and runs; errors match.
#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "attain/diagnostics.hpp"
#include "attain/ensemble.hpp"
#include "attain/graph.hpp"
#include "attain/program.hpp"
#include "attain/yaml_reader.hpp"

namespace attain {
namespace {

const char* kDoc = ATTAIN_SOURCE_DIR "/docs/model-language.md";

/// One fenced block: its info string ("yaml", "yaml scenario", "text"), text and line.
struct Block {
  std::string info;
  std::string text;
  int line = 0;  ///< line of the opening fence in the document
};

std::string read_doc() {
  std::ifstream in(kDoc, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << kDoc;
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::vector<Block> fenced_blocks(const std::string& doc) {
  std::vector<Block> blocks;
  std::istringstream in(doc);
  std::string line;
  int number = 0;
  Block* open = nullptr;
  while (std::getline(in, line)) {
    ++number;
    if (line.rfind("```", 0) == 0) {
      if (open) {
        open = nullptr;
      } else {
        std::string info = line.substr(3);
        while (!info.empty() && (info.back() == ' ' || info.back() == '\r')) info.pop_back();
        blocks.push_back({info, "", number});
        open = &blocks.back();
      }
      continue;
    }
    if (open) open->text += line + "\n";
  }
  EXPECT_EQ(open, nullptr) << "unterminated fenced block";
  return blocks;
}

/// Runs one model through the same steps as `attain check` plus one replayed run.
void check_model(const Model& m) {
  DependencyGraph g = build_graph(m);
  Program p = compile(m, g);
  auto values = replay_run(p, 1, 0);
  ASSERT_EQ(values.size(), static_cast<std::size_t>(m.time.steps()));
  for (const auto& step : values) ASSERT_EQ(step.size(), m.nodes.size());
}

TEST(ModelLanguageDocTest, EveryYamlBlockParsesChecksAndRuns) {
  std::vector<Block> blocks = fenced_blocks(read_doc());
  int models = 0, scenarios = 0;
  std::optional<Model> last_model;
  for (const Block& b : blocks) {
    if (b.info.rfind("yaml", 0) != 0) continue;
    std::string where = "block at docs/model-language.md:" + std::to_string(b.line);
    SCOPED_TRACE(where);
    try {
      if (b.info == "yaml scenario") {
        ASSERT_TRUE(last_model.has_value()) << "a scenario block before any model block";
        Scenario s = parse_scenario(b.text, where, *last_model);
        EXPECT_EQ(s.model_name, last_model->name);
        Model applied = apply_scenario(*last_model, s);
        check_model(applied);
        ++scenarios;
      } else {
        ASSERT_EQ(b.info, "yaml") << "unknown info string";
        Model m = parse_model(b.text, where);
        check_model(m);
        last_model = std::move(m);
        ++models;
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what() << "\n" << b.text;
    }
  }
  EXPECT_GE(models + scenarios, 12);
  EXPECT_GE(scenarios, 1);
}

TEST(ModelLanguageDocTest, ExampleModelsHaveDistinctNames) {
  std::set<std::string> names;
  for (const Block& b : fenced_blocks(read_doc())) {
    if (b.info != "yaml") continue;
    Model m = parse_model(b.text, "doc.yaml");
    EXPECT_TRUE(names.insert(m.name).second) << "two examples are named " << m.name;
  }
  EXPECT_GE(names.size(), 12u);
}

TEST(ModelLanguageDocTest, ErrorExamplesHaveTheDocumentedForm) {
  const std::regex form(R"(^[^:\s]+:[1-9][0-9]*:[1-9][0-9]*: error: \S.*$)");
  int examples = 0;
  for (const Block& b : fenced_blocks(read_doc())) {
    if (b.info != "text") continue;
    std::istringstream in(b.text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("error:") == std::string::npos) continue;
      ++examples;
      EXPECT_TRUE(std::regex_match(line, form)) << line;
    }
  }
  EXPECT_GE(examples, 3);
}

TEST(ModelLanguageDocTest, ErrorExamplesUseTheEngineWording) {
  // Each documented example, reproduced with a model that makes the engine say it.
  const std::string head = "model: m\ndescription: d\ntime: {start: 2017, end: 2020}\n";
  struct Case {
    std::string model;
    std::string doc_text;  ///< the text after "error: " in docs/model-language.md
  };
  const Case cases[] = {
      {head + "levers:\n  funding: {label: f, unit: u, description: d, source: s, value: 1}\n"
              "auxiliaries:\n  rd: {label: r, unit: u, description: d, formula: 2 * fundng}\n",
       "unknown node 'fundng' in auxiliary 'rd'; did you mean 'funding'?"},
      {head + "parameters:\n  g: {label: g, unit: u, description: d, source: s, dist: normal, "
              "mean: 1, sd: -1}\n",
       "parameter 'g' (normal): sd must be >= 0 (got -1)"},
      {head + "auxiliaries:\n"
              "  a: {label: a, unit: u, description: d, formula: c}\n"
              "  b: {label: b, unit: u, description: d, formula: a}\n"
              "  c: {label: c, unit: u, description: d, formula: b}\n",
       "same-step cycle: a -> b -> c -> a (break it with a stock or prev())"},
  };
  // Every documented example must appear in the doc, so this list stays in step with it.
  std::string doc = read_doc();
  for (const auto& c : cases) {
    EXPECT_NE(doc.find(c.doc_text), std::string::npos) << c.doc_text;
    try {
      Model m = parse_model(c.model, "model.yaml");
      build_graph(m);
      ADD_FAILURE() << "no error for " << c.doc_text;
    } catch (const InputError& e) {
      EXPECT_EQ(e.text(), c.doc_text);
    }
  }
}

}  // namespace
}  // namespace attain
