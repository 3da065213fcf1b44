// One variant's ensemble over the study engine.
#include "attain/ensemble.hpp"

#include <stdexcept>

namespace attain {

std::string_view store_name(StoreLevel s) {
  switch (s) {
    case StoreLevel::kSummary:
      return "summary";
    case StoreLevel::kTargets:
      return "targets";
    case StoreLevel::kFull:
      return "full";
  }
  return "?";
}

MeanInterval targets_met(const std::vector<std::uint64_t>& met) {
  Moments m;
  double sum = 0;
  for (std::size_t k = 0; k < met.size(); ++k) {
    m.n += met[k];
    sum += static_cast<double>(k) * static_cast<double>(met[k]);
  }
  if (m.n == 0) return mean_interval(m);
  // Shifted by the mean itself: the sum of deviations is 0, their squares are exact sums.
  m.shift = sum / static_cast<double>(m.n);
  bool first = true;
  for (std::size_t k = 0; k < met.size(); ++k) {
    if (met[k] == 0) continue;
    const double d = static_cast<double>(k) - m.shift;
    m.sumsq += d * d * static_cast<double>(met[k]);
    if (first) m.min = static_cast<double>(k), first = false;
    m.max = static_cast<double>(k);
  }
  return mean_interval(m);
}

EnsembleResult ensemble_result(const Model& m, const AttainmentReducer* at,
                               const ActualsReducer* ac, const SummaryReducer* su, double seconds) {
  EnsembleResult r;
  r.seconds = seconds;
  r.cost = scenario_cost(m);
  const int steps = m.time.steps();
  if (at) {
    r.runs = at->runs();
    for (std::size_t t = 0; t < m.targets.size(); ++t) {
      TargetResult tr;
      const Proportion p = proportion(at->hits(t), at->runs());
      tr.hits = p.hits, tr.runs = p.runs, tr.probability = p.p, tr.ci_low = p.lo, tr.ci_high = p.hi;
      for (int k = 0; k < steps; ++k) tr.first_met.push_back(at->first_met(t, k));
      tr.never = at->first_met(t, steps);
      r.targets.push_back(std::move(tr));
    }
    const Proportion j = proportion(at->joint_hits(), at->runs());
    r.joint_hits = j.hits, r.joint_probability = j.p, r.joint_low = j.lo, r.joint_high = j.hi;
    for (std::size_t k = 0; k <= m.targets.size(); ++k) r.met.push_back(at->met(k));
  }
  if (ac) {
    for (std::size_t a = 0; a < m.actuals.size(); ++a) {
      ActualResult x;
      x.below = ac->below(a), x.equal = ac->equal(a), x.runs = ac->runs();
      x.percentile = x.runs ? (static_cast<double>(x.below) + 0.5 * static_cast<double>(x.equal)) /
                                  static_cast<double>(x.runs)
                            : 0.0;
      r.actuals.push_back(x);
    }
  }
  if (su) {
    for (int node = 0; node < su->nodes(); ++node)
      for (int k = 0; k < su->steps(); ++k) {
        r.moments.push_back(su->moments(node, k));
        std::array<double, 5> q{};
        for (std::size_t i = 0; i < q.size(); ++i)
          q[i] = su->sketch(node, k).quantile(EnsembleResult::kQuantileLevels[i]);
        r.quantiles.push_back(q);
      }
  }
  return r;
}

EnsembleResult run_ensemble(const Program& program, const EnsembleOptions& o, ChunkSink* sink) {
  if (o.runs == 0) throw std::invalid_argument("run_ensemble: runs must be > 0");
  const Model& m = program.model();
  Study s;
  s.variants = {&program};
  s.reducers.push_back(std::make_unique<AttainmentReducer>(m, 0));
  s.reducers.push_back(std::make_unique<ActualsReducer>(m, 0));
  s.reducers.push_back(std::make_unique<SummaryReducer>(program.nodes(), program.steps(), 0));
  if (o.store != StoreLevel::kSummary)
    s.reducers.push_back(
        std::make_unique<RowsReducer>(m, program, 0, o.store == StoreLevel::kFull, sink));
  StudyOptions so;
  static_cast<Execution&>(so) = o;
  so.first = o.first_run;
  so.last = o.first_run + o.runs;
  so.chunk = o.chunk;
  StudyResult r = run_study(s, so);
  return ensemble_result(m, &r.get<AttainmentReducer>(0), &r.get<ActualsReducer>(1),
                         &r.get<SummaryReducer>(2), r.seconds);
}

std::vector<std::vector<double>> replay_run(const Program& program, std::uint64_t seed,
                                            std::uint64_t run) {
  Program::Block b = program.make_block(1);
  program.evaluate(b, seed, run, 1);
  std::vector<std::vector<double>> out(static_cast<std::size_t>(program.steps()));
  for (int k = 0; k < program.steps(); ++k)
    for (int node = 0; node < program.nodes(); ++node)
      out[static_cast<std::size_t>(k)].push_back(b.at(k, node, 0, program.slots()));
  return out;
}

}  // namespace attain
