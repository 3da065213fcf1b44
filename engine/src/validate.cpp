// validate(Model): the meaning of a model, checked once for every front end.
#include "attain/validate.hpp"

#include <fmt/format.h>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <numbers>
#include <set>
#include <unordered_map>

#include "attain/cost.hpp"

namespace attain {
namespace {

/// Most parameters in one correlation group.
constexpr Eigen::Index kMaxCorrelated = 256;

/// `preferred` when a front end recorded it, else `fallback`.
const SourceLoc& pick(const SourceLoc& preferred, const SourceLoc& fallback) {
  return preferred.line > 0 ? preferred : fallback;
}

const SourceLoc& pick(const std::vector<SourceLoc>& locs, std::size_t i,
                      const SourceLoc& fallback) {
  return i < locs.size() ? pick(locs[i], fallback) : fallback;
}

void check_name(const SourceLoc& at, const std::string& what, const std::string& name) {
  if (!is_identifier(name))
    fail(at, fmt::format("{} name '{}' is not an identifier: use letters, digits and '_', "
                         "starting with a letter or '_'",
                         what, name));
  if (is_reserved_name(name))
    fail(at, fmt::format("{} name '{}' is reserved (a function or keyword); choose another name",
                         what, name));
}

void check_text(const std::string& text, const SourceLoc& at, const std::string& what,
                const char* key) {
  if (text.find_first_not_of(" \t\n") == std::string::npos)
    fail(at, fmt::format("{} needs '{}'", what, key));
}

/// Folds constant parts of an expression bottom-up and rejects constants that are NaN
/// or infinite and constant arguments that make no sense (smooth's tau <= 0, a pulse
/// width <= 0), at check time rather than at run time.
std::optional<double> check_constants(const Expr& e) {
  if (e.kind == Expr::Kind::kNumber) return e.number;
  if (e.kind != Expr::Kind::kApply) return std::nullopt;
  std::vector<std::optional<double>> args;
  bool all = true;
  for (const auto& a : e.args) {
    if (!a) fail(e.loc, fmt::format("{}() has an empty argument", op_name(e.op)));
    args.push_back(check_constants(*a));
    all = all && args.back().has_value();
  }
  if (e.op == Op::kSmooth && args.size() > 1 && args[1] && !(*args[1] > 0))
    fail(e.args[1]->loc, fmt::format("smooth() needs a time constant > 0 (got {})", *args[1]));
  if (e.op == Op::kPulse && args.size() > 2 && args[2] && !(*args[2] > 0))
    fail(e.args[2]->loc, fmt::format("pulse() needs a width > 0 (got {})", *args[2]));
  if (!all || op_info(e.op).scalar == nullptr) return std::nullopt;  // needs context
  std::vector<double> v;
  for (const auto& a : args) v.push_back(*a);
  double r = apply_scalar(e.op, v.data(), static_cast<int>(v.size()));
  if (!std::isfinite(r))
    fail(e.loc, fmt::format("this part of the expression is always {} ({}); check the division, "
                            "logarithm or power",
                            std::isnan(r) ? "NaN"
                            : r > 0       ? "+infinity"
                                          : "-infinity",
                            op_name(e.op)));
  return r;
}

/// Checks that every name an expression uses exists (nodes and lookups).
void check_refs(const Model& m, const Expr& e, const std::string& where) {
  if (e.kind == Expr::Kind::kRef && !m.node_index.count(e.name))
    fail(e.loc, fmt::format("unknown node '{}' in {}{}", e.name, where,
                            did_you_mean(e.name, m.node_names())));
  if (e.kind == Expr::Kind::kApply && e.op == Op::kLookup && !m.lookup_index.count(e.name)) {
    std::vector<std::string> names;
    for (const auto& l : m.lookups) names.push_back(l.name);
    for (const auto& b : builtin_function_names()) names.push_back(b);
    std::string hint = did_you_mean(e.name, names);
    fail(e.loc,
         fmt::format("unknown function or lookup table '{}' in {}{}", e.name, where,
                     hint.empty() ? "; functions are listed in docs/model-language.md" : hint));
  }
  for (const auto& a : e.args)
    if (a) check_refs(m, *a, where);
}

void check_time(const TimeAxis& t, const SourceLoc& fallback) {
  if (!std::isfinite(t.start) || !std::isfinite(t.end) || !std::isfinite(t.step))
    fail(fallback, "'time' needs finite 'start', 'end' and 'step'");
  if (t.step <= 0)
    fail(pick(t.step_loc, fallback), fmt::format("'step' must be > 0 years (got {})", t.step));
  if (t.end <= t.start)
    fail(pick(t.end_loc, fallback),
         fmt::format("'end' ({}) must be after 'start' ({})", t.end, t.start));
  double nsteps = (t.end - t.start) / t.step;
  if (std::fabs(nsteps - std::round(nsteps)) > 1e-9 || nsteps > 100000)
    fail(pick(t.step_loc, fallback),
         fmt::format("'end - start' ({}) must be a whole number of steps of {} (at most 100000)",
                     t.end - t.start, t.step));
}

void check_lookup(const Lookup& l, const SourceLoc& at) {
  std::string what = fmt::format("lookup '{}'", l.name);
  for (auto [text, key] :
       {std::pair{&l.label, "label"}, std::pair{&l.unit, "unit"},
        std::pair{&l.description, "description"}, std::pair{&l.source, "source"}})
    check_text(*text, at, what, key);
  if (l.x.size() < 2 || l.x.size() != l.y.size())
    fail(at, fmt::format("{}: 'x' and 'y' must have the same length, at least 2 (got {} and {})",
                         what, l.x.size(), l.y.size()));
  for (std::size_t i = 0; i < l.x.size(); ++i)
    if (!std::isfinite(l.x[i]) || !std::isfinite(l.y[i]))
      fail(pick(l.x_loc, i, at), fmt::format("{}: 'x' and 'y' must be finite numbers", what));
  for (std::size_t i = 1; i < l.x.size(); ++i)
    if (!(l.x[i] > l.x[i - 1]))
      fail(pick(l.x_loc, i, at),
           fmt::format("{}: 'x' must be strictly increasing (x[{}] = {} after {})", what, i, l.x[i],
                       l.x[i - 1]));
}

void check_correlations(const Model& m, const SourceLoc& fallback) {
  std::set<std::string> used;
  for (const auto& g : m.correlations) {
    const SourceLoc& at = pick(g.loc, fallback);
    for (std::size_t k = 0; k < g.parameters.size(); ++k) {
      const std::string& name = g.parameters[k];
      const SourceLoc& ploc = pick(g.parameter_loc, k, at);
      const Node* node = m.find(name);
      if (!node) {
        std::vector<std::string> names;
        for (const auto& nn : m.nodes)
          if (nn.kind == NodeKind::kParameter) names.push_back(nn.name);
        fail(ploc, fmt::format("unknown parameter '{}' in correlations{}", name,
                               did_you_mean(name, names)));
      }
      if (node->kind != NodeKind::kParameter || node->dist.fixed)
        fail(ploc, fmt::format("'{}' is a {}; only uncertain parameters (with 'dist') can be "
                               "correlated",
                               name, node->dist.fixed ? "fixed parameter" : kind_name(node->kind)));
      if (!used.insert(name).second)
        fail(ploc, fmt::format("parameter '{}' appears in more than one correlation group", name));
    }
    const auto n = static_cast<Eigen::Index>(g.parameters.size());
    if (n < 2) fail(at, "a correlation group needs at least two parameters");
    // The eigen-decomposition below and the Cholesky factor in compile() cost n^3.
    if (n > kMaxCorrelated)
      fail(at, fmt::format("a correlation group may hold at most {} parameters (got {}); split "
                           "it into groups of parameters that really move together",
                           kMaxCorrelated, n));
    const SourceLoc& mat = pick(g.matrix_loc, at);
    if (g.rank.rows() != n || g.rank.cols() != n)
      fail(mat, fmt::format("the correlation matrix needs {} rows of {} entries, one per "
                            "parameter (got {} x {})",
                            n, n, g.rank.rows(), g.rank.cols()));
    auto entry = [&](Eigen::Index i, Eigen::Index j) -> const SourceLoc& {
      return pick(g.entry_loc, static_cast<std::size_t>(i * n + j), mat);
    };
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = 0; j < n; ++j) {
        double v = g.rank(i, j);
        if (i == j && v != 1)
          fail(entry(i, j), fmt::format("the diagonal of a correlation matrix must be 1 (row {} "
                                        "has {})",
                                        i + 1, v));
        if (!(v >= -1 && v <= 1))
          fail(entry(i, j), fmt::format("correlations must be in [-1, 1] (got {})", v));
      }
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = 0; j < i; ++j)
        if (g.rank(i, j) != g.rank(j, i))
          fail(entry(i, j), fmt::format("the correlation matrix must be symmetric: entry ({}, {}) "
                                        "is {} but ({}, {}) is {}",
                                        i + 1, j + 1, g.rank(i, j), j + 1, i + 1, g.rank(j, i)));
    // The copula uses Pearson correlations 2 sin(pi r / 6) of the normal scores.
    Eigen::MatrixXd pearson = (g.rank.array() * (std::numbers::pi / 6)).sin() * 2;
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(pearson);
    double lowest = eig.eigenvalues().minCoeff();
    if (!(lowest > 1e-10))
      fail(mat, fmt::format("the correlation matrix is not positive definite (smallest "
                            "eigenvalue of its normal-score matrix {:.3g}); some correlations "
                            "contradict each other",
                            lowest));
  }
}

void check_year(const Model& m, double year, const SourceLoc& at, const std::string& what) {
  if (!m.time.index_of(year))
    fail(at, fmt::format("{}: year {} is not on the time axis ({} to {} by {})", what, year,
                         m.time.start, m.time.end, m.time.step));
}

void check_target_node(const Model& m, const std::string& node, const SourceLoc& at,
                       const std::string& what) {
  if (!m.node_index.count(node))
    fail(at, fmt::format("{} is on unknown node '{}'{}", what, node,
                         did_you_mean(node, m.node_names())));
}

/// Values before the start: only auxiliaries, shocks and stocks, with a source.
void check_history(const Model& m, const Node& n, const SourceLoc& at, const std::string& what) {
  if (n.history.empty()) return;
  if (n.kind == NodeKind::kLever || n.kind == NodeKind::kParameter)
    fail(pick(n.history_loc.begin()->second, at),
         fmt::format("{} cannot have 'history': a lever's rule gives its values before the "
                     "start, and a parameter has one value for the whole run",
                     what));
  if (n.source.find_first_not_of(" \t\n") == std::string::npos)
    fail(at, fmt::format("{} has history, so it needs a 'source' for it", what));
  for (const auto& [year, value] : n.history) {
    auto it = n.history_loc.find(year);
    const SourceLoc& yl = it == n.history_loc.end() ? at : pick(it->second, at);
    if (!std::isfinite(year) || !std::isfinite(value))
      fail(yl, fmt::format("history of {} must hold finite numbers", what));
    if (year >= m.time.start)
      fail(yl, fmt::format("history of {} must be before the start year {} (got {})", what,
                           m.time.start, year));
  }
}

void check_node(const Model& m, const Node& n, const SourceLoc& at) {
  const std::string what = fmt::format("{} '{}'", kind_name(n.kind), n.name);
  for (auto [text, key] : {std::pair{&n.label, "label"}, std::pair{&n.unit, "unit"},
                           std::pair{&n.description, "description"}})
    check_text(*text, at, what, key);
  const bool source_required = n.kind != NodeKind::kShock && n.kind != NodeKind::kAuxiliary;
  if (source_required) check_text(n.source, at, what, "source");
  check_history(m, n, at, what);
  auto need = [&](const ExprPtr& e, const char* key) {
    if (!e) fail(at, fmt::format("{} needs '{}'", what, key));
  };
  switch (n.kind) {
    case NodeKind::kLever:
      validate_lever_rule(n.lever, what, at);
      break;
    case NodeKind::kParameter:
      if (n.dist.fixed) {
        if (!std::isfinite(n.dist.fixed_value))
          fail(at, fmt::format("'value' of {} must be a finite number", what));
      } else {
        validate_distribution(n.dist, what, at);
      }
      break;
    case NodeKind::kShock: {
      if (n.dist.fixed) fail(at, fmt::format("{} needs a distribution", what));
      if (static_cast<int>(n.dist.p_expr.size()) != param_count(n.dist.kind) &&
          n.dist.kind != DistKind::kDiscrete && n.dist.kind != DistKind::kEmpirical)
        fail(pick(n.dist.loc, at),
             fmt::format("{} ({}) needs {} parameters (got {})", what, dist_name(n.dist.kind),
                         param_count(n.dist.kind), n.dist.p_expr.size()));
      // Shock parameters that are constant are checked now, not first at run time.
      DistSpec constant = n.dist;
      constant.p.clear();
      for (const auto& e : n.dist.p_expr) {
        if (!e) fail(at, fmt::format("{} has an empty distribution parameter", what));
        if (auto v = fold_constant(*e)) constant.p.push_back(*v);
      }
      if (constant.p.size() == n.dist.p_expr.size()) validate_distribution(constant, what, at);
      break;
    }
    case NodeKind::kAuxiliary:
      need(n.formula, "formula");
      break;
    case NodeKind::kStock:
      need(n.initial, "initial");
      need(n.change, "change");
      break;
  }
}

/// A lever's `cost`: known before any run, so only levers, `year`, `dt`, lookups and
/// functions without a state; finite at every time it counts; a model with costs names
/// their money unit.
void check_cost(const Model& m, const Node& n, const SourceLoc& at) {
  const std::string where = fmt::format("'cost' of lever '{}'", n.name);
  check_refs(m, *n.cost, where);
  check_constants(*n.cost);
  auto no_state = [&](const Expr& e, auto&& self) -> void {
    if (e.kind == Expr::Kind::kRef) {
      const Node* ref = m.find(e.name);
      if (ref->kind != NodeKind::kLever)
        fail(e.loc, fmt::format("{} may use only levers, 'year', 'dt' and lookups (a cost is "
                                "known before any run), not {} {} '{}'",
                                where, ref->kind == NodeKind::kAuxiliary ? "an" : "a",
                                kind_name(ref->kind), e.name));
    }
    if (e.kind == Expr::Kind::kApply && e.op == Op::kSmooth)
      fail(e.loc,
           fmt::format("{} cannot use smooth(), which keeps a state from run to run", where));
    for (const auto& a : e.args) self(*a, self);
  };
  no_state(*n.cost, no_state);
  if (m.cost_unit.find_first_not_of(" \t\n") == std::string::npos)
    fail(pick(n.cost->loc, at),
         fmt::format("lever '{}' has a 'cost' but the model has no 'cost_unit': name the money "
                     "unit of costs at the top of the file, e.g. cost_unit: 100 million yuan",
                     n.name));
  for (int k = 1; k < m.time.steps(); ++k) {
    const double v = cost_at(m, *n.cost, m.time.time(k));
    if (!std::isfinite(v))
      fail(pick(n.cost->loc, at),
           fmt::format("{} is {} in {:g}; check the division, logarithm or power", where,
                       std::isnan(v) ? "NaN" : "infinite", m.time.time(k)));
  }
}

}  // namespace

void validate_lever_rule(const LeverRule& rule, const std::string& what, const SourceLoc& at) {
  const SourceLoc& here = pick(rule.loc, at);
  switch (rule.form) {
    case LeverRule::Form::kConstant:
      if (!std::isfinite(rule.value))
        fail(here, fmt::format("'value' of {} must be a finite number", what));
      break;
    case LeverRule::Form::kSeries:
      if (rule.series.empty()) fail(here, fmt::format("'series' of {} is empty", what));
      for (std::size_t i = 0; i < rule.series.size(); ++i) {
        const auto [year, v] = rule.series[i];
        if (!std::isfinite(year) || !std::isfinite(v))
          fail(pick(rule.series_loc, i, here),
               fmt::format("the series of {} must hold finite numbers", what));
        if (i > 0 && year <= rule.series[i - 1].first)
          fail(pick(rule.series_loc, i, here),
               fmt::format("years in the series of {} must increase (got {} after {})", what, year,
                           rule.series[i - 1].first));
      }
      break;
    case LeverRule::Form::kGrowth:
      if (!std::isfinite(rule.initial) || !std::isfinite(rule.rate))
        fail(here, fmt::format("'growth' of {} needs finite 'initial' and 'rate'", what));
      if (rule.rate <= -1)
        fail(pick(rule.rate_loc, here),
             fmt::format("'growth' of {}: rate must be > -1 (got {})", what, rule.rate));
      break;
  }
  if (!(rule.scale >= 0) || !std::isfinite(rule.scale))
    fail(here, fmt::format("'scale' of {} must be >= 0 (got {})", what, rule.scale));
}

void validate_distribution(const DistSpec& d, const std::string& what, const SourceLoc& at) {
  const SourceLoc& here = pick(d.loc, at);
  if (d.kind == DistKind::kDiscrete || d.kind == DistKind::kEmpirical) {
    const auto& t = d.table;
    if (t.values.empty())
      fail(here, fmt::format("{} ({}) needs at least one value", what, dist_name(d.kind)));
    for (std::size_t i = 0; i < t.values.size(); ++i) {
      if (!std::isfinite(t.values[i]))
        fail(here, fmt::format("{} ({}): values must be finite", what, dist_name(d.kind)));
      if (i > 0 && t.values[i] < t.values[i - 1])
        fail(here,
             fmt::format("{} ({}): the table's values must be sorted", what, dist_name(d.kind)));
    }
    if (d.kind == DistKind::kDiscrete) {
      bool ok = t.cumulative.size() == t.values.size() && t.cumulative.back() == 1.0;
      for (std::size_t i = 0; ok && i < t.cumulative.size(); ++i)
        ok = t.cumulative[i] >= (i > 0 ? t.cumulative[i - 1] : 0.0) && t.cumulative[i] <= 1;
      if (!ok)
        fail(here, fmt::format("{} (discrete): the cumulative probabilities must rise to 1, one "
                               "per value",
                               what));
    }
    return;
  }
  if (auto msg = check_params(d.kind, d.p))
    fail(here, fmt::format("{} ({}): {}", what, dist_name(d.kind), *msg));
}

namespace {

/// Names: identifiers, unique across nodes and lookups, distinct stable ids, indexed.
void check_names(const Model& m, const SourceLoc& base, const SourceLoc& mloc) {
  std::unordered_map<std::uint64_t, const Node*> ids;
  std::set<std::string> names;
  for (std::size_t i = 0; i < m.nodes.size(); ++i) {
    const Node& n = m.nodes[i];
    const SourceLoc& at = pick(n.loc, base);
    check_name(at, "node", n.name);
    if (!names.insert(n.name).second) fail(at, fmt::format("node '{}' is declared twice", n.name));
    if (n.id != stable_id(n.name))
      fail(at, fmt::format("node '{}' has id {:#x}, not the stable id of its name", n.name, n.id));
    if (auto [pos, fresh] = ids.emplace(n.id, &n); !fresh)
      fail(at, fmt::format("nodes '{}' and '{}' have the same stable id; rename one",
                           pos->second->name, n.name));
    auto it = m.node_index.find(n.name);
    if (it == m.node_index.end() || it->second != static_cast<int>(i))
      fail(at, fmt::format("node '{}' is not indexed at its position {} (rebuild node_index)",
                           n.name, i));
  }
  if (m.node_index.size() != m.nodes.size())
    fail(mloc, "node_index names nodes the model does not have (rebuild it)");
  if (m.nodes.empty())
    fail(mloc,
         "the model has no nodes; declare 'levers', 'parameters', 'shocks', 'auxiliaries' or "
         "'stocks'");
  for (std::size_t i = 0; i < m.lookups.size(); ++i) {
    const Lookup& l = m.lookups[i];
    const SourceLoc& at = pick(l.loc, base);
    check_name(at, "lookup", l.name);
    if (!names.insert(l.name).second)
      fail(at, fmt::format("lookup '{}' reuses a name already declared", l.name));
    auto it = m.lookup_index.find(l.name);
    if (it == m.lookup_index.end() || it->second != static_cast<int>(i))
      fail(at, fmt::format("lookup '{}' is not indexed at its position {} (rebuild lookup_index)",
                           l.name, i));
    check_lookup(l, at);
  }
  if (m.lookup_index.size() != m.lookups.size())
    fail(mloc, "lookup_index names lookups the model does not have (rebuild it)");
}

/// References and constant parts of every expression; costs, of levers only.
void check_expressions(const Model& m, const SourceLoc& base) {
  for (const Node& n : m.nodes) {
    std::string where = fmt::format("{} '{}'", kind_name(n.kind), n.name);
    for (const auto& e : {n.formula, n.initial, n.change})
      if (e) check_refs(m, *e, where), check_constants(*e);
    for (const auto& e : n.dist.p_expr)
      if (e) check_refs(m, *e, where), check_constants(*e);
    if (n.cost) {
      if (n.kind != NodeKind::kLever)
        fail(pick(n.cost->loc, pick(n.loc, base)), fmt::format("{} cannot have a 'cost'; only "
                                                               "levers have one",
                                                               where));
      check_cost(m, n, pick(n.loc, base));
    }
  }
}

/// Targets and actuals: nodes, years, finite numbers, unique target names.
void check_targets(const Model& m, const SourceLoc& mloc) {
  std::set<std::string> target_names;
  for (std::size_t i = 0; i < m.targets.size(); ++i) {
    const Target& t = m.targets[i];
    const std::string what = fmt::format("target {}", i + 1);
    const SourceLoc& at = pick(t.loc, mloc);
    check_target_node(m, t.node, pick(t.node_loc, at), what);
    if (!is_identifier(t.name))
      fail(pick(t.name_loc, at), fmt::format("target name '{}' is not an identifier", t.name));
    if (!target_names.insert(t.name).second)
      fail(at, fmt::format("two targets are named '{}'; give each a distinct 'name'", t.name));
    check_year(m, t.year, pick(t.year_loc, at), what);
    if (!std::isfinite(t.threshold))
      fail(at, fmt::format("'threshold' of {} must be a finite number", what));
    check_text(t.label, at, what, "label");
    check_text(t.source, at, what, "source");
  }
  for (std::size_t i = 0; i < m.actuals.size(); ++i) {
    const Actual& a = m.actuals[i];
    const std::string what = fmt::format("actual {}", i + 1);
    const SourceLoc& at = pick(a.loc, mloc);
    check_target_node(m, a.node, pick(a.node_loc, at), what);
    check_year(m, a.year, pick(a.year_loc, at), what);
    if (!std::isfinite(a.value))
      fail(at, fmt::format("'value' of {} must be a finite number", what));
    check_text(a.label, at, what, "label");
    check_text(a.source, at, what, "source");
  }
}

}  // namespace

void validate(const Model& m) {
  const SourceLoc base{m.path.empty() ? std::string("(model)") : m.path, 1, 1};
  const SourceLoc& mloc = pick(m.loc, base);
  check_text(m.name, mloc, "the model", "model");
  for (char c : m.name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
      fail(mloc, fmt::format("model name '{}' may hold only letters, digits, '_' and '-'", m.name));
  check_text(m.description, mloc, "the model", "description");
  check_time(m.time, mloc);
  check_names(m, base, mloc);
  for (const Node& n : m.nodes) check_node(m, n, pick(n.loc, base));
  check_expressions(m, base);
  check_correlations(m, mloc);
  check_targets(m, mloc);
}

}  // namespace attain
