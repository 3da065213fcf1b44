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

namespace {

/// Bucket indices are below 2^19 (bucket(+inf) is 0x3FF80): a sparse entry holds the
/// index in its high 19 bits and the count in the low 45.
constexpr std::int64_t kIndexEnd = std::int64_t{1} << 19;
constexpr int kCountBits = 45;
constexpr std::uint64_t kCountMost = (std::uint64_t{1} << kCountBits) - 1;

std::uint64_t entry(std::int64_t index, std::uint64_t count) {
  return static_cast<std::uint64_t>(index) << kCountBits | count;
}
std::int64_t entry_index(std::uint64_t e) {
  return static_cast<std::int64_t>(e >> kCountBits);
}
std::uint64_t entry_count(std::uint64_t e) {
  return e & kCountMost;
}

/// Whether `k` nonzero buckets over `span` indices are held sparse: while they fill less
/// than a quarter of it, a dense array would take more than 4 times the bytes. `slack` 2
/// asks for twice the margin, for a dense store to turn sparse, so that a store near the
/// limit does not keep changing form.
bool sparse_fits(std::size_t k, std::int64_t span, std::int64_t slack = 1) {
  return k <= QuantileSketch::kSparseMost && 4 * slack * static_cast<std::int64_t>(k) < span;
}

/// The same for a store that values are added to one at a time, which costs a search
/// while sparse: besides, while it holds fewer values than its span and than
/// kSparseAdds, so that a store fed many values (a chunk of many runs) counts them in the
/// dense array soon.
bool sparse_fits(std::size_t k, std::uint64_t n, std::int64_t span, std::int64_t slack = 1) {
  const auto most =
      std::min<std::uint64_t>(static_cast<std::uint64_t>(span), QuantileSketch::kSparseAdds);
  return sparse_fits(k, span, slack) && n < most / static_cast<std::uint64_t>(slack);
}

}  // namespace

std::int64_t QuantileSketch::Store::low() const {
  return sparse() ? entry_index(counts.front()) : lo;
}

std::int64_t QuantileSketch::Store::hi() const {
  return sparse() ? entry_index(counts.back()) : lo + static_cast<std::int64_t>(counts.size()) - 1;
}

void QuantileSketch::Store::place(std::int64_t new_lo, std::size_t size) {
  if (in_place(new_lo, size)) {
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

std::size_t QuantileSketch::Store::nonzero() const {
  if (counts.empty()) return lo == 0 && total == 0 ? 0 : kNone;
  if (counts.front() == 0 || counts.back() == 0 || total > kCountMost) return kNone;
  std::size_t k = 0;
  std::uint64_t sum = 0;
  for (const std::uint64_t c : counts) {
    if (c > kCountMost) return kNone;
    k += c != 0;
    sum += c;  // at most kMaxBuckets counts below 2^45: no overflow
  }
  return sum == total ? k : kNone;
}

std::vector<std::uint64_t> QuantileSketch::Store::entries() const {
  if (sparse()) return counts;
  std::vector<std::uint64_t> e;
  e.reserve(static_cast<std::size_t>(
      counts.size() - static_cast<std::size_t>(std::count(counts.begin(), counts.end(), 0))));
  for (std::size_t i = 0; i < counts.size(); ++i)
    if (counts[i] != 0) e.push_back(entry(lo + static_cast<std::int64_t>(i), counts[i]));
  return e;
}

void QuantileSketch::Store::to_sparse() {
  std::vector<std::uint64_t> e = entries();
  counts.swap(e);
  lo = kSparse;
}

void QuantileSketch::Store::to_dense(std::int64_t new_lo, std::size_t size) {
  std::vector<std::uint64_t> c(size, 0);
  for (const std::uint64_t e : counts)
    c[static_cast<std::size_t>(std::max(entry_index(e), new_lo) - new_lo)] += entry_count(e);
  counts.swap(c);
  lo = new_lo;
}

void QuantileSketch::Store::to_dense() {
  if (counts.empty())
    lo = 0;  // as an empty dense store has always been saved
  else
    to_dense(low(), static_cast<std::size_t>(hi() - low() + 1));
}

void QuantileSketch::Store::prepare(std::int64_t first, std::int64_t last, std::uint64_t n) {
  if (n == 0 || !sparse() || total >= kCountMost) return;
  const bool empty = counts.empty();
  const std::int64_t top = empty ? last : std::max(last, hi());
  const std::int64_t bottom = empty ? first : std::min(first, low());
  const std::int64_t new_lo = std::max(bottom, top - (kMaxBuckets - 1));
  const std::int64_t span = top - new_lo + 1;
  if (sparse_fits(0, total + n, span)) return;  // it may stay sparse
  // The batch holds values at `first` and `last`, so both ends will be nonzero.
  to_dense(new_lo, static_cast<std::size_t>(span));
}

void QuantileSketch::Store::add_sparse(std::int64_t index) {
  if (counts.empty()) {
    counts.push_back(entry(index, 1));
    ++total;
    return;
  }
  const std::int64_t first = low(), top = hi();
  if (index > top) {
    // Past the bound the lowest buckets collapse into the lowest kept, as in place().
    const std::int64_t new_lo = std::max(first, index - (kMaxBuckets - 1));
    if (new_lo > first) {
      std::uint64_t sum = 0;
      auto end = counts.begin();
      for (; end != counts.end() && entry_index(*end) <= new_lo; ++end) sum += entry_count(*end);
      counts.erase(counts.begin() + 1, end);
      counts.front() = entry(new_lo, sum);
    }
    counts.push_back(entry(index, 1));
  } else {
    // Lower indices than the bound allows fall into the lowest bucket kept.
    index = std::max(index, top - (kMaxBuckets - 1));
    const auto at = std::lower_bound(counts.begin(), counts.end(), entry(index, 0));
    if (at != counts.end() && entry_index(*at) == index)
      ++*at;  // total < kCountMost before the add, so the count stays within its bits
    else
      counts.insert(at, entry(index, 1));
  }
  ++total;
  if (!sparse_fits(counts.size(), total, hi() - low() + 1)) to_dense();
}

void QuantileSketch::Store::add(std::int64_t index) {
  if (sparse()) {
    if (total < kCountMost) return add_sparse(index);
    to_dense();
  }
  if (counts.empty()) {  // loaded so
    if (total == 0) {
      lo = kSparse;
      return add_sparse(index);
    }
    lo = index;
    counts.assign(1, 0);
  } else if (index < lo) {
    // Grow downwards as far as the bound allows; lower indices fall into the lowest.
    const std::int64_t top = hi();
    const std::int64_t new_lo = std::max(index, top - (kMaxBuckets - 1));
    if (new_lo < lo) {
      const std::size_t size = static_cast<std::size_t>(top - new_lo + 1), k = nonzero();
      if (k != kNone && total < kCountMost &&
          sparse_fits(k + 1, total + 1, static_cast<std::int64_t>(size), 2)) {
        to_sparse();
        return add_sparse(index);
      }
      place(new_lo, size);
    }
    index = std::max(index, lo);
  } else if (index > hi()) {
    // Grow upwards; past the bound the lowest buckets collapse into the lowest kept.
    const std::int64_t new_lo = std::max(lo, index - (kMaxBuckets - 1));
    const auto size = static_cast<std::size_t>(index - new_lo + 1);
    if (!in_place(new_lo, size)) {
      const std::size_t k = nonzero();
      if (k != kNone && total < kCountMost &&
          sparse_fits(k + 1, total + 1, static_cast<std::int64_t>(size), 2)) {
        to_sparse();
        return add_sparse(index);
      }
    }
    place(new_lo, size);
  }
  ++counts[static_cast<std::size_t>(index - lo)];
  ++total;
}

void QuantileSketch::Store::merge_sparse(const Store& o, std::int64_t new_lo) {
  std::vector<std::uint64_t> own, other;
  const std::vector<std::uint64_t>& a = sparse() ? counts : (own = entries());
  const std::vector<std::uint64_t>& b = o.sparse() ? o.counts : (other = o.entries());
  std::vector<std::uint64_t> r;
  r.reserve(a.size() + b.size());
  // Both in increasing order of index; indices below new_lo count at new_lo.
  auto put = [&](std::uint64_t e) {
    const std::int64_t index = std::max(entry_index(e), new_lo);
    if (!r.empty() && entry_index(r.back()) == index)
      r.back() += entry_count(e);  // the totals add up to at most kCountMost
    else
      r.push_back(entry(index, entry_count(e)));
  };
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size())
    put(j == b.size() || (i < a.size() && entry_index(a[i]) <= entry_index(b[j])) ? a[i++]
                                                                                  : b[j++]);
  counts.swap(r);
  lo = kSparse;
  total += o.total;
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
  const std::int64_t new_lo = std::max(std::min(low(), o.low()), top - (kMaxBuckets - 1));
  const auto size = static_cast<std::size_t>(top - new_lo + 1);
  // The form of the result is chosen when either is sparse or the array would be copied
  // anyway; a dense store that keeps its array stays dense.
  if (sparse() || !in_place(new_lo, size)) {
    const std::size_t k = sparse() ? counts.size() : nonzero();
    const std::size_t ko = o.sparse() ? o.counts.size() : o.nonzero();
    if (k != kNone && ko != kNone && total <= kCountMost - o.total &&
        sparse_fits(k + ko, static_cast<std::int64_t>(size), sparse() ? 1 : 2))
      return merge_sparse(o, new_lo);
  }
  if (sparse()) to_dense();
  place(new_lo, size);
  auto put = [&](std::int64_t index, std::uint64_t n) {
    counts[static_cast<std::size_t>(std::max(index, lo) - lo)] += n;
  };
  if (o.sparse())
    for (const std::uint64_t e : o.counts) put(entry_index(e), entry_count(e));
  else
    for (std::size_t i = 0; i < o.counts.size(); ++i)
      put(o.lo + static_cast<std::int64_t>(i), o.counts[i]);
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

void QuantileSketch::prepare(const double* v, int n) {
  std::int64_t first[2] = {kIndexEnd, kIndexEnd}, last[2] = {-1, -1};
  std::uint64_t count[2] = {0, 0};
  for (int i = 0; i < n; ++i) {
    const double x = v[i];
    if (!(x > 0 || x < 0)) continue;  // zeros and NaN, which add() counts as zeros
    const int s = x < 0;
    const std::int64_t index = bucket(s ? -x : x);
    first[s] = std::min(first[s], index);
    last[s] = std::max(last[s], index);
    ++count[s];
  }
  pos_.prepare(first[0], last[0], count[0]);
  neg_.prepare(first[1], last[1], count[1]);
}

void QuantileSketch::add(const double* v, int n) {
  // A fresh sketch, or one with values held sparse: maybe better dense for this batch. (An
  // empty store of a sign is sparse too, but checking every batch for it would cost a
  // pass over the values of every sketch that never sees that sign.)
  if (n_ == 0 || (pos_.sparse() && !pos_.counts.empty()) || (neg_.sparse() && !neg_.counts.empty()))
    prepare(v, n);
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
    if (!st->sparse()) {
      counts.push_back(static_cast<std::uint64_t>(st->lo));
      counts.push_back(st->counts.size());
      counts.push_back(st->total);
      counts.insert(counts.end(), st->counts.begin(), st->counts.end());
    } else if (st->counts.empty()) {
      counts.insert(counts.end(), {0, 0, st->total});  // lo 0, as a dense empty store
    } else {
      // The dense array, which has nonzero counts at both ends.
      const std::int64_t lo = st->low();
      const auto size = static_cast<std::size_t>(st->hi() - lo + 1);
      counts.insert(counts.end(), {static_cast<std::uint64_t>(lo), size, st->total});
      const std::size_t at = counts.size();
      counts.resize(at + size, 0);
      for (const std::uint64_t e : st->counts)
        counts[at + static_cast<std::size_t>(entry_index(e) - lo)] = entry_count(e);
    }
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
    const std::uint64_t lo = next();
    const std::uint64_t size = next();
    st->total = next();
    if (size > counts.size() - ci)
      throw std::invalid_argument("quantile sketch state is truncated");
    if (lo >= static_cast<std::uint64_t>(kIndexEnd) ||
        size > static_cast<std::uint64_t>(kIndexEnd) - lo)
      throw std::invalid_argument("quantile sketch state names a bucket no double has");
    st->lo = static_cast<std::int64_t>(lo);
    st->counts.assign(counts.begin() + static_cast<std::ptrdiff_t>(ci),
                      counts.begin() + static_cast<std::ptrdiff_t>(ci + size));
    ci += size;
    // Files written before the bound may hold wider ranges: collapse them as add() would.
    if (size > static_cast<std::uint64_t>(kMaxBuckets))
      st->place(st->hi() - (kMaxBuckets - 1), static_cast<std::size_t>(kMaxBuckets));
    // The form add() and merge() would have chosen for such a state, where one is sparse.
    const std::size_t k = st->nonzero();
    if (k != Store::kNone &&
        (k == 0 || sparse_fits(k, static_cast<std::int64_t>(st->counts.size()))))
      st->to_sparse();
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
  std::uint64_t seen = 0;
  // Whether the rank is reached with `n` more values (zero counts never reach it first).
  auto reached = [&](std::uint64_t n) { return (seen += n) >= rank; };
  double v = 0;
  bool found = false;
  // Negative values in increasing order are the largest magnitudes first.
  if (neg_.sparse()) {
    for (auto it = neg_.counts.rbegin(); it != neg_.counts.rend() && !found; ++it)
      if (reached(entry_count(*it))) v = -bucket_value(entry_index(*it)), found = true;
  } else {
    for (std::size_t i = neg_.counts.size(); i-- > 0 && !found;)
      if (reached(neg_.counts[i]))
        v = -bucket_value(neg_.lo + static_cast<std::int64_t>(i)), found = true;
  }
  if (!found && reached(zeros_)) v = 0, found = true;
  if (pos_.sparse()) {
    for (auto it = pos_.counts.begin(); it != pos_.counts.end() && !found; ++it)
      if (reached(entry_count(*it))) v = bucket_value(entry_index(*it)), found = true;
  } else {
    for (std::size_t i = 0; i < pos_.counts.size() && !found; ++i)
      if (reached(pos_.counts[i]))
        v = bucket_value(pos_.lo + static_cast<std::int64_t>(i)), found = true;
  }
  if (v < min_) v = min_;
  if (v > max_) v = max_;
  return v;
}

}  // namespace attain
