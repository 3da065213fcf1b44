// attain sweep MODEL --lever NAME=FROM:TO:POINTS... : P(targets) over a grid of lever
// levels on the same runs (docs/analyses.md).
#include <fmt/format.h>

#include <cmath>
#include <memory>

#include "verbs.hpp"

namespace attain::cli {

namespace {

struct SweepArgs {
  EnsembleArgs common;
  std::vector<std::string> levers;
};

/// NAME=FROM:TO:POINTS
SweepAxis parse_axis(const std::string& text) {
  SweepAxis ax;
  const auto eq = text.find('=');
  auto usage = [&]() {
    bad_arg(fmt::format("--lever must be NAME=FROM:TO:POINTS, e.g. fiscal_st=0.5:2:7 (got '{}')",
                        text));
  };
  if (eq == std::string::npos || eq == 0) usage();
  ax.lever = text.substr(0, eq);
  std::vector<std::string> parts;
  std::string rest = text.substr(eq + 1);
  for (std::size_t pos = 0;;) {
    auto colon = rest.find(':', pos);
    parts.push_back(rest.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos));
    if (colon == std::string::npos) break;
    pos = colon + 1;
  }
  if (parts.size() != 3) usage();
  auto from = parse_number(parts[0]), to = parse_number(parts[1]);
  auto points = parse_count(parts[2]);
  if (!from || !to || !points) usage();
  if (*points < 1 || *points > 1000)
    bad_arg(fmt::format("--lever {}: POINTS must be from 1 to 1000 (got {})", ax.lever, *points));
  ax.from = *from;
  ax.to = *to;
  ax.points = static_cast<int>(*points);
  return ax;
}

void print_grid(const Model& m, const std::vector<SweepAxis>& axes, const SweepResult& r) {
  std::string header;
  for (const auto& ax : axes) header += fmt::format("{:>12} ", ax.lever.substr(0, 12));
  for (std::size_t t = 0; t < m.targets.size(); ++t)
    header += fmt::format("{:>6} ", fmt::format("T{}", t + 1));
  header += fmt::format("{:>6}", "all");
  const bool priced = !r.points.empty() && r.points.front().cost;
  if (priced) header += fmt::format(" {:>9}", "cost");
  fmt::print("\n{}\n{}\n", header, std::string(header.size(), '-'));
  for (const auto& p : r.points) {
    std::string row;
    for (double v : p.levels) row += fmt::format("{:>12.6g} ", v);
    for (const auto& t : p.targets) row += fmt::format("{:>6.3f} ", t.p);
    row += fmt::format("{:>6.3f}", p.joint.p);
    if (priced) row += fmt::format(" {:>9.4g}", p.cost.value_or(std::nan("")));
    fmt::print("{}\n", row);
  }
  if (priced)
    fmt::print(
        "cost: the levers' costs at the point, summed over the years after the start, in "
        "{}\n",
        printable(m.cost_unit, 40));
}

void print_sweep(const EnsembleJob& job, const std::vector<SweepAxis>& axes, const SweepResult& r) {
  const auto& m = job.inputs.model;
  fmt::print("{} / {}: sweep of {} points, each on the same {} runs, seed {}\n", m.name,
             job.inputs.scenarios[0].name, r.points.size(), r.runs, job.options.seed);
  for (std::size_t i = 0; i < axes.size(); ++i)
    fmt::print("  {}: {} from {:g} to {:g} in {} points\n", axes[i].lever,
               r.absolute[i] ? "value" : "scale factor on the scenario's rule", axes[i].from,
               axes[i].to, axes[i].points);
  double h = 0;
  for (const auto& p : r.points) {
    for (const auto& t : p.targets) h = std::max(h, (t.hi - t.lo) / 2);
    h = std::max(h, (p.joint.hi - p.joint.lo) / 2);
  }
  fmt::print("probability of meeting each target (95 % Wilson half-width at most {:.3f})\n\n", h);
  for (std::size_t t = 0; t < m.targets.size(); ++t)
    fmt::print("  T{:<3} {} ({})\n", t + 1, m.targets[t].name, printable(m.targets[t].label, 300));
  print_grid(m, axes, r);
  if (!r.non_monotone.empty())
    fmt::print(stderr, "attain: warning: estimates fall where a lever rises ({} cases), e.g. {}\n",
               r.non_monotone.size(), r.non_monotone.front());
  fmt::print("\n{} points x {} runs in {:.2f} s{}\n", r.points.size(), r.runs, r.seconds,
             job.out.empty() ? "" : fmt::format("; results in {}", job.out));
}

int sweep_verb(const SweepArgs& a) {
  std::vector<SweepAxis> axes;
  for (const auto& t : a.levers) axes.push_back(parse_axis(t));
  const JobHooks hooks = terminal_hooks(a.common.quiet);
  const EnsembleJob job = prepare(a.common, hooks);
  const SweepResult r = sweep_job(job, axes, hooks);
  if (a.common.json) {
    print_document(sweep_job_document(job, r));
    return 0;
  }
  print_sweep(job, axes, r);
  return 0;
}

}  // namespace

Action declare_sweep(CLI::App& sub) {
  auto a = std::make_shared<SweepArgs>();
  add_ensemble_options(sub, a->common, "runs per grid point (default 10000)");
  sub.add_option("--scenario", a->common.scenarios, "base scenario file (YAML)");
  sub.add_option("--lever", a->levers,
                 "NAME=FROM:TO:POINTS; a value for a constant lever, else a scale factor; "
                 "repeatable (a grid)")
      ->required();
  return [a] { return sweep_verb(*a); };
}

}  // namespace attain::cli
