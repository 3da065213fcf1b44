// The dependency graph as SVG through Graphviz's library: agmemread, gvLayout("dot"),
// gvRenderData("svg").
#include "attain/graph_svg.hpp"

#include <fmt/format.h>
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "attain/results_file.hpp"

namespace attain {
namespace {

std::mutex g_graphviz;   // Graphviz keeps global state: one caller at a time
std::string g_messages;  // what Graphviz reported during the current call

extern "C" int collect_message(char* text) {
  if (text) g_messages += text;
  return 0;
}

std::string last_message() {
  std::string m = g_messages;
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  if (m.empty()) m = "no message";
  return m;
}

}  // namespace

std::string dot_to_svg(const std::string& dot, const std::string& layout) {
  std::lock_guard lock(g_graphviz);
  g_messages.clear();
  agseterr(AGERR);  // warnings are not errors; keep only errors
  agusererrf previous = agseterrf(collect_message);
  struct Restore {
    agusererrf f;
    ~Restore() { agseterrf(f); }
  } restore{previous};

  // One context for the process, never freed: Graphviz 2.42's pango plugin keeps a cache
  // (the last font name) that gvFreeContext frees, so a second context would read freed
  // memory when it measures text (found by AddressSanitizer).
  static GVC_t* const context = gvContext();
  if (!context) throw OutputError("graph: cannot start Graphviz (gvContext failed)");
  GVC_t* gvc = context;
  std::unique_ptr<Agraph_t, int (*)(Agraph_t*)> g(agmemread(dot.c_str()), agclose);
  if (!g) throw OutputError("graph: Graphviz cannot read the DOT text: " + last_message());
  if (gvLayout(gvc, g.get(), layout.c_str()) != 0)
    throw OutputError("graph: Graphviz's " + layout + " layout failed: " + last_message() +
                      " (is the graphviz package installed? tools/deps.sh installs it)");
  char* data = nullptr;
  unsigned int length = 0;
  const int rendered = gvRenderData(gvc, g.get(), "svg", &data, &length);
  std::string svg = data ? std::string(data, length) : std::string();
  if (data) gvFreeRenderData(data);
  gvFreeLayout(gvc, g.get());
  if (rendered != 0 || svg.empty())
    throw OutputError("graph: Graphviz cannot render SVG: " + last_message() +
                      " (is the graphviz package installed? tools/deps.sh installs it)");
  // Only the <svg> element: HTML takes no XML declaration or DOCTYPE inside a page.
  const auto start = svg.find("<svg");
  if (start == std::string::npos) throw OutputError("graph: Graphviz's SVG has no <svg> element");
  svg.erase(0, start);
  while (!svg.empty() && (svg.back() == '\n' || svg.back() == '\0')) svg.pop_back();
  return svg;
}

std::string graph_to_svg(const Model& model, const DependencyGraph& graph) {
  return dot_to_svg(graph_to_dot(model, graph));
}

GraphDrawing plan_graph_drawing(const Model& model, const DependencyGraph& graph) {
  GraphDrawing plan;
  const std::size_t all = model.nodes.size();
  plan.drawn.assign(all, true);
  plan.nodes = all;
  std::string what = fmt::format("all {} quantities", all);
  const std::size_t used =
      static_cast<std::size_t>(std::count(graph.used.begin(), graph.used.end(), true));
  if (all > kGraphLayeredNodes && used > 0 && used < all) {
    plan.drawn = graph.used;
    plan.nodes = used;
    what = fmt::format(
        "only the {} of the {} quantities that the targets and actuals depend "
        "on",
        used, all);
  }
  if (plan.nodes <= kGraphLayeredNodes) {
    plan.layout = "dot";
    if (plan.nodes < all)
      plan.note = fmt::format(
          "The graph shows {}: the layered layout of all {} takes long "
          "(its time grows about as the cube of the number of nodes).",
          what, all);
  } else if (plan.nodes <= kGraphMostNodes) {
    plan.layout = "sfdp";
    plan.note = fmt::format(
        "The graph shows {}, placed by a force-directed layout (Graphviz's "
        "sfdp): the layered layout takes long beyond {} quantities (its time "
        "grows about as the cube of their number).",
        what, kGraphLayeredNodes);
  } else {
    plan.note = fmt::format(
        "The graph is not drawn: it would have {} quantities, more than the "
        "{} a page draws; 'attain graph --format dot' writes it for Graphviz.",
        plan.nodes, kGraphMostNodes);
    plan.drawn.assign(all, false);
    plan.nodes = 0;
  }
  return plan;
}

std::string report_graph_svg(const Model& model, const DependencyGraph& graph,
                             const GraphDrawing& plan) {
  if (plan.layout.empty()) return "";
  return dot_to_svg(graph_to_dot(model, graph, plan.drawn), plan.layout);
}

}  // namespace attain
