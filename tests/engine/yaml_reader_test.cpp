// GoogleTest: the YAML model reader: every class of bad input (text and place) and every node kind.
#include "attain/yaml_reader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>

#include "attain/diagnostics.hpp"
#include "attain/graph.hpp"
#include "attain/model.hpp"
#include "temp_dir.hpp"

namespace attain {
namespace {

namespace fs = std::filesystem;

/// A small valid model in block style, so each key sits on its own line.
const std::string kBase = R"(model: m
description: a test model
time: {start: 2017, end: 2020}
levers:
  funding:
    label: funding
    unit: 100 million yuan
    description: yearly funding
    source: assumption
    value: 3
parameters:
  yield:
    label: yield
    unit: firms / 100 million yuan
    description: certifications per funding
    source: assumption
    dist: uniform
    min: 2
    max: 6
stocks:
  firms:
    label: firms
    unit: firms
    description: certified firms
    source: assumption
    initial: 40
    change: yield * funding
targets:
  - {node: firms, op: ">=", threshold: 60, label: 60 firms, source: teaching}
)";

/// `text` with the first `from` replaced by `to` (which must be there).
std::string replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "'" << from << "' is not in the text";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

/// 1-based line and column of the first occurrence of `needle` in `text`.
int line_of(const std::string& text, const std::string& needle) {
  auto at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}
int col_of(const std::string& text, const std::string& needle) {
  auto at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  auto nl = text.rfind('\n', at);
  return static_cast<int>(at - (nl == std::string::npos ? 0 : nl + 1)) + 1;
}

/// The InputError that reading (and graph-checking) `text` throws.
InputError error_of(const std::string& text) {
  try {
    Model m = parse_model(text, "t.yaml");
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

/// Expects an error whose text holds `part`, at the line and column of `needle`.
void expect_error_at(const std::string& text, const std::string& part, const std::string& needle) {
  InputError e = error_of(text);
  EXPECT_TRUE(contains(e.text(), part)) << e.what() << "\nexpected: " << part;
  EXPECT_EQ(e.loc().file, "t.yaml");
  EXPECT_EQ(e.loc().line, line_of(text, needle)) << e.what();
  EXPECT_EQ(e.loc().col, col_of(text, needle)) << e.what();
  // what() is exactly file:line:col: error: text.
  EXPECT_EQ(std::string(e.what()), "t.yaml:" + std::to_string(e.loc().line) + ":" +
                                       std::to_string(e.loc().col) + ": error: " + e.text());
}

using attain_test::TempDir;

InputError load_error(const std::string& path) {
  try {
    load_model(path);
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for " << path;
  return InputError({"", 0, 0}, "none");
}

// ---- Files ---------------------------------------------------------------------------

TEST(YamlReaderTest, BaseModelIsValid) {
  Model m = parse_model(kBase, "t.yaml");
  EXPECT_EQ(m.name, "m");
  EXPECT_EQ(m.nodes.size(), 3u);
  EXPECT_NO_THROW(build_graph(m));
}

TEST(YamlReaderTest, MissingFile) {
  TempDir dir;
  std::string path = (dir.path() / "nope.yaml").string();
  InputError e = load_error(path);
  EXPECT_EQ(e.loc().file, path);
  EXPECT_EQ(e.loc().line, 1);
  EXPECT_EQ(e.loc().col, 1);
  EXPECT_TRUE(contains(e.text(), "cannot open file")) << e.what();
  EXPECT_TRUE(contains(e.text(), "No such file")) << e.what();
}

TEST(YamlReaderTest, Directory) {
  TempDir dir;
  InputError e = load_error(dir.path().string());
  EXPECT_TRUE(contains(e.text(), "this is a directory")) << e.what();
  EXPECT_EQ(e.loc().line, 1);
}

TEST(YamlReaderTest, EmptyFile) {
  TempDir dir;
  for (const char* bytes : {"", "  \n\n\t\n"}) {
    InputError e = load_error(dir.write("empty.yaml", bytes));
    EXPECT_TRUE(contains(e.text(), "the file is empty")) << e.what();
    EXPECT_EQ(e.loc().line, 1);
    EXPECT_EQ(e.loc().col, 1);
  }
  // A document of only comments holds no YAML document.
  InputError e = error_of("# just a comment\n");
  EXPECT_TRUE(contains(e.text(), "holds no YAML document")) << e.what();
}

TEST(YamlReaderTest, BinaryFileWithNulBytes) {
  TempDir dir;
  std::string bytes = "model: m\nde";
  bytes += '\0';
  bytes += "scription: x\n";
  InputError e = load_error(dir.write("nul.yaml", bytes));
  EXPECT_TRUE(contains(e.text(), "not a UTF-8 text file (byte 0x00)")) << e.what();
  EXPECT_EQ(e.loc().line, 2);
  EXPECT_EQ(e.loc().col, 3);
}

TEST(YamlReaderTest, BinaryFileWithInvalidUtf8) {
  TempDir dir;
  // Latin-1 e-acute (0xe9) followed by a space is no UTF-8 sequence.
  InputError e = load_error(dir.write("latin1.yaml", "model: m\ndescription: caf\xe9 au lait\n"));
  EXPECT_TRUE(contains(e.text(), "not a UTF-8 text file (byte 0xe9)")) << e.what();
  EXPECT_EQ(e.loc().line, 2);
  EXPECT_EQ(e.loc().col, 17);
  e = load_error(dir.write("ff.yaml", "\xff\xfe m"));
  EXPECT_TRUE(contains(e.text(), "byte 0xff")) << e.what();
  EXPECT_EQ(e.loc().line, 1);
  EXPECT_EQ(e.loc().col, 1);
  // A sequence cut off by the end of the file.
  e = load_error(dir.write("cut.yaml", "model: m\xe4\xb8"));
  EXPECT_TRUE(contains(e.text(), "not a UTF-8 text file")) << e.what();
  EXPECT_EQ(e.loc().col, 9);
}

TEST(YamlReaderTest, BinaryFileWithOverlongOrSurrogateUtf8) {
  // Not UTF-8 either (RFC 3629): an overlong '/' (c0 af), a UTF-16 surrogate (ed a0 80) and a
  // code point above U+10FFFF (f5 80 80 80).
  TempDir dir;
  for (const char* bad : {"\xc0\xaf", "\xed\xa0\x80", "\xf5\x80\x80\x80"}) {
    std::string path = dir.write("bad.yaml", std::string("model: m\ndescription: x") + bad + "\n");
    try {
      read_text_file(path);
      ADD_FAILURE() << "accepted invalid UTF-8 byte 0x" << std::hex
                    << (static_cast<unsigned>(static_cast<unsigned char>(bad[0])));
    } catch (const InputError& e) {
      EXPECT_TRUE(contains(e.text(), "not a UTF-8 text file")) << e.what();
      EXPECT_EQ(e.loc().line, 2);
      EXPECT_EQ(e.loc().col, 15);
    }
  }
}

TEST(YamlReaderTest, MalformedYaml) {
  std::string text = "model: m\ndescription: x\n  time: 1\n";
  InputError e = error_of(text);
  EXPECT_TRUE(contains(e.text(), "malformed YAML")) << e.what();
  EXPECT_EQ(e.loc().line, 3);
  EXPECT_EQ(e.loc().col, 7);
  e = error_of("model: m\ndescription: x\ntime: {start: 2017, end: 2020\nlevers: 1\n");
  EXPECT_TRUE(contains(e.text(), "malformed YAML")) << e.what();
  EXPECT_GE(e.loc().line, 3);
  e = error_of("model: m\ndescription: [a, b\n");
  EXPECT_TRUE(contains(e.text(), "malformed YAML")) << e.what();
  EXPECT_GE(e.loc().line, 2);
}

TEST(YamlReaderTest, NotAMapping) {
  InputError e = error_of("- a\n- b\n");
  EXPECT_TRUE(contains(e.text(), "a model file must be a mapping")) << e.what();
}

// ---- Keys ----------------------------------------------------------------------------

TEST(YamlReaderTest, UnknownTopLevelKey) {
  std::string text = replace(kBase, "time:", "tme:");
  expect_error_at(text, "unknown key 'tme' in the model; did you mean 'time'?", "tme");
  EXPECT_TRUE(contains(error_of(text).text(), "valid keys: 'model', 'description', 'time'"));
  text = replace(kBase, "targets:", "stokcs: {}\ntargets:");
  expect_error_at(text, "unknown key 'stokcs'", "stokcs");
  EXPECT_TRUE(contains(error_of(text).text(), "did you mean 'stocks'?"));
}

TEST(YamlReaderTest, UnknownNodeKey) {
  std::string text = replace(kBase, "    label: funding", "    labl: funding");
  expect_error_at(text, "unknown key 'labl' in lever 'funding'; did you mean 'label'?", "labl");
  text = replace(kBase, "    initial: 40", "    intial: 40");
  expect_error_at(text, "did you mean 'initial'?", "intial");
  // A key valid elsewhere but not for this kind: levers have no formula.
  text = replace(kBase, "    value: 3", "    value: 3\n    formula: 2");
  expect_error_at(text, "unknown key 'formula' in lever 'funding'", "formula");
}

TEST(YamlReaderTest, DidYouMeanCatchesTransposedLetters) {
  // Two swapped letters are the commonest typo; plain Levenshtein counts them as 2 edits,
  // more than the third of a short name that did_you_mean allows.
  InputError e = error_of(replace(kBase, "time:", "tiem:"));
  EXPECT_TRUE(contains(e.text(), "did you mean 'time'?")) << e.what();
  e = error_of(replace(kBase, "    label: funding", "    lable: funding"));
  EXPECT_TRUE(contains(e.text(), "did you mean 'label'?")) << e.what();
  e = error_of(replace(kBase, "{node: firms,", "{node: frims,"));
  EXPECT_TRUE(contains(e.text(), "did you mean 'firms'?")) << e.what();
}

TEST(YamlReaderTest, UnknownKeyOfParameterAndShockReportedAsSuch) {
  // Auxiliaries, stocks and levers report a misspelt key as unknown (with a suggestion);
  // parameters and shocks must too, rather than saying the correct key is missing.
  std::string text = replace(kBase, "    label: yield", "    labl: yield");
  expect_error_at(text, "unknown key 'labl' in parameter 'yield'; did you mean 'label'?", "labl");
  text = replace(kBase, "stocks:\n",
                 "shocks:\n  noise:\n    labl: n\n    unit: u\n    description: d\n"
                 "    dist: normal\n    mean: 0\n    sd: 1\nstocks:\n");
  expect_error_at(text, "unknown key 'labl' in shock 'noise'; did you mean 'label'?", "labl");
}

TEST(YamlReaderTest, DuplicateKey) {
  std::string text = replace(kBase, "    unit: firms\n", "    unit: firms\n    unit: pieces\n");
  expect_error_at(text, "key 'unit' appears twice", "unit: pieces");
}

TEST(YamlReaderTest, WrongTypes) {
  std::string text = replace(kBase, "value: 3", "value: abc");
  expect_error_at(text, "'value' of lever 'funding' must be a finite number, got 'abc'", "abc");
  text = replace(kBase, "value: 3", "value: [1, 2]");
  expect_error_at(text, "'value' of lever 'funding' must be a number, got a list", "[1, 2]");
  text = replace(kBase, "start: 2017", "start: soon");
  expect_error_at(text, "'start' of 'time' must be a finite number, got 'soon'", "soon");
  text = replace(kBase, "    label: firms", "    label: {zh: firms}");
  expect_error_at(text, "'label' of stock 'firms' must be text, got a mapping", "{zh");
  text = replace(kBase, "threshold: 60", "threshold: lots");
  expect_error_at(text, "must be a finite number, got 'lots'", "lots");
  text = "model: m\ndescription: d\ntime: {start: 2017, end: 2020}\nlevers: [funding]\n";
  EXPECT_TRUE(
      contains(error_of(text).text(), "'levers' must be a mapping of keys to values, got a list"))
      << error_of(text).what();
  text = replace(kBase, "time: {start: 2017, end: 2020}", "time: 2017");
  expect_error_at(text, "'time' must be a mapping of keys to values, got '2017'", "2017");
}

// ---- Names in formulas -----------------------------------------------------------------

TEST(YamlReaderTest, UnknownNodeInPlainFormula) {
  std::string text = replace(kBase, "change: yield * funding", "change: yield * fundng");
  expect_error_at(text, "unknown node 'fundng' in stock 'firms'; did you mean 'funding'?",
                  "fundng");
  EXPECT_EQ(error_of(text).loc().col, 21);
}

TEST(YamlReaderTest, UnknownNodeInQuotedFormula) {
  std::string text = replace(kBase, "change: yield * funding", "change: \"yield * fundng\"");
  expect_error_at(text, "unknown node 'fundng'", "fundng");
  EXPECT_EQ(error_of(text).loc().col, 22);
  text = replace(kBase, "change: yield * funding", "change: 'yield * fundng'");
  expect_error_at(text, "did you mean 'funding'?", "fundng");
}

TEST(YamlReaderTest, UnknownNodeInFlowMappingFormula) {
  std::string text = replace(kBase, "stocks:\n",
                             "auxiliaries:\n  rd: {label: r, unit: u, description: d, formula: "
                             "\"2 * (yield + fundng)\"}\nstocks:\n");
  expect_error_at(text, "unknown node 'fundng' in auxiliary 'rd'; did you mean 'funding'?",
                  "fundng");
  text = replace(kBase, "stocks:\n",
                 "auxiliaries:\n  rd: {label: r, unit: u, description: d, formula: 2 * fundng}\n"
                 "stocks:\n");
  expect_error_at(text, "unknown node 'fundng'", "fundng");
}

TEST(YamlReaderTest, UnknownNodeWithoutSuggestion) {
  std::string text = replace(kBase, "change: yield * funding", "change: yield * zzzzzz");
  InputError e = error_of(text);
  EXPECT_TRUE(contains(e.text(), "unknown node 'zzzzzz'")) << e.what();
  EXPECT_FALSE(contains(e.text(), "did you mean")) << e.what();
}

TEST(YamlReaderTest, UnknownNodeInShockParameter) {
  std::string text = replace(kBase, "stocks:\n",
                             "shocks:\n  noise:\n    label: n\n    unit: u\n    description: d\n"
                             "    dist: normal\n    mean: 0\n    sd: 0.1 * yeld\nstocks:\n");
  expect_error_at(text, "unknown node 'yeld' in shock 'noise'; did you mean 'yield'?", "yeld");
}

// ---- Distributions ---------------------------------------------------------------------

/// kBase with the parameter's distribution lines replaced by `dist` (block keys, 4 spaces).
std::string with_dist(const std::string& dist) {
  return replace(kBase, "    dist: uniform\n    min: 2\n    max: 6\n", dist);
}

TEST(YamlReaderTest, NormalSdNegative) {
  std::string text = with_dist("    dist: normal\n    mean: 1\n    sd: -1\n");
  InputError e = error_of(text);
  EXPECT_TRUE(contains(e.text(), "parameter 'yield'")) << e.what();
  EXPECT_TRUE(contains(e.text(), "sd must be >= 0 (got -1)")) << e.what();
  EXPECT_EQ(e.loc().line, line_of(text, "dist: normal"));
}

TEST(YamlReaderTest, UniformMinAboveMax) {
  std::string text = with_dist("    dist: uniform\n    min: 6\n    max: 2\n");
  InputError e = error_of(text);
  EXPECT_TRUE(contains(e.text(), "min must be < max (got min 6, max 2)")) << e.what();
  EXPECT_EQ(e.loc().line, line_of(text, "dist: uniform"));
}

TEST(YamlReaderTest, ProbabilityOutsideUnitInterval) {
  std::string text = with_dist("    dist: bernoulli\n    p: 1.5\n");
  InputError e = error_of(text);
  EXPECT_TRUE(contains(e.text(), "p must be in [0, 1] (got 1.5)")) << e.what();
  EXPECT_EQ(e.loc().line, line_of(text, "dist: bernoulli"));
  text = with_dist("    dist: binomial\n    n: 10\n    p: -0.1\n");
  EXPECT_TRUE(contains(error_of(text).text(), "p must be in [0, 1] (got -0.1)"));
  text = with_dist("    dist: discrete\n    values: [1, 2]\n    probs: [1.5, -0.5]\n");
  expect_error_at(text, "each probability must be in [0, 1] (got 1.5)", "probs");
}

TEST(YamlReaderTest, ModeOutsideRange) {
  std::string text = with_dist("    dist: triangular\n    min: 1\n    mode: 5\n    max: 4\n");
  InputError e = error_of(text);
  EXPECT_TRUE(contains(e.text(), "mode must lie in [min, max] (got mode 5, min 1, max 4)"))
      << e.what();
  EXPECT_EQ(e.loc().line, line_of(text, "dist: triangular"));
  text = with_dist("    dist: pert\n    min: 1\n    mode: 0\n    max: 4\n");
  EXPECT_TRUE(contains(error_of(text).text(), "mode must lie in [min, max]"));
}

TEST(YamlReaderTest, DiscreteProbabilitiesNotSummingToOne) {
  std::string text = with_dist(
      "    dist: discrete\n    values: [1, 2, 3]\n    probs: [0.2, 0.3, "
      "0.4]\n");
  expect_error_at(text, "probabilities must sum to 1 (got 0.9", "probs");
  text = with_dist("    dist: discrete\n    values: [1, 2, 3]\n    probs: [0.5, 0.5]\n");
  expect_error_at(text, "must be non-empty lists of the same length (got 3 and 2)", "probs");
}

TEST(YamlReaderTest, OtherDistributionErrors) {
  InputError e = error_of(with_dist("    dist: gamma\n    shape: 2\n    scale: 1\n    rate: 1\n"));
  EXPECT_TRUE(contains(e.text(), "exactly one of 'scale' or 'rate'")) << e.what();
  e = error_of(with_dist("    dist: lognormal\n    mean: 2\n    sdlog: 1\n"));
  EXPECT_TRUE(contains(e.text(), "either 'meanlog' and 'sdlog' or 'mean' and 'sd'")) << e.what();
  e = error_of(with_dist("    dist: truncnormal\n    mean: 0\n    sd: 1\n"));
  EXPECT_TRUE(contains(e.text(), "needs 'min', 'max' or both")) << e.what();
  e = error_of(with_dist("    dist: normal\n    mean: 1\n"));
  EXPECT_TRUE(contains(e.text(), "needs 'sd'")) << e.what();
  std::string text = with_dist("    dist: normall\n    mean: 1\n    sd: 1\n");
  expect_error_at(text, "unknown distribution 'normall'", "normall");
  EXPECT_TRUE(contains(error_of(text).text(), "did you mean 'normal'?"));
  e = error_of(with_dist("    dist: binomial\n    n: 2.5\n    p: 0.5\n"));
  EXPECT_TRUE(contains(e.text(), "n must be a non-negative integer")) << e.what();
  e = error_of(with_dist("    dist: empirical\n    samples: []\n"));
  EXPECT_TRUE(contains(e.text(), "'samples' needs at least one value")) << e.what();
  // A key of another distribution.
  text = with_dist("    dist: uniform\n    min: 2\n    max: 6\n    sd: 1\n");
  expect_error_at(text, "unknown key 'sd' in parameter 'yield'", "sd: 1");
}

TEST(YamlReaderTest, ShockWithConstantInvalidParameters) {
  std::string text = replace(kBase, "stocks:\n",
                             "shocks:\n  entries:\n    label: e\n    unit: u\n    description: d\n"
                             "    dist: poisson\n    rate: 2 - 5\nstocks:\n");
  InputError e = error_of(text);
  EXPECT_TRUE(contains(e.text(), "shock 'entries'")) << e.what();
  EXPECT_TRUE(contains(e.text(), "rate must be >= 0 (got -3)")) << e.what();
  EXPECT_EQ(e.loc().line, line_of(text, "dist: poisson"));
}

TEST(YamlReaderTest, ParameterDistributionReferencingANode) {
  std::string text = with_dist("    dist: uniform\n    min: funding\n    max: 6\n");
  InputError e = error_of(text);
  EXPECT_TRUE(contains(e.text(), "distribution parameters of a parameter must be numbers"))
      << e.what();
  EXPECT_TRUE(contains(e.text(), "use a shock")) << e.what();
  EXPECT_EQ(e.loc().line, line_of(text, "min: funding"));
  EXPECT_EQ(e.loc().col, col_of(text, "min: funding") + 5);
}

// ---- Correlations ------------------------------------------------------------------------

/// kBase plus parameters a, b, c and a correlation block `corr` (a list, two-space indent).
std::string with_correlations(const std::string& corr) {
  std::string params =
      "  a: {label: a, unit: u, description: d, source: s, dist: normal, mean: 0, sd: 1}\n"
      "  b: {label: b, unit: u, description: d, source: s, dist: normal, mean: 0, sd: 1}\n"
      "  c: {label: c, unit: u, description: d, source: s, dist: normal, mean: 0, sd: 1}\n"
      "stocks:\n";
  std::string text = replace(kBase, "stocks:\n", params);
  return text + "correlations:\n" + corr;
}

TEST(YamlReaderTest, ValidCorrelations) {
  Model m = parse_model(with_correlations("  - parameters: [a, b]\n"
                                          "    matrix: [[1, 0.5], [0.5, 1]]\n"),
                        "t.yaml");
  ASSERT_EQ(m.correlations.size(), 1u);
  EXPECT_EQ(m.correlations[0].parameters, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(m.correlations[0].rank(0, 1), 0.5);
}

TEST(YamlReaderTest, CorrelationMatrixNotSymmetric) {
  std::string text = with_correlations(
      "  - parameters: [a, b]\n"
      "    matrix:\n"
      "      - [1, 0.5]\n"
      "      - [0.3, 1]\n");
  expect_error_at(text,
                  "the correlation matrix must be symmetric: entry (2, 1) is 0.3 but (1, 2) is 0.5",
                  "0.3");
}

TEST(YamlReaderTest, CorrelationDiagonalNotOne) {
  std::string text = with_correlations(
      "  - parameters: [a, b]\n"
      "    matrix:\n"
      "      - [1, 0.5]\n"
      "      - [0.5, 0.9]\n");
  expect_error_at(text, "the diagonal of a correlation matrix must be 1 (row 2 has 0.9)", "0.9");
}

TEST(YamlReaderTest, CorrelationEntryAboveOne) {
  std::string text = with_correlations(
      "  - parameters: [a, b]\n"
      "    matrix:\n"
      "      - [1, 1.2]\n"
      "      - [1.2, 1]\n");
  expect_error_at(text, "correlations must be in [-1, 1] (got 1.2)", "1.2");
}

TEST(YamlReaderTest, CorrelationNotPositiveDefinite) {
  std::string text = with_correlations(
      "  - parameters: [a, b, c]\n"
      "    matrix:\n"
      "      - [1, 0.9, 0.9]\n"
      "      - [0.9, 1, -0.9]\n"
      "      - [0.9, -0.9, 1]\n");
  InputError e = error_of(text);
  EXPECT_TRUE(contains(e.text(), "not positive definite")) << e.what();
  EXPECT_EQ(e.loc().line, line_of(text, "      - [1, 0.9"));
}

TEST(YamlReaderTest, CorrelationOfUnknownOrNonParameter) {
  std::string text = with_correlations("  - parameters: [a, bb]\n    matrix: [[1, 0], [0, 1]]\n");
  expect_error_at(text, "unknown parameter 'bb' in correlations; did you mean", "bb]");
  text = with_correlations("  - parameters: [a, funding]\n    matrix: [[1, 0], [0, 1]]\n");
  expect_error_at(text, "'funding' is a lever; only uncertain parameters", "funding]");
  text = with_correlations(
      "  - parameters: [a, b]\n    matrix: [[1, 0], [0, 1]]\n"
      "  - parameters: [b, c]\n    matrix: [[1, 0], [0, 1]]\n");
  expect_error_at(text, "appears in more than one correlation", "b, c]");
  text = with_correlations("  - parameters: [a, b]\n    matrix: [[1, 0]]\n");
  EXPECT_TRUE(contains(error_of(text).text(), "needs 2 rows"));
}

// ---- Lookups, targets, actuals -------------------------------------------------------------

TEST(YamlReaderTest, LookupWithUnsortedX) {
  std::string text = kBase +
                     "lookups:\n"
                     "  curve: {label: c, unit: u, description: d, source: s, x: [0, 10, 5], "
                     "y: [1, 2, 3]}\n";
  expect_error_at(text, "lookup 'curve': 'x' must be strictly increasing (x[2] = 5 after 10)",
                  "5], y");
  text = replace(text, "x: [0, 10, 5]", "x: [0, 10, 10]");
  EXPECT_TRUE(contains(error_of(text).text(), "strictly increasing"));
  text = replace(text, "x: [0, 10, 10]", "x: [0, 10]");
  EXPECT_TRUE(contains(error_of(text).text(), "same length"));
}

TEST(YamlReaderTest, TargetOnMissingNode) {
  std::string text = replace(kBase, "{node: firms,", "{node: firm,");
  expect_error_at(text, "target 1 is on unknown node 'firm'; did you mean 'firms'?", "firm,");
}

TEST(YamlReaderTest, TargetYearNotOnAxis) {
  std::string text = replace(kBase, "{node: firms,", "{node: firms, year: 2030,");
  expect_error_at(text, "target 1: year 2030 is not on the time axis (2017 to 2020 by 1)", "2030");
  text = replace(kBase, "{node: firms,", "{node: firms, year: 2018.5,");
  expect_error_at(text, "year 2018.5 is not on the time axis", "2018.5");
  text = replace(kBase, "{node: firms,", "{node: firms, year: 2016,");
  expect_error_at(text, "year 2016 is not on the time axis", "2016");
}

TEST(YamlReaderTest, TargetOtherErrors) {
  std::string text = replace(kBase, "op: \">=\"", "op: \"=>\"");
  expect_error_at(text, "unknown comparison '=>'", "\"=>\"");
  text = replace(kBase, ", source: teaching}", "}");
  EXPECT_TRUE(contains(error_of(text).text(), "target 1 needs 'source'"));
  text = kBase + "  - {node: firms, op: \"<\", threshold: 90, label: x, source: y}\n";
  expect_error_at(text, "two targets are named 'firms'", "{node: firms, op: \"<\"");
}

TEST(YamlReaderTest, ActualOnMissingNode) {
  std::string text =
      kBase + "actuals:\n  - {node: firm, year: 2019, value: 55, label: a, source: s}\n";
  expect_error_at(text, "actual 1 is on unknown node 'firm'; did you mean 'firms'?", "firm,");
}

// ---- Nodes -----------------------------------------------------------------------------------

TEST(YamlReaderTest, DuplicateNode) {
  std::string text = replace(kBase, "stocks:\n",
                             "auxiliaries:\n  funding: {label: f, unit: u, description: d, "
                             "formula: 1}\nstocks:\n");
  expect_error_at(text, "node 'funding' is declared twice", "funding: {");
  // Twice in the same section.
  text = replace(kBase, "parameters:\n",
                 "  funding: {label: f, unit: u, description: d, source: s, value: 1}\n"
                 "parameters:\n");
  expect_error_at(text, "node 'funding' is declared twice", "funding: {");
}

TEST(YamlReaderTest, ReservedNodeName) {
  for (const char* name : {"year", "dt", "min", "prev", "lag", "and", "not", "smooth"}) {
    std::string text = replace(kBase, "  yield:\n", std::string("  ") + name + ":\n");
    text = replace(text, "yield * funding", "2");
    InputError e = error_of(text);
    EXPECT_TRUE(contains(e.text(), std::string("node name '") + name + "' is reserved"))
        << e.what();
    EXPECT_EQ(e.loc().line, line_of(text, std::string("  ") + name + ":\n"));
    EXPECT_EQ(e.loc().col, 3);
  }
  std::string text = replace(kBase, "  yield:\n", "  2fast:\n");
  expect_error_at(text, "node name '2fast' is not an identifier", "2fast");
  text = replace(kBase, "model: m", "model: my model");
  expect_error_at(text, "model name 'my model' may hold only", "my model");
}

TEST(YamlReaderTest, MissingLabelUnitDescription) {
  std::string text = replace(kBase, "    label: funding\n", "");
  expect_error_at(text, "lever 'funding' needs 'label'", "unit: 100");  // the node's first key
  text = replace(kBase, "    unit: firms\n", "");
  expect_error_at(text, "stock 'firms' needs 'unit'", "label: firms");
  text = replace(kBase, "    description: certifications per funding\n", "");
  expect_error_at(text, "parameter 'yield' needs 'description'", "label: yield");
  text = replace(kBase, "    label: funding\n", "    label: \"  \"\n");
  expect_error_at(text, "'label' of lever 'funding' is empty", "\"  \"");
  // source: required for levers, parameters and stocks, not for auxiliaries without history.
  text = replace(kBase, "    source: assumption\n    value: 3", "    value: 3");
  expect_error_at(text, "lever 'funding' needs 'source'", "label: funding");
  text = replace(kBase, "stocks:\n",
                 "auxiliaries:\n  h: {label: h, unit: u, description: d, history: {2016: 1}, "
                 "formula: 1}\nstocks:\n");
  EXPECT_TRUE(contains(error_of(text).text(), "auxiliary 'h' needs 'source'"))
      << error_of(text).what();
}

TEST(YamlReaderTest, LeverForms) {
  std::string text = replace(kBase, "    value: 3\n", "    value: 3\n    series: {2017: 1}\n");
  expect_error_at(text, "lever 'funding' needs exactly one of 'value', 'series' or 'growth'",
                  "label: funding");
  text = replace(kBase, "    value: 3\n", "");
  expect_error_at(text, "needs exactly one of", "label: funding");
  text = replace(kBase, "    value: 3\n", "    series: {2018: 1, 2017: 2}\n");
  expect_error_at(text,
                  "years in the series of lever 'funding' must increase (got 2017 after 2018)",
                  "2017: 2");
  text = replace(kBase, "    value: 3\n", "    growth: {initial: 1, rate: -1}\n");
  expect_error_at(text, "rate must be > -1 (got -1)", "rate: -1");
  text = replace(kBase, "    value: 3\n", "    growth: {initial: 1, rat: 0.1}\n");
  expect_error_at(text, "did you mean 'rate'?", "rat:");
}

TEST(YamlReaderTest, TimeAxisErrors) {
  std::string text = replace(kBase, "{start: 2017, end: 2020}", "{start: 2020, end: 2017}");
  expect_error_at(text, "'end' (2017) must be after 'start' (2020)", "end");
  text = replace(kBase, "{start: 2017, end: 2020}", "{start: 2017, end: 2017}");
  expect_error_at(text, "'end' (2017) must be after 'start' (2017)", "end");
  text = replace(kBase, "{start: 2017, end: 2020}", "{start: 2017, end: 2020, step: 0.7}");
  expect_error_at(text, "must be a whole number of steps of 0.7", "0.7}");
  text = replace(kBase, "{start: 2017, end: 2020}", "{start: 2017, end: 2020, step: 0}");
  expect_error_at(text, "'step' must be > 0 years (got 0)", "0}");
  text = replace(kBase, "{start: 2017, end: 2020}", "{start: 2017}");
  EXPECT_TRUE(contains(error_of(text).text(), "'time' needs 'end'"));
}

TEST(YamlReaderTest, HistoryErrors) {
  std::string text =
      replace(kBase, "    initial: 40\n", "    initial: 40\n    history: {2017: 38}\n");
  expect_error_at(text, "history of stock 'firms' must be before the start year 2017 (got 2017)",
                  "2017: 38");
}

TEST(YamlReaderTest, NoNodes) {
  InputError e = error_of("model: m\ndescription: d\ntime: {start: 2017, end: 2020}\n");
  EXPECT_TRUE(contains(e.text(), "the model has no nodes")) << e.what();
}

// ---- Positive cases ------------------------------------------------------------------------

const std::string kAllKinds = R"(model: kinds
description: every node kind
time: {start: 2017, end: 2021, step: 0.5}
stocks:
  firms: {label: 高新技术企业, unit: 家, description: 企业, source: 统计, initial: 50, change: entries}
auxiliaries:
  entries: {label: e, unit: u, description: d, formula: "2 * flat + noise"}
shocks:
  noise: {label: n, unit: u, description: d, dist: poisson, rate: "1 + flat"}
parameters:
  ln_by_value: {label: p, unit: u, description: d, source: s, dist: lognormal, mean: 2, sd: 0.5}
  ln_by_log: {label: p, unit: u, description: d, source: s, dist: lognormal, meanlog: 0.1, sdlog: 0.2}
  gam_rate: {label: p, unit: u, description: d, source: s, dist: gamma, shape: 2, rate: 0.5}
  gam_scale: {label: p, unit: u, description: d, source: s, dist: gamma, shape: 3, scale: 4}
  nrm: {label: p, unit: u, description: d, source: s, dist: normal, mean: 0.08, sd: 0.02}
  uni: {label: p, unit: u, description: d, source: s, dist: uniform, min: 1, max: 3}
  tri: {label: p, unit: u, description: d, source: s, dist: triangular, min: 1, mode: 2, max: 4}
  prt: {label: p, unit: u, description: d, source: s, dist: pert, min: 1, mode: 2, max: 4}
  bet: {label: p, unit: u, description: d, source: s, dist: beta, alpha: 2, beta: 5}
  tn: {label: p, unit: u, description: d, source: s, dist: truncnormal, mean: 1, sd: 1, min: 0}
  dis: {label: p, unit: u, description: d, source: s, dist: discrete, values: [3, 1, 2], probs: [0.2, 0.5, 0.3]}
  emp: {label: p, unit: u, description: d, source: s, dist: empirical, samples: [3.1, 2.7, 3.4]}
  poi: {label: p, unit: u, description: d, source: s, dist: poisson, rate: 4}
  bin: {label: p, unit: u, description: d, source: s, dist: binomial, n: 20, p: 0.4}
  ber: {label: p, unit: u, description: d, source: s, dist: bernoulli, p: 0.3}
  fix: {label: p, unit: u, description: d, source: s, value: 7}
levers:
  flat: {label: 财政科技投入 (fiscal S&T funding), unit: 亿元, description: d, source: s, value: 3.2}
  plan: {label: l, unit: u, description: d, source: s, series: {2017: 3.2, 2018: 3.5, 2020: 4.0}}
  grow: {label: l, unit: u, description: d, source: s, growth: {initial: 3.2, rate: 0.08}}
lookups:
  curve: {label: c, unit: u, description: d, source: s, x: [0, 10], y: [1, 2]}
targets:
  - {node: firms, op: ">=", threshold: 75, label: 75家, source: 规划}
  - {name: early, node: firms, year: 2019.5, op: "<", threshold: 70, label: l, source: s}
  - {name: le, node: firms, op: "<=", threshold: 1, label: l, source: s}
  - {name: gt, node: firms, op: ">", threshold: 1, label: l, source: s}
actuals:
  - {node: firms, value: 80, label: a, source: s}
)";

TEST(YamlReaderTest, SectionsAreReadInKindOrder) {
  Model m = parse_model(kAllKinds, "kinds.yaml");
  // levers, parameters, shocks, auxiliaries, stocks, whatever the file order.
  ASSERT_EQ(m.nodes.size(), 3u + 16u + 1u + 1u + 1u);
  EXPECT_EQ(m.nodes[0].name, "flat");
  EXPECT_EQ(m.nodes[2].name, "grow");
  EXPECT_EQ(m.nodes[3].name, "ln_by_value");
  EXPECT_EQ(m.nodes[18].name, "fix");
  EXPECT_EQ(m.nodes[19].name, "noise");
  EXPECT_EQ(m.nodes[20].name, "entries");
  EXPECT_EQ(m.nodes[21].name, "firms");
  EXPECT_EQ(m.node_index.at("firms"), 21);
  EXPECT_EQ(m.nodes[19].kind, NodeKind::kShock);
  EXPECT_EQ(m.nodes[20].kind, NodeKind::kAuxiliary);
  EXPECT_EQ(m.nodes[21].kind, NodeKind::kStock);
  for (const auto& n : m.nodes) EXPECT_EQ(n.id, stable_id(n.name)) << n.name;
  // Node locations are the name keys.
  EXPECT_EQ(m.nodes[21].loc.line, line_of(kAllKinds, "  firms:"));
  EXPECT_EQ(m.nodes[21].loc.col, 3);
  EXPECT_NO_THROW(build_graph(m));
}

TEST(YamlReaderTest, TimeAndModelFields) {
  Model m = parse_model(kAllKinds, "kinds.yaml");
  EXPECT_EQ(m.name, "kinds");
  EXPECT_EQ(m.description, "every node kind");
  EXPECT_EQ(m.path, "kinds.yaml");
  EXPECT_EQ(m.source_text, kAllKinds);
  EXPECT_EQ(m.time.start, 2017);
  EXPECT_EQ(m.time.end, 2021);
  EXPECT_EQ(m.time.step, 0.5);
  EXPECT_EQ(m.time.steps(), 9);
}

TEST(YamlReaderTest, LeverFormsParse) {
  Model m = parse_model(kAllKinds, "kinds.yaml");
  const Node& flat = *m.find("flat");
  EXPECT_EQ(flat.kind, NodeKind::kLever);
  EXPECT_EQ(flat.lever.form, LeverRule::Form::kConstant);
  EXPECT_EQ(flat.lever.value, 3.2);
  const Node& plan = *m.find("plan");
  EXPECT_EQ(plan.lever.form, LeverRule::Form::kSeries);
  ASSERT_EQ(plan.lever.series.size(), 3u);
  EXPECT_EQ(plan.lever.series[2], (std::pair<double, double>{2020, 4.0}));
  EXPECT_DOUBLE_EQ(plan.lever.at(2019, 2017), 3.75);
  EXPECT_DOUBLE_EQ(plan.lever.at(2016, 2017), 3.2);
  EXPECT_DOUBLE_EQ(plan.lever.at(2021, 2017), 4.0);
  const Node& grow = *m.find("grow");
  EXPECT_EQ(grow.lever.form, LeverRule::Form::kGrowth);
  EXPECT_EQ(grow.lever.initial, 3.2);
  EXPECT_EQ(grow.lever.rate, 0.08);
  EXPECT_DOUBLE_EQ(grow.lever.at(2019, 2017), 3.2 * 1.08 * 1.08);
}

TEST(YamlReaderTest, DistributionsInCanonicalParameters) {
  Model m = parse_model(kAllKinds, "kinds.yaml");
  auto p = [&](const char* name) { return m.find(name)->dist.p; };
  auto kind = [&](const char* name) { return m.find(name)->dist.kind; };
  // lognormal by mean and sd of the value: sdlog^2 = ln(1 + sd^2 / mean^2).
  const double var_log = std::log(1 + 0.25 / 4);
  EXPECT_EQ(kind("ln_by_value"), DistKind::kLogNormal);
  ASSERT_EQ(p("ln_by_value").size(), 2u);
  EXPECT_NEAR(p("ln_by_value")[0], std::log(2.0) - var_log / 2, 1e-14);
  EXPECT_NEAR(p("ln_by_value")[1], std::sqrt(var_log), 1e-14);
  EXPECT_EQ(p("ln_by_log"), (std::vector<double>{0.1, 0.2}));
  // gamma: rate becomes scale = 1 / rate.
  EXPECT_EQ(kind("gam_rate"), DistKind::kGamma);
  EXPECT_EQ(p("gam_rate"), (std::vector<double>{2, 2}));
  EXPECT_EQ(p("gam_scale"), (std::vector<double>{3, 4}));
  EXPECT_EQ(p("nrm"), (std::vector<double>{0.08, 0.02}));
  EXPECT_EQ(p("uni"), (std::vector<double>{1, 3}));
  EXPECT_EQ(p("tri"), (std::vector<double>{1, 2, 4}));
  EXPECT_EQ(kind("prt"), DistKind::kPert);
  EXPECT_EQ(p("prt"), (std::vector<double>{1, 2, 4, 4}));  // lambda 4 by default
  EXPECT_EQ(p("bet"), (std::vector<double>{2, 5, 0, 1}));  // on [0, 1] by default
  const auto tn = p("tn");
  ASSERT_EQ(tn.size(), 4u);
  EXPECT_EQ(tn[2], 0);
  EXPECT_EQ(tn[3], std::numeric_limits<double>::infinity());
  EXPECT_EQ(p("poi"), (std::vector<double>{4}));
  EXPECT_EQ(p("bin"), (std::vector<double>{20, 0.4}));
  EXPECT_EQ(kind("ber"), DistKind::kBernoulli);
  EXPECT_EQ(p("ber"), (std::vector<double>{0.3}));
  // discrete: sorted by value, cumulative probabilities ending at exactly 1.
  const DistTable& dis = m.find("dis")->dist.table;
  EXPECT_EQ(kind("dis"), DistKind::kDiscrete);
  EXPECT_EQ(dis.values, (std::vector<double>{1, 2, 3}));
  ASSERT_EQ(dis.cumulative.size(), 3u);
  EXPECT_DOUBLE_EQ(dis.cumulative[0], 0.5);
  EXPECT_DOUBLE_EQ(dis.cumulative[1], 0.8);
  EXPECT_EQ(dis.cumulative[2], 1.0);
  const DistTable& emp = m.find("emp")->dist.table;
  EXPECT_EQ(emp.values, (std::vector<double>{2.7, 3.1, 3.4}));
  EXPECT_TRUE(emp.cumulative.empty());
  // fixed parameter.
  const Node& fix = *m.find("fix");
  EXPECT_TRUE(fix.dist.fixed);
  EXPECT_EQ(fix.dist.fixed_value, 7);
  EXPECT_FALSE(m.find("nrm")->dist.fixed);
}

TEST(YamlReaderTest, ShockParametersAreExpressions) {
  Model m = parse_model(kAllKinds, "kinds.yaml");
  const Node& noise = *m.find("noise");
  EXPECT_EQ(noise.kind, NodeKind::kShock);
  EXPECT_EQ(noise.dist.kind, DistKind::kPoisson);
  ASSERT_EQ(noise.dist.p_expr.size(), 1u);
  EXPECT_EQ(noise.dist.p_expr[0]->op, Op::kAdd);
  EXPECT_TRUE(noise.source.empty());
  const Node& entries = *m.find("entries");
  ASSERT_TRUE(entries.formula);
  EXPECT_EQ(entries.formula->op, Op::kAdd);
  const Node& firms = *m.find("firms");
  ASSERT_TRUE(firms.initial && firms.change);
  EXPECT_EQ(firms.initial->number, 50);
  EXPECT_EQ(firms.change->kind, Expr::Kind::kRef);
  EXPECT_EQ(firms.change->name, "entries");
}

TEST(YamlReaderTest, ChineseLabelsRoundTripAsUtf8) {
  Model m = parse_model(kAllKinds, "kinds.yaml");
  EXPECT_EQ(m.find("flat")->label,
            "\xe8\xb4\xa2\xe6\x94\xbf\xe7\xa7\x91\xe6\x8a\x80\xe6\x8a\x95\xe5\x85\xa5 (fiscal S&T "
            "funding)");
  EXPECT_EQ(m.find("flat")->unit, "\xe4\xba\xbf\xe5\x85\x83");  // 亿元
  EXPECT_EQ(m.find("firms")->label, "高新技术企业");
  EXPECT_EQ(m.find("firms")->source, "统计");
  EXPECT_EQ(m.targets[0].label, "75家");
  EXPECT_EQ(m.targets[0].source, "规划");
  // The same through a file on disk.
  TempDir dir;
  Model f = load_model(dir.write("zh.yaml", kAllKinds));
  EXPECT_EQ(f.find("firms")->label, "高新技术企业");
}

TEST(YamlReaderTest, TargetsAndActuals) {
  Model m = parse_model(kAllKinds, "kinds.yaml");
  ASSERT_EQ(m.targets.size(), 4u);
  EXPECT_EQ(m.targets[0].name, "firms");  // defaults to the node name
  EXPECT_EQ(m.targets[0].node, "firms");
  EXPECT_EQ(m.targets[0].year, 2021);  // defaults to the end year
  EXPECT_EQ(m.targets[0].op, Cmp::kGe);
  EXPECT_EQ(m.targets[0].threshold, 75);
  EXPECT_EQ(m.targets[1].name, "early");
  EXPECT_EQ(m.targets[1].year, 2019.5);
  EXPECT_EQ(m.targets[1].op, Cmp::kLt);
  EXPECT_EQ(m.targets[2].op, Cmp::kLe);
  EXPECT_EQ(m.targets[3].op, Cmp::kGt);
  EXPECT_EQ(m.targets[1].loc.line, line_of(kAllKinds, "  - {name: early"));
  ASSERT_EQ(m.actuals.size(), 1u);
  EXPECT_EQ(m.actuals[0].year, 2021);
  EXPECT_EQ(m.actuals[0].value, 80);
}

TEST(YamlReaderTest, HistoryParses) {
  std::string text =
      replace(kBase, "    initial: 40\n", "    initial: 40\n    history: {2015: 30.5, 2016: 35}\n");
  Model m = parse_model(text, "t.yaml");
  EXPECT_EQ(m.find("firms")->history, (std::map<double, double>{{2015, 30.5}, {2016, 35}}));
}

TEST(YamlReaderTest, LookupParses) {
  Model m = parse_model(kAllKinds, "kinds.yaml");
  ASSERT_EQ(m.lookups.size(), 1u);
  EXPECT_EQ(m.lookup_index.at("curve"), 0);
  EXPECT_EQ(m.lookups[0].x, (std::vector<double>{0, 10}));
  EXPECT_DOUBLE_EQ(m.lookups[0].at(5), 1.5);
}

TEST(YamlReaderTest, ReadTextFileReturnsTheBytes) {
  TempDir dir;
  std::string text = "model: m # 注释\n";
  EXPECT_EQ(read_text_file(dir.write("x.yaml", text)), text);
}

}  // namespace
}  // namespace attain

namespace attain {
namespace {

/// A model whose lines end in a lone CR (old Mac style) reads like the LF original.
TEST(YamlReaderTest, CarriageReturnOnlyLineBreaks) {
  std::string cr = kBase;
  std::replace(cr.begin(), cr.end(), '\n', '\r');
  Model m = parse_model(cr, "cr.yaml");
  EXPECT_EQ(m.nodes.size(), 3u);
  EXPECT_EQ(m.source_text, cr);
  InputError e = error_of(replace(replace(kBase, "value: 3", "value: x3"), "\n", "\n"));
  std::string bad = replace(kBase, "value: 3", "value: x3");
  std::replace(bad.begin(), bad.end(), '\n', '\r');
  try {
    parse_model(bad, "cr.yaml");
    FAIL() << "no error";
  } catch (const InputError& err) {
    EXPECT_EQ(err.loc().line, e.loc().line) << err.what();
    EXPECT_EQ(err.loc().col, e.loc().col) << err.what();
  }
}

/// Nesting beyond yaml-cpp's recursion guard is named as such, not "bad file".
TEST(YamlReaderTest, DeepNestingIsNamed) {
  for (int depth : {600, 5000}) {
    std::string text = "model: " + std::string(depth, '[') + std::string(depth, ']') + "\n";
    InputError e = error_of(text);
    EXPECT_TRUE(contains(e.text(), "nest too deeply")) << e.what();
    EXPECT_FALSE(contains(e.text(), "bad file")) << e.what();
    EXPECT_EQ(e.loc().line, 1);
  }
}

// ---- Hints for common YAML mistakes -----------------------------------------------------

TEST(YamlReaderTest, TabInIndentationIsNamed) {
  // A tab before a key, at the key's place in a block mapping.
  std::string text = replace(kBase, "    unit: firms\n", "\tunit: firms\n");
  expect_error_at(text, "a tab in the indentation; YAML indents with spaces only", "\tunit");
  EXPECT_TRUE(contains(error_of(text).text(), "malformed YAML")) << error_of(text).text();
  // After spaces, and at the top level.
  text = replace(kBase, "    unit: firms\n", "  \tunit: firms\n");
  expect_error_at(text, "a tab in the indentation", "\tunit");
  text = replace(kBase, "description: a test model", "\tdescription: a test model");
  expect_error_at(text, "a tab in the indentation", "\tdescription");
  // A tab after the indentation (between a key and its value) is no mistake.
  EXPECT_NO_THROW(parse_model(replace(kBase, "    value: 3", "    value:\t3"), "t.yaml"));
}

TEST(YamlReaderTest, UnquotedComparisonIsNamed) {
  const std::string block = replace(kBase,
                                    "  - {node: firms, op: \">=\", threshold: 60, label: 60 firms, "
                                    "source: teaching}",
                                    "  - node: firms\n    op: >=\n    threshold: 60\n    label: "
                                    "60 firms\n    source: teaching");
  expect_error_at(block, "quote the comparison, op: \">=\"", ">=");
  // In a flow mapping.
  const std::string flow = replace(kBase, "op: \">=\"", "op: >=");
  expect_error_at(flow, "quote the comparison, op: \">=\"", ">=");
  // A lone '>' is an empty folded block: the reader sees an empty 'op'.
  const std::string lone = replace(block, "op: >=", "op: >");
  expect_error_at(lone, "'op' is empty; an unquoted '>' starts a folded block", ">\n    threshold");
  // '<=' needs no quotes in YAML.
  EXPECT_NO_THROW(parse_model(replace(block, "op: >=", "op: <="), "t.yaml"));
}

TEST(YamlReaderTest, PercentSignInNumberIsNamed) {
  std::string text = replace(kBase, "threshold: 60", "threshold: 2.5%");
  expect_error_at(text,
                  "write it without '%', in the unit of its node (2.5 when the unit is '%', "
                  "or 0.025 for a share)",
                  "2.5%");
  // In an expression (a parameter's bounds are expressions too).
  text = replace(kBase, "    min: 2\n", "    min: 20%\n");
  expect_error_at(text, "'%' is not an operator; write a percentage as a plain number", "%");
  text = replace(kBase, "initial: 40", "initial: 40%");
  expect_error_at(text, "'%' is not an operator; write a percentage as a plain number", "%");
}

}  // namespace
}  // namespace attain
