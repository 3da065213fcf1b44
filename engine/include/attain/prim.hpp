// PRIM (Patient Rule Induction Method) for scenario discovery: the box of input space
// where an outcome of interest is most frequent (Friedman & Fisher 1999; Bryant &
// Lempert 2010; EMA Workbench's ema_workbench.analysis.prim).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attain {

/// Settings of a PRIM run. All fractions are of points, not of volume.
struct PrimOptions {
  double alpha = 0.05;  ///< peel: the share of the box's points one peel removes, in (0, 0.5)
  /// Paste: the share of the box's points one paste adds back, in [0, 1); 0: no pasting.
  double paste_alpha = 0.05;
  double mass_min =
      0.05;  ///< peeling stops before the box holds fewer than this share of all points
  /// The box chosen on the trajectory (see prim()): the densest box holding at least this
  /// share of all y = 1 points, in [0, 1].
  double min_coverage = 0.5;
  int box = -1;  ///< >= 0: choose this trajectory index instead (clamped to the last box)
};

/// @brief A box: the points i with lower[d] <= columns[d][i] <= upper[d] for every d.
/// Its limits are always values of the data (the data's minimum and maximum on a side
/// it does not restrict), so membership is exact and needs no tolerance.
struct PrimBox {
  std::vector<double> lower, upper;  ///< one per dimension
  double mass = 0;                   ///< points / all points
  double coverage = 0;               ///< hits / all y = 1 points
  double density = 0;                ///< hits / points
  int restricted = 0;                ///< dimensions whose limits are narrower than the data's
  std::uint64_t points = 0;          ///< points inside
  std::uint64_t hits = 0;            ///< y = 1 points inside
};

/// One restricted dimension of a box.
struct PrimDimension {
  int dim = 0;       ///< index into the columns
  std::string name;  ///< names[dim] when names were given, else empty
  double lower = 0, upper = 0;
  bool lower_restricted = false;  ///< lower is above the data's minimum
  bool upper_restricted = false;  ///< upper is below the data's maximum
  /// One-sided binomial P(X >= hits), X ~ Binomial(points, p), p the density of the box
  /// with this dimension's restriction removed: small when the restriction really raises
  /// the density (EMA Workbench's _calculate_quasi_p). "Quasi": the box was fitted to the
  /// same data, so this is a guide, not a test.
  double quasi_p = 1;
};

/// What prim() found.
struct PrimResult {
  /// The peeling trajectory: the whole data first, then one box per peel. Mass falls and
  /// density rises strictly along it.
  std::vector<PrimBox> trajectory;
  int chosen = -1;  ///< index of the chosen trajectory box; -1 when there is none
  PrimBox box;      ///< the chosen box after pasting: the answer
  int pastes = 0;   ///< pastes accepted
  /// Restricted dimensions of `box`, by quasi_p ascending (ties: lower index first).
  std::vector<PrimDimension> restricted;
  std::vector<double> data_lower, data_upper;  ///< the data's limits per dimension
  /// Empty when a box was found; otherwise why not: "no points", "the outcome never
  /// occurs" (no box), or "the outcome always occurs" (the box is the whole data).
  std::string reason;
};

/// @brief Finds the box where y = 1 is most frequent, by peeling and then pasting.
///
/// `columns[d][i]` is dimension d of point i (column-major, all columns of y.size()
/// values); `y[i]` is 1 for the case of interest (e.g. "the target is met"), else 0;
/// `names`, empty or one per column, only labels `PrimResult::restricted`.
///
/// Peeling (Friedman & Fisher's original objective): from the box of all points, each
/// step tries, for every dimension and side, removing the box's ceil(alpha m) points
/// lowest (highest) on that dimension, together with any tied with the last of them (m:
/// points in the box; a peel removing all points is no candidate). It takes the candidate
/// leaving the highest density; ties go to more points left, then the lower dimension,
/// then the lower side. It stops when that candidate would leave less than mass_min of
/// all points or would not raise the density.
///
/// Choice: options.box when >= 0, else the trajectory box of highest density among those
/// with coverage >= min_coverage (ties: higher coverage, then earlier).
///
/// Pasting (Friedman & Fisher section 8): each step tries, for every restricted limit,
/// adding back the ceil(paste_alpha m) points nearest outside it (with ties) among the
/// points inside all other limits; it takes the one raising the density most, and stops
/// when none raises it strictly.
///
/// Every count is an integer and every comparison exact, so the result depends only on
/// the set of points, not their order. Throws std::invalid_argument on NaN, a y other
/// than 0 or 1, mismatched sizes, more than 2^32 - 1 points, or options out of range.
///
/// Cost: one radix sort per dimension and 12 bytes per value (sorted order and values),
/// then about 2 alpha n d steps per peel; a column with long runs of tied values costs up
/// to n per peel, as a peel takes a run whole. 1e5 points x 50 dimensions: about 0.3 s.
PrimResult prim(const std::vector<std::vector<double>>& columns, const std::vector<std::uint8_t>& y,
                const PrimOptions& options = {}, const std::vector<std::string>& names = {});

/// @brief The restricted dimensions of `box` over the same data, with their quasi
/// p-values, by quasi_p ascending (ties: lower index first). `box` needs only its limits.
std::vector<PrimDimension> prim_dimensions(const std::vector<std::vector<double>>& columns,
                                           const std::vector<std::uint8_t>& y, const PrimBox& box,
                                           const std::vector<std::string>& names = {});

}  // namespace attain
