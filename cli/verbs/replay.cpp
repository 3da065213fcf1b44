// attain replay MODEL|RESULTS.h5 --run R: one run again, every node at every step.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "verbs.hpp"

namespace attain::cli {

namespace {

struct ReplayArgs {
  std::string model;
  std::vector<std::string> scenarios;
  IncludeRules dirs;
  std::string run, seed = "1";
  bool json = false;
  CLI::App* sub = nullptr;
};

void print_replay(const ReplayResult& r) {
  const Model& m = *r.model;
  std::string header = fmt::format("{:<28}", "node");
  for (int k = 0; k < m.time.steps(); ++k)
    header += fmt::format(" {:>14}", fmt::format("{:g}", m.time.time(k)));
  fmt::print("{} / {}: run {} with seed {}\n{}\n", m.name, r.scenario, r.run, r.seed, header);
  for (std::size_t n = 0; n < m.nodes.size(); ++n) {
    std::string row = fmt::format("{:<28}", m.nodes[n].name);
    for (const auto& step : r.values) row += fmt::format(" {:>14.6g}", step[n]);
    fmt::print("{}\n", row);
  }
}

int replay_verb(const ReplayArgs& a) {
  const auto run = parse_count(a.run);
  if (!run) bad_arg(fmt::format("--run must be a whole number >= 0 (got '{}')", a.run));
  std::unique_ptr<ReplayJob> job;
  if (is_hdf5_file(a.model)) {
    if (a.sub->count("--seed"))
      bad_arg(fmt::format("--seed: '{}' is a results file, which gives the seed; leave out --seed",
                          a.model));
    job = replay_results(a.model, a.scenarios, *run);
  } else {
    const auto seed = parse_count(a.seed);
    if (!seed)
      bad_arg(fmt::format("--seed must be a whole number from 0 to 2^64-1 (got '{}')", a.seed));
    job = replay_model(a.model, a.scenarios, a.dirs, *seed, *run);
  }
  if (a.json)
    std::cout << replay_document(job->result).dump(2) << "\n";
  else
    print_replay(job->result);
  return 0;
}

}  // namespace

Action declare_replay(CLI::App& sub) {
  auto a = std::make_shared<ReplayArgs>();
  a->sub = &sub;
  sub.add_option("model", a->model, "model file (YAML), or a results file (HDF5)")->required();
  sub.add_option("--scenario", a->scenarios,
                 "scenario file (YAML); with a results file, a stored scenario's name");
  add_scenario_dir(sub, a->dirs);
  sub.add_option("--run", a->run, "run index")->required();
  sub.add_option("--seed", a->seed,
                 "random seed (default 1; with a results file, the file's seed)");
  sub.add_flag("--json", a->json, "print as JSON");
  return [a] { return replay_verb(*a); };
}

}  // namespace attain::cli
