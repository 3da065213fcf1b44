// The groups /comparisons, /sweep and /search of the results file: each writer beside
// its reader.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "results_groups.hpp"

namespace attain::h5 {
namespace {

/// One row per target (and the joint last) of a paired comparison, along `target`.
void paired_rows(NcGroup& g, const std::vector<const PairedTarget*>& rows) {
  std::vector<std::string> name;
  std::vector<std::uint64_t> both, helped, hurt, neither;
  std::vector<double> p_ref, p_other, diff, lo, hi, ulo, uhi, pv, md, mlo, mhi, msd;
  for (const PairedTarget* r : rows) {
    name.push_back(r->name);
    both.push_back(r->table.both), helped.push_back(r->table.helped);
    hurt.push_back(r->table.hurt), neither.push_back(r->table.neither);
    p_ref.push_back(r->reference.p), p_other.push_back(r->other.p);
    diff.push_back(r->paired.difference), lo.push_back(r->paired.lo), hi.push_back(r->paired.hi);
    ulo.push_back(r->unpaired.lo), uhi.push_back(r->unpaired.hi), pv.push_back(r->p_value);
    const double nan = std::nan("");
    md.push_back(r->value_difference ? r->value_difference->mean : nan);
    mlo.push_back(r->value_difference ? r->value_difference->lo : nan);
    mhi.push_back(r->value_difference ? r->value_difference->hi : nan);
    msd.push_back(r->value_difference ? r->value_difference->sd : nan);
  }
  g.coordinate("target", name, "target name (the last, 'all targets', is every target together)");
  const std::vector<std::string> t = {"target"};
  g.variable("both", counts(both), t, "runs meeting it in both scenarios", "1");
  g.variable("helped", counts(helped), t, "runs meeting it only in the scenario", "1");
  g.variable("hurt", counts(hurt), t, "runs meeting it only in the reference", "1");
  g.variable("neither", counts(neither), t, "runs meeting it in neither", "1");
  g.variable("p_reference", p_ref, t, "probability in the reference", "1");
  g.variable("p_scenario", p_other, t, "probability in the scenario", "1");
  g.variable("difference", diff, t, "probability difference, scenario - reference", "1");
  g.variable("ci_low", lo, t, "paired 95 % interval of the difference, lower end", "1");
  g.variable("ci_high", hi, t, "paired 95 % interval of the difference, upper end", "1");
  g.variable("unpaired_ci_low", ulo, t, "unpaired 95 % interval, lower end", "1");
  g.variable("unpaired_ci_high", uhi, t, "unpaired 95 % interval, upper end", "1");
  g.variable("p_value", pv, t, "exact McNemar two-sided p-value", "1");
  g.variable("value_difference", md, t,
             "mean difference of the target's node at its year (NaN for the joint)");
  g.variable("value_difference_ci_low", mlo, t, "its 95 % interval, lower end");
  g.variable("value_difference_ci_high", mhi, t, "its 95 % interval, upper end");
  g.variable("value_difference_sd", msd, t, "standard deviation of the run-wise difference");
}

/// hits, runs, probability, ci_low, ci_high of proportions laid out along `dims`.
void proportions(NcGroup& g, const std::string& prefix, const std::vector<Proportion>& ps,
                 const std::vector<std::string>& dims, const std::string& what) {
  std::vector<std::uint64_t> hits, runs;
  std::vector<double> p, lo, hi;
  for (const auto& x : ps)
    hits.push_back(x.hits), runs.push_back(x.runs), p.push_back(x.p), lo.push_back(x.lo),
        hi.push_back(x.hi);
  g.variable(prefix + "hits", counts(hits), dims, "runs that met " + what, "1");
  g.variable(prefix + "runs", counts(runs), dims, "runs", "1");
  g.variable(prefix + "probability", p, dims, "probability of meeting " + what, "1");
  g.variable(prefix + "ci_low", lo, dims, "Wilson 95 % interval, lower end", "1");
  g.variable(prefix + "ci_high", hi, dims, "Wilson 95 % interval, upper end", "1");
}

/// The scenario a sweep or search ran on: its name and sources.
void scenario_attributes(hid_t g, const Scenario& scenario) {
  attr_string(g, "scenario", scenario.name);
  std::vector<std::string> paths, texts;
  for (const auto& [p, text] : scenario.sources) paths.push_back(p), texts.push_back(text);
  attr_strings(g, "source_paths", paths);
  attr_strings(g, "source_texts", texts);
}

/// Proportions stored as `prefix`hits, runs, probability, ci_low, ci_high (n of each).
std::vector<Proportion> read_proportions(hid_t g, const std::string& prefix, std::size_t n,
                                         const std::string& path) {
  const auto runs = read_sized<std::uint64_t>(g, prefix + "runs", n, path);
  const std::uint64_t most = runs.empty() ? 0 : *std::max_element(runs.begin(), runs.end());
  const auto hits = read_counts(g, prefix + "hits", n, most);
  const auto p = read_probabilities(g, prefix + "probability", n, true);
  const auto lo = read_probabilities(g, prefix + "ci_low", n, true);
  const auto hi = read_probabilities(g, prefix + "ci_high", n, true);
  std::vector<Proportion> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (hits[i] > runs[i])
      throw refusal(g, prefix + "hits",
                    fmt::format("holds {} at [{}], more than its {} runs", hits[i], i, runs[i]));
    check_interval(g, prefix + "probability", i, lo[i], p[i], hi[i]);
    out[i] = {hits[i], runs[i], p[i], lo[i], hi[i]};
  }
  return out;
}

}  // namespace

void write_comparisons(hid_t file, const std::vector<Comparison>& comparisons) {
  Handle cg = group(file, "comparisons");
  for (const auto& c : comparisons) {
    NcGroup g(group(cg, c.scenario));
    attr_string(g, "reference", c.reference);
    attr_string(g, "scenario", c.scenario);
    attr_string(g, "interval", "Newcombe (1998) method 10, paired; 95 %");
    attr_string(g, "test", "exact McNemar, two-sided");
    std::vector<const PairedTarget*> rows;
    for (const auto& t : c.targets) rows.push_back(&t);
    rows.push_back(&c.joint);
    paired_rows(g, rows);
  }
}

void write_sweep(hid_t file, const Model& m, const SweepResult& sw, const Scenario& scenario) {
  NcGroup g(group(file, "sweep"));
  scenario_attributes(g, scenario);
  attr_value<std::uint64_t>(g, "runs", sw.runs);
  attr_value<double>(g, "seconds", sw.seconds);
  std::vector<std::string> levers, meaning;
  std::vector<double> from, to;
  std::vector<int> points;
  for (std::size_t i = 0; i < sw.axes.size(); ++i) {
    levers.push_back(sw.axes[i].lever);
    meaning.push_back(sw.absolute[i] ? "value" : "scale");
    from.push_back(sw.axes[i].from), to.push_back(sw.axes[i].to);
    points.push_back(sw.axes[i].points);
  }
  std::vector<std::string> targets;
  for (const auto& t : m.targets) targets.push_back(t.name);
  g.coordinate("point", indices(sw.points.size()), "grid point (the last lever varies fastest)");
  g.coordinate("lever", levers, "lever name");
  g.coordinate("target", targets, "target name");
  g.coordinate("non_monotone", sw.non_monotone,
               "neighbouring points where an estimate falls as the level rises");
  g.strings("level_kind", meaning, "lever", "value (the lever's level) or scale (a factor on it)");
  g.variable("lever_from", from, {"lever"}, "first level");
  g.variable("lever_to", to, {"lever"}, "last level");
  g.variable("lever_points", points, {"lever"}, "levels along the lever", "1");
  std::vector<double> levels;
  std::vector<Proportion> ps, joint;
  for (const auto& p : sw.points) {
    levels.insert(levels.end(), p.levels.begin(), p.levels.end());
    ps.insert(ps.end(), p.targets.begin(), p.targets.end());
    joint.push_back(p.joint);
  }
  g.variable("levels", levels, {"point", "lever"}, "each lever's level at the point");
  proportions(g, "", ps, {"point", "target"}, "the target");
  proportions(g, "joint_", joint, {"point"}, "every target");
  if (!sw.points.empty() && sw.points.front().cost) {
    std::vector<double> cost;
    for (const auto& p : sw.points) cost.push_back(p.cost.value_or(std::nan("")));
    g.variable("cost", cost, {"point"}, "the scenario's cost at the point (levers' costs)",
               m.cost_unit);
  }
}

void write_search(hid_t file, const SearchResult& r, const Scenario& scenario) {
  NcGroup g(group(file, "search"));
  scenario_attributes(g, scenario);
  attr_value<std::uint64_t>(g, "runs", r.runs);
  attr_value<double>(g, "seconds", r.seconds);
  attr_string(g, "level_kind", r.absolute ? "value" : "scale");
  attr_string(g, "target", r.target);
  attr_value<double>(g, "goal", r.goal);
  attr_values<double>(g, "range", {r.range_low, r.range_high});
  attr_value<double>(g, "tolerance", r.tolerance);
  attr_value<int>(g, "reachable", r.reachable ? 1 : 0);
  attr_value<int>(g, "monotone", r.monotone ? 1 : 0);
  attr_value<double>(g, "level", r.level);
  attr_value<double>(g, "level_low", r.level_low);
  attr_value<double>(g, "level_high", r.level_high);
  attr_value<double>(g, "hits", static_cast<double>(r.at_level.hits));
  attr_value<double>(g, "hits_runs", static_cast<double>(r.at_level.runs));
  attr_value<double>(g, "probability", r.at_level.p);
  attr_value<double>(g, "ci_low", r.at_level.lo);
  attr_value<double>(g, "ci_high", r.at_level.hi);
  g.coordinate("lever", r.levers, "lever name (moved together)");
  std::vector<double> levels;
  std::vector<Proportion> ps;
  for (const auto& e : r.evaluations) levels.push_back(e.level), ps.push_back(e.p);
  g.coordinate("evaluation", indices(levels.size()), "evaluation, by level ascending");
  g.variable("level", levels, {"evaluation"}, "the level evaluated");
  proportions(g, "", ps, {"evaluation"}, "the searched target");
}

Comparison read_comparison(hid_t g, const Model& m, const std::string& path) {
  Comparison c;
  c.reference = read_string_attr(g, "reference");
  c.scenario = read_string_attr(g, "scenario");
  const auto names = read_string_array(g, "target", false);
  const std::size_t n = m.targets.size() + 1;
  if (names.size() != n)
    throw OutputError(fmt::format("'{}': comparison '{}' has {} rows, not {}", path, c.scenario,
                                  names.size(), n));
  const auto both = read_sized<std::uint64_t>(g, "both", n, path);
  const auto helped = read_sized<std::uint64_t>(g, "helped", n, path);
  const auto hurt = read_sized<std::uint64_t>(g, "hurt", n, path);
  const auto neither = read_sized<std::uint64_t>(g, "neither", n, path);
  const auto md = read_sized<double>(g, "value_difference", n, path);
  const auto mlo = read_sized<double>(g, "value_difference_ci_low", n, path);
  const auto mhi = read_sized<double>(g, "value_difference_ci_high", n, path);
  const auto msd = read_sized<double>(g, "value_difference_sd", n, path);
  for (std::size_t i = 0; i < n; ++i) {
    PairedTarget t = paired_target(names[i], {both[i], helped[i], hurt[i], neither[i]});
    if (i + 1 < n) {
      t.value_difference = MeanInterval{md[i], mlo[i], mhi[i], msd[i]};
      c.targets.push_back(std::move(t));
    } else {
      c.joint = std::move(t);
    }
  }
  return c;
}

SweepResult read_sweep(hid_t g, const Model& m, const std::string& path) {
  SweepResult sw;
  const auto levers = read_string_array(g, "lever", false);
  const auto kinds = read_strings(g, "level_kind", levers.size(), path);
  const auto from = read_sized<double>(g, "lever_from", levers.size(), path);
  const auto to = read_sized<double>(g, "lever_to", levers.size(), path);
  const auto points = read_sized<int>(g, "lever_points", levers.size(), path);
  for (std::size_t i = 0; i < levers.size(); ++i) {
    sw.axes.push_back({levers[i], from[i], to[i], points[i]});
    sw.absolute.push_back(kinds[i] == "value");
  }
  const std::size_t np = read_array<int>(g, "point").size(), na = levers.size(),
                    nt = m.targets.size();
  const auto levels = read_sized<double>(g, "levels", np * na, path);
  const auto ps = read_proportions(g, "", np * nt, path);
  const auto joint = read_proportions(g, "joint_", np, path);
  for (std::size_t p = 0; p < np; ++p) {
    SweepPoint pt;
    pt.levels.assign(levels.begin() + static_cast<std::ptrdiff_t>(p * na),
                     levels.begin() + static_cast<std::ptrdiff_t>((p + 1) * na));
    pt.targets.assign(ps.begin() + static_cast<std::ptrdiff_t>(p * nt),
                      ps.begin() + static_cast<std::ptrdiff_t>((p + 1) * nt));
    pt.joint = joint[p];
    sw.points.push_back(std::move(pt));
  }
  if (has(g, "cost")) {
    const auto cost = read_sized<double>(g, "cost", np, path);
    for (std::size_t p = 0; p < np; ++p) sw.points[p].cost = cost[p];
  }
  sw.runs = read_attr<std::uint64_t>(g, "runs");
  sw.seconds = read_attr<double>(g, "seconds");
  sw.non_monotone = read_string_array(g, "non_monotone", false);
  return sw;
}

SearchResult read_search(hid_t g, const std::string& path) {
  SearchResult r;
  r.levers = read_string_array(g, "lever", false);
  r.absolute = read_string_attr(g, "level_kind") == "value";
  r.target = read_string_attr(g, "target");
  r.goal = read_attr<double>(g, "goal");
  const auto range = read_attr_array<double>(g, "range");
  if (range.size() != 2) throw OutputError(fmt::format("'{}': /search has no range", path));
  r.range_low = range[0], r.range_high = range[1];
  r.tolerance = read_attr<double>(g, "tolerance");
  r.reachable = read_attr<int>(g, "reachable") != 0;
  r.monotone = read_attr<int>(g, "monotone") != 0;
  r.level = read_attr<double>(g, "level");
  r.level_low = read_attr<double>(g, "level_low");
  r.level_high = read_attr<double>(g, "level_high");
  r.at_level = {read_attr<std::uint64_t>(g, "hits"), read_attr<std::uint64_t>(g, "hits_runs"),
                read_attr<double>(g, "probability"), read_attr<double>(g, "ci_low"),
                read_attr<double>(g, "ci_high")};
  const auto levels = read_array<double>(g, "level");
  const auto ps = read_proportions(g, "", levels.size(), path);
  for (std::size_t i = 0; i < levels.size(); ++i) r.evaluations.push_back({levels[i], ps[i]});
  r.runs = read_attr<std::uint64_t>(g, "runs");
  r.seconds = read_attr<double>(g, "seconds");
  return r;
}

}  // namespace attain::h5
