// Analyses built on studies: paired comparison, adaptive stopping, lever sweeps and
// chance-constrained search. All variants of an analysis share the same runs (common
// random numbers), so their differences are sharp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "attain/ensemble.hpp"
#include "attain/study.hpp"

namespace attain {

/// Options shared by the analyses: the run range [first, first + runs) and how to
/// evaluate it.
struct AnalysisOptions : Execution {
  std::uint64_t runs = 10000;  ///< runs (the ceiling when ci_width is set)
  std::uint64_t first = 0;     ///< the first run (a part of a larger study, or a resume)
  int chunk = 4096;
  double ci_width = 0;  ///< > 0: stop once every watched 95 % half-width is at most this
  /// StudyOptions::checkpoint
  std::function<void(const StudyState& state, bool interrupted)> checkpoint;
};

/// @brief Adaptive stopping: after each chunk, in run order, stop once the 95 % interval
/// half-width of every target and of all targets together, for the watched attainment
/// reducers (Wilson) and the watched paired reducers' differences (Newcombe 10), is at
/// most `half_width`.
/// It decides on integer counts at chunk boundaries only, so the runs used are the same
/// for any thread count. Stopping on a width is not a sequential test: the coverage it
/// gives is measured in tests/engine/analysis_test.cpp and docs/analyses.md.
class CiWidthRule : public StopRule {
 public:
  CiWidthRule(double half_width, std::vector<std::size_t> attainment,
              std::vector<std::size_t> paired);
  bool observe(std::span<const std::unique_ptr<Reducer>> chunk) override;

 private:
  double half_width_;
  std::vector<std::size_t> attainment_, paired_;
  std::vector<std::vector<std::uint64_t>> hits_;  ///< per watched attainment: targets
  std::vector<std::uint64_t> runs_;
  std::vector<std::vector<PairedReducer::Table>> tables_;  ///< per watched paired: targets
};

// ---------------------------------------------------------------------------------------
// Comparison.

/// One target (or all together) of a paired comparison.
struct PairedTarget {
  std::string name;
  Proportion reference, other;
  PairedReducer::Table table;
  Difference paired;    ///< Newcombe 10, paired
  Difference unpaired;  ///< what two separate ensembles of the same size would give
  double p_value = 1;   ///< exact McNemar
  std::optional<MeanInterval> value_difference;  ///< the target node at its year
};

/// A target's paired comparison from its 2x2 table (value_difference left empty).
PairedTarget paired_target(std::string name, const PairedReducer::Table& table);

struct Comparison {
  std::string reference, scenario;
  std::vector<PairedTarget> targets;
  PairedTarget joint;
};

struct CompareResult {
  std::uint64_t runs = 0;  ///< runs used (every scenario uses the same ones)
  std::vector<EnsembleResult> scenarios;
  std::vector<Comparison> comparisons;  ///< scenario v against scenario 0, v = 1..K-1
  double seconds = 0;
};

/// What compare() computes per scenario besides attainment and the paired differences.
enum class CompareExtras {
  kNone,
  kActuals,              ///< where the model's actuals fall (a JSON document's)
  kActualsAndSummaries,  ///< and every node's moments and quantiles (a results file's)
};

/// @brief Evaluates every program on the same runs and compares each with the first.
/// `extras`: actuals and node summaries per scenario; `sinks` (empty, or one per program)
/// receives per-run rows (`full`: every node). With options.ci_width, stops once every
/// paired difference's half-width is at most it.
CompareResult compare(const Model& model, const std::vector<const Program*>& programs,
                      const std::vector<std::string>& names, const AnalysisOptions& options,
                      CompareExtras extras = CompareExtras::kNone,
                      const std::vector<ChunkSink*>& sinks = {}, bool full = false);
/// The same, with `summaries` for CompareExtras::kActualsAndSummaries (else kNone).
inline CompareResult compare(const Model& model, const std::vector<const Program*>& programs,
                             const std::vector<std::string>& names, const AnalysisOptions& options,
                             bool summaries, const std::vector<ChunkSink*>& sinks = {},
                             bool full = false) {
  return compare(model, programs, names, options,
                 summaries ? CompareExtras::kActualsAndSummaries : CompareExtras::kNone, sinks,
                 full);
}

/// The reducers run_scenario uses, in its order: attainment, actuals, then summary (with
/// `summaries`) and rows (with a sink).
std::vector<std::unique_ptr<Reducer>> scenario_reducers(const Program& program, bool summaries,
                                                        ChunkSink* sink, bool full);

/// One scenario's ensemble with only what is asked: attainment always; actuals and node
/// summaries with `summaries`; rows to `sink` when it is not null. Adaptive with
/// options.ci_width (on every target's Wilson interval).
/// With `study`, the study's result (its exact state) is moved there.
EnsembleResult run_scenario(const Program& program, const AnalysisOptions& options, bool summaries,
                            ChunkSink* sink, bool full, StudyResult* study = nullptr);

/// The EnsembleResult of scenario_reducers(program, summaries, ...)'s merged reducers
/// (a study's, or a state's result() after merging run ranges).
EnsembleResult scenario_result(const Program& program,
                               const std::vector<std::unique_ptr<Reducer>>& reducers,
                               bool summaries, double seconds);

// ---------------------------------------------------------------------------------------
// Levers as knobs.

/// @brief A lever, or several moved together, set to a level: a single constant lever
/// takes the level as its value; otherwise every lever's rule (series, growth or
/// constant) is multiplied by the level, a scale factor on the scenario's rule.
class LeverKnob {
 public:
  /// Throws InputError (naming the valid levers) when a name is not a lever.
  LeverKnob(const Model& scenario_model, std::vector<std::string> levers);
  const std::vector<std::string>& levers() const { return levers_; }
  bool absolute() const { return absolute_; }  ///< the level is a value, not a factor
  std::string description() const;             ///< "value of x" or "scale of x, y"
  void apply(Program& program, double level) const;
  /// The level at which the scenario is as written (its value, or 1).
  double as_written() const;

 private:
  std::vector<std::string> levers_;
  std::vector<LeverRule> base_;
  bool absolute_ = false;
};

// ---------------------------------------------------------------------------------------
// Sweep.

/// The most grid points a sweep evaluates.
inline constexpr std::size_t kMaxSweepPoints = 10000;

struct SweepAxis {
  std::string lever;
  double from = 0, to = 0;
  int points = 1;  ///< levels from, from + (to - from) / (points - 1), ..., to
  std::vector<double> levels() const;
};

struct SweepPoint {
  std::vector<double> levels;  ///< one per axis
  std::vector<Proportion> targets;
  Proportion joint;
  std::optional<double> cost;  ///< the scenario's cost at these levels (cost.hpp), if priced
};

struct SweepResult {
  std::vector<SweepAxis> axes;
  std::vector<bool> absolute;      ///< per axis: the level is a value (else a scale factor)
  std::vector<SweepPoint> points;  ///< the grid, last axis fastest
  std::uint64_t runs = 0;
  /// Pairs of neighbouring points (along one axis) where a target's estimate falls
  /// while the level rises, as "target: lever a -> b"; empty when monotone.
  std::vector<std::string> non_monotone;
  double seconds = 0;
};

/// Evaluates P(each target) and the joint at every grid point on the same runs.
SweepResult sweep(const Program& base, const Model& scenario_model,
                  const std::vector<SweepAxis>& axes, const AnalysisOptions& options);

// ---------------------------------------------------------------------------------------
// Chance-constrained search.

struct SearchPoint {
  double level = 0;
  Proportion p;
};

struct SearchResult {
  std::vector<std::string> levers;
  bool absolute = false;
  std::string target;  ///< a target name, or "all"
  double goal = 0;     ///< the probability asked for
  double range_low = 0, range_high = 0, tolerance = 0;
  bool reachable = false;
  double level = 0;       ///< least level with P >= goal (within tolerance); NaN if unreachable
  Proportion at_level;    ///< P there (at range_high when unreachable)
  double level_low = 0;   ///< least level whose interval reaches the goal (ci_high >= goal)
  double level_high = 0;  ///< least level whose whole interval is above it (ci_low >= goal)
  bool monotone = true;   ///< the estimates never fell as the level rose
  std::vector<SearchPoint> evaluations;  ///< every level evaluated, ascending
  std::uint64_t runs = 0;
  double seconds = 0;
};

struct SearchSpec {
  std::vector<std::string> levers;
  int target = -1;  ///< index into the model's targets; -1: all targets together
  double goal = 0.5;
  std::optional<double> low, high;  ///< default: 0 to 4x the level as written
  double tolerance = 0.01;
};

/// @brief The least lever level at which P(target) >= goal, on common random numbers:
/// the range's ends bracket it, then bisection on the estimate (monotone in the level
/// for a monotone model, since every draw is an inversion of one uniform) to the
/// tolerance; then two more bisections find the levels whose 95 % interval reaches the
/// goal (level_low) and lies above it (level_high): the level's own uncertainty.
SearchResult search(const Program& base, const Model& scenario_model, const SearchSpec& spec,
                    const AnalysisOptions& options);

}  // namespace attain
