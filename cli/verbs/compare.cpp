// attain compare MODEL --scenario REF --scenario OTHER... : every scenario against the
// first on the same runs, paired differences with their intervals (docs/analyses.md).
#include <fmt/format.h>

#include <memory>

#include "format.hpp"
#include "verbs.hpp"

namespace attain::cli {

namespace {

void print_comparison(const Model& m, const Comparison& cmp) {
  fmt::print("\n{} against {} (reference)\n", cmp.scenario, cmp.reference);
  Table table;
  table.name_header = "target";
  table.fixed_headers = {"P(ref)", "P(scen)", "difference [95 % CI]", "helped", "hurt",
                         "p",      "narrower"};
  double ratio_sum = 0;
  int ratio_n = 0;
  auto row = [&](const PairedTarget& t, const std::string& name) {
    const double pw = t.paired.hi - t.paired.lo, uw = t.unpaired.hi - t.unpaired.lo;
    // Without discordant runs both scenarios agree in every run: no ratio to show.
    const bool discordant = t.table.helped + t.table.hurt > 0;
    std::string narrower = discordant && pw > 0 ? fmt::format("{:.1f}x", uw / pw) : "-";
    if (discordant && pw > 0) ratio_sum += uw / pw, ++ratio_n;
    table.names.push_back(name);
    table.fixed.push_back({percent(t.reference.p), percent(t.other.p),
                           points_interval(t.paired.difference, t.paired.lo, t.paired.hi),
                           fmt::format("{}", t.table.helped), fmt::format("{}", t.table.hurt),
                           fmt::format("{:.2g}", t.p_value), narrower});
  };
  for (const auto& t : cmp.targets) row(t, t.name);
  if (!m.targets.empty()) row(cmp.joint, "all targets together");
  for (const auto& line : table.render()) fmt::print("{}\n", line);
  if (ratio_n > 0)
    fmt::print(
        "paired intervals are {:.1f}x narrower than unpaired ones of the same runs\n(mean over "
        "rows where some run differs)\n",
        ratio_sum / ratio_n);
}

void print_value_differences(const Model& m, const Comparison& cmp) {
  fmt::print("\nmean paired difference of each target's node at the target's year\n");
  Table values;
  values.name_header = "target";
  values.fixed_headers = {"node", "difference [95 % CI]", "unit"};
  values.fixed_left = {true, false, true};
  auto signed_number = [](double x) {
    return x == 0 ? std::string("0") : fmt::format("{:+.4g}", x);
  };
  for (std::size_t t = 0; t < cmp.targets.size(); ++t) {
    const auto& v = *cmp.targets[t].value_difference;
    values.names.push_back(m.targets[t].name);
    values.fixed.push_back(
        {m.targets[t].node,
         fmt::format("{} [{}, {}]", signed_number(v.mean), signed_number(v.lo),
                     signed_number(v.hi)),
         printable(m.nodes[static_cast<std::size_t>(m.node_index.at(m.targets[t].node))].unit,
                   60)});
  }
  for (const auto& line : values.render()) fmt::print("{}\n", line);
}

int compare_verb(const EnsembleArgs& a) {
  const JobHooks hooks = terminal_hooks(a.quiet);
  const EnsembleJob job = prepare(a, hooks, a.scenarios.size());
  // --json reports each scenario's actuals too, with or without a results file.
  const CompareResult r = compare_job(job, a.json, hooks);
  const auto& l = job.inputs;
  const auto& m = l.model;
  if (a.json) {
    print_document(compare_job_document(job, r));
    adaptive_note(job);
    return 0;
  }
  fmt::print("{}: {} paired runs (the same runs under every scenario), seed {}{}\n", m.name, r.runs,
             job.options.seed,
             job.options.ci_width > 0
                 ? fmt::format("; stopped when every difference's 95 % half-width <= {:g}",
                               job.options.ci_width)
                 : "");
  fmt::print(
      "difference = P(scenario) - P(reference) in percentage points, with its 95 % interval for\n"
      "paired proportions (Newcombe 1998, method 10); helped / hurt: runs meeting the target only\n"
      "under the scenario / only under the reference; p: exact McNemar test\n");
  print_headline(m, l.scenarios, r.scenarios);
  for (const auto& cmp : r.comparisons) {
    print_comparison(m, cmp);
    print_value_differences(m, cmp);
  }
  fmt::print("\n{} runs x {} scenarios in {:.2f} s{}\n", r.runs, l.scenarios.size(), r.seconds,
             job.out.empty() ? "" : fmt::format("; results in {}", job.out));
  adaptive_note(job);
  return 0;
}

}  // namespace

Action declare_compare(CLI::App& sub) {
  auto a = std::make_shared<EnsembleArgs>();
  add_ensemble_options(sub, *a, "paired runs (default 10000; the ceiling with --ci-width)");
  sub.add_option("--scenario", a->scenarios,
                 "scenario file (YAML); two or more, the first is the reference");
  sub.add_option("--store", a->store, "per-run data to keep: summary, targets (default) or full");
  sub.add_option("--ci-width", a->ci_width,
                 "stop once every difference's 95 % half-width is at most this");
  return [a] {
    if (a->scenarios.size() < 2)
      bad_arg("compare needs two or more --scenario files; the first is the reference");
    return compare_verb(*a);
  };
}

}  // namespace attain::cli
