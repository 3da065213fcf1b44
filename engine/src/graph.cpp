// Dependency graph: Boost.Graph adjacency list, cycle naming, topological order, lag checks.
#include "attain/graph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <boost/graph/graphviz.hpp>
#include <boost/graph/reverse_graph.hpp>
#include <boost/graph/topological_sort.hpp>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "attain/graph_svg.hpp"
#include "attain/validate.hpp"

namespace attain {
namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;
using EdgeDesc = boost::graph_traits<Graph>::edge_descriptor;

/// Thrown out of the DFS when a back edge closes a cycle.
struct CycleFound {
  std::vector<Vertex> cycle;  // v0 -> v1 -> ... -> v0 (v0 repeated at the end)
};

class CycleVisitor : public boost::default_dfs_visitor {
 public:
  explicit CycleVisitor(std::vector<Vertex>* parent) : parent_(parent) {}
  void tree_edge(EdgeDesc e, const Graph& g) {
    (*parent_)[boost::target(e, g)] = boost::source(e, g);
  }
  void back_edge(EdgeDesc e, const Graph& g) const {
    Vertex from = boost::source(e, g), to = boost::target(e, g);
    std::vector<Vertex> path{from};
    for (Vertex v = from; v != to;) path.push_back(v = (*parent_)[v]);
    CycleFound found;
    found.cycle.assign(path.rbegin(), path.rend());  // to ... from
    found.cycle.push_back(to);
    throw found;
  }

 private:
  std::vector<Vertex>* parent_;
};

/// Records every reference a node makes: (referenced node, steps back, where).
struct Ref {
  int node;
  int lag;
  bool same_step_edge;
  SourceLoc loc;
  std::string context;
};

void collect(const Model& m, const Expr& e, int extra_lag, bool in_change, const std::string& ctx,
             std::vector<Ref>& out) {
  for_each_ref(e, [&](const Expr& r) {
    int lag = r.lag + extra_lag;
    out.push_back({m.node_index.at(r.name), r.lag, !in_change && lag == 0, r.loc, ctx});
  });
}

/// `s` with every byte sequence that is not UTF-8 replaced by U+FFFD (a results file's
/// strings are not checked as a model file's are).
std::string valid_utf8(const std::string& s) {
  const auto replace = nlohmann::json::error_handler_t::replace;
  return nlohmann::json::parse(nlohmann::json(s).dump(-1, ' ', false, replace)).get<std::string>();
}

/// A DOT string's content: quotes and backslashes escaped, and `&` as `&amp;`, since
/// Graphviz reads HTML entities in every label (`&#xD800;` would become a lone surrogate,
/// invalid UTF-8 that pango warns about); bytes that are not UTF-8 become U+FFFD.
std::string dot_escape(const std::string& s) {
  std::string out;
  for (char c : valid_utf8(s)) {
    if (c == '"' || c == '\\') out += '\\';
    out += c == '&' ? std::string("&amp;") : std::string(1, c);
  }
  return out;
}

}  // namespace

DependencyGraph build_graph(const Model& m) {
  validate(m);  // the engine's entry point checks its input, whoever built the model
  const int n = static_cast<int>(m.nodes.size());
  DependencyGraph out;
  Graph same(static_cast<std::size_t>(n)), all(static_cast<std::size_t>(n));
  std::map<std::pair<int, int>, bool> seen;  // (from, to) -> lagged
  const int steps = m.time.steps();

  for (int to = 0; to < n; ++to) {
    const Node& node = m.nodes[static_cast<std::size_t>(to)];
    std::vector<Ref> refs;
    std::string name = fmt::format("'{}'", node.name);
    if (node.formula) collect(m, *node.formula, 0, false, "the formula of " + name, refs);
    for (const auto& e : node.dist.p_expr)
      collect(m, *e, 0, false, "the distribution of " + name, refs);
    if (node.initial) collect(m, *node.initial, 0, false, "'initial' of " + name, refs);
    // A stock's change is evaluated with the previous step's values.
    if (node.change) collect(m, *node.change, 0, true, "'change' of " + name, refs);

    for (const Ref& r : refs) {
      const Node& from = m.nodes[static_cast<std::size_t>(r.node)];
      // Steps at which the expression is evaluated: all, but a stock's initial only at
      // the first and its change at all but the last.
      int last_eval = (node.initial && r.context.starts_with("'initial'")) ? 0
                      : node.change && r.context.starts_with("'change'")   ? steps - 2
                                                                           : steps - 1;
      if (r.lag > 0 && from.kind != NodeKind::kLever && from.kind != NodeKind::kParameter) {
        for (int j = std::max(1, r.lag - last_eval); j <= r.lag; ++j) {
          double t = m.time.start - j * m.time.step;
          bool found = false;
          for (const auto& [ht, hv] : from.history)
            if (std::fabs(ht - t) < 1e-9) found = true;
          if (!found)
            fail(r.loc, fmt::format("{} reads '{}' at {}, before the start, but '{}' has no "
                                    "history for {}; add it, e.g. history: {{{}: …}}",
                                    r.context, from.name, t, from.name, t, t));
        }
      }
      auto key = std::make_pair(r.node, to);
      bool lagged = !r.same_step_edge;
      auto it = seen.find(key);
      if (it == seen.end()) {
        seen.emplace(key, lagged);
      } else {
        it->second = it->second && lagged;
      }
      if (!lagged && r.node == to)
        fail(r.loc, fmt::format("same-step cycle: {} -> {} ({} reads itself at the same step; "
                                "use prev({}) or a stock)",
                                from.name, from.name, r.context, from.name));
    }
  }
  for (const auto& [key, lagged] : seen) {
    out.edges.push_back({key.first, key.second, lagged});
    boost::add_edge(static_cast<Vertex>(key.first), static_cast<Vertex>(key.second), all);
    if (!lagged) {
      boost::add_edge(static_cast<Vertex>(key.first), static_cast<Vertex>(key.second), same);
      ++out.same_step_edges;
    } else {
      ++out.lagged_edges;
    }
  }

  // Same-step cycles, named in full.
  std::vector<Vertex> parent(static_cast<std::size_t>(n));
  try {
    boost::depth_first_search(same, boost::visitor(CycleVisitor(&parent)));
  } catch (const CycleFound& found) {
    std::string text;
    for (std::size_t i = 0; i < found.cycle.size(); ++i)
      text += (i ? " -> " : "") + m.nodes[found.cycle[i]].name;
    fail(m.nodes[found.cycle.front()].loc,
         fmt::format("same-step cycle: {} (break it with a stock or prev())", text));
  }

  std::vector<Vertex> reverse_order;
  boost::topological_sort(same, std::back_inserter(reverse_order));
  out.order.assign(reverse_order.rbegin(), reverse_order.rend());

  // A node is used when a target or actual depends on it, through any edge.
  out.used.assign(static_cast<std::size_t>(n), false);
  auto reversed = boost::make_reverse_graph(all);
  std::vector<boost::default_color_type> color(static_cast<std::size_t>(n));
  auto color_map =
      boost::make_iterator_property_map(color.begin(), boost::get(boost::vertex_index, reversed));
  std::vector<int> sinks;
  for (const auto& t : m.targets) sinks.push_back(m.node_index.at(t.node));
  for (const auto& a : m.actuals) sinks.push_back(m.node_index.at(a.node));
  for (int s : sinks) {
    if (out.used[static_cast<std::size_t>(s)]) continue;
    std::fill(color.begin(), color.end(), boost::white_color);
    boost::breadth_first_visit(reversed, static_cast<Vertex>(s), boost::color_map(color_map));
    for (int v = 0; v < n; ++v)
      if (color[static_cast<std::size_t>(v)] != boost::white_color)
        out.used[static_cast<std::size_t>(v)] = true;
  }
  return out;
}

Model prune_model(const Model& m, const std::vector<std::size_t>& targets) {
  Model only = m;
  only.targets.clear();
  only.actuals.clear();
  for (std::size_t t : targets) only.targets.push_back(m.targets.at(t));
  const DependencyGraph g = build_graph(only);
  std::vector<bool> keep = g.used;
  // A correlated parameter is drawn with its whole group (one copula): keep the group.
  for (const auto& c : m.correlations) {
    bool any = false;
    for (const auto& p : c.parameters)
      any = any || keep[static_cast<std::size_t>(m.node_index.at(p))];
    if (any)
      for (const auto& p : c.parameters) keep[static_cast<std::size_t>(m.node_index.at(p))] = true;
  }
  Model out = only;
  out.nodes.clear();
  out.node_index.clear();
  for (std::size_t i = 0; i < m.nodes.size(); ++i)
    if (keep[i]) {
      out.node_index[m.nodes[i].name] = static_cast<int>(out.nodes.size());
      out.nodes.push_back(m.nodes[i]);
    }
  out.correlations.clear();
  for (const auto& c : m.correlations)
    if (keep[static_cast<std::size_t>(m.node_index.at(c.parameters[0]))])
      out.correlations.push_back(c);
  return out;
}

std::string graph_to_dot(const Model& m, const DependencyGraph& g) {
  return graph_to_dot(m, g, {});
}

namespace {

/// The drawn nodes as a Boost graph: vertex v is node shown[v]; the edges between them.
struct DrawnGraph {
  Graph graph;
  std::vector<int> shown;
  std::map<std::pair<Vertex, Vertex>, bool> is_lagged;
};

DrawnGraph drawn_graph(const Model& m, const DependencyGraph& g, const std::vector<bool>& drawn) {
  DrawnGraph out;
  std::vector<int> vertex_of(m.nodes.size(), -1);
  for (std::size_t i = 0; i < m.nodes.size(); ++i)
    if (drawn.empty() || drawn.at(i)) {
      vertex_of[i] = static_cast<int>(out.shown.size());
      out.shown.push_back(static_cast<int>(i));
    }
  out.graph = Graph(out.shown.size());
  for (const auto& e : g.edges) {
    const int from = vertex_of[static_cast<std::size_t>(e.from)];
    const int to = vertex_of[static_cast<std::size_t>(e.to)];
    if (from < 0 || to < 0) continue;
    boost::add_edge(static_cast<Vertex>(from), static_cast<Vertex>(to), out.graph);
    out.is_lagged[{static_cast<Vertex>(from), static_cast<Vertex>(to)}] = e.lagged;
  }
  return out;
}

}  // namespace

// Texts are DOT strings with no entity read by Graphviz (dot_escape); `drawn` empty: all.
std::string graph_to_dot(const Model& m, const DependencyGraph& g, const std::vector<bool>& drawn) {
  // References, not a structured binding: clang 14 (tools/fuzz) cannot capture one.
  DrawnGraph d = drawn_graph(m, g, drawn);
  const Graph& graph = d.graph;
  const std::vector<int>& shown = d.shown;
  auto& is_lagged = d.is_lagged;
  std::set<std::string> target_nodes;
  for (const auto& t : m.targets) target_nodes.insert(t.node);

  auto shape_of = [](NodeKind kind) {
    switch (kind) {
      case NodeKind::kLever:
        return "invhouse";
      case NodeKind::kParameter:
        return "diamond";
      case NodeKind::kShock:
        return "octagon";
      case NodeKind::kStock:
        return "box";
      case NodeKind::kAuxiliary:
        break;
    }
    return "ellipse";
  };
  auto vertex_writer = [&](std::ostream& os, Vertex v) {
    const Node& node = m.nodes[static_cast<std::size_t>(shown[v])];
    os << fmt::format("[label=\"{}\\n{}\", shape={}{}]", dot_escape(node.name),
                      dot_escape(node.label), shape_of(node.kind),
                      target_nodes.count(node.name) ? ", peripheries=2" : "");
  };
  // A legend of the shapes and lines the model uses (docs/model-language.md, "The graph").
  std::string legend;
  for (const auto& entry : {std::pair{NodeKind::kLever, "lever: policy input"},
                            {NodeKind::kParameter, "parameter: drawn once per run"},
                            {NodeKind::kShock, "shock: drawn at every step"},
                            {NodeKind::kAuxiliary, "auxiliary: formula"},
                            {NodeKind::kStock, "stock: accumulates its change"}}) {
    // Not a structured binding: clang 14 (tools/fuzz) cannot capture one in a lambda.
    const NodeKind kind = entry.first;
    if (std::any_of(m.nodes.begin(), m.nodes.end(), [&](const Node& n) { return n.kind == kind; }))
      legend += fmt::format("  legend_{} [label=\"{}\", shape={}];\n", kind_name(kind),
                            entry.second, shape_of(kind));
  }
  if (!m.targets.empty())
    legend +=
        "  legend_target [label=\"double outline: has a target\", shape=ellipse, "
        "peripheries=2];\n";
  legend += "  legend_from [label=\"\", shape=point]; legend_to [label=\"\", shape=point];\n";
  legend += "  legend_from -> legend_to [label=\"same step\"];\n";
  if (std::any_of(g.edges.begin(), g.edges.end(), [](const auto& e) { return e.lagged; })) {
    legend +=
        "  legend_lag_from [label=\"\", shape=point]; legend_lag_to [label=\"\", "
        "shape=point];\n";
    legend += "  legend_lag_from -> legend_lag_to [style=dashed, label=\"earlier step\"];\n";
  }
  auto edge_writer = [&](std::ostream& os, EdgeDesc e) {
    if (is_lagged[{boost::source(e, graph), boost::target(e, graph)}]) os << "[style=dashed]";
  };
  auto graph_writer = [&](std::ostream& os) {
    os << fmt::format(
        "label=\"{}\";\nrankdir=LR;\nnode [fontname=\"Noto Sans CJK SC,sans-serif\"];\n"
        "subgraph cluster_legend {{\n  label=\"legend\";\n  style=dashed;\n  color=gray;\n"
        "  fontname=\"sans-serif\";\n  node [fontsize=10];\n  edge [fontsize=10, fontname=\"Noto "
        "Sans CJK SC,sans-serif\"];\n{}}}\n",
        dot_escape(m.name), legend);
  };
  std::ostringstream os;
  boost::write_graphviz(os, graph, vertex_writer, edge_writer, graph_writer);
  return os.str();
}

nlohmann::json graph_to_json(const Model& m, const DependencyGraph& g) {
  nlohmann::json nodes = nlohmann::json::array(), edges = nlohmann::json::array();
  for (std::size_t i = 0; i < m.nodes.size(); ++i) {
    const Node& n = m.nodes[i];
    nodes.push_back({{"name", n.name},
                     {"id", fmt::format("{:016x}", n.id)},
                     {"kind", kind_name(n.kind)},
                     {"label", n.label},
                     {"unit", n.unit},
                     {"used", static_cast<bool>(g.used[i])}});
  }
  for (const auto& e : g.edges)
    edges.push_back({{"from", m.nodes[static_cast<std::size_t>(e.from)].name},
                     {"to", m.nodes[static_cast<std::size_t>(e.to)].name},
                     {"lagged", e.lagged}});
  nlohmann::json order = nlohmann::json::array();
  for (int v : g.order) order.push_back(m.nodes[static_cast<std::size_t>(v)].name);
  return {{"model", m.name}, {"nodes", nodes}, {"edges", edges}, {"order", order}};
}

}  // namespace attain
