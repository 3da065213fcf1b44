// The jobs that look at one model or one run: check and replay (attain/job.hpp).
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "attain/isolation.hpp"
#include "attain/job.hpp"
#include "attain/program.hpp"
#include "attain/version.hpp"
#include "attain/yaml_reader.hpp"
#include "job_common.hpp"

namespace attain {

namespace {

nlohmann::json targets_json(const Model& m) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : m.targets)
    out.push_back({{"name", t.name},
                   {"node", t.node},
                   {"label", t.label},
                   {"year", t.year},
                   {"op", cmp_name(t.op)},
                   {"threshold", t.threshold},
                   {"source", t.source}});
  return out;
}

/// The stored scenario `names` picks (the only one when `names` is empty).
const StoredScenario& chosen_scenario(const StoredResults& r, const std::string& path,
                                      const std::vector<std::string>& scenarios) {
  std::vector<std::string> names;
  for (const auto& sc : r.scenarios) names.push_back(sc.name);
  if (names.empty()) bad_arg(fmt::format("'{}' holds no scenario to replay", path));
  if (scenarios.empty()) {
    if (r.scenarios.size() > 1)
      bad_arg(fmt::format("'{}' holds {} scenarios; name one with --scenario NAME: {}", path,
                          names.size(), one_of(names)));
    return r.scenarios[0];
  }
  for (const auto& sc : r.scenarios)
    if (sc.name == scenarios[0]) return sc;
  bad_arg(fmt::format("--scenario '{}' is not in '{}'{}; valid: {}", printable(scenarios[0], 200),
                      path, did_you_mean(scenarios[0], names), one_of(names)));
}

}  // namespace

std::vector<std::string> unused_nodes(const JobInputs& l) {
  std::vector<std::string> unused;
  if (!l.model.targets.empty() || !l.model.actuals.empty())
    for (std::size_t i = 0; i < l.model.nodes.size(); ++i)
      if (!l.graph.used[i]) unused.push_back(l.model.nodes[i].name);
  return unused;
}

nlohmann::json check_document(const JobInputs& l) {
  using nlohmann::json;
  const auto& m = l.model;
  std::map<std::string, int> kinds;
  for (const char* k : {"lever", "parameter", "shock", "auxiliary", "stock"}) kinds[k] = 0;
  for (const auto& n : m.nodes) ++kinds[std::string(kind_name(n.kind))];
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
    actuals.push_back({{"node", a.node}, {"label", a.label}, {"year", a.year}, {"value", a.value}});
  j["actuals"] = actuals;
  j["unused"] = unused_nodes(l);
  json sc = json::array();
  for (const auto& s : l.scenarios)
    sc.push_back({{"name", s.name},
                  {"description", s.description},
                  {"path", s.path},
                  {"levers", s.levers.size()},
                  {"parameters", s.parameters.size()}});
  j["scenarios"] = sc;
  return j;
}

bool is_hdf5_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  std::ifstream in(path, std::ios::binary);
  char head[8] = {};
  in.read(head, sizeof head);
  return in.gcount() == 8 && std::string(head, 8) == std::string("\x89HDF\r\n\x1a\n", 8);
}

std::unique_ptr<ReplayJob> replay_model(const std::string& model_path,
                                        const std::vector<std::string>& scenarios,
                                        const IncludeRules& dirs, std::uint64_t seed,
                                        std::uint64_t run) {
  JobInputs l = load_inputs(model_path, scenarios, dirs);
  if (l.scenarios.size() != 1) bad_arg("replay takes at most one --scenario");
  auto job = std::make_unique<ReplayJob>();
  Program p = compile(apply_scenario(l.model, l.scenarios[0]), l.graph);
  job->result = {nullptr, l.scenarios[0].name, seed, run, replay_run(p, seed, run)};
  job->model = std::move(l.model);
  job->result.model = &job->model;
  return job;
}

std::unique_ptr<ReplayJob> replay_results(const std::string& path,
                                          const std::vector<std::string>& scenarios,
                                          std::uint64_t run) {
  if (scenarios.size() > 1)
    bad_arg("replay takes at most one --scenario (with a results file: a scenario's name)");
  // The file may come from elsewhere: read in a child process first (isolation.hpp), so
  // that a crash or hang of libhdf5 on it is one error line; then read here.
  isolated_read(path, [&] { read_results(path); });
  const StoredResults r = read_results(path);
  if (r.engine_version != kEngineVersion)
    bad_arg(fmt::format(
        "'{}' was written by attain {}, this is attain {}: another engine version may draw "
        "other values, so the run would not be the one the file holds; replay it with attain {}",
        path, printable(r.engine_version, 100), kEngineVersion, printable(r.engine_version, 100)));
  if (r.info.analysis != "run" && r.info.analysis != "compare")
    bad_arg(
        fmt::format("'{}' holds a {}, whose model evaluations are not the numbered runs of an "
                    "ensemble; replay takes a file of 'attain run' or 'attain compare'",
                    path, printable(r.info.analysis, 100)));
  const StoredScenario& chosen = chosen_scenario(r, path, scenarios);
  const std::uint64_t first = r.info.first_run, used = chosen.result.runs;
  if (run < first || run - first >= used)
    bad_arg(fmt::format("--run {} is not a run of scenario '{}' in '{}'; it holds runs {} to {}",
                        run, chosen.name, path, first, first + used - 1));
  auto job = std::make_unique<ReplayJob>();
  job->model = r.model;
  const Model& m = job->model;
  // The scenario from the texts the file stored, never from files on disk (which may
  // have changed since); a model run as written has none.
  Scenario scenario = chosen.sources.empty()
                          ? default_scenario(m)
                          : parse_stored_scenario(chosen.path, chosen.sources, m);
  if (scenario.name != chosen.name)
    bad_arg(fmt::format("'{}': the stored source of scenario '{}' names scenario '{}'", path,
                        chosen.name, printable(scenario.name, 200)));
  const DependencyGraph graph = build_graph(m);
  Program p = compile(apply_scenario(m, scenario), graph);
  job->result = {&m, scenario.name, r.info.seed, run, replay_run(p, r.info.seed, run)};
  return job;
}

nlohmann::json replay_document(const ReplayResult& replay) {
  using nlohmann::json;
  const Model& m = *replay.model;
  json j;
  j["model"] = m.name;
  j["scenario"] = replay.scenario;
  j["seed"] = replay.seed;
  j["run"] = replay.run;
  json years = json::array();
  for (int k = 0; k < m.time.steps(); ++k) years.push_back(m.time.time(k));
  j["time"] = years;
  json nodes = json::object();
  for (std::size_t n = 0; n < m.nodes.size(); ++n) {
    json series = json::array();
    for (const auto& step : replay.values) series.push_back(step[n]);
    nodes[m.nodes[n].name] = series;
  }
  j["values"] = nodes;
  return j;
}

}  // namespace attain
