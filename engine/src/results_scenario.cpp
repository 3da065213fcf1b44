// A scenario's group of the results file: its targets, joint attainment, actuals and
// summary, written (write_scenario_results) and read back (read_scenario) side by side.
#include <fmt/format.h>

#include <cmath>
#include <cstddef>

#include "results_groups.hpp"

namespace attain::h5 {
namespace {

/// The targets' attainment, the joint and the scenario's cost, along `target`.
void write_targets(NcGroup& g, const Model& m, const EnsembleResult& r) {
  const auto nt = m.targets.size();
  std::vector<std::string> node, label, op, source;
  std::vector<double> year, threshold, prob, lo, hi;
  std::vector<std::uint64_t> hits, runs, first_met, never;
  for (std::size_t t = 0; t < nt; ++t) {
    const Target& tt = m.targets[t];
    const TargetResult& tr = r.targets[t];
    node.push_back(tt.node), label.push_back(tt.label);
    op.emplace_back(cmp_name(tt.op)), source.push_back(tt.source);
    year.push_back(tt.year), threshold.push_back(tt.threshold);
    hits.push_back(tr.hits), runs.push_back(tr.runs), prob.push_back(tr.probability);
    lo.push_back(tr.ci_low), hi.push_back(tr.ci_high), never.push_back(tr.never);
    first_met.insert(first_met.end(), tr.first_met.begin(), tr.first_met.end());
  }
  g.strings("target_node", node, "target", "the node the target is on");
  g.strings("target_label", label, "target", "the target as the plan words it");
  g.strings("target_op", op, "target", "comparison: >=, >, <= or <");
  g.strings("target_source", source, "target", "where the target comes from");
  g.variable("target_year", year, {"target"}, "the year the target is checked at", "year");
  g.variable("threshold", threshold, {"target"}, "the target's threshold (in its node's unit)");
  g.variable("hits", counts(hits), {"target"}, "runs that met the target at its year", "1");
  g.variable("runs", counts(runs), {"target"}, "runs", "1");
  g.variable("probability", prob, {"target"}, "probability of meeting the target", "1");
  g.variable("ci_low", lo, {"target"}, "Wilson 95 % interval, lower end", "1");
  g.variable("ci_high", hi, {"target"}, "Wilson 95 % interval, upper end", "1");
  g.variable("first_met", counts(first_met), {"target", "time"},
             "runs whose first step meeting the target is this one", "1");
  g.variable("never_met", counts(never), {"target"},
             "runs meeting the target at no step up to its year", "1");
  if (nt > 0) {
    g.scalar<double>("joint_hits", static_cast<double>(r.joint_hits), "runs that met every target",
                     "1");
    g.scalar<double>("joint_runs", static_cast<double>(r.runs), "runs", "1");
    g.scalar<double>("joint_probability", r.joint_probability,
                     "probability of meeting every target", "1");
    g.scalar<double>("joint_ci_low", r.joint_low, "Wilson 95 % interval, lower end", "1");
    g.scalar<double>("joint_ci_high", r.joint_high, "Wilson 95 % interval, upper end", "1");
  }
  if (r.met.size() == nt + 1) {
    g.variable("met_runs", counts(r.met), {"targets_met"}, "runs meeting exactly this many targets",
               "1");
    const MeanInterval e = targets_met(r.met);
    g.scalar<double>("expected_met", e.mean, "expected number of targets met", "1");
    g.scalar<double>("expected_met_ci_low", e.lo, "Student-t 95 % interval, lower end", "1");
    g.scalar<double>("expected_met_ci_high", e.hi, "Student-t 95 % interval, upper end", "1");
  }
  if (r.cost) {
    std::vector<double> totals;
    for (const auto& c : r.cost->levers) totals.push_back(c.total);
    g.variable("lever_cost", totals, {"cost_lever"},
               "the lever's cost summed over the times after the start", m.cost_unit);
    g.scalar<double>("cost", r.cost->total, "the scenario's cost: the sum of lever_cost",
                     m.cost_unit);
  }
}

/// The known outcomes (actuals) and where each falls in the runs, along `actual`.
void write_actuals(NcGroup& g, const Model& m, const EnsembleResult& r) {
  std::vector<std::string> an, al, as;
  std::vector<double> ay, av, ap;
  std::vector<std::uint64_t> below, equal;
  for (std::size_t a = 0; a < m.actuals.size(); ++a) {
    an.push_back(m.actuals[a].node), al.push_back(m.actuals[a].label),
        as.push_back(m.actuals[a].source);
    ay.push_back(m.actuals[a].year), av.push_back(m.actuals[a].value);
    ap.push_back(r.actuals[a].percentile);
    below.push_back(r.actuals[a].below), equal.push_back(r.actuals[a].equal);
  }
  g.strings("actual_node", an, "actual", "the node the known outcome is of");
  g.strings("actual_label", al, "actual", "label");
  g.strings("actual_source", as, "actual", "source");
  g.variable("actual_year", ay, {"actual"}, "year", "year");
  g.variable("actual_value", av, {"actual"}, "the known outcome (in its node's unit)");
  g.variable("actual_below", counts(below), {"actual"}, "runs with the node below it", "1");
  g.variable("actual_equal", counts(equal), {"actual"}, "runs with the node equal to it", "1");
  g.variable("actual_percentile", ap, {"actual"},
             "where the actual falls in the predicted distribution: (below + equal / 2) / runs",
             "1");
}

/// Every node's distribution at every step, when the study kept it.
void write_moments(NcGroup& g, const EnsembleResult& r) {
  if (!r.moments.empty()) {
    std::vector<double> mean, sd, mn, mx, q;
    for (std::size_t i = 0; i < r.moments.size(); ++i) {
      mean.push_back(r.moments[i].mean());
      sd.push_back(r.moments[i].sd());
      mn.push_back(r.moments[i].min);
      mx.push_back(r.moments[i].max);
      q.insert(q.end(), r.quantiles[i].begin(), r.quantiles[i].end());
    }
    g.variable("mean", mean, {"node", "time"}, "mean over runs (in the node's unit)");
    g.variable("sd", sd, {"node", "time"}, "standard deviation over runs (in the node's unit)");
    g.variable("min", mn, {"node", "time"}, "smallest value over runs (in the node's unit)");
    g.variable("max", mx, {"node", "time"}, "largest value over runs (in the node's unit)");
    g.variable("quantiles", q, {"node", "time", "quantile"},
               "quantiles over runs (in the node's unit)");
  }
}

std::vector<std::pair<std::string, std::string>> read_sources(hid_t g) {
  std::vector<std::pair<std::string, std::string>> out;
  if (H5Aexists(g, "source_paths") <= 0) return out;
  const auto paths = read_string_array(g, "source_paths", true);
  const auto texts = read_string_array(g, "source_texts", true);
  for (std::size_t i = 0; i < paths.size() && i < texts.size(); ++i)
    out.emplace_back(paths[i], texts[i]);
  return out;
}

}  // namespace

void write_scenario_results(NcGroup& g, const Model& m, const EnsembleResult& r) {
  attr_value<double>(g, "seconds", r.seconds);
  attr_value<std::uint64_t>(g, "runs", r.runs);
  write_targets(g, m, r);
  write_actuals(g, m, r);
  write_moments(g, r);
}

namespace {

/// The per-target results of scenario group `g` for `nt` targets over `steps` steps of
/// `total` runs: counts are at most the runs, hits at most their target's runs,
/// probabilities and interval ends in [0, 1] around each other (NaN only for a target of
/// no runs).
std::vector<TargetResult> read_targets(hid_t g, std::size_t nt, std::size_t steps,
                                       std::uint64_t total) {
  const auto runs = read_counts(g, "runs", nt, total);
  const auto hits = read_counts(g, "hits", nt, total);
  const auto prob = read_probabilities(g, "probability", nt, true);
  const auto lo = read_probabilities(g, "ci_low", nt, true);
  const auto hi = read_probabilities(g, "ci_high", nt, true);
  const auto first = read_counts(g, "first_met", nt * steps, total);
  const auto never = read_counts(g, "never_met", nt, total);
  std::vector<TargetResult> out;
  for (std::size_t t = 0; t < nt; ++t) {
    if (hits[t] > runs[t])
      throw refusal(
          g, "hits",
          fmt::format("holds {} at [{}], more than the {} runs of 'runs'", hits[t], t, runs[t]));
    if (runs[t] > 0 && std::isnan(prob[t]))
      throw refusal(g, "probability", fmt::format("holds NaN at [{}] for {} runs", t, runs[t]));
    check_interval(g, "probability", t, lo[t], prob[t], hi[t]);
    TargetResult tr;
    tr.hits = hits[t], tr.runs = runs[t], tr.probability = prob[t];
    tr.ci_low = lo[t], tr.ci_high = hi[t], tr.never = never[t];
    tr.first_met.assign(first.begin() + static_cast<std::ptrdiff_t>(t * steps),
                        first.begin() + static_cast<std::ptrdiff_t>((t + 1) * steps));
    out.push_back(std::move(tr));
  }
  return out;
}

}  // namespace

StoredScenario read_scenario(hid_t f, const std::string& name, const Model& m,
                             const std::string& path) {
  Handle g =
      open_group(f, "scenarios/" + name,
                 fmt::format("'{}' lists scenario '{}' but has no group for it", path, name));
  StoredScenario s;
  s.name = read_string_attr(g, "name");
  s.description = read_string_attr(g, "description");
  s.path = read_string_attr(g, "path");
  s.source = read_string_attr(g, "source");
  s.sources = read_sources(g);
  s.seconds = read_attr<double>(g, "seconds");
  EnsembleResult& r = s.result;
  r.runs = read_attr<std::uint64_t>(g, "runs");
  r.seconds = s.seconds;
  const std::size_t nt = m.targets.size(), steps = static_cast<std::size_t>(m.time.steps());
  if (read_string_array(g, "target", false) != [&] {
        std::vector<std::string> names;
        for (const auto& t : m.targets) names.push_back(t.name);
        return names;
      }())
    throw OutputError(fmt::format(
        "'{}': scenario '{}' has other targets than the model stored in the file", path, name));
  r.targets = read_targets(g, nt, steps, r.runs);
  if (nt > 0) {
    r.joint_hits = read_counts(g, "joint_hits", 1, r.runs)[0];
    r.joint_probability = read_probabilities(g, "joint_probability", 1, r.runs == 0)[0];
    r.joint_low = read_probabilities(g, "joint_ci_low", 1, true)[0];
    r.joint_high = read_probabilities(g, "joint_ci_high", 1, true)[0];
    check_interval(g, "joint_probability", 0, r.joint_low, r.joint_probability, r.joint_high);
  }
  if (has(g, "met_runs")) r.met = read_counts(g, "met_runs", nt + 1, r.runs);
  if (has(g, "cost")) {
    CostResult c;
    c.unit = m.cost_unit;
    const auto names = read_string_array(g, "cost_lever", false);
    const auto totals = read_sized<double>(g, "lever_cost", names.size(), path);
    for (std::size_t i = 0; i < names.size(); ++i) c.levers.push_back({names[i], {}, totals[i]});
    c.total = read_scalar<double>(g, "cost", path);
    r.cost = std::move(c);
  }
  const std::size_t na = m.actuals.size();
  const auto below = read_counts(g, "actual_below", na, r.runs);
  const auto equal = read_counts(g, "actual_equal", na, r.runs);
  const auto pct = read_sized<double>(g, "actual_percentile", na, path);
  for (std::size_t a = 0; a < na; ++a)
    if (below[a] + equal[a] > r.runs)
      throw refusal(g, "actual_equal",
                    fmt::format("with 'actual_below' counts {} runs at [{}], more than the {} runs",
                                below[a] + equal[a], a, r.runs));
  for (std::size_t a = 0; a < na; ++a) r.actuals.push_back({below[a], equal[a], r.runs, pct[a]});
  if (has(g, "mean")) {
    const std::size_t n = m.nodes.size() * steps;
    StoredSummary sm;
    sm.mean = read_sized<double>(g, "mean", n, path);
    sm.sd = read_sized<double>(g, "sd", n, path);
    sm.min = read_sized<double>(g, "min", n, path);
    sm.max = read_sized<double>(g, "max", n, path);
    sm.levels = read_array<double>(g, "quantile");
    sm.quantiles = read_sized<double>(g, "quantiles", n * sm.levels.size(), path);
    s.summary = std::move(sm);
  }
  return s;
}

}  // namespace attain::h5
