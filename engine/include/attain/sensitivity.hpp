// Global sensitivity: Sobol indices on Saltelli's design with bootstrap intervals,
// conditional probabilities by thirds of each parameter, and the design sample that
// scenario discovery (prim.hpp) peels.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "attain/prim.hpp"
#include "attain/program.hpp"
#include "attain/study.hpp"

namespace attain {

/// @brief One factor of a sensitivity analysis: inputs varied together.
///
/// Sobol indices assume independent factors, so the parameters of a correlation group
/// form one factor, and `--factor NAME=a,b,c` groups parameters by hand. All shocks of
/// all steps together are the factor "year-to-year randomness": its matrices differ in
/// their shock streams.
struct Factor {
  std::string name;
  std::vector<int> parameters;       ///< positions in Program::parameters()
  std::vector<std::string> members;  ///< the parameters' names
  bool shocks = false;
  std::string why;  ///< "parameter", "correlation group", "--factor", "shocks"
};

/// A hand-made group of parameters (`--factor NAME=a,b,c`).
struct FactorGroup {
  std::string name;
  std::vector<std::string> parameters;
};

/// The factors of a program: each uncertain parameter alone, unless it is in a
/// correlation group (one factor) or a hand-made group; then the shocks, if the
/// program draws any. Ordered by the first parameter's position; shocks last.
/// Throws std::invalid_argument naming the problem (an unknown or fixed parameter, a
/// parameter in two groups, a correlation group split between factors).
std::vector<Factor> sensitivity_factors(const Program& program,
                                        const std::vector<FactorGroup>& groups = {});

enum class Sampling {
  kSobol,   ///< a Sobol sequence (Boost.Random), randomly shifted modulo 1 (seeded)
  kRandom,  ///< the counter-based streams: A as an ordinary run, B another purpose
};

/// @brief Saltelli's design as a study design over K = k + 2 variants of one program:
/// variant 0 is matrix A, 1 is B, 2 + j is AB_j (A with factor j's inputs from B).
///
/// Run r of the study is row r of every matrix. With Sobol sampling, row r of A is the
/// point r + 1 of the 2U-dimensional Sobol sequence (U uncertain parameters; Boost
/// skips the point 0), dimensions 0..U-1, and B its dimensions U..2U-1, each shifted by
/// a uniform of the stream (seed, dimension) modulo 2^64 (Cranley-Patterson rotation).
/// With random sampling A's uniforms are those of an ordinary run and B's those of
/// streams of another purpose. Shocks: A draws the ordinary shock streams, B streams
/// of another purpose; AB_j takes B's only when factor j is the shocks.
Design saltelli_design(const Program& program, const std::vector<Factor>& factors,
                       std::uint64_t seed, Sampling sampling);

/// The most dimensions the Sobol sampling supports (Boost's default table): twice the
/// uncertain parameters must not exceed it.
std::size_t sobol_max_dimension();

/// What a sensitivity index is computed of: a target's indicator (met or not at its
/// year), its node's value at the target's year, or the joint indicator (target -1).
struct SensitivityOutput {
  int target = -1;
  bool met = true;
};
std::vector<SensitivityOutput> sensitivity_outputs(const Model& model);

/// @brief Sums for Sobol indices on the Saltelli design, with Poisson bootstrap.
///
/// Per output and per replicate b (b = 0: the sample itself; b = 1..B: each row counted
/// w ~ Poisson(1) times, w from the stream (seed, row, b) of the bootstrap purpose), the
/// weighted sums of f(A), f(B), their squares, and per factor j of
/// f(B) (f(AB_j) - f(A)), f(AB_j) - f(A) and its square. Rows are added in run order
/// within a chunk; chunks merge by the study's fixed tree, so the bits do not depend on
/// threads or block size. Also per output, parameter and third of the parameter's
/// distribution (its uniform in [0,1/3), [1/3,2/3), [2/3,1)): the runs of A and B and the
/// sums of f and f^2 there.
class SobolReducer : public Reducer {
 public:
  SobolReducer(const Program& program, std::vector<Factor> factors, int resamples,
               std::uint64_t seed);
  std::string kind() const override { return "sobol"; }
  std::unique_ptr<Reducer> empty() const override;
  void add(const StudyBlock& block) override;
  void merge(const Reducer& later) override;
  ReducerState save() const override;
  void load(const ReducerState& state) override;

  std::size_t outputs() const { return outputs_.size(); }
  std::size_t factors() const { return factors_.size(); }
  int resamples() const { return resamples_; }
  std::uint64_t rows() const { return rows_; }
  /// The sums of output o in replicate b (layout: see sums_size()).
  const double* sums(std::size_t o, int b) const {
    return sums_.data() +
           (o * static_cast<std::size_t>(resamples_ + 1) + static_cast<std::size_t>(b)) * stride_;
  }
  /// Conditional sums of output o, uncertain parameter q (position among the uncertain
  /// ones), third t: {runs, sum of f, sum of f^2}.
  std::array<double, 3> third(std::size_t o, std::size_t q, int t) const;
  std::size_t uncertain() const { return uncertain_.size(); }

 private:
  struct Ref {
    int node = 0, step = 0, target = -1;
    Cmp op = Cmp::kGe;
    double threshold = 0;
    bool met = true;
  };
  std::vector<Ref> outputs_;
  std::vector<Ref> targets_;  ///< every target as a met indicator (for the joint)
  std::vector<Factor> factors_;
  std::vector<int> uncertain_;  ///< positions in Program::parameters()
  int resamples_ = 0;
  std::uint64_t seed_ = 0;
  std::size_t stride_ = 0;  ///< 5 + 3k
  std::uint64_t rows_ = 0;
  std::vector<double> sums_;    ///< [output][replicate][stride]
  std::vector<double> thirds_;  ///< [output][uncertain][third][3]
  // Work arrays (not state).
  std::vector<double> f_, term_;
  std::vector<std::uint32_t> weights_, nonzero_;
  std::vector<std::size_t> offsets_;

  void block_outputs(const StudyBlock& b);      ///< f_ and weights_ of the block's rows
  void add_sums(std::size_t o, std::size_t n);  ///< output o's rows into sums_
  void add_thirds(const StudyBlock& b);         ///< the rows into thirds_
};

/// @brief The design's A and B rows as points for scenario discovery: the uncertain
/// parameters' values and whether each target is met, for the first `max_rows` rows
/// (2 points per row). Merging appends.
class DesignSampleReducer : public Reducer {
 public:
  DesignSampleReducer(const Program& program, std::uint64_t max_rows);
  std::string kind() const override { return "design_sample"; }
  std::unique_ptr<Reducer> empty() const override;
  void add(const StudyBlock& block) override;
  void merge(const Reducer& later) override;
  ReducerState save() const override;
  void load(const ReducerState& state) override;
  std::uint64_t bytes(int chunk_runs, bool at_bound) const override;

  std::size_t points() const { return met_.size() / std::max<std::size_t>(1, targets_.size()); }
  /// Column q (uncertain parameter q) of the points: A then B of each row, in run order.
  std::vector<std::vector<double>> columns() const;
  std::vector<std::uint8_t> met(std::size_t target) const;

 private:
  struct Ref {
    int node, step;
    Cmp op;
    double threshold;
  };
  std::vector<int> uncertain_;  ///< node indices
  std::vector<Ref> targets_;
  std::uint64_t max_rows_ = 0;
  std::vector<double> x_;          ///< [point][uncertain]
  std::vector<std::uint8_t> met_;  ///< [point][target]
};

/// An estimate with its 95 % bootstrap percentile interval.
struct Estimate {
  double value = std::numeric_limits<double>::quiet_NaN();
  double lo = std::numeric_limits<double>::quiet_NaN();
  double hi = std::numeric_limits<double>::quiet_NaN();
};

/// The mean of an output over the runs of A and B whose parameter lies in a third of its
/// distribution: for an indicator a probability with its Wilson interval, for a value
/// a mean with its Student-t interval.
struct Third {
  std::uint64_t runs = 0;
  double value = std::numeric_limits<double>::quiet_NaN();
  double lo = std::numeric_limits<double>::quiet_NaN();
  double hi = std::numeric_limits<double>::quiet_NaN();
};

struct FactorIndices {
  Estimate s1;  ///< first order, Saltelli et al. (2010), centred
  Estimate st;  ///< total, Jansen (1999)
};

struct OutputSensitivity {
  SensitivityOutput output;
  std::string name;     ///< the target's name, or "all targets together"
  double mean = 0;      ///< over the runs of A and B
  double variance = 0;  ///< of A and B together; 0: no index can be computed
  std::vector<FactorIndices> factors;
  Estimate sum_s1;  ///< the sum of the first-order indices
  Estimate sum_st;  ///< the sum of the total indices
  /// per uncertain parameter: lower, middle, upper third
  std::vector<std::array<Third, 3>> thirds;
};

struct PrimTarget {
  int target = 0;
  PrimResult result;
};

struct SensitivityOptions : Execution {
  std::uint64_t rows = 1024;  ///< N base rows; the study runs N (k + 2) model runs
  Sampling sampling = Sampling::kSobol;
  int resamples = 200;  ///< bootstrap replicates
  std::vector<FactorGroup> groups;
  /// Scenario discovery on the A and B points of the first prim_rows rows (0: none).
  std::uint64_t prim_rows = 32768;
  PrimOptions prim;
  int chunk = 256;  ///< rows per chunk; part of the result's identity, like the seed
};

struct SensitivityResult {
  std::vector<Factor> factors;
  std::vector<std::string> uncertain;  ///< the uncertain parameters' names (thirds, PRIM)
  std::vector<OutputSensitivity> outputs;
  std::vector<PrimTarget> prim;
  std::uint64_t rows = 0, runs = 0, prim_points = 0;
  int resamples = 0;
  Sampling sampling = Sampling::kSobol;
  double seconds = 0;
};

/// Sobol indices (with bootstrap intervals), conditional thirds and PRIM boxes of every
/// target of one program: one study of `rows` rows of Saltelli's design.
SensitivityResult run_sensitivity(const Program& program, const SensitivityOptions& options);

/// @brief Given-data first-order indices: from an ordinary run's stored rows, with no
/// extra runs (a quick look; no total indices, no shock factor).
///
/// The runs are put in `bins` equal-count bins by the rank of a parameter's value (ties
/// by run order); S1 = Var(E[y | bin]) / Var(y), the between-bin variance corrected for
/// the noise of the bins' means (the ANOVA estimator: (SSB - (M - 1) MSW) / SST). For a
/// correlated parameter the index includes what its partners explain through it. The
/// 95 % interval comes from `batches` batches of consecutive runs, each estimated alone
/// with the same bins: S1 +- t(G - 1) sd(batches) / sqrt(G), the batch estimates'
/// spread scaled to the whole sample (G batches of n / G runs). Thirds: the mean of y
/// (for an indicator, P with its Wilson interval) in the lower, middle and upper third of
/// the runs by the parameter's rank.
struct GivenDataOptions {
  int bins = 0;      ///< 0: n / 200 runs a bin, from 2 to 32 bins
  int batches = 20;  ///< for the interval
};
struct GivenDataIndex {
  Estimate s1;
  std::array<Third, 3> thirds;
};
/// `x[q][r]`: parameter q in run r; `y[o][r]`: output o (0/1 when `indicator[o]`).
/// Returns [output][parameter]. Throws std::invalid_argument for fewer than 2 runs a bin
/// in a batch or mismatched sizes.
std::vector<std::vector<GivenDataIndex>> given_data_indices(
    const std::vector<std::vector<double>>& x, const std::vector<std::vector<double>>& y,
    const std::vector<char>& indicator, const GivenDataOptions& options);

/// The indices from a SobolReducer's sums (exposed for tests and merged states).
std::vector<OutputSensitivity> sobol_indices(const Program& program, const SobolReducer& sums);

}  // namespace attain
