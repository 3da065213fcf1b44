// Probability distributions: the numerics behind the table of distributions
// (distribution_rows.hpp): normal, beta, gamma, Poisson and binomial inverse CDFs,
// tabulated quantile functions and samplers.
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

#include "distribution_rows.hpp"

namespace attain {
namespace {

using namespace detail;  // NOLINT(google-build-using-namespace)

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

}  // namespace
namespace detail {

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
}  // namespace detail
namespace {

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

}  // namespace
namespace detail {

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
}  // namespace detail
namespace {

// ---- Boost.Math calls that never throw ------------------------------------------------

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

}  // namespace
namespace detail {

// x with I_x(a, b) = u.
double beta_inv(double a, double b, double u) {
  const double x = no_throw([&] { return boost::math::ibeta_inv(a, b, u, Policy()); });
  if (!std::isnan(x)) return x;
  return no_throw([&] {
    auto cdf = [&](double t) { return boost::math::ibeta(a, b, t, Policy()); };
    return bisect_quantile(cdf, u, 0.0, 1.0);
  });
}
}  // namespace detail
namespace detail {

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
}  // namespace detail
namespace {

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

}  // namespace
namespace detail {

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
}  // namespace detail
namespace {

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

}  // namespace
namespace detail {

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
}  // namespace detail
namespace {

// draw() for every kind but the normal: the inverse CDF of the stream's first word.
[[gnu::noinline]] double draw_other(DistKind kind, std::span<const double> p,
                                    const DistTable* table, Stream& stream) {
  if (!params_ok(kind, p)) return kNaN;
  if (!table_ok(kind, table)) return kNaN;
  return quantile_unchecked(kind, p, table, stream.u01());
}

}  // namespace

double normal_cdf(double x) {
  return 0.5 * std::erfc(-x * kSqrtHalf);
}

double normal_quantile(double u) {
  return as241(u);
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

namespace detail {

bool params_ok(DistKind kind, std::span<const double> p) {
  return !find_problem(kind, p);
}

bool table_ok(DistKind kind, const DistTable* table) {
  if (!is_table_kind(kind)) return true;
  if (table == nullptr || table->values.empty()) return false;
  if (kind == DistKind::kDiscrete) return table->cumulative.size() == table->values.size();
  return true;
}

double quantile_unchecked(DistKind kind, std::span<const double> p, const DistTable* table,
                          double u) {
  return visit_row(
      kind, [&]<class D>() { return D::quantile(p, table, u); }, kNaN);
}

}  // namespace detail

// Here, with the numerics, so that the checks and the rows' inverse CDFs inline into it.
double quantile(DistKind kind, std::span<const double> p, const DistTable* table, double u) {
  if (std::isnan(u) || !params_ok(kind, p)) return kNaN;
  if (!table_ok(kind, table)) return kNaN;
  return quantile_unchecked(kind, p, table, u);
}

}  // namespace attain
