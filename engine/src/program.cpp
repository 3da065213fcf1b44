// Compiles a model into slot code and evaluates it over blocks of runs (Eigen arrays).
#include "attain/program.hpp"

#include <fmt/format.h>

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <numbers>
#include <optional>
#include <stdexcept>

#include "attain/validate.hpp"

namespace attain {
namespace {

constexpr double kNaNValue = std::numeric_limits<double>::quiet_NaN();

using ArrayMap = Eigen::Map<Eigen::ArrayXd>;
using ConstMap = Eigen::Map<const Eigen::ArrayXd>;

// Code repeats Op's operations in the same order (code_of casts one to the other).
static_assert(static_cast<int>(Code::kLookup) == static_cast<int>(Op::kLookup) &&
              static_cast<int>(Code::kSin) == static_cast<int>(Op::kSin) &&
              static_cast<int>(Code::kCos) == static_cast<int>(Op::kCos));

Code code_of(Op op) {
  return static_cast<Code>(static_cast<int>(op));
}

/// Builds instruction lists from expressions.
class Compiler {
 public:
  Compiler(const Model& m, std::vector<double>& constants, int& smooth_slots, int first_smooth_slot)
      : m_(m),
        constants_(constants),
        smooth_count_(smooth_slots),
        first_smooth_(first_smooth_slot) {}

  /// Compiles `e` so that its value ends in slot `dst`. `first` selects the first-step
  /// variant (smooth() starts at its input there).
  void emit_into(const Expr& e, int dst, bool first, std::vector<Instr>& code, int& temps) {
    temps_ = 0;
    Operand r = emit(e, first, code);
    Operand target{Operand::Kind::kSlot, dst, 0};
    if (r.kind == Operand::Kind::kTemp && !code.empty() &&
        code.back().dst.kind == Operand::Kind::kTemp && code.back().dst.index == r.index) {
      code.back().dst = target;
    } else {
      Instr copy;
      copy.code = Code::kCopy;
      copy.dst = target;
      copy.a[0] = r;
      copy.n = 1;
      code.push_back(copy);
    }
    temps = std::max(temps, temps_);
  }

  Operand constant(double v) {
    auto it = std::find_if(constants_.begin(), constants_.end(),
                           [&](double c) { return std::memcmp(&c, &v, sizeof v) == 0; });
    int index = static_cast<int>(it - constants_.begin());
    if (it == constants_.end()) constants_.push_back(v);
    return {Operand::Kind::kConst, index, 0};
  }

  Operand emit(const Expr& e, bool first, std::vector<Instr>& code) {
    switch (e.kind) {
      case Expr::Kind::kNumber:
        return constant(e.number);
      case Expr::Kind::kRef:
        return {Operand::Kind::kSlot, m_.node_index.at(e.name), e.lag};
      case Expr::Kind::kYear:
        return {Operand::Kind::kYear, 0, 0};
      case Expr::Kind::kDt:
        return {Operand::Kind::kDt, 0, 0};
      case Expr::Kind::kApply:
        break;
    }
    if (auto v = fold_constant(e)) return constant(*v);
    std::vector<Operand> args;
    for (const auto& a : e.args) args.push_back(emit(*a, first, code));
    // n-ary min/max become chains of binary ones.
    if ((e.op == Op::kMin || e.op == Op::kMax) && args.size() > 2) {
      Operand acc = args[0];
      for (std::size_t i = 1; i < args.size(); ++i)
        acc = instr(code_of(e.op), {acc, args[i]}, code);
      return acc;
    }
    if (e.op == Op::kSmooth) {
      int slot = first_smooth_ + smooth_count_++;
      // First step: the input itself; later: move toward it from the previous value.
      Operand out =
          first ? instr(Code::kCopy, {args[0]}, code)
                : instr(Code::kSmooth, {args[0], args[1], {Operand::Kind::kSlot, slot, 1}}, code);
      Instr keep;
      keep.code = Code::kCopy;
      keep.dst = {Operand::Kind::kSlot, slot, 0};
      keep.a[0] = out;
      keep.n = 1;
      code.push_back(keep);
      return out;
    }
    int extra = 0;
    if (e.op == Op::kLookup) extra = m_.lookup_index.at(e.name);
    Operand out = instr(code_of(e.op), args, code);
    code.back().extra = extra;
    return out;
  }

  Operand instr(Code c, const std::vector<Operand>& args, std::vector<Instr>& code) {
    Instr in;
    in.code = c;
    in.n = static_cast<int>(args.size());
    for (int i = 0; i < in.n; ++i) in.a[i] = args[static_cast<std::size_t>(i)];
    in.dst = {Operand::Kind::kTemp, temps_++, 0};
    code.push_back(in);
    return in.dst;
  }

 private:
  const Model& m_;
  std::vector<double>& constants_;
  int& smooth_count_;
  int first_smooth_;
  int temps_ = 0;
};

/// Tabulated inverse CDFs shared by the programs of the process: scenarios usually keep
/// most parameters' distributions, and building a table takes milliseconds. The cache
/// keeps the last 128 distributions (about 0.4 MB each).
std::shared_ptr<const QuantileFunction> shared_quantile_function(DistKind kind,
                                                                 const std::vector<double>& p) {
  using Key = std::pair<DistKind, std::vector<double>>;
  constexpr std::size_t kKeep = 128;
  static std::mutex mutex;
  static std::map<Key, std::shared_ptr<const QuantileFunction>> cache;
  static std::deque<Key> order;  // oldest first
  const std::lock_guard<std::mutex> lock(mutex);
  Key key{kind, p};
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  auto q = std::make_shared<const QuantileFunction>(kind, p, nullptr);
  cache.emplace(key, q);
  order.push_back(std::move(key));
  if (order.size() > kKeep) {
    cache.erase(order.front());
    order.pop_front();
  }
  return q;
}

int count_smooth(const Expr& e) {
  int n = e.kind == Expr::Kind::kApply && e.op == Op::kSmooth ? 1 : 0;
  for (const auto& a : e.args) n += count_smooth(*a);
  return n;
}

/// A resolved operand: an array of the block, or one number for every lane.
struct Val {
  const double* p = nullptr;
  double c = 0;
};

template <class F>
void arith(double* d, Val a, Val b, int n, F f) {
  ArrayMap out(d, n);
  if (a.p && b.p) {
    out = f(ConstMap(a.p, n), ConstMap(b.p, n));
  } else if (a.p) {
    out = f(ConstMap(a.p, n), b.c);
  } else if (b.p) {
    out = f(a.c, ConstMap(b.p, n));
  } else {
    out.setConstant(f(a.c, b.c));
  }
}

/// Operands that an operation would hide if they were NaN or infinite (a comparison
/// gives 0 or 1, min/max/clamp and lookups may drop them), as a bit mask; if() checks
/// its condition only, so a guard like if(x > 0, ln(x), 0) still works.
int hiding_operands(Code c) {
  switch (c) {
    case Code::kLt:
    case Code::kLe:
    case Code::kGt:
    case Code::kGe:
    case Code::kEq:
    case Code::kNe:
    case Code::kAnd:
    case Code::kOr:
    case Code::kMin:
    case Code::kMax:
      return 0b11;
    case Code::kNot:
    case Code::kIf:
    case Code::kLookup:
    case Code::kFloor:
    case Code::kCeil:
    case Code::kRound:
      return 0b1;
    case Code::kClamp:
      return 0b111;
    case Code::kStep:
    case Code::kRamp:
    case Code::kPulse:
      return 0b111;
    default:
      return 0;
  }
}

/// Comparisons and logic as plain loops the compiler vectorizes; results are 1.0 or 0.0.
template <class F>
void compare_loop(double* d, const double* a, const double* b, int n, F f) {
  for (int i = 0; i < n; ++i) d[i] = f(a[i], b[i]) ? 1.0 : 0.0;
}

void compare(Code c, double* d, const double* a, const double* b, int n) {
  switch (c) {
    case Code::kLt:
      compare_loop(d, a, b, n, [](double x, double y) { return x < y; });
      break;
    case Code::kLe:
      compare_loop(d, a, b, n, [](double x, double y) { return x <= y; });
      break;
    case Code::kGt:
      compare_loop(d, a, b, n, [](double x, double y) { return x > y; });
      break;
    case Code::kGe:
      compare_loop(d, a, b, n, [](double x, double y) { return x >= y; });
      break;
    case Code::kEq:
      compare_loop(d, a, b, n, [](double x, double y) { return x == y; });
      break;
    case Code::kNe:
      compare_loop(d, a, b, n, [](double x, double y) { return x != y; });
      break;
    case Code::kAnd:
      compare_loop(d, a, b, n, [](double x, double y) { return x != 0 && y != 0; });
      break;
    case Code::kOr:
      compare_loop(d, a, b, n, [](double x, double y) { return x != 0 || y != 0; });
      break;
    default:
      break;
  }
}

/// True when no value is NaN or infinite: x - x is 0 for finite x and NaN otherwise,
/// so the (vectorized) sum is 0 or NaN whatever the order of addition.
bool all_finite(const double* v, int n) {
  ConstMap m(v, n);
  return !std::isnan((m - m).sum());
}

template <class F>
void scalar_loop(double* d, const double* a, int n, F f) {
  for (int i = 0; i < n; ++i) d[i] = f(a[i]);
}

}  // namespace

Program compile(const Model& model, const DependencyGraph& graph) {
  // Preconditions, checked here rather than trusted: the model is valid and the graph
  // was built from it (an evaluation order that is a permutation of its nodes).
  validate(model);
  const std::size_t n_nodes = model.nodes.size();
  std::vector<char> placed(n_nodes, 0);
  bool order_ok = graph.order.size() == n_nodes && graph.used.size() == n_nodes;
  for (int i : graph.order) {
    order_ok = order_ok && i >= 0 && static_cast<std::size_t>(i) < n_nodes &&
               !placed[static_cast<std::size_t>(i)];
    if (order_ok) placed[static_cast<std::size_t>(i)] = 1;
  }
  if (!order_ok)
    throw std::invalid_argument(
        "compile: the dependency graph was not built from this model (build_graph(model))");
  Program p;
  p.model_ = model;
  const Model& m = p.model_;
  p.steps_ = m.time.steps();
  p.nodes_ = static_cast<int>(m.nodes.size());

  int stocks = 0, smooths = 0;
  for (const auto& n : m.nodes) {
    if (n.kind == NodeKind::kStock) ++stocks;
    for (const auto& e : {n.formula, n.initial, n.change})
      if (e) smooths += count_smooth(*e);
    for (const auto& e : n.dist.p_expr) smooths += count_smooth(*e);
  }
  // Slots: nodes, then one flow per stock, then one per smooth() call in the source
  // (the first-step and later-step code of an expression share its smooth slots).
  const int first_flow = p.nodes_;
  const int first_smooth = first_flow + stocks;
  p.slots_ = first_smooth + smooths;
  int smooth_used = 0;

  std::vector<int> flow_of(static_cast<std::size_t>(p.nodes_), -1);
  for (int i = 0, f = 0; i < p.nodes_; ++i)
    if (m.nodes[static_cast<std::size_t>(i)].kind == NodeKind::kStock)
      flow_of[static_cast<std::size_t>(i)] = first_flow + f++;

  p.is_parameter_.assign(static_cast<std::size_t>(p.slots_), 0);
  for (int i = 0; i < p.nodes_; ++i) {
    const Node& n = m.nodes[static_cast<std::size_t>(i)];
    if (n.kind == NodeKind::kParameter) {
      p.parameters_.push_back(i);
      p.is_parameter_[static_cast<std::size_t>(i)] = 1;
    }
    if (n.kind == NodeKind::kLever) p.levers_.push_back(i);
  }

  // Values before the start: history, or a lever's rule evaluated there.
  int max_lag = 1;
  for (const auto& n : m.nodes)
    for (const auto& e : {n.formula, n.initial, n.change})
      if (e) for_each_ref(*e, [&](const Expr& r) { max_lag = std::max(max_lag, r.lag + 1); });
  for (const auto& n : m.nodes)
    for (const auto& e : n.dist.p_expr)
      for_each_ref(*e, [&](const Expr& r) { max_lag = std::max(max_lag, r.lag + 1); });
  p.prestart_.assign(static_cast<std::size_t>(p.slots_), {});
  for (int i = 0; i < p.nodes_; ++i) {
    const Node& n = m.nodes[static_cast<std::size_t>(i)];
    auto& pre = p.prestart_[static_cast<std::size_t>(i)];
    for (int j = 1; j <= max_lag; ++j) {
      double t = m.time.start - j * m.time.step;
      double v = std::nan("");
      for (const auto& [ht, hv] : n.history)
        if (std::fabs(ht - t) < 1e-9) v = hv;
      pre.push_back(v);
    }
  }

  auto compile_node = [&](const Expr& e, int slot, SlotCode& sc, bool both) {
    Compiler first(m, p.constants_, smooth_used, first_smooth);
    int before = smooth_used;
    first.emit_into(e, slot, true, sc.first, p.temps_);
    if (both) {
      // Later steps reuse the same smooth slots as the first step.
      int after = smooth_used;
      smooth_used = before;
      Compiler later(m, p.constants_, smooth_used, first_smooth);
      later.emit_into(e, slot, false, sc.later, p.temps_);
      smooth_used = after;
    }
  };

  // Parameters are drawn before anything else; then nodes in topological order; then flows.
  for (int i : graph.order) {
    const Node& n = m.nodes[static_cast<std::size_t>(i)];
    SlotCode sc;
    sc.slot = i;
    sc.what = fmt::format("{} '{}'", kind_name(n.kind), n.name);
    switch (n.kind) {
      case NodeKind::kLever:
      case NodeKind::kParameter:
        continue;  // filled directly
      case NodeKind::kAuxiliary:
        compile_node(*n.formula, i, sc, true);
        break;
      case NodeKind::kStock: {
        compile_node(*n.initial, i, sc, false);
        // S(k) = S(k-1) + dt * flow(k-1)
        Instr upd;
        upd.code = Code::kMul;
        upd.dst = {Operand::Kind::kTemp, 0, 0};
        upd.a[0] = {Operand::Kind::kDt, 0, 0};
        upd.a[1] = {Operand::Kind::kSlot, flow_of[static_cast<std::size_t>(i)], 1};
        upd.n = 2;
        sc.later.push_back(upd);
        Instr add;
        add.code = Code::kAdd;
        add.dst = {Operand::Kind::kSlot, i, 0};
        add.a[0] = {Operand::Kind::kSlot, i, 1};
        add.a[1] = {Operand::Kind::kTemp, 0, 0};
        add.n = 2;
        sc.later.push_back(add);
        p.temps_ = std::max(p.temps_, 1);
        break;
      }
      case NodeKind::kShock: {
        // Parameter expressions, then one draw per lane; both step variants share the
        // smooth() slots of the expressions.
        int shock = static_cast<int>(p.shock_nodes_.size());
        p.shock_nodes_.push_back(i);
        // A beta, PERT or gamma shock with constant parameters: the tabulated inverse CDF
        // (quantile() would run Boost's solvers, microseconds a draw).
        std::shared_ptr<const QuantileFunction> fixed;
        if (n.dist.kind == DistKind::kPert || n.dist.kind == DistKind::kBeta ||
            n.dist.kind == DistKind::kGamma) {
          std::vector<double> values;
          for (const auto& e : n.dist.p_expr)
            if (auto v = fold_constant(*e)) values.push_back(*v);
          if (values.size() == n.dist.p_expr.size() && !check_params(n.dist.kind, values))
            fixed = shared_quantile_function(n.dist.kind, values);
        }
        p.shock_quantile_.push_back(std::move(fixed));
        int before = smooth_used;
        for (int pass = 0; pass < 2; ++pass) {
          if (pass == 1) smooth_used = before;
          auto& code = pass == 0 ? sc.first : sc.later;
          Compiler cc(m, p.constants_, smooth_used, first_smooth);
          std::vector<Operand> args;
          for (const auto& e : n.dist.p_expr) args.push_back(cc.emit(*e, pass == 0, code));
          Instr d;
          d.code = Code::kDraw;
          d.dst = {Operand::Kind::kSlot, i, 0};
          d.n = static_cast<int>(args.size());
          for (int k = 0; k < d.n; ++k) d.a[k] = args[static_cast<std::size_t>(k)];
          d.extra = shock;
          code.push_back(d);
        }
        break;
      }
    }
    p.code_.push_back(std::move(sc));
  }
  for (int i = 0; i < p.nodes_; ++i) {
    const Node& n = m.nodes[static_cast<std::size_t>(i)];
    if (n.kind != NodeKind::kStock) continue;
    SlotCode sc;
    sc.slot = flow_of[static_cast<std::size_t>(i)];
    sc.skip_last = true;
    sc.what = fmt::format("change of stock '{}'", n.name);
    compile_node(*n.change, sc.slot, sc, true);
    p.code_.push_back(std::move(sc));
  }
  // Scratch arrays for every temp any instruction writes.
  for (const auto& sc : p.code_)
    for (const auto* code : {&sc.first, &sc.later})
      for (const auto& in : *code)
        if (in.dst.kind == Operand::Kind::kTemp) p.temps_ = std::max(p.temps_, in.dst.index + 1);

  for (const auto& g : m.correlations) {
    Program::Correlated c;
    for (const auto& name : g.parameters) {
      int node = m.node_index.at(name);
      c.params.push_back(static_cast<int>(
          std::find(p.parameters_.begin(), p.parameters_.end(), node) - p.parameters_.begin()));
    }
    Eigen::MatrixXd pearson = (g.rank.array() * (std::numbers::pi / 6)).sin() * 2;
    c.chol = pearson.llt().matrixL();
    p.correlated_.push_back(std::move(c));
  }
  // Every drawn parameter is the inverse CDF of one uniform; beta, PERT and gamma use the
  // tabulated one (the others' quantile() is already fast).
  p.fast_quantile_.assign(p.parameters_.size(), nullptr);
  for (std::size_t j = 0; j < p.parameters_.size(); ++j) {
    const Node& n = m.nodes[static_cast<std::size_t>(p.parameters_[j])];
    if (!n.dist.fixed && (n.dist.kind == DistKind::kPert || n.dist.kind == DistKind::kBeta ||
                          n.dist.kind == DistKind::kGamma))
      p.fast_quantile_[j] = shared_quantile_function(n.dist.kind, n.dist.p);
  }
  p.fill_levers();
  return p;
}

void Program::fill_levers() {
  lever_values_.clear();
  for (int i : levers_) {
    const Node& n = model_.nodes[static_cast<std::size_t>(i)];
    std::vector<double> v;
    for (int k = 0; k < steps_; ++k)
      v.push_back(n.lever.at(model_.time.time(k), model_.time.start));
    lever_values_.push_back(std::move(v));
    auto& pre = prestart_[static_cast<std::size_t>(i)];
    for (std::size_t j = 0; j < pre.size(); ++j)
      pre[j] = n.lever.at(model_.time.start - static_cast<double>(j + 1) * model_.time.step,
                          model_.time.start);
  }
}

void Program::set_lever(const std::string& name, const LeverRule& rule) {
  auto it = model_.node_index.find(name);
  if (it == model_.node_index.end() ||
      model_.nodes[static_cast<std::size_t>(it->second)].kind != NodeKind::kLever)
    throw std::invalid_argument("set_lever: '" + name + "' is not a lever");
  model_.nodes[static_cast<std::size_t>(it->second)].lever = rule;
  fill_levers();
}

Program::Block Program::make_block(int capacity) const {
  Block b;
  b.capacity = capacity;
  b.values.assign(static_cast<std::size_t>(steps_) * static_cast<std::size_t>(slots_) *
                      static_cast<std::size_t>(capacity),
                  0.0);
  // Scratch: temps, then four broadcast buffers, then per-lane draw parameters.
  b.scratch.assign(static_cast<std::size_t>(temps_ + 4) * static_cast<std::size_t>(capacity), 0.0);
  // Uniforms: one array per parameter, then the normal scores of the largest group.
  std::size_t group = 0;
  for (const auto& c : correlated_) group = std::max(group, c.params.size());
  b.uniforms.assign((parameters_.size() + group) * static_cast<std::size_t>(capacity), 0.0);
  return b;
}

std::size_t Program::instructions_per_step() const {
  std::size_t n = 0;
  for (const auto& sc : code_) n += sc.later.size();
  return n;
}

void Program::evaluate(Block& block, std::uint64_t seed, std::uint64_t first_run, int count,
                       const Draws* draws) const {
  const int cap = block.capacity;
  const auto ucap = static_cast<std::size_t>(cap);
  double* values = block.values.data();
  double* temps = block.scratch.data();
  double* broadcast = temps + static_cast<std::size_t>(temps_) * ucap;
  auto slot_ptr = [&](int k, int slot) {
    return values + (static_cast<std::size_t>(k) * static_cast<std::size_t>(slots_) +
                     static_cast<std::size_t>(slot)) *
                        ucap;
  };

  // Parameters: drawn once per run from their own stream (seed, run, node, kOncePerRun),
  // every one by its inverse CDF of the stream's first word (common random numbers that
  // survive a change of the distribution); correlated ones after the Gaussian copula.
  // Each stage runs over the whole block for one parameter at a time: the Philox calls and
  // table lookups of different runs are independent, so the processor overlaps them.
  const auto np = parameters_.size();
  const StreamPurpose shock_purpose = draws ? draws->shocks : StreamPurpose::kSimulation;
  double* u = block.uniforms.data();
  auto u_of = [&](std::size_t j) { return u + j * ucap; };
  if (draws && draws->parameters) {
    draws->parameters(first_run, count, cap, u);
  } else {
    for (std::size_t j = 0; j < np; ++j) {
      const Node& n = model_.nodes[static_cast<std::size_t>(parameters_[j])];
      if (!n.dist.fixed) first_uniforms(seed, first_run, n.id, kOncePerRun, count, u_of(j));
    }
  }
  for (const auto& c : correlated_) {
    // z = L w for the normal scores w of the group's uniforms, lane by lane (the sum in
    // the order of the columns, so the bits do not depend on the block).
    const auto m = c.params.size();
    double* z = u + np * ucap;  // the group's normal scores, m arrays of the block's lanes
    for (std::size_t a = 0; a < m; ++a) {
      const double* ua = u_of(static_cast<std::size_t>(c.params[a]));
      double* w = z + a * ucap;
      for (int lane = 0; lane < count; ++lane) w[lane] = normal_quantile(ua[lane]);
    }
    for (std::size_t a = 0; a < m; ++a) {
      double* ua = u_of(static_cast<std::size_t>(c.params[a]));
      for (int lane = 0; lane < count; ++lane) {
        double sum = 0.0;
        for (std::size_t b = 0; b <= a; ++b)
          sum += c.chol(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(b)) *
                 z[b * ucap + static_cast<std::size_t>(lane)];
        // Keep u inside (0, 1) so every inverse CDF stays finite.
        ua[lane] = std::clamp(normal_cdf(sum), 0x1.0p-60, 1 - 0x1.0p-53);
      }
    }
  }
  for (std::size_t j = 0; j < np; ++j) {
    const Node& n = model_.nodes[static_cast<std::size_t>(parameters_[j])];
    double* x = slot_ptr(0, parameters_[j]);
    const double* uj = u_of(j);
    if (n.dist.fixed) {
      std::fill_n(x, count, n.dist.fixed_value);
    } else if (fast_quantile_[j]) {
      (*fast_quantile_[j])(uj, x, count);
    } else {
      for (int lane = 0; lane < count; ++lane)
        x[lane] = quantile(n.dist.kind, n.dist.p, &n.dist.table, uj[lane]);
    }
  }
  for (int j : parameters_) {
    const double* p0 = slot_ptr(0, j);
    for (int lane = 0; lane < count; ++lane)
      if (!std::isfinite(p0[lane]))
        throw RunError(fmt::format("parameter '{}' drew a non-finite value in run {}",
                                   model_.nodes[static_cast<std::size_t>(j)].name,
                                   first_run + static_cast<std::uint64_t>(lane)),
                       first_run + static_cast<std::uint64_t>(lane));
  }

  for (int k = 0; k < steps_; ++k) {
    const double year = model_.time.time(k);
    // Levers and parameters at this step.
    for (std::size_t j = 0; j < levers_.size(); ++j)
      ArrayMap(slot_ptr(k, levers_[j]), count)
          .setConstant(lever_values_[j][static_cast<std::size_t>(k)]);
    if (k > 0)
      for (int j : parameters_) std::copy_n(slot_ptr(0, j), count, slot_ptr(k, j));

    auto resolve = [&](const Operand& o) -> Val {
      switch (o.kind) {
        case Operand::Kind::kTemp:
          return {temps + static_cast<std::size_t>(o.index) * ucap, 0};
        case Operand::Kind::kSlot: {
          int kk = k - o.lag;
          if (kk >= 0) return {slot_ptr(kk, o.index), 0};
          if (is_parameter_[static_cast<std::size_t>(o.index)]) return {slot_ptr(0, o.index), 0};
          return {nullptr,
                  prestart_[static_cast<std::size_t>(o.index)][static_cast<std::size_t>(-kk - 1)]};
        }
        case Operand::Kind::kConst:
          return {nullptr, constants_[static_cast<std::size_t>(o.index)]};
        case Operand::Kind::kYear:
          return {nullptr, model_.time.time(k - o.lag)};
        case Operand::Kind::kDt:
          return {nullptr, model_.time.step};
        case Operand::Kind::kNone:
          break;
      }
      return {nullptr, 0};
    };
    // Operands as arrays (scalars broadcast into buffer `i`).
    auto array_of = [&](const Operand& o, int i) -> const double* {
      Val v = resolve(o);
      if (v.p) return v.p;
      double* b = broadcast + static_cast<std::size_t>(i) * ucap;
      std::fill_n(b, count, v.c);
      return b;
    };

    for (const SlotCode& sc : code_) {
      if (sc.skip_last && k == steps_ - 1) continue;
      const auto& code = k == 0 ? sc.first : sc.later;
      for (const Instr& in : code) {
        if (const int mask = hiding_operands(in.code)) {
          for (int a = 0; a < in.n; ++a) {
            if (!(mask & (1 << a))) continue;
            const Val v = resolve(in.a[a]);
            if (v.p ? all_finite(v.p, count) : std::isfinite(v.c)) continue;
            int lane = 0;
            while (v.p && lane < count && std::isfinite(v.p[lane])) ++lane;
            const std::uint64_t run = first_run + static_cast<std::uint64_t>(lane);
            throw RunError(fmt::format("{}: an argument of {}() is {} at {} in run {} (check "
                                       "divisions, logarithms and powers of its formula)",
                                       sc.what, op_name(static_cast<Op>(in.code)),
                                       v.p ? v.p[lane] : v.c, year, run),
                           run);
          }
        }
        double* d = in.dst.kind == Operand::Kind::kTemp
                        ? temps + static_cast<std::size_t>(in.dst.index) * ucap
                        : slot_ptr(k, in.dst.index);
        const int n = count;
        switch (in.code) {
          case Code::kAdd:
            arith(d, resolve(in.a[0]), resolve(in.a[1]), n,
                  [](const auto& x, const auto& y) { return x + y; });
            break;
          case Code::kSub:
            arith(d, resolve(in.a[0]), resolve(in.a[1]), n,
                  [](const auto& x, const auto& y) { return x - y; });
            break;
          case Code::kMul:
            arith(d, resolve(in.a[0]), resolve(in.a[1]), n,
                  [](const auto& x, const auto& y) { return x * y; });
            break;
          case Code::kDiv:
            arith(d, resolve(in.a[0]), resolve(in.a[1]), n,
                  [](const auto& x, const auto& y) { return x / y; });
            break;
          case Code::kCopy: {
            Val v = resolve(in.a[0]);
            if (v.p)
              std::copy_n(v.p, n, d);
            else
              std::fill_n(d, n, v.c);
            break;
          }
          case Code::kNeg: {
            const double* a = array_of(in.a[0], 0);
            ArrayMap(d, n) = -ConstMap(a, n);
            break;
          }
          case Code::kAbs: {
            const double* a = array_of(in.a[0], 0);
            ArrayMap(d, n) = ConstMap(a, n).abs();
            break;
          }
          case Code::kSqrt: {
            const double* a = array_of(in.a[0], 0);
            ArrayMap(d, n) = ConstMap(a, n).sqrt();  // IEEE-exact in SIMD and scalar alike
            break;
          }
          // Transcendentals use the scalar C library on every lane, so a value never
          // depends on whether its lane fell in a SIMD packet or a tail.
          case Code::kExp:
            scalar_loop(d, array_of(in.a[0], 0), n, [](double x) { return std::exp(x); });
            break;
          case Code::kLn:
            scalar_loop(d, array_of(in.a[0], 0), n, [](double x) { return std::log(x); });
            break;
          case Code::kLog10:
            scalar_loop(d, array_of(in.a[0], 0), n, [](double x) { return std::log10(x); });
            break;
          case Code::kSin:
            scalar_loop(d, array_of(in.a[0], 0), n, [](double x) { return std::sin(x); });
            break;
          case Code::kCos:
            scalar_loop(d, array_of(in.a[0], 0), n, [](double x) { return std::cos(x); });
            break;
          case Code::kFloor:
            scalar_loop(d, array_of(in.a[0], 0), n, [](double x) { return std::floor(x); });
            break;
          case Code::kCeil:
            scalar_loop(d, array_of(in.a[0], 0), n, [](double x) { return std::ceil(x); });
            break;
          case Code::kRound:
            scalar_loop(d, array_of(in.a[0], 0), n, [](double x) { return std::round(x); });
            break;
          case Code::kNot:
            scalar_loop(d, array_of(in.a[0], 0), n, [](double x) { return x == 0 ? 1.0 : 0.0; });
            break;
          case Code::kPow: {
            const double* a = array_of(in.a[0], 0);
            const double* b = array_of(in.a[1], 1);
            for (int i = 0; i < n; ++i) d[i] = std::pow(a[i], b[i]);
            break;
          }
          case Code::kMin:
          case Code::kMax: {
            // Eigen's vectorized min/max agree with std::min/std::max on every lane.
            ConstMap a(array_of(in.a[0], 0), n), b(array_of(in.a[1], 1), n);
            if (in.code == Code::kMin) {
              ArrayMap(d, n) = a.min(b);
            } else {
              ArrayMap(d, n) = a.max(b);
            }
            break;
          }
          case Code::kLt:
          case Code::kLe:
          case Code::kGt:
          case Code::kGe:
          case Code::kEq:
          case Code::kNe:
          case Code::kAnd:
          case Code::kOr:
            compare(in.code, d, array_of(in.a[0], 0), array_of(in.a[1], 1), n);
            break;
          case Code::kIf: {
            const double* c = array_of(in.a[0], 0);
            const double* a = array_of(in.a[1], 1);
            const double* b = array_of(in.a[2], 2);
            for (int i = 0; i < n; ++i) d[i] = c[i] != 0 ? a[i] : b[i];
            break;
          }
          case Code::kClamp: {
            ConstMap x(array_of(in.a[0], 0), n), lo(array_of(in.a[1], 1), n),
                hi(array_of(in.a[2], 2), n);
            ArrayMap(d, n) = x.max(lo).min(hi);
            break;
          }
          case Code::kStep: {
            const double* h = array_of(in.a[0], 0);
            const double* t = array_of(in.a[1], 1);
            for (int i = 0; i < n; ++i) d[i] = year >= t[i] ? h[i] : 0.0;
            break;
          }
          case Code::kRamp: {
            const double* s = array_of(in.a[0], 0);
            const double* t1 = array_of(in.a[1], 1);
            const double* t2 = in.n > 2 ? array_of(in.a[2], 2) : nullptr;
            for (int i = 0; i < n; ++i) {
              // Held after t2; a t2 before t1 means no ramp at all.
              double until = t2 && year > t2[i] ? t2[i] : year;
              d[i] = year > t1[i] && until > t1[i] ? s[i] * (until - t1[i]) : 0.0;
            }
            break;
          }
          case Code::kPulse: {
            const double* h = array_of(in.a[0], 0);
            const double* t1 = array_of(in.a[1], 1);
            const double* w = in.n > 2 ? array_of(in.a[2], 2) : nullptr;
            for (int i = 0; i < n; ++i) {
              double width = w ? w[i] : model_.time.step;
              d[i] = (year >= t1[i] && year < t1[i] + width) ? h[i] : 0.0;
            }
            break;
          }
          case Code::kSmooth: {
            const double* x = array_of(in.a[0], 0);
            const double* tau = array_of(in.a[1], 1);
            const double* prev = array_of(in.a[2], 2);
            const double dt = model_.time.step;
            for (int i = 0; i < n; ++i) {
              // tau <= 0 has no meaning: NaN, reported below with the node and run.
              double f = tau[i] > 0 ? dt / tau[i] : std::nan("");
              f = f >= 1.0 ? 1.0 : f;  // NaN stays NaN
              d[i] = prev[i] + f * (x[i] - prev[i]);
            }
            break;
          }
          case Code::kLookup: {
            const Lookup& l = model_.lookups[static_cast<std::size_t>(in.extra)];
            const double* x = array_of(in.a[0], 0);
            for (int i = 0; i < n; ++i) d[i] = l.at(x[i]);
            break;
          }
          case Code::kDraw: {
            // The uniforms of the block's runs first (independent Philox calls), then the
            // inverse CDF of each: quantile(u) is what draw() does with the stream's first
            // word, so the numbers are those of one stream per run.
            const int node = shock_nodes_[static_cast<std::size_t>(in.extra)];
            const Node& sn = model_.nodes[static_cast<std::size_t>(node)];
            first_uniforms(seed, first_run, sn.id, static_cast<std::uint64_t>(k), n, d,
                           shock_purpose);
            if (const QuantileFunction* fixed =
                    shock_quantile_[static_cast<std::size_t>(in.extra)].get()) {
              (*fixed)(d, d, n);
              break;
            }
            Val pv[4];
            for (int a = 0; a < in.n; ++a) pv[a] = resolve(in.a[a]);
            double params[4];
            const auto pn = static_cast<std::size_t>(in.n);
            if (sn.dist.kind == DistKind::kNormal) {
              // The hot path of most models: no per-lane dispatch.
              const double* mean = pv[0].p;
              const double* sd = pv[1].p;
              for (int i = 0; i < n; ++i) {
                params[0] = mean ? mean[i] : pv[0].c;
                params[1] = sd ? sd[i] : pv[1].c;
                if (!std::isfinite(params[0]) || !std::isfinite(params[1]) || !(params[1] >= 0.0)) {
                  d[i] = kNaNValue;
                } else {
                  d[i] = params[0] + params[1] * normal_quantile(d[i]);
                }
              }
            } else {
              for (int i = 0; i < n; ++i) {
                for (int a = 0; a < in.n; ++a) params[a] = pv[a].p ? pv[a].p[i] : pv[a].c;
                d[i] = quantile(sn.dist.kind, std::span<const double>(params, pn), &sn.dist.table,
                                d[i]);
              }
            }
            for (int i = 0; i < n; ++i) {
              if (!std::isnan(d[i])) continue;
              for (int a = 0; a < in.n; ++a) params[a] = pv[a].p ? pv[a].p[i] : pv[a].c;
              const std::uint64_t run = first_run + static_cast<std::uint64_t>(i);
              std::string p;
              for (int a = 0; a < in.n; ++a) p += fmt::format("{}{}", a ? ", " : "", params[a]);
              auto msg = check_params(sn.dist.kind, std::span<const double>(params, pn));
              throw RunError(
                  fmt::format("shock '{}' at {} in run {}: invalid {} parameters ({}){}", sn.name,
                              year, run, dist_name(sn.dist.kind), p, msg ? ": " + *msg : ""),
                  run);
            }
            break;
          }
        }
      }
      // A non-finite value stops the run with the node, the step and the run index.
      const double* out = slot_ptr(k, sc.slot);
      if (!all_finite(out, count)) {
        int lane = 0;
        while (lane < count && std::isfinite(out[lane])) ++lane;
        const std::uint64_t run = first_run + static_cast<std::uint64_t>(lane);
        throw RunError(fmt::format("{} is {} at {} in run {} (check divisions, logarithms and "
                                   "powers of its formula)",
                                   sc.what, out[lane], year, run),
                       run);
      }
    }
  }
}

std::string Program::listing() const {
  auto operand = [&](const Operand& o) -> std::string {
    switch (o.kind) {
      case Operand::Kind::kTemp:
        return fmt::format("t{}", o.index);
      case Operand::Kind::kSlot: {
        std::string name = o.index < nodes_ ? model_.nodes[static_cast<std::size_t>(o.index)].name
                                            : fmt::format("hidden{}", o.index - nodes_);
        return o.lag ? fmt::format("{}[-{}]", name, o.lag) : name;
      }
      case Operand::Kind::kConst:
        return fmt::format("{}", constants_[static_cast<std::size_t>(o.index)]);
      case Operand::Kind::kYear:
        return "year";
      case Operand::Kind::kDt:
        return "dt";
      case Operand::Kind::kNone:
        break;
    }
    return "?";
  };
  std::string out;
  for (const auto& sc : code_) {
    out += fmt::format("# {}\n", sc.what);
    for (int pass = 0; pass < 2; ++pass) {
      const auto& code = pass == 0 ? sc.first : sc.later;
      out += pass == 0 ? "  first step:\n" : "  later steps:\n";
      for (const auto& in : code) {
        std::string args;
        for (int a = 0; a < in.n; ++a) args += (a ? ", " : "") + operand(in.a[a]);
        std::string name = in.code == Code::kCopy ? "copy"
                           : in.code == Code::kDraw
                               ? "draw"
                               : std::string(op_name(static_cast<Op>(in.code)));
        out += fmt::format("    {} = {}({})\n", operand(in.dst), name, args);
      }
    }
  }
  return out;
}

}  // namespace attain
