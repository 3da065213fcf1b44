// The attain command line: check, graph, run and replay, over the attain::engine library.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "attain/ensemble.hpp"
#include "attain/graph.hpp"
#include "attain/program.hpp"
#include "attain/results_file.hpp"
#include "attain/version.hpp"
#include "attain/yaml_reader.hpp"

namespace {

using attain::InputError;
using nlohmann::json;

constexpr int kExitInput = 2;
constexpr int kExitRun = 3;

std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) {
  g_interrupted.store(true);
}

/// A model with the scenarios it runs under, all checked.
struct Loaded {
  attain::Model model;
  attain::DependencyGraph graph;
  std::vector<attain::Scenario> scenarios;
};

Loaded load(const std::string& model_path, const std::vector<std::string>& scenario_paths) {
  Loaded l;
  l.model = attain::load_model(model_path);
  l.graph = attain::build_graph(l.model);
  std::map<std::string, std::string> seen;
  for (const auto& p : scenario_paths) {
    attain::Scenario s = attain::load_scenario(p, l.model);
    if (auto [it, fresh] = seen.emplace(s.name, p); !fresh)
      attain::fail({p, 1, 1}, fmt::format("scenario name '{}' is also used by '{}'; scenario names "
                                          "must differ",
                                          s.name, it->second));
    l.scenarios.push_back(std::move(s));
  }
  if (l.scenarios.empty()) l.scenarios.push_back(attain::default_scenario(l.model));
  return l;
}

json targets_json(const attain::Model& m) {
  json out = json::array();
  for (const auto& t : m.targets)
    out.push_back({{"name", t.name},
                   {"node", t.node},
                   {"label", t.label},
                   {"year", t.year},
                   {"op", attain::cmp_name(t.op)},
                   {"threshold", t.threshold},
                   {"source", t.source}});
  return out;
}

int cmd_check(const std::string& model_path, const std::vector<std::string>& scenarios,
              bool as_json) {
  Loaded l = load(model_path, scenarios);
  const auto& m = l.model;
  std::map<std::string, int> kinds;
  for (const char* k : {"lever", "parameter", "shock", "auxiliary", "stock"}) kinds[k] = 0;
  for (const auto& n : m.nodes) ++kinds[std::string(attain::kind_name(n.kind))];
  std::vector<std::string> unused;
  if (!m.targets.empty() || !m.actuals.empty())
    for (std::size_t i = 0; i < m.nodes.size(); ++i)
      if (!l.graph.used[i]) unused.push_back(m.nodes[i].name);
  if (as_json) {
    json j;
    j["model"] = m.name;
    j["path"] = m.path;
    j["time"] = {{"start", m.time.start},
                 {"end", m.time.end},
                 {"step", m.time.step},
                 {"steps", m.time.steps()}};
    j["nodes"] = kinds;
    j["nodes"]["total"] = m.nodes.size();
    j["lookups"] = m.lookups.size();
    j["edges"] = {{"same_step", l.graph.same_step_edges}, {"lagged", l.graph.lagged_edges}};
    j["correlation_groups"] = m.correlations.size();
    j["targets"] = targets_json(m);
    json actuals = json::array();
    for (const auto& a : m.actuals)
      actuals.push_back(
          {{"node", a.node}, {"label", a.label}, {"year", a.year}, {"value", a.value}});
    j["actuals"] = actuals;
    j["unused"] = unused;
    json sc = json::array();
    for (const auto& s : l.scenarios)
      sc.push_back({{"name", s.name},
                    {"description", s.description},
                    {"path", s.path},
                    {"levers", s.levers.size()},
                    {"parameters", s.parameters.size()}});
    j["scenarios"] = sc;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  fmt::print("model {} ({}): ok\n", m.name, m.path);
  fmt::print("  time: {} to {} by {} ({} steps)\n", m.time.start, m.time.end, m.time.step,
             m.time.steps());
  fmt::print(
      "  nodes: {} ({} levers, {} parameters, {} shocks, {} auxiliaries, {} stocks), {} lookups\n",
      m.nodes.size(), kinds["lever"], kinds["parameter"], kinds["shock"], kinds["auxiliary"],
      kinds["stock"], m.lookups.size());
  fmt::print("  edges: {} same-step, {} lagged\n", l.graph.same_step_edges, l.graph.lagged_edges);
  fmt::print("  targets: {}, actuals: {}, correlation groups: {}\n", m.targets.size(),
             m.actuals.size(), m.correlations.size());
  for (const auto& t : m.targets)
    fmt::print("    {} {} {} {} in {}: {}\n", t.name, t.node, attain::cmp_name(t.op), t.threshold,
               t.year, t.label);
  for (const auto& s : l.scenarios)
    if (!s.path.empty())
      fmt::print("  scenario {} ({}): ok, {} lever and {} parameter overrides\n", s.name, s.path,
                 s.levers.size(), s.parameters.size());
  for (const auto& u : unused)
    fmt::print(stderr, "{}:{}:{}: warning: node '{}' does not affect any target or actual\n",
               m.nodes[static_cast<std::size_t>(m.node_index.at(u))].loc.file,
               m.nodes[static_cast<std::size_t>(m.node_index.at(u))].loc.line,
               m.nodes[static_cast<std::size_t>(m.node_index.at(u))].loc.col, u);
  return 0;
}

int cmd_graph(const std::string& model_path, const std::string& format) {
  Loaded l = load(model_path, {});
  if (format == "dot") {
    std::cout << attain::graph_to_dot(l.model, l.graph);
  } else if (format == "json") {
    std::cout << attain::graph_to_json(l.model, l.graph).dump(2) << "\n";
  } else {
    attain::Program p = attain::compile(l.model, l.graph);
    std::cout << p.listing();
  }
  return 0;
}

/// Parses a whole number in [0, 2^64 - 1]; nullopt for anything else.
std::optional<std::uint64_t> parse_count(const std::string& text) {
  std::uint64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return v;
}

struct RunArgs {
  std::string model;
  std::vector<std::string> scenarios;
  std::string runs = "10000";
  std::string seed = "1";
  int threads = 0;
  int block = 256;
  std::string store = "targets";
  std::string out;
  bool json = false;
  bool quiet = false;
};

/// "p [lo, hi]" with three decimals; small probabilities in scientific notation so
/// that 4 hits in 10^6 runs do not read as zero.
std::string interval(double p, double lo, double hi) {
  if (hi < 0.001 || (p > 0 && p < 0.001)) return fmt::format("{:.1e} [{:.1e}, {:.1e}]", p, lo, hi);
  return fmt::format("{:.3f} [{:.3f}, {:.3f}]", p, lo, hi);
}

int cmd_run(const RunArgs& a) {
  auto bad_arg = [](const std::string& text) -> int {
    fmt::print(stderr, "attain: error: {}\n", text);
    return kExitInput;
  };
  auto runs = parse_count(a.runs);
  if (!runs || *runs < 1 || *runs > (std::uint64_t{1} << 48))
    return bad_arg(fmt::format("--runs must be a whole number from 1 to 2^48 (got '{}')", a.runs));
  auto seed = parse_count(a.seed);
  if (!seed)
    return bad_arg(
        fmt::format("--seed must be a whole number from 0 to 2^64-1 (got '{}')", a.seed));
  if (a.threads < 0 || a.threads > 4096)
    return bad_arg(fmt::format("--threads must be from 1 to 4096 (got {})", a.threads));
  if (a.block < 1 || a.block > 65536)
    return bad_arg(fmt::format("--block must be in [1, 65536] (got {})", a.block));
  std::optional<attain::StoreLevel> store;
  for (auto s :
       {attain::StoreLevel::kSummary, attain::StoreLevel::kTargets, attain::StoreLevel::kFull})
    if (a.store == attain::store_name(s)) store = s;
  if (!store)
    return bad_arg(
        fmt::format("unknown --store '{}'; valid: 'summary', 'targets' or 'full'", a.store));

  Loaded l = load(a.model, a.scenarios);
  attain::RunInfo info;
  info.seed = *seed;
  info.runs = *runs;
  info.store = *store;
  std::optional<attain::ResultsFile> file;
  if (!a.out.empty()) {
    try {
      file.emplace(a.out, l.model, info);
    } catch (const attain::OutputError& e) {
      return bad_arg(fmt::format("--out: {}", e.what()));
    }
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const bool bar = !a.quiet && ::isatty(2);
  std::vector<attain::EnsembleResult> results;
  double seconds = 0;
  for (std::size_t si = 0; si < l.scenarios.size(); ++si) {
    const auto& s = l.scenarios[si];
    attain::Model m = attain::apply_scenario(l.model, s);
    attain::Program program = attain::compile(m, l.graph);
    attain::EnsembleOptions o;
    o.runs = info.runs;
    o.seed = info.seed;
    o.threads = a.threads;
    o.block = a.block;
    o.chunk = info.chunk;
    o.store = *store;
    o.cancel = &g_interrupted;
    if (bar)
      o.progress = [&, si](std::uint64_t done) {
        int width = 40;
        int filled =
            static_cast<int>(static_cast<double>(done) / static_cast<double>(o.runs) * width);
        fmt::print(stderr, "\r{:<16} [{:<40}] {:>3}% ({}/{})", s.name.substr(0, 16),
                   std::string(static_cast<std::size_t>(filled), '#'), done * 100 / o.runs, si + 1,
                   l.scenarios.size());
      };
    attain::ChunkSink* sink = file ? &file->begin_scenario(s, program) : nullptr;
    results.push_back(attain::run_ensemble(program, o, sink));
    if (bar) fmt::print(stderr, "\r{:80}\r", "");
    seconds += results.back().seconds;
    if (file) file->end_scenario(results.back());
  }
  if (file) file->commit();

  const auto& m = l.model;
  if (a.json) {
    json j;
    j["model"] = m.name;
    j["seed"] = info.seed;
    j["runs"] = info.runs;
    j["output"] = a.out.empty() ? json(nullptr) : json(a.out);
    json sc = json::array();
    for (std::size_t si = 0; si < l.scenarios.size(); ++si) {
      const auto& r = results[si];
      json targets = json::array();
      for (std::size_t t = 0; t < m.targets.size(); ++t) {
        const auto& tr = r.targets[t];
        json first = json::object();
        for (int k = 0; k < m.time.steps(); ++k)
          if (tr.first_met[static_cast<std::size_t>(k)])
            first[fmt::format("{}", m.time.time(k))] = tr.first_met[static_cast<std::size_t>(k)];
        json t_json = targets_json(m)[t];
        t_json.update({{"hits", tr.hits},
                       {"runs", tr.runs},
                       {"probability", tr.probability},
                       {"ci_low", tr.ci_low},
                       {"ci_high", tr.ci_high},
                       {"first_met", first},
                       {"never_met", tr.never}});
        targets.push_back(t_json);
      }
      json actuals = json::array();
      for (std::size_t i = 0; i < m.actuals.size(); ++i)
        actuals.push_back({{"node", m.actuals[i].node},
                           {"label", m.actuals[i].label},
                           {"year", m.actuals[i].year},
                           {"value", m.actuals[i].value},
                           {"percentile", r.actuals[i].percentile}});
      sc.push_back({{"name", l.scenarios[si].name},
                    {"description", l.scenarios[si].description},
                    {"targets", targets},
                    {"joint",
                     {{"hits", r.joint_hits},
                      {"runs", r.runs},
                      {"probability", r.joint_probability},
                      {"ci_low", r.joint_low},
                      {"ci_high", r.joint_high}}},
                    {"actuals", actuals},
                    {"seconds", r.seconds}});
    }
    j["scenarios"] = sc;
    std::cout << j.dump(2) << "\n";
    return 0;
  }

  fmt::print("{}: {} runs per scenario, seed {}\n", m.name, info.runs, info.seed);
  fmt::print("probability of meeting each target, with its 95 % Wilson interval\n\n");
  // The first column fits the longest target name.
  std::size_t w = 24;
  for (const auto& t : m.targets) w = std::max(w, t.name.size());
  for (const auto& t : m.targets) fmt::print("  {:<{}} {}\n", t.name, w, t.label);
  fmt::print("\n");
  std::string header = fmt::format("{:<{}} {:>14}", "target", w, "threshold");
  for (const auto& s : l.scenarios) header += fmt::format("  {:>26}", s.name);
  fmt::print("{}\n{}\n", header, std::string(header.size(), '-'));
  for (std::size_t t = 0; t < m.targets.size(); ++t) {
    const auto& tt = m.targets[t];
    std::string row = fmt::format("{:<{}} {:>14}", tt.name, w,
                                  fmt::format("{} {:g}", attain::cmp_name(tt.op), tt.threshold));
    for (const auto& r : results)
      row += fmt::format("  {:>26}", interval(r.targets[t].probability, r.targets[t].ci_low,
                                              r.targets[t].ci_high));
    fmt::print("{}\n", row);
  }
  if (!m.targets.empty()) {
    std::string row = fmt::format("{:<{}} {:>14}", "all targets together", w, "");
    for (const auto& r : results)
      row += fmt::format("  {:>26}", interval(r.joint_probability, r.joint_low, r.joint_high));
    fmt::print("{}\n", row);
  }
  if (!m.actuals.empty()) {
    fmt::print("\nwhere the known actuals fall in the predicted distribution (percentile)\n");
    for (std::size_t i = 0; i < m.actuals.size(); ++i) {
      const auto& ac = m.actuals[i];
      std::string row = fmt::format("{:<{}} {:>14}", fmt::format("{} {}", ac.node, ac.year), w,
                                    fmt::format("{:g}", ac.value));
      for (const auto& r : results)
        row += fmt::format("  {:>26}", fmt::format("{:.1f} %", 100 * r.actuals[i].percentile));
      fmt::print("{}\n", row);
    }
  }
  fmt::print("\n{} runs in {:.2f} s ({:.0f} runs/s){}\n", info.runs * l.scenarios.size(), seconds,
             static_cast<double>(info.runs * l.scenarios.size()) / std::max(seconds, 1e-9),
             a.out.empty() ? "" : fmt::format("; results in {}", a.out));
  return 0;
}

int cmd_replay(const std::string& model_path, const std::vector<std::string>& scenarios,
               const std::string& run_text, const std::string& seed_text, bool as_json) {
  auto run_index = parse_count(run_text);
  auto seed_value = parse_count(seed_text);
  if (!run_index) {
    fmt::print(stderr, "attain: error: --run must be a whole number >= 0 (got '{}')\n", run_text);
    return kExitInput;
  }
  if (!seed_value) {
    fmt::print(stderr, "attain: error: --seed must be a whole number from 0 to 2^64-1 (got '{}')\n",
               seed_text);
    return kExitInput;
  }
  const std::uint64_t run = *run_index, seed = *seed_value;
  Loaded l = load(model_path, scenarios);
  if (l.scenarios.size() != 1) {
    fmt::print(stderr, "attain: error: replay takes at most one --scenario\n");
    return kExitInput;
  }
  attain::Program p = attain::compile(attain::apply_scenario(l.model, l.scenarios[0]), l.graph);
  auto values = attain::replay_run(p, seed, run);
  const auto& m = l.model;
  if (as_json) {
    json j;
    j["model"] = m.name;
    j["scenario"] = l.scenarios[0].name;
    j["seed"] = seed;
    j["run"] = run;
    json years = json::array();
    for (int k = 0; k < m.time.steps(); ++k) years.push_back(m.time.time(k));
    j["time"] = years;
    json nodes = json::object();
    for (std::size_t n = 0; n < m.nodes.size(); ++n) {
      json series = json::array();
      for (const auto& step : values) series.push_back(step[n]);
      nodes[m.nodes[n].name] = series;
    }
    j["values"] = nodes;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::string header = fmt::format("{:<28}", "node");
  for (int k = 0; k < m.time.steps(); ++k)
    header += fmt::format(" {:>14}", fmt::format("{:g}", m.time.time(k)));
  fmt::print("{} / {}: run {} with seed {}\n{}\n", m.name, l.scenarios[0].name, run, seed, header);
  for (std::size_t n = 0; n < m.nodes.size(); ++n) {
    std::string row = fmt::format("{:<28}", m.nodes[n].name);
    for (const auto& step : values) row += fmt::format(" {:>14.6g}", step[n]);
    fmt::print("{}\n", row);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"attain: probability of reaching a plan's targets, by Monte Carlo over its model"};
  app.set_version_flag("--version", std::string("attain ") + attain::kEngineVersion);
  app.require_subcommand(1);

  std::string model;
  std::vector<std::string> scenarios;
  bool as_json = false;
  auto* check = app.add_subcommand("check", "Validate a model (and scenarios); print its summary");
  check->add_option("model", model, "model file (YAML)")->required();
  check->add_option("--scenario", scenarios, "scenario file (YAML); repeatable");
  check->add_flag("--json", as_json, "print the summary as JSON");

  std::string format = "dot";
  auto* graph = app.add_subcommand("graph", "Print the dependency graph");
  graph->add_option("model", model, "model file (YAML)")->required();
  graph->add_option("--format", format, "dot (Graphviz), json, or program (compiled instructions)")
      ->check(CLI::IsMember({"dot", "json", "program"}));

  RunArgs ra;
  auto* run = app.add_subcommand("run", "Run the Monte Carlo ensemble and report attainment");
  run->add_option("model", ra.model, "model file (YAML)")->required();
  run->add_option("--scenario", ra.scenarios, "scenario file (YAML); repeatable, one column each");
  run->add_option("--runs", ra.runs, "runs per scenario (default 10000)");
  run->add_option("--seed", ra.seed, "random seed (default 1)");
  run->add_option("--threads", ra.threads, "worker threads (default: every core)");
  run->add_option("--block", ra.block,
                  "runs evaluated together (default 256; results do not depend on it)");
  run->add_option("--store", ra.store, "per-run data to keep: summary, targets (default) or full");
  run->add_option("--out", ra.out, "results file (HDF5)");
  run->add_flag("--json", ra.json, "print the summary as JSON");
  run->add_flag("--quiet", ra.quiet, "no progress bar");

  std::string replay_run, replay_seed = "1";
  auto* replay = app.add_subcommand("replay", "Re-run one run of an ensemble and print every node");
  replay->add_option("model", model, "model file (YAML)")->required();
  replay->add_option("--scenario", scenarios, "scenario file (YAML)");
  replay->add_option("--run", replay_run, "run index")->required();
  replay->add_option("--seed", replay_seed, "random seed (default 1)");
  replay->add_flag("--json", as_json, "print as JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "attain: error: {} (see 'attain --help')\n", e.what());
    return kExitInput;
  }

  try {
    if (*check) return cmd_check(model, scenarios, as_json);
    if (*graph) return cmd_graph(model, format);
    if (*run) {
      if (ra.threads == 0 && run->count("--threads")) {
        fmt::print(stderr, "attain: error: --threads must be >= 1 (got 0)\n");
        return kExitInput;
      }
      return cmd_run(ra);
    }
    if (*replay) return cmd_replay(model, scenarios, replay_run, replay_seed, as_json);
  } catch (const InputError& e) {
    fmt::print(stderr, "{}\n", e.what());
    return kExitInput;
  } catch (const attain::OutputError& e) {
    fmt::print(stderr, "attain: error: {}\n", e.what());
    return kExitInput;
  } catch (const attain::RunError& e) {
    fmt::print(stderr, "attain: error: run stopped: {}\n", e.what());
    return kExitRun;
  } catch (const attain::InterruptedError&) {
    fmt::print(stderr, "\nattain: interrupted; no results file was written\n");
    return 130;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr,
               "attain: error: out of memory; try fewer --threads, a smaller --block or "
               "--store summary\n");
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "attain: internal error: {}\n", e.what());
    return 1;
  }
  return 0;
}
