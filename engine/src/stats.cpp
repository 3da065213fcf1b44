// Wilson intervals, moment merging and the log-linear quantile sketch.
#include "attain/stats.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

namespace attain {

std::pair<double, double> wilson_interval(std::uint64_t hits, std::uint64_t n, double z) {
  if (n == 0) return {0.0, 1.0};
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(hits) / nn;
  const double z2 = z * z;
  const double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
  const double half = z / (1 + z2 / nn) * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
  double lo = centre - half, hi = centre + half;
  // At the boundaries the exact endpoints are 0 and 1; rounding must not move them.
  if (hits == 0) lo = 0;
  if (hits == n) hi = 1;
  return {lo < 0 ? 0 : lo, hi > 1 ? 1 : hi};
}

double Moments::sd() const {
  if (n < 2) return 0.0;
  double v = m2() / static_cast<double>(n - 1);
  return v > 0 ? std::sqrt(v) : 0.0;
}

void Moments::merge(const Moments& o) {
  if (o.n == 0) return;
  if (n == 0) {
    *this = o;
    return;
  }
  // Re-express o around this shift: x - s = (x - so) + (so - s).
  const double delta = o.shift - shift;
  const double on = static_cast<double>(o.n);
  sumsq += o.sumsq + 2 * delta * o.sum + on * delta * delta;
  sum += o.sum + on * delta;
  n += o.n;
  min = o.min < min ? o.min : min;
  max = o.max > max ? o.max : max;
}

std::int64_t QuantileSketch::bucket(double magnitude) {
  // The bits of a positive double grow with its value: exponent, then mantissa.
  // Keeping 7 mantissa bits gives 128 buckets per octave.
  return static_cast<std::int64_t>(std::bit_cast<std::uint64_t>(magnitude) >> 45);
}

double QuantileSketch::bucket_value(std::int64_t index) {
  double lo = std::bit_cast<double>(static_cast<std::uint64_t>(index) << 45);
  double hi = std::bit_cast<double>(static_cast<std::uint64_t>(index + 1) << 45);
  return 0.5 * (lo + hi);
}

void QuantileSketch::Store::place(std::int64_t new_lo, std::size_t size) {
  if (new_lo == lo && size <= counts.capacity()) {
    counts.resize(size, 0);  // growing upwards in place
    return;
  }
  // A new array, at most kMaxBuckets long, with room to grow (amortised doubling).
  std::vector<std::uint64_t> c;
  c.reserve(std::min<std::size_t>(static_cast<std::size_t>(kMaxBuckets),
                                  std::max(size, 2 * counts.size())));
  c.assign(size, 0);
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const std::int64_t index = std::max(lo + static_cast<std::int64_t>(i), new_lo);
    c[static_cast<std::size_t>(index - new_lo)] += counts[i];
  }
  counts.swap(c);
  lo = new_lo;
}

void QuantileSketch::Store::add(std::int64_t index, std::uint64_t n) {
  if (counts.empty()) {
    lo = index;
    counts.assign(1, 0);
  } else if (index < lo) {
    // Grow downwards as far as the bound allows; lower indices fall into the lowest.
    const std::int64_t top = hi();
    const std::int64_t new_lo = std::max(index, top - (kMaxBuckets - 1));
    if (new_lo < lo) place(new_lo, static_cast<std::size_t>(top - new_lo + 1));
    index = std::max(index, lo);
  } else if (index > hi()) {
    // Grow upwards; past the bound the lowest buckets collapse into the lowest kept.
    const std::int64_t new_lo = std::max(lo, index - (kMaxBuckets - 1));
    place(new_lo, static_cast<std::size_t>(index - new_lo + 1));
  }
  counts[static_cast<std::size_t>(index - lo)] += n;
  total += n;
}

void QuantileSketch::Store::merge(const Store& o) {
  if (o.counts.empty()) return;
  if (counts.empty()) {
    *this = o;
    return;
  }
  // Both are collapsed at (their highest index - kMaxBuckets + 1) or not at all, so
  // clamping the union at the new bound gives the state of all values added to one
  // store, whatever the order.
  const std::int64_t top = std::max(hi(), o.hi());
  const std::int64_t new_lo = std::max(std::min(lo, o.lo), top - (kMaxBuckets - 1));
  place(new_lo, static_cast<std::size_t>(top - new_lo + 1));
  for (std::size_t i = 0; i < o.counts.size(); ++i) {
    const std::int64_t index = std::max(o.lo + static_cast<std::int64_t>(i), lo);
    counts[static_cast<std::size_t>(index - lo)] += o.counts[i];
  }
  total += o.total;
}

void QuantileSketch::add(double x) {
  if (n_ == 0) min_ = max_ = x;
  min_ = x < min_ ? x : min_;
  max_ = x > max_ ? x : max_;
  ++n_;
  if (x > 0)
    pos_.add(bucket(x));
  else if (x < 0)
    neg_.add(bucket(-x));
  else
    ++zeros_;
}

void QuantileSketch::add(const double* v, int n) {
  for (int i = 0; i < n; ++i) {
    const double x = v[i];
    if (x > 0 && n_ > 0) {
      const std::int64_t at = bucket(x) - pos_.lo;
      if (at >= 0 && at < static_cast<std::int64_t>(pos_.counts.size())) {
        ++pos_.counts[static_cast<std::size_t>(at)];
        ++pos_.total;
        ++n_;
        min_ = x < min_ ? x : min_;
        max_ = x > max_ ? x : max_;
        continue;
      }
    }
    add(x);
  }
}

void QuantileSketch::merge(const QuantileSketch& o) {
  if (o.n_ == 0) return;
  if (n_ == 0) {
    *this = o;
    return;
  }
  pos_.merge(o.pos_);
  neg_.merge(o.neg_);
  zeros_ += o.zeros_;
  n_ += o.n_;
  min_ = o.min_ < min_ ? o.min_ : min_;
  max_ = o.max_ > max_ ? o.max_ : max_;
}

void QuantileSketch::save(std::vector<std::uint64_t>& counts, std::vector<double>& reals) const {
  for (const Store* st : {&pos_, &neg_}) {
    counts.push_back(static_cast<std::uint64_t>(st->lo));
    counts.push_back(st->counts.size());
    counts.push_back(st->total);
    counts.insert(counts.end(), st->counts.begin(), st->counts.end());
  }
  counts.push_back(zeros_);
  counts.push_back(n_);
  reals.push_back(min_);
  reals.push_back(max_);
}

void QuantileSketch::load(const std::vector<std::uint64_t>& counts, std::size_t& ci,
                          const std::vector<double>& reals, std::size_t& ri) {
  auto next = [&]() {
    if (ci >= counts.size()) throw std::invalid_argument("quantile sketch state is truncated");
    return counts[ci++];
  };
  for (Store* st : {&pos_, &neg_}) {
    st->lo = static_cast<std::int64_t>(next());
    const std::uint64_t size = next();
    st->total = next();
    if (size > counts.size() - ci)
      throw std::invalid_argument("quantile sketch state is truncated");
    st->counts.assign(counts.begin() + static_cast<std::ptrdiff_t>(ci),
                      counts.begin() + static_cast<std::ptrdiff_t>(ci + size));
    ci += size;
    // Files written before the bound may hold wider ranges: collapse them as add() would.
    if (size > static_cast<std::uint64_t>(kMaxBuckets))
      st->place(st->hi() - (kMaxBuckets - 1), static_cast<std::size_t>(kMaxBuckets));
  }
  zeros_ = next();
  n_ = next();
  if (ri + 2 > reals.size()) throw std::invalid_argument("quantile sketch state is truncated");
  min_ = reals[ri++];
  max_ = reals[ri++];
}

double QuantileSketch::quantile(double q) const {
  if (n_ == 0) return std::nan("");
  // 1-based rank of the order statistic x_(ceil(q n)), at least 1.
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n_)));
  if (rank < 1) rank = 1;
  if (rank > n_) rank = n_;
  double v = 0;
  std::uint64_t seen = 0;
  bool found = false;
  // Negative values in increasing order are the largest magnitudes first.
  for (std::size_t i = neg_.counts.size(); i-- > 0 && !found;) {
    seen += neg_.counts[i];
    if (seen >= rank) v = -bucket_value(neg_.lo + static_cast<std::int64_t>(i)), found = true;
  }
  if (!found) {
    seen += zeros_;
    if (seen >= rank) v = 0, found = true;
  }
  for (std::size_t i = 0; i < pos_.counts.size() && !found; ++i) {
    seen += pos_.counts[i];
    if (seen >= rank) v = bucket_value(pos_.lo + static_cast<std::int64_t>(i)), found = true;
  }
  if (v < min_) v = min_;
  if (v > max_) v = max_;
  return v;
}

}  // namespace attain
