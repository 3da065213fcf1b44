// attain run MODEL [--scenario FILE]... : the ensemble of each scenario, with checkpoints
// and run ranges (docs/analyses.md, docs/scaling.md).
#include <fmt/format.h>

#include <memory>

#include "attain/checkpoint.hpp"
#include "format.hpp"
#include "processes.hpp"
#include "verbs.hpp"

namespace attain::cli {

namespace {

struct RunArgs {
  EnsembleArgs common;
  bool save_state = false;
  std::string run_range;         ///< FIRST:LAST, a part of the study (attain merge)
  std::string part;              ///< K/P, part K of P (attain merge)
  std::string checkpoint_every;  ///< seconds between checkpoints
  bool resume = false;
};

/// `--run-range FIRST:LAST` of a study of `runs` runs in chunks of `chunk`: both ends on
/// chunk boundaries (LAST may also be `runs`), so that parts merge exactly.
std::pair<std::uint64_t, std::uint64_t> parse_run_range(const std::string& text, std::uint64_t runs,
                                                        int chunk_runs) {
  const auto colon = text.find(':');
  std::optional<std::uint64_t> first, last;
  if (colon != std::string::npos) {
    first = parse_count(text.substr(0, colon));
    last = parse_count(text.substr(colon + 1));
  }
  if (!first || !last || *first >= *last || *last > runs)
    bad_arg(fmt::format(
        "--run-range must be FIRST:LAST with 0 <= FIRST < LAST <= --runs ({}), e.g. 0:{} (got "
        "'{}')",
        runs, std::min<std::uint64_t>(runs, 4 * static_cast<std::uint64_t>(chunk_runs)), text));
  const auto chunk = static_cast<std::uint64_t>(chunk_runs);
  for (const std::uint64_t end : {*first, *last}) {
    if (end % chunk == 0 || end == runs) continue;
    const std::uint64_t below = end / chunk * chunk, above = std::min(runs, below + chunk);
    bad_arg(fmt::format(
        "--run-range {}: run {} is not on a chunk boundary (chunks of {} runs with this model "
        "and --store); the nearest boundaries are {} and {}",
        text, end, chunk, below, above));
  }
  return {*first, *last};
}

/// `--part K/P`: part K (from 0) of P, the study's chunks shared out as evenly as whole
/// chunks allow: runs [floor(C K / P) chunk, floor(C (K + 1) / P) chunk) of the C chunks.
std::pair<std::uint64_t, std::uint64_t> parse_part(const std::string& text, std::uint64_t runs,
                                                   int chunk_runs) {
  const auto slash = text.find('/');
  std::optional<std::uint64_t> k, p;
  if (slash != std::string::npos) {
    k = parse_count(text.substr(0, slash));
    p = parse_count(text.substr(slash + 1));
  }
  const auto chunk = static_cast<std::uint64_t>(chunk_runs);
  const std::uint64_t chunks = (runs + chunk - 1) / chunk;
  if (!k || !p || *p < 1 || *k >= *p)
    bad_arg(
        fmt::format("--part must be K/P with 0 <= K < P, e.g. 3/25 for the fourth of 25 "
                    "parts (got '{}')",
                    text));
  if (*p > chunks)
    bad_arg(
        fmt::format("--part {}: {} runs make {} chunk{} of {} runs, too few for {} parts; "
                    "use at most {} parts",
                    text, runs, chunks, chunks == 1 ? "" : "s", chunk, *p, chunks));
  const auto share = [&](std::uint64_t i) {
    return static_cast<std::uint64_t>(static_cast<unsigned __int128>(chunks) * i / *p);
  };
  return {share(*k) * chunk, std::min(runs, share(*k + 1) * chunk)};
}

/// The options of the run job that need no model: checked before it is loaded.
RunJobOptions run_options(const RunArgs& a) {
  RunJobOptions o;
  if (!a.run_range.empty() && !a.part.empty()) bad_arg("give --run-range or --part, not both");
  o.part = !a.run_range.empty() || !a.part.empty();
  o.by_part = !a.part.empty();
  o.save_state = a.save_state;
  o.resume = a.resume;
  o.checkpoints_off = a.checkpoint_every == "off";
  if (!a.checkpoint_every.empty() && !o.checkpoints_off) {
    o.checkpoint_every = parse_number(a.checkpoint_every);
    if (!o.checkpoint_every)
      bad_arg(fmt::format(
          "--checkpoint-every must be seconds >= 0 (0: after every chunk), e.g. 600, or 'off' "
          "(got '{}')",
          a.checkpoint_every));
  }
  return o;
}

void print_run(const EnsembleJob& job, const RunJobResult& r, const EnsembleArgs& a) {
  const auto& l = job.inputs;
  const auto& m = l.model;
  if (a.json) {
    print_document(run_job_document(job, r.results));
    adaptive_note(job);
    return;
  }
  if (job.options.ci_width > 0) {
    std::string used;
    for (std::size_t si = 0; si < l.scenarios.size(); ++si)
      used += fmt::format("{}{} {}", si ? ", " : "", l.scenarios[si].name, r.results[si].runs);
    for (const auto& line :
         wrap(fmt::format("{}: until every 95 % half-width <= {:g} (at most {} runs), seed {}; "
                          "runs used: {}",
                          m.name, job.options.ci_width, job.options.runs, job.options.seed, used),
              kTerminalColumns))
      fmt::print("{}\n", line);
  } else {
    fmt::print("{}: {} runs per scenario, seed {}\n", m.name, job.options.runs, job.options.seed);
  }
  fmt::print(
      "probability of meeting each target in percent, with its 95 % Wilson interval (rounded "
      "outwards)\n\n");
  print_table(m, l.scenarios, r.results);
  fmt::print("\n{} runs in {:.2f} s ({:.0f} runs/s){}\n", r.total_runs, r.seconds,
             static_cast<double>(r.total_runs) / std::max(r.seconds, 1e-9),
             job.out.empty() ? "" : fmt::format("; results in {}", job.out));
  adaptive_note(job);
}

int run_verb(const RunArgs& a) {
  RunJobOptions o = run_options(a);
  const JobHooks hooks = terminal_hooks(a.common.quiet);
  const EnsembleJob job = prepare(a.common, hooks, 1);
  check_run_options(o, job.out, job.options.ci_width, job.options.communicator != nullptr);
  if (!a.run_range.empty()) {
    std::tie(o.first, o.last) = parse_run_range(a.run_range, job.options.runs, job.options.chunk);
  } else if (!a.part.empty()) {
    std::tie(o.first, o.last) = parse_part(a.part, job.options.runs, job.options.chunk);
  }
  print_run(job, run_job(job, o, hooks), a.common);
  return 0;
}

}  // namespace

Action declare_run(CLI::App& sub) {
  auto a = std::make_shared<RunArgs>();
  add_ensemble_options(sub, a->common,
                       "runs per scenario (default 10000; the ceiling with --ci-width)");
  sub.add_option("--scenario", a->common.scenarios,
                 "scenario file (YAML); repeatable, one column each");
  sub.add_option("--store", a->common.store,
                 "per-run data to keep: summary, targets (default) or full");
  sub.add_option("--ci-width", a->common.ci_width,
                 "stop once every target's 95 % half-width is at most this (e.g. 0.01)");
  sub.add_flag("--save-state", a->save_state,
               "also store each scenario's exact reducer state in --out (for merging run ranges)");
  sub.add_option("--run-range", a->run_range,
                 "FIRST:LAST: compute only runs [FIRST, LAST) of the --runs, on chunk "
                 "boundaries, for 'attain merge'");
  sub.add_option("--part", a->part,
                 "K/P: compute only part K (from 0) of P of the --runs, whole chunks each, for "
                 "'attain merge' (e.g. $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)");
  sub.add_option("--checkpoint-every", a->checkpoint_every,
                 fmt::format("seconds between checkpoints of --out (default {:g}; 0: every "
                             "chunk; off: none)",
                             kCheckpointSeconds));
  sub.add_flag("--resume", a->resume,
               "continue from the checkpoint of an interrupted run with the same --out (or "
               "start, when there is none)");
  return [a] { return run_verb(*a); };
}

}  // namespace attain::cli
