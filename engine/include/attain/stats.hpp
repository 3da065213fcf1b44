// Statistics of an ensemble: Wilson intervals, mergeable moments and quantile sketches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace attain {

/// Wilson score interval for `hits` successes in `n` trials at normal quantile `z`
/// (1.959963984540054 for 95 %). Returns {0, 1} when n is 0.
std::pair<double, double> wilson_interval(std::uint64_t hits, std::uint64_t n,
                                          double z = 1.959963984540054);

/// Count, mean and sum of squared deviations. Within a chunk values are added in run
/// order around a shift (the chunk's first value); chunks merge exactly as Chan et al.
/// in chunk order, so the result depends only on the run order, never on threads or
/// block sizes.
struct Moments {
  std::uint64_t n = 0;
  double shift = 0;
  double sum = 0;    ///< sum of (x - shift)
  double sumsq = 0;  ///< sum of (x - shift)^2
  double min = 0, max = 0;

  void add(double x) {
    if (n == 0) shift = x, min = x, max = x;
    double d = x - shift;
    sum += d;
    sumsq += d * d;
    min = x < min ? x : min;
    max = x > max ? x : max;
    ++n;
  }
  double mean() const { return n ? shift + sum / static_cast<double>(n) : 0.0; }
  /// Sum of squared deviations from the mean.
  double m2() const { return n ? sumsq - sum * sum / static_cast<double>(n) : 0.0; }
  /// Sample standard deviation (n - 1 in the denominator).
  double sd() const;
  /// Merges `other` (the later chunk) into this one.
  void merge(const Moments& other);
};

/// @brief A log-linear histogram of doubles: 128 buckets per power of two, separately for
/// positive values, negative values (by magnitude) and zeros. Each sign keeps at most
/// kMaxBuckets consecutive buckets, those of the largest magnitudes (DDSketch's
/// collapsing-lowest store): a magnitude at least 2^-32 times the largest of its sign is
/// counted in its own bucket, so a quantile at such a value is within 2^-8 (0.39 %)
/// relative error of the order statistic; smaller magnitudes are counted in the lowest
/// bucket kept, so a quantile among them is off by at most 2^-31 times that largest
/// magnitude. Memory is therefore bounded (max_bytes()) whatever the values. The state
/// is a function of the multiset of values alone, so merging is exact and order-free.
///
/// A sign's buckets are held sparse (one 8-byte entry per nonzero bucket) while they are
/// few and spread out, dense (an array over the whole span) once they fill at least a
/// quarter of their span or number more than kSparseMost, or, when values are added one
/// by one, once the store holds kSparseAdds values or as many as its span (counting in
/// the array is what the fast path does). A sketch of few values over a wide range, as
/// a chunk of few runs or a merge of such chunks makes, thus holds bytes in proportion to
/// its nonzero buckets, never more than max_bytes(). Which form a store takes changes
/// neither the counts nor anything computed or saved from them.
class QuantileSketch {
 public:
  /// Buckets kept per sign: the largest magnitude's bucket and the 32 octaves below it.
  static constexpr std::int64_t kMaxBuckets = 32 * 128 + 1;
  /// Most nonzero buckets a sign holds sparse.
  static constexpr std::size_t kSparseMost = 512;
  /// Most values a sparse sign holds when one more is added: past it add() turns the
  /// store dense (merge() and load() go by kSparseMost and the span only).
  static constexpr std::uint64_t kSparseAdds = 256;
  void add(double x);
  /// Adds `n` values; the same counts as n calls of add(), with a fast path for values
  /// inside the positive buckets already allocated.
  void add(const double* v, int n);
  void merge(const QuantileSketch& other);
  std::uint64_t count() const { return n_; }
  /// The q-quantile: an estimate of the order statistic x_(ceil(q n)) (the inverse of
  /// the empirical CDF), clamped to [min, max] of the data.
  double quantile(double q) const;
  /// Buckets held (positive and negative; a sparse store holds only its nonzero ones): at
  /// most 2 * kMaxBuckets.
  std::size_t buckets() const { return pos_.counts.size() + neg_.counts.size(); }
  /// Bytes held, the object included: at most max_bytes().
  std::size_t bytes() const {
    return sizeof(QuantileSketch) +
           (pos_.counts.capacity() + neg_.counts.capacity()) * sizeof(std::uint64_t);
  }
  /// Whether the buckets of positive (sign > 0) or negative (sign < 0) values are held
  /// sparse; for tests, since nothing else depends on it.
  bool sparse(int sign) const { return (sign < 0 ? neg_ : pos_).sparse(); }
  static constexpr std::size_t max_bytes() {
    return sizeof(QuantileSketch) + 2 * kMaxBuckets * sizeof(std::uint64_t);
  }
  /// Appends the exact state (integer counts, then min and max) to the two arrays.
  void save(std::vector<std::uint64_t>& counts, std::vector<double>& reals) const;
  /// Reads a state written by save() at positions `ci` and `ri`, advancing them;
  /// throws std::invalid_argument when the arrays are too short or name a bucket no
  /// double has. A state of more than kMaxBuckets buckets of a sign (written before the
  /// bound) is collapsed on reading.
  void load(const std::vector<std::uint64_t>& counts, std::size_t& ci,
            const std::vector<double>& reals, std::size_t& ri);

 private:
  /// The buckets of one sign, by index (bucket()), in one of two forms holding the same
  /// counts. Dense: `counts` spans [lo, hi()], each index's count at counts[index - lo].
  /// Sparse (lo == kSparse): `counts` holds an entry per nonzero bucket, the index in the
  /// high 19 bits and the count in the low 45, in increasing order of index. Either
  /// way the lowest bucket also counts every lower index, and a store made by add() and
  /// merge() has nonzero buckets at both ends, so the two forms save the same arrays.
  struct Store {
    /// lo of a sparse store: far above every bucket index, so the fast path of
    /// add(const double*, int), which checks only the dense range, never writes into it.
    static constexpr std::int64_t kSparse = std::int64_t{1} << 62;

    std::int64_t lo = kSparse;
    std::vector<std::uint64_t> counts;  ///< dense: at most kMaxBuckets; sparse: kSparseMost
    std::uint64_t total = 0;            ///< the sum of the counts; sparse: below 2^45

    bool sparse() const { return lo == kSparse; }
    /// The lowest and highest indices held; the store must not be empty.
    std::int64_t low() const;
    std::int64_t hi() const;
    void add(std::int64_t index);
    void merge(const Store& other);
    /// Lays the dense counts over [new_lo, new_lo + size), counts below new_lo going to
    /// new_lo; the new range must reach at least up to hi().
    void place(std::int64_t new_lo, std::size_t size);
    /// Whether place(new_lo, size) reuses the array: only when it does not does a dense
    /// store consider turning sparse, so counting its nonzero buckets costs no more than
    /// the copy.
    bool in_place(std::int64_t new_lo, std::size_t size) const {
      return new_lo == lo && size <= counts.capacity();
    }
    /// The nonzero buckets of a dense store, or kNone if no sparse store holds its state
    /// (a zero at either end, counts that do not add up to total or too large for an
    /// entry: states only load() makes).
    std::size_t nonzero() const;
    static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
    /// The sparse entries of the state, of either form.
    std::vector<std::uint64_t> entries() const;
    void to_sparse();
    /// Lays a sparse store's counts over [new_lo, new_lo + size), by default its span.
    void to_dense(std::int64_t new_lo, std::size_t size);
    void to_dense();
    /// Ahead of adding `n` values with indices in [first, last] to a sparse store: if they
    /// would turn it dense anyway (n + total at least the span), turns it dense over the
    /// final span now, so that they take the fast path.
    void prepare(std::int64_t first, std::int64_t last, std::uint64_t n);
    void add_sparse(std::int64_t index);
    void merge_sparse(const Store& other, std::int64_t new_lo);
  };
  /// Store::prepare() of each sparse store for the values v[0..n).
  void prepare(const double* v, int n);
  static std::int64_t bucket(double magnitude);
  static double bucket_value(std::int64_t index);
  Store pos_, neg_;
  std::uint64_t zeros_ = 0, n_ = 0;
  double min_ = 0, max_ = 0;
};

}  // namespace attain
