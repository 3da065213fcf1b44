// attain sensitivity MODEL : which uncertain inputs decide each target: Sobol indices,
// P by thirds and PRIM boxes, or first-order indices of a results file's runs with
// --given-data (docs/analyses.md).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include "attain/prim.hpp"
#include "verbs.hpp"

namespace attain::cli {

namespace {

struct SensitivityArgs {
  EnsembleArgs common;
  std::string rows;
  int resamples = 200;
  std::string sampling = "sobol";
  std::vector<std::string> factors;
  int top = 12;
  std::string prim_rows = "32768";
  double prim_coverage = 0.5;
  double prim_alpha = 0.05;
  std::string given_data;
};

/// "NAME=a,b,c" -> a hand-made factor.
FactorGroup parse_factor(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    bad_arg(fmt::format("--factor must be NAME=PARAMETER,PARAMETER,... (got '{}')", text));
  FactorGroup g;
  g.name = text.substr(0, eq);
  std::string rest = text.substr(eq + 1);
  std::size_t at = 0;
  while (at <= rest.size()) {
    const auto comma = rest.find(',', at);
    std::string name = rest.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    if (name.empty())
      bad_arg(fmt::format("--factor '{}': an empty parameter name in '{}'", g.name, rest));
    g.parameters.push_back(name);
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return g;
}

/// "0.42 [0.38, 0.47]", or "-" without an estimate.
std::string estimate_text(const Estimate& e) {
  if (!std::isfinite(e.value)) return "-";
  return fmt::format("{:.3f} [{:.3f}, {:.3f}]", e.value, e.lo, e.hi);
}

/// A probability in percent; "-" without one.
std::string share(double p) {
  if (!std::isfinite(p)) return "-";
  if (p > 0 && p < 0.001) return "<0.1%";
  return fmt::format("{:.1f}%", 100 * p);
}

/// Positions 0..n-1 by `key` descending, non-finite keys last.
template <class Key>
std::vector<std::size_t> by_descending(std::size_t n, Key key) {
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    const double a = key(x), b = key(y);
    return (std::isfinite(a) ? a : -1) > (std::isfinite(b) ? b : -1);
  });
  return order;
}

void print_given_output(const GivenDataScenario& sc, const GivenDataOutput& o, int top) {
  fmt::print("\n{}: P(met) = {}\n", o.target.empty() ? "all targets together" : o.target,
             share(o.mean));
  const auto& idx = o.indices;
  const auto order = by_descending(idx.size(), [&](std::size_t q) { return idx[q].s1.value; });
  if (order.empty() || !std::isfinite(idx[order[0]].s1.value)) {
    fmt::print("  no variance to attribute\n");
    return;
  }
  std::size_t w = 24;
  for (const auto& p : sc.parameters) w = std::max(w, p.size());
  std::string header = fmt::format("  {:<{}} {:>24}   {:>7} {:>7} {:>7}", "parameter", w,
                                   "S1 [95 % CI]", "P low", "P mid", "P high");
  fmt::print("{}\n  {}\n", header, std::string(header.size() - 2, '-'));
  for (std::size_t k = 0; k < order.size() && k < static_cast<std::size_t>(top); ++k) {
    const auto& g = idx[order[k]];
    fmt::print("  {:<{}} {:>24}   {:>7} {:>7} {:>7}\n", sc.parameters[order[k]], w,
               estimate_text(g.s1), share(g.thirds[0].value), share(g.thirds[1].value),
               share(g.thirds[2].value));
  }
  if (order.size() > static_cast<std::size_t>(top))
    fmt::print("  ({} more parameters with smaller S1: --top or --json shows them)\n",
               order.size() - static_cast<std::size_t>(top));
}

/// `--given-data RESULTS.h5`: first-order indices and thirds from the rows an ordinary
/// run stored, with no extra runs.
int given_data_verb(const SensitivityArgs& sa) {
  const EnsembleArgs& a = sa.common;
  if (!a.out.empty() || a.sub->count("--out"))
    bad_arg("--given-data reads a results file and writes none; leave out --out");
  if (!a.scenarios.empty())
    bad_arg(
        "--given-data analyses every scenario stored in the results file; leave out "
        "--scenario");
  if (!sa.factors.empty())
    bad_arg(
        "--factor applies to Saltelli's design; --given-data gives each parameter's own "
        "first-order index");
  const GivenDataResult r = given_data_job(a.model, sa.given_data);
  if (a.json) {
    print_document(given_data_document(r));
    return 0;
  }
  for (const auto& sc : r.scenarios) {
    fmt::print(
        "{}, scenario {}: given-data first-order indices from {} stored runs of '{}' (no extra "
        "runs)\nS1 by binning each parameter's ranks (ANOVA estimator) with a 95 % interval "
        "from {} batches of runs;\na correlated parameter's S1 includes what its partners "
        "explain through it. Total indices need Saltelli's design (leave out --given-data).\n",
        r.model, sc.name, sc.rows, r.path, r.options.batches);
    for (const auto& o : sc.outputs)
      if (o.met) print_given_output(sc, o, sa.top);
  }
  return 0;
}

/// The options of Saltelli's design as values.
SensitivityOptions design_options(const SensitivityArgs& sa) {
  if (sa.resamples < 10 || sa.resamples > 10000)
    bad_arg(fmt::format("--resamples must be from 10 to 10000 (got {})", sa.resamples));
  if (sa.sampling != "sobol" && sa.sampling != "random")
    bad_arg(fmt::format("unknown --sampling '{}'; valid: 'sobol' or 'random'", sa.sampling));
  if (sa.top < 1) bad_arg(fmt::format("--top must be >= 1 (got {})", sa.top));
  auto prim_rows = parse_count(sa.prim_rows);
  if (!prim_rows || *prim_rows > (std::uint64_t{1} << 24))
    bad_arg(
        fmt::format("--prim-rows must be a whole number from 0 to 2^24 (got '{}')", sa.prim_rows));
  if (!(sa.prim_coverage > 0 && sa.prim_coverage <= 1))
    bad_arg(fmt::format("--prim-coverage must be in (0, 1] (got {})", sa.prim_coverage));
  if (!(sa.prim_alpha > 0 && sa.prim_alpha < 0.5))
    bad_arg(fmt::format("--prim-alpha must be in (0, 0.5) (got {})", sa.prim_alpha));
  SensitivityOptions o;
  o.sampling = sa.sampling == "sobol" ? Sampling::kSobol : Sampling::kRandom;
  o.resamples = sa.resamples;
  for (const auto& f : sa.factors) o.groups.push_back(parse_factor(f));
  o.prim_rows = *prim_rows;
  o.prim.min_coverage = sa.prim_coverage;
  o.prim.alpha = sa.prim_alpha;
  o.prim.paste_alpha = sa.prim_alpha;
  return o;
}

std::string target_label(const Model& m, const OutputSensitivity& o) {
  if (o.output.target < 0) return std::string("all targets together");
  const auto& t = m.targets[static_cast<std::size_t>(o.output.target)];
  return fmt::format("{} ({} {} {:g} in {:g})", t.name, t.node, cmp_name(t.op), t.threshold,
                     t.year);
}

/// The PRIM box of `o`'s target in words.
void print_prim(const SensitivityResult& r, const OutputSensitivity& o) {
  for (const auto& pt : r.prim) {
    if (pt.target != o.output.target) continue;
    const auto& p = pt.result;
    if (!p.reason.empty()) {
      fmt::print("  scenario discovery (PRIM): {}\n", p.reason);
    } else if (p.restricted.empty()) {
      fmt::print("  scenario discovery (PRIM): no box denser than the whole space\n");
    } else {
      std::size_t weak = 0;
      for (const auto& d : p.restricted) weak += !(d.quasi_p < 0.05);
      std::string words = prim_box_words(p, r.uncertain, 0.05);
      fmt::print(
          "  scenario discovery (PRIM): met in {} of the runs where {}\n    (the box holds "
          "{} of the runs that meet it, {} of all runs{})\n",
          share(p.box.density), words.empty() ? "(no limit with quasi-p < 0.05)" : words,
          share(p.box.coverage), share(p.box.mass),
          weak ? fmt::format("; {} more limit{} with quasi-p >= 0.05 in --json", weak,
                             weak == 1 ? "" : "s")
               : "");
    }
  }
}

/// One factor's row (and a group's members' rows) of the Sobol table.
void print_factor(const SensitivityResult& r, const OutputSensitivity& o, std::size_t f,
                  std::size_t w, const std::map<std::string, std::size_t>& q_of) {
  const auto& fi = o.factors[f];
  const auto thirds_of = [&](const std::string& member) {
    const auto& th = o.thirds[q_of.at(member)];
    return fmt::format("{:>7} {:>7} {:>7}", share(th[0].value), share(th[1].value),
                       share(th[2].value));
  };
  const auto& factor = r.factors[f];
  const std::string thirds = factor.members.size() == 1
                                 ? thirds_of(factor.members[0])
                                 : fmt::format("{:>7} {:>7} {:>7}", "", "", "");
  std::string name = factor.name;
  if (factor.members.size() > 1)
    name = fmt::format("{} ({} parameters)", factor.why == "--factor" ? name : "group",
                       factor.members.size());
  fmt::print("  {:<{}} {:>24} {:>24}   {}\n", name, w, estimate_text(fi.s1), estimate_text(fi.st),
             thirds);
  // A group's members: each parameter's thirds.
  if (factor.members.size() > 1)
    for (const auto& member : factor.members)
      fmt::print("    {:<{}} {:>24} {:>24}   {}\n", member, w - 2, "", "", thirds_of(member));
}

/// The Sobol table of one output: factors by ST, the inert ones counted, not listed.
void print_output(const Model& m, const SensitivityResult& r, const OutputSensitivity& o,
                  std::size_t w, int top) {
  fmt::print("\n{}: P(met) = {}\n", target_label(m, o), share(o.mean));
  if (!(o.variance > 0)) {
    fmt::print("  {} in every run: no variance to attribute\n", o.mean > 0.5 ? "met" : "not met");
    return;
  }
  std::map<std::string, std::size_t> q_of;
  for (std::size_t q = 0; q < r.uncertain.size(); ++q) q_of[r.uncertain[q]] = q;
  const auto order =
      by_descending(r.factors.size(), [&](std::size_t f) { return o.factors[f].st.value; });
  std::string header = fmt::format("  {:<{}} {:>24} {:>24}   {:>7} {:>7} {:>7}", "factor", w,
                                   "S1 [95 % CI]", "ST [95 % CI]", "P low", "P mid", "P high");
  fmt::print("{}\n  {}\n", header, std::string(header.size() - 2, '-'));
  // Factors that change nothing (every AB_j run equal to A's: ST exactly 0 in every
  // resample) are counted, not listed.
  auto inert = [&](std::size_t f) { return o.factors[f].st.value == 0 && o.factors[f].st.hi == 0; };
  std::size_t none = 0, shown = 0;
  for (std::size_t f : order) none += inert(f);
  for (std::size_t f : order) {
    if (shown == static_cast<std::size_t>(top) || inert(f)) break;
    ++shown;
    print_factor(r, o, f, w, q_of);
  }
  if (shown + none < order.size())
    fmt::print("  ({} more factors with smaller ST: --top {} or --json shows them)\n",
               order.size() - shown - none, order.size());
  if (none > 0)
    fmt::print("  ({} factor{} cannot change this output at all: ST = 0 exactly)\n", none,
               none == 1 ? "" : "s");
  if (std::isfinite(o.sum_s1.value))
    fmt::print("  sum of S1 {}: {:.2f} of the variance is left to interactions\n",
               estimate_text(o.sum_s1), std::max(0.0, 1 - o.sum_s1.value));
  print_prim(r, o);
}

void print_sensitivity(const EnsembleJob& job, const SensitivityResult& r,
                       const std::string& scenario, const std::string& sampling, int top) {
  const auto& m = job.inputs.model;
  fmt::print(
      "{}, scenario {}: Sobol indices of {} factors over {} rows of Saltelli's design "
      "({} runs), {} sampling, seed {}\n",
      m.name, scenario, r.factors.size(), r.rows, r.runs,
      sampling == "sobol" ? "Sobol-sequence" : "random", job.options.seed);
  fmt::print(
      "S1: first-order index (Saltelli 2010), ST: total index (Jansen 1999), each with a 95 % "
      "bootstrap interval ({} resamples);\nP by third: P(met) when the parameter lies in the "
      "lower, middle, upper third of its distribution.\nCorrelated parameters form one factor; "
      "Sobol indices assume independent factors.\n",
      r.resamples);
  std::size_t w = 24;
  for (const auto& f : r.factors) {
    if (f.members.size() == 1 || f.shocks) w = std::max(w, f.name.size());
    for (const auto& member : f.members) w = std::max(w, member.size() + 2);
  }
  for (const auto& o : r.outputs)
    if (o.output.met) print_output(m, r, o, w, top);
  fmt::print("\n{} runs in {:.2f} s{}\n", r.runs, r.seconds,
             job.out.empty() ? "" : fmt::format("; results in {}", job.out));
}

int sensitivity_verb(SensitivityArgs& sa) {
  if (!sa.given_data.empty()) return given_data_verb(sa);
  EnsembleArgs& a = sa.common;
  if (a.sub->count("--runs") && a.sub->count("--rows"))
    bad_arg("give --rows or --runs (the same: base rows of the design), not both");
  if (a.sub->count("--rows"))
    a.runs = sa.rows;
  else if (!a.sub->count("--runs"))
    a.runs = "4096";
  a.store = "summary";
  const JobHooks hooks = terminal_hooks(a.quiet);
  const EnsembleJob job = prepare(a, hooks);
  const SensitivityOptions o = design_options(sa);
  const std::vector<SensitivityResult> results = sensitivity_job(job, o, hooks);
  if (a.json) {
    print_document(sensitivity_job_document(job, results));
    return 0;
  }
  for (std::size_t si = 0; si < results.size(); ++si)
    print_sensitivity(job, results[si], job.inputs.scenarios[si].name, sa.sampling, sa.top);
  return 0;
}

}  // namespace

Action declare_sensitivity(CLI::App& sub) {
  auto a = std::make_shared<SensitivityArgs>();
  add_ensemble_options(sub, a->common,
                       "base rows N of Saltelli's design (default 4096; the model runs N (k + 2) "
                       "times for k factors)");
  sub.add_option("--rows", a->rows, "the same as --runs: base rows N of Saltelli's design");
  sub.add_option("--scenario", a->common.scenarios,
                 "scenario file (YAML); repeatable, one analysis each");
  sub.add_option("--resamples", a->resamples,
                 "bootstrap resamples for the intervals (default 200)");
  sub.add_option("--sampling", a->sampling,
                 "sobol (default: a shifted Sobol sequence) or random (the counter-based streams)");
  sub.add_option("--factor", a->factors,
                 "NAME=a,b,c: vary these parameters together as one factor; repeatable");
  sub.add_option("--top", a->top, "factors shown per target in the table (default 12)");
  sub.add_option("--prim-rows", a->prim_rows,
                 "rows whose A and B points PRIM peels (default 32768; 0: no PRIM)");
  sub.add_option("--prim-coverage", a->prim_coverage,
                 "PRIM chooses the densest box holding at least this share of the runs that "
                 "meet the target (default 0.5)");
  sub.add_option("--prim-alpha", a->prim_alpha, "PRIM's peeling and pasting share (default 0.05)");
  sub.add_option("--given-data", a->given_data,
                 "RESULTS.h5 of 'attain run --store targets': first-order indices of its stored "
                 "runs by binning, with no extra runs");
  return [a] { return sensitivity_verb(*a); };
}

}  // namespace attain::cli
