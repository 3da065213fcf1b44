// Paired comparison, adaptive stopping, lever sweeps and chance-constrained search.
#include "attain/analysis.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "attain/cost.hpp"
#include "attain/graph.hpp"

namespace attain {
namespace {

StudyOptions study_options(const AnalysisOptions& o) {
  StudyOptions so;
  static_cast<Execution&>(so) = o;
  so.first = o.first;
  so.last = o.first + o.runs;
  so.checkpoint = o.checkpoint;
  so.chunk = o.chunk;
  return so;
}

/// Runs the study on [0, runs), stopping adaptively (options.ci_width > 0) on the
/// intervals of the given attainment and paired reducers.
StudyResult run_adaptive(const Study& s, const AnalysisOptions& o,
                         std::vector<std::size_t> attainment, std::vector<std::size_t> paired) {
  StudyOptions so = study_options(o);
  std::optional<CiWidthRule> rule;
  if (o.ci_width > 0) {
    rule.emplace(o.ci_width, std::move(attainment), std::move(paired));
    so.stop = &*rule;
  }
  return run_study(s, so);
}

}  // namespace

PairedTarget paired_target(std::string name, const PairedReducer::Table& t) {
  PairedTarget p;
  p.name = std::move(name);
  p.table = t;
  p.reference = proportion(t.both + t.hurt, t.n());
  p.other = proportion(t.both + t.helped, t.n());
  p.paired = paired_difference(t);
  p.unpaired = unpaired_difference(t);
  p.p_value = mcnemar_exact_p(t.helped, t.hurt);
  return p;
}

namespace {

/// P(each target) and the joint of one program on the run range.
std::pair<std::vector<Proportion>, Proportion> attainment(const Program& p,
                                                          const AnalysisOptions& o,
                                                          std::uint64_t* runs) {
  Study s;
  s.variants = {&p};
  s.reducers.push_back(std::make_unique<AttainmentReducer>(p.model(), 0));
  StudyResult r = run_adaptive(s, o, {0}, {});
  const auto& a = r.get<AttainmentReducer>(0);
  std::vector<Proportion> targets;
  for (std::size_t t = 0; t < p.model().targets.size(); ++t)
    targets.push_back(proportion(a.hits(t), a.runs()));
  if (runs) *runs = r.runs();
  return {targets, proportion(a.joint_hits(), a.runs())};
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Adaptive stopping.

CiWidthRule::CiWidthRule(double half_width, std::vector<std::size_t> attainment,
                         std::vector<std::size_t> paired)
    : half_width_(half_width),
      attainment_(std::move(attainment)),
      paired_(std::move(paired)),
      hits_(attainment_.size()),
      runs_(attainment_.size(), 0),
      tables_(paired_.size()) {}

bool CiWidthRule::observe(std::span<const std::unique_ptr<Reducer>> chunk) {
  bool done = true;
  for (std::size_t i = 0; i < attainment_.size(); ++i) {
    const auto& a = dynamic_cast<const AttainmentReducer&>(*chunk[attainment_[i]]);
    auto& h = hits_[i];
    const std::size_t nt = a.targets();
    runs_[i] += a.runs();
    h.resize(nt + 1, 0);
    for (std::size_t t = 0; t <= nt; ++t) {  // every target, then all together
      h[t] += t < nt ? a.hits(t) : a.joint_hits();
      const Proportion p = proportion(h[t], runs_[i]);
      done = done && (p.hi - p.lo) / 2 <= half_width_;
    }
  }
  for (std::size_t i = 0; i < paired_.size(); ++i) {
    const auto& pr = dynamic_cast<const PairedReducer&>(*chunk[paired_[i]]);
    auto& tabs = tables_[i];
    tabs.resize(pr.targets() + 1);
    for (std::size_t t = 0; t <= pr.targets(); ++t) {  // every target, then all together
      const auto c = pr.table(t);
      tabs[t].both += c.both, tabs[t].helped += c.helped, tabs[t].hurt += c.hurt,
          tabs[t].neither += c.neither;
      const Difference d = paired_difference(tabs[t]);
      done = done && (d.hi - d.lo) / 2 <= half_width_;
    }
  }
  return done;
}

// ---------------------------------------------------------------------------------------
// Comparison and single scenarios.

CompareResult compare(const Model& model, const std::vector<const Program*>& programs,
                      const std::vector<std::string>& names, const AnalysisOptions& o,
                      CompareExtras extras, const std::vector<ChunkSink*>& sinks, bool full) {
  const std::size_t k = programs.size();
  if (k < 2 || names.size() != k)
    throw std::invalid_argument("compare: needs two or more programs, each with a name");
  Study s;
  s.variants = programs;
  for (std::size_t v = 0; v < k; ++v)
    s.reducers.push_back(std::make_unique<AttainmentReducer>(model, static_cast<int>(v)));
  std::vector<std::size_t> paired;
  for (std::size_t v = 1; v < k; ++v) {
    paired.push_back(s.reducers.size());
    s.reducers.push_back(std::make_unique<PairedReducer>(model, 0, static_cast<int>(v)));
  }
  const std::size_t extra = s.reducers.size();
  const bool actuals = extras != CompareExtras::kNone;
  const bool summaries = extras == CompareExtras::kActualsAndSummaries;
  const std::size_t per = (actuals ? 1 : 0) + (summaries ? 1 : 0);  // reducers per variant
  for (std::size_t v = 0; v < k; ++v) {
    if (actuals) s.reducers.push_back(std::make_unique<ActualsReducer>(model, static_cast<int>(v)));
    if (summaries)
      s.reducers.push_back(std::make_unique<SummaryReducer>(
          programs[v]->nodes(), programs[v]->steps(), static_cast<int>(v)));
  }
  for (std::size_t v = 0; v < sinks.size(); ++v)
    if (sinks[v])
      s.reducers.push_back(
          std::make_unique<RowsReducer>(model, *programs[v], static_cast<int>(v), full, sinks[v]));
  StudyResult r = run_adaptive(s, o, {}, paired);

  CompareResult out;
  out.runs = r.runs();
  out.seconds = r.seconds;
  for (std::size_t v = 0; v < k; ++v) {
    const ActualsReducer* ac = nullptr;
    const SummaryReducer* su = nullptr;
    if (actuals) ac = &r.get<ActualsReducer>(extra + per * v);
    if (summaries) su = &r.get<SummaryReducer>(extra + per * v + 1);
    out.scenarios.push_back(
        ensemble_result(programs[v]->model(), &r.get<AttainmentReducer>(v), ac, su, r.seconds));
  }
  for (std::size_t i = 0; i < paired.size(); ++i) {
    const auto& pr = r.get<PairedReducer>(paired[i]);
    Comparison c;
    c.reference = names[0];
    c.scenario = names[i + 1];
    for (std::size_t t = 0; t < model.targets.size(); ++t) {
      PairedTarget pt = paired_target(model.targets[t].name, pr.table(t));
      pt.value_difference = mean_interval(pr.difference(t));
      c.targets.push_back(std::move(pt));
    }
    c.joint = paired_target("all targets", pr.table(model.targets.size()));
    out.comparisons.push_back(std::move(c));
  }
  return out;
}

std::vector<std::unique_ptr<Reducer>> scenario_reducers(const Program& program, bool summaries,
                                                        ChunkSink* sink, bool full) {
  const Model& m = program.model();
  std::vector<std::unique_ptr<Reducer>> out;
  out.push_back(std::make_unique<AttainmentReducer>(m, 0));
  out.push_back(std::make_unique<ActualsReducer>(m, 0));
  if (summaries)
    out.push_back(std::make_unique<SummaryReducer>(program.nodes(), program.steps(), 0));
  if (sink) out.push_back(std::make_unique<RowsReducer>(m, program, 0, full, sink));
  return out;
}

EnsembleResult run_scenario(const Program& program, const AnalysisOptions& o, bool summaries,
                            ChunkSink* sink, bool full, StudyResult* study) {
  Study s;
  s.variants = {&program};
  s.reducers = scenario_reducers(program, summaries, sink, full);
  StudyResult r = run_adaptive(s, o, {0}, {});
  EnsembleResult e = scenario_result(program, r.reducers, summaries, r.seconds);
  if (study) *study = std::move(r);
  return e;
}

EnsembleResult scenario_result(const Program& program,
                               const std::vector<std::unique_ptr<Reducer>>& reducers,
                               bool summaries, double seconds) {
  auto get = [&](std::size_t i) -> const Reducer& { return *reducers.at(i); };
  return ensemble_result(program.model(), &dynamic_cast<const AttainmentReducer&>(get(0)),
                         &dynamic_cast<const ActualsReducer&>(get(1)),
                         summaries ? &dynamic_cast<const SummaryReducer&>(get(2)) : nullptr,
                         seconds);
}

// ---------------------------------------------------------------------------------------
// Levers.

LeverKnob::LeverKnob(const Model& m, std::vector<std::string> levers) : levers_(std::move(levers)) {
  std::vector<std::string> valid;
  for (const auto& n : m.nodes)
    if (n.kind == NodeKind::kLever) valid.push_back(n.name);
  if (levers_.empty()) fail({}, "--lever needs a lever name; levers: " + one_of(valid));
  for (const auto& name : levers_) {
    const Node* n = m.find(name);
    if (!n || n->kind != NodeKind::kLever)
      fail({}, fmt::format("'{}' is not a lever of model '{}'{}; levers: {}", name, m.name,
                           did_you_mean(name, valid), one_of(valid)));
    base_.push_back(n->lever);
  }
  absolute_ = levers_.size() == 1 && base_[0].form == LeverRule::Form::kConstant;
}

std::string LeverKnob::description() const {
  std::string names;
  for (const auto& l : levers_) names += (names.empty() ? "" : ", ") + l;
  return absolute_ ? "value of " + names : "scale of " + names;
}

void LeverKnob::apply(Program& p, double level) const {
  for (std::size_t i = 0; i < levers_.size(); ++i) {
    LeverRule r = base_[i];
    if (absolute_) {
      r.value = level;
      r.scale = 1;
    } else {
      r.scale = base_[i].scale * level;
    }
    p.set_lever(levers_[i], r);
  }
}

double LeverKnob::as_written() const {
  return absolute_ ? base_[0].value * base_[0].scale : 1.0;
}

// ---------------------------------------------------------------------------------------
// Sweep.

std::vector<double> SweepAxis::levels() const {
  std::vector<double> out;
  for (int i = 0; i < points; ++i)
    out.push_back(points == 1 ? from : from + (to - from) * i / (points - 1));
  if (points > 1) out.back() = to;
  return out;
}

SweepResult sweep(const Program& base, const Model& m, const std::vector<SweepAxis>& axes,
                  const AnalysisOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  SweepResult out;
  out.axes = axes;
  std::vector<LeverKnob> knobs;
  std::vector<std::vector<double>> grids;
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const SweepAxis& a = axes[i];
    for (std::size_t j = 0; j < i; ++j)
      if (axes[j].lever == a.lever)
        fail({}, fmt::format("lever '{}' is swept twice; give each lever one --lever", a.lever));
    if (a.points < 1) fail({}, fmt::format("lever '{}': points must be >= 1", a.lever));
    knobs.emplace_back(m, std::vector<std::string>{a.lever});
    out.absolute.push_back(knobs.back().absolute());
    grids.push_back(a.levels());
  }
  std::size_t total = 1;
  for (const auto& g : grids) {
    if (total > kMaxSweepPoints / g.size())
      fail({}, fmt::format("the sweep grid has more than {} points", kMaxSweepPoints));
    total *= g.size();
  }
  AnalysisOptions po = o;
  po.progress = nullptr;
  for (std::size_t q = 0; q < total; ++q) {
    Program p = base;
    SweepPoint pt;
    std::size_t rest = q;
    pt.levels.assign(axes.size(), 0);
    for (std::size_t i = axes.size(); i-- > 0;) {  // last axis fastest
      pt.levels[i] = grids[i][rest % grids[i].size()];
      rest /= grids[i].size();
    }
    for (std::size_t i = 0; i < axes.size(); ++i) knobs[i].apply(p, pt.levels[i]);
    if (auto c = scenario_cost(p.model())) pt.cost = c->total;
    std::uint64_t runs = 0;
    std::tie(pt.targets, pt.joint) = attainment(p, po, &runs);
    out.runs = std::max(out.runs, runs);
    out.points.push_back(std::move(pt));
    if (o.progress) o.progress(out.points.size());
  }
  // Monotonicity along each axis (neighbours differing in that axis only).
  std::vector<std::size_t> stride(axes.size(), 1);
  for (std::size_t i = axes.size(); i-- > 1;) stride[i - 1] = stride[i] * grids[i].size();
  for (std::size_t q = 0; q < out.points.size(); ++q)
    for (std::size_t i = 0; i < axes.size(); ++i) {
      const std::size_t pos = (q / stride[i]) % grids[i].size();
      if (pos + 1 >= grids[i].size()) continue;
      const SweepPoint& a = out.points[q];
      const SweepPoint& b = out.points[q + stride[i]];
      const bool rising = grids[i][pos + 1] > grids[i][pos];
      for (std::size_t t = 0; t <= m.targets.size(); ++t) {
        const double pa = t < m.targets.size() ? a.targets[t].p : a.joint.p;
        const double pb = t < m.targets.size() ? b.targets[t].p : b.joint.p;
        if (rising ? pb < pa : pb > pa)
          out.non_monotone.push_back(
              fmt::format("{}: {} {:g} -> {:g} ({:.4f} -> {:.4f})",
                          t < m.targets.size() ? m.targets[t].name : "all targets", axes[i].lever,
                          grids[i][pos], grids[i][pos + 1], pa, pb));
      }
    }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

// ---------------------------------------------------------------------------------------
// Search.

namespace {

/// The model a search evaluates: only what the target depends on (the same values, run
/// by run, for less work), checked to depend on every lever searched.
Model search_model(const Program& whole, const Model& m, const SearchSpec& spec) {
  LeverKnob(m, spec.levers);  // every name is a lever of the model
  std::vector<std::size_t> keep;
  if (spec.target >= 0) {
    keep.push_back(static_cast<std::size_t>(spec.target));
  } else {
    for (std::size_t t = 0; t < m.targets.size(); ++t) keep.push_back(t);
  }
  Model pm = prune_model(whole.model(), keep);
  for (const auto& l : spec.levers)
    if (!pm.find(l))
      fail({}, fmt::format("the {} does not depend on lever '{}': no level of it can change "
                           "the probability",
                           spec.target < 0 ? std::string("targets")
                                           : "target '" + m.targets[keep[0]].name + "'",
                           l));
  return pm;
}

}  // namespace

SearchResult search(const Program& whole, const Model& m, const SearchSpec& spec,
                    const AnalysisOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const Model pm = search_model(whole, m, spec);
  const Program base = compile(pm, build_graph(pm));
  const int target = spec.target < 0 ? -1 : 0;
  LeverKnob knob(pm, spec.levers);
  SearchResult out;
  out.levers = spec.levers;
  out.absolute = knob.absolute();
  out.target = spec.target < 0 ? "all" : m.targets.at(static_cast<std::size_t>(spec.target)).name;
  out.goal = spec.goal;
  out.tolerance = spec.tolerance;
  const double written = knob.as_written();
  out.range_low = spec.low.value_or(0.0);
  out.range_high = spec.high.value_or(written != 0 ? 4 * std::abs(written) : 1.0);
  if (!(out.range_high > out.range_low))
    fail({},
         fmt::format("--range must have LO < HI (got {:g}:{:g})", out.range_low, out.range_high));
  if (!(spec.tolerance > 0)) fail({}, "--tolerance must be > 0");
  if (!(spec.goal > 0 && spec.goal < 1)) fail({}, "--probability must be in (0, 1)");

  AnalysisOptions po = o;
  po.progress = nullptr;
  po.ci_width = 0;
  std::map<double, Proportion> cache;
  auto eval = [&](double level) -> const Proportion& {
    auto it = cache.find(level);
    if (it != cache.end()) return it->second;
    Program p = base;
    knob.apply(p, level);
    std::uint64_t runs = 0;
    auto [targets, joint] = attainment(p, po, &runs);
    out.runs = runs;
    if (o.progress) o.progress(cache.size() + 1);
    return cache.emplace(level, target < 0 ? joint : targets[static_cast<std::size_t>(target)])
        .first->second;
  };
  // The least level in [lo, hi] at which `ok` holds, to the tolerance (ok monotone).
  // Narrows [lo, hi] (ok(lo) false, ok(hi) true) to the tolerance, or until the doubles
  // between them run out; at most 200 halvings, checking for an interrupt each time.
  auto narrow = [&](double lo, double hi, auto ok) {
    for (int i = 0; i < 200 && hi - lo > spec.tolerance; ++i) {
      if (o.cancel && o.cancel->load()) throw InterruptedError();
      const double mid = lo + (hi - lo) / 2;
      if (!(mid > lo && mid < hi)) break;
      if (ok(eval(mid)))
        hi = mid;
      else
        lo = mid;
    }
    return hi;
  };
  // The least level in [lo, hi] at which `ok` holds, to the tolerance (ok monotone).
  auto bisect = [&](double lo, double hi, auto ok) {
    if (ok(eval(lo))) return lo;
    return narrow(lo, hi, ok);
  };
  const double goal = spec.goal;
  // The tightest bracket of the least level where `ok` holds that the evaluations so far
  // give (ok monotone), then bisection inside it.
  auto refine = [&](double lo, double hi, auto ok) {
    for (const auto& [level, p] : cache) {
      if (level < lo || level > hi) continue;
      if (ok(p)) {
        hi = std::min(hi, level);
      } else {
        lo = std::max(lo, level);
      }
    }
    if (lo == out.range_low && !cache.contains(lo)) return bisect(lo, hi, ok);
    return narrow(lo, hi, ok);
  };
  const Proportion& top = eval(out.range_high);
  out.reachable = top.p >= goal;
  auto meets = [&](const Proportion& p) { return p.p >= goal; };
  auto reaches = [&](const Proportion& p) { return p.hi >= goal; };
  auto above = [&](const Proportion& p) { return p.lo >= goal; };
  if (out.reachable) {
    out.level = bisect(out.range_low, out.range_high, meets);
    out.at_level = eval(out.level);
    out.level_low = refine(out.range_low, out.level, reaches);
    // No level in the range may have its whole interval above the goal.
    out.level_high = above(top) ? refine(out.level, out.range_high, above) : std::nan("");
  } else {
    out.level = std::nan("");
    out.at_level = top;
    out.level_low = reaches(top) ? refine(out.range_low, out.range_high, reaches) : std::nan("");
    out.level_high = std::nan("");
  }
  for (const auto& [level, p] : cache) out.evaluations.push_back({level, p});
  for (std::size_t i = 1; i < out.evaluations.size(); ++i)
    if (out.evaluations[i].p.p < out.evaluations[i - 1].p.p) out.monotone = false;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace attain
