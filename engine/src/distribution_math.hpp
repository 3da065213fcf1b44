// Numerical building blocks of the distributions (distributions.cpp), for the table of
// distributions (distribution_rows.hpp). Internal to the engine.
#pragma once

#include <boost/math/policies/policy.hpp>
#include <cmath>
#include <limits>
#include <span>

#include "attain/distributions.hpp"

namespace attain::detail {

namespace bmp = boost::math::policies;

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr double kInf = std::numeric_limits<double>::infinity();

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

// Boost 1.74's root finders (inside ibeta_inv and gamma_p_inv) report "no root found"
// through the default, throwing policy whatever policy the caller passes; this happens
// e.g. for ibeta_inv(4.6, 1.4, 1e-150), whose answer (about 1e-33) is representable.
// Every Boost call goes through these wrappers, so no exception leaves the distributions: a failed
// inverse falls back to bisection on the forward function, a failed forward call is NaN.
template <class F>
double no_throw(F f) {
  try {
    return f();
  } catch (...) {
    return std::numeric_limits<double>::quiet_NaN();
  }
}

double beta_inv(double a, double b, double u);  ///< x with I_x(a, b) = u
double gamma_inv(double a, double u);           ///< x with P(a, x) = u
double truncnormal_quantile(std::span<const double> p, double u);
void truncnormal_moments(std::span<const double> p, double& mean, double& var);
double poisson_quantile(double rate, double u);
double binomial_quantile(double n, double prob, double u);

/// The binomial n as an integer; the reader may hand over 10.000000000001 from arithmetic.
inline double binomial_n(double n) {
  return std::round(n);
}

/// True when `p` suits `kind` (check_params() without the message).
bool params_ok(DistKind kind, std::span<const double> p);
/// True when a table-based kind has its table (other kinds: true).
bool table_ok(DistKind kind, const DistTable* table);
/// Inverse CDF for parameters (and table) already known to be valid.
double quantile_unchecked(DistKind kind, std::span<const double> p, const DistTable* table,
                          double u);

}  // namespace attain::detail
