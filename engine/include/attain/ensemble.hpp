// The Monte Carlo ensemble: parallel, deterministic evaluation and attainment statistics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "attain/program.hpp"
#include "attain/stats.hpp"

namespace attain {

/// How much per-run data an ensemble hands to its sink.
enum class StoreLevel { kSummary, kTargets, kFull };
std::string_view store_name(StoreLevel s);

struct EnsembleOptions {
  std::uint64_t runs = 10000;
  std::uint64_t first_run =
      0;  ///< run indices [first_run, first_run + runs): ranges for MPI or resume
  std::uint64_t seed = 1;
  int threads = 0;   ///< 0: every core
  int block = 256;   ///< runs evaluated together (SIMD width of the program)
  int chunk = 4096;  ///< runs per reduction chunk; results depend on it, not on block or threads
  StoreLevel store = StoreLevel::kTargets;
  std::function<void(std::uint64_t runs_done)> progress;  ///< called in run order
  const std::atomic<bool>* cancel = nullptr;              ///< set to stop early (InterruptedError)
  UniformSource uniforms;  ///< replaces the parameters' streams (design matrices)
};

/// Per-run data of one chunk, in run order.
struct ChunkData {
  std::uint64_t first_run = 0;
  int count = 0;
  std::vector<double> target_values;  ///< count x targets: each target node at its year
  std::vector<double> parameters;     ///< count x parameters: the drawn uncertain inputs
  std::vector<double> full;           ///< count x steps x nodes (StoreLevel::kFull)
};

/// Receives chunks in run order from one thread at a time (e.g. the HDF5 writer).
class ChunkSink {
 public:
  virtual ~ChunkSink() = default;
  virtual void write(const ChunkData& chunk) = 0;
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
  std::vector<ActualResult> actuals;
  std::vector<Moments> moments;  ///< per node and step: [node * steps + step]
  static constexpr std::array<double, 5> kQuantileLevels = {0.05, 0.25, 0.5, 0.75, 0.95};
  std::vector<std::array<double, 5>> quantiles;  ///< per node and step
  double seconds = 0;
};

/// Thrown when EnsembleOptions::cancel was set.
class InterruptedError : public std::runtime_error {
 public:
  InterruptedError() : std::runtime_error("interrupted") {}
};

/// @brief Runs the ensemble. Results are bit-identical for any thread count and block
/// size: random numbers are keyed by (seed, run, node, step), and reductions merge
/// per-chunk partial results in chunk order.
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
