// The table of distributions (distribution_rows.hpp): names, parameters, messages, moments.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

#include "attain/distributions.hpp"
#include "distribution_rows.hpp"

namespace attain {
namespace {

using namespace detail;  // NOLINT(google-build-using-namespace)

// Shortest text that reads back as the same double ("-1", "1.5", "inf", "nan").
std::string num(double x) {
  std::array<char, 32> buf{};
  auto res = std::to_chars(buf.data(), buf.data() + buf.size(), x);
  return std::string(buf.data(), res.ptr);
}

std::string count_message(DistKind kind, std::size_t got_count) {
  const int count = param_count(kind);
  if (count < 0) return "unknown distribution kind";
  const std::string got = " (got " + std::to_string(got_count) + ")";
  if (count == 0) {
    return std::string(dist_name(kind)) + " takes no numeric parameters, only a table" + got;
  }
  return std::string(dist_name(kind)) + " takes " + std::to_string(count) + " parameters" + got;
}

}  // namespace

int param_count(DistKind kind) {
  const auto i = static_cast<std::size_t>(kind);
  return i < kParamCounts.size() ? static_cast<int>(kParamCounts[i]) : -1;
}

std::span<const DistParam> dist_params(DistKind kind) {
  return visit_row(
      kind, []<class D>() { return std::span<const DistParam>(D::params); },
      std::span<const DistParam>());
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
    return std::string(dist_params(kind)[problem.index].key) + " must " + std::string(rule) +
           " (got " + num(p[problem.index]) + ")";
  };
  switch (problem.rule) {
    case Rule::kOk:
      return std::nullopt;
    case Rule::kCount:
      return count_message(kind, p.size());
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

double dist_mean(DistKind kind, std::span<const double> p, const DistTable* table) {
  if (!detail::params_ok(kind, p) || !detail::table_ok(kind, table)) return kNaN;
  return visit_row(
      kind, [&]<class D>() { return D::mean(p, table); }, kNaN);
}

double dist_variance(DistKind kind, std::span<const double> p, const DistTable* table) {
  if (!detail::params_ok(kind, p) || !detail::table_ok(kind, table)) return kNaN;
  return visit_row(
      kind, [&]<class D>() { return D::variance(p, table); }, kNaN);
}

}  // namespace attain
