// The table of distributions: each one's parameters, checks, inverse CDF and moments,
// declared once as a row (a struct named after its ATTAIN_DISTRIBUTIONS id), and the
// dispatch over the rows. Included by distributions.cpp (the inverse CDFs, which inline
// the numerics there) and distribution_table.cpp (names, messages, moments).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <span>
#include <string_view>

#include "attain/distributions.hpp"
#include "distribution_math.hpp"

namespace attain::detail {

// Largest binomial n: above 2^53 doubles skip whole numbers, and Boost's incomplete beta
// function at such n ran for hours (a shock whose n grew without bound hung a run).
inline constexpr double kMaxExactInteger = 0x1p53;

using Params = std::span<const double>;

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

struct Problem {
  Rule rule = Rule::kOk;
  std::size_t index = 0;
  std::size_t other = 0;
  explicit operator bool() const { return rule != Rule::kOk; }
};

// The first parameter that is not finite.
inline Problem not_finite(Params p) {
  for (std::size_t i = 0; i < p.size(); ++i)
    if (!std::isfinite(p[i])) return {Rule::kFinite, i};
  return {};
}

inline Problem min_below_max(Params p, std::size_t lo, std::size_t hi) {
  return p[lo] < p[hi] ? Problem{} : Problem{Rule::kMinBelowMax, lo, hi};
}

inline Problem positive(Params p, std::size_t i) {
  return p[i] > 0.0 ? Problem{} : Problem{Rule::kPositive, i};
}

inline Problem non_negative(Params p, std::size_t i) {
  return p[i] >= 0.0 ? Problem{} : Problem{Rule::kNonNegative, i};
}

inline Problem probability(Params p, std::size_t i) {
  return p[i] >= 0.0 && p[i] <= 1.0 ? Problem{} : Problem{Rule::kProbability, i};
}

// The first problem of `problems` (evaluated in order), or none.
template <class... P>
[[gnu::always_inline]] inline Problem first_of(P... problems) {
  Problem found;
  ((found = found ? found : problems()), ...);
  return found;
}

// ---- The rows -------------------------------------------------------------------------
// Each row: `params` (keys in model files, in the order of p; the reader fills absent
// optional ones with their fallback), `check` (the first rule p breaks, count already
// checked), `quantile` (for valid p), `mean` and `variance` (for valid p and table).

struct Normal {
  static constexpr std::array<DistParam, 2> params{{{"mean"}, {"sd"}}};
  static Problem check(Params p) {
    return first_of([&] { return not_finite(p); }, [&] { return non_negative(p, 1); });
  }
  static double quantile(Params p, const DistTable*, double u) {
    return p[0] + p[1] * normal_quantile(u);
  }
  static double mean(Params p, const DistTable*) { return p[0]; }
  static double variance(Params p, const DistTable*) { return p[1] * p[1]; }
};

struct LogNormal {
  static constexpr std::array<DistParam, 2> params{{{"meanlog"}, {"sdlog"}}};
  static Problem check(Params p) { return Normal::check(p); }
  static double quantile(Params p, const DistTable*, double u) {
    return std::exp(p[0] + p[1] * normal_quantile(u));
  }
  static double mean(Params p, const DistTable*) { return std::exp(p[0] + 0.5 * p[1] * p[1]); }
  static double variance(Params p, const DistTable*) {
    const double s2 = p[1] * p[1];
    return std::expm1(s2) * std::exp(2.0 * p[0] + s2);
  }
};

struct Uniform {
  static constexpr std::array<DistParam, 2> params{{{"min"}, {"max"}}};
  static Problem check(Params p) {
    return first_of([&] { return not_finite(p); }, [&] { return min_below_max(p, 0, 1); });
  }
  static double quantile(Params p, const DistTable*, double u) {
    return std::min(p[1], p[0] + u * (p[1] - p[0]));
  }
  static double mean(Params p, const DistTable*) { return 0.5 * (p[0] + p[1]); }
  static double variance(Params p, const DistTable*) {
    return (p[1] - p[0]) * (p[1] - p[0]) / 12.0;
  }
};

// min < max, then min <= mode <= max.
inline Problem mode_in_range(Params p) {
  if (!(p[0] < p[2])) return {Rule::kMinBelowMax, 0, 2};
  if (!(p[0] <= p[1] && p[1] <= p[2])) return {Rule::kModeInRange, 1};
  return {};
}

struct Triangular {
  static constexpr std::array<DistParam, 3> params{{{"min"}, {"mode"}, {"max"}}};
  static Problem check(Params p) {
    return first_of([&] { return not_finite(p); }, [&] { return mode_in_range(p); });
  }
  static double quantile(Params p, const DistTable*, double u) {
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
  static double mean(Params p, const DistTable*) { return (p[0] + p[1] + p[2]) / 3.0; }
  static double variance(Params p, const DistTable*) {
    const double a = p[0], c = p[1], b = p[2];
    return (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0;
  }
};

// Variance of a beta with shape alpha, beta on an interval of `width`.
inline double beta_variance(double alpha, double beta, double width) {
  const double s = alpha + beta;
  return width * width * alpha * beta / (s * s * (s + 1.0));
}

struct Pert {
  static constexpr std::array<DistParam, 4> params{
      {{"min"}, {"mode"}, {"max"}, {"lambda", true, 4.0}}};
  static Problem check(Params p) {
    return first_of([&] { return not_finite(p); }, [&] { return mode_in_range(p); },
                    [&] { return non_negative(p, 3); });
  }
  // The beta shapes of the PERT on [min, max].
  static double alpha(Params p) { return 1.0 + p[3] * (p[1] - p[0]) / (p[2] - p[0]); }
  static double beta(Params p) { return 1.0 + p[3] * (p[2] - p[1]) / (p[2] - p[0]); }
  static double quantile(Params p, const DistTable*, double u) {
    const double lo = p[0], hi = p[2];
    const double width = hi - lo;
    const double x = detail::beta_inv(alpha(p), beta(p), u);
    return std::clamp(lo + width * x, lo, hi);
  }
  static double mean(Params p, const DistTable*) {
    return (p[0] + p[3] * p[1] + p[2]) / (p[3] + 2.0);
  }
  static double variance(Params p, const DistTable*) {
    return beta_variance(alpha(p), beta(p), p[2] - p[0]);
  }
};

struct Beta {
  static constexpr std::array<DistParam, 4> params{
      {{"alpha"}, {"beta"}, {"min", true, 0.0}, {"max", true, 1.0}}};
  static Problem check(Params p) {
    return first_of([&] { return not_finite(p); }, [&] { return positive(p, 0); },
                    [&] { return positive(p, 1); }, [&] { return min_below_max(p, 2, 3); });
  }
  static double quantile(Params p, const DistTable*, double u) {
    const double x = detail::beta_inv(p[0], p[1], u);
    return std::clamp(p[2] + (p[3] - p[2]) * x, p[2], p[3]);
  }
  static double mean(Params p, const DistTable*) {
    return p[2] + (p[3] - p[2]) * p[0] / (p[0] + p[1]);
  }
  static double variance(Params p, const DistTable*) {
    return beta_variance(p[0], p[1], p[3] - p[2]);
  }
};

struct Gamma {
  static constexpr std::array<DistParam, 2> params{{{"shape"}, {"scale"}}};
  static Problem check(Params p) {
    return first_of([&] { return not_finite(p); }, [&] { return positive(p, 0); },
                    [&] { return positive(p, 1); });
  }
  static double quantile(Params p, const DistTable*, double u) {
    return detail::gamma_inv(p[0], u) * p[1];
  }
  static double mean(Params p, const DistTable*) { return p[0] * p[1]; }
  static double variance(Params p, const DistTable*) { return p[0] * p[1] * p[1]; }
};

struct TruncNormal {
  static constexpr std::array<DistParam, 4> params{
      {{"mean"}, {"sd"}, {"min", true, -kInf}, {"max", true, kInf}}};
  // Open-ended truncation: min may be -inf, max +inf.
  static Problem ends(Params p) {
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (std::isfinite(p[i])) continue;
      if (i == 2 && p[i] != -kInf) return {Rule::kFiniteOrMinusInf, i};
      if (i == 3 && p[i] != kInf) return {Rule::kFiniteOrPlusInf, i};
      if (i < 2) return {Rule::kFinite, i};
    }
    return {};
  }
  static Problem check(Params p) {
    return first_of([&] { return ends(p); }, [&] { return positive(p, 1); },
                    [&] { return min_below_max(p, 2, 3); });
  }
  static double quantile(Params p, const DistTable*, double u) {
    return detail::truncnormal_quantile(p, u);
  }
  static double mean(Params p, const DistTable*) {
    double mean, var;
    detail::truncnormal_moments(p, mean, var);
    return mean;
  }
  static double variance(Params p, const DistTable*) {
    double mean, var;
    detail::truncnormal_moments(p, mean, var);
    return var;
  }
};

// Mean (power 1) or the second moment about `center` (power 2) of a table's values, each
// with its probability (discrete) or equally likely (empirical).
inline double table_moment(const DistTable& t, bool weighted, double center, int power) {
  const auto& v = t.values;
  double sum = 0.0;
  double prev = 0.0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double d = power == 1 ? v[i] : (v[i] - center) * (v[i] - center);
    if (weighted) {
      sum += d * (t.cumulative[i] - prev);
      prev = t.cumulative[i];
    } else {
      sum += d;
    }
  }
  return weighted ? sum : sum / static_cast<double>(v.size());
}

struct Discrete {
  static constexpr std::array<DistParam, 0> params{};
  static Problem check(Params) { return {}; }
  static double quantile(Params, const DistTable* table, double u) {
    const auto& cum = table->cumulative;
    const auto it = std::lower_bound(cum.begin(), cum.end(), u);
    const auto i = std::min<std::size_t>(it - cum.begin(), cum.size() - 1);
    return table->values[i];
  }
  static double mean(Params, const DistTable* t) { return table_moment(*t, true, 0.0, 1); }
  static double variance(Params p, const DistTable* t) {
    return table_moment(*t, true, mean(p, t), 2);
  }
};

struct Empirical {
  static constexpr std::array<DistParam, 0> params{};
  static Problem check(Params) { return {}; }
  static double quantile(Params, const DistTable* table, double u) {
    const std::size_t n = table->values.size();
    const double pos = std::floor(u * static_cast<double>(n));
    const std::size_t i = pos <= 0.0 ? 0 : std::min(n - 1, static_cast<std::size_t>(pos));
    return table->values[i];
  }
  static double mean(Params, const DistTable* t) { return table_moment(*t, false, 0.0, 1); }
  static double variance(Params p, const DistTable* t) {
    return table_moment(*t, false, mean(p, t), 2);
  }
};

struct Poisson {
  static constexpr std::array<DistParam, 1> params{{{"rate"}}};
  static Problem check(Params p) {
    return first_of([&] { return not_finite(p); }, [&] { return non_negative(p, 0); });
  }
  static double quantile(Params p, const DistTable*, double u) {
    return detail::poisson_quantile(p[0], u);
  }
  static double mean(Params p, const DistTable*) { return p[0]; }
  static double variance(Params p, const DistTable*) { return p[0]; }
};

struct Binomial {
  static constexpr std::array<DistParam, 2> params{{{"n"}, {"p"}}};
  static Problem whole_n(Params p) {
    const double n = binomial_n(p[0]);
    if (!(n >= 0.0 && std::abs(p[0] - n) <= 1e-9)) return {Rule::kNonNegativeInteger, 0};
    if (n > kMaxExactInteger) return {Rule::kExactInteger, 0};
    return {};
  }
  static Problem check(Params p) {
    return first_of([&] { return not_finite(p); }, [&] { return whole_n(p); },
                    [&] { return probability(p, 1); });
  }
  static double quantile(Params p, const DistTable*, double u) {
    return detail::binomial_quantile(binomial_n(p[0]), p[1], u);
  }
  static double mean(Params p, const DistTable*) { return binomial_n(p[0]) * p[1]; }
  static double variance(Params p, const DistTable*) {
    return binomial_n(p[0]) * p[1] * (1.0 - p[1]);
  }
};

struct Bernoulli {
  static constexpr std::array<DistParam, 1> params{{{"p"}}};
  static Problem check(Params p) {
    return first_of([&] { return not_finite(p); }, [&] { return probability(p, 0); });
  }
  static double quantile(Params p, const DistTable*, double u) {
    return u > 1.0 - p[0] ? 1.0 : 0.0;
  }
  static double mean(Params p, const DistTable*) { return p[0]; }
  static double variance(Params p, const DistTable*) { return p[0] * (1.0 - p[0]); }
};

// ---- Dispatch over the rows -------------------------------------------------------------

/// f.template operator()<Row>() for the row of `kind`; `fallback` for an unknown kind.
template <class F, class R>
[[gnu::always_inline]] inline R visit_row(DistKind kind, F&& f, R fallback) {
  switch (kind) {
#define ATTAIN_DIST_CASE(id, name) \
  case DistKind::k##id:            \
    return f.template operator()<id>();
    ATTAIN_DISTRIBUTIONS(ATTAIN_DIST_CASE)
#undef ATTAIN_DIST_CASE
  }
  return fallback;
}

inline constexpr std::array<std::string_view, kDistKinds.size()> kNames = {
#define ATTAIN_DIST_NAME(id, name) name,
    ATTAIN_DISTRIBUTIONS(ATTAIN_DIST_NAME)
#undef ATTAIN_DIST_NAME
};

inline bool is_table_kind(DistKind kind) {
  return kind == DistKind::kDiscrete || kind == DistKind::kEmpirical;
}

/// Number of numeric parameters of each kind, by DistKind.
inline constexpr std::array<std::size_t, kDistKinds.size()> kParamCounts = {
#define ATTAIN_DIST_COUNT(id, name) id::params.size(),
    ATTAIN_DISTRIBUTIONS(ATTAIN_DIST_COUNT)
#undef ATTAIN_DIST_COUNT
};

inline Problem find_problem(DistKind kind, Params p) {
  const auto i = static_cast<std::size_t>(kind);
  if (i >= kParamCounts.size() || p.size() != kParamCounts[i]) return {Rule::kCount};
  return visit_row(
      kind, [&]<class D>() { return D::check(p); }, Problem{Rule::kCount});
}

}  // namespace attain::detail
