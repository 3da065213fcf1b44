// The dependency graph of a model (Boost.Graph): edges, evaluation order, checks.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attain/model.hpp"

namespace attain {

/// One dependency: `to` reads `from`, at the same step or an earlier one.
struct Dependency {
  int from = 0;
  int to = 0;
  bool lagged = false;  ///< reads an earlier step only (prev, lag, a stock's change)
};

/// The checked dependency graph of a model.
struct DependencyGraph {
  std::vector<Dependency> edges;  ///< one per (from, to) pair, in a stable order
  std::vector<int> order;         ///< evaluation order within a step (topological)
  std::vector<bool> used;         ///< node index -> some target or actual depends on it
  int same_step_edges = 0;
  int lagged_edges = 0;
};

/// @brief Builds the graph and checks it: a same-step cycle is an InputError naming the
/// whole cycle; so is a lag that reaches before the start where the node has no history.
/// @code
///   Model m = load_model("models/teaching.yaml");
///   DependencyGraph g = build_graph(m);  // g.order: evaluation order
/// @endcode
DependencyGraph build_graph(const Model& model);

/// @brief The model reduced to what the given targets (indices into model.targets) depend
/// on: their ancestors through any edge, whole correlation groups, no actuals. Node ids
/// (the random-stream keys) are unchanged, so every kept node takes exactly the values it
/// takes in the whole model, run by run; a search for one target evaluates only these.
Model prune_model(const Model& model, const std::vector<std::size_t>& targets);

/// Graphviz DOT (written through boost::write_graphviz); lagged edges dashed.
std::string graph_to_dot(const Model& model, const DependencyGraph& graph);

/// The graph as JSON: nodes (name, id, kind, label, unit, used) and edges.
nlohmann::json graph_to_json(const Model& model, const DependencyGraph& graph);

}  // namespace attain
