// Probability distributions: parameter checks, inverse CDFs, exact samplers and moments.
#include "attain/distributions.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <boost/math/policies/policy.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/detail/igamma_large.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>

namespace attain {
namespace {

namespace bmp = boost::math::policies;

// Boost.Math reports errors through return values (NaN, inf) instead of exceptions:
// a sampler runs inside parallel Monte Carlo loops and must never throw. Promotion of
// double to long double is off because long double is 80, 128 or 64 bits depending on
// the platform, which would make the numbers platform dependent.
using Policy =
    bmp::policy<bmp::domain_error<bmp::ignore_error>, bmp::pole_error<bmp::ignore_error>,
                bmp::overflow_error<bmp::ignore_error>, bmp::evaluation_error<bmp::ignore_error>,
                bmp::rounding_error<bmp::ignore_error>,
                bmp::indeterminate_result_error<bmp::ignore_error>, bmp::promote_float<false>,
                bmp::promote_double<false>>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kLogSqrt2Pi = 0.91893853320467274178;  // log(sqrt(2 pi))
constexpr double kInvSqrt2Pi = 0.39894228040143267794;  // 1 / sqrt(2 pi)
constexpr double kSqrtHalf = 0.70710678118654752440;    // 1 / sqrt(2)

// Poisson rate and binomial n*min(p, 1-p) from which the inverse CDF stops summing the
// pmf from 0 and instead starts near the answer (Giles' approximation), evaluates the
// exact CDF there once and steps with the pmf recurrence.
constexpr double kSequentialBelow = 30.0;

// The sums from 0 have an absolute error of about 1e-16 per term, which the upper tail
// 1 - F(k) would feel as a relative error: beyond this u (1 - 2^-20) the stepped method,
// which compares the exact upper tail with 1 - u, takes over at any mean.
constexpr double kSequentialUpTo = 1.0 - 0x1p-20;

// Most steps the pmf recurrence may take from the approximate start before the search
// falls back to bisection on the exact CDF (the approximation is off by one or two).
constexpr int kMaxSteps = 40;
// Binomials with a standard deviation up to this sum the pmf for their tail at the start
// (cheaper than Boost's ibeta there); wider ones call ibeta.
constexpr double kSummedTailsUpTo = 40.0;

// Below this standardized value Phi(x) < 6e-300 nears the end of the double range, so
// log Phi and the Mills ratio come from their asymptotic series instead.
constexpr double kDeepTail = -37.0;

// c[0] + c[1] r + ... + c[7] r^7 by Estrin's scheme (r2 = r^2, r4 = r^4): a third of
// Horner's dependency chain, which is what limits AS241's speed. The order of operations is
// fixed, so every build rounds alike; with r >= 0 and positive coefficients (true in every
// AS241 region) it is as accurate as Horner.
inline double estrin8(const std::array<double, 8>& c, double r, double r2, double r4) {
  const double p01 = c[0] + c[1] * r;
  const double p23 = c[2] + c[3] * r;
  const double p45 = c[4] + c[5] * r;
  const double p67 = c[6] + c[7] * r;
  return (p01 + p23 * r2) + (p45 + p67 * r2) * r4;
}

// Ratio of two degree-7 polynomials in r, sharing the powers of r.
inline double rational8(const std::array<double, 8>& num, const std::array<double, 8>& den,
                        double r) {
  const double r2 = r * r;
  const double r4 = r2 * r2;
  return estrin8(num, r, r2, r4) / estrin8(den, r, r2, r4);
}

// AS 241 coefficients, lowest order first: A/B for |u - 1/2| <= 0.425, C/D for
// min(u, 1 - u) >= exp(-25), E/F beyond.
constexpr std::array<double, 8> kAs241A = {3.3871328727963666080e+0, 1.3314166789178437745e+2,
                                           1.9715909503065514427e+3, 1.3731693765509461125e+4,
                                           4.5921953931549871457e+4, 6.7265770927008700853e+4,
                                           3.3430575583588128105e+4, 2.5090809287301226727e+3};
constexpr std::array<double, 8> kAs241B = {1.0000000000000000000e+0, 4.2313330701600911252e+1,
                                           6.8718700749205790830e+2, 5.3941960214247511077e+3,
                                           2.1213794301586595867e+4, 3.9307895800092710610e+4,
                                           2.8729085735721942674e+4, 5.2264952788528545610e+3};
constexpr std::array<double, 8> kAs241C = {1.42343711074968357734e+0, 4.63033784615654529590e+0,
                                           5.76949722146069140550e+0, 3.64784832476320460504e+0,
                                           1.27045825245236838258e+0, 2.41780725177450611770e-1,
                                           2.27238449892691845833e-2, 7.74545014278341407640e-4};
constexpr std::array<double, 8> kAs241D = {1.0000000000000000000e+0,  2.05319162663775882187e+0,
                                           1.67638483018380384940e+0, 6.89767334985100004550e-1,
                                           1.48103976427480074590e-1, 1.51986665636164571966e-2,
                                           5.47593808499534494600e-4, 1.05075007164441684324e-9};
constexpr std::array<double, 8> kAs241E = {6.65790464350110377720e+0, 5.46378491116411436990e+0,
                                           1.78482653991729133580e+0, 2.96560571828504891230e-1,
                                           2.65321895265761230930e-2, 1.24266094738807843860e-3,
                                           2.71155556874348757815e-5, 2.01033439929228813265e-7};
constexpr std::array<double, 8> kAs241F = {1.0000000000000000000e+0,  5.99832206555887937690e-1,
                                           1.36929880922735805310e-1, 1.48753612908506148525e-2,
                                           7.86869131145613259100e-4, 1.84631831751005468180e-5,
                                           1.42151175831644588870e-7, 2.04426310338993978564e-15};

// AS 241 outside the central region (|u - 1/2| > 0.425, 15 % of draws), out of line so
// the central path stays small enough to inline into draw().
[[gnu::noinline]] double as241_tail(double u, double q) {
  if (!(u > 0.0 && u < 1.0)) {
    if (u == 0.0) return -kInf;
    if (u == 1.0) return kInf;
    return kNaN;
  }
  double r = std::sqrt(-std::log(q < 0.0 ? u : 1.0 - u));
  double x;
  if (r <= 5.0) {
    r -= 1.6;
    x = rational8(kAs241C, kAs241D, r);
  } else {
    r -= 5.0;
    x = rational8(kAs241E, kAs241F, r);
  }
  return q < 0.0 ? -x : x;
}

// Wichura (1988), Algorithm AS 241 PPND16: rational approximations in three regions,
// relative accuracy about 1e-16. NaN and u outside [0, 1] take the tail branch.
inline double as241(double u) {
  const double q = u - 0.5;
  if (std::abs(q) <= 0.425) {
    const double r = 0.180625 - q * q;
    return q * rational8(kAs241A, kAs241B, r);
  }
  return as241_tail(u, q);
}

constexpr std::array<std::string_view, 13> kNames = {
    "normal",      "lognormal", "uniform",   "triangular", "pert",     "beta",     "gamma",
    "truncnormal", "discrete",  "empirical", "poisson",    "binomial", "bernoulli"};

constexpr std::array<int, 13> kParamCounts = {2, 2, 2, 3, 4, 4, 2, 4, 0, 0, 1, 2, 1};

// Parameter names in the order of `p`, used in check_params messages.
std::array<std::string_view, 4> param_names(DistKind kind) {
  switch (kind) {
    case DistKind::kNormal:
      return {"mean", "sd"};
    case DistKind::kLogNormal:
      return {"meanlog", "sdlog"};
    case DistKind::kUniform:
      return {"min", "max"};
    case DistKind::kTriangular:
      return {"min", "mode", "max"};
    case DistKind::kPert:
      return {"min", "mode", "max", "lambda"};
    case DistKind::kBeta:
      return {"alpha", "beta", "min", "max"};
    case DistKind::kGamma:
      return {"shape", "scale"};
    case DistKind::kTruncNormal:
      return {"mean", "sd", "min", "max"};
    case DistKind::kPoisson:
      return {"rate"};
    case DistKind::kBinomial:
      return {"n", "p"};
    case DistKind::kBernoulli:
      return {"p"};
    default:
      return {};
  }
}

// Shortest text that reads back as the same double ("-1", "1.5", "inf", "nan").
std::string num(double x) {
  std::array<char, 32> buf{};
  auto res = std::to_chars(buf.data(), buf.data() + buf.size(), x);
  return std::string(buf.data(), res.ptr);
}

// The first rule a parameter vector breaks. Finding it involves no strings, so draw() can
// validate on every call; check_params() turns it into a message.
enum class Rule {
  kOk,
  kCount,             // wrong number of parameters
  kFinite,            // p[index] must be finite
  kFiniteOrMinusInf,  // truncnormal min
  kFiniteOrPlusInf,   // truncnormal max
  kNonNegative,       // p[index] >= 0
  kPositive,          // p[index] > 0
  kMinBelowMax,       // p[index] < p[other]
  kModeInRange,       // p[0] <= p[1] <= p[2]
  kProbability,       // p[index] in [0, 1]
  kNonNegativeInteger,
  kExactInteger,  // p[index] <= 2^53
};

// Largest binomial n: above 2^53 doubles skip whole numbers, and Boost's incomplete beta
// function at such n ran for hours (a shock whose n grew without bound hung a run).
constexpr double kMaxExactInteger = 0x1p53;

struct Problem {
  Rule rule = Rule::kOk;
  std::size_t index = 0;
  std::size_t other = 0;
};

// The binomial n as an integer; the reader may hand over 10.000000000001 from arithmetic.
double binomial_n(double n) {
  return std::round(n);
}

Problem find_problem(DistKind kind, std::span<const double> p) {
  const int count = param_count(kind);
  if (count < 0 || p.size() != static_cast<std::size_t>(count)) return {Rule::kCount};
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (std::isfinite(p[i])) continue;
    if (kind == DistKind::kTruncNormal && i == 2) {
      // Open-ended truncation: min may be -inf, max +inf.
      if (p[i] == -kInf) continue;
      return {Rule::kFiniteOrMinusInf, i};
    }
    if (kind == DistKind::kTruncNormal && i == 3) {
      if (p[i] == kInf) continue;
      return {Rule::kFiniteOrPlusInf, i};
    }
    return {Rule::kFinite, i};
  }
  auto min_max = [&](std::size_t lo, std::size_t hi) {
    return p[lo] < p[hi] ? Problem{} : Problem{Rule::kMinBelowMax, lo, hi};
  };
  switch (kind) {
    case DistKind::kNormal:
    case DistKind::kLogNormal:
      if (!(p[1] >= 0.0)) return {Rule::kNonNegative, 1};
      break;
    case DistKind::kUniform:
      return min_max(0, 1);
    case DistKind::kTriangular:
    case DistKind::kPert:
      if (!(p[0] < p[2])) return {Rule::kMinBelowMax, 0, 2};
      if (!(p[0] <= p[1] && p[1] <= p[2])) return {Rule::kModeInRange, 1};
      if (kind == DistKind::kPert && !(p[3] >= 0.0)) return {Rule::kNonNegative, 3};
      break;
    case DistKind::kBeta:
      if (!(p[0] > 0.0)) return {Rule::kPositive, 0};
      if (!(p[1] > 0.0)) return {Rule::kPositive, 1};
      return min_max(2, 3);
    case DistKind::kGamma:
      if (!(p[0] > 0.0)) return {Rule::kPositive, 0};
      if (!(p[1] > 0.0)) return {Rule::kPositive, 1};
      break;
    case DistKind::kTruncNormal:
      if (!(p[1] > 0.0)) return {Rule::kPositive, 1};
      return min_max(2, 3);
    case DistKind::kDiscrete:
    case DistKind::kEmpirical:
      break;
    case DistKind::kPoisson:
      if (!(p[0] >= 0.0)) return {Rule::kNonNegative, 0};
      break;
    case DistKind::kBinomial: {
      const double n = binomial_n(p[0]);
      if (!(n >= 0.0 && std::abs(p[0] - n) <= 1e-9)) return {Rule::kNonNegativeInteger, 0};
      if (n > kMaxExactInteger) return {Rule::kExactInteger, 0};
      if (!(p[1] >= 0.0 && p[1] <= 1.0)) return {Rule::kProbability, 1};
      break;
    }
    case DistKind::kBernoulli:
      if (!(p[0] >= 0.0 && p[0] <= 1.0)) return {Rule::kProbability, 0};
      break;
  }
  return {};
}

bool params_ok(DistKind kind, std::span<const double> p) {
  return find_problem(kind, p).rule == Rule::kOk;
}

// ---- Normal helpers ------------------------------------------------------------------

double phi_density(double x) {
  return kInvSqrt2Pi * std::exp(-0.5 * x * x);
}

// Asymptotic series of |x| Phi(x) / phi(x) = 1 - 1/x^2 + 3/x^4 - 15/x^6 + ... for x <= -37,
// where the omitted terms are below 1e-16.
double mills_series(double x) {
  const double t = 1.0 / (x * x);
  return 1.0 -
         t * (1.0 -
              3.0 * t * (1.0 - 5.0 * t * (1.0 - 7.0 * t * (1.0 - 9.0 * t * (1.0 - 11.0 * t)))));
}

// Mills ratio Phi(x) / phi(x) for x <= 0, finite down to -inf (where it is 0).
double mills_lower(double x) {
  if (x > kDeepTail) return normal_cdf(x) / phi_density(x);
  if (std::isinf(x)) return 0.0;
  return mills_series(x) / -x;
}

// log Phi(x) for x < 0, accurate where Phi(x) itself underflows.
double log_normal_cdf_lower(double x) {
  if (x > kDeepTail) return std::log(normal_cdf(x));
  if (std::isinf(x)) return -kInf;
  return -0.5 * x * x - std::log(-x) - kLogSqrt2Pi + std::log(mills_series(x));
}

// Solves log Phi(z) = target for z < kDeepTail by Newton's method. log Phi is concave and
// increasing, so from a start above the root the iterates approach it monotonically.
double normal_quantile_from_log(double target, double start) {
  double z = start;
  for (int i = 0; i < 100; ++i) {
    const double g = log_normal_cdf_lower(z) - target;
    const double slope = 1.0 / mills_lower(z);  // d/dz log Phi(z) = phi(z) / Phi(z)
    const double step = g / slope;
    z -= step;
    if (std::abs(step) <= 1e-15 * std::abs(z)) break;
  }
  return z;
}

// Standardized truncated normal on [lo, hi] with lo + hi <= 0 (the interval lies mostly
// in the lower tail, where Phi keeps full relative precision).
double truncnormal_quantile_lower(double lo, double hi, double u) {
  if (u <= 0.0) return lo;
  if (u >= 1.0) return hi;
  double z;
  if (hi > kDeepTail) {
    const double plo = normal_cdf(lo);
    const double phi = normal_cdf(hi);
    z = normal_quantile(plo + u * (phi - plo));
  } else {
    // Phi(hi) is (nearly) subnormal: work with log Phi. F(z) = u gives
    // log Phi(z) = log Phi(hi) + log(u + (1 - u) Phi(lo) / Phi(hi)).
    const double log_hi = log_normal_cdf_lower(hi);
    const double ratio = std::exp(log_normal_cdf_lower(lo) - log_hi);
    const double target = log_hi + std::log(u + (1.0 - u) * ratio);
    z = normal_quantile_from_log(target, hi);
  }
  return std::clamp(z, lo, hi);
}

double truncnormal_quantile(std::span<const double> p, double u) {
  const double mean = p[0], sd = p[1];
  const double a = (p[2] - mean) / sd;
  const double b = (p[3] - mean) / sd;
  // An interval lying mostly above the mean is mirrored into the lower tail: Phi near 1
  // has only absolute precision 1e-16, Phi near 0 keeps relative precision. Mirroring
  // maps u to 1 - u and negates the result, which keeps the quantile increasing in u.
  if (a + b > 0.0) return mean - sd * truncnormal_quantile_lower(-b, -a, 1.0 - u);
  return mean + sd * truncnormal_quantile_lower(a, b, u);
}

// Mean and variance of the standardized truncated normal on [lo, hi], lo + hi <= 0.
void truncnormal_moments_lower(double lo, double hi, double& mean, double& var) {
  // x phi(x) is 0 at infinite bounds.
  auto xphi = [](double x, double density) { return std::isinf(x) ? 0.0 : x * density; };
  double l1, l2;
  if (hi > kDeepTail) {
    const double z = normal_cdf(hi) - normal_cdf(lo);
    const double dlo = phi_density(lo), dhi = phi_density(hi);
    l1 = (dlo - dhi) / z;
    l2 = (xphi(lo, dlo) - xphi(hi, dhi)) / z;
  } else {
    // Both densities and Phi(hi) underflow: divide numerator and denominator by phi(hi).
    // r = phi(lo) / phi(hi) <= 1 because |lo| > |hi| here.
    const double r = std::isinf(lo) ? 0.0 : std::exp(0.5 * (hi - lo) * (hi + lo));
    const double z = mills_lower(hi) - mills_lower(lo) * r;
    l1 = (r - 1.0) / z;
    l2 = (xphi(lo, r) - hi) / z;
  }
  mean = l1;
  var = 1.0 + l2 - l1 * l1;
}

void truncnormal_moments(std::span<const double> p, double& mean, double& var) {
  const double mu = p[0], sd = p[1];
  const double a = (p[2] - mu) / sd;
  const double b = (p[3] - mu) / sd;
  double m, v;
  if (a + b > 0.0) {
    truncnormal_moments_lower(-b, -a, m, v);
    m = -m;
  } else {
    truncnormal_moments_lower(a, b, m, v);
  }
  mean = mu + sd * m;
  var = sd * sd * v;
}

// ---- Boost.Math calls that never throw ------------------------------------------------

// Boost 1.74's root finders (inside ibeta_inv and gamma_p_inv) report "no root found"
// through the default, throwing policy whatever policy the caller passes; this happens
// e.g. for ibeta_inv(4.6, 1.4, 1e-150), whose answer (about 1e-33) is representable.
// Every Boost call goes through these wrappers, so no exception leaves this file: a failed
// inverse falls back to bisection on the forward function, a failed forward call is NaN.
template <class F>
double no_throw(F f) {
  try {
    return f();
  } catch (...) {
    return kNaN;
  }
}

// Smallest x in [lo, hi] with cdf(x) >= u (cdf(hi) >= u assumed). Bisects geometrically
// while hi / lo is large, so a root near 1e-300 takes about 80 steps, not 1000.
template <class Cdf>
double bisect_quantile(Cdf cdf, double u, double lo, double hi) {
  for (int i = 0; i < 400; ++i) {
    double mid;
    if (lo <= 0.0) {
      mid = hi * 0x1p-64;
    } else if (hi > 2.0 * lo) {
      mid = std::sqrt(lo) * std::sqrt(hi);
    } else {
      mid = lo + 0.5 * (hi - lo);
    }
    if (!(mid > lo && mid < hi)) break;
    if (cdf(mid) >= u) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return hi;
}

// x with I_x(a, b) = u.
double beta_inv(double a, double b, double u) {
  const double x = no_throw([&] { return boost::math::ibeta_inv(a, b, u, Policy()); });
  if (!std::isnan(x)) return x;
  return no_throw([&] {
    auto cdf = [&](double t) { return boost::math::ibeta(a, b, t, Policy()); };
    return bisect_quantile(cdf, u, 0.0, 1.0);
  });
}

// x with P(a, x) = u (regularized lower incomplete gamma).
double gamma_inv(double a, double u) {
  const double x = no_throw([&] { return boost::math::gamma_p_inv(a, u, Policy()); });
  if (!std::isnan(x)) return x;
  return no_throw([&] {
    auto cdf = [&](double t) { return boost::math::gamma_p(a, t, Policy()); };
    double hi = std::max(1.0, a);
    while (cdf(hi) < u && hi < 1e300) hi *= 2.0;
    return bisect_quantile(cdf, u, 0.0, hi);
  });
}

// ---- Discrete helpers ----------------------------------------------------------------

// stirlerr(n) = log n! - ((n + 1/2) log n - n + log sqrt(2 pi)), the error of Stirling's
// formula; exact values for n <= 15, otherwise the series (error < 1e-16).
double stirlerr(double n) {
  // kTable[n] for n = 1..15 (50-digit values); kTable[0] is unused.
  static constexpr std::array<double, 16> kTable = {
      0.000000000000000000,  0.081061466795327258,  0.041340695955409294,  0.027677925684998339,
      0.020790672103765093,  0.016644691189821192,  0.013876128823070748,  0.01189670994589177,
      0.010411265261972096,  0.0092554621827127329, 0.0083305634333628713, 0.0075736754879518408,
      0.0069428401072095299, 0.0064089941880042071, 0.0059513701127588477, 0.0055547335519628014};
  if (n < 16.0) return kTable[static_cast<std::size_t>(n)];
  const double t = 1.0 / (n * n);
  return (1.0 / 12.0 -
          t * (1.0 / 360.0 - t * (1.0 / 1260.0 - t * (1.0 / 1680.0 - t * (1.0 / 1188.0))))) /
         n;
}

// log P(X = k) for X ~ Poisson(rate), k >= 0, in Loader's form: the large terms
// k log(rate) and log k! cancel analytically, so it stays accurate for huge rates.
double poisson_log_pmf(double k, double rate) {
  if (k == 0.0) return -rate;
  const double d = k - rate;
  const double bd0 = k * std::log1p(d / rate) - d;  // k log(k / rate) - (k - rate) >= 0
  return -bd0 - 0.5 * std::log(k) - kLogSqrt2Pi - stirlerr(k);
}

// log P(X = k) for X ~ Binomial(n, p), 0 < k < n, in Loader's saddle-point form (as R's
// dbinom): the terms of size n log n cancel analytically.
double binomial_log_pmf(double k, double n, double p) {
  auto bd0 = [](double x, double m) {  // x log(x / m) + m - x >= 0
    const double d = x - m;
    return x * std::log1p(d / m) - d;
  };
  const double nk = n - k;
  return stirlerr(n) - stirlerr(k) - stirlerr(nk) - bd0(k, n * p) - bd0(nk, n * (1.0 - p)) +
         0.5 * std::log(n / (k * nk)) - kLogSqrt2Pi;
}

// Smallest k in [0, cap] with reached(k), where reached is monotone and reached(cap)
// holds. Starts at `guess` and brackets outwards by doubling steps, then bisects.
template <class Reached>
double search_smallest(double guess, double cap, Reached reached) {
  double lo, hi;  // invariant: !reached(lo) (or lo == -1), reached(hi)
  double k = std::clamp(std::floor(guess), 0.0, cap);
  if (reached(k)) {
    hi = k;
    double step = 1.0;
    lo = hi - step;
    while (lo >= 0.0 && reached(lo)) {
      hi = lo;
      step *= 2.0;
      lo = std::max(-1.0, hi - step);
    }
    lo = std::max(lo, -1.0);
  } else {
    lo = k;
    double step = 1.0;
    hi = std::min(cap, lo + step);
    while (!reached(hi)) {
      lo = hi;
      step *= 2.0;
      hi = std::min(cap, lo + step);
    }
  }
  while (hi - lo > 1.0) {
    const double mid = lo + std::floor(0.5 * (hi - lo));
    // Above 2^53 neighbouring doubles are 2 or more apart: once no double lies strictly
    // between lo and hi, hi is the answer as closely as a double can say it. (Without this
    // the loop never ended: a binomial n of 1e17 hung a run; found by fuzz_model.)
    if (!(mid > lo && mid < hi)) break;
    if (reached(mid)) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return hi;
}

// Steps from a start k0 near the answer to the smallest k with F(k) >= u, given the exact
// CDF at k0 and pmf(k0). For u <= 1/2 it tracks F(k) = P(X <= k); above, the upper tail
// S(k) = P(X > k) against 1 - u (exact for u >= 1/2), so the far upper tail keeps its
// relative precision. `up(k)` is pmf(k + 1) / pmf(k), `down(k)` pmf(k - 1) / pmf(k).
// Returns NaN when the start was too far off (the caller then bisects).
// `slack` is the start's own relative error beyond a few 1e-16.
template <class Up, class Down>
double step_to_quantile(double k, double cap, double tail, double pmf, double u, Up up, Down down,
                        double slack = 0.0) {
  if (!std::isfinite(tail) || !std::isfinite(pmf)) return kNaN;
  // Each step adds or removes one pmf term, with a rounding error of about 1e-16 of the
  // larger of the running tail and its start (and the start itself is exact to a few
  // 1e-16 relative, or to `slack`); a comparison closer than a generous bound on the
  // accumulated error is left to the bisection on the exact CDF.
  const double start = tail;
  auto unclear = [&](double value, double target, int steps) {
    return std::fabs(value - target) <= (slack + 1e-14 * (steps + 2)) * std::max(start, value);
  };
  if (u <= 0.5) {
    double cdf = tail;  // F(k)
    if (cdf >= u) {
      for (int i = 0; i < kMaxSteps && k > 0.0; ++i) {
        const double below = cdf - pmf;  // F(k - 1)
        if (unclear(below, u, i)) return kNaN;
        if (below < u) return k;
        cdf = below;
        pmf *= down(k);
        k -= 1.0;
      }
      return k > 0.0 ? kNaN : k;
    }
    for (int i = 0; i < kMaxSteps && k < cap; ++i) {
      pmf *= up(k);
      k += 1.0;
      cdf += pmf;
      if (unclear(cdf, u, i)) return kNaN;
      if (cdf >= u) return k;
    }
    return kNaN;
  }
  const double v = 1.0 - u;
  double upper = tail;  // S(k) = 1 - F(k); F(k) >= u  <=>  S(k) <= v
  if (upper <= v) {
    for (int i = 0; i < kMaxSteps && k > 0.0; ++i) {
      const double below = upper + pmf;  // S(k - 1)
      if (unclear(below, v, i)) return kNaN;
      if (below > v) return k;
      upper = below;
      pmf *= down(k);
      k -= 1.0;
    }
    return k > 0.0 ? kNaN : k;
  }
  for (int i = 0; i < kMaxSteps && k < cap; ++i) {
    pmf *= up(k);
    k += 1.0;
    if (k >= cap) return cap;
    upper -= pmf;
    if (unclear(upper, v, i)) return kNaN;
    if (upper <= v) return k;
  }
  return kNaN;
}

// P(X <= k) (lower = true) or P(X > k) for X ~ Poisson(rate): Q(k + 1, rate) or
// P(k + 1, rate). Near the mean of a large rate, Boost's gamma_q takes its asymptotic
// series in 1 / rate (microseconds at rate 1e6) unless k + 1 > rate; Temme's uniform
// expansion, which Boost itself uses on the other side and which is accurate to double
// precision for a > 200 and (x - a)^2 / a < 20, costs a tenth of a microsecond on both.
double poisson_tail(double k, double rate, bool lower) {
  const double a = k + 1.0;
  if (a > 200.0 && (rate - a) * (rate - a) < 20.0 * a) {
    // The smaller tail: P(a, x) for x < a (the Poisson upper tail), else Q(a, x).
    const double small = no_throw([&] {
      return boost::math::detail::igamma_temme_large(
          a, rate, Policy(), static_cast<const boost::integral_constant<int, 53>*>(nullptr));
    });
    const bool small_is_upper = rate < a;
    return lower == small_is_upper ? 1.0 - small : small;
  }
  return no_throw([&] {
    return lower ? boost::math::gamma_q(a, rate, Policy())
                 : boost::math::gamma_p(a, rate, Policy());
  });
}

// Giles (2016), "Algorithm 955: approximation of the inverse Poisson CDF on GPUs": the
// quantile of the continuous analogue, whose floor is the answer or one off.
double giles_poisson_start(double rate, double u) {
  const double w = std::clamp(normal_quantile(u), -40.0, 40.0);
  const double w2 = w * w;
  const double s = std::sqrt(rate);
  return rate + s * w + (1.0 / 3.0 + w2 / 6.0) + (-w / 36.0 - w * w2 / 72.0) / s +
         (-8.0 / 405.0 + 7.0 * w2 / 810.0 + w2 * w2 / 270.0) / rate;
}

double poisson_quantile(double rate, double u) {
  if (rate == 0.0 || u <= 0.0) return 0.0;
  if (rate < kSequentialBelow && u <= kSequentialUpTo) {
    // Sequential inversion from 0: a handful of multiplications for small rates.
    double k = 0.0;
    double pmf = std::exp(-rate);
    double cdf = pmf;
    while (cdf < u) {
      k += 1.0;
      pmf *= rate / k;
      const double next = cdf + pmf;
      if (next == cdf) break;  // u is above every representable CDF value: the tail ends here
      cdf = next;
    }
    return k;
  }
  const double k0 = std::max(0.0, std::floor(giles_poisson_start(rate, u)));
  const double k = step_to_quantile(
      k0, kInf, poisson_tail(k0, rate, u <= 0.5), std::exp(poisson_log_pmf(k0, rate)), u,
      [rate](double j) { return rate / (j + 1.0); }, [rate](double j) { return j / rate; });
  if (!std::isnan(k)) return k;
  // Far from the start, or too close to call: bisection on the exact CDF. A NaN counts as
  // reached, so the search always ends.
  const double v = 1.0 - u;
  auto reached = [&](double j) {
    if (u <= 0.5) return !(poisson_tail(j, rate, true) < u);
    return !(poisson_tail(j, rate, false) > v);
  };
  return search_smallest(k0, kInf, reached);
}

// Sequential inversion for a binomial with small n q, q <= 1/2: the smallest k with
// P(X <= k) >= u (strict = false) or > u (strict = true).
double binomial_sequential(double n, double q, double u, bool strict) {
  double k = 0.0;
  double pmf = std::exp(n * std::log1p(-q));
  double cdf = pmf;
  const double ratio = q / (1.0 - q);
  while (k < n && (strict ? cdf <= u : cdf < u)) {
    pmf *= (n - k) / (k + 1.0) * ratio;
    k += 1.0;
    const double next = cdf + pmf;
    if (next == cdf) break;
    cdf = next;
  }
  return k;
}

double binomial_quantile(double n, double prob, double u) {
  if (prob == 0.0 || n == 0.0) return 0.0;
  if (prob == 1.0) return n;
  if (u <= 0.0) return 0.0;
  if (n * std::min(prob, 1.0 - prob) < kSequentialBelow &&
      (prob <= 0.5 ? u : 1.0 - u) <= kSequentialUpTo) {
    if (prob <= 0.5) return binomial_sequential(n, prob, u, false);
    // X = n - Y with Y ~ Binomial(n, 1 - p): P(X <= k) >= u  <=>  P(Y <= n - k - 1) <= 1 - u,
    // so k = n - (smallest m with P(Y <= m) > 1 - u).
    return n - binomial_sequential(n, 1.0 - prob, 1.0 - u, true);
  }
  // P(X <= k) = I_{1-p}(n - k, k + 1) = ibetac(k + 1, n - k, p), P(X > k) = ibeta(...);
  // pmf(k) = ibeta_derivative(k + 1, n - k + 1, p) / (n + 1).
  auto lower = [&](double k) {
    return k >= n ? 1.0 : boost::math::ibetac(k + 1.0, n - k, prob, Policy());
  };
  auto upper = [&](double k) {
    return k >= n ? 0.0 : boost::math::ibeta(k + 1.0, n - k, prob, Policy());
  };
  const double q = 1.0 - prob;
  const double sd = std::sqrt(n * prob * q);
  // Cornish-Fisher with continuity correction, the binomial analogue of Giles' start.
  const double w = std::clamp(normal_quantile(u), -40.0, 40.0);
  const double x = n * prob + sd * w + (q - prob) * (w * w - 1.0) / 6.0 + 0.5;
  const double k0 = std::clamp(std::floor(x), 0.0, n);
  const double odds = prob / q;
  double tail, pmf, slack = 0.0;
  if (sd <= kSummedTailsUpTo && k0 > 0.0 && k0 < n) {
    // The tail at k0 as pmf(k0) times the sum of the pmf ratios away from it, until the
    // terms fall below 1e-17 of the sum: at most about 9 sd + 60 terms (a few hundred
    // nanoseconds), against a microsecond for Boost's ibeta in the bulk of a large
    // binomial. Relative error: Loader's pmf (~1e-14) plus the sum's rounding.
    pmf = std::exp(binomial_log_pmf(k0, n, prob));
    double sum = u <= 0.5 ? 1.0 : 0.0, term = 1.0;
    const double inv_odds = 1.0 / odds;
    // Past the mean the terms fall like a Gaussian's: 9 sd reach 1e-17. A bound on the
    // terms keeps a pathological case from looping; it then takes Boost's ibeta below.
    const double most = 64.0 + 20.0 * (sd + 1.0) + std::fabs(k0 - n * prob);
    bool ended = false;
    if (u <= 0.5) {
      for (double j = k0, i = 0; j > 0.0 && i < most; j -= 1.0, i += 1.0) {
        term *= j / (n - j + 1.0) * inv_odds;
        sum += term;
        ended = j == 1.0 || (term <= 1e-17 * sum && j < n * prob);
        if (ended) break;
      }
    } else {
      for (double j = k0, i = 0; j < n && i < most; j += 1.0, i += 1.0) {
        term *= (n - j) / (j + 1.0) * odds;
        sum += term;
        ended = j + 1.0 == n || (term <= 1e-17 * sum && j > n * prob);
        if (ended) break;
      }
    }
    tail = ended && std::isfinite(sum) ? pmf * sum : kNaN;
    slack = 1e-13;
  } else {
    tail = no_throw([&] { return u <= 0.5 ? lower(k0) : upper(k0); });
    pmf = no_throw([&] {
            return boost::math::ibeta_derivative(k0 + 1.0, n - k0 + 1.0, prob, Policy());
          }) /
          (n + 1.0);
  }
  const double k = step_to_quantile(
      k0, n, tail, pmf, u, [&](double j) { return (n - j) / (j + 1.0) * odds; },
      [&](double j) { return j / (n - j + 1.0) / odds; }, slack);
  if (!std::isnan(k)) return k;
  const double v = 1.0 - u;
  auto reached = [&](double j) {
    if (j >= n) return true;
    if (u <= 0.5) return !(no_throw([&] { return lower(j); }) < u);
    return !(no_throw([&] { return upper(j); }) > v);
  };
  return search_smallest(k0, n, reached);
}

bool table_ok(DistKind kind, const DistTable* table) {
  if (table == nullptr || table->values.empty()) return false;
  if (kind == DistKind::kDiscrete) return table->cumulative.size() == table->values.size();
  return true;
}

// Inverse CDF for parameters already known to be valid.
double quantile_unchecked(DistKind kind, std::span<const double> p, const DistTable* table,
                          double u) {
  switch (kind) {
    case DistKind::kNormal:
      return p[0] + p[1] * normal_quantile(u);
    case DistKind::kLogNormal:
      return std::exp(p[0] + p[1] * normal_quantile(u));
    case DistKind::kUniform:
      return std::min(p[1], p[0] + u * (p[1] - p[0]));
    case DistKind::kTriangular: {
      const double lo = p[0], mode = p[1], hi = p[2];
      const double width = hi - lo;
      double x;
      if (u * width < mode - lo) {
        x = lo + std::sqrt(u * width * (mode - lo));
      } else {
        x = hi - std::sqrt((1.0 - u) * width * (hi - mode));
      }
      return std::clamp(x, lo, hi);
    }
    case DistKind::kPert: {
      const double lo = p[0], mode = p[1], hi = p[2], lambda = p[3];
      const double width = hi - lo;
      const double alpha = 1.0 + lambda * (mode - lo) / width;
      const double beta = 1.0 + lambda * (hi - mode) / width;
      const double x = beta_inv(alpha, beta, u);
      return std::clamp(lo + width * x, lo, hi);
    }
    case DistKind::kBeta: {
      const double x = beta_inv(p[0], p[1], u);
      return std::clamp(p[2] + (p[3] - p[2]) * x, p[2], p[3]);
    }
    case DistKind::kGamma:
      return gamma_inv(p[0], u) * p[1];
    case DistKind::kTruncNormal:
      return truncnormal_quantile(p, u);
    case DistKind::kDiscrete: {
      const auto& cum = table->cumulative;
      const auto it = std::lower_bound(cum.begin(), cum.end(), u);
      const auto i = std::min<std::size_t>(it - cum.begin(), cum.size() - 1);
      return table->values[i];
    }
    case DistKind::kEmpirical: {
      const std::size_t n = table->values.size();
      const double pos = std::floor(u * static_cast<double>(n));
      const std::size_t i = pos <= 0.0 ? 0 : std::min(n - 1, static_cast<std::size_t>(pos));
      return table->values[i];
    }
    case DistKind::kPoisson:
      return poisson_quantile(p[0], u);
    case DistKind::kBinomial:
      return binomial_quantile(binomial_n(p[0]), p[1], u);
    case DistKind::kBernoulli:
      return u > 1.0 - p[0] ? 1.0 : 0.0;
  }
  return kNaN;
}

// draw() for every kind but the normal: the inverse CDF of the stream's first word.
[[gnu::noinline]] double draw_other(DistKind kind, std::span<const double> p,
                                    const DistTable* table, Stream& stream) {
  if (!params_ok(kind, p)) return kNaN;
  if ((kind == DistKind::kDiscrete || kind == DistKind::kEmpirical) && !table_ok(kind, table)) {
    return kNaN;
  }
  return quantile_unchecked(kind, p, table, stream.u01());
}

}  // namespace

int param_count(DistKind kind) {
  const auto i = static_cast<std::size_t>(kind);
  return i < kParamCounts.size() ? kParamCounts[i] : -1;
}

std::string_view dist_name(DistKind kind) {
  const auto i = static_cast<std::size_t>(kind);
  return i < kNames.size() ? kNames[i] : std::string_view("unknown");
}

std::optional<DistKind> dist_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<DistKind>(i);
  }
  return std::nullopt;
}

std::optional<std::string> check_params(DistKind kind, std::span<const double> p) {
  const Problem problem = find_problem(kind, p);
  if (problem.rule == Rule::kOk) return std::nullopt;
  auto must = [&](std::string_view rule) {
    return std::string(param_names(kind)[problem.index]) + " must " + std::string(rule) + " (got " +
           num(p[problem.index]) + ")";
  };
  switch (problem.rule) {
    case Rule::kOk:
      return std::nullopt;
    case Rule::kCount: {
      const int count = param_count(kind);
      if (count < 0) return "unknown distribution kind";
      const std::string got = " (got " + std::to_string(p.size()) + ")";
      if (count == 0) {
        return std::string(dist_name(kind)) + " takes no numeric parameters, only a table" + got;
      }
      return std::string(dist_name(kind)) + " takes " + std::to_string(count) + " parameters" + got;
    }
    case Rule::kFinite:
      return must("be finite");
    case Rule::kFiniteOrMinusInf:
      return must("be finite or -inf");
    case Rule::kFiniteOrPlusInf:
      return must("be finite or +inf");
    case Rule::kNonNegative:
      return must("be >= 0");
    case Rule::kPositive:
      return must("be > 0");
    case Rule::kMinBelowMax:
      return "min must be < max (got min " + num(p[problem.index]) + ", max " +
             num(p[problem.other]) + ")";
    case Rule::kModeInRange:
      return "mode must lie in [min, max] (got mode " + num(p[1]) + ", min " + num(p[0]) +
             ", max " + num(p[2]) + ")";
    case Rule::kProbability:
      return must("be in [0, 1]");
    case Rule::kNonNegativeInteger:
      return must("be a non-negative integer");
    case Rule::kExactInteger:
      return must(
          "be at most 2^53 = 9007199254740992, the largest whole number a double holds "
          "exactly");
  }
  return "invalid parameters";
}

double normal_cdf(double x) {
  return 0.5 * std::erfc(-x * kSqrtHalf);
}

double normal_quantile(double u) {
  return as241(u);
}

double quantile(DistKind kind, std::span<const double> p, const DistTable* table, double u) {
  if (std::isnan(u) || !params_ok(kind, p)) return kNaN;
  if ((kind == DistKind::kDiscrete || kind == DistKind::kEmpirical) && !table_ok(kind, table)) {
    return kNaN;
  }
  return quantile_unchecked(kind, p, table, u);
}

double QuantileFunction::tail_node(std::size_t n) {
  // kTailPerOctave nodes per octave from 2^kTailBottom up: 2^e (1 + j / kTailPerOctave).
  const int e = kTailBottom + static_cast<int>(n / kTailPerOctave);
  const double j = static_cast<double>(n % kTailPerOctave);
  return std::ldexp(1.0 + j / kTailPerOctave, e);
}

QuantileFunction::QuantileFunction(DistKind kind, std::vector<double> p, const DistTable* table)
    : kind_(kind), p_(std::move(p)), table_(table) {
  if (!params_ok(kind_, p_)) return;
  switch (kind_) {
    case DistKind::kPert: {
      const double width = p_[2] - p_[0];
      if (!(width > 0)) return;
      a_ = 1.0 + p_[3] * (p_[1] - p_[0]) / width;
      b_ = 1.0 + p_[3] * (p_[2] - p_[1]) / width;
      lo_ = p_[0], scale_ = width;
      break;
    }
    case DistKind::kBeta:
      a_ = p_[0], b_ = p_[1], lo_ = p_[2], scale_ = p_[3] - p_[2];
      break;
    case DistKind::kGamma:
      a_ = p_[0], scale_ = p_[1], gamma_ = true;
      break;
    default:
      return;
  }
  const std::size_t cells = kCells;
  const double h = 1.0 / static_cast<double>(cells);
  x_.assign(cells + 1, 0.0);
  d_.assign(cells + 1, 0.0);
  dd_.assign(cells + 1, 0.0);
  x_.back() = gamma_ ? kInf : 1.0;
  // Nodes: Newton from the previous nodes' second-order extrapolation (usually one or two
  // steps), the solver where that fails. d_ holds h dx/du = h / f(x), the slope per cell,
  // and dd_ h^2 d2x/du2 = -(f'/f)(x) (h dx/du)^2, its curvature per cell.
  for (std::size_t i = 1; i < cells; ++i) {
    const double u = static_cast<double>(i) * h;
    const double prev = x_[i - 1];
    double x = kNaN;
    if (i > 2 && std::isfinite(d_[i - 1]) && d_[i - 1] > 0 && std::isfinite(d_[i - 2])) {
      double lo = prev, hi = x_.back();
      x = std::clamp(prev + d_[i - 1] + 0.5 * (d_[i - 1] - d_[i - 2]), lo, hi);
      for (int step = 0;; ++step) {
        if (step == 12) {
          x = kNaN;
          break;
        }
        const double c = cdf(x), f = pdf(x);
        if (!std::isfinite(c) || !(f > 0) || !std::isfinite(f)) {
          x = kNaN;
          break;
        }
        (c < u ? lo : hi) = x;
        const double delta = (c - u) / f;
        const double next = x - delta;
        if (!(next >= lo && next <= hi)) {
          x = kNaN;
          break;
        }
        x = next;
        if (newton_done(x, delta)) break;
      }
    }
    if (std::isnan(x)) x = standard(u);
    x_[i] = x;
    d_[i] = h / pdf(x);
    dd_[i] = -log_density_slope(x) * d_[i] * d_[i];
  }
  // Quintic Hermite cells: exact values, slopes and curvatures at both ends. A cell's
  // interpolation error is estimated from the interpolant over the doubled cells around
  // each node, whose error at the middle node is about 64 times larger; cells where that
  // estimate exceeds 1e-13 relative (near singular ends) are marked for Newton polishing.
  std::vector<double> coarse_error(cells + 1, kInf);
  for (std::size_t m = 2; m + 2 <= cells; ++m) {
    const auto c = quintic(x_[m - 1], x_[m + 1], 2.0 * d_[m - 1], 2.0 * d_[m + 1], 4.0 * dd_[m - 1],
                           4.0 * dd_[m + 1]);
    const double mid =
        c[0] + 0.5 * (c[1] + 0.5 * (c[2] + 0.5 * (c[3] + 0.5 * (c[4] + 0.5 * c[5]))));
    coarse_error[m] = std::fabs(mid - x_[m]) / 64.0;
  }
  cells_.assign(cells, Cell{{0.0, 0.0, 0.0, 0.0, 0.0, kNaN}});
  bool finite = true;
  for (std::size_t i = 1; i + 1 < cells; ++i) {
    const double x0 = x_[i], x1 = x_[i + 1];
    finite = finite && std::isfinite(x0) && std::isfinite(x1);
    const double error =
        std::max(i > 1 ? coarse_error[i] : 0.0, i + 2 < cells ? coarse_error[i + 1] : 0.0);
    const bool ok = std::isfinite(d_[i]) && std::isfinite(d_[i + 1]) && d_[i] > 0 &&
                    d_[i + 1] > 0 && std::isfinite(dd_[i]) && std::isfinite(dd_[i + 1]) &&
                    error <= 1e-13 * std::min(std::fabs(x0), std::fabs(x1));
    if (!ok) continue;
    const auto c = quintic(x0, x1, d_[i], d_[i + 1], dd_[i], dd_[i + 1]);
    cells_[i] = Cell{{c[0], c[1], c[2], c[3], c[4], c[5]}};
  }
  tabulated_ = finite;
  if (!tabulated_) return;
  build_tail(lower_, false);
  build_tail(upper_, true);
  // Share of (0, 1) served by interpolation: the main cells between the tails' reaches,
  // and the tails' cells inside their reaches.
  double share = 0;
  for (std::size_t i = lower_.reach; i + upper_.reach < cells; ++i)
    if (i >= 1 && i + 1 < cells && !std::isnan(cells_[i].c[5])) share += h;
  for (const Tail* tail : {&lower_, &upper_}) {
    const double end = static_cast<double>(tail->reach) * h;
    for (std::size_t n = 0; n < tail->cells.size(); ++n) {
      const double w0 = tail_node(n), w1 = std::min(tail_node(n + 1), end);
      if (w0 < end && !std::isnan(tail->cells[n].c[5])) share += w1 - w0;
    }
  }
  interpolated_ = share;
}

void QuantileFunction::build_tail(Tail& tail, bool upper) {
  // The main cells this tail takes over: those from its end of (0, 1) up to the first
  // interpolated one, as far as 2^kTailTop.
  const std::size_t most = kCells >> -kTailTop;
  std::size_t reach = 1;
  while (reach < most) {
    const std::size_t i = upper ? kCells - 1 - reach : reach;
    if (!std::isnan(cells_[i].c[5])) break;
    ++reach;
  }
  const std::size_t nodes = kTailNodes + 1;
  tail.x.assign(nodes, kNaN);
  tail.dx.assign(nodes, kNaN);
  tail.ddx.assign(nodes, kNaN);
  const double sign = upper ? -1.0 : 1.0;
  const double end = static_cast<double>(reach) / static_cast<double>(kCells);
  for (std::size_t n = 0; n < nodes; ++n) {
    const double w = tail_node(n);
    if (w > end) break;
    double x = kNaN;
    if (n > 0 && std::isfinite(tail.x[n - 1]) && std::isfinite(tail.dx[n - 1])) {
      // Newton on the tail probability from the previous node's tangent, kept between the
      // previous node and the end of the support.
      double lo = upper ? 0.0 : tail.x[n - 1];
      double hi = upper ? tail.x[n - 1] : (gamma_ ? kInf : 1.0);
      x = std::clamp(tail.x[n - 1] + (w - tail_node(n - 1)) * tail.dx[n - 1], lo, hi);
      for (int step = 0;; ++step) {
        const double c = cdf(x, upper), f = pdf(x);
        if (step == 12 || !std::isfinite(c) || !(f > 0) || !std::isfinite(f)) {
          x = kNaN;
          break;
        }
        ((c < w) != upper ? lo : hi) = x;
        const double delta = sign * (c - w) / f;
        const double next = x - delta;
        if (!(next >= lo && next <= hi)) {
          x = kNaN;
          break;
        }
        x = next;
        if (newton_done(x, delta)) break;
      }
    }
    if (std::isnan(x)) x = exact_tail(w, upper);
    // The node where the tail meets the main table takes the main table's value, so the
    // two join without a step.
    if (w == end) x = x_[upper ? kCells - reach : reach];
    const double f = pdf(x);
    tail.x[n] = x;
    tail.dx[n] = sign / f;
    tail.ddx[n] = -log_density_slope(x) * tail.dx[n] * tail.dx[n];
  }
  // Cells as in the main table: quintic Hermite, marked for polishing where the estimate
  // from doubled cells exceeds 1e-13 relative.
  std::vector<double> error(nodes, kInf);
  for (std::size_t m = 1; m + 1 < nodes; ++m) {
    const double w0 = tail_node(m - 1), w1 = tail_node(m + 1), width = w1 - w0;
    const auto c =
        quintic(tail.x[m - 1], tail.x[m + 1], width * tail.dx[m - 1], width * tail.dx[m + 1],
                width * width * tail.ddx[m - 1], width * width * tail.ddx[m + 1]);
    const double s = (tail_node(m) - w0) / width;
    const double mid = c[0] + s * (c[1] + s * (c[2] + s * (c[3] + s * (c[4] + s * c[5]))));
    error[m] = std::fabs(mid - tail.x[m]) / 64.0;
  }
  tail.cells.assign(kTailNodes, Cell{{0.0, 0.0, 0.0, 0.0, 0.0, kNaN}});
  for (std::size_t n = 0; n < kTailNodes; ++n) {
    const double x0 = tail.x[n], x1 = tail.x[n + 1];
    const double width = tail_node(n + 1) - tail_node(n);
    const double e = std::max(n > 0 ? error[n] : 0.0, n + 2 < nodes ? error[n + 1] : 0.0);
    const bool ok = std::isfinite(x0) && std::isfinite(x1) && std::isfinite(tail.dx[n]) &&
                    std::isfinite(tail.dx[n + 1]) && std::isfinite(tail.ddx[n]) &&
                    std::isfinite(tail.ddx[n + 1]) &&
                    e <= 1e-13 * std::min(std::fabs(x0), std::fabs(x1));
    if (!ok) continue;
    const auto c = quintic(x0, x1, width * tail.dx[n], width * tail.dx[n + 1],
                           width * width * tail.ddx[n], width * width * tail.ddx[n + 1]);
    tail.cells[n] = Cell{{c[0], c[1], c[2], c[3], c[4], c[5]}};
  }
  tail.reach = reach;
}

double QuantileFunction::tail_value(const Tail& tail, bool upper, double w) const {
  std::size_t n;
  double s;
  if (!tail_index(w, n, s) || n >= tail.cells.size()) return kNaN;
  const Cell& c = tail.cells[n];
  if (!std::isnan(c.c[5]))
    return c.c[0] + s * (c.c[1] + s * (c.c[2] + s * (c.c[3] + s * (c.c[4] + s * c.c[5]))));
  // Newton on the exact tail probability inside the cell's nodes.
  const double x0 = tail.x[n], x1 = tail.x[n + 1];
  if (!std::isfinite(x0) || !std::isfinite(x1)) return kNaN;
  return newton_in_cell(x0 + s * (x1 - x0), x0, x1, w, upper);
}

double QuantileFunction::newton_in_cell(double x, double x0, double x1, double target,
                                        bool upper) const {
  // The true quantile lies between the cell's nodes, so every step is kept there.
  const double lo = std::min(x0, x1), hi = std::max(x0, x1);
  x = std::clamp(x, lo, hi);
  for (int step = 0; step < 8; ++step) {
    const double c = cdf(x, upper), f = pdf(x);
    if (!std::isfinite(c) || !(f > 0) || !std::isfinite(f)) return kNaN;
    const double delta = (upper ? -1.0 : 1.0) * (c - target) / f;
    const double next = std::clamp(x - delta, lo, hi);
    const bool done = newton_done(next, delta);
    x = next;
    if (done) break;
  }
  return x;
}

double QuantileFunction::cdf(double x, bool upper) const {
  return no_throw([&] {
    if (gamma_)
      return upper ? boost::math::gamma_q(a_, x, Policy()) : boost::math::gamma_p(a_, x, Policy());
    return upper ? boost::math::ibetac(a_, b_, x, Policy())
                 : boost::math::ibeta(a_, b_, x, Policy());
  });
}

double QuantileFunction::exact_tail(double w, bool upper) const {
  if (!upper) return standard(w);
  const double x = no_throw([&] {
    return gamma_ ? boost::math::gamma_q_inv(a_, w, Policy())
                  : boost::math::ibetac_inv(a_, b_, w, Policy());
  });
  return std::isnan(x) ? standard(1.0 - w) : x;
}

std::array<double, 6> QuantileFunction::quintic(double x0, double x1, double m0, double m1,
                                                double a0, double a1) {
  // p(s) = sum c_k s^k on [0, 1] with p, p', p'' equal to (x0, m0, a0) at 0 and (x1, m1,
  // a1) at 1.
  const double r0 = x1 - x0 - m0 - 0.5 * a0, r1 = m1 - m0 - a0, r2 = a1 - a0;
  return {x0,
          m0,
          0.5 * a0,
          10.0 * r0 - 4.0 * r1 + 0.5 * r2,
          -15.0 * r0 + 7.0 * r1 - r2,
          6.0 * r0 - 3.0 * r1 + 0.5 * r2};
}

double QuantileFunction::log_density_slope(double x) const {
  return gamma_ ? (a_ - 1.0) / x - 1.0 : (a_ - 1.0) / x - (b_ - 1.0) / (1.0 - x);
}

double QuantileFunction::standard(double u) const {
  return gamma_ ? gamma_inv(a_, u) : beta_inv(a_, b_, u);
}

double QuantileFunction::pdf(double x) const {
  return no_throw([&] {
    return gamma_ ? boost::math::gamma_p_derivative(a_, x, Policy())
                  : boost::math::ibeta_derivative(a_, b_, x, Policy());
  });
}

double QuantileFunction::polish(double u, std::size_t i, double s) const {
  // Newton on the exact CDF from the Hermite value.
  const double x0 = x_[i], x1 = x_[i + 1];
  const auto c = quintic(x0, x1, d_[i], d_[i + 1], dd_[i], dd_[i + 1]);
  double x = c[0] + s * (c[1] + s * (c[2] + s * (c[3] + s * (c[4] + s * c[5]))));
  if (!std::isfinite(x)) x = x0 + s * (x1 - x0);
  x = newton_in_cell(x, x0, x1, u, false);
  return std::isnan(x) ? standard(u) : x;
}

bool QuantileFunction::newton_done(double x, double delta) const {
  // A Newton step's own error is about |g| / 2 * delta^2, g = f'(x) / f(x) the
  // log-derivative of the density: once that is below rounding the step was the last one.
  const double g = log_density_slope(x);
  return std::fabs(g) * delta * delta <= 2e-16 * std::fabs(x) ||
         std::fabs(delta) <= 1e-15 * std::fabs(x);
}

double QuantileFunction::slow(double u) const {
  if (!tabulated_) return quantile(kind_, p_, table_, u);
  const double t = u * static_cast<double>(kCells);
  double x = kNaN;
  if (u > 0 && u < 1) {
    // Near an end: the tail's octave cells (u >= 1/2 makes 1 - u exact).
    const auto i = static_cast<std::size_t>(t);
    if (i < lower_.reach) x = tail_value(lower_, false, u);
    if (i + upper_.reach >= kCells) x = tail_value(upper_, true, 1.0 - u);
  }
  if (!std::isnan(x)) {
    // served by a tail
  } else if (!(u > 0 && u < 1) || !(t >= 1.0 && t < static_cast<double>(kCells - 1))) {
    x = standard(u);  // the ends beyond the tails' cells: the solver
  } else {
    const auto i = static_cast<std::size_t>(t);
    const double s = t - static_cast<double>(i);
    const Cell& c = cells_[i];
    if (std::isnan(c.c[5])) {
      x = polish(u, i, s);
    } else {
      x = c.c[0] + s * (c.c[1] + s * (c.c[2] + s * (c.c[3] + s * (c.c[4] + s * c.c[5]))));
    }
  }
  if (gamma_) return x * scale_;
  return std::clamp(lo_ + scale_ * x, lo_, lo_ + scale_);
}

double draw(DistKind kind, std::span<const double> p, const DistTable* table, Stream& stream) {
  // The normal is the hot path of most models: checked inline, then AS241 on one uniform,
  // without the register saves the other samplers' frame would cost.
  if (kind == DistKind::kNormal) {
    if (p.size() != 2 || !std::isfinite(p[0]) || !std::isfinite(p[1]) || !(p[1] >= 0.0)) {
      return kNaN;
    }
    return p[0] + p[1] * as241(stream.u01());
  }
  return draw_other(kind, p, table, stream);
}

double dist_mean(DistKind kind, std::span<const double> p, const DistTable* table) {
  if (!params_ok(kind, p)) return kNaN;
  switch (kind) {
    case DistKind::kNormal:
      return p[0];
    case DistKind::kLogNormal:
      return std::exp(p[0] + 0.5 * p[1] * p[1]);
    case DistKind::kUniform:
      return 0.5 * (p[0] + p[1]);
    case DistKind::kTriangular:
      return (p[0] + p[1] + p[2]) / 3.0;
    case DistKind::kPert:
      return (p[0] + p[3] * p[1] + p[2]) / (p[3] + 2.0);
    case DistKind::kBeta:
      return p[2] + (p[3] - p[2]) * p[0] / (p[0] + p[1]);
    case DistKind::kGamma:
      return p[0] * p[1];
    case DistKind::kTruncNormal: {
      double mean, var;
      truncnormal_moments(p, mean, var);
      return mean;
    }
    case DistKind::kDiscrete:
    case DistKind::kEmpirical: {
      if (!table_ok(kind, table)) return kNaN;
      const auto& v = table->values;
      double sum = 0.0;
      double prev = 0.0;
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (kind == DistKind::kDiscrete) {
          sum += v[i] * (table->cumulative[i] - prev);
          prev = table->cumulative[i];
        } else {
          sum += v[i];
        }
      }
      return kind == DistKind::kDiscrete ? sum : sum / static_cast<double>(v.size());
    }
    case DistKind::kPoisson:
      return p[0];
    case DistKind::kBinomial:
      return binomial_n(p[0]) * p[1];
    case DistKind::kBernoulli:
      return p[0];
  }
  return kNaN;
}

double dist_variance(DistKind kind, std::span<const double> p, const DistTable* table) {
  if (!params_ok(kind, p)) return kNaN;
  switch (kind) {
    case DistKind::kNormal:
      return p[1] * p[1];
    case DistKind::kLogNormal: {
      const double s2 = p[1] * p[1];
      return std::expm1(s2) * std::exp(2.0 * p[0] + s2);
    }
    case DistKind::kUniform:
      return (p[1] - p[0]) * (p[1] - p[0]) / 12.0;
    case DistKind::kTriangular: {
      const double a = p[0], c = p[1], b = p[2];
      return (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0;
    }
    case DistKind::kPert:
    case DistKind::kBeta: {
      double alpha, beta, width;
      if (kind == DistKind::kPert) {
        width = p[2] - p[0];
        alpha = 1.0 + p[3] * (p[1] - p[0]) / width;
        beta = 1.0 + p[3] * (p[2] - p[1]) / width;
      } else {
        alpha = p[0];
        beta = p[1];
        width = p[3] - p[2];
      }
      const double s = alpha + beta;
      return width * width * alpha * beta / (s * s * (s + 1.0));
    }
    case DistKind::kGamma:
      return p[0] * p[1] * p[1];
    case DistKind::kTruncNormal: {
      double mean, var;
      truncnormal_moments(p, mean, var);
      return var;
    }
    case DistKind::kDiscrete:
    case DistKind::kEmpirical: {
      if (!table_ok(kind, table)) return kNaN;
      const double mean = dist_mean(kind, p, table);
      const auto& v = table->values;
      double sum = 0.0;
      double prev = 0.0;
      for (std::size_t i = 0; i < v.size(); ++i) {
        const double d = v[i] - mean;
        if (kind == DistKind::kDiscrete) {
          sum += d * d * (table->cumulative[i] - prev);
          prev = table->cumulative[i];
        } else {
          sum += d * d;
        }
      }
      return kind == DistKind::kDiscrete ? sum : sum / static_cast<double>(v.size());
    }
    case DistKind::kPoisson:
      return p[0];
    case DistKind::kBinomial:
      return binomial_n(p[0]) * p[1] * (1.0 - p[1]);
    case DistKind::kBernoulli:
      return p[0] * (1.0 - p[0]);
  }
  return kNaN;
}

}  // namespace attain
