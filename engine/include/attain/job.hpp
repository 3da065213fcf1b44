#pragma once
// The job layer: everything a verb of attain does that is not reading arguments or
// printing, callable by any front end (the command line, the Python module, the server).
// A job takes values (never option texts), reports through the JobHooks it is given
// (progress, notes, cancellation: nothing process-wide) and returns plain result
// objects; every error it raises is an attain::Error naming what is wrong.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "attain/analysis.hpp"
#include "attain/checkpoint.hpp"
#include "attain/ensemble.hpp"
#include "attain/graph.hpp"
#include "attain/input_file.hpp"
#include "attain/model.hpp"
#include "attain/program.hpp"
#include "attain/results_file.hpp"
#include "attain/results_json.hpp"
#include "attain/sensitivity.hpp"

namespace attain {

/// (path, text) of a scenario file and each file it extends (Scenario::sources).
using Sources = std::vector<std::pair<std::string, std::string>>;

/// What a front end lends a job. Every member may be left empty.
struct JobHooks {
  /// Set (by a signal handler, a server's cancel request, ...) to stop the job at the next
  /// block: it then throws InterruptedError and leaves no output file.
  const std::atomic<bool>* cancel = nullptr;
  /// Makes the progress callback of one phase: (what, total, unit), e.g. ("plan (1/3)",
  /// 10000, "runs"); the callback gets the units done so far. May return nullptr.
  std::function<std::function<void(std::uint64_t)>(const std::string& what, std::uint64_t total,
                                                   const std::string& unit)>
      progress;
  /// Called when a phase whose progress was made ends (a terminal clears its bar).
  std::function<void()> progress_done;
  /// A line for the user about what the job does ("resuming from the checkpoint ..."),
  /// without "attain: " or a newline.
  std::function<void(const std::string&)> note;
  /// The temporary file an atomic output is written to, once created, then "" once it is
  /// gone (renamed or removed): for a front end that must remove it on a signal.
  std::function<void(const std::string&)> temporary;

  std::function<void(std::uint64_t)> make_progress(const std::string& what, std::uint64_t total,
                                                   const std::string& unit = "runs") const;
  void done() const;
  void say(const std::string& line) const;
};

/// A model with the scenarios it runs under, all checked.
struct JobInputs {
  Model model;
  DependencyGraph graph;
  std::vector<Scenario> scenarios;  ///< the model as written when no scenario is given
};

/// Loads a model and its scenarios (names must differ). `dirs`: folders besides each
/// scenario's own tree that `extends` may reach.
JobInputs load_inputs(const std::string& model_path, const std::vector<std::string>& scenarios,
                      const IncludeRules& dirs = {});

/// Cores this process may run on (its CPU affinity, as in a container), at least 1.
int machine_cores();

/// Settings every ensemble job shares, as values.
struct EnsembleSettings {
  std::uint64_t runs = 10000;  ///< 1 to 2^48
  std::uint64_t seed = 1;
  int threads = 0;             ///< 0: every core
  bool force_threads = false;  ///< allow more threads than machine_cores()
  int block = 0;               ///< 0: automatic
  StoreLevel store = StoreLevel::kTargets;
  bool store_given = false;                   ///< the store was asked for (not the default)
  std::string out;                            ///< results file; empty: none
  bool out_given = false;                     ///< an output was asked for (perhaps an empty name)
  double ci_width = 0;                        ///< > 0: adaptive stopping
  std::optional<std::uint64_t> memory_limit;  ///< bytes; default: available memory
  Communicator* communicator = nullptr;       ///< MPI ranks; nullptr: this process
};

/// An ensemble job ready to run: checked options, loaded inputs.
struct EnsembleJob {
  AnalysisOptions options;
  StoreLevel store = StoreLevel::kTargets;
  std::string out;
  bool out_given = false;
  JobInputs inputs;
  /// The tabulated inverse CDFs, shared by the job's compilations (and by nothing else).
  std::shared_ptr<QuantileCache> cache = std::make_shared<QuantileCache>();

  /// Scenario `si` applied to the model and compiled.
  Program compile_scenario(std::size_t si) const;
  /// How a results file of `analysis` records this job.
  RunInfo info(const std::string& analysis) const;
  /// The results as a results file would hold them, for the JSON documents.
  StoredResults stored(const std::string& analysis) const;
};

// The JSON documents of the jobs' results: the documents `attain export` makes of the
// results files they write (results_json.hpp), from the results in memory.
nlohmann::json run_job_document(const EnsembleJob& job, const std::vector<EnsembleResult>& results);
nlohmann::json compare_job_document(const EnsembleJob& job, const CompareResult& result);
nlohmann::json sweep_job_document(const EnsembleJob& job, const SweepResult& result);
nlohmann::json search_job_document(const EnsembleJob& job, const SearchResult& result);
nlohmann::json sensitivity_job_document(const EnsembleJob& job,
                                        const std::vector<SensitivityResult>& results);

/// Checks `settings` (bad ones: InputError naming the option) and loads the inputs.
/// `row_variants`: the scenarios whose per-run rows one study buffers (run: 1, compare:
/// all; sweep and search keep none), which may make the chunks smaller.
EnsembleJob prepare_ensemble(const EnsembleSettings& settings, const std::string& model_path,
                             const std::vector<std::string>& scenarios, const IncludeRules& dirs,
                             const JobHooks& hooks, std::size_t row_variants = 0);

/// Opens the job's results file (nullptr without one), after checking the output is not
/// a folder or an input, and removing temporaries that killed runs left.
std::unique_ptr<ResultsFile> open_results(const EnsembleJob& job, const RunInfo& info,
                                          const JobHooks& hooks);

// ---------------------------------------------------------------------------------------
// Study identity: what makes two files, or a file and a checkpoint, parts of one study.

/// Engine version, random streams, model and scenario texts, seed, the study's runs, chunk
/// and store, as (key, text) pairs in that order: `attain merge` requires its parts to
/// agree in every one, and a checkpoint (with the run range and whether the state is
/// saved) must match the command that resumes it.
Fingerprint study_fingerprint(const JobInputs& inputs, const RunInfo& info);
Fingerprint study_fingerprint(const StoredResults& results);

// ---------------------------------------------------------------------------------------
// The verbs.

/// `run`: several scenarios into a results file, with checkpoints and resume.
struct RunJobOptions {
  std::uint64_t first = 0, last = 0;  ///< the runs computed, [first, last); last 0: all
  bool part = false;                  ///< a part of the study (its state is saved)
  bool by_part = false;               ///< the part was asked for as K/P (for messages)
  bool save_state = false;
  std::optional<double> checkpoint_every;  ///< seconds; default kCheckpointSeconds
  bool checkpoints_off = false;
  bool resume = false;
};

struct RunJobResult {
  std::vector<EnsembleResult> results;  ///< per scenario
  double seconds = 0;
  std::uint64_t total_runs = 0;
};

/// Checks that the options go together (run_job checks them too; a front end may check
/// them before loading the model).
void check_run_options(const RunJobOptions& options, const std::string& out, double ci_width,
                       bool several_processes);
RunJobResult run_job(const EnsembleJob& job, const RunJobOptions& options, const JobHooks& hooks);

/// `compare`: every scenario against the first on the same runs.
CompareResult compare_job(const EnsembleJob& job, bool with_actuals, const JobHooks& hooks);

/// `sweep`: a grid of lever levels on the first scenario.
SweepResult sweep_job(const EnsembleJob& job, const std::vector<SweepAxis>& axes,
                      const JobHooks& hooks);

/// `search`: the least level with P(target) >= goal. `target`: a target's name or "all".
struct SearchJobResult {
  SearchResult result;
  SearchSpec spec;
  std::string knob;  ///< the lever(s) as LeverKnob describes them
  bool absolute = false;
};
SearchJobResult search_job(const EnsembleJob& job, SearchSpec spec, const std::string& target,
                           const JobHooks& hooks);

/// `sensitivity`: Saltelli's design per scenario, written to the job's file if any.
/// `options`' rows, seed, threads, block, limits and hooks come from the job.
std::vector<SensitivityResult> sensitivity_job(const EnsembleJob& job,
                                               const SensitivityOptions& options,
                                               const JobHooks& hooks);

/// `sensitivity --given-data`: first-order indices from the rows a results file stored.
struct GivenDataOutput {
  std::string target;  ///< empty: all targets together
  bool met = true;     ///< P(met), else the target node's value
  double mean = 0;
  std::vector<GivenDataIndex> indices;  ///< per varying parameter
};
struct GivenDataScenario {
  std::string name;
  std::size_t rows = 0;
  std::vector<std::string> parameters;  ///< those that vary in the rows
  std::vector<GivenDataOutput> outputs;
};
struct GivenDataResult {
  std::string model;
  std::string path;  ///< the results file read
  GivenDataOptions options;
  std::vector<GivenDataScenario> scenarios;
};
GivenDataResult given_data_job(const std::string& model_path, const std::string& results_path);
nlohmann::json given_data_document(const GivenDataResult& result);

/// `merge`: the parts of one `run` (run ranges tiling [0, N)) into one results file.
struct MergeJobResult {
  std::size_t parts = 0, scenarios = 0;
  std::uint64_t runs = 0;
};
MergeJobResult merge_job(const std::vector<std::string>& parts, const std::string& out,
                         const JobHooks& hooks);

/// `replay`: one run again, every node at every step.
struct ReplayResult {
  const Model* model = nullptr;  ///< points into the owner (ReplayJob)
  std::string scenario;
  std::uint64_t seed = 0, run = 0;
  std::vector<std::vector<double>> values;  ///< [step][node]
};
struct ReplayJob {
  Model model;
  ReplayResult result;
};
/// Of a model file with its scenario (at most one).
std::unique_ptr<ReplayJob> replay_model(const std::string& model_path,
                                        const std::vector<std::string>& scenarios,
                                        const IncludeRules& dirs, std::uint64_t seed,
                                        std::uint64_t run);
/// Of a results file of `run` or `compare`: its seed, model and scenario texts.
std::unique_ptr<ReplayJob> replay_results(const std::string& path,
                                          const std::vector<std::string>& scenario,
                                          std::uint64_t run);
bool is_hdf5_file(const std::string& path);
nlohmann::json replay_document(const ReplayResult& replay);

/// `check`: a model's summary (and its scenarios'), as a document.
nlohmann::json check_document(const JobInputs& inputs);
/// Nodes that affect no target or actual (when the model has any).
std::vector<std::string> unused_nodes(const JobInputs& inputs);

/// `export`: a part of a results file as CSV or JSON, to `out` (empty: standard output).
struct ExportJob {
  std::string file, format, what, out;
  bool bom = false;
  bool out_given = false;
};
void export_job(const ExportJob& job, const JobHooks& hooks);

/// `report`: the self-contained HTML page of a results file.
void report_job(const std::string& results, const std::string& out, const JobHooks& hooks);

/// Writes `write(stream)` to `path` atomically: a temporary file beside it, created
/// exclusively, synced and renamed over `path`; on any error the temporary is removed and
/// `path` stays as it was. An empty `path` writes to standard output (file descriptor 1).
void write_atomically(const std::string& path, const std::function<void(std::ostream&)>& write,
                      const JobHooks& hooks);

}  // namespace attain
