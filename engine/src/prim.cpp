// PRIM for scenario discovery: peeling, the choice of a box, pasting and quasi p-values.
#include "attain/prim.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <boost/math/distributions/binomial.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace attain {
namespace {

using u64 = std::uint64_t;

/// Sign of a/b - c/d for b, d > 0, exactly: densities are compared as fractions of
/// integers, so no rounding can make the choice depend on the order of the points.
int compare_ratio(u64 a, u64 b, u64 c, u64 d) {
  const unsigned __int128 l = static_cast<unsigned __int128>(a) * d;
  const unsigned __int128 r = static_cast<unsigned __int128>(c) * b;
  return l < r ? -1 : (l > r ? 1 : 0);
}

/// ceil(fraction * m), at least 1. The small allowance keeps 0.05 * 20000 at 1000.
u64 share_of(double fraction, u64 m) {
  const double k = std::ceil(fraction * static_cast<double>(m) - 1e-9);
  return std::max<u64>(1, static_cast<u64>(k));
}

/// The data with its limits, checked.
struct Data {
  const std::vector<std::vector<double>>& columns;
  const std::vector<std::uint8_t>& y;
  std::size_t n = 0, d = 0;
  u64 total_hits = 0;
  std::vector<double> lo, hi;

  Data(const std::vector<std::vector<double>>& c, const std::vector<std::uint8_t>& yy,
       const std::vector<std::string>& names)
      : columns(c), y(yy), n(yy.size()), d(c.size()) {
    if (!names.empty() && names.size() != d)
      throw std::invalid_argument("prim: " + std::to_string(names.size()) + " names for " +
                                  std::to_string(d) + " columns; give one per column or none");
    for (std::size_t i = 0; i < n; ++i) {
      if (y[i] > 1)
        throw std::invalid_argument("prim: y[" + std::to_string(i) + "] is " +
                                    std::to_string(int{y[i]}) + "; it must be 0 or 1");
      total_hits += y[i];
    }
    lo.assign(d, std::numeric_limits<double>::quiet_NaN());
    hi = lo;
    for (std::size_t j = 0; j < d; ++j) {
      if (c[j].size() != n)
        throw std::invalid_argument("prim: column " + std::to_string(j) + " has " +
                                    std::to_string(c[j].size()) + " values; y has " +
                                    std::to_string(n));
      for (std::size_t i = 0; i < n; ++i) {
        const double v = c[j][i];
        if (std::isnan(v))
          throw std::invalid_argument("prim: column " + std::to_string(j) + ", point " +
                                      std::to_string(i) + " is NaN");
        if (i == 0 || v < lo[j]) lo[j] = v;
        if (i == 0 || v > hi[j]) hi[j] = v;
      }
    }
  }

  bool restricted(const PrimBox& b, std::size_t j) const {
    return b.lower[j] > lo[j] || b.upper[j] < hi[j];
  }

  /// Fills in mass, coverage, density and restricted from points, hits and the limits.
  void finish(PrimBox& b) const {
    b.mass = n ? static_cast<double>(b.points) / static_cast<double>(n) : 0.0;
    b.coverage = total_hits ? static_cast<double>(b.hits) / static_cast<double>(total_hits) : 0.0;
    b.density = b.points ? static_cast<double>(b.hits) / static_cast<double>(b.points) : 0.0;
    b.restricted = 0;
    for (std::size_t j = 0; j < d; ++j) b.restricted += restricted(b, j) ? 1 : 0;
  }
};

/// Restricted dimensions of `box` (whose limits are set) with quasi p-values; sets the
/// box's points and hits. One pass: a point outside exactly one restricted dimension u
/// lies in the box with u's restriction removed. Unrestricted limits hold every point.
std::vector<PrimDimension> dimensions_of(const Data& data, PrimBox& box,
                                         const std::vector<std::string>& names) {
  std::vector<int> dims;
  for (std::size_t j = 0; j < data.d; ++j)
    if (data.restricted(box, j)) dims.push_back(static_cast<int>(j));
  std::vector<u64> points(dims.size(), 0), hits(dims.size(), 0);
  box.points = box.hits = 0;
  for (std::size_t i = 0; i < data.n; ++i) {
    int outside = -1;  // the one restricted dimension i is outside of; -2: two or more
    for (std::size_t r = 0; r < dims.size() && outside != -2; ++r) {
      const double v = data.columns[static_cast<std::size_t>(dims[r])][i];
      const auto j = static_cast<std::size_t>(dims[r]);
      if (v < box.lower[j] || v > box.upper[j]) outside = outside == -1 ? static_cast<int>(r) : -2;
    }
    if (outside == -1) {
      ++box.points;
      box.hits += data.y[i];
    } else if (outside >= 0) {
      ++points[static_cast<std::size_t>(outside)];
      hits[static_cast<std::size_t>(outside)] += data.y[i];
    }
  }
  data.finish(box);
  std::vector<PrimDimension> out;
  for (std::size_t r = 0; r < dims.size(); ++r) {
    const auto j = static_cast<std::size_t>(dims[r]);
    PrimDimension pd;
    pd.dim = dims[r];
    if (!names.empty()) pd.name = names[j];
    pd.lower = box.lower[j];
    pd.upper = box.upper[j];
    pd.lower_restricted = box.lower[j] > data.lo[j];
    pd.upper_restricted = box.upper[j] < data.hi[j];
    const u64 k = box.hits;
    if (k > 0) {
      const u64 n2 = box.points + points[r], h2 = box.hits + hits[r];
      const double p = static_cast<double>(h2) / static_cast<double>(n2);
      const boost::math::binomial_distribution<double> bin(static_cast<double>(box.points), p);
      pd.quasi_p = boost::math::cdf(boost::math::complement(bin, static_cast<double>(k - 1)));
    }
    out.push_back(std::move(pd));
  }
  std::stable_sort(out.begin(), out.end(), [](const PrimDimension& a, const PrimDimension& b) {
    return a.quasi_p < b.quasi_p;
  });
  return out;
}

/// One candidate peel or paste: the new limit of `dim` on `side` (0 lower, 1 upper), the
/// threshold that separates the points removed or added, and the box it leaves.
struct Move {
  int dim = -1, side = 0;
  double limit = 0, threshold = 0;
  u64 points = 0, hits = 0;
};

/// True when `a` beats `b`: higher density, then more points. Candidates are tried by
/// dimension and then side, so a tie after that keeps the earlier one.
bool better(const Move& a, const Move& b) {
  if (b.dim < 0) return true;
  const int c = compare_ratio(a.hits, a.points, b.hits, b.points);
  return c > 0 || (c == 0 && a.points > b.points);
}

/// Indices 0..n-1 ordered by `col`, ties by index, and the values in that order: an LSD
/// radix sort on order-preserving integer images of the doubles (several times faster
/// than a comparison sort on random data, and as deterministic).
void sort_column(const std::vector<double>& col, std::vector<std::uint32_t>& order,
                 std::vector<double>& sorted) {
  const std::size_t n = col.size();
  std::vector<u64> key(n), key2(n);
  std::vector<std::uint32_t> idx2(n);
  order.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double v = col[i] == 0 ? 0.0 : col[i];  // -0 and +0 alike
    const u64 bits = std::bit_cast<u64>(v);
    key[i] = bits >> 63 ? ~bits : bits | (u64{1} << 63);
    order[i] = static_cast<std::uint32_t>(i);
  }
  for (int shift = 0; shift < 64; shift += 8) {
    std::array<std::size_t, 257> start{};
    for (std::size_t i = 0; i < n; ++i) ++start[((key[i] >> shift) & 255) + 1];
    if (std::find(start.begin(), start.end(), n) != start.end()) continue;  // one bucket
    for (std::size_t b = 1; b < start.size(); ++b) start[b] += start[b - 1];
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t pos = start[(key[i] >> shift) & 255]++;
      key2[pos] = key[i];
      idx2[pos] = order[i];
    }
    key.swap(key2);
    order.swap(idx2);
  }
  sorted.resize(n);
  for (std::size_t p = 0; p < n; ++p) sorted[p] = col[order[p]];
}

/// Points removed by one peel: ceil(alpha m) points of the box from one end of a
/// dimension, with any tied with the last; `next` is the nearest value left in the box.
struct Cut {
  u64 removed = 0, hits = 0;
  double threshold = 0, next = 0;
  bool all = true;  ///< no point would be left
};

/// Peels from the whole data; returns the trajectory.
///
/// Each dimension's points are sorted once. A peel walks in from one end of that order,
/// skipping points already outside the box, until it has its points. Points at either
/// end that are outside the box stay outside, so each end's cursor only moves inwards,
/// and a walk passes about alpha n entries (more across a long run of tied values, which
/// a peel takes whole): a step costs O(alpha n d) after the sorts, not O(m d).
std::vector<PrimBox> peel(const Data& data, const PrimOptions& options) {
  const std::size_t n = data.n, d = data.d;
  PrimBox box;
  box.lower = data.lo;
  box.upper = data.hi;
  box.points = n;
  box.hits = data.total_hits;
  data.finish(box);
  std::vector<PrimBox> trajectory{box};

  std::vector<std::vector<std::uint32_t>> order(d);
  std::vector<std::vector<double>> sorted(d);
  for (std::size_t j = 0; j < d; ++j) sort_column(data.columns[j], order[j], sorted[j]);
  // Per point: bit 0, inside the box; bit 1, y. One byte, so a walk touches one array.
  std::vector<std::uint8_t> flag(n);
  for (std::size_t i = 0; i < n; ++i) flag[i] = static_cast<std::uint8_t>(1 | data.y[i] << 1);
  // Entries of order[j] outside [first[j], last[j]) are outside the box.
  std::vector<std::size_t> first(d, 0), last(d, n);

  // The cut of ceil(alpha m) points of the box from `side` of dimension j; with `apply`,
  // takes them out of the box (`k` then the number removed, ties included).
  auto cut = [&](std::size_t j, int side, u64 k, bool apply) {
    const std::uint32_t* o = order[j].data();
    const double* v = sorted[j].data();
    std::size_t& lo = first[j];
    std::size_t& hi = last[j];
    while (lo < hi && !(flag[o[lo]] & 1)) ++lo;
    while (lo < hi && !(flag[o[hi - 1]] & 1)) --hi;
    Cut c;
    const std::size_t span = hi - lo;
    for (std::size_t s = 0; s < span; ++s) {
      const std::size_t p = side == 0 ? lo + s : hi - 1 - s;
      const std::uint8_t f = flag[o[p]];
      if (!(f & 1)) continue;
      if (c.removed < k || (!apply && v[p] == c.threshold)) {
        c.threshold = v[p];
        ++c.removed;
        c.hits += f >> 1;
        if (apply) flag[o[p]] = 0;
      } else {
        c.next = v[p];
        c.all = false;
        break;
      }
    }
    return c;
  };

  u64 m = n, h = data.total_hits;
  const double min_points = options.mass_min * static_cast<double>(n);
  for (;;) {
    const u64 k = share_of(options.alpha, m);
    Move best;
    for (std::size_t j = 0; j < d; ++j) {
      for (int side = 0; side < 2; ++side) {
        const Cut c = cut(j, side, k, false);
        if (c.all) continue;
        const Move mv{static_cast<int>(j), side, c.next, c.threshold, m - c.removed, h - c.hits};
        if (better(mv, best)) best = mv;
      }
    }
    if (best.dim < 0 || static_cast<double>(best.points) < min_points ||
        compare_ratio(best.hits, best.points, h, m) <= 0)
      break;
    const auto bj = static_cast<std::size_t>(best.dim);
    cut(bj, best.side, m - best.points, true);
    m = best.points;
    h = best.hits;
    (best.side == 0 ? box.lower : box.upper)[bj] = best.limit;
    box.points = m;
    box.hits = h;
    data.finish(box);
    trajectory.push_back(box);
  }
  return trajectory;
}

/// Pastes onto `box` (points and hits set) until no paste raises its density strictly.
int paste(const Data& data, PrimBox& box, double paste_alpha) {
  if (paste_alpha <= 0) return 0;
  int pastes = 0;
  std::vector<std::vector<std::size_t>> outside(2 * data.d);  // per dimension and side
  for (;;) {
    std::vector<std::size_t> dims;
    for (std::size_t j = 0; j < data.d; ++j)
      if (data.restricted(box, j)) dims.push_back(j);
    if (dims.empty()) break;
    for (auto& o : outside) o.clear();
    // Points outside exactly one limit, bucketed by that limit.
    for (std::size_t i = 0; i < data.n; ++i) {
      std::size_t which = 0;
      int count = 0;
      for (std::size_t j : dims) {
        const double v = data.columns[j][i];
        if (v < box.lower[j] || v > box.upper[j]) {
          which = 2 * j + (v > box.upper[j] ? 1 : 0);
          if (++count > 1) break;
        }
      }
      if (count == 1) outside[which].push_back(i);
    }

    const u64 k = share_of(paste_alpha, box.points);
    Move best;
    for (std::size_t j : dims) {
      const std::vector<double>& col = data.columns[j];
      for (int side = 0; side < 2; ++side) {
        std::vector<std::size_t>& o = outside[2 * j + static_cast<std::size_t>(side)];
        if (o.empty()) continue;
        // Nearest first: highest below a lower limit, lowest above an upper one.
        auto nearer = [&](std::size_t a, std::size_t b) {
          return side == 0 ? col[a] > col[b] : col[a] < col[b];
        };
        double t;
        if (o.size() > k) {
          std::nth_element(o.begin(), o.begin() + static_cast<std::ptrdiff_t>(k - 1), o.end(),
                           nearer);
          t = col[o[k - 1]];
        } else {
          t = col[*std::max_element(o.begin(), o.end(), nearer)];
        }
        u64 added = 0, added_hits = 0;
        for (std::size_t i : o)
          if (side == 0 ? col[i] >= t : col[i] <= t) {
            ++added;
            added_hits += data.y[i];
          }
        const Move mv{static_cast<int>(j), side, t, t, box.points + added, box.hits + added_hits};
        if (better(mv, best)) best = mv;
      }
    }
    if (best.dim < 0 || compare_ratio(best.hits, best.points, box.hits, box.points) <= 0) break;
    (best.side == 0 ? box.lower : box.upper)[static_cast<std::size_t>(best.dim)] = best.limit;
    box.points = best.points;
    box.hits = best.hits;
    data.finish(box);
    ++pastes;
  }
  return pastes;
}

void check_options(const PrimOptions& o) {
  if (!(o.alpha > 0 && o.alpha < 0.5))
    throw std::invalid_argument("prim: alpha must be in (0, 0.5)");
  if (!(o.paste_alpha >= 0 && o.paste_alpha < 1))
    throw std::invalid_argument("prim: paste_alpha must be in [0, 1)");
  if (!(o.mass_min >= 0 && o.mass_min <= 1))
    throw std::invalid_argument("prim: mass_min must be in [0, 1]");
  if (!(o.min_coverage >= 0 && o.min_coverage <= 1))
    throw std::invalid_argument("prim: min_coverage must be in [0, 1]");
}

}  // namespace

PrimResult prim(const std::vector<std::vector<double>>& columns, const std::vector<std::uint8_t>& y,
                const PrimOptions& options, const std::vector<std::string>& names) {
  check_options(options);
  const Data data(columns, y, names);
  PrimResult result;
  if (data.n == 0) {
    result.reason = "no points";
    return result;
  }
  result.data_lower = data.lo;
  result.data_upper = data.hi;
  if (data.total_hits == 0) {
    result.reason = "the outcome never occurs";
    return result;
  }
  if (data.n > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument("prim: more than 2^32 - 1 points");

  result.trajectory = peel(data, options);
  const auto& t = result.trajectory;
  if (options.box >= 0) {
    result.chosen = std::min(options.box, static_cast<int>(t.size()) - 1);
  } else {
    // Coverage 1 of the first box always qualifies, as min_coverage <= 1.
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (t[i].coverage < options.min_coverage) continue;
      if (result.chosen < 0) {
        result.chosen = static_cast<int>(i);
        continue;
      }
      const PrimBox& c = t[static_cast<std::size_t>(result.chosen)];
      const int by_density = compare_ratio(t[i].hits, t[i].points, c.hits, c.points);
      if (by_density > 0 || (by_density == 0 && t[i].hits > c.hits))
        result.chosen = static_cast<int>(i);
    }
  }

  result.box = t[static_cast<std::size_t>(result.chosen)];
  result.pastes = paste(data, result.box, options.paste_alpha);
  result.restricted = dimensions_of(data, result.box, names);
  if (data.total_hits == data.n) result.reason = "the outcome always occurs";
  return result;
}

std::vector<PrimDimension> prim_dimensions(const std::vector<std::vector<double>>& columns,
                                           const std::vector<std::uint8_t>& y, const PrimBox& box,
                                           const std::vector<std::string>& names) {
  const Data data(columns, y, names);
  if (box.lower.size() != data.d || box.upper.size() != data.d)
    throw std::invalid_argument("prim_dimensions: the box has " + std::to_string(box.lower.size()) +
                                " lower and " + std::to_string(box.upper.size()) +
                                " upper limits for " + std::to_string(data.d) + " columns");
  PrimBox b = box;
  return dimensions_of(data, b, names);
}

}  // namespace attain
