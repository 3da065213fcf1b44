// attain graph MODEL [--format dot|json|program]: the dependency graph, or the compiled
// program's instructions.
#include <iostream>
#include <memory>

#include "attain/program.hpp"
#include "verbs.hpp"

namespace attain::cli {

Action declare_graph(CLI::App& sub) {
  struct GraphArgs {
    std::string model, format = "dot";
  };
  auto a = std::make_shared<GraphArgs>();
  sub.add_option("model", a->model, "model file (YAML)")->required();
  sub.add_option("--format", a->format, "dot (Graphviz), json, or program (compiled instructions)")
      ->check(CLI::IsMember({"dot", "json", "program"}));
  return [a] {
    const JobInputs l = load_inputs(a->model, {});
    if (a->format == "dot")
      std::cout << graph_to_dot(l.model, l.graph);
    else if (a->format == "json")
      std::cout << graph_to_json(l.model, l.graph).dump(2) << "\n";
    else
      std::cout << compile(l.model, l.graph).listing();
    return 0;
  };
}

}  // namespace attain::cli
