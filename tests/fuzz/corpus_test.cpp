// The fuzzing oracle (fuzz/oracle.hpp) and the regression corpus tests/corpus/<target>/:
// every input that ever crashed, hung or got a malformed message, run in every build.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "attain/yaml_reader.hpp"
#include "oracle.hpp"

namespace fs = std::filesystem;
using attain::fuzz::check;
using attain::fuzz::check_input_message;
using attain::fuzz::check_run_message;
using attain::fuzz::Target;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<fs::path> corpus(Target t) {
  std::vector<fs::path> files;
  const fs::path dir =
      fs::path(ATTAIN_SOURCE_DIR) / "tests" / "corpus" / std::string(attain::fuzz::target_name(t));
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

/// Runs every file of a target's corpus through the oracle, each within 10 s.
void run_corpus(Target t) {
  const auto files = corpus(t);
  ASSERT_FALSE(files.empty()) << "no regression inputs in tests/corpus/"
                              << attain::fuzz::target_name(t);
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(check(t, read_file(f)), "");
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(s, 10.0) << "a regression input took " << s << " s";
  }
}

}  // namespace

TEST(FuzzOracle, AcceptsOneLocatedLine) {
  EXPECT_EQ(check_input_message("fuzz.yaml:3:14: error: unknown key 'x'", "fuzz.yaml"), "");
  EXPECT_EQ(check_input_message("fuzz.yaml:12:1: error: 高新技术企业 \\n", "fuzz.yaml"), "");
}

TEST(FuzzOracle, RejectsMalformedInputErrors) {
  const std::string p = "fuzz.yaml";
  EXPECT_NE(check_input_message("", p), "");
  EXPECT_NE(check_input_message("fuzz.yaml:3:14: error: a\nfuzz.yaml:1:1: error: forged", p), "");
  EXPECT_NE(check_input_message("fuzz.yaml:3:14: error: carriage\rreturn", p), "");
  EXPECT_NE(check_input_message("fuzz.yaml:3:14: error: \x1b[31mred", p), "");
  EXPECT_NE(check_input_message("fuzz.yaml:3:14: error: C1 \xc2\x9b control", p), "");
  EXPECT_NE(check_input_message("fuzz.yaml: error: no place", p), "");
  EXPECT_NE(check_input_message("fuzz.yaml:0:1: error: line zero", p), "");
  EXPECT_NE(check_input_message("fuzz.yaml:4:0: error: column zero", p), "");
  EXPECT_NE(check_input_message("fuzz.yaml:-1:0: error: negative", p), "");
  EXPECT_NE(check_input_message("fuzz.yaml:3:14: warning: not an error", p), "");
  EXPECT_NE(check_input_message("fuzz.yaml:3:14: error: ", p), "");
  EXPECT_NE(check_input_message("other.yaml:3:14: error: another file", p), "");
  EXPECT_NE(check_input_message("attain: error: bad file", p), "");
  EXPECT_NE(check_input_message("fuzz.yaml:1:1208: error: malformed YAML: bad file", p), "");
  EXPECT_NE(check_input_message(
                "fuzz.yaml:3:14: error: " + std::string(attain::fuzz::kMaxMessageBytes, 'x'), p),
            "");
}

TEST(FuzzOracle, OpaqueTextsAreFindings) {
  EXPECT_NE(check_input_message("fuzz.yaml:1:1208: error: malformed YAML: bad file", "fuzz.yaml"),
            "");
  // An input echoed in a message is not the reader's own text.
  EXPECT_EQ(check_input_message("fuzz.yaml:1:8: error: model name 'malformed YAML: bad file' is "
                                "not an identifier",
                                "fuzz.yaml"),
            "");
}

TEST(FuzzOracle, RunErrorsAreOnePrintableLine) {
  EXPECT_EQ(check_run_message("attain: error: run stopped: 'x' is nan at 2018 in run 3"), "");
  EXPECT_NE(check_run_message("attain: error: run stopped: two\nlines"), "");
  EXPECT_NE(check_run_message("fuzz.yaml:1:1: error: not a run error"), "");
}

TEST(FuzzOracle, WellFormedRefusalsAndAcceptedInputsPass) {
  // A model that runs, and one refused with a located message: both are fine.
  const std::string ok =
      "model: m\ndescription: d\ntime: {start: 2017, end: 2019}\n"
      "levers:\n  f: {label: f, unit: u, description: d, source: s, value: 2}\n"
      "auxiliaries:\n  g: {label: g, unit: u, description: d, formula: f * 2}\n"
      "targets:\n  - {name: g_4, node: g, op: '>=', threshold: 4, label: g, source: s}\n";
  ASSERT_NO_THROW(attain::parse_model(ok, "ok.yaml"));
  EXPECT_EQ(check(Target::kModel, ok), "");
  EXPECT_THROW(attain::parse_model("model: [unclosed", "bad.yaml"), attain::InputError);
  EXPECT_EQ(check(Target::kModel, "model: [unclosed"), "");
  EXPECT_EQ(check(Target::kExpr, "100 * (a + b) / gdp"), "");
  EXPECT_EQ(check(Target::kExpr, "(("), "");
  EXPECT_EQ(check(Target::kScenario, "scenario: s\nmodel: teaching_firms\ndescription: d\n"), "");
  EXPECT_EQ(check(Target::kScenario, "scenario: s\nmodel: nope\ndescription: d\n"), "");
}

TEST(FuzzOracle, ScenarioExtendsReachesNoFile) {
  // The scenario is read from an empty folder: whatever `extends` names is refused with a
  // well-formed message (the oracle reports a chain longer than the input itself).
  const std::string head = "scenario: s\nmodel: teaching_firms\ndescription: d\n";
  for (const char* ext : {"/dev/zero", "/etc/hostname", "../../../../../etc/passwd.yaml",
                          "fuzz_scenario.yaml", "missing.yaml", "."}) {
    SCOPED_TRACE(ext);
    const std::string input = head + "extends: \"" + ext + "\"\n";
    EXPECT_THROW(attain::parse_scenario(input, "/nonexistent/s.yaml",
                                        attain::load_model(std::string(ATTAIN_SOURCE_DIR) +
                                                           "/models/teaching_firms.yaml")),
                 attain::InputError);
    EXPECT_EQ(check(Target::kScenario, input), "");
  }
}

TEST(FuzzCorpus, ModelInputs) {
  run_corpus(Target::kModel);
}
TEST(FuzzCorpus, ScenarioInputs) {
  run_corpus(Target::kScenario);
}
TEST(FuzzCorpus, ExpressionInputs) {
  run_corpus(Target::kExpr);
}
