// Studies: the chunk scheduler (TBB pipeline), the dyadic merge of chunk partials, the
// standard reducers and the statistics of paired comparisons.
#include "attain/study.hpp"

#include <fmt/format.h>
#include <sys/resource.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <string>

#include "attain/available_memory.hpp"
#include "attain/communicator.hpp"
#include "happens_before.hpp"
#include "reducer_state.hpp"

namespace attain {
namespace {

/// Saves moments as six parallel arrays under `prefix`.
void save_moments(ReducerState& s, const std::string& prefix, std::vector<RunMoments>& m) {
  auto& n = s.counts[prefix + "n"];
  auto& shift = s.reals[prefix + "shift"];
  auto& sum = s.reals[prefix + "sum"];
  auto& sumsq = s.reals[prefix + "sumsq"];
  auto& mn = s.reals[prefix + "min"];
  auto& mx = s.reals[prefix + "max"];
  for (auto& rm : m) {
    const Moments& x = rm.moments();
    n.push_back(x.n), shift.push_back(x.shift), sum.push_back(x.sum), sumsq.push_back(x.sumsq);
    mn.push_back(x.min), mx.push_back(x.max);
  }
}

void load_moments(const ReducerState& s, const std::string& prefix, std::vector<RunMoments>& m) {
  const auto size = m.size();
  const auto& n = counts_of(s, prefix + "n", size);
  const auto& shift = reals_of(s, prefix + "shift", size);
  const auto& sum = reals_of(s, prefix + "sum", size);
  const auto& sumsq = reals_of(s, prefix + "sumsq", size);
  const auto& mn = reals_of(s, prefix + "min", size);
  const auto& mx = reals_of(s, prefix + "max", size);
  for (std::size_t i = 0; i < size; ++i) {
    m[i] = RunMoments{};
    m[i].total = Moments{n[i], shift[i], sum[i], sumsq[i], mn[i], mx[i]};
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Moments.

void ChunkMoments::add(const double* v, int count, std::uint64_t first_run) {
  if (count <= 0) return;
  if (n == 0) shift = mn = mx = v[0];
  int i = 0;
  if (first_run % 4 == 0) {
    double s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
    double q0 = ss[0], q1 = ss[1], q2 = ss[2], q3 = ss[3];
    double lo = mn, hi = mx;
    for (; i + 4 <= count; i += 4) {
      const double d0 = v[i] - shift, d1 = v[i + 1] - shift, d2 = v[i + 2] - shift,
                   d3 = v[i + 3] - shift;
      s0 += d0, s1 += d1, s2 += d2, s3 += d3;
      q0 += d0 * d0, q1 += d1 * d1, q2 += d2 * d2, q3 += d3 * d3;
      for (int k = 0; k < 4; ++k) {
        lo = v[i + k] < lo ? v[i + k] : lo;
        hi = v[i + k] > hi ? v[i + k] : hi;
      }
    }
    s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3;
    ss[0] = q0, ss[1] = q1, ss[2] = q2, ss[3] = q3;
    mn = lo, mx = hi;
  }
  for (; i < count; ++i) {
    const auto a = static_cast<std::size_t>((first_run + static_cast<std::uint64_t>(i)) % 4);
    const double d = v[i] - shift;
    s[a] += d;
    ss[a] += d * d;
    mn = v[i] < mn ? v[i] : mn;
    mx = v[i] > mx ? v[i] : mx;
  }
  n += static_cast<std::uint64_t>(count);
}

Moments ChunkMoments::moments() const {
  Moments m;
  m.n = n;
  m.shift = shift;
  m.sum = ((s[0] + s[1]) + s[2]) + s[3];
  m.sumsq = ((ss[0] + ss[1]) + ss[2]) + ss[3];
  m.min = mn;
  m.max = mx;
  return m;
}

void RunMoments::seal() {
  if (chunk.n == 0) return;
  total.merge(chunk.moments());
  chunk = ChunkMoments{};
}

// ---------------------------------------------------------------------------------------
// Attainment.

AttainmentReducer::AttainmentReducer(const Model& m, int variant)
    : variant_(variant), steps_(m.time.steps()) {
  for (const auto& t : m.targets)
    refs_.push_back({m.node_index.at(t.node), *m.time.index_of(t.year), t.op, t.threshold});
  hits_.assign(refs_.size(), 0);
  first_met_.assign(refs_.size() * static_cast<std::size_t>(steps_ + 1), 0);
  met_.assign(refs_.size() + 1, 0);
}

std::unique_ptr<Reducer> AttainmentReducer::empty() const {
  auto r = std::make_unique<AttainmentReducer>(*this);
  r->runs_ = r->joint_ = 0;
  std::fill(r->hits_.begin(), r->hits_.end(), 0);
  std::fill(r->first_met_.begin(), r->first_met_.end(), 0);
  std::fill(r->met_.begin(), r->met_.end(), 0);
  return r;
}

void AttainmentReducer::add(const StudyBlock& b) {
  const BlockView& v = b.variants[static_cast<std::size_t>(variant_)];
  const auto nt = refs_.size();
  std::vector<const double*> at(nt);
  for (std::size_t t = 0; t < nt; ++t) at[t] = v.values(refs_[t].step, refs_[t].node);
  for (int i = 0; i < b.count; ++i) {
    bool all = true;
    std::size_t met = 0;
    for (std::size_t t = 0; t < nt; ++t) {
      const Ref& r = refs_[t];
      const bool hit = compare(r.op, at[t][i], r.threshold);
      hits_[t] += hit;
      met += hit;
      all = all && hit;
      int first = steps_;  // never
      for (int k = 0; k <= r.step; ++k)
        if (compare(r.op, v.values(k, r.node)[i], r.threshold)) {
          first = k;
          break;
        }
      ++first_met_[t * static_cast<std::size_t>(steps_ + 1) + static_cast<std::size_t>(first)];
    }
    joint_ += (all && nt > 0);
    ++met_[met];
  }
  runs_ += static_cast<std::uint64_t>(b.count);
}

void AttainmentReducer::merge(const Reducer& later) {
  const auto& o = same_kind<AttainmentReducer>(later);
  runs_ += o.runs_;
  joint_ += o.joint_;
  add_counts(hits_, o.hits_);
  add_counts(first_met_, o.first_met_);
  add_counts(met_, o.met_);
}

ReducerState AttainmentReducer::save() const {
  ReducerState s;
  s.counts["runs"] = {runs_};
  s.counts["joint"] = {joint_};
  s.counts["hits"] = hits_;
  s.counts["first_met"] = first_met_;
  s.counts["met"] = met_;
  return s;
}

void AttainmentReducer::load(const ReducerState& s) {
  runs_ = counts_of(s, "runs", 1)[0];
  joint_ = counts_of(s, "joint", 1)[0];
  hits_ = counts_of(s, "hits", hits_.size());
  first_met_ = counts_of(s, "first_met", first_met_.size());
  met_ = counts_of(s, "met", met_.size());
  // Counts above the runs would be reported as probabilities above 1.
  auto at_most_runs = [&](const std::vector<std::uint64_t>& v, const char* name) {
    for (const std::uint64_t x : v)
      if (x > runs_)
        throw std::invalid_argument(
            fmt::format("reducer state: '{}' holds {}, more than the {} runs", name, x, runs_));
  };
  at_most_runs({joint_}, "joint");
  at_most_runs(hits_, "hits");
  at_most_runs(first_met_, "first_met");
  at_most_runs(met_, "met");
}

std::uint64_t AttainmentReducer::first_met(std::size_t target, int step) const {
  return first_met_[target * static_cast<std::size_t>(steps_ + 1) + static_cast<std::size_t>(step)];
}

// ---------------------------------------------------------------------------------------
// Actuals.

ActualsReducer::ActualsReducer(const Model& m, int variant) : variant_(variant) {
  for (const auto& a : m.actuals) {
    refs_.emplace_back(m.node_index.at(a.node), *m.time.index_of(a.year));
    values_.push_back(a.value);
  }
  below_.assign(refs_.size(), 0);
  equal_.assign(refs_.size(), 0);
}

std::unique_ptr<Reducer> ActualsReducer::empty() const {
  auto r = std::make_unique<ActualsReducer>(*this);
  r->runs_ = 0;
  std::fill(r->below_.begin(), r->below_.end(), 0);
  std::fill(r->equal_.begin(), r->equal_.end(), 0);
  return r;
}

void ActualsReducer::add(const StudyBlock& b) {
  const BlockView& v = b.variants[static_cast<std::size_t>(variant_)];
  for (std::size_t a = 0; a < refs_.size(); ++a) {
    const double* x = v.values(refs_[a].second, refs_[a].first);
    for (int i = 0; i < b.count; ++i) {
      below_[a] += x[i] < values_[a];
      equal_[a] += x[i] == values_[a];
    }
  }
  runs_ += static_cast<std::uint64_t>(b.count);
}

void ActualsReducer::merge(const Reducer& later) {
  const auto& o = same_kind<ActualsReducer>(later);
  runs_ += o.runs_;
  add_counts(below_, o.below_);
  add_counts(equal_, o.equal_);
}

ReducerState ActualsReducer::save() const {
  ReducerState s;
  s.counts["runs"] = {runs_};
  s.counts["below"] = below_;
  s.counts["equal"] = equal_;
  return s;
}

void ActualsReducer::load(const ReducerState& s) {
  runs_ = counts_of(s, "runs", 1)[0];
  below_ = counts_of(s, "below", below_.size());
  equal_ = counts_of(s, "equal", equal_.size());
  for (std::size_t a = 0; a < below_.size(); ++a)
    if (below_[a] > runs_ || equal_[a] > runs_ - below_[a])
      throw std::invalid_argument(
          fmt::format("reducer state: 'below' and 'equal' count more than the {} runs", runs_));
}

// ---------------------------------------------------------------------------------------
// Node summaries.

SummaryReducer::SummaryReducer(int nodes, int steps, int variant)
    : nodes_(nodes),
      steps_(steps),
      variant_(variant),
      moments_(static_cast<std::size_t>(nodes) * static_cast<std::size_t>(steps)),
      sketches_(moments_.size()) {}

std::unique_ptr<Reducer> SummaryReducer::empty() const {
  return std::make_unique<SummaryReducer>(nodes_, steps_, variant_);
}

void SummaryReducer::add(const StudyBlock& b) {
  const BlockView& v = b.variants[static_cast<std::size_t>(variant_)];
  for (int node = 0; node < nodes_; ++node)
    for (int k = 0; k < steps_; ++k) {
      const std::size_t i = static_cast<std::size_t>(node) * static_cast<std::size_t>(steps_) +
                            static_cast<std::size_t>(k);
      const double* x = v.values(k, node);
      moments_[i].add(x, b.count, b.first_run);
      sketches_[i].add(x, b.count);
    }
}

void SummaryReducer::merge(const Reducer& later) {
  const auto& o = same_kind<SummaryReducer>(later);
  if (o.moments_.size() != moments_.size())
    throw std::logic_error("merge of reducers of different shapes");
  for (std::size_t i = 0; i < moments_.size(); ++i) {
    moments_[i].seal();
    moments_[i].total.merge(o.moments_[i].moments());
    sketches_[i].merge(o.sketches_[i]);
  }
}

ReducerState SummaryReducer::save() const {
  ReducerState s;
  save_moments(s, "moments_", moments_);
  auto& c = s.counts["sketches"];
  auto& r = s.reals["sketches"];
  for (const auto& sk : sketches_) sk.save(c, r);
  return s;
}

void SummaryReducer::load(const ReducerState& s) {
  load_moments(s, "moments_", moments_);
  const auto ci = s.counts.find("sketches");
  const auto ri = s.reals.find("sketches");
  if (ci == s.counts.end() || ri == s.reals.end())
    throw std::invalid_argument("reducer state: 'sketches' is missing");
  std::size_t a = 0, b = 0;
  for (auto& sk : sketches_) sk.load(ci->second, a, ri->second, b);
}

Moments SummaryReducer::moments(int node, int step) const {
  return moments_[static_cast<std::size_t>(node) * static_cast<std::size_t>(steps_) +
                  static_cast<std::size_t>(step)]
      .moments();
}

const QuantileSketch& SummaryReducer::sketch(int node, int step) const {
  return sketches_[static_cast<std::size_t>(node) * static_cast<std::size_t>(steps_) +
                   static_cast<std::size_t>(step)];
}

// ---------------------------------------------------------------------------------------
// Per-run rows.

RowsReducer::RowsReducer(const Model& m, const Program& p, int variant, bool full, ChunkSink* sink)
    : parameters_(p.parameters()),
      variant_(variant),
      steps_(p.steps()),
      nodes_(p.nodes()),
      full_(full),
      sink_(sink) {
  for (const auto& t : m.targets)
    targets_.emplace_back(m.node_index.at(t.node), *m.time.index_of(t.year));
}

std::unique_ptr<Reducer> RowsReducer::empty() const {
  auto r = std::make_unique<RowsReducer>(*this);
  r->data_ = ChunkData{};
  r->rows_ = 0;
  return r;
}

void RowsReducer::add(const StudyBlock& b) {
  const BlockView& v = b.variants[static_cast<std::size_t>(variant_)];
  if (data_.count == 0) data_.first_run = b.first_run;
  const auto nt = targets_.size(), np = parameters_.size();
  const auto row0 = static_cast<std::size_t>(data_.count);
  const auto n = static_cast<std::size_t>(b.count);
  data_.target_values.resize((row0 + n) * nt);
  data_.parameters.resize((row0 + n) * np);
  for (std::size_t t = 0; t < nt; ++t) {
    const double* x = v.values(targets_[t].second, targets_[t].first);
    for (std::size_t i = 0; i < n; ++i) data_.target_values[(row0 + i) * nt + t] = x[i];
  }
  for (std::size_t j = 0; j < np; ++j) {
    const double* x = v.values(0, parameters_[j]);
    for (std::size_t i = 0; i < n; ++i) data_.parameters[(row0 + i) * np + j] = x[i];
  }
  if (full_) {
    const auto ns = static_cast<std::size_t>(steps_) * static_cast<std::size_t>(nodes_);
    data_.full.resize((row0 + n) * ns);
    for (int k = 0; k < steps_; ++k)
      for (int node = 0; node < nodes_; ++node) {
        const double* x = v.values(k, node);
        for (std::size_t i = 0; i < n; ++i)
          data_.full[(row0 + i) * ns +
                     static_cast<std::size_t>(k) * static_cast<std::size_t>(nodes_) +
                     static_cast<std::size_t>(node)] = x[i];
      }
  }
  data_.count += b.count;
}

void RowsReducer::chunk_done() {
  if (sink_ && data_.count > 0) sink_->write(data_);
  rows_ += static_cast<std::uint64_t>(data_.count);
  data_ = ChunkData{};
}

void RowsReducer::merge(const Reducer& later) {
  rows_ += same_kind<RowsReducer>(later).rows_;
}

ReducerState RowsReducer::save() const {
  ReducerState s;
  s.counts["rows"] = {rows_};
  return s;
}

void RowsReducer::load(const ReducerState& s) {
  rows_ = counts_of(s, "rows", 1)[0];
}

// ---------------------------------------------------------------------------------------
// Paired comparison.

PairedReducer::PairedReducer(const Model& m, int reference, int other)
    : reference_(reference), other_(other) {
  for (const auto& t : m.targets)
    refs_.push_back({m.node_index.at(t.node), *m.time.index_of(t.year), t.op, t.threshold});
  cells_.assign((refs_.size() + 1) * 4, 0);
  diff_.resize(refs_.size());
}

std::unique_ptr<Reducer> PairedReducer::empty() const {
  auto r = std::make_unique<PairedReducer>(*this);
  std::fill(r->cells_.begin(), r->cells_.end(), 0);
  for (auto& d : r->diff_) d = RunMoments{};
  return r;
}

void PairedReducer::add(const StudyBlock& b) {
  const BlockView& a = b.variants[static_cast<std::size_t>(reference_)];
  const BlockView& o = b.variants[static_cast<std::size_t>(other_)];
  const auto nt = refs_.size();
  const auto n = static_cast<std::size_t>(b.count);
  std::vector<char> all_a(n, nt > 0), all_o(n, nt > 0);
  scratch_.resize(n);
  for (std::size_t t = 0; t < nt; ++t) {
    const Ref& r = refs_[t];
    const double* x = a.values(r.step, r.node);
    const double* y = o.values(r.step, r.node);
    std::uint64_t* c = &cells_[t * 4];
    for (std::size_t i = 0; i < n; ++i) {
      const bool ha = compare(r.op, x[i], r.threshold), ho = compare(r.op, y[i], r.threshold);
      ++c[ha ? (ho ? 0 : 2) : (ho ? 1 : 3)];
      all_a[i] = all_a[i] && ha;
      all_o[i] = all_o[i] && ho;
      scratch_[i] = y[i] - x[i];
    }
    diff_[t].add(scratch_.data(), b.count, b.first_run);
  }
  std::uint64_t* c = &cells_[nt * 4];
  for (std::size_t i = 0; i < n; ++i) ++c[all_a[i] ? (all_o[i] ? 0 : 2) : (all_o[i] ? 1 : 3)];
}

void PairedReducer::merge(const Reducer& later) {
  const auto& o = same_kind<PairedReducer>(later);
  add_counts(cells_, o.cells_);
  for (std::size_t t = 0; t < diff_.size(); ++t) {
    diff_[t].seal();
    diff_[t].total.merge(o.diff_[t].moments());
  }
}

ReducerState PairedReducer::save() const {
  ReducerState s;
  s.counts["cells"] = cells_;
  save_moments(s, "difference_", diff_);
  return s;
}

void PairedReducer::load(const ReducerState& s) {
  cells_ = counts_of(s, "cells", cells_.size());
  load_moments(s, "difference_", diff_);
}

PairedReducer::Table PairedReducer::table(std::size_t target) const {
  const std::uint64_t* c = &cells_.at(target * 4);
  return {c[0], c[1], c[2], c[3]};
}

Moments PairedReducer::difference(std::size_t target) const {
  return diff_.at(target).moments();
}

// ---------------------------------------------------------------------------------------
// The dyadic merge.

void StudyState::push(StudyPartial p) {
  partials_.push_back(std::move(p));
  // Siblings [2j] and [2j + 1] of one level become their parent j.
  while (partials_.size() >= 2) {
    StudyPartial& right = partials_[partials_.size() - 1];
    StudyPartial& left = partials_[partials_.size() - 2];
    if (left.level != right.level || left.index % 2 != 0 || right.index != left.index + 1) break;
    for (std::size_t i = 0; i < left.reducers.size(); ++i)
      left.reducers[i]->merge(*right.reducers[i]);
    left.level += 1;
    left.index /= 2;
    partials_.pop_back();
  }
}

void StudyState::append(StudyState later) {
  if (later.partials_.empty()) return;
  if (partials_.empty()) {
    *this = std::move(later);
    return;
  }
  if (later.chunk != chunk)
    throw std::invalid_argument(
        fmt::format("cannot merge states of {}-run and {}-run chunks", chunk, later.chunk));
  if (later.first != last)
    throw std::invalid_argument(
        fmt::format("cannot merge runs [{}, {}) after [{}, {}): the ranges must follow each other",
                    later.first, later.last, first, last));
  if (chunk > 0 && last % static_cast<std::uint64_t>(chunk) != 0)
    throw std::invalid_argument(fmt::format(
        "cannot merge at run {}: not on a chunk boundary (multiples of {})", last, chunk));
  for (auto& p : later.partials_) push(std::move(p));
  last = later.last;
}

std::vector<std::unique_ptr<Reducer>> StudyState::result() const {
  std::vector<std::unique_ptr<Reducer>> out;
  for (const auto& p : partials_) {
    if (out.empty())
      for (const auto& r : p.reducers) {
        out.push_back(r->empty());
        out.back()->merge(*r);
      }
    else
      for (std::size_t i = 0; i < out.size(); ++i) out[i]->merge(*p.reducers[i]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Memory.

std::uint64_t Reducer::bytes(int, bool) const {
  const ReducerState s = save();
  std::uint64_t b = 256;  // the object, its containers and allocator overhead
  for (const auto& c : s.counts) b += c.second.size() * sizeof(std::uint64_t);
  for (const auto& r : s.reals) b += r.second.size() * sizeof(double);
  return b;
}

std::uint64_t SummaryReducer::bytes(int, bool at_bound) const {
  // For sure: moments and a sketch of one bucket (one allocation) per node and step.
  const std::uint64_t sketch = at_bound ? QuantileSketch::max_bytes() : sizeof(QuantileSketch) + 32;
  return sizeof(SummaryReducer) + moments_.size() * (sizeof(RunMoments) + sketch);
}

std::uint64_t RowsReducer::bytes_per_run() const {
  const std::uint64_t full =
      full_ ? static_cast<std::uint64_t>(steps_) * static_cast<std::uint64_t>(nodes_) : 0;
  return (targets_.size() + parameters_.size() + full) * sizeof(double);
}

std::uint64_t RowsReducer::bytes_per_run(const Model& m, bool full) {
  std::uint64_t parameters = 0;
  for (const auto& n : m.nodes) parameters += n.kind == NodeKind::kParameter;
  const std::uint64_t all = full ? static_cast<std::uint64_t>(m.time.steps()) * m.nodes.size() : 0;
  return (m.targets.size() + parameters + all) * sizeof(double);
}

std::uint64_t RowsReducer::bytes(int chunk_runs, bool at_bound) const {
  // A chunk's rows grow block by block; growing a vector may double its last allocation.
  return sizeof(RowsReducer) +
         static_cast<std::uint64_t>(chunk_runs) * bytes_per_run() * (at_bound ? 2 : 1);
}

int buffered_chunk(int chunk, std::uint64_t bytes_per_run, std::uint64_t budget) {
  while (chunk > 1 && static_cast<std::uint64_t>(chunk) * bytes_per_run > budget) chunk /= 2;
  return chunk;
}

namespace {

/// The value of `key` (in kB) in a /proc file of "Key: value kB" lines, in bytes; 0 if absent.
std::uint64_t proc_kib(const char* path, const std::string& key) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key, 0) == 0)
      return std::strtoull(line.c_str() + key.size(), nullptr, 10) * 1024;
  return 0;
}

}  // namespace

AvailableMemory available_memory_source() {
  AvailableMemory out{proc_kib("/proc/meminfo", "MemAvailable:"), "available (MemAvailable)"};
  if (out.bytes == 0) {
    const long pages = ::sysconf(_SC_AVPHYS_PAGES), size = ::sysconf(_SC_PAGESIZE);
    if (pages > 0 && size > 0)
      out.bytes = static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(size);
  }
  const auto lower = [&](std::uint64_t left, std::string source) {
    if (out.bytes == 0 || left < out.bytes) out = {left, std::move(source)};
  };
  // A cgroup (v2) limit, as in a container: what is left below memory.max.
  std::uint64_t max = 0, current = 0;
  if (std::ifstream in("/sys/fs/cgroup/memory.max"); in && (in >> max)) {
    if (std::ifstream cur("/sys/fs/cgroup/memory.current"); cur) cur >> current;
    lower(max > current ? max - current : 0, "left below the cgroup's limit (memory.max)");
  }
  // The address-space limit (ulimit -v): what this process has not yet mapped below it.
  if (struct rlimit as{}; ::getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
    const std::uint64_t limit = as.rlim_cur, mapped = proc_kib("/proc/self/status", "VmSize:");
    lower(limit > mapped ? limit - mapped : 0,
          fmt::format("left under the address-space limit (ulimit -v) of {} MiB", limit >> 20));
  }
  return out;
}

std::uint64_t available_memory() {
  return available_memory_source().bytes;
}

namespace {

/// Runs per block: results do not depend on it, so it may shrink to keep one thread's
/// blocks (steps x slots x block doubles per variant) within 256 MiB.
int block_runs(const Study& s, const StudyOptions& o) {
  std::uint64_t per_run = 0;
  for (const Program* p : s.variants)
    per_run += static_cast<std::uint64_t>(p->steps()) * static_cast<std::uint64_t>(p->slots()) *
               sizeof(double);
  const std::uint64_t budget =
      std::max<std::uint64_t>(1, (std::uint64_t{256} << 20) / std::max<std::uint64_t>(1, per_run));
  const int block = o.block > 0 ? o.block : auto_block();
  return static_cast<int>(std::min<std::uint64_t>(
      {static_cast<std::uint64_t>(std::min(block, o.chunk)), o.last - o.first, budget}));
}

int study_threads(const StudyOptions& o) {
  return o.threads > 0 ? o.threads : tbb::this_task_arena::max_concurrency();
}

std::string size_text(std::uint64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (b >= 0x1.0p30) return fmt::format("{:.1f} GiB", b / 0x1.0p30);
  if (b >= 0x1.0p20) return fmt::format("{:.0f} MiB", b / 0x1.0p20);
  return fmt::format("{:.0f} KiB", std::ceil(b / 0x1.0p10));
}

}  // namespace

MemoryEstimate estimate_memory(const Study& s, const StudyOptions& o) {
  MemoryEstimate e;
  e.threads = static_cast<std::uint64_t>(study_threads(o));
  e.block = block_runs(s, o);
  for (const Program* p : s.variants) {
    const Program::Block lane = p->make_block(1);
    e.blocks += sizeof(Program::Block) + (lane.values.size() + lane.scratch.size()) *
                                             sizeof(double) * static_cast<std::uint64_t>(e.block);
  }
  const auto chunk_runs = static_cast<int>(
      std::min<std::uint64_t>(static_cast<std::uint64_t>(o.chunk), o.last - o.first));
  for (const auto& r : s.reducers) {
    const std::uint64_t sure = r->bytes(chunk_runs, false), most = r->bytes(chunk_runs, true);
    if (dynamic_cast<const RowsReducer*>(r.get())) {
      e.buffers += sure;
      e.buffers_most += most;
    } else {
      e.state += sure;
      e.state_most += most;
    }
  }
  const auto chunk = static_cast<std::uint64_t>(o.chunk);
  const std::uint64_t chunks = (o.last - 1) / chunk + 1 - o.first / chunk;
  e.in_flight = std::min<std::uint64_t>(2 * e.threads, chunks);
  // In flight, the dyadic partials (one per level at most), the result and the prototypes.
  e.sets = e.in_flight + static_cast<std::uint64_t>(std::bit_width(chunks)) + 2;
  return e;
}

namespace {

/// The refusal: the need, its parts, the limit, and the one change that helps most.
std::string memory_message(const Study& s, const StudyOptions& o, const MemoryEstimate& e) {
  const std::uint64_t limit = o.memory_limit;
  const std::uint64_t blocks = e.threads * e.blocks, state = e.sets * e.state,
                      buffers = e.in_flight * e.buffers;
  std::string text = fmt::format(
      "this study needs at least {} of memory, more than the {} {}: {} thread(s) x {} of "
      "evaluation blocks ({} runs x {} steps of every node at once), {} x {} of node "
      "statistics",
      size_text(e.least()), size_text(limit), o.memory_limit_source, e.threads, size_text(e.blocks),
      e.block, s.variants.front()->steps(), e.sets, size_text(e.state));
  if (e.buffers > 0)
    text += fmt::format(", {} chunks x {} of per-run rows", e.in_flight, size_text(e.buffers));
  // What one more thread costs, and what one thread alone needs.
  const std::uint64_t per_thread = e.blocks + 2 * (e.state + e.buffers);
  const std::uint64_t one = e.least() - (e.threads - 1) * per_thread;
  std::string help;
  if (e.threads > 1 && one <= limit) {
    const std::uint64_t fit = std::min(e.threads - 1, 1 + (limit - one) / per_thread);
    help =
        fmt::format("use --threads {} or fewer (each thread adds {})", fit, size_text(per_thread));
  } else if (blocks >= state && blocks >= buffers) {
    help = "use a smaller --block (each thread evaluates that many runs at once)";
  } else if (buffers >= state) {
    help = "use --store targets or summary (--store full buffers every node of every run)";
  } else {
    help =
        "leave out --out (node statistics of every step are kept only for the results "
        "file), or shorten the time axis";
  }
  return text + "; " + help + ", or set --memory-limit if more memory is really free";
}

}  // namespace

// ---------------------------------------------------------------------------------------
// The scheduler.

namespace {

/// Everything one chunk contributes, produced in parallel and merged in order.
struct ChunkWork {
  std::uint64_t index = 0, first = 0;
  int count = 0;
  std::vector<std::unique_ptr<Reducer>> reducers;
  std::exception_ptr error;
};

/// The design's draws of variant `v`, or nullptr for the counter-based streams.
const Draws* draws_of(const Study& s, std::size_t v) {
  return s.design.draws.empty() ? nullptr : &s.design.draws[v];
}

/// Evaluates chunk `w` block by block into its reducers; `local` holds this thread's
/// blocks, one per variant (made or remade here for `block_size`).
void evaluate_chunk(const Study& s, const StudyOptions& o, ChunkWork& w,
                    std::vector<Program::Block>& local, int block_size) {
  const auto k_variants = s.variants.size();
  for (const auto& r : s.reducers) w.reducers.push_back(r->empty());
  if (local.size() != k_variants || local[0].capacity != block_size) {
    local.clear();
    for (const Program* p : s.variants) local.push_back(p->make_block(block_size));
  }
  std::vector<BlockView> views;
  for (int off = 0; off < w.count; off += block_size) {
    if (o.cancel && o.cancel->load(std::memory_order_relaxed)) throw InterruptedError();
    const int n = std::min(block_size, w.count - off);
    const std::uint64_t run0 = w.first + static_cast<std::uint64_t>(off);
    views.clear();
    for (std::size_t v = 0; v < k_variants; ++v) {
      const Program& p = *s.variants[v];
      try {
        p.evaluate(local[v], o.seed, run0, n, draws_of(s, v));
      } catch (const RunError&) {
        // Name the lowest failing run of the block, whatever the block size: runs are
        // independent, so evaluate them alone in order until one fails.
        Program::Block one = p.make_block(1);
        for (int i = 0; i < n; ++i)
          p.evaluate(one, o.seed, run0 + static_cast<std::uint64_t>(i), 1, draws_of(s, v));
        throw;
      }
      views.emplace_back(p, local[v], run0, n);
    }
    StudyBlock b{run0, n, views};
    for (auto& r : w.reducers) r->add(b);
  }
}

/// The serial stage's work on chunk `w`, in run order: its error raised (after a last
/// checkpoint when it is an interruption), else its reducers pushed into the state. True
/// when the stop rule ends the study here.
bool merge_chunk(const StudyOptions& o, ChunkWork& w, StudyResult& result) {
  if (w.error) {
    if (o.checkpoint) try {
        std::rethrow_exception(w.error);
      } catch (const InterruptedError&) {
        o.checkpoint(result.state, true);  // every chunk before this one is in the state
      } catch (...) {
      }
    std::rethrow_exception(w.error);
  }
  for (auto& r : w.reducers) r->chunk_done();
  const bool stop = o.stop && o.stop->observe(w.reducers);
  result.last = w.first + static_cast<std::uint64_t>(w.count);
  result.state.push({0, w.index, std::move(w.reducers)});
  result.state.last = result.last;
  if (o.progress) o.progress(result.last - o.first);
  if (o.checkpoint) o.checkpoint(result.state, false);
  return stop;
}

/// What run_study refuses before it starts (std::invalid_argument, MemoryLimitError).
void check_study(const Study& s, const StudyOptions& o) {
  if (s.variants.empty()) throw std::invalid_argument("run_study: no variants");
  if (o.last <= o.first) throw std::invalid_argument("run_study: the run range is empty");
  if (o.block < 0 || o.chunk < 1)
    throw std::invalid_argument("run_study: block must be >= 0 (0: automatic), chunk >= 1");
  if (o.memory_limit > 0) {
    const MemoryEstimate e = estimate_memory(s, o);
    if (e.least() > o.memory_limit) throw MemoryLimitError(memory_message(s, o, e));
  }
  if (!s.design.draws.empty() && s.design.draws.size() != s.variants.size())
    throw std::invalid_argument("run_study: the design's draws must be one per variant");
}

}  // namespace

StudyResult run_study(const Study& s, const StudyOptions& o) {
  if (o.communicator && o.communicator->size() > 1) return run_study_on_ranks(s, o);
  check_study(s, o);
  const auto start = std::chrono::steady_clock::now();
  const auto chunk = static_cast<std::uint64_t>(o.chunk);
  const int block_size = block_runs(s, o);
  const std::uint64_t first_chunk = o.first / chunk;
  const std::uint64_t end_chunk = (o.last - 1) / chunk + 1;

  // ThreadSanitizer cannot see TBB's own synchronisation (Debian's libtbb is not
  // instrumented), so the orderings the pipeline guarantees and this function relies on
  // are stated (happens_before.hpp; nothing in other builds): the code before the pipeline
  // happens before every filter call; the calls of each serial filter happen one after
  // another (`input`, `output`); every call happens before the code after the pipeline,
  // which also destroys the threads' blocks (`done`). A chunk passes from the parallel to
  // the serial stage through `in_flight_mutex`, which TSan sees.
  struct {
    char input, output, done;
  } hb;
  tbb::enumerable_thread_specific<std::vector<Program::Block>> blocks;
  // Chunks between the parallel and the serial stage are owned here, not by raw pointers
  // in the pipeline: a failed or cancelled pipeline drops the items in flight, and their
  // memory must still be freed.
  std::mutex in_flight_mutex;
  std::map<std::uint64_t, std::unique_ptr<ChunkWork>> in_flight;
  auto work = [&](std::uint64_t c) -> std::uint64_t {
    auto w = std::make_unique<ChunkWork>();
    w->index = c;
    try {
      w->first = std::max(o.first, c * chunk);
      const std::uint64_t end = std::min(o.last, (c + 1) * chunk);
      w->count = static_cast<int>(end - w->first);
      evaluate_chunk(s, o, *w, blocks.local(), block_size);
    } catch (...) {
      w->error = std::current_exception();
    }
    std::lock_guard lock(in_flight_mutex);
    in_flight.emplace(c, std::move(w));
    return c;
  };

  StudyResult result;
  result.first = o.first;
  result.last = o.first;
  result.state.first = result.state.last = o.first;
  result.state.chunk = o.chunk;
  std::uint64_t next = first_chunk;
  std::atomic<bool> stopped{false};
  auto merge = [&](std::uint64_t c) {
    std::unique_ptr<ChunkWork> w;
    {
      std::lock_guard lock(in_flight_mutex);
      auto it = in_flight.find(c);
      w = std::move(it->second);
      in_flight.erase(it);
    }
    if (stopped.load()) return;  // computed ahead of a stop: not part of the study
    if (merge_chunk(o, *w, result)) stopped.store(true);
  };

  // The study's own arena: its threads, never a process-wide limit, so that studies run
  // side by side in one process (a server, a notebook) each get theirs. More threads than
  // TBB's process limit (the cores) get that many slots, filled as far as the limit allows;
  // a front end that owns its process may raise the limit (the CLI's --force-threads).
  const int threads = study_threads(o);
  tbb::task_arena arena(threads);
  auto input = [&](tbb::flow_control& fc) -> std::uint64_t {
    if (next >= end_chunk || stopped.load()) {
      fc.stop();
      return 0;
    }
    return next++;
  };
  {
    struct AfterPipeline {  // also when the pipeline throws
      void* done;
      ~AfterPipeline() { ATTAIN_HAPPENS_AFTER(done); }
    } after{&hb.done};
    using detail::AnnotatedFilter;
    arena.execute([&] {
      tbb::parallel_pipeline(
          static_cast<std::size_t>(threads) * 2,
          tbb::make_filter<void, std::uint64_t>(tbb::filter_mode::serial_in_order,
                                                AnnotatedFilter(input, &hb.input, &hb.done)) &
              tbb::make_filter<std::uint64_t, std::uint64_t>(
                  tbb::filter_mode::parallel, AnnotatedFilter(work, nullptr, &hb.done)) &
              tbb::make_filter<std::uint64_t, void>(tbb::filter_mode::serial_in_order,
                                                    AnnotatedFilter(merge, &hb.output, &hb.done)));
    });
  }
  result.state.first = result.first;
  result.state.last = result.last;
  result.state.chunk = o.chunk;
  result.reducers = result.state.result();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

// ---------------------------------------------------------------------------------------
// Statistics.

Proportion proportion(std::uint64_t hits, std::uint64_t runs) {
  Proportion p;
  p.hits = hits;
  p.runs = runs;
  p.p = runs ? static_cast<double>(hits) / static_cast<double>(runs) : 0.0;
  std::tie(p.lo, p.hi) = wilson_interval(hits, runs);
  return p;
}

namespace {

Difference newcombe(const PairedReducer::Table& t, double phi) {
  const std::uint64_t n = t.n();
  const Proportion r = proportion(t.both + t.hurt, n);    // reference met
  const Proportion o = proportion(t.both + t.helped, n);  // other met
  Difference d;
  d.difference = o.p - r.p;
  const double dl =
      std::sqrt(std::max(0.0, (o.p - o.lo) * (o.p - o.lo) - 2 * phi * (o.p - o.lo) * (r.hi - r.p) +
                                  (r.hi - r.p) * (r.hi - r.p)));
  const double du =
      std::sqrt(std::max(0.0, (r.p - r.lo) * (r.p - r.lo) - 2 * phi * (r.p - r.lo) * (o.hi - o.p) +
                                  (o.hi - o.p) * (o.hi - o.p)));
  d.lo = std::max(-1.0, d.difference - dl);
  d.hi = std::min(1.0, d.difference + du);
  return d;
}

}  // namespace

Difference paired_difference(const PairedReducer::Table& t) {
  // Rows: reference met (both + hurt) / not (helped + neither); columns: other met
  // (both + helped) / not (hurt + neither).
  const double a = static_cast<double>(t.both), b = static_cast<double>(t.hurt),
               c = static_cast<double>(t.helped), d = static_cast<double>(t.neither);
  const double denominator = (a + b) * (c + d) * (a + c) * (b + d);
  const double phi = denominator > 0 ? (a * d - b * c) / std::sqrt(denominator) : 0.0;
  return newcombe(t, phi);
}

Difference unpaired_difference(const PairedReducer::Table& t) {
  return newcombe(t, 0.0);
}

double mcnemar_exact_p(std::uint64_t helped, std::uint64_t hurt) {
  const std::uint64_t n = helped + hurt;
  if (n == 0) return 1.0;
  const std::uint64_t k = std::min(helped, hurt);
  if (2 * k == n) return 1.0;
  boost::math::binomial_distribution<double> bin(static_cast<double>(n), 0.5);
  const double p = 2 * boost::math::cdf(bin, static_cast<double>(k));
  return std::min(1.0, p);
}

MeanInterval mean_interval(const Moments& m) {
  MeanInterval r;
  r.mean = m.mean();
  r.sd = m.sd();
  if (m.n < 2) {
    r.lo = -std::numeric_limits<double>::infinity();
    r.hi = std::numeric_limits<double>::infinity();
    return r;
  }
  boost::math::students_t t(static_cast<double>(m.n - 1));
  const double q = boost::math::quantile(t, 0.975);
  const double half = q * r.sd / std::sqrt(static_cast<double>(m.n));
  r.lo = r.mean - half;
  r.hi = r.mean + half;
  return r;
}

int auto_block(std::uint64_t l1_bytes) {
  // An instruction reads up to three arrays of the block and writes one: those four stay
  // within half the L1 data cache. The block's values over every slot and step need not
  // fit any cache: measured on the 1 000-node graph (docs/performance.md), blocks of 16
  // that fit the L2 cache ran 3x slower than 256 that do not, from per-instruction
  // dispatch; above 256 nothing more is gained.
  if (l1_bytes == 0) {
    const long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE);
    l1_bytes = l1 > 0 ? static_cast<std::uint64_t>(l1) : std::uint64_t{32} << 10;
  }
  int block = 256;
  while (block > 16 && static_cast<std::uint64_t>(block) * 4 * sizeof(double) > l1_bytes / 2)
    block /= 2;
  return block;
}

}  // namespace attain
