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
/// Poisson (rate < 30) and binomial (n min(p, 1 - p) < 30) sum the pmf from 0; larger
/// means start from Giles' approximation (Cornish-Fisher for the binomial), evaluate the
/// exact CDF there once (Boost's gamma_q / ibetac, or the upper tail above u = 1/2) and
/// step with the pmf recurrence, falling back to bisection on the exact CDF when the
/// start is far off. The result is monotone in u and in the rate (or n, p).
double quantile(DistKind kind, std::span<const double> p, const DistTable* table, double u);

/// One variate from `stream`: quantile(u) of the stream's first word u, for every kind.
/// Drawing by inversion of exactly one uniform makes the variate a monotone function of
/// that uniform, so common random numbers survive a change of parameters: in a run whose
/// Poisson rate, binomial p or PERT mode a scenario raises, the variate can only rise.
/// Poisson and binomial inversion is exact (the smallest k with F(k) >= u; see quantile()).
/// Returns NaN when the parameters are invalid (callers report it).
double draw(DistKind kind, std::span<const double> p, const DistTable* table, Stream& stream);

/// @brief The inverse CDF of one distribution with fixed parameters, for repeated use.
///
/// For beta, PERT and gamma, quantile() runs Boost's iterative solvers (about 4 us); this
/// tabulates the quantile at 8193 points u = i / 8192 with its exact derivative 1 / f(x)
/// and interpolates by cubic Hermite polynomials (a few nanoseconds, equal to quantile()
/// within ~1e-13 relative, see tests). Cells where the interpolation error, estimated at
/// construction, exceeds 1e-14 relative (near singular ends of the density) take Newton
/// steps on the exact CDF from the interpolated value; the two outermost cells call the
/// solver. Other kinds call quantile() directly. Monotone in u.
class QuantileFunction {
 public:
  QuantileFunction(DistKind kind, std::vector<double> p, const DistTable* table);
  double operator()(double u) const;
  /// Share of u in (0, 1) served by interpolation alone (0 for kinds not tabulated).
  double interpolated_share() const { return tabulated_ ? interpolated_ : 0.0; }

 private:
  static constexpr std::size_t kCells = 8192;
  struct Cell {
    double c[4];  ///< x = c0 + s (c1 + s (c2 + s c3)), s in [0, 1); c3 NaN: polish
  };
  double standard(double u) const;  ///< exact quantile of the standardized beta/gamma
  double cdf(double x) const;
  double pdf(double x) const;
  double polish(double u, std::size_t i, double s) const;
  bool newton_done(double x, double delta) const;
  DistKind kind_;
  std::vector<double> p_;
  const DistTable* table_;
  bool tabulated_ = false;
  bool gamma_ = false;
  double a_ = 0, b_ = 0, lo_ = 0, scale_ = 1;
  double interpolated_ = 0;
  std::vector<double> x_;  ///< standardized quantiles at u = i / kCells
  std::vector<double> d_;  ///< their slopes dx/du times the cell width
  std::vector<Cell> cells_;
};

/// Analytic mean and variance (for tests and documentation).
double dist_mean(DistKind kind, std::span<const double> p, const DistTable* table);
double dist_variance(DistKind kind, std::span<const double> p, const DistTable* table);

}  // namespace attain
