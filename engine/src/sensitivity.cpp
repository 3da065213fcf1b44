// Global sensitivity on Saltelli's design: factors, the design's draws, the Sobol and
// design-sample reducers, and the indices with their bootstrap intervals.
#include "attain/sensitivity.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <boost/random/sobol.hpp>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include "attain/random.hpp"
#include "reducer_state.hpp"

namespace attain {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool uncertain_param(const Program& p, std::size_t j) {
  return !p.model().nodes[static_cast<std::size_t>(p.parameters()[j])].dist.fixed;
}

std::string join(const std::vector<std::string>& names, const char* sep) {
  std::string s;
  for (std::size_t i = 0; i < names.size(); ++i) s += (i ? sep : "") + names[i];
  return s;
}

/// Poisson(1) from a uniform by inversion: the smallest k with F(k) >= u.
std::uint32_t poisson1(double u) {
  double p = std::exp(-1.0), f = p;
  std::uint32_t k = 0;
  while (u > f && k < 40) {
    ++k;
    p /= static_cast<double>(k);
    f += p;
  }
  return k;
}

/// The 2.5 % and 97.5 % points of the finite values (linear interpolation between order
/// statistics, Hyndman and Fan type 7).
std::pair<double, double> percentile_interval(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  if (v.size() < 2) return {kNaN, kNaN};
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    const double h = q * static_cast<double>(v.size() - 1);
    const auto i = static_cast<std::size_t>(std::floor(h));
    const double frac = h - static_cast<double>(i);
    return i + 1 < v.size() ? v[i] + frac * (v[i + 1] - v[i]) : v[i];
  };
  return {at(0.025), at(0.975)};
}

struct Ref {
  int node = 0, step = 0;
};

}  // namespace

// ---------------------------------------------------------------------------------------
// Factors.

std::vector<Factor> sensitivity_factors(const Program& p, const std::vector<FactorGroup>& groups) {
  const Model& m = p.model();
  const auto& params = p.parameters();
  std::map<std::string, std::size_t> position;  // parameter name -> position
  for (std::size_t j = 0; j < params.size(); ++j)
    position[m.nodes[static_cast<std::size_t>(params[j])].name] = j;
  std::vector<std::string> uncertain_names;
  for (std::size_t j = 0; j < params.size(); ++j)
    if (uncertain_param(p, j))
      uncertain_names.push_back(m.nodes[static_cast<std::size_t>(params[j])].name);
  auto list = [&] {
    if (uncertain_names.empty()) return std::string("the model has none");
    std::vector<std::string> shown(
        uncertain_names.begin(),
        uncertain_names.begin() +
            static_cast<std::ptrdiff_t>(std::min<std::size_t>(uncertain_names.size(), 12)));
    return "uncertain parameters: " + join(shown, ", ") +
           (uncertain_names.size() > 12 ? ", ..." : "");
  };

  // owner[j]: the factor key of parameter j ("" = alone).
  std::vector<int> group_of(params.size(), -1);  // hand-made group index
  std::set<std::string> group_names;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const auto& fg = groups[g];
    if (fg.name.empty()) throw std::invalid_argument("--factor needs a name: NAME=a,b,c");
    if (!group_names.insert(fg.name).second)
      throw std::invalid_argument(fmt::format("--factor '{}' is given twice", fg.name));
    if (fg.parameters.empty())
      throw std::invalid_argument(
          fmt::format("--factor '{}' names no parameter; write NAME=a,b,c", fg.name));
    for (const auto& name : fg.parameters) {
      auto it = position.find(name);
      if (it == position.end() || !uncertain_param(p, it->second))
        throw std::invalid_argument(fmt::format(
            "--factor '{}': '{}' is not an uncertain parameter of the model{}; {}", fg.name, name,
            it == position.end() ? "" : " (it is fixed in this scenario)", list()));
      if (group_of[it->second] >= 0)
        throw std::invalid_argument(fmt::format(
            "--factor '{}': '{}' is already in --factor '{}'; a parameter belongs to one factor",
            fg.name, name, groups[static_cast<std::size_t>(group_of[it->second])].name));
      group_of[it->second] = static_cast<int>(g);
    }
  }
  // Correlation groups: one factor, or wholly inside one hand-made group.
  std::vector<int> corr_of(params.size(), -1);
  for (std::size_t c = 0; c < m.correlations.size(); ++c) {
    const auto& cg = m.correlations[c];
    int hand = -2;
    for (const auto& name : cg.parameters) {
      auto it = position.find(name);
      if (it == position.end()) continue;
      corr_of[it->second] = static_cast<int>(c);
      const int g = group_of[it->second];
      if (hand == -2) hand = g;
      if (g != hand)
        throw std::invalid_argument(fmt::format(
            "--factor: the correlated parameters {} must stay in one factor (Sobol indices "
            "need independent factors); put all of them in the same --factor, or none",
            join(cg.parameters, ", ")));
    }
  }

  std::vector<Factor> factors;
  std::map<int, std::size_t> hand_factor, corr_factor;
  for (std::size_t j = 0; j < params.size(); ++j) {
    if (!uncertain_param(p, j)) continue;
    const std::string& name = m.nodes[static_cast<std::size_t>(params[j])].name;
    const int ji = static_cast<int>(j);
    if (group_of[j] >= 0) {
      auto [it, fresh] = hand_factor.emplace(group_of[j], factors.size());
      if (fresh)
        factors.push_back(
            {groups[static_cast<std::size_t>(group_of[j])].name, {}, {}, false, "--factor"});
      factors[it->second].parameters.push_back(ji);
      factors[it->second].members.push_back(name);
    } else if (corr_of[j] >= 0) {
      auto [it, fresh] = corr_factor.emplace(corr_of[j], factors.size());
      if (fresh) {
        std::vector<std::string> members;
        for (const auto& n : m.correlations[static_cast<std::size_t>(corr_of[j])].parameters)
          if (position.count(n)) members.push_back(n);
        factors.push_back({join(members, " + "), {}, {}, false, "correlation group"});
      }
      factors[it->second].parameters.push_back(ji);
      factors[it->second].members.push_back(name);
    } else {
      factors.push_back({name, {ji}, {name}, false, "parameter"});
    }
  }
  if (p.shocks() > 0) factors.push_back({"year-to-year randomness", {}, {}, true, "shocks"});
  return factors;
}

// ---------------------------------------------------------------------------------------
// The design.

std::size_t sobol_max_dimension() {
  return boost::random::detail::qrng_tables::sobol::max_dimension;
}

namespace {

/// What every variant's draws share: the uncertain parameters, the sampling and the
/// shifts, and a per-thread cache of the current block's A and B uniforms (the K
/// variants of a block ask for the same rows one after another).
struct SaltelliPoints {
  std::uint64_t id = 0;
  std::uint64_t seed = 0;
  Sampling sampling = Sampling::kSobol;
  std::vector<std::size_t> uncertain;  ///< positions in Program::parameters()
  std::vector<std::uint64_t> node_ids;
  std::vector<std::uint64_t> shift;  ///< per Sobol dimension

  struct Cache {
    std::uint64_t id = 0, first = 0;
    int count = -1;
    std::vector<double> a, b;  ///< [q][lane]
    std::optional<boost::random::sobol> sobol;
    std::uint64_t sobol_id = 0;
  };

  const Cache& points(std::uint64_t first, int count) const {
    thread_local Cache c;
    if (c.id == id && c.first == first && c.count == count) return c;
    const auto u = uncertain.size();
    const auto n = static_cast<std::size_t>(count);
    c.a.resize(u * n);
    c.b.resize(u * n);
    if (sampling == Sampling::kRandom) {
      for (std::size_t q = 0; q < u; ++q) {
        first_uniforms(seed, first, node_ids[q], kOncePerRun, count, c.a.data() + q * n);
        first_uniforms(seed, first, node_ids[q], kOncePerRun, count, c.b.data() + q * n,
                       StreamPurpose::kDesignB);
      }
    } else if (u > 0) {
      if (!c.sobol || c.sobol_id != id) {
        c.sobol.emplace(static_cast<std::size_t>(2 * u));
        c.sobol_id = id;
      }
      auto& g = *c.sobol;
      g.seed(first);  // point first + 1 (Boost skips the point 0)
      for (std::size_t lane = 0; lane < n; ++lane) {
        for (std::size_t d = 0; d < 2 * u; ++d) {
          const std::uint64_t v = static_cast<std::uint64_t>(g()) + shift[d];  // mod 2^64
          (d < u ? c.a[d * n + lane] : c.b[(d - u) * n + lane]) = u01_of(v);
        }
      }
    }
    c.id = id;
    c.first = first;
    c.count = count;
    return c;
  }
};

std::atomic<std::uint64_t> g_design_ids{1};

}  // namespace

Design saltelli_design(const Program& p, const std::vector<Factor>& factors, std::uint64_t seed,
                       Sampling sampling) {
  auto pts = std::make_shared<SaltelliPoints>();
  pts->id = g_design_ids.fetch_add(1);
  pts->seed = seed;
  pts->sampling = sampling;
  const auto& params = p.parameters();
  std::vector<int> q_of(params.size(), -1);
  for (std::size_t j = 0; j < params.size(); ++j)
    if (uncertain_param(p, j)) {
      q_of[j] = static_cast<int>(pts->uncertain.size());
      pts->uncertain.push_back(j);
      pts->node_ids.push_back(
          static_cast<std::uint64_t>(p.model().nodes[static_cast<std::size_t>(params[j])].id));
    }
  const auto u = pts->uncertain.size();
  if (sampling == Sampling::kSobol) {
    if (2 * u > sobol_max_dimension())
      throw std::invalid_argument(fmt::format(
          "Sobol sampling supports {} uncertain parameters at most (the model has {}); use "
          "random sampling",
          sobol_max_dimension() / 2, u));
    for (std::size_t d = 0; d < 2 * u; ++d)
      pts->shift.push_back(Stream(seed, d, 0, 0, StreamPurpose::kSobolShift).bits());
  }
  Design design;
  design.name = sampling == Sampling::kSobol ? "saltelli-sobol" : "saltelli-random";
  const std::size_t k = factors.size();
  for (std::size_t v = 0; v < k + 2; ++v) {
    // from_b[q]: uncertain parameter q takes B's column in this matrix.
    std::vector<char> from_b(u, v == 1);
    bool shocks_b = v == 1;
    if (v >= 2) {
      const Factor& f = factors[v - 2];
      shocks_b = f.shocks;
      for (int j : f.parameters)
        from_b[static_cast<std::size_t>(q_of[static_cast<std::size_t>(j)])] = 1;
    }
    Draws d;
    d.shocks = shocks_b ? StreamPurpose::kDesignB : StreamPurpose::kSimulation;
    d.parameters = [pts, from_b](std::uint64_t first, int count, int capacity, double* out) {
      const auto& c = pts->points(first, count);
      const auto n = static_cast<std::size_t>(count);
      for (std::size_t q = 0; q < pts->uncertain.size(); ++q) {
        const double* src = (from_b[q] ? c.b.data() : c.a.data()) + q * n;
        std::copy_n(src, n, out + pts->uncertain[q] * static_cast<std::size_t>(capacity));
      }
    };
    design.draws.push_back(std::move(d));
  }
  return design;
}

std::vector<SensitivityOutput> sensitivity_outputs(const Model& m) {
  std::vector<SensitivityOutput> out;
  for (std::size_t t = 0; t < m.targets.size(); ++t) {
    out.push_back({static_cast<int>(t), true});
    out.push_back({static_cast<int>(t), false});
  }
  if (m.targets.size() > 1) out.push_back({-1, true});
  return out;
}

// ---------------------------------------------------------------------------------------
// Sobol sums.

SobolReducer::SobolReducer(const Program& p, std::vector<Factor> factors, int resamples,
                           std::uint64_t seed)
    : factors_(std::move(factors)), resamples_(resamples), seed_(seed) {
  if (resamples < 0) throw std::invalid_argument("SobolReducer: resamples must be >= 0");
  const Model& m = p.model();
  for (const auto& t : m.targets)
    targets_.push_back(
        {m.node_index.at(t.node), *m.time.index_of(t.year), -1, t.op, t.threshold, true});
  for (const auto& o : sensitivity_outputs(m)) {
    Ref r;
    if (o.target >= 0) r = targets_[static_cast<std::size_t>(o.target)];
    r.target = o.target;
    r.met = o.met;
    outputs_.push_back(r);
  }
  for (std::size_t j = 0; j < p.parameters().size(); ++j)
    if (uncertain_param(p, j)) uncertain_.push_back(static_cast<int>(j));
  stride_ = 5 + 3 * factors_.size();
  sums_.assign(outputs_.size() * static_cast<std::size_t>(resamples_ + 1) * stride_, 0.0);
  thirds_.assign(outputs_.size() * uncertain_.size() * 9, 0.0);
}

std::unique_ptr<Reducer> SobolReducer::empty() const {
  auto r = std::make_unique<SobolReducer>(*this);
  std::fill(r->sums_.begin(), r->sums_.end(), 0.0);
  std::fill(r->thirds_.begin(), r->thirds_.end(), 0.0);
  r->rows_ = 0;
  return r;
}

void SobolReducer::add(const StudyBlock& b) {
  if (b.variants.size() != factors_.size() + 2)
    throw std::logic_error("SobolReducer: the study must have k + 2 variants (A, B, AB_j)");
  // The block's outputs, [row][variant][output], and bootstrap multiplicities,
  // [row][replicate]. Then, per output and replicate, the rows are added in run order:
  // the replicate's sums stay in the L1 cache over the block, and the additions to each
  // sum happen in run order whatever the block size, so the bits do not depend on it.
  block_outputs(b);
  for (std::size_t o = 0; o < outputs_.size(); ++o) add_sums(o, static_cast<std::size_t>(b.count));
  add_thirds(b);
  rows_ += static_cast<std::uint64_t>(b.count);
}

void SobolReducer::block_outputs(const StudyBlock& b) {
  const std::size_t no = outputs_.size(), nt = targets_.size(), nv = factors_.size() + 2;
  const auto B = static_cast<std::size_t>(resamples_);
  const auto n = static_cast<std::size_t>(b.count);
  f_.resize(n * nv * no);
  weights_.resize(n * (B + 1));
  term_.resize(n * stride_);
  std::vector<char> met(nt);
  const Stream::Philox philox;
  const Stream::Philox::key_type key = {
      {seed_, static_cast<std::uint64_t>(StreamPurpose::kBootstrap)}};
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t row = b.first_run + i;
    double* fi = f_.data() + i * nv * no;
    for (std::size_t v = 0; v < nv; ++v) {
      const BlockView& view = b.variants[v];
      bool all = true;
      for (std::size_t t = 0; t < nt; ++t) {
        const auto& r = targets_[t];
        met[t] = compare(r.op, view.values(r.step, r.node)[i], r.threshold);
        all = all && met[t];
      }
      for (std::size_t o = 0; o < no; ++o) {
        const Ref& r = outputs_[o];
        double f;
        if (r.target < 0)
          f = all ? 1.0 : 0.0;
        else if (r.met)
          f = met[static_cast<std::size_t>(r.target)] ? 1.0 : 0.0;
        else
          f = view.values(r.step, r.node)[i];
        fi[v * no + o] = f;
      }
    }
    // Bootstrap multiplicities of this row: word r % 4 of Philox(row, r / 4).
    std::uint32_t* wi = weights_.data() + i * (B + 1);
    wi[0] = 1;
    for (std::size_t r = 1; r <= B; r += 4) {
      const Stream::Philox::ctr_type ctr = {{row, (r - 1) / 4, 0, 0}};
      const auto w = philox(ctr, key);
      for (std::size_t q = 0; q < 4 && r + q <= B; ++q) wi[r + q] = poisson1(u01_of(w[q]));
    }
  }
}

void SobolReducer::add_sums(std::size_t o, std::size_t n) {
  const std::size_t k = factors_.size(), no = outputs_.size(), nv = k + 2;
  const auto B = static_cast<std::size_t>(resamples_);
  // Each row's terms: the weight's 1, f(A), f(B), their squares; then, for the factors
  // whose AB_j output differs from A's (most do not reach a given target, and an
  // indicator rarely flips), f(B) (f(AB_j) - f(A)), f(AB_j) - f(A) and its square. The
  // other factors' terms are exact zeros, and adding w * 0 leaves every sum's bits as
  // they are, so they are skipped.
  nonzero_.clear();
  offsets_.assign(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const double* fi = f_.data() + i * nv * no;
    double* t = term_.data() + i * stride_;
    const double fa = fi[o], fb = fi[no + o];
    t[0] = 1, t[1] = fa, t[2] = fb, t[3] = fa * fa, t[4] = fb * fb;
    for (std::size_t j = 0; j < k; ++j) {
      const double d = fi[(2 + j) * no + o] - fa;
      if (d == 0) continue;
      t[5 + j] = fb * d;
      t[5 + k + j] = d;
      t[5 + 2 * k + j] = d * d;
      nonzero_.push_back(static_cast<std::uint32_t>(j));
    }
    offsets_[i + 1] = nonzero_.size();
  }
  for (std::size_t rep = 0; rep <= B; ++rep) {
    double* acc = sums_.data() + (o * (B + 1) + rep) * stride_;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t wi = weights_[i * (B + 1) + rep];
      if (wi == 0) continue;
      const double w = static_cast<double>(wi);
      const double* t = term_.data() + i * stride_;
      for (std::size_t c = 0; c < 5; ++c) acc[c] += w * t[c];
      for (std::size_t z = offsets_[i]; z < offsets_[i + 1]; ++z) {
        const std::size_t j = nonzero_[z];
        acc[5 + j] += w * t[5 + j];
        acc[5 + k + j] += w * t[5 + k + j];
        acc[5 + 2 * k + j] += w * t[5 + 2 * k + j];
      }
    }
  }
}

/// Thirds of each uncertain parameter, over A and B.
void SobolReducer::add_thirds(const StudyBlock& b) {
  const std::size_t no = outputs_.size(), nv = factors_.size() + 2, nu = uncertain_.size();
  for (std::size_t i = 0; i < static_cast<std::size_t>(b.count); ++i) {
    const double* fi = f_.data() + i * nv * no;
    for (std::size_t v = 0; v < 2; ++v) {
      const BlockView& view = b.variants[v];
      for (std::size_t q = 0; q < nu; ++q) {
        const double u = view.uniforms(static_cast<std::size_t>(uncertain_[q]))[i];
        const std::size_t third = u < 1.0 / 3 ? 0 : (u < 2.0 / 3 ? 1 : 2);
        for (std::size_t o = 0; o < no; ++o) {
          const double f = fi[v * no + o];
          double* t = thirds_.data() + ((o * nu + q) * 3 + third) * 3;
          t[0] += 1;
          t[1] += f;
          t[2] += f * f;
        }
      }
    }
  }
}

void SobolReducer::merge(const Reducer& later) {
  const auto& o = same_kind<SobolReducer>(later);
  if (o.sums_.size() != sums_.size() || o.thirds_.size() != thirds_.size())
    throw std::logic_error("merge of reducers of different shapes");
  for (std::size_t i = 0; i < sums_.size(); ++i) sums_[i] += o.sums_[i];
  for (std::size_t i = 0; i < thirds_.size(); ++i) thirds_[i] += o.thirds_[i];
  rows_ += o.rows_;
}

ReducerState SobolReducer::save() const {
  ReducerState s;
  s.counts["rows"] = {rows_};
  s.reals["sums"] = sums_;
  s.reals["thirds"] = thirds_;
  return s;
}

void SobolReducer::load(const ReducerState& s) {
  rows_ = counts_of(s, "rows", 1)[0];
  sums_ = reals_of(s, "sums", sums_.size());
  thirds_ = reals_of(s, "thirds", thirds_.size());
}

std::array<double, 3> SobolReducer::third(std::size_t o, std::size_t q, int t) const {
  const double* p =
      thirds_.data() + ((o * uncertain_.size() + q) * 3 + static_cast<std::size_t>(t)) * 3;
  return {p[0], p[1], p[2]};
}

// ---------------------------------------------------------------------------------------
// The design sample for PRIM.

DesignSampleReducer::DesignSampleReducer(const Program& p, std::uint64_t max_rows)
    : max_rows_(max_rows) {
  const Model& m = p.model();
  for (std::size_t j = 0; j < p.parameters().size(); ++j)
    if (uncertain_param(p, j)) uncertain_.push_back(p.parameters()[j]);
  for (const auto& t : m.targets)
    targets_.push_back({m.node_index.at(t.node), *m.time.index_of(t.year), t.op, t.threshold});
}

std::unique_ptr<Reducer> DesignSampleReducer::empty() const {
  auto r = std::make_unique<DesignSampleReducer>(*this);
  r->x_.clear();
  r->met_.clear();
  return r;
}

void DesignSampleReducer::add(const StudyBlock& b) {
  if (b.first_run >= max_rows_) return;
  const int n = static_cast<int>(
      std::min<std::uint64_t>(static_cast<std::uint64_t>(b.count), max_rows_ - b.first_run));
  for (int i = 0; i < n; ++i)
    for (std::size_t v = 0; v < 2; ++v) {
      const BlockView& view = b.variants[v];
      for (int node : uncertain_) x_.push_back(view.values(0, node)[i]);
      for (const auto& t : targets_)
        met_.push_back(compare(t.op, view.values(t.step, t.node)[i], t.threshold) ? 1 : 0);
    }
}

void DesignSampleReducer::merge(const Reducer& later) {
  const auto& o = same_kind<DesignSampleReducer>(later);
  x_.insert(x_.end(), o.x_.begin(), o.x_.end());
  met_.insert(met_.end(), o.met_.begin(), o.met_.end());
}

ReducerState DesignSampleReducer::save() const {
  ReducerState s;
  s.reals["x"] = x_;
  s.counts["met"] = std::vector<std::uint64_t>(met_.begin(), met_.end());
  return s;
}

void DesignSampleReducer::load(const ReducerState& s) {
  auto itx = s.reals.find("x");
  auto itm = s.counts.find("met");
  if (itx == s.reals.end() || itm == s.counts.end())
    throw std::invalid_argument("reducer state: 'x' or 'met' is missing");
  const std::size_t points = targets_.empty() ? 0 : itm->second.size() / targets_.size();
  if ((!targets_.empty() && itm->second.size() % targets_.size() != 0) ||
      itx->second.size() != points * uncertain_.size())
    throw std::invalid_argument("reducer state: 'x' and 'met' do not agree");
  // Two variants per design row, at most max_rows_ rows; `met` is 0 or 1.
  if (points % 2 != 0 || points / 2 > max_rows_)
    throw std::invalid_argument("reducer state: 'met' holds an odd or too large sample");
  for (const std::uint64_t m : itm->second)
    if (m > 1) throw std::invalid_argument("reducer state: 'met' holds a value other than 0 or 1");
  x_ = itx->second;
  met_.assign(itm->second.begin(), itm->second.end());
}

std::uint64_t DesignSampleReducer::bytes(int chunk_runs, bool) const {
  const auto rows = std::min<std::uint64_t>(static_cast<std::uint64_t>(chunk_runs), max_rows_);
  return 256 + rows * 2 * (uncertain_.size() * sizeof(double) + targets_.size() * 9);
}

std::vector<std::vector<double>> DesignSampleReducer::columns() const {
  const std::size_t nu = uncertain_.size();
  const std::size_t n = nu ? x_.size() / nu : 0;
  std::vector<std::vector<double>> c(nu, std::vector<double>(n));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t q = 0; q < nu; ++q) c[q][i] = x_[i * nu + q];
  return c;
}

std::vector<std::uint8_t> DesignSampleReducer::met(std::size_t target) const {
  const std::size_t nt = targets_.size();
  std::vector<std::uint8_t> y;
  for (std::size_t i = target; i < met_.size(); i += nt) y.push_back(met_[i]);
  return y;
}

// ---------------------------------------------------------------------------------------
// Indices.

namespace {

/// A third's P(met) (an indicator) or mean, with its interval, from runs, sum and sum of
/// squares.
Third third_estimate(double runs, double sum, double sumsq, bool indicator) {
  Third th;
  th.runs = static_cast<std::uint64_t>(runs);
  if (th.runs == 0) return th;
  if (indicator) {
    const Proportion pr = proportion(static_cast<std::uint64_t>(std::llround(sum)), th.runs);
    th.value = pr.p, th.lo = pr.lo, th.hi = pr.hi;
  } else {
    Moments mo;
    mo.n = th.runs;
    mo.sum = sum;
    mo.sumsq = sumsq;
    const MeanInterval mi = mean_interval(mo);
    th.value = mi.mean, th.lo = mi.lo, th.hi = mi.hi;
  }
  return th;
}

}  // namespace

std::vector<OutputSensitivity> sobol_indices(const Program& p, const SobolReducer& r) {
  const Model& m = p.model();
  const auto outs = sensitivity_outputs(m);
  const std::size_t k = r.factors(), B = static_cast<std::size_t>(r.resamples());
  std::vector<OutputSensitivity> result;
  for (std::size_t o = 0; o < outs.size(); ++o) {
    OutputSensitivity s;
    s.output = outs[o];
    s.name = outs[o].target < 0 ? "all targets together"
                                : m.targets[static_cast<std::size_t>(outs[o].target)].name;
    // Per replicate: S1_j, ST_j (j < k), sum S1, sum ST.
    std::vector<std::vector<double>> rep(B + 1, std::vector<double>(2 * k + 2, kNaN));
    for (std::size_t b = 0; b <= B; ++b) {
      const double* a = r.sums(o, static_cast<int>(b));
      const double w = a[0];
      if (!(w > 0)) continue;
      const double mean = (a[1] + a[2]) / (2 * w);
      const double var = (a[3] + a[4]) / (2 * w) - mean * mean;
      if (b == 0) s.mean = mean, s.variance = std::max(0.0, var);
      // No spread (an indicator always 0 or always 1, a constant value): no index.
      if (!(var > 1e-12 * std::max(1.0, mean * mean))) continue;
      const double mean_b = a[2] / w;
      double sum1 = 0, sumt = 0;
      for (std::size_t j = 0; j < k; ++j) {
        const double s1 = (a[5 + j] / w - mean_b * (a[5 + k + j] / w)) / var;
        const double st = a[5 + 2 * k + j] / (2 * w) / var;
        rep[b][j] = s1;
        rep[b][k + j] = st;
        sum1 += s1;
        sumt += st;
      }
      rep[b][2 * k] = sum1;
      rep[b][2 * k + 1] = sumt;
    }
    auto estimate = [&](std::size_t col) {
      Estimate e;
      e.value = rep[0][col];
      if (!std::isfinite(e.value)) return e;
      std::vector<double> v;
      for (std::size_t b = 1; b <= B; ++b) v.push_back(rep[b][col]);
      std::tie(e.lo, e.hi) = percentile_interval(std::move(v));
      return e;
    };
    for (std::size_t j = 0; j < k; ++j) s.factors.push_back({estimate(j), estimate(k + j)});
    s.sum_s1 = estimate(2 * k);
    s.sum_st = estimate(2 * k + 1);
    for (std::size_t q = 0; q < r.uncertain(); ++q) {
      std::array<Third, 3> th;
      for (int t = 0; t < 3; ++t) {
        const auto [n, sum, sumsq] = r.third(o, q, t);
        th[static_cast<std::size_t>(t)] = third_estimate(n, sum, sumsq, outs[o].met);
      }
      s.thirds.push_back(th);
    }
    result.push_back(std::move(s));
  }
  return result;
}

namespace {

/// S1 of one batch by binning (ANOVA estimator): `t` the batch's runs, sum y and sum y^2;
/// `cnt` and `sum` its bins' runs and sums of y. NaN without variance.
double binned_s1(const double* t, const double* cnt, const double* sum, std::size_t bins) {
  const double W = t[0], mean = t[1] / W;
  const double sst = t[2] - W * mean * mean;
  double ssb = 0;
  std::size_t used = 0;
  for (std::size_t m = 0; m < bins; ++m) {
    const double nm = cnt[m];
    if (nm <= 0) continue;
    ++used;
    const double d = sum[m] / nm - mean;
    ssb += nm * d * d;
  }
  if (!(sst > 1e-12 * std::max(1.0, W * mean * mean)) || W <= static_cast<double>(used))
    return kNaN;
  const double msw = (sst - ssb) / (W - static_cast<double>(used));
  return (ssb - static_cast<double>(used - 1) * msw) / sst;
}

/// The whole sample's S1 (the last of `s1`) with a Student-t interval (quantile `tq`) from
/// the batches' spread.
Estimate batch_interval(const std::vector<double>& s1, double tq) {
  const std::size_t G = s1.size() - 1;
  Estimate e;
  e.value = s1[G];
  if (!std::isfinite(s1[G])) return e;
  double m = 0, ss = 0;
  std::size_t k = 0;
  for (std::size_t g = 0; g < G; ++g)
    if (std::isfinite(s1[g])) m += s1[g], ++k;
  if (k < 2) return e;
  m /= static_cast<double>(k);
  for (std::size_t g = 0; g < G; ++g)
    if (std::isfinite(s1[g])) ss += (s1[g] - m) * (s1[g] - m);
  const double half =
      tq * std::sqrt(ss / static_cast<double>(k - 1)) / std::sqrt(static_cast<double>(k));
  e.lo = s1[G] - half;
  e.hi = s1[G] + half;
  return e;
}

}  // namespace

std::vector<std::vector<GivenDataIndex>> given_data_indices(
    const std::vector<std::vector<double>>& x, const std::vector<std::vector<double>>& y,
    const std::vector<char>& indicator, const GivenDataOptions& o) {
  const std::size_t no = y.size(), np = x.size();
  if (indicator.size() != no) throw std::invalid_argument("given data: one flag per output");
  const std::size_t n = no ? y[0].size() : (np ? x[0].size() : 0);
  for (const auto& c : x)
    if (c.size() != n) throw std::invalid_argument("given data: columns of different lengths");
  for (const auto& c : y)
    if (c.size() != n) throw std::invalid_argument("given data: outputs of different lengths");
  const std::size_t bins =
      o.bins > 0 ? static_cast<std::size_t>(o.bins) : std::clamp<std::size_t>(n / 200, 2, 32);
  const std::size_t G = static_cast<std::size_t>(std::max(o.batches, 2));
  if (n < 2 * bins * G)
    throw std::invalid_argument(fmt::format(
        "given data: {} runs are too few for {} bins in {} batches (2 runs a bin at least; "
        "store more runs)",
        n, bins, G));
  auto batch_of = [&](std::size_t i) { return i * G / n; };
  // Per output and batch (G = the whole sample): runs, sum y, sum y^2.
  std::vector<double> tot(no * (G + 1) * 3, 0.0);
  for (std::size_t out = 0; out < no; ++out)
    for (std::size_t i = 0; i < n; ++i) {
      const double v = y[out][i];
      for (std::size_t g : {batch_of(i), G}) {
        double* t = tot.data() + (out * (G + 1) + g) * 3;
        t[0] += 1, t[1] += v, t[2] += v * v;
      }
    }
  boost::math::students_t student(static_cast<double>(G - 1));
  const double tq = boost::math::quantile(student, 0.975);
  std::vector<std::vector<GivenDataIndex>> result(no, std::vector<GivenDataIndex>(np));
  std::vector<std::size_t> order(n), bin(n);
  std::vector<std::uint8_t> third(n);
  std::vector<double> cnt((G + 1) * bins), sum((G + 1) * bins), s1(G + 1);
  for (std::size_t q = 0; q < np; ++q) {
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    const auto& c = x[q];
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a1, std::size_t b1) { return c[a1] < c[b1]; });
    for (std::size_t rank = 0; rank < n; ++rank) {
      bin[order[rank]] = rank * bins / n;
      third[order[rank]] = static_cast<std::uint8_t>(rank * 3 / n);
    }
    std::fill(cnt.begin(), cnt.end(), 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      cnt[batch_of(i) * bins + bin[i]] += 1;
      cnt[G * bins + bin[i]] += 1;
    }
    for (std::size_t out = 0; out < no; ++out) {
      const auto& yo = y[out];
      std::fill(sum.begin(), sum.end(), 0.0);
      double tn[3] = {0, 0, 0}, ts[3] = {0, 0, 0}, tss[3] = {0, 0, 0};
      for (std::size_t i = 0; i < n; ++i) {
        sum[batch_of(i) * bins + bin[i]] += yo[i];
        sum[G * bins + bin[i]] += yo[i];
        const std::size_t t = third[i];
        tn[t] += 1, ts[t] += yo[i], tss[t] += yo[i] * yo[i];
      }
      for (std::size_t g = 0; g <= G; ++g)
        s1[g] = binned_s1(tot.data() + (out * (G + 1) + g) * 3, cnt.data() + g * bins,
                          sum.data() + g * bins, bins);
      GivenDataIndex& gi = result[out][q];
      gi.s1 = batch_interval(s1, tq);
      for (std::size_t t = 0; t < 3; ++t)
        gi.thirds[t] = third_estimate(tn[t], ts[t], tss[t], indicator[out]);
    }
  }
  return result;
}

SensitivityResult run_sensitivity(const Program& p, const SensitivityOptions& o) {
  if (o.rows < 2) throw std::invalid_argument("sensitivity: at least 2 rows");
  const auto start = std::chrono::steady_clock::now();
  SensitivityResult res;
  res.factors = sensitivity_factors(p, o.groups);
  if (res.factors.empty())
    throw std::invalid_argument(
        "the model has no uncertain parameter and no shock: nothing to attribute the variance "
        "of its outputs to");
  for (std::size_t j = 0; j < p.parameters().size(); ++j)
    if (uncertain_param(p, j))
      res.uncertain.push_back(p.model().nodes[static_cast<std::size_t>(p.parameters()[j])].name);
  Study s;
  for (std::size_t v = 0; v < res.factors.size() + 2; ++v) s.variants.push_back(&p);
  s.design = saltelli_design(p, res.factors, o.seed, o.sampling);
  s.reducers.push_back(std::make_unique<SobolReducer>(p, res.factors, o.resamples, o.seed));
  const bool prim = o.prim_rows > 0 && !p.model().targets.empty() && !res.uncertain.empty();
  if (prim) s.reducers.push_back(std::make_unique<DesignSampleReducer>(p, o.prim_rows));
  StudyOptions so;
  static_cast<Execution&>(so) = o;
  so.first = 0;
  so.last = o.rows;
  so.chunk = o.chunk;
  StudyResult sr = run_study(s, so);
  const auto& sobol = sr.get<SobolReducer>(0);
  res.outputs = sobol_indices(p, sobol);
  res.rows = sr.runs();
  res.runs = sr.runs() * (res.factors.size() + 2);
  res.resamples = o.resamples;
  res.sampling = o.sampling;
  if (prim) {
    const auto& sample = sr.get<DesignSampleReducer>(1);
    const auto columns = sample.columns();
    res.prim_points = sample.points();
    for (std::size_t t = 0; t < p.model().targets.size(); ++t)
      res.prim.push_back(
          {static_cast<int>(t), attain::prim(columns, sample.met(t), o.prim, res.uncertain)});
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return res;
}

}  // namespace attain
