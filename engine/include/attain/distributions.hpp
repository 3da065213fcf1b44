// Probability distributions: inverse CDFs and samplers built on counter-based streams.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "attain/random.hpp"

namespace attain {

/// @brief Every distribution the model language knows: X(id, name in model files).
///
/// Normal {mean, sd}; LogNormal {meanlog, sdlog} (the reader converts mean/sd of the
/// value); Uniform {min, max}; Triangular {min, mode, max}; Pert {min, mode, max, lambda}
/// (lambda 4 is the classic PERT); Beta {alpha, beta, min, max} (min 0, max 1 for the
/// standard beta); Gamma {shape, scale}; TruncNormal {mean, sd, min, max} (min may be
/// -inf, max +inf); Discrete (table: values with probabilities summing to 1); Empirical
/// (table: observed samples, each equally likely); Poisson {rate}; Binomial {n, p};
/// Bernoulli {p}. Each one's parameters, checks, inverse CDF and moments are its row of
/// the table in engine/src/distribution_rows.hpp.
#define ATTAIN_DISTRIBUTIONS(X) \
  X(Normal, "normal")           \
  X(LogNormal, "lognormal")     \
  X(Uniform, "uniform")         \
  X(Triangular, "triangular")   \
  X(Pert, "pert")               \
  X(Beta, "beta")               \
  X(Gamma, "gamma")             \
  X(TruncNormal, "truncnormal") \
  X(Discrete, "discrete")       \
  X(Empirical, "empirical")     \
  X(Poisson, "poisson")         \
  X(Binomial, "binomial")       \
  X(Bernoulli, "bernoulli")

enum class DistKind {
#define ATTAIN_DIST_ENUM(id, name) k##id,
  ATTAIN_DISTRIBUTIONS(ATTAIN_DIST_ENUM)
#undef ATTAIN_DIST_ENUM
};

/// Every kind in order, and their names in model files.
inline constexpr std::array kDistKinds = {
#define ATTAIN_DIST_KIND(id, name) DistKind::k##id,
    ATTAIN_DISTRIBUTIONS(ATTAIN_DIST_KIND)
#undef ATTAIN_DIST_KIND
};

/// Number of numeric parameters a distribution takes in `p` (0 for table-based ones).
int param_count(DistKind kind);

/// Name used in model files ("normal", "lognormal", "truncnormal", ...).
std::string_view dist_name(DistKind kind);
std::optional<DistKind> dist_from_name(std::string_view name);

/// One numeric parameter as a model file writes it.
struct DistParam {
  std::string_view key;   ///< its key in a model file and its name in messages
  bool optional = false;  ///< absent: `fallback`
  double fallback = 0.0;
};

/// The numeric parameters of `kind`, in the order of `p`.
std::span<const DistParam> dist_params(DistKind kind);

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
/// tabulates the quantile at 1025 points u = i / 1024 with its exact first and second
/// derivatives (1 / f(x) and -f'(x) / f(x)^3) and interpolates by quintic Hermite
/// polynomials (about 10 ns, equal to quantile() within ~1e-13 relative, see tests); a
/// cell is 48 bytes, so a table (48 KiB) stays in the caches. Near the ends, where a
/// density that vanishes or diverges like a power makes uniform cells in u fail, two tail
/// tables take over: 64 cells per octave of u (lower) or 1 - u (upper) from 2^-26 to 2^-4,
/// indexed by the bits of the double. Cells whose interpolation error, estimated at
/// construction from doubled cells, exceeds 1e-13 relative take Newton steps on the exact
/// CDF; beyond 2^-26 the solver answers. Other kinds call quantile() directly. Monotone in
/// u; the block form prefetches each lane's cell a few lanes ahead.
class QuantileFunction {
 public:
  QuantileFunction(DistKind kind, std::vector<double> p, const DistTable* table);
  /// The quantile at u; the interpolating path is inline, the rest out of line.
  double operator()(double u) const {
    if (tabulated_) {
      const double t = u * static_cast<double>(kCells);
      if (t >= 1.0 && t < static_cast<double>(kCells - 1)) {  // false for NaN too
        const auto i = static_cast<std::size_t>(t);
        const Cell& c = cells_[i];
        if (!std::isnan(c.c[5])) {
          const double s = t - static_cast<double>(i);
          const double x =
              c.c[0] + s * (c.c[1] + s * (c.c[2] + s * (c.c[3] + s * (c.c[4] + s * c.c[5]))));
          return gamma_ ? x * scale_ : std::clamp(lo_ + scale_ * x, lo_, lo_ + scale_);
        }
      }
    }
    return slow(u);
  }
  /// out[i] = (*this)(u[i]) for a block of uniforms.
  /// The table's cells are fetched ahead for the whole block (the lookups of a large table
  /// miss the caches; prefetched, their latencies overlap).
  void operator()(const double* u, double* out, int count) const {
    constexpr int kAhead = 16;
    auto fetch = [&](int i) {
      const double t = u[i] * static_cast<double>(kCells);
      if (!(t >= 0.0 && t < static_cast<double>(kCells))) return;
      const auto m = static_cast<std::size_t>(t);
      const Cell* c = &cells_[m];
      if (m < lower_.reach) {
        c = tail_cell(lower_, u[i]);
      } else if (m + upper_.reach >= kCells) {
        c = tail_cell(upper_, 1.0 - u[i]);
      }
      if (c == nullptr) return;
      __builtin_prefetch(c);
      __builtin_prefetch(&c->c[5]);
    };
    if (tabulated_)
      for (int i = 0; i < std::min(count, kAhead); ++i) fetch(i);
    for (int i = 0; i < count; ++i) {
      if (tabulated_ && i + kAhead < count) fetch(i + kAhead);
      out[i] = (*this)(u[i]);
    }
  }
  /// Share of u in (0, 1) served by interpolation alone (0 for kinds not tabulated).
  double interpolated_share() const { return tabulated_ ? interpolated_ : 0.0; }

 private:
  static constexpr std::size_t kCells = 1024;
  struct Cell {
    double c[6];  ///< x = c0 + s (c1 + ... + s c5), s in [0, 1); c5 NaN: polish
  };
  static std::array<double, 6> quintic(double x0, double x1, double m0, double m1, double a0,
                                       double a1);
  double log_density_slope(double x) const;  ///< f'(x) / f(x) of the standardized density
  /// Quantiles near one end, on octaves of w = u (lower) or w = 1 - u (upper): cells of
  /// kTailPerOctave per octave for w in [2^kTailBottom, 2^kTailTop), where the density's
  /// power-law ends make uniform cells in u fail.
  static constexpr int kTailTop = -4, kTailBottom = -26, kTailPerOctave = 64;
  struct Tail {
    std::vector<double> x, dx, ddx;  ///< at the nodes: x, dx/dw, d2x/dw2
    std::vector<Cell> cells;
    std::size_t reach = 0;  ///< main cells it serves, counted from its end of (0, 1)
  };
  static constexpr std::size_t kTailNodes =
      static_cast<std::size_t>(kTailTop - kTailBottom) * kTailPerOctave;
  static double tail_node(std::size_t n);  ///< w of node n (n = kTailNodes: 2^kTailTop)
  /// Cell n of w in [2^kTailBottom, 2^kTailTop) and w's position s in it, from w's bits:
  /// exact, no logarithm. False outside.
  static bool tail_index(double w, std::size_t& n, double& s) {
    if (!(w >= 0x1.0p-26 && w < 0x1.0p-4)) return false;
    static_assert(kTailBottom == -26 && kTailTop == -4);
    const auto bits = std::bit_cast<std::uint64_t>(w);
    const int octave = static_cast<int>(bits >> 52) - 1023 - kTailBottom;
    const double t =
        static_cast<double>(bits & ((std::uint64_t{1} << 52) - 1)) * (kTailPerOctave * 0x1.0p-52);
    const auto j = static_cast<std::size_t>(t);
    n = static_cast<std::size_t>(octave) * kTailPerOctave + j;
    s = t - static_cast<double>(j);
    return true;
  }
  static const Cell* tail_cell(const Tail& tail, double w) {
    std::size_t n;
    double s;
    return tail_index(w, n, s) && n < tail.cells.size() ? &tail.cells[n] : nullptr;
  }
  bool set_shape();    ///< a_, b_, lo_, scale_, gamma_ of a tabulated kind; false otherwise
  void build_nodes();  ///< x_, d_, dd_ at u = i / kCells
  double extrapolated_node(std::size_t i, double u) const;  ///< Newton's x_[i], or NaN
  bool build_cells();                                       ///< false if a node is not finite
  double tabulated_share() const;  ///< share of (0, 1) the cells and tails interpolate
  void build_tail(Tail& tail, bool upper);
  double tail_value(const Tail& tail, bool upper, double w) const;  ///< NaN outside
  double exact_tail(double w, bool upper) const;  ///< the solver's quantile of w or 1 - w
  double slow(double u) const;                    ///< the cases operator() does not inline
  double standard(double u) const;                ///< exact quantile of the standardized beta/gamma
  double cdf(double x, bool upper = false) const;  ///< P(X <= x) or P(X > x), standardized
  double pdf(double x) const;
  double polish(double u, std::size_t i, double s) const;
  /// Newton on cdf(x, upper) = target from x, every step kept between the cell's nodes x0
  /// and x1; NaN where the CDF or the density fails.
  double newton_in_cell(double x, double x0, double x1, double target, bool upper) const;
  bool newton_done(double x, double delta) const;
  /// Newton on cdf(x, upper) = target from x, narrowing the bracket [lo, hi] at every step;
  /// NaN when a step leaves it, the CDF or the density fails, or 12 steps do not settle.
  double bracketed_newton(double x, double lo, double hi, double target, bool upper) const;
  DistKind kind_;
  std::vector<double> p_;
  const DistTable* table_;
  bool tabulated_ = false;
  bool gamma_ = false;
  double a_ = 0, b_ = 0, lo_ = 0, scale_ = 1;
  double interpolated_ = 0;
  std::vector<double> x_;   ///< standardized quantiles at u = i / kCells
  std::vector<double> d_;   ///< their slopes dx/du times the cell width
  std::vector<double> dd_;  ///< their curvatures d2x/du2 times the cell width squared
  std::vector<Cell> cells_;
  Tail lower_, upper_;
};

/// Analytic mean and variance (for tests and documentation).
double dist_mean(DistKind kind, std::span<const double> p, const DistTable* table);
double dist_variance(DistKind kind, std::span<const double> p, const DistTable* table);

}  // namespace attain
