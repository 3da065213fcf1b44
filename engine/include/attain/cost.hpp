// Levers' costs: money per year on each lever, summed over a scenario's years.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "attain/model.hpp"

namespace attain {

/// One lever's cost in a scenario: its `cost` expression at each time that counts.
struct LeverCost {
  std::string lever;
  std::vector<double> per_year;  ///< money per year at each of CostResult::times
  double total = 0;              ///< sum of per_year times the step
};

/// @brief What a scenario's levers cost. Costs count at every time of the axis after its
/// start (the start is the state the model begins from, before any measure): with
/// `time: {start: 2017, end: 2020}`, 2018, 2019 and 2020. A lever's total is the sum of
/// its cost per year at those times times the step, and the scenario's total the sum of
/// its levers' totals.
struct CostResult {
  std::string unit;               ///< the model's `cost_unit`
  std::vector<double> times;      ///< start + step, ..., end
  std::vector<LeverCost> levers;  ///< every lever with a `cost`, in file order
  double total = 0;
};

/// The value of a lever's `cost` expression at time `t`: numbers, levers (prev and lag
/// included: a lever's rule gives every time), `year`, `dt`, lookups and the functions
/// other than smooth(). Throws std::invalid_argument for anything else (validate()
/// refuses such a cost with its place in the file first).
double cost_at(const Model& model, const Expr& cost, double t);

/// The scenario's costs, from its applied model (apply_scenario): nullopt when no lever
/// has a cost. A cost may be negative (a saving), and NaN when a scenario's lever makes
/// the expression undefined.
std::optional<CostResult> scenario_cost(const Model& applied);

}  // namespace attain
