// GoogleTest: the operation table and the distribution table round-trip through the
// parser, the compiler, the interpreter and the model reader.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "attain/distributions.hpp"
#include "attain/ensemble.hpp"
#include "attain/expr.hpp"
#include "attain/graph.hpp"
#include "attain/operations.hpp"
#include "attain/program.hpp"
#include "attain/yaml_reader.hpp"

namespace attain {
namespace {

const char* kModel = R"(model: t
description: tables test
time: {start: 2017, end: 2021}
levers:
  x: {label: x, unit: "1", description: ramp, source: s, series: {2017: 1, 2021: 5}}
lookups:
  tbl: {label: t, unit: "1", description: table, source: s, x: [0, 10], y: [0, 5]}
)";

/// Arguments 0, 1, 2 of the test expressions: distinct, finite, never folded.
const std::vector<std::string> kArgs = {"x", "(6 - x)", "(x / 2)"};

/// `op` applied to the first n of kArgs, as the model language writes it.
std::string expression_of(const OpInfo& o, int n) {
  if (o.op == Op::kLookup) return "tbl(x)";
  if (o.op == Op::kNeg) return "-x";
  if (o.op == Op::kNot) return "not x";
  if (o.level > 0 && o.call.empty()) return kArgs[0] + " " + std::string(o.symbol) + " " + kArgs[1];
  std::string text = std::string(o.call) + "(";
  for (int i = 0; i < n; ++i) text += (i ? ", " : "") + kArgs[static_cast<std::size_t>(i)];
  return text + ")";
}

TEST(OperationTable, EveryOperationParsesToItself) {
  for (const OpInfo& o : kOperations) {
    EXPECT_EQ(op_name(o.op), o.symbol);
    const ExprPtr e = parse_expression(expression_of(o, o.min_args), TextOrigin{});
    ASSERT_EQ(e->kind, Expr::Kind::kApply) << o.symbol;
    EXPECT_EQ(e->op, o.op) << o.symbol;
    EXPECT_EQ(static_cast<int>(e->args.size()), o.min_args) << o.symbol;
    if (!o.alias.empty()) {
      EXPECT_EQ(parse_expression("x " + std::string(o.alias) + " x", TextOrigin{})->op, o.op);
    }
    if (o.level > 0 && !o.call.empty()) {
      EXPECT_EQ(parse_expression("x " + std::string(o.symbol) + " 2", TextOrigin{})->op, o.op);
    }
    if (!o.call.empty()) {
      EXPECT_TRUE(is_reserved_name(o.call));
      EXPECT_THROW(parse_expression(std::string(o.call) + "()", TextOrigin{}), InputError)
          << o.call;
    }
  }
}

TEST(OperationTable, InterpreterMatchesTheScalarFormBitForBit) {
  for (const OpInfo& o : kOperations) {
    if (o.scalar == nullptr) continue;
    const int n = o.max_args < 0 ? 3 : o.min_args;  // min/max: a chain of binary ones
    const std::string text = std::string(kModel) +
                             "auxiliaries:\n  v: {label: v, unit: \"1\", description: v, "
                             "formula: \"" +
                             expression_of(o, n) + "\"}\n";
    const Model m = parse_model(text, "t.yaml");
    const auto values = replay_run(compile(m, build_graph(m)), 1, 0);
    const auto v = static_cast<std::size_t>(m.node_index.at("v"));
    for (std::size_t k = 0; k < values.size(); ++k) {
      const double x = 1.0 + static_cast<double>(k);
      const double args[3] = {x, 6 - x, x / 2};
      EXPECT_EQ(values[k][v], apply_scalar(o.op, args, n)) << o.symbol << " at step " << k;
    }
  }
}

TEST(DistributionTable, NamesAndParametersRoundTrip) {
  for (DistKind k : kDistKinds) {
    EXPECT_EQ(dist_from_name(dist_name(k)), k);
    EXPECT_EQ(static_cast<std::size_t>(param_count(k)), dist_params(k).size());
  }
  EXPECT_FALSE(dist_from_name("weibull"));
}

TEST(DistributionTable, ReaderFillsEveryParameterByItsKey) {
  // Values 1, 2, 3, 4 in key order are valid for every kind but these.
  for (DistKind k : kDistKinds) {
    if (k == DistKind::kDiscrete || k == DistKind::kEmpirical || k == DistKind::kBeta ||
        k == DistKind::kBinomial || k == DistKind::kBernoulli || k == DistKind::kLogNormal ||
        k == DistKind::kGamma)
      continue;
    std::string keys;
    std::vector<double> want;
    double value = 1;
    for (const DistParam& p : dist_params(k)) {
      keys += ", " + std::string(p.key) + ": " + std::to_string(value);
      want.push_back(value++);
    }
    const std::string text = std::string(kModel) +
                             "parameters:\n  q: {label: q, unit: \"1\", description: q, "
                             "source: s, dist: " +
                             std::string(dist_name(k)) + keys + "}\n";
    const Model m = parse_model(text, "t.yaml");
    const Node& q = m.nodes[static_cast<std::size_t>(m.node_index.at("q"))];
    EXPECT_EQ(q.dist.kind, k);
    EXPECT_EQ(q.dist.p, want) << dist_name(k);
  }
}

TEST(QuantileCache, ProgramsOfOneCacheOrOfTheirOwnDrawAlike) {
  const std::string text = std::string(kModel) +
                           "parameters:\n  q: {label: q, unit: \"1\", description: q, source: s, "
                           "dist: pert, min: 1, mode: 2, max: 5}\n";
  const Model m = parse_model(text, "t.yaml");
  const DependencyGraph g = build_graph(m);
  QuantileCache cache;
  const auto own = replay_run(compile(m, g), 3, 7);
  EXPECT_EQ(replay_run(compile(m, g, cache), 3, 7), own);
  EXPECT_EQ(replay_run(compile(m, g, cache), 3, 7), own);
}

}  // namespace
}  // namespace attain
