// The dependency graph as SVG, laid out by Graphviz's library (libgvc, "dot" layout).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "attain/graph.hpp"

namespace attain {

/// @brief Lays out a DOT text with Graphviz's "dot" engine and renders it as SVG (the
/// `<svg>` element only: no XML declaration or DOCTYPE, so it can be put inside HTML).
/// Graphviz is not thread-safe, so calls are serialised. Throws OutputError with
/// Graphviz's message when the text does not parse or the layout fails.
/// `layout` names Graphviz's engine: "dot" (layered) or "sfdp" (force-directed, for large
/// graphs).
std::string dot_to_svg(const std::string& dot, const std::string& layout = "dot");

/// The model's dependency graph (graph_to_dot) as SVG, every node, laid out by "dot".
std::string graph_to_svg(const Model& model, const DependencyGraph& graph);

/// graph_to_dot (graph.hpp) of the nodes whose `drawn` (node index -> drawn) is set, and
/// the edges between them.
std::string graph_to_dot(const Model& model, const DependencyGraph& graph,
                         const std::vector<bool>& drawn);

/// Nodes that the "dot" layout draws quickly: its cost grows about as N^3 (100 nodes of a
/// generated model take 0.5 s, 200 take 3 s, 500 take more than 300 s; docs/report.md).
inline constexpr std::size_t kGraphLayeredNodes = 100;
/// Nodes drawn at most ("sfdp" lays out 2,000 in about a second); beyond, no drawing.
inline constexpr std::size_t kGraphMostNodes = 2000;

/// @brief What the report draws of a model's graph, so that the layout stays quick: every
/// node when there are at most kGraphLayeredNodes; otherwise only the targets' and
/// actuals' nodes and what they depend on (when that leaves out any node); laid out by
/// "dot" when at most kGraphLayeredNodes are drawn, by "sfdp" up to kGraphMostNodes,
/// and not at all beyond.
struct GraphDrawing {
  std::vector<bool> drawn;  ///< node index -> drawn
  std::size_t nodes = 0;    ///< nodes drawn
  std::string layout;       ///< "dot", "sfdp", or "" (not drawn)
  std::string note;         ///< what was drawn and why, for the page; "" when all by "dot"
};
GraphDrawing plan_graph_drawing(const Model& model, const DependencyGraph& graph);

/// The graph as the report draws it (plan_graph_drawing); "" when nothing is drawn.
std::string report_graph_svg(const Model& model, const DependencyGraph& graph,
                             const GraphDrawing& plan);

}  // namespace attain
