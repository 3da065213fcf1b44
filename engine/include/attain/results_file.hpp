// The HDF5 results file: self-describing, written in chunks, renamed when complete.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attain/analysis.hpp"
#include "attain/ensemble.hpp"
#include "attain/errors.hpp"
#include "attain/model.hpp"
#include "attain/sensitivity.hpp"

namespace attain {

class Communicator;  // communicator.hpp

/// What a results file records about how it was made.
struct RunInfo {
  std::uint64_t seed = 1;
  std::uint64_t runs = 0;       ///< runs per scenario (the ceiling, for adaptive runs)
  std::uint64_t first_run = 0;  ///< the run range is [first_run, first_run + runs)
  /// The whole study's runs when the file holds a part of it (--run-range, to merge);
  /// 0: first_run + runs.
  std::uint64_t study_runs = 0;
  int chunk = 4096;
  StoreLevel store = StoreLevel::kTargets;
  std::string analysis = "run";  ///< run, compare, sweep or search
  double ci_width = 0;           ///< adaptive stopping's half-width (0: off)
};

/// @brief Writes docs/results-format.md's layout. Data goes to `path` + ".tmp-<pid>-<random>"
/// and is renamed to `path` by commit(); a file never committed is removed, so a
/// failed or interrupted run never leaves a file that looks complete.
/// When changing the layout, update docs/results-format.md and kResultsVersion*.
/// @code
///   ResultsFile f("out.h5", model, info);
///   ChunkSink& sink = f.begin_scenario(scenario, program);
///   EnsembleResult r = run_ensemble(program, options, &sink);
///   f.end_scenario(r);
///   f.commit();
/// @endcode
class ResultsFile {
 public:
  /// `communicator` of several ranks (MPI): every rank constructs the file and makes the
  /// same calls; rank 0 writes it, each rank its own chunks' per-run rows (parallel HDF5).
  ResultsFile(const std::string& path, const Model& model, const RunInfo& info,
              Communicator* communicator = nullptr);
  ~ResultsFile();
  ResultsFile(const ResultsFile&) = delete;
  ResultsFile& operator=(const ResultsFile&) = delete;

  /// Starts a scenario's group; several may be open at once (a comparison).
  ChunkSink& begin_scenario(const Scenario& scenario, const Program& program);
  /// Ends the oldest open scenario group with its results; with `state`, also stores
  /// the study's exact reducer state (group `state`, docs/results-format.md).
  void end_scenario(const EnsembleResult& result, const StudyResult* state = nullptr);
  /// Group /comparisons/<scenario> for each paired comparison with the reference.
  void write_comparisons(const std::vector<Comparison>& comparisons);
  /// Group /sweep, of a sweep on `scenario`.
  void write_sweep(const SweepResult& sweep, const Scenario& scenario);
  /// Group /search, of a search on `scenario`.
  void write_search(const SearchResult& search, const Scenario& scenario);
  /// Group /sensitivity/<scenario>: Sobol indices, conditional thirds and PRIM boxes.
  void write_sensitivity(const std::string& scenario, const SensitivityResult& result);
  void commit();

 private:
  void end_scenario_unchecked(const EnsembleResult& result, const StudyResult* state);
  void commit_unchecked();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// @brief Reads the exact reducer state that end_scenario stored for `scenario` in a
/// results file: the partials of the study's run range, each reducer loaded into an
/// empty() copy of the matching prototype. Appending states of adjacent run ranges and
/// taking result() gives the bits of one study over the whole range.
/// Throws OutputError when the file, the group or a reducer's state does not match.
StudyState read_state(const std::string& path, const std::string& scenario,
                      const std::vector<std::unique_ptr<Reducer>>& prototypes,
                      std::uint64_t* first = nullptr, std::uint64_t* last = nullptr);

/// @brief The per-run rows of one scenario of a results file (`--store targets` or
/// `full`): what a given-data analysis reads.
struct StoredRuns {
  std::string model;            ///< the root attribute `model`
  std::uint64_t first_run = 0;  ///< row i is run first_run + i
  std::uint64_t seed = 0;
  std::vector<std::string> parameters;      ///< column names of `parameters`
  std::vector<std::vector<double>> values;  ///< [parameter][row]
  std::vector<std::string> targets;         ///< target names
  std::vector<Cmp> ops;
  std::vector<double> thresholds;
  std::vector<std::vector<double>> target_values;  ///< [target][row]
};
/// The scenario names of a results file (its root attribute `scenarios`).
std::vector<std::string> stored_scenarios(const std::string& path);
/// Reads scenario `scenario`'s rows; throws OutputError naming what is missing (a file
/// written with `--store summary` has no rows).
StoredRuns read_runs(const std::string& path, const std::string& scenario);

/// @brief Streams scenario `scenario`'s per-run rows to `sink` in blocks of `block` rows,
/// in run order (what `attain merge` copies). Throws OutputError naming what is missing.
void read_rows(const std::string& path, const std::string& scenario, std::uint64_t block,
               ChunkSink& sink);

/// Every node's distribution at every step, as a scenario's summary stores it.
struct StoredSummary {
  std::vector<double> mean, sd, min, max;  ///< [node * steps + step]
  std::vector<double> levels;              ///< the quantile levels (0.05 .. 0.95)
  std::vector<double> quantiles;           ///< [(node * steps + step) * levels.size() + q]
};

/// One scenario of a results file.
struct StoredScenario {
  std::string name, description, path;
  std::string source;  ///< the scenario file and every file it extends, each after "# path"
  /// (path, text) of the scenario file and each file it extends, as Scenario::sources
  std::vector<std::pair<std::string, std::string>> sources;
  double seconds = 0;  ///< wall time (not reproducible)
  /// targets, joint and actuals (moments and quantiles empty: see `summary`)
  EnsembleResult result;
  std::optional<StoredSummary> summary;  ///< absent when the file holds none
};

/// @brief Everything a results file holds except the per-run rows (read_runs) and the
/// reducer state (read_state): what `attain export` and `attain report` read.
struct StoredResults {
  std::string path;  ///< the file read
  int version_major = 0, version_minor = 0;
  std::string engine_version, created, rng;
  RunInfo info;  ///< seed, runs, first_run, chunk, store, analysis, ci_width
  Model model;   ///< parsed again from the model source stored in the file
  std::vector<StoredScenario> scenarios;  ///< in the order they ran
  std::vector<Comparison> comparisons;    ///< `compare`: each scenario against the first
  std::optional<SweepResult> sweep;       ///< `sweep`
  std::optional<SearchResult> search;     ///< `search`
  std::string analysis_scenario;          ///< the scenario a sweep or search ran on
  /// `sensitivity`: per scenario name, its indices, thirds and PRIM boxes
  std::vector<std::pair<std::string, SensitivityResult>> sensitivity;
};

/// @brief Reads a whole results file (docs/results-format.md). Throws OutputError for a
/// file that is not an attain results file, has another major version, or lacks a part
/// its `analysis` promises; a model source that no longer parses is an OutputError too.
StoredResults read_results(const std::string& path);

/// A temporary results file that a killed run left beside its output.
struct StaleTemporary {
  std::string path;  ///< the temporary file, `output` + ".tmp-<pid>-<16 hex digits>"
  long pid = 0;      ///< the process that created it
  bool removed = false;
  std::string error;  ///< why it could not be removed (when !removed)
};

/// @brief Finds the temporary files that ResultsFile would have made for `output` (same
/// folder, `<name>.tmp-<pid>-<16 hex digits>`, regular files) and removes those whose
/// writer is gone: no process `pid` exists (kill(pid, 0) fails with ESRCH) and no one
/// holds the file's lock (HDF5 keeps one while a file is open, also across PID
/// namespaces). Temporaries of live processes, and any other file, are left alone.
/// Returns the stale ones found, removed or not; never throws.
std::vector<StaleTemporary> remove_stale_temporaries(const std::string& output);

}  // namespace attain
