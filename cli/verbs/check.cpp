// attain check MODEL [--scenario FILE]... [--json]: validate a model and its scenarios and
// print its summary.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "verbs.hpp"

namespace attain::cli {

namespace {

struct CheckArgs {
  std::string model;
  std::vector<std::string> scenarios;
  IncludeRules dirs;
  bool json = false;
};

void print_check(const JobInputs& l, const nlohmann::json& j) {
  const auto& m = l.model;
  const auto& kinds = j["nodes"];
  fmt::print("model {} ({}): ok\n", m.name, printable(m.path, 500));
  fmt::print("  time: {} to {} by {} ({} steps)\n", m.time.start, m.time.end, m.time.step,
             m.time.steps());
  fmt::print(
      "  nodes: {} ({} levers, {} parameters, {} shocks, {} auxiliaries, {} stocks), {} lookups\n",
      m.nodes.size(), kinds["lever"].get<int>(), kinds["parameter"].get<int>(),
      kinds["shock"].get<int>(), kinds["auxiliary"].get<int>(), kinds["stock"].get<int>(),
      m.lookups.size());
  fmt::print("  edges: {} same-step, {} lagged\n", l.graph.same_step_edges, l.graph.lagged_edges);
  fmt::print("  targets: {}, actuals: {}, correlation groups: {}\n", m.targets.size(),
             m.actuals.size(), m.correlations.size());
  for (const auto& t : m.targets)
    fmt::print("    {} {} {} {} in {}: {}\n", t.name, t.node, cmp_name(t.op), t.threshold, t.year,
               printable(t.label, 300));
  for (const auto& s : l.scenarios)
    if (!s.path.empty())
      fmt::print("  scenario {} ({}): ok, {} lever and {} parameter overrides\n", s.name, s.path,
                 s.levers.size(), s.parameters.size());
  for (const auto& u : j["unused"]) {
    const auto& loc = m.nodes[static_cast<std::size_t>(m.node_index.at(u.get<std::string>()))].loc;
    fmt::print(stderr, "{}:{}:{}: warning: node '{}' does not affect any target or actual\n",
               loc.file, loc.line, loc.col, u.get<std::string>());
  }
}

}  // namespace

Action declare_check(CLI::App& sub) {
  auto a = std::make_shared<CheckArgs>();
  sub.add_option("model", a->model, "model file (YAML)")->required();
  sub.add_option("--scenario", a->scenarios, "scenario file (YAML); repeatable");
  add_scenario_dir(sub, a->dirs);
  sub.add_flag("--json", a->json, "print the summary as JSON");
  return [a] {
    const JobInputs l = load_inputs(a->model, a->scenarios, a->dirs);
    const nlohmann::json j = check_document(l);
    if (a->json)
      std::cout << j.dump(2) << "\n";
    else
      print_check(l, j);
    return 0;
  };
}

}  // namespace attain::cli
