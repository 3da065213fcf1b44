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
#include "digest.hpp"
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
/// run's spools, the state) only when no other process holds its lock, and only a folder
/// that is attain's own (CheckpointFolder: never through a link).
void remove_checkpoint(const std::string& folder, std::unique_ptr<CheckpointLock>& lock,
                       const std::vector<ScenarioProgress>& progress) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(folder, ec))) return;
  try {
    if (!lock) lock = std::make_unique<CheckpointLock>(folder);
  } catch (const OutputError&) {
    return;  // not attain's own: left as it is
  }
  for (const auto& p : progress)
    if (!p.spool_name.empty()) ::unlinkat(lock->folder().fd(), p.spool_name.c_str(), 0);
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
  void check_resumed(std::size_t si, const Program& program, const StudyState& state);
  bool acquire_lock();
  [[noreturn]] void refuse_folder(const OutputError& e) const {
    bad_arg(fmt::format("{}; remove '{}' or give another --out", e.what(), folder_));
  }
  void save(std::size_t current, const StudyState* state, double elapsed);
  CheckpointScenario entry(std::size_t i, std::size_t current, const StudyState* state,
                           double elapsed);
  ChunkSink* open_spool(std::size_t si, const Program& program, ChunkSink* file_sink,
                        std::optional<TeeSink>& tee);
  void replay(std::size_t si, ChunkSink& file_sink);
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
  std::vector<std::optional<std::uint64_t>> resumed_digests_;  ///< each spool's, as saved
  std::unique_ptr<CheckpointLock> lock_;
  std::unique_ptr<CheckpointFolder> dir_;  ///< the folder the spools are opened in
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
  if (!checkpoints_ || !fs::exists(fs::symlink_status(folder_ + "/state.h5", ec))) {
    if (o_.resume)
      hooks_.say(fmt::format("no checkpoint in '{}'; starting from the first run", folder_));
    return;
  }
  try {
    lock_ = std::make_unique<CheckpointLock>(folder_);
    check_checkpoint_file(lock_->folder(), "state.h5");  // not a link, FIFO or device
  } catch (const OutputError& e) {
    refuse_folder(e);
  }
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
    resumed_digests_ = read_checkpoint_digests(folder_);
  } catch (const OutputError& e) {
    bad_arg(fmt::format("--resume: {}; remove '{}' to start again", e.what(), folder_));
  }
  if (const std::string key = first_difference(resumed_->fingerprint, fingerprint_); !key.empty())
    bad_arg(
        fmt::format("--resume: the checkpoint in '{}' was made with another {} than this "
                    "command's; run the command that made it, or remove the folder to start "
                    "again",
                    folder_, key));
  saved_ = resumed_->scenarios.size();
  if (saved_ > job_.inputs.scenarios.size())
    bad_arg(fmt::format("--resume: the checkpoint in '{}' holds {} scenarios, not {}", folder_,
                        saved_, job_.inputs.scenarios.size()));
  // Every scenario the checkpoint holds, read before anything runs: later checkpoints of
  // this process keep the ones it has not reached yet.
  for (std::size_t si = 0; si < saved_; ++si) load_resumed(si);
  std::uint64_t done = 0;
  for (const auto& s : resumed_->scenarios) done += s.last - s.first;
  hooks_.say(fmt::format("resuming from the checkpoint in '{}' ({} of {} runs done)", folder_, done,
                         info_.runs * job_.inputs.scenarios.size()));
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
    check_resumed(si, program, progress_[si].before);
  } catch (const OutputError& e) {
    bad_arg(fmt::format("--resume: {}; remove '{}' to start again", e.what(), folder_));
  }
  progress_[si].name = s.name;
  progress_[si].seconds = stored.seconds;
  progress_[si].spool_name = stored.rows_file;
}

/// The checkpoint's scenario `si` against this command (its fingerprint: the run range,
/// the chunk size) and its rows spool against its state, before anything runs.
void RunJobRunner::check_resumed(std::size_t si, const Program& program, const StudyState& state) {
  const auto& stored = resumed_->scenarios[si];
  const std::string name = job_.inputs.scenarios[si].name;
  if (state.chunk != info_.chunk)
    throw OutputError(fmt::format(
        "the checkpoint's state of scenario '{}' is in chunks of {} runs, this command's in "
        "chunks of {}; a state merges only with one of its own chunk size",
        name, state.chunk, info_.chunk));
  const auto chunk = static_cast<std::uint64_t>(std::max(1, state.chunk));
  if (state.first != first_ || state.last != stored.last || state.first != stored.first ||
      state.last <= state.first || state.last > last_ ||
      (state.last != last_ && state.last % chunk != 0))
    throw OutputError(fmt::format(
        "the checkpoint's state of scenario '{}' covers runs [{}, {}) (its record says [{}, "
        "{})), which is no start of this command's run range [{}, {}) in chunks of {}",
        name, state.first, state.last, stored.first, stored.last, first_, last_, chunk));
  if (!rows_) return;
  const std::array<std::uint64_t, 3> widths = row_widths(program, full_);
  RowSpool::check(lock_->folder().fd(), stored.rows_file, folder_ + "/" + stored.rows_file,
                  stored.rows_bytes, state.first, state.last, widths);
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
    e.rows_digest = p.spool->digest();
  } else if (i > current) {  // resumed, not reached yet: as the checkpoint had it
    e.rows_bytes = resumed_->scenarios[i].rows_bytes;
    e.rows_file = resumed_->scenarios[i].rows_file;
    e.rows_digest = i < resumed_digests_.size() ? resumed_digests_[i] : std::nullopt;
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
  if (!acquire_lock()) return;
  std::vector<CheckpointScenario> entries;
  for (std::size_t i = 0; i < std::max(current + 1, saved_) && i < progress_.size(); ++i)
    entries.push_back(entry(i, current, state, elapsed));
  write_checkpoint(folder_, fingerprint_, entries);
  last_save_ = std::chrono::steady_clock::now();
  saved_one_ = true;
}

/// The checkpoint folder's lock, taken the first time; false (and no more checkpoints)
/// when another process holds it. Throws (one line) for a folder that is not attain's own.
bool RunJobRunner::acquire_lock() {
  if (lock_) return lock_->held();
  try {
    lock_ = std::make_unique<CheckpointLock>(folder_);
  } catch (const OutputError& e) {
    refuse_folder(e);
  }
  if (lock_->held()) return true;
  hooks_.say(
      fmt::format("warning: another attain process holds the checkpoint '{}'; this run goes "
                  "on without checkpoints",
                  folder_));
  checkpointing_ = false;
  return false;
}

/// Rows go to the results file and, for checkpoints, to a spool that survives a crash.
ChunkSink* RunJobRunner::open_spool(std::size_t si, const Program& program, ChunkSink* file_sink,
                                    std::optional<TeeSink>& tee) {
  ScenarioProgress& sp = progress_[si];
  const bool have = si < saved_;
  if (rows_ && checkpointing_) {
    // The folder, checked as attain's own; its lock only once a checkpoint is saved, so
    // that two runs of one output both run (the one that saves first keeps checkpoints).
    if (!dir_) try {
        dir_ = std::make_unique<CheckpointFolder>(folder_, true);
      } catch (const OutputError& e) {
        refuse_folder(e);
      }
    const bool fresh = !have || resumed_->scenarios[si].rows_file.empty();
    sp.spool_name =
        fresh ? fmt::format("rows-{}-{}.bin", si, ::getpid()) : resumed_->scenarios[si].rows_file;
    try {
      sp.spool = std::make_unique<RowSpool>(
          dir_->fd(), sp.spool_name, folder_ + "/" + sp.spool_name,
          have ? resumed_->scenarios[si].rows_bytes : 0, fresh, row_widths(program, full_));
    } catch (const OutputError& e) {
      if (fresh) sp.spool_name.clear();  // not ours: never removed
      refuse_folder(e);
    }
  }
  if (!sp.spool) return file_sink;
  return &tee.emplace(std::vector<ChunkSink*>{file_sink, sp.spool.get()});
}

/// The rows scenario `si`'s spool kept from the checkpoint, into the results file; checked
/// against the checkpoint's digest of them when it has one.
void RunJobRunner::replay(std::size_t si, ChunkSink& file_sink) {
  ScenarioProgress& sp = progress_[si];
  struct Counted : ChunkSink {  // the kept rows count in the spool's digest
    RowSpool* spool;
    explicit Counted(RowSpool* s) : spool(s) {}
    void write(const ChunkData& c) override {
      if (spool) spool->count(c);
    }
  } counted(sp.spool.get());
  TeeSink both({&file_sink, &counted});
  const std::string path = folder_ + "/" + sp.spool_name;
  try {
    RowSpool::replay(lock_->folder().fd(), sp.spool_name, path, resumed_->scenarios[si].rows_bytes,
                     both);
    const auto& saved = si < resumed_digests_.size() ? resumed_digests_[si] : std::nullopt;
    if (saved && sp.spool && *saved != sp.spool->digest())
      throw OutputError(fmt::format(
          "the rows spool '{}' does not match its digest in the checkpoint (rows_digest): it was "
          "damaged or edited since it was written",
          path));
  } catch (const OutputError& e) {
    bad_arg(fmt::format("--resume: {}; remove '{}' to start again", e.what(), folder_));
  }
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
  ChunkSink* sink = open_spool(si, program, file_sink, tee);
  std::uint64_t start = first_;
  if (si < saved_) {
    const auto& stored = resumed_->scenarios[si];
    if (rows_) replay(si, *file_sink);
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
