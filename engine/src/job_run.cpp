// The `run` job: several scenarios into a results file, with checkpoints, rows spools and
// resume (attain/job.hpp, docs/scaling.md).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>

#include "attain/isolation.hpp"
#include "attain/job.hpp"
#include "attain/program.hpp"
#include "attain/study.hpp"
#include "job_common.hpp"

namespace attain {

namespace {

/// What a checkpoint of `run` must match to be resumed: the study, the run range and
/// whether the state is saved.
Fingerprint run_fingerprint(const JobInputs& inputs, const RunInfo& info, bool save_state) {
  Fingerprint f = study_fingerprint(inputs, info);
  auto at = std::find_if(f.begin(), f.end(),
                         [](const auto& e) { return e.first == "runs of the study"; });
  f.insert(at, {"run range", fmt::format("[{}, {})", info.first_run, info.first_run + info.runs)});
  f.emplace_back("save state", save_state ? "yes" : "no");
  return f;
}

/// A scenario finished or begun, as the checkpoints of a run keep it.
struct ScenarioProgress {
  std::string name;
  bool done = false;
  double seconds = 0;
  StudyState before;       ///< the range a resumed run found in the checkpoint
  StudyState after;        ///< the whole range, once done
  std::string spool_name;  ///< its rows spool in the checkpoint folder
  std::unique_ptr<RowSpool> spool;
};

/// After a successful run: its own spools go; the rest of the checkpoint folder (a killed
/// run's spools, the state) only when no other process holds its lock.
void remove_checkpoint(const std::string& folder, std::unique_ptr<CheckpointLock>& lock,
                       const std::vector<ScenarioProgress>& progress) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& p : progress)
    if (!p.spool_name.empty()) fs::remove(folder + "/" + p.spool_name, ec);
  if (!fs::exists(folder, ec)) return;
  if (!lock) lock = std::make_unique<CheckpointLock>(folder);
  if (lock->held()) {
    fs::remove_all(folder, ec);
    lock.reset();
  }
}

/// One `run` job from its checks to its committed file.
class RunJobRunner {
 public:
  RunJobRunner(const EnsembleJob& job, const RunJobOptions& options, const JobHooks& hooks);
  RunJobResult run();

 private:
  void read_checkpoint();
  void load_resumed(std::size_t si);
  void save(std::size_t current, const StudyState* state, double elapsed);
  CheckpointScenario entry(std::size_t i, std::size_t current, const StudyState* state,
                           double elapsed);
  ChunkSink* open_spool(std::size_t si, ChunkSink* file_sink, std::optional<TeeSink>& tee);
  EnsembleResult run_scenario(std::size_t si);
  AnalysisOptions scenario_options(std::size_t si, std::uint64_t start);

  const EnsembleJob& job_;
  const RunJobOptions& o_;
  const JobHooks& hooks_;
  RunInfo info_;
  std::uint64_t first_ = 0, last_ = 0;
  bool save_state_ = false, checkpoints_ = false, checkpointing_ = false, saved_one_ = false;
  bool rows_ = false, full_ = false;
  double interval_ = kCheckpointSeconds;
  std::string folder_;
  Fingerprint fingerprint_;
  std::optional<CheckpointInfo> resumed_;
  std::unique_ptr<CheckpointLock> lock_;
  NullSink none_;  ///< the sink of reducers loaded from a checkpoint, which never write
  std::vector<ScenarioProgress> progress_;
  std::size_t saved_ = 0;
  std::unique_ptr<ResultsFile> file_;
  std::chrono::steady_clock::time_point last_save_ = std::chrono::steady_clock::now();
};

RunJobRunner::RunJobRunner(const EnsembleJob& job, const RunJobOptions& options,
                           const JobHooks& hooks)
    : job_(job), o_(options), hooks_(hooks), info_(job.info("run")) {
  check_run_options(options, job.out, job.options.ci_width, job.options.communicator != nullptr);
  first_ = options.first;
  last_ = options.last ? options.last : job.options.runs;
  if (first_ >= last_ || last_ > job.options.runs)
    bad_arg(fmt::format("the run range [{}, {}) is not within the study's {} runs", first_, last_,
                        job.options.runs));
  info_.first_run = first_;
  info_.runs = last_ - first_;
  info_.study_runs = job.options.runs;
  // Checkpoints: of a run with a results file and a fixed number of runs; under mpirun,
  // none (each rank would checkpoint its own share, docs/scaling.md).
  checkpoints_ = !job.out.empty() && job.options.ci_width == 0 && !options.checkpoints_off &&
                 !job.options.communicator;
  checkpointing_ = checkpoints_;
  interval_ = options.checkpoint_every.value_or(kCheckpointSeconds);
  folder_ = job.out + ".checkpoint";
  save_state_ = options.save_state || options.part;
  fingerprint_ = run_fingerprint(job.inputs, info_, save_state_);
  rows_ = job.store != StoreLevel::kSummary;
  full_ = job.store == StoreLevel::kFull;
  progress_.resize(job.inputs.scenarios.size());
}

/// A checkpoint left by an interrupted run: continued with `resume`, never overwritten
/// without it.
void RunJobRunner::read_checkpoint() {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!checkpoints_ || !fs::exists(folder_ + "/state.h5", ec)) {
    if (o_.resume)
      hooks_.say(fmt::format("no checkpoint in '{}'; starting from the first run", folder_));
    return;
  }
  lock_ = std::make_unique<CheckpointLock>(folder_);
  if (!lock_->held())
    bad_arg(
        fmt::format("another attain process is writing '{}' (its checkpoint '{}' is "
                    "locked); wait for it or give another --out",
                    job_.out, folder_));
  if (!o_.resume)
    bad_arg(
        fmt::format("'{}' holds the checkpoint of an interrupted run of '{}'; add --resume to "
                    "continue it, or remove the folder to start again",
                    folder_, job_.out));
  try {
    // A checkpoint may come from elsewhere: read in a child process first (isolation.hpp),
    // its states where this command's fingerprint and scenarios match; then read here.
    isolated_read(folder_ + "/state.h5", [&] {
      const CheckpointInfo c = read_checkpoint_info(folder_);
      const auto& in = job_.inputs.scenarios;
      for (std::size_t si = 0;
           first_difference(c.fingerprint, fingerprint_).empty() && si < c.scenarios.size() &&
           si < in.size() && c.scenarios[si].name == in[si].name;
           ++si)
        read_checkpoint_state(
            folder_, si,
            scenario_reducers(job_.compile_scenario(si), true, rows_ ? &none_ : nullptr, full_));
    });
    resumed_ = read_checkpoint_info(folder_);
  } catch (const OutputError& e) {
    bad_arg(fmt::format("--resume: {}; remove '{}' to start again", e.what(), folder_));
  }
  if (const std::string key = first_difference(resumed_->fingerprint, fingerprint_); !key.empty())
    bad_arg(
        fmt::format("--resume: the checkpoint in '{}' was made with another {} than this "
                    "command's; run the command that made it, or remove the folder to start "
                    "again",
                    folder_, key));
  std::uint64_t done = 0;
  for (const auto& s : resumed_->scenarios) done += s.last - s.first;
  hooks_.say(fmt::format("resuming from the checkpoint in '{}' ({} of {} runs done)", folder_, done,
                         info_.runs * job_.inputs.scenarios.size()));
  saved_ = resumed_->scenarios.size();
  if (saved_ > job_.inputs.scenarios.size())
    bad_arg(fmt::format("--resume: the checkpoint in '{}' holds {} scenarios, not {}", folder_,
                        saved_, job_.inputs.scenarios.size()));
  // Every scenario the checkpoint holds, read before anything runs: later checkpoints of
  // this process keep the ones it has not reached yet.
  for (std::size_t si = 0; si < saved_; ++si) load_resumed(si);
}

void RunJobRunner::load_resumed(std::size_t si) {
  const JobInputs& l = job_.inputs;
  const auto& s = l.scenarios[si];
  const auto& stored = resumed_->scenarios[si];
  if (stored.name != s.name)
    bad_arg(fmt::format("--resume: the checkpoint's scenario {} is '{}', not '{}'", si + 1,
                        stored.name, s.name));
  if (stored.done && stored.last != last_)
    bad_arg(fmt::format("--resume: the checkpoint's scenario '{}' is done at run {}, not {}",
                        s.name, stored.last, last_));
  Program program = job_.compile_scenario(si);
  try {
    progress_[si].before = read_checkpoint_state(
        folder_, si, scenario_reducers(program, true, rows_ ? &none_ : nullptr, full_));
  } catch (const OutputError& e) {
    bad_arg(fmt::format("--resume: {}; remove '{}' to start again", e.what(), folder_));
  }
  progress_[si].name = s.name;
  progress_[si].seconds = stored.seconds;
  progress_[si].spool_name = stored.rows_file;
}

CheckpointScenario RunJobRunner::entry(std::size_t i, std::size_t current, const StudyState* state,
                                       double elapsed) {
  ScenarioProgress& p = progress_[i];
  CheckpointScenario e;
  e.name = p.name;
  e.done = p.done;
  e.seconds = p.seconds + (i == current && !p.done ? elapsed : 0);
  if (p.spool) {
    p.spool->sync();
    e.rows_bytes = p.spool->bytes();
    e.rows_file = p.spool_name;
  } else if (i > current) {  // resumed, not reached yet: as the checkpoint had it
    e.rows_bytes = resumed_->scenarios[i].rows_bytes;
    e.rows_file = resumed_->scenarios[i].rows_file;
    e.done = resumed_->scenarios[i].done;
  }
  if (i > current) {
    e.before = &p.before;
  } else if (p.done) {
    e.state = &p.after;
  } else {
    e.before = p.before.partials().empty() ? nullptr : &p.before;
    e.state = state;
    if (!e.before && !e.state) e.state = &p.before;
  }
  return e;
}

/// Saves every scenario begun: the finished ones whole, the running one up to `state`.
void RunJobRunner::save(std::size_t current, const StudyState* state, double elapsed) {
  if (!lock_) {
    lock_ = std::make_unique<CheckpointLock>(folder_);
    if (!lock_->held()) {
      hooks_.say(
          fmt::format("warning: another attain process holds the checkpoint '{}'; this "
                      "run goes on without checkpoints",
                      folder_));
      checkpointing_ = false;
      return;
    }
  }
  std::vector<CheckpointScenario> entries;
  for (std::size_t i = 0; i < std::max(current + 1, saved_) && i < progress_.size(); ++i)
    entries.push_back(entry(i, current, state, elapsed));
  write_checkpoint(folder_, fingerprint_, entries);
  last_save_ = std::chrono::steady_clock::now();
  saved_one_ = true;
}

/// Rows go to the results file and, for checkpoints, to a spool that survives a crash.
ChunkSink* RunJobRunner::open_spool(std::size_t si, ChunkSink* file_sink,
                                    std::optional<TeeSink>& tee) {
  ScenarioProgress& sp = progress_[si];
  const bool have = si < saved_;
  if (rows_ && checkpointing_) {
    std::error_code ec;
    std::filesystem::create_directories(folder_, ec);
    sp.spool_name = have && !resumed_->scenarios[si].rows_file.empty()
                        ? resumed_->scenarios[si].rows_file
                        : fmt::format("rows-{}-{}.bin", si, ::getpid());
    sp.spool = std::make_unique<RowSpool>(folder_ + "/" + sp.spool_name,
                                          have ? resumed_->scenarios[si].rows_bytes : 0);
  }
  if (!sp.spool) return file_sink;
  return &tee.emplace(std::vector<ChunkSink*>{file_sink, sp.spool.get()});
}

AnalysisOptions RunJobRunner::scenario_options(std::size_t si, std::uint64_t start) {
  const auto& s = job_.inputs.scenarios[si];
  AnalysisOptions o = job_.options;
  o.first = start;
  o.runs = last_ - start;
  o.progress = hooks_.make_progress(
      fmt::format("{} ({}/{})", s.name, si + 1, job_.inputs.scenarios.size()), last_ - first_);
  if (o.progress && start > first_)
    o.progress = [bar = o.progress, done = start - first_](std::uint64_t n) { bar(done + n); };
  const auto begun = std::chrono::steady_clock::now();
  if (checkpointing_)
    o.checkpoint = [this, si, begun, name = s.name](const StudyState& st, bool interrupted) {
      const auto now = std::chrono::steady_clock::now();
      if (!checkpointing_ ||
          (!interrupted && std::chrono::duration<double>(now - last_save_).count() < interval_))
        return;
      save(si, &st, std::chrono::duration<double>(now - begun).count());
      if (interrupted)
        hooks_.say(
            fmt::format("checkpoint saved in '{}' ({} runs of scenario '{}' done); add "
                        "--resume to continue",
                        folder_, st.last - first_, name));
    };
  return o;
}

EnsembleResult RunJobRunner::run_scenario(std::size_t si) {
  const JobInputs& l = job_.inputs;
  const auto& s = l.scenarios[si];
  ScenarioProgress& sp = progress_[si];
  sp.name = s.name;
  Program program = job_.compile_scenario(si);
  ChunkSink* file_sink = file_ ? &file_->begin_scenario(s, program) : nullptr;
  std::optional<TeeSink> tee;
  ChunkSink* sink = open_spool(si, file_sink, tee);
  std::uint64_t start = first_;
  if (si < saved_) {
    const auto& stored = resumed_->scenarios[si];
    try {
      if (rows_) RowSpool::replay(folder_ + "/" + sp.spool_name, stored.rows_bytes, *file_sink);
    } catch (const OutputError& e) {
      bad_arg(fmt::format("--resume: {}; remove '{}' to start again", e.what(), folder_));
    }
    start = stored.last;
  } else {
    sp.before.first = sp.before.last = first_;
    sp.before.chunk = job_.options.chunk;
  }
  StudyResult merged;
  if (si < saved_ && start == last_) {  // every run done (the scenario may not say so yet)
    merged.state = std::move(sp.before);
  } else {
    StudyResult study;
    attain::run_scenario(program, scenario_options(si, start), file_ != nullptr,
                         rows_ ? sink : nullptr, full_, &study);
    hooks_.done();
    sp.seconds += study.seconds;
    merged.state = std::move(sp.before);
    merged.state.append(std::move(study.state));
  }
  merged.first = first_;
  merged.last = merged.state.last;
  merged.reducers = merged.state.result();
  merged.seconds = sp.seconds;
  EnsembleResult result = scenario_result(program, merged.reducers, file_ != nullptr, sp.seconds);
  if (file_) file_->end_scenario(result, save_state_ ? &merged : nullptr);
  sp.after = std::move(merged.state);
  sp.done = true;
  sp.before = StudyState();
  return result;
}

RunJobResult RunJobRunner::run() {
  read_checkpoint();
  file_ = open_results(job_, info_, hooks_);
  // A run that fails before its first checkpoint leaves none (nor its spools); one that
  // fails later keeps what it saved, to resume once the cause is gone (a full disk).
  struct Cleanup {
    RunJobRunner* r;
    ~Cleanup() {
      if (r && r->checkpoints_ && !r->saved_one_ && !r->resumed_)
        remove_checkpoint(r->folder_, r->lock_, r->progress_);
    }
  } cleanup{this};
  RunJobResult out;
  const std::size_t n = job_.inputs.scenarios.size();
  for (std::size_t si = 0; si < n; ++si) {
    out.results.push_back(run_scenario(si));
    out.seconds += progress_[si].seconds;
    out.total_runs += out.results.back().runs;
    // A scenario ends with a checkpoint: the next one starts from it.
    if (checkpointing_ && si + 1 < n &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - last_save_).count() >=
            interval_)
      save(si, nullptr, 0);
  }
  if (file_) file_->commit();
  // The results file is in place: the checkpoint has served.
  cleanup.r = nullptr;
  if (checkpoints_) remove_checkpoint(folder_, lock_, progress_);
  return out;
}

}  // namespace

void check_run_options(const RunJobOptions& o, const std::string& out, double ci_width,
                       bool several_processes) {
  const char* range = o.by_part ? "--part" : "--run-range";
  if (o.save_state && out.empty()) bad_arg("--save-state needs --out FILE.h5");
  if (o.part && out.empty())
    bad_arg(fmt::format("{} needs --out FILE.h5: a part is only of use to 'attain merge'", range));
  if (o.resume && out.empty()) bad_arg("--resume needs --out FILE.h5, the run's results file");
  if (o.part && ci_width > 0)
    bad_arg(
        fmt::format("{} and --ci-width do not go together: a part cannot know when the "
                    "whole study would stop",
                    range));
  if (o.checkpoints_off && o.resume) bad_arg("--resume and --checkpoint-every off contradict");
  if (o.checkpoint_every && !(*o.checkpoint_every >= 0 && *o.checkpoint_every <= 1e9))
    bad_arg(
        fmt::format("--checkpoint-every must be seconds >= 0 (0: after every chunk), e.g. "
                    "600, or 'off' (got '{}')",
                    *o.checkpoint_every));
  if (o.checkpoint_every && out.empty()) bad_arg("--checkpoint-every needs --out FILE.h5");
  if (several_processes && (o.resume || o.checkpoint_every))
    bad_arg(
        "--checkpoint-every and --resume run on one process only: under mpirun, split the "
        "study with --run-range into jobs and 'attain merge' their files instead");
  if (!out.empty() && ci_width > 0 && (o.resume || o.checkpoint_every))
    bad_arg(
        "--checkpoint-every and --resume do not go together with --ci-width: where an "
        "adaptive run stops depends on every chunk before it");
}

RunJobResult run_job(const EnsembleJob& job, const RunJobOptions& options, const JobHooks& hooks) {
  RunJobRunner runner(job, options, hooks);
  return runner.run();
}

}  // namespace attain
