// The analysis jobs: compare, sweep, search and sensitivity (attain/job.hpp).
#include <fmt/format.h>

#include <stdexcept>

#include "attain/job.hpp"
#include "attain/program.hpp"
#include "job_common.hpp"

namespace attain {

CompareResult compare_job(const EnsembleJob& job, bool with_actuals, const JobHooks& hooks) {
  const JobInputs& l = job.inputs;
  if (l.scenarios.size() < 2)
    bad_arg("compare needs two or more --scenario files; the first is the reference");
  auto file = open_results(job, job.info("compare"), hooks);
  std::vector<Program> programs;
  for (std::size_t si = 0; si < l.scenarios.size(); ++si)
    programs.push_back(job.compile_scenario(si));
  std::vector<const Program*> ptrs;
  std::vector<std::string> names;
  std::vector<ChunkSink*> sinks;
  for (std::size_t i = 0; i < programs.size(); ++i) {
    ptrs.push_back(&programs[i]);
    names.push_back(l.scenarios[i].name);
    if (file) {
      ChunkSink* sink = &file->begin_scenario(l.scenarios[i], programs[i]);
      sinks.push_back(job.store == StoreLevel::kSummary ? nullptr : sink);
    }
  }
  AnalysisOptions o = job.options;
  o.progress = hooks.make_progress("compare", o.runs);
  // A results file keeps every node's summary; a document only the actuals.
  const CompareExtras extras = file           ? CompareExtras::kActualsAndSummaries
                               : with_actuals ? CompareExtras::kActuals
                                              : CompareExtras::kNone;
  CompareResult r = compare(l.model, ptrs, names, o, extras, sinks, job.store == StoreLevel::kFull);
  hooks.done();
  if (file) {
    for (const auto& e : r.scenarios) file->end_scenario(e);
    file->write_comparisons(r.comparisons);
    file->commit();
  }
  return r;
}

SweepResult sweep_job(const EnsembleJob& job, const std::vector<SweepAxis>& axes,
                      const JobHooks& hooks) {
  if (axes.empty()) bad_arg("sweep needs at least one --lever NAME=FROM:TO:POINTS");
  std::size_t total = 1;
  for (const auto& ax : axes) {
    if (ax.points < 1 || ax.points > 1000)
      bad_arg(
          fmt::format("--lever {}: POINTS must be from 1 to 1000 (got {})", ax.lever, ax.points));
    if (total > kMaxSweepPoints / static_cast<std::size_t>(ax.points))
      bad_arg(fmt::format("the sweep grid has more than {} points", kMaxSweepPoints));
    total *= static_cast<std::size_t>(ax.points);
  }
  for (std::size_t i = 0; i < axes.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (axes[i].lever == axes[j].lever)
        bad_arg(
            fmt::format("lever '{}' is swept twice; give each lever one --lever", axes[i].lever));
  const JobInputs& l = job.inputs;
  if (l.scenarios.size() > 1) bad_arg("sweep takes at most one --scenario (the base)");
  Model sm = apply_scenario(l.model, l.scenarios[0]);
  Program base = compile(sm, l.graph, *job.cache);
  for (const auto& ax : axes) LeverKnob(sm, {ax.lever});  // names checked first
  auto file = open_results(job, job.info("sweep"), hooks);
  AnalysisOptions o = job.options;
  o.progress = hooks.make_progress("sweep", total, "points");
  SweepResult r = sweep(base, sm, axes, o);
  hooks.done();
  if (file) {
    file->write_sweep(r, l.scenarios[0]);
    file->commit();
  }
  return r;
}

namespace {

/// The index of target `name` ("all": -1) in the model.
int target_index(const Model& m, const std::string& name) {
  if (name == "all") {
    if (m.targets.empty()) bad_arg(fmt::format("model '{}' has no targets to search for", m.name));
    return -1;
  }
  std::vector<std::string> names{"all"};
  for (const auto& t : m.targets) names.push_back(t.name);
  for (std::size_t t = 0; t < m.targets.size(); ++t)
    if (m.targets[t].name == name) return static_cast<int>(t);
  bad_arg(fmt::format("--target '{}' is not a target of model '{}'{}; valid: {}", name, m.name,
                      did_you_mean(name, names), one_of(names)));
}

}  // namespace

SearchJobResult search_job(const EnsembleJob& job, SearchSpec spec, const std::string& target,
                           const JobHooks& hooks) {
  const JobInputs& l = job.inputs;
  if (l.scenarios.size() > 1) bad_arg("search takes at most one --scenario (the base)");
  if (!(spec.goal > 0 && spec.goal < 1))
    bad_arg(
        fmt::format("--probability must be a number in (0, 1), e.g. 0.8 (got '{}')", spec.goal));
  if (!(spec.tolerance > 0))
    bad_arg(fmt::format("--tolerance must be a number > 0 (got '{}')", spec.tolerance));
  spec.target = target_index(l.model, target);
  Model sm = apply_scenario(l.model, l.scenarios[0]);
  Program base = compile(sm, l.graph, *job.cache);
  LeverKnob knob(sm, spec.levers);  // names checked before any file is made
  auto file = open_results(job, job.info("search"), hooks);
  AnalysisOptions o = job.options;
  o.progress = hooks.make_progress("search", 40, "evals");
  SearchJobResult out;
  out.result = search(base, sm, spec, o);
  hooks.done();
  if (file) {
    file->write_search(out.result, l.scenarios[0]);
    file->commit();
  }
  out.spec = spec;
  out.knob = knob.description();
  out.absolute = knob.absolute();
  return out;
}

std::vector<SensitivityResult> sensitivity_job(const EnsembleJob& job,
                                               const SensitivityOptions& options,
                                               const JobHooks& hooks) {
  if (job.options.runs < 2) bad_arg("--rows must be at least 2");
  auto file = open_results(job, job.info("sensitivity"), hooks);
  const JobInputs& l = job.inputs;
  std::vector<SensitivityResult> results;
  for (std::size_t si = 0; si < l.scenarios.size(); ++si) {
    const auto& s = l.scenarios[si];
    Program program = job.compile_scenario(si);
    SensitivityOptions o = options;
    static_cast<Execution&>(o) = job.options;
    o.rows = job.options.runs;
    o.progress = hooks.make_progress(fmt::format("{} ({}/{})", s.name, si + 1, l.scenarios.size()),
                                     o.rows, "rows");
    try {
      results.push_back(run_sensitivity(program, o));
    } catch (const std::invalid_argument& e) {
      bad_arg(fmt::format("scenario '{}': {}", s.name, e.what()));
    }
    hooks.done();
    if (file) file->write_sensitivity(s.name, results.back());
  }
  if (file) file->commit();
  return results;
}

}  // namespace attain
