// Levers' costs: a scalar evaluation of each `cost` expression on the lever rules.
#include "attain/cost.hpp"

#include <stdexcept>

namespace attain {

double cost_at(const Model& m, const Expr& e, double t) {
  switch (e.kind) {
    case Expr::Kind::kNumber:
      return e.number;
    case Expr::Kind::kYear:
      return t;
    case Expr::Kind::kDt:
      return m.time.step;
    case Expr::Kind::kRef: {
      const Node* n = m.find(e.name);
      if (!n || n->kind != NodeKind::kLever)
        throw std::invalid_argument("cost_at: '" + e.name + "' is not a lever");
      return n->lever.at(t - static_cast<double>(e.lag) * m.time.step, m.time.start);
    }
    case Expr::Kind::kApply:
      break;
  }
  std::vector<double> a;
  for (const auto& x : e.args) a.push_back(cost_at(m, *x, t));
  switch (e.op) {
    case Op::kLookup: {
      auto it = m.lookup_index.find(e.name);
      if (it == m.lookup_index.end() || a.size() != 1)
        throw std::invalid_argument("cost_at: no lookup '" + e.name + "'");
      return m.lookups[static_cast<std::size_t>(it->second)].at(a[0]);
    }
    // The time functions as the evaluator computes them (program.cpp).
    case Op::kStep:
      return t >= a[1] ? a[0] : 0.0;
    case Op::kRamp: {
      const double until = a.size() > 2 && t > a[2] ? a[2] : t;
      return t > a[1] && until > a[1] ? a[0] * (until - a[1]) : 0.0;
    }
    case Op::kPulse: {
      const double width = a.size() > 2 ? a[2] : m.time.step;
      return t >= a[1] && t < a[1] + width ? a[0] : 0.0;
    }
    case Op::kSmooth:
      throw std::invalid_argument("cost_at: smooth() keeps a state; a cost cannot use it");
    default:
      return apply_scalar(e.op, a.data(), static_cast<int>(a.size()));
  }
}

std::optional<CostResult> scenario_cost(const Model& m) {
  CostResult r;
  r.unit = m.cost_unit;
  for (int k = 1; k < m.time.steps(); ++k) r.times.push_back(m.time.time(k));
  for (const Node& n : m.nodes) {
    if (n.kind != NodeKind::kLever || !n.cost) continue;
    LeverCost c;
    c.lever = n.name;
    for (double t : r.times) {
      c.per_year.push_back(cost_at(m, *n.cost, t));
      c.total += c.per_year.back() * m.time.step;
    }
    r.total += c.total;
    r.levers.push_back(std::move(c));
  }
  if (r.levers.empty()) return std::nullopt;
  return r;
}

}  // namespace attain
