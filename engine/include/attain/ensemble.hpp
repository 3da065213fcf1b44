// One variant's ensemble: the standard reducers of a study, packed as plain results.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "attain/cost.hpp"
#include "attain/program.hpp"
#include "attain/stats.hpp"
#include "attain/study.hpp"

namespace attain {

/// How much per-run data an ensemble hands to its sink.
enum class StoreLevel { kSummary, kTargets, kFull };
std::string_view store_name(StoreLevel s);

struct EnsembleOptions : Execution {
  std::uint64_t runs = 10000;
  std::uint64_t first_run =
      0;             ///< run indices [first_run, first_run + runs): ranges for MPI or resume
  int chunk = 4096;  ///< runs per reduction chunk; results depend on it, not on block or threads
  StoreLevel store = StoreLevel::kTargets;
};

struct TargetResult {
  std::uint64_t hits = 0, runs = 0;
  double probability = 0, ci_low = 0, ci_high = 1;
  std::vector<std::uint64_t> first_met;  ///< per step: runs first meeting it then
  std::uint64_t never = 0;               ///< runs not meeting it at any step up to its year
};

struct ActualResult {
  std::uint64_t below = 0, equal = 0, runs = 0;
  double percentile = 0;  ///< P(X < a) + P(X = a) / 2
};

struct EnsembleResult {
  std::uint64_t runs = 0;
  std::vector<TargetResult> targets;
  std::uint64_t joint_hits = 0;
  double joint_probability = 0, joint_low = 0, joint_high = 1;
  /// met[k]: runs meeting exactly k of the targets (k = 0..targets); empty when unknown
  std::vector<std::uint64_t> met;
  std::optional<CostResult> cost;  ///< the levers' costs; absent when no lever has one
  std::vector<ActualResult> actuals;
  std::vector<Moments> moments;  ///< per node and step: [node * steps + step]; empty without
                                 ///< a SummaryReducer
  static constexpr std::array<double, 5> kQuantileLevels = {0.05, 0.25, 0.5, 0.75, 0.95};
  std::vector<std::array<double, 5>> quantiles;  ///< per node and step
  double seconds = 0;
};

/// The number of targets a run meets, from the runs meeting exactly k (met[k]): its mean
/// (the expected number of targets met) with a 95 % Student-t interval, and its sd.
MeanInterval targets_met(const std::vector<std::uint64_t>& met);

/// Packs the standard reducers' results (any pointer may be null) as an EnsembleResult,
/// with the costs of `model`'s levers (the scenario's applied model).
EnsembleResult ensemble_result(const Model& model, const AttainmentReducer* attainment,
                               const ActualsReducer* actuals, const SummaryReducer* summary,
                               double seconds);

/// @brief Runs one program's ensemble as a study with the standard reducers (attainment,
/// actuals, summary, and per-run rows to `sink` unless the store is summary). Results
/// are bit-identical for any thread count and block size: random numbers are keyed by
/// (seed, run, node, step), and reductions merge per-chunk partial results by chunk index.
/// @code
///   EnsembleOptions o; o.runs = 100000; o.seed = 7;
///   EnsembleResult r = run_ensemble(program, o, nullptr);
///   double p = r.targets[0].probability;
/// @endcode
EnsembleResult run_ensemble(const Program& program, const EnsembleOptions& options,
                            ChunkSink* sink);

/// Every node's value at every step for one run, [step][node], exactly as inside an
/// ensemble with the same seed.
std::vector<std::vector<double>> replay_run(const Program& program, std::uint64_t seed,
                                            std::uint64_t run);

}  // namespace attain
