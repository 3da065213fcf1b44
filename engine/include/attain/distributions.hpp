// Probability distributions: inverse CDFs and samplers built on counter-based streams.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "attain/random.hpp"

namespace attain {

/// Every distribution the model language knows.
enum class DistKind {
  kNormal,       ///< p = {mean, sd}
  kLogNormal,    ///< p = {meanlog, sdlog} (the reader converts mean/sd of the value)
  kUniform,      ///< p = {min, max}
  kTriangular,   ///< p = {min, mode, max}
  kPert,         ///< p = {min, mode, max, lambda} (lambda 4 is the classic PERT)
  kBeta,         ///< p = {alpha, beta, min, max} (min 0, max 1 for the standard beta)
  kGamma,        ///< p = {shape, scale}
  kTruncNormal,  ///< p = {mean, sd, min, max}; min may be -inf, max +inf
  kDiscrete,     ///< table: values with probabilities (sum 1)
  kEmpirical,    ///< table: observed samples, each equally likely
  kPoisson,      ///< p = {rate}
  kBinomial,     ///< p = {n, p}
  kBernoulli,    ///< p = {p}
};

/// Number of numeric parameters a distribution takes in `p` (0 for table-based ones).
int param_count(DistKind kind);

/// Name used in model files ("normal", "lognormal", "truncnormal", ...).
std::string_view dist_name(DistKind kind);
std::optional<DistKind> dist_from_name(std::string_view name);

/// Values and probabilities of a discrete or empirical distribution.
/// For kDiscrete: `values` sorted ascending, `cumulative[i]` = P(X <= values[i]),
/// last entry exactly 1. For kEmpirical: `values` sorted ascending, `cumulative` empty.
struct DistTable {
  std::vector<double> values;
  std::vector<double> cumulative;
};

/// Checks numeric parameters; returns a message saying what is wrong and what would
/// be valid (e.g. "sd must be >= 0, got -1"), or nullopt when they are valid.
std::optional<std::string> check_params(DistKind kind, std::span<const double> p);

/// Standard normal CDF and its inverse (Wichura's AS241, relative error ~1e-16).
double normal_cdf(double x);
double normal_quantile(double u);

/// Inverse CDF: the smallest x with F(x) >= u, for u in (0, 1). Defined for every
/// kind; monotone non-decreasing in u, so a Gaussian copula or a design matrix of
/// uniforms (Latin hypercube, Sobol) can drive it. Parameters must be valid.
double quantile(DistKind kind, std::span<const double> p, const DistTable* table, double u);

/// One variate from `stream`. Uses quantile(u01) except where a faster exact
/// method exists (Poisson rate >= 30: Hormann's PTRS; binomial n*min(p,1-p) >= 30:
/// Hormann's BTRS; gamma: Marsaglia-Tsang; beta and PERT: ratio of gammas), which may
/// draw several words from the stream.
/// Returns NaN when the parameters are invalid (callers report it).
double draw(DistKind kind, std::span<const double> p, const DistTable* table, Stream& stream);

/// @brief The inverse CDF of one distribution with fixed parameters, for repeated use.
///
/// For beta, PERT and gamma, quantile() runs Boost's iterative solvers (about 4 us);
/// this starts from a table of 4097 quantiles and takes one Newton step on the exact
/// CDF inside the table (about ten times faster, equal to quantile() within ~1e-12
/// relative, see tests), and calls the solver in the outermost table cells. Other kinds
/// call quantile() directly. Monotone in u.
class QuantileFunction {
 public:
  QuantileFunction(DistKind kind, std::vector<double> p, const DistTable* table);
  double operator()(double u) const;

 private:
  double standard(double u) const;  ///< exact quantile of the standardized beta/gamma
  DistKind kind_;
  std::vector<double> p_;
  const DistTable* table_;
  bool tabulated_ = false;
  bool gamma_ = false;
  double a_ = 0, b_ = 0, lo_ = 0, scale_ = 1;
  std::vector<double> x_;  ///< standardized quantiles at u = i / (x_.size() - 1)
};

/// Analytic mean and variance (for tests and documentation).
double dist_mean(DistKind kind, std::span<const double> p, const DistTable* table);
double dist_variance(DistKind kind, std::span<const double> p, const DistTable* table);

}  // namespace attain
