// Tests of limits and non-finite values: bounded expressions, NaN that must not hide.
#include <gtest/gtest.h>

#include <string>

#include "attain/ensemble.hpp"
#include "attain/graph.hpp"
#include "attain/program.hpp"
#include "attain/yaml_reader.hpp"

namespace attain {
namespace {

std::string model_with(const std::string& formula) {
  return "model: t\ndescription: d\ntime: {start: 2017, end: 2019}\nparameters:\n"
         "  g: {label: g, unit: '1', description: d, source: s, dist: uniform, min: 0.5, max: 1}\n"
         "auxiliaries:\n  y: {label: y, unit: '1', description: d, formula: '" +
         formula + "'}\n";
}

std::string check_error(const std::string& text) {
  try {
    Model m = parse_model(text, "t.yaml");
    build_graph(m);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

void run(const std::string& text, std::uint64_t runs = 500) {
  Model m = parse_model(text, "t.yaml");
  Program p = compile(m, build_graph(m));
  EnsembleOptions o;
  o.runs = runs;
  o.threads = 2;
  run_ensemble(p, o, nullptr);
}

TEST(RobustnessTest, DeepOrLongExpressionsAreErrorsNotCrashes) {
  EXPECT_NE(check_error(model_with(std::string(5000, '(') + "1" + std::string(5000, ')')))
                .find("nested too deeply"),
            std::string::npos);
  std::string chain = "g";
  for (int i = 0; i < 30000; ++i) chain += "+g";
  EXPECT_NE(check_error(model_with(chain)).find("expression too long"), std::string::npos);
  std::string ok = "g";
  for (int i = 0; i < 1000; ++i) ok += "+g";
  EXPECT_EQ(check_error(model_with(ok)), "");
}

TEST(RobustnessTest, ConstantNonFiniteValuesAreFoundByCheck) {
  EXPECT_NE(check_error(model_with("max(0, 0/0)")).find("t.yaml:7:"), std::string::npos);
  EXPECT_NE(check_error(model_with("max(0, 0/0)")).find("always NaN"), std::string::npos);
  EXPECT_NE(check_error(model_with("1e999")).find("out of the range"), std::string::npos);
  EXPECT_NE(check_error(model_with("smooth(g, 0)")).find("time constant > 0"), std::string::npos);
  EXPECT_NE(check_error(model_with("pulse(1, 2018, -1)")).find("width > 0"), std::string::npos);
}

TEST(RobustnessTest, NaNCannotHideBehindComparisonsOrMinMax) {
  for (const char* f : {"if(ln(-g) > 0, 1, 2)", "min(1, ln(-g))", "max(0, sqrt(-g))",
                        "clamp(ln(-g), 0, 1)", "not (0 * ln(-g))"}) {
    SCOPED_TRACE(f);
    EXPECT_THROW(run(model_with(f)), RunError);
  }
}

TEST(RobustnessTest, GuardedBranchesStillWork) {
  // Both branches are computed for every run; only the chosen one must be finite.
  EXPECT_NO_THROW(run(model_with("if(g > 2, ln(-g), 1)")));
  EXPECT_NO_THROW(run(model_with("if(g - 0.75 > 0, ln(g - 0.75), 0)")));
}

TEST(RobustnessTest, RunErrorNamesTheLowestFailingRunWhateverTheBlockSize) {
  Model m = parse_model(model_with("if(g > 0.98 and year == 2019, ln(-g), 0)"), "t.yaml");
  Program p = compile(m, build_graph(m));
  std::uint64_t first = 0;
  for (int block : {1, 7, 64, 256, 4096}) {
    EnsembleOptions o;
    o.runs = 20000;
    o.block = block;
    o.threads = 2;
    try {
      run_ensemble(p, o, nullptr);
      FAIL() << "expected a RunError";
    } catch (const RunError& e) {
      if (block == 1) first = e.run();
      EXPECT_EQ(e.run(), first) << "block " << block;
    }
  }
}

TEST(RobustnessTest, SmoothAndRampEdgeCases) {
  Model m = parse_model(model_with("ramp(1, 2019, 2018) + smooth(g, 2 * g - 2)"), "t.yaml");
  Program p = compile(m, build_graph(m));
  // tau = 2g - 2 < 0 at run time: an error naming the node, not a diverging value.
  EXPECT_THROW(replay_run(p, 1, 0), RunError);
  Model m2 = parse_model(model_with("ramp(1, 2019, 2018)"), "t.yaml");
  Program p2 = compile(m2, build_graph(m2));
  auto v = replay_run(p2, 1, 0);
  for (const auto& step : v) EXPECT_EQ(step[1], 0.0);
}

}  // namespace
}  // namespace attain
