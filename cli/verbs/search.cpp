// attain search MODEL --lever NAME --target T --probability P : the least lever level at
// which P(target) reaches P, on the same runs at every level (docs/analyses.md).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "verbs.hpp"

namespace attain::cli {

namespace {

struct SearchArgs {
  EnsembleArgs common;
  std::string levers, target, probability, range, tolerance = "0.01";
};

SearchSpec search_spec(const SearchArgs& sa) {
  SearchSpec spec;
  for (std::size_t pos = 0;;) {
    auto comma = sa.levers.find(',', pos);
    spec.levers.push_back(
        sa.levers.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  auto goal = parse_number(sa.probability);
  if (!goal || *goal <= 0 || *goal >= 1)
    bad_arg(fmt::format("--probability must be a number in (0, 1), e.g. 0.8 (got '{}')",
                        sa.probability));
  spec.goal = *goal;
  auto tol = parse_number(sa.tolerance);
  if (!tol || *tol <= 0)
    bad_arg(fmt::format("--tolerance must be a number > 0 (got '{}')", sa.tolerance));
  spec.tolerance = *tol;
  if (!sa.range.empty()) {
    auto colon = sa.range.find(':');
    std::optional<double> lo, hi;
    if (colon != std::string::npos) {
      lo = parse_number(sa.range.substr(0, colon));
      hi = parse_number(sa.range.substr(colon + 1));
    }
    if (!lo || !hi || !(*hi > *lo))
      bad_arg(fmt::format("--range must be LO:HI with LO < HI, e.g. 0.5:3 (got '{}')", sa.range));
    spec.low = lo;
    spec.high = hi;
  }
  return spec;
}

void print_search(const EnsembleJob& job, const SearchJobResult& s) {
  const auto& m = job.inputs.model;
  const SearchResult& r = s.result;
  const int target = s.spec.target;
  const std::string what =
      target < 0
          ? "all targets together"
          : fmt::format("{} ({} {} {:g} in {:g})", m.targets[static_cast<std::size_t>(target)].name,
                        m.targets[static_cast<std::size_t>(target)].node,
                        cmp_name(m.targets[static_cast<std::size_t>(target)].op),
                        m.targets[static_cast<std::size_t>(target)].threshold,
                        m.targets[static_cast<std::size_t>(target)].year);
  fmt::print("{} / {}: least {} with P({}) >= {:g}\n", m.name, job.inputs.scenarios[0].name, s.knob,
             what, r.goal);
  fmt::print("  on the same {} runs at every level (seed {}), searched in [{:g}, {:g}] to {:g}\n",
             r.runs, job.options.seed, r.range_low, r.range_high, r.tolerance);
  if (r.reachable) {
    // Levels to the tolerance's precision (bisection midpoints carry spurious digits).
    const int digits = std::clamp(static_cast<int>(std::ceil(-std::log10(r.tolerance))) + 1, 0, 12);
    fmt::print("  level {:.{}f}: P = {}\n", r.level, digits,
               interval(r.at_level.p, r.at_level.lo, r.at_level.hi));
    if (std::isfinite(r.level_high))
      fmt::print("  levels whose 95 % interval contains {:g}: {:.{}f} to {:.{}f}\n", r.goal,
                 r.level_low, digits, r.level_high, digits);
    else
      fmt::print(
          "  levels whose 95 % interval contains {:g}: from {:.{}f} to beyond the range "
          "(no level in it has its whole interval above {:g})\n",
          r.goal, r.level_low, digits, r.goal);
    if (!s.absolute)
      fmt::print("  (a scale factor on the scenario's rule; 1 is the scenario as written)\n");
  } else {
    fmt::print("  unreachable in the range: at {:g}, the top of the range, P = {}\n", r.range_high,
               interval(r.at_level.p, r.at_level.lo, r.at_level.hi));
  }
  fmt::print("  {} evaluations in {:.2f} s{}\n", r.evaluations.size(), r.seconds,
             job.out.empty() ? "" : fmt::format("; results in {}", job.out));
  if (!r.monotone)
    fmt::print(stderr,
               "attain: warning: the estimated probability falls somewhere as the level rises; "
               "the model is not monotone in this lever and the answer may not be the least "
               "level\n");
}

int search_verb(const SearchArgs& a) {
  if (a.common.scenarios.size() > 1) bad_arg("search takes at most one --scenario (the base)");
  const SearchSpec spec = search_spec(a);
  const JobHooks hooks = terminal_hooks(a.common.quiet);
  const EnsembleJob job = prepare(a.common, hooks);
  const SearchJobResult s = search_job(job, spec, a.target, hooks);
  if (a.common.json) {
    print_document(search_job_document(job, s.result));
    if (!s.result.monotone)
      fmt::print(stderr,
                 "attain: warning: the estimated probability is not monotone in the level\n");
    return 0;
  }
  print_search(job, s);
  return 0;
}

}  // namespace

Action declare_search(CLI::App& sub) {
  auto a = std::make_shared<SearchArgs>();
  add_ensemble_options(sub, a->common, "runs per evaluation (default 10000)");
  sub.add_option("--scenario", a->common.scenarios, "base scenario file (YAML)");
  sub.add_option("--lever", a->levers, "NAME or NAME,NAME,... (moved together by one scale factor)")
      ->required();
  sub.add_option("--target", a->target, "a target's name, or 'all'")->required();
  sub.add_option("--probability", a->probability, "the probability to reach, in (0, 1)")
      ->required();
  sub.add_option("--range", a->range, "LO:HI of the level (default 0 to 4x the level as written)");
  sub.add_option("--tolerance", a->tolerance, "precision of the level (default 0.01)");
  return [a] { return search_verb(*a); };
}

}  // namespace attain::cli
