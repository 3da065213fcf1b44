// The dependency graph as SVG, laid out by Graphviz's library (libgvc, "dot" layout).
#pragma once

#include <string>

#include "attain/graph.hpp"

namespace attain {

/// @brief Lays out a DOT text with Graphviz's "dot" engine and renders it as SVG (the
/// `<svg>` element only: no XML declaration or DOCTYPE, so it can be put inside HTML).
/// Graphviz is not thread-safe, so calls are serialised. Throws OutputError with
/// Graphviz's message when the text does not parse or the layout fails.
std::string dot_to_svg(const std::string& dot);

/// The model's dependency graph (graph_to_dot) as SVG.
std::string graph_to_svg(const Model& model, const DependencyGraph& graph);

}  // namespace attain
