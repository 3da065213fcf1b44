// The in-memory model: nodes, lookups, targets, actuals, correlations, scenarios.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "attain/diagnostics.hpp"
#include "attain/distributions.hpp"
#include "attain/expr.hpp"

namespace attain {

/// The time axis: times start, start + step, ..., end.
struct TimeAxis {
  double start = 0;
  double end = 0;
  double step = 1;
  SourceLoc start_loc, end_loc, step_loc;       ///< where each is written (for messages)
  int steps() const;                            ///< number of time points
  double time(int k) const;                     ///< time of step k
  std::optional<int> index_of(double t) const;  ///< step at time t, if on the axis
};

enum class NodeKind { kLever, kParameter, kShock, kAuxiliary, kStock };
std::string_view kind_name(NodeKind kind);

/// A lever's deterministic rule: a constant, a per-year series or a growth rule,
/// times a scenario's scale factor.
struct LeverRule {
  enum class Form { kConstant, kSeries, kGrowth };
  Form form = Form::kConstant;
  double value = 0;                               ///< kConstant
  std::vector<std::pair<double, double>> series;  ///< kSeries: (year, value), ascending
  double initial = 0, rate = 0;                   ///< kGrowth
  double scale = 1;
  SourceLoc loc;                      ///< the rule (for messages)
  std::vector<SourceLoc> series_loc;  ///< kSeries: each year, when read from a file
  SourceLoc rate_loc;                 ///< kGrowth
  double at(double t, double start) const;
};

/// A distribution with its parameters: numbers for parameters, expressions for shocks.
struct DistSpec {
  DistKind kind = DistKind::kNormal;
  std::vector<double> p;        ///< parameters: canonical order of distributions.hpp
  std::vector<ExprPtr> p_expr;  ///< shocks: one expression per canonical parameter
  DistTable table;              ///< discrete / empirical
  bool fixed = false;           ///< a parameter fixed by `value:` (no draw)
  double fixed_value = 0;
  SourceLoc loc;  ///< the `dist` key (for messages)
};

struct Node {
  std::string name;
  NodeKind kind = NodeKind::kAuxiliary;
  std::string label, unit, description, source;
  SourceLoc loc;
  std::uint64_t id = 0;                     ///< stable id: FNV-1a of the name
  LeverRule lever;                          ///< kLever
  ExprPtr cost;                             ///< kLever: money per year (cost.hpp), or null
  DistSpec dist;                            ///< kParameter, kShock
  ExprPtr formula;                          ///< kAuxiliary
  ExprPtr initial;                          ///< kStock
  ExprPtr change;                           ///< kStock
  std::map<double, double> history;         ///< time -> observed value, before the start
  std::map<double, SourceLoc> history_loc;  ///< where each year of the history is written
};

struct Lookup {
  std::string name, label, unit, description, source;
  SourceLoc loc;
  std::vector<double> x, y;
  std::vector<SourceLoc> x_loc;  ///< each x, when read from a file
  double at(double v) const;     ///< piecewise linear, flat outside [x0, xn]
};

enum class Cmp { kGe, kGt, kLe, kLt };
std::string_view cmp_name(Cmp c);
/// The comparison written `text` (">=", ">", "<=", "<"), if it is one.
std::optional<Cmp> cmp_of(std::string_view text);
inline bool compare(Cmp c, double v, double t) {
  switch (c) {
    case Cmp::kGe:
      return v >= t;
    case Cmp::kGt:
      return v > t;
    case Cmp::kLe:
      return v <= t;
    case Cmp::kLt:
      return v < t;
  }
  return false;
}

struct Target {
  std::string name, node, label, source;
  double year = 0;
  Cmp op = Cmp::kGe;
  double threshold = 0;
  SourceLoc loc, node_loc, year_loc, name_loc;
};

struct Actual {
  std::string node, label, source;
  double year = 0;
  double value = 0;
  SourceLoc loc, node_loc, year_loc;
};

struct CorrelationGroup {
  std::vector<std::string> parameters;
  Eigen::MatrixXd rank;  ///< requested Spearman correlations
  SourceLoc loc, matrix_loc;
  std::vector<SourceLoc> parameter_loc;  ///< each name in `parameters`
  std::vector<SourceLoc> entry_loc;      ///< each matrix entry, row by row
};

/// A model: from a file (yaml_reader.hpp) or built in code, and checked by validate()
/// (validate.hpp) before the engine uses it. Scenarios produce modified copies
/// (apply_scenario). The `*_loc` members say where things are written, for messages;
/// a model built in code may leave them empty.
struct Model {
  std::string name, description;
  SourceLoc loc;            ///< the `model` key
  std::string path;         ///< file it came from
  std::string source_text;  ///< the file's text, embedded in results
  TimeAxis time;
  std::string cost_unit;    ///< the money unit of levers' `cost` (per year); "" without
  SourceLoc cost_unit_loc;  ///< the `cost_unit` key
  std::vector<Node> nodes;  ///< in file order
  std::vector<Lookup> lookups;
  std::vector<Target> targets;
  std::vector<Actual> actuals;
  std::vector<CorrelationGroup> correlations;

  std::unordered_map<std::string, int> node_index;
  std::unordered_map<std::string, int> lookup_index;
  const Node* find(std::string_view name) const;
  std::vector<std::string> node_names() const;
};

/// A scenario's overrides of levers and parameters.
struct Scenario {
  std::string name, description, model_name;
  std::string path;
  std::vector<std::pair<std::string, std::string>> sources;  ///< (path, text) of the chain
  struct LeverOverride {
    std::optional<LeverRule> rule;  ///< a new rule, or
    double scale = 1;               ///< a factor on the inherited rule
    SourceLoc loc;
  };
  std::vector<std::pair<std::string, LeverOverride>> levers;  ///< in application order
  std::vector<std::pair<std::string, DistSpec>> parameters;
};

/// Stable id of a node name (64-bit FNV-1a of its UTF-8 bytes).
std::uint64_t stable_id(std::string_view name);

/// The model with the scenario's overrides applied; the model name must match.
Model apply_scenario(const Model& model, const Scenario& scenario);

/// The default scenario: the model as written.
Scenario default_scenario(const Model& model);

}  // namespace attain
