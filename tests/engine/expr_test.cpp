// GoogleTest: expression parser and evaluator against hand-computed values and parse errors.
#include "attain/expr.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numbers>
#include <string>
#include <vector>

#include "attain/diagnostics.hpp"
#include "attain/ensemble.hpp"
#include "attain/graph.hpp"
#include "attain/program.hpp"
#include "attain/yaml_reader.hpp"

#ifndef ATTAIN_TEST_DATA
#define ATTAIN_TEST_DATA "tests/data"  // standalone builds run from the repository root
#endif

namespace attain {
namespace {

/// Header of every test model: a 2017..2021 yearly axis unless `time` says otherwise.
std::string header(const std::string& time = "{start: 2017, end: 2021}") {
  return "model: t\ndescription: expression test\ntime: " + time + "\n";
}

/// Levers and lookups shared by the evaluation tests.
/// k = 1 (so `2.5 * k` is not folded at compile time), x = 1, 2, 3, 4, 5 over 2017..2021.
const char* kCommon = R"(levers:
  k: {label: k, unit: "1", description: one, source: s, value: 1}
  x: {label: x, unit: "1", description: ramp, source: s, series: {2017: 1, 2021: 5}}
  g: {label: g, unit: "1", description: growth, source: s, growth: {initial: 100, rate: 0.1}}
parameters:
  fixed: {label: f, unit: "1", description: fixed, source: s, value: 7}
lookups:
  tbl: {label: t, unit: "1", description: table, source: s, x: [0, 10, 20], y: [0, 5, 3]}
)";

/// Every node's value at every step of run 0, seed 1.
struct Evaluated {
  Model model;
  std::vector<std::vector<double>> values;
  std::vector<double> series(const std::string& node) const {
    int i = model.node_index.at(node);
    std::vector<double> out;
    for (const auto& step : values) out.push_back(step[static_cast<std::size_t>(i)]);
    return out;
  }
};

Evaluated evaluate_text(const std::string& text) {
  Evaluated e;
  e.model = parse_model(text, "t.yaml");
  DependencyGraph g = build_graph(e.model);
  Program p = compile(e.model, g);
  e.values = replay_run(p, 1, 0);
  return e;
}

/// The series of auxiliary `v = formula` over the time axis.
std::vector<double> series_of(const std::string& formula, const std::string& extra = "",
                              const std::string& time = "{start: 2017, end: 2021}") {
  std::string text = header(time) + kCommon + extra +
                     "auxiliaries:\n  v: {label: v, unit: \"1\", " +
                     "description: value, formula: \"" + formula + "\"}\n";
  return evaluate_text(text).series("v");
}

/// The value of `formula` at the first step.
double eval(const std::string& formula) {
  return series_of(formula).at(0);
}

/// The InputError that parsing a model with auxiliary `v: formula` throws; the formula is
/// a plain scalar on line 9 starting at column 14.
InputError parse_error(const std::string& formula) {
  std::string text = header() +
                     "levers:\n"
                     "  a: {label: a, unit: \"1\", description: a, source: s, value: 1}\n"
                     "  b: {label: b, unit: \"1\", description: b, source: s, value: 2}\n"
                     "auxiliaries:\n"
                     "  v:\n"
                     "    formula: " +
                     formula +
                     "\n"
                     "    label: v\n"
                     "    unit: \"1\"\n"
                     "    description: value\n";
  try {
    Model m = parse_model(text, "t.yaml");
    build_graph(m);
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for formula '" << formula << "'";
  return InputError({"", 0, 0}, "none");
}
constexpr int kFormulaLine = 9;
constexpr int kFormulaCol = 14;

TEST(ExprTest, ArithmeticPrecedence) {
  EXPECT_DOUBLE_EQ(eval("1 + 2 * 3"), 7);
  EXPECT_DOUBLE_EQ(eval("(1 + 2) * 3"), 9);
  EXPECT_DOUBLE_EQ(eval("10 - 4 - 3"), 3);  // left-associative
  EXPECT_DOUBLE_EQ(eval("24 / 4 / 2"), 3);
  EXPECT_DOUBLE_EQ(eval("2 * 3 ^ 2"), 18);
  EXPECT_DOUBLE_EQ(eval("2 * -3"), -6);
}

TEST(ExprTest, PowerIsRightAssociativeAndBindsTighterThanUnaryMinus) {
  EXPECT_DOUBLE_EQ(eval("-2^2"), -4);
  EXPECT_DOUBLE_EQ(eval("2^3^2"), 512);
  EXPECT_DOUBLE_EQ(eval("2^-1"), 0.5);
  EXPECT_DOUBLE_EQ(eval("(-2)^2"), 4);
  // The same with run-time operands (no constant folding).
  EXPECT_DOUBLE_EQ(eval("-(2 * k)^2"), -4);
  EXPECT_DOUBLE_EQ(eval("-2 * k^2"), -2);
  EXPECT_DOUBLE_EQ(eval("(2 * k)^3^2"), 512);
}

TEST(ExprTest, Numbers) {
  EXPECT_DOUBLE_EQ(eval("1.5"), 1.5);
  EXPECT_DOUBLE_EQ(eval("2e-3"), 0.002);
  EXPECT_DOUBLE_EQ(eval("1.5E2"), 150);
  EXPECT_DOUBLE_EQ(eval(".5"), 0.5);
}

TEST(ExprTest, ComparisonsGiveOneOrZero) {
  EXPECT_EQ(eval("3 < 4"), 1);
  EXPECT_EQ(eval("4 < 4"), 0);
  EXPECT_EQ(eval("4 <= 4"), 1);
  EXPECT_EQ(eval("5 > 6"), 0);
  EXPECT_EQ(eval("6 >= 6"), 1);
  EXPECT_EQ(eval("2 == 2"), 1);
  EXPECT_EQ(eval("2 != 2"), 0);
  EXPECT_EQ(eval("1 + 1 == 2"), 1);  // comparisons bind looser than +
  // Run-time operands.
  EXPECT_EQ(eval("k < 2"), 1);
  EXPECT_EQ(eval("k > 2"), 0);
  EXPECT_EQ(eval("k == 1"), 1);
  EXPECT_EQ(eval("k != 1"), 0);
  EXPECT_EQ(eval("k <= 0"), 0);
  EXPECT_EQ(eval("k >= 1"), 1);
}

TEST(ExprTest, LogicPrecedenceOrAndNot) {
  EXPECT_EQ(eval("1 or 1 and 0"), 1);  // and binds tighter than or
  EXPECT_EQ(eval("(1 or 1) and 0"), 0);
  EXPECT_EQ(eval("not 0"), 1);
  EXPECT_EQ(eval("not 2"), 0);        // non-zero is true
  EXPECT_EQ(eval("not 1 == 2"), 1);   // not binds looser than comparisons
  EXPECT_EQ(eval("not 0 and 0"), 0);  // not binds tighter than and
  EXPECT_EQ(eval("0.5 and -1"), 1);
  EXPECT_EQ(eval("0 or 0"), 0);
  EXPECT_EQ(eval("k and 0"), 0);
  EXPECT_EQ(eval("k or 0"), 1);
  EXPECT_EQ(eval("not k"), 0);
}

TEST(ExprTest, IfChoosesByTruth) {
  EXPECT_EQ(eval("if(1 > 0, 10, 20)"), 10);
  EXPECT_EQ(eval("if(0, 10, 20)"), 20);
  EXPECT_EQ(eval("if(-0.5, 1, 2)"), 1);
  EXPECT_EQ(series_of("if(year >= 2019, x, -x)"), (std::vector<double>{-1, -2, 3, 4, 5}));
}

TEST(ExprTest, FunctionsOfTheTable) {
  struct Case {
    const char* formula;
    double expected;
  };
  const Case cases[] = {
      {"min(3, 1, 2)", 1},
      {"min(4, 2)", 2},
      {"min(5, 4, 3, 2, 6)", 2},
      {"max(3, 7, 2, 5)", 7},
      {"max(-1, -2)", -1},
      {"abs(-3.5)", 3.5},
      {"abs(2)", 2},
      {"exp(1)", std::numbers::e},
      {"exp(0)", 1},
      {"ln(exp(2))", 2},
      {"log10(1000)", 3},
      {"sqrt(16)", 4},
      {"sin(0)", 0},
      {"sin(1.5707963267948966)", 1},
      {"sin(-1.5707963267948966)", -1},
      {"sin(3.141592653589793)", 0},
      {"cos(0)", 1},
      {"cos(3.141592653589793)", -1},
      {"cos(-3.141592653589793)", -1},
      {"cos(1.5707963267948966)", 0},
      {"pow(2, 10)", 1024},
      {"pow(9, 0.5)", 3},
      {"floor(2.7)", 2},
      {"floor(-1.5)", -2},
      {"ceil(2.1)", 3},
      {"ceil(-1.5)", -1},
      {"round(2.5)", 3},
      {"round(-2.5)", -3},
      {"round(2.4)", 2},
      {"round(-0.5)", -1},
      {"clamp(7, 0, 5)", 5},
      {"clamp(-1, 0, 5)", 0},
      {"clamp(3, 0, 5)", 3},
  };
  for (const auto& c : cases) {
    // Folded at compile time, and evaluated at run time through the lever k = 1.
    EXPECT_NEAR(eval(c.formula), c.expected, 1e-12) << c.formula;
    // "f(a, ...)" -> "f(k * a, ...)": the same value, computed at run time.
    std::string runtime = std::string(c.formula);
    runtime.replace(runtime.find('('), 1, "(k * ");
    EXPECT_NEAR(eval(runtime), c.expected, 1e-12) << runtime;
  }
}

/// std::sin and std::cos of a value the compiler cannot fold (its folding may round
/// differently from the C library that the engine calls).
double libm_sin(double x) {
  volatile double v = x;
  return std::sin(v);
}
double libm_cos(double x) {
  volatile double v = x;
  return std::cos(v);
}

/// The shortest text that reads back as `x`, for a formula.
std::string literal(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  EXPECT_EQ(std::strtod(buf, nullptr), x) << buf;
  return buf;
}

TEST(ExprTest, SinAndCosInRadians) {
  const double pi = std::numbers::pi;
  // Exact values of the C library at these points.
  EXPECT_EQ(eval("sin(0)"), 0.0);
  EXPECT_EQ(eval("cos(0)"), 1.0);
  EXPECT_EQ(eval("sin(k * 0)"), 0.0);
  EXPECT_EQ(eval("cos(k * 0)"), 1.0);
  EXPECT_EQ(eval("sin(" + literal(pi / 2) + ")"), 1.0);
  EXPECT_EQ(eval("cos(" + literal(pi) + ")"), -1.0);
  // sin(pi) is the rounding error of pi, about 1.22e-16, not 0.
  EXPECT_NEAR(eval("sin(" + literal(pi) + ")"), 0.0, 1e-15);
  EXPECT_GT(eval("sin(" + literal(pi) + ")"), 0.0);
  // Odd and even.
  EXPECT_EQ(eval("sin(-0.5)"), -eval("sin(0.5)"));
  EXPECT_EQ(eval("cos(-0.5)"), eval("cos(0.5)"));
  EXPECT_NEAR(eval("sin(x)^2 + cos(x)^2"), 1.0, 1e-15);
  EXPECT_NEAR(eval("sin(1) / cos(1)"), std::tan(1.0), 1e-15);
  // Folded at compile time (a constant argument) and computed at run time (through the
  // lever k = 1): both give the C library's value bit for bit, large arguments included.
  for (double v : {0.0, -0.0, 0.5, -0.5, 1.0, pi / 2, pi, -pi, 2 * pi, 3.0, -7.25, 100.0, 1e6, -1e6,
                   1e15, 1e22, 1e300, 5e-324}) {
    const std::string a = literal(v);
    EXPECT_EQ(eval("sin(" + a + ")"), libm_sin(v)) << "sin(" << a << ")";
    EXPECT_EQ(eval("cos(" + a + ")"), libm_cos(v)) << "cos(" << a << ")";
    EXPECT_EQ(eval("sin(k * " + a + ")"), libm_sin(v)) << "sin(k * " << a << ")";
    EXPECT_EQ(eval("cos(k * " + a + ")"), libm_cos(v)) << "cos(k * " << a << ")";
    EXPECT_EQ(apply_scalar(Op::kSin, &v, 1), libm_sin(v)) << a;
    EXPECT_EQ(apply_scalar(Op::kCos, &v, 1), libm_cos(v)) << a;
  }
  // Over time: x = 1..5 from a lever.
  std::vector<double> s = series_of("sin(x)"), c = series_of("cos(x)");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(s[static_cast<std::size_t>(i)], libm_sin(i + 1.0)) << i;
    EXPECT_EQ(c[static_cast<std::size_t>(i)], libm_cos(i + 1.0)) << i;
  }
}

TEST(ExprTest, SinAndCosOverABlockMatchTheCLibraryBitForBit) {
  // Uniform arguments of several magnitudes, computed on whole blocks (and a short tail
  // block) by Program::evaluate: every lane equals std::sin / std::cos of its argument.
  const std::string text =
      header("{start: 2017, end: 2019}") +
      "parameters:\n"
      "  small: {label: s, unit: \"1\", description: s, source: s, dist: uniform, min: -4, "
      "max: 4}\n"
      "  large: {label: l, unit: \"1\", description: l, source: s, dist: uniform, min: -1e9, "
      "max: 1e9}\n"
      "auxiliaries:\n"
      "  s1: {label: s1, unit: \"1\", description: d, formula: sin(small)}\n"
      "  c1: {label: c1, unit: \"1\", description: d, formula: cos(small)}\n"
      "  s2: {label: s2, unit: \"1\", description: d, formula: sin(large)}\n"
      "  c2: {label: c2, unit: \"1\", description: d, formula: cos(large)}\n"
      "  mix: {label: m, unit: \"1\", description: d, formula: \"sin(small * year) - "
      "cos(2 * large)\"}\n";
  Model m = parse_model(text, "t.yaml");
  Program p = compile(m, build_graph(m));
  EXPECT_NE(p.listing().find(" = sin(small)"), std::string::npos) << p.listing();
  EXPECT_NE(p.listing().find(" = cos(large)"), std::string::npos) << p.listing();
  auto slot = [&](const char* name) { return m.node_index.at(name); };
  auto bits = [](double v) { return std::bit_cast<std::uint64_t>(v); };
  constexpr int kCapacity = 256;
  constexpr int kRuns = 1000;  // three full blocks and a tail of 232
  Program::Block b = p.make_block(kCapacity);
  int checked = 0;
  for (int first = 0; first < kRuns; first += kCapacity) {
    const int count = std::min(kCapacity, kRuns - first);
    p.evaluate(b, 7, static_cast<std::uint64_t>(first), count);
    for (int k = 0; k < p.steps(); ++k) {
      const double year = p.time(k);
      for (int i = 0; i < count; ++i) {
        auto at = [&](const char* name) { return b.at(k, slot(name), i, p.slots()); };
        const double small = at("small"), large = at("large");
        ASSERT_EQ(bits(at("s1")), bits(libm_sin(small))) << small;
        ASSERT_EQ(bits(at("c1")), bits(libm_cos(small))) << small;
        ASSERT_EQ(bits(at("s2")), bits(libm_sin(large))) << large;
        ASSERT_EQ(bits(at("c2")), bits(libm_cos(large))) << large;
        ASSERT_EQ(bits(at("mix")), bits(libm_sin(small * year) - libm_cos(2 * large)))
            << small << " " << large;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, kRuns * 3);
}

TEST(ExprTest, IshigamiModelFromTestData) {
  // tests/data/ishigami.yaml: y = sin x1 + a sin^2 x2 + b x3^4 sin x1, x uniform on
  // [-pi, pi], a = 7, b = 0.1 (Ishigami & Homma 1990); E[y] = a / 2 = 3.5.
  Model m = load_model(std::string(ATTAIN_TEST_DATA) + "/ishigami.yaml");
  Program p = compile(m, build_graph(m));
  const int x1 = m.node_index.at("x1"), x2 = m.node_index.at("x2"), x3 = m.node_index.at("x3");
  const int y = m.node_index.at("y");
  EXPECT_EQ(p.parameters().size(), 5u);  // x1, x2, x3 and the fixed a and b
  constexpr int kCapacity = 256;
  constexpr int kRuns = 1 << 16;
  Program::Block b = p.make_block(kCapacity);
  double sum = 0;
  for (int first = 0; first < kRuns; first += kCapacity) {
    p.evaluate(b, 2024, static_cast<std::uint64_t>(first), kCapacity);
    for (int k = 0; k < p.steps(); ++k) {
      for (int i = 0; i < kCapacity; ++i) {
        const double v1 = b.at(k, x1, i, p.slots()), v2 = b.at(k, x2, i, p.slots()),
                     v3 = b.at(k, x3, i, p.slots());
        ASSERT_LE(std::fabs(v1), std::numbers::pi);
        ASSERT_LE(std::fabs(v2), std::numbers::pi);
        ASSERT_LE(std::fabs(v3), std::numbers::pi);
        const double expected =
            std::sin(v1) + 7 * std::sin(v2) * std::sin(v2) + 0.1 * v3 * v3 * v3 * v3 * std::sin(v1);
        ASSERT_NEAR(b.at(k, y, i, p.slots()), expected, 1e-12)
            << "run " << first + i << ": x = " << v1 << ", " << v2 << ", " << v3;
        if (k == p.steps() - 1) sum += b.at(k, y, i, p.slots());
      }
    }
  }
  // Standard deviation of y about 3.72: the mean of 65536 runs is within 0.1 of 3.5
  // (about 7 standard errors).
  EXPECT_NEAR(sum / kRuns, 3.5, 0.1);
}

TEST(ExprTest, MinMaxAreNary) {
  EXPECT_EQ(eval("min(x, 9, 0.5, 3)"), 0.5);
  EXPECT_EQ(eval("max(x, 9, 0.5, 3)"), 9);
  EXPECT_EQ(series_of("max(x, 2, 3)"), (std::vector<double>{3, 3, 3, 4, 5}));
  EXPECT_EQ(series_of("min(3, x, 4, 2.5)"), (std::vector<double>{1, 2, 2.5, 2.5, 2.5}));
}

TEST(ExprTest, StepRampPulseAtGivenYears) {
  EXPECT_EQ(series_of("step(10, 2019)"), (std::vector<double>{0, 0, 10, 10, 10}));
  EXPECT_EQ(series_of("step(k, 2019.5)"), (std::vector<double>{0, 0, 0, 1, 1}));
  EXPECT_EQ(series_of("ramp(0.5, 2018)"), (std::vector<double>{0, 0, 0.5, 1, 1.5}));
  EXPECT_EQ(series_of("ramp(0.5, 2018, 2020)"), (std::vector<double>{0, 0, 0.5, 1, 1}));
  EXPECT_EQ(series_of("pulse(10, 2019)"), (std::vector<double>{0, 0, 10, 0, 0}));
  EXPECT_EQ(series_of("pulse(10, 2018, 2)"), (std::vector<double>{0, 10, 10, 0, 0}));
  // The default width is dt: with half-year steps the pulse lasts one half-year step.
  EXPECT_EQ(series_of("pulse(1, 2018)", "", "{start: 2017, end: 2019, step: 0.5}"),
            (std::vector<double>{0, 0, 1, 0, 0}));
}

TEST(ExprTest, YearAndDt) {
  EXPECT_EQ(series_of("year"), (std::vector<double>{2017, 2018, 2019, 2020, 2021}));
  EXPECT_EQ(series_of("dt"), (std::vector<double>{1, 1, 1, 1, 1}));
  EXPECT_EQ(series_of("year + dt", "", "{start: 2017, end: 2018, step: 0.25}"),
            (std::vector<double>{2017.25, 2017.5, 2017.75, 2018, 2018.25}));
}

TEST(ExprTest, SmoothOverSeveralSteps) {
  // x = 1, 2, 3, 4, 5; tau = 2: each step moves half the gap.
  // s = 1; 1 + (2 - 1)/2 = 1.5; 1.5 + (3 - 1.5)/2 = 2.25; 2.25 + 1.75/2 = 3.125;
  // 3.125 + 1.875/2 = 4.0625.
  std::vector<double> s = series_of("smooth(x, 2)");
  std::vector<double> want = {1, 1.5, 2.25, 3.125, 4.0625};
  ASSERT_EQ(s.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_DOUBLE_EQ(s[i], want[i]) << i;
  // tau = 4: a quarter of the gap.
  want = {1, 1.25, 1.6875, 2.265625, 2.94921875};
  s = series_of("smooth(x, 4)");
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_DOUBLE_EQ(s[i], want[i]) << i;
  // tau below dt: min(1, dt / tau) = 1, so it follows x.
  EXPECT_EQ(series_of("smooth(x, 0.5)"), (std::vector<double>{1, 2, 3, 4, 5}));
  // Two smooth calls in one formula keep separate state.
  s = series_of("smooth(x, 2) - smooth(x, 4)");
  want = {0, 0.25, 0.5625, 0.859375, 1.11328125};
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_DOUBLE_EQ(s[i], want[i]) << i;
  // Half-year steps with tau = 1: dt / tau = 0.5 of the gap per step.
  s = series_of("smooth(year - 2017, 1)", "", "{start: 2017, end: 2018, step: 0.5}");
  want = {0, 0.25, 0.625};
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_DOUBLE_EQ(s[i], want[i]) << i;
}

TEST(ExprTest, SmoothInsideAStockChange) {
  std::string text = header() + kCommon +
                     "stocks:\n"
                     "  s: {label: s, unit: \"1\", description: s, source: a, initial: 0, "
                     "change: \"smooth(x, 2)\"}\n";
  // s(k) = s(k-1) + smooth(x, 2)(k-1): 0, 1, 2.5, 4.75, 7.875.
  EXPECT_EQ(evaluate_text(text).series("s"), (std::vector<double>{0, 1, 2.5, 4.75, 7.875}));
}

TEST(ExprTest, LookupInterpolatesAndHoldsEnds) {
  // x: [0, 10, 20], y: [0, 5, 3].
  EXPECT_DOUBLE_EQ(eval("tbl(5)"), 2.5);
  EXPECT_DOUBLE_EQ(eval("tbl(15)"), 4);
  EXPECT_DOUBLE_EQ(eval("tbl(10)"), 5);
  EXPECT_DOUBLE_EQ(eval("tbl(0)"), 0);
  EXPECT_DOUBLE_EQ(eval("tbl(20)"), 3);
  EXPECT_DOUBLE_EQ(eval("tbl(-3)"), 0);  // flat below x0
  EXPECT_DOUBLE_EQ(eval("tbl(25)"), 3);  // flat above xn
  EXPECT_DOUBLE_EQ(eval("tbl(1e9)"), 3);
  std::vector<double> s = series_of("tbl(4 * x)");  // 4, 8, 12, 16, 20
  std::vector<double> want = {2, 4, 4.6, 3.8, 3};
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_DOUBLE_EQ(s[i], want[i]) << i;
}

TEST(ExprTest, PrevAndLagReadHistory) {
  std::string text = header() + kCommon +
                     "auxiliaries:\n"
                     "  p: {label: p, unit: \"1\", description: p, source: h, "
                     "history: {2015: 10, 2016: 20}, formula: \"prev(p) + 1\"}\n"
                     "  q: {label: q, unit: \"1\", description: q, formula: \"lag(p, 2)\"}\n"
                     "  d: {label: d, unit: \"1\", description: d, formula: \"p - prev(p)\"}\n";
  Evaluated e = evaluate_text(text);
  EXPECT_EQ(e.series("p"), (std::vector<double>{21, 22, 23, 24, 25}));
  EXPECT_EQ(e.series("q"), (std::vector<double>{10, 20, 21, 22, 23}));
  EXPECT_EQ(e.series("d"), (std::vector<double>{1, 1, 1, 1, 1}));
}

TEST(ExprTest, PrevAndLagOfLeversParametersAndStocks) {
  std::string text = header() + kCommon +
                     "stocks:\n"
                     "  s: {label: s, unit: \"1\", description: s, source: a, initial: 10, "
                     "change: 5, history: {2016: 4}}\n"
                     "auxiliaries:\n"
                     "  px: {label: a, unit: \"1\", description: a, formula: \"prev(x)\"}\n"
                     "  lg: {label: b, unit: \"1\", description: b, formula: \"lag(g, 2)\"}\n"
                     "  pf: {label: c, unit: \"1\", description: c, formula: \"lag(fixed, 3)\"}\n"
                     "  ps: {label: d, unit: \"1\", description: d, formula: \"prev(s)\"}\n";
  Evaluated e = evaluate_text(text);
  // A series lever is held flat before its first year.
  EXPECT_EQ(e.series("px"), (std::vector<double>{1, 1, 2, 3, 4}));
  // A growth lever is evaluated before the start: 100 * 1.1^(t - 2017).
  std::vector<double> lg = e.series("lg");
  EXPECT_NEAR(lg[0], 100 / 1.21, 1e-9);
  EXPECT_NEAR(lg[1], 100 / 1.1, 1e-9);
  EXPECT_NEAR(lg[2], 100, 1e-9);
  EXPECT_NEAR(lg[4], 121, 1e-9);
  EXPECT_EQ(e.series("pf"), (std::vector<double>{7, 7, 7, 7, 7}));
  EXPECT_EQ(e.series("s"), (std::vector<double>{10, 15, 20, 25, 30}));
  EXPECT_EQ(e.series("ps"), (std::vector<double>{4, 10, 15, 20, 25}));
}

TEST(ExprTest, ShockParametersReadLaggedValues) {
  // A shock's distribution parameters may use lags like any expression (sd 0: the draw is the
  // mean). lag(a, 3) at 2017 reads a's history for 2014; lag(x, 4) reads the lever at 2013.
  std::string text =
      header() + kCommon +
      "auxiliaries:\n"
      "  a: {label: a, unit: \"1\", description: a, source: h, "
      "history: {2014: 7, 2015: 8, 2016: 9}, formula: year}\n"
      "shocks:\n"
      "  n: {label: n, unit: \"1\", description: n, dist: normal, mean: \"lag(a, 3)\", sd: 0}\n"
      "  m: {label: m, unit: \"1\", description: m, dist: normal, mean: \"lag(g, 2)\", sd: 0}\n";
  Evaluated e = evaluate_text(text);
  EXPECT_EQ(e.series("n"), (std::vector<double>{7, 8, 9, 2017, 2018}));
  std::vector<double> m = e.series("m");
  EXPECT_NEAR(m[0], 100 / 1.21, 1e-9);
  EXPECT_NEAR(m[1], 100 / 1.1, 1e-9);
  EXPECT_NEAR(m[2], 100, 1e-9);
}

TEST(ExprTest, ParsedTreeShape) {
  ExprPtr e = parse_expression("a + b * lag(c, 3)", TextOrigin{{"f", 1, 1}, true});
  ASSERT_EQ(e->kind, Expr::Kind::kApply);
  EXPECT_EQ(e->op, Op::kAdd);
  ASSERT_EQ(e->args.size(), 2u);
  EXPECT_EQ(e->args[0]->name, "a");
  const Expr& mul = *e->args[1];
  EXPECT_EQ(mul.op, Op::kMul);
  ASSERT_EQ(mul.args.size(), 2u);
  EXPECT_EQ(mul.args[1]->kind, Expr::Kind::kRef);
  EXPECT_EQ(mul.args[1]->name, "c");
  EXPECT_EQ(mul.args[1]->lag, 3);
  EXPECT_EQ(mul.args[1]->loc.col, 9);  // the 'lag' call
  EXPECT_EQ(mul.loc.col, 7);           // the '*'
}

TEST(ExprTest, ApplyScalarMatchesTheEvaluator) {
  const double a[] = {2.5};
  EXPECT_EQ(apply_scalar(Op::kRound, a, 1), 3);
  const double b[] = {-2.5};
  EXPECT_EQ(apply_scalar(Op::kRound, b, 1), -3);
  const double c[] = {7, 0, 5};
  EXPECT_EQ(apply_scalar(Op::kClamp, c, 3), 5);
  const double d[] = {4, 1, 3, 0.5};
  EXPECT_EQ(apply_scalar(Op::kMin, d, 4), 0.5);
  EXPECT_EQ(apply_scalar(Op::kMax, d, 4), 4);
}

TEST(ExprTest, ReservedNamesAndIdentifiers) {
  for (const char* n :
       {"year", "dt", "and", "or", "not", "min", "smooth", "prev", "lag", "if", "sin", "cos"})
    EXPECT_TRUE(is_reserved_name(n)) << n;
  EXPECT_FALSE(is_reserved_name("funding"));
  EXPECT_TRUE(is_identifier("_a1"));
  EXPECT_FALSE(is_identifier("1a"));
  EXPECT_FALSE(is_identifier("a-b"));
  EXPECT_FALSE(is_identifier(""));
}

TEST(ExprTest, ErrorOperatorWithoutOperand) {
  InputError e = parse_error("a + * b");
  EXPECT_NE(e.text().find("unexpected '*'"), std::string::npos) << e.what();
  EXPECT_EQ(e.loc().file, "t.yaml");
  EXPECT_EQ(e.loc().line, kFormulaLine);
  EXPECT_EQ(e.loc().col, kFormulaCol + 4);
  EXPECT_EQ(std::string(e.what()), "t.yaml:9:18: error: " + e.text());
}

TEST(ExprTest, ErrorTooFewArguments) {
  InputError e = parse_error("a + min(1)");
  EXPECT_NE(e.text().find("min() takes at least 2 arguments, got 1"), std::string::npos)
      << e.what();
  EXPECT_EQ(e.loc().line, kFormulaLine);
  EXPECT_EQ(e.loc().col, kFormulaCol + 4);
  e = parse_error("clamp(a, b)");
  EXPECT_NE(e.text().find("clamp() takes 3 arguments, got 2"), std::string::npos) << e.what();
  EXPECT_EQ(e.loc().col, kFormulaCol);
  e = parse_error("ramp(1)");
  EXPECT_NE(e.text().find("ramp() takes 2 or 3 arguments, got 1"), std::string::npos) << e.what();
  e = parse_error("abs(a, b)");
  EXPECT_NE(e.text().find("abs() takes 1 argument, got 2"), std::string::npos) << e.what();
  e = parse_error("sin(a, b)");
  EXPECT_EQ(std::string(e.what()), "t.yaml:9:14: error: sin() takes 1 argument, got 2");
  e = parse_error("2 * cos()");
  EXPECT_EQ(std::string(e.what()), "t.yaml:9:18: error: cos() takes 1 argument, got 0");
  e = parse_error("sin + 1");
  EXPECT_NE(e.text().find("'sin' is a function; call it as sin(...)"), std::string::npos)
      << e.what();
}

TEST(ExprTest, ErrorUnknownFunction) {
  InputError e = parse_error("2 * frobnicate(a)");
  EXPECT_NE(e.text().find("unknown function or lookup table 'frobnicate'"), std::string::npos)
      << e.what();
  EXPECT_EQ(e.loc().line, kFormulaLine);
  EXPECT_EQ(e.loc().col, kFormulaCol + 4);
  e = parse_error("frobnicate(a, b)");
  EXPECT_NE(e.text().find("'frobnicate' is not a function"), std::string::npos) << e.what();
}

TEST(ExprTest, ErrorMisspelledFunctionSuggestsTheBuiltin) {
  // docs/model-language.md: "Unknown names get a 'did you mean'".
  InputError e = parse_error("sqrtt(a)");
  EXPECT_NE(e.text().find("did you mean 'sqrt'"), std::string::npos) << e.what();
  e = parse_error("sinn(a)");
  EXPECT_NE(e.text().find("did you mean 'sin'"), std::string::npos) << e.what();
  e = parse_error("a + coss(b)");
  EXPECT_NE(e.text().find("did you mean 'cos'"), std::string::npos) << e.what();
}

TEST(ExprTest, ErrorLagNotWhole) {
  InputError e = parse_error("a + lag(b, 1.5)");
  EXPECT_NE(e.text().find("the lag must be a whole number of steps"), std::string::npos)
      << e.what();
  EXPECT_EQ(e.loc().line, kFormulaLine);
  EXPECT_EQ(e.loc().col, kFormulaCol + 11);  // the '1.5'
  e = parse_error("lag(b, 0)");
  EXPECT_NE(e.text().find("whole number of steps from 1"), std::string::npos) << e.what();
  e = parse_error("lag(b)");
  EXPECT_NE(e.text().find("lag(x, k) takes a node name and a whole number"), std::string::npos)
      << e.what();
  e = parse_error("prev(2 * b)");
  EXPECT_NE(e.text().find("prev() needs a node name"), std::string::npos) << e.what();
  EXPECT_EQ(e.loc().col, kFormulaCol + 5);
}

TEST(ExprTest, ErrorUnbalancedParentheses) {
  InputError e = parse_error("(a + b");
  EXPECT_NE(e.text().find("expected ')' but found the end of the expression"), std::string::npos)
      << e.what();
  EXPECT_EQ(e.loc().line, kFormulaLine);
  EXPECT_EQ(e.loc().col, kFormulaCol + 6);
  e = parse_error("a + b)");
  EXPECT_NE(e.text().find("unexpected ')' after a complete expression"), std::string::npos)
      << e.what();
  EXPECT_EQ(e.loc().col, kFormulaCol + 5);
  e = parse_error("min(a, b");
  EXPECT_NE(e.text().find("expected ',' or ')'"), std::string::npos) << e.what();
}

TEST(ExprTest, ErrorOtherSyntax) {
  InputError e = parse_error("a +");
  EXPECT_NE(e.text().find("expression ends too early"), std::string::npos) << e.what();
  e = parse_error("a $ b");
  EXPECT_NE(e.text().find("unexpected character '$'"), std::string::npos) << e.what();
  EXPECT_EQ(e.loc().col, kFormulaCol + 2);
  e = parse_error("a b");
  EXPECT_NE(e.text().find("unexpected 'b' after a complete expression"), std::string::npos)
      << e.what();
  EXPECT_EQ(e.loc().col, kFormulaCol + 2);
  e = parse_error("min + 1");
  EXPECT_NE(e.text().find("'min' is a function"), std::string::npos) << e.what();
  e = parse_error("\"\"");
  EXPECT_NE(e.text().find("empty expression"), std::string::npos) << e.what();
}

TEST(ExprTest, SignsNotPowersAndCallsNestLikeParentheses) {
  // Each recursed once per level without a bound: 4000 signs overflowed the stack of a
  // sanitizer build (found by fuzz_expr). All count toward the limit of 200 levels.
  auto repeat = [](const std::string& s, int n) {
    std::string r;
    for (int i = 0; i < n; ++i) r += s;
    return r;
  };
  for (const std::string& deep :
       {repeat("-", 3999) + "x", repeat("+", 300) + "x", repeat("not ", 300) + "x",
        repeat("2^", 300) + "2", repeat("abs(", 300) + "x" + repeat(")", 300),
        repeat("-(", 150) + "x" + repeat(")", 150)}) {
    InputError e = parse_error(deep);
    EXPECT_NE(e.text().find("nested too deeply"), std::string::npos) << e.what();
  }
  // Up to the limit they parse, and mean what they say.
  ExprPtr e = parse_expression(repeat("-", 200) + "x", TextOrigin{{"f", 1, 1}, true});
  int negations = 0;
  for (const Expr* n = e.get(); n->kind == Expr::Kind::kApply; n = n->args[0].get()) ++negations;
  EXPECT_EQ(negations, 200);
  EXPECT_NO_THROW(parse_expression(repeat("abs(", 199) + "x" + repeat(")", 199),
                                   TextOrigin{{"f", 1, 1}, true}));
}

TEST(ExprTest, NonFiniteValueStopsTheRun) {
  std::string text =
      header() + kCommon +
      "auxiliaries:\n"
      "  v: {label: v, unit: \"1\", description: v, formula: \"1 / (year - 2019)\"}\n";
  Model m = parse_model(text, "t.yaml");
  Program p = compile(m, build_graph(m));
  try {
    replay_run(p, 1, 4);
    FAIL() << "no RunError";
  } catch (const RunError& e) {
    EXPECT_EQ(e.run(), 4u);
    std::string msg = e.what();
    EXPECT_NE(msg.find("'v'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("2019"), std::string::npos) << msg;
    EXPECT_NE(msg.find("run 4"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace attain
