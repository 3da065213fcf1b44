// Compiles a model into slot code and evaluates it over blocks of runs (Eigen arrays).
#include "attain/program.hpp"

#include <fmt/format.h>

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numbers>
#include <optional>
#include <stdexcept>

#include "attain/validate.hpp"

namespace attain {
namespace {

constexpr double kNaNValue = std::numeric_limits<double>::quiet_NaN();

using ArrayMap = Eigen::Map<Eigen::ArrayXd>;
using ConstMap = Eigen::Map<const Eigen::ArrayXd>;

// Code starts with Op's operations in the same order (both come from ATTAIN_OPERATIONS).
Code code_of(Op op) {
  return static_cast<Code>(static_cast<int>(op));
}

Instr make_instr(Code c, Operand dst, std::initializer_list<Operand> args) {
  Instr in;
  in.code = c;
  in.dst = dst;
  for (const Operand& a : args) in.a[in.n++] = a;
  return in;
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
      code.push_back(make_instr(Code::kCopy, target, {r}));
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
    // Operations of any arity (min, max) become chains of binary ones.
    if (op_info(e.op).max_args < 0 && args.size() > 2) {
      Operand acc = args[0];
      for (std::size_t i = 1; i < args.size(); ++i)
        acc = instr(code_of(e.op), {acc, args[i]}, code);
      return acc;
    }
    if (e.op == Op::kSmooth) return emit_smooth(args, first, code);
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
  Operand emit_smooth(const std::vector<Operand>& args, bool first, std::vector<Instr>& code) {
    int slot = first_smooth_ + smooth_count_++;
    // First step: the input itself; later: move toward it from the previous value.
    Operand out =
        first ? instr(Code::kCopy, {args[0]}, code)
              : instr(Code::kSmooth, {args[0], args[1], {Operand::Kind::kSlot, slot, 1}}, code);
    code.push_back(make_instr(Code::kCopy, {Operand::Kind::kSlot, slot, 0}, {out}));
    return out;
  }

  const Model& m_;
  std::vector<double>& constants_;
  int& smooth_count_;
  int first_smooth_;
  int temps_ = 0;
};

int count_smooth(const Expr& e) {
  int n = e.kind == Expr::Kind::kApply && e.op == Op::kSmooth ? 1 : 0;
  for (const auto& a : e.args) n += count_smooth(*a);
  return n;
}

/// Calls `f(e)` for every expression of the model (formulas, initial values, changes and
/// distribution parameters).
template <class F>
void for_each_expr(const Model& m, F&& f) {
  for (const auto& n : m.nodes) {
    for (const auto& e : {n.formula, n.initial, n.change})
      if (e) f(*e);
    for (const auto& e : n.dist.p_expr) f(*e);
  }
}

/// Throws unless `graph` was built from `model` (an evaluation order that is a
/// permutation of its nodes): a precondition checked rather than trusted.
void check_graph(const Model& model, const DependencyGraph& graph) {
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
}

/// Kinds whose quantile() runs Boost's solvers (microseconds a draw): they use a
/// tabulated inverse CDF when their parameters are known at compile time.
bool tabulated_kind(DistKind kind) {
  return kind == DistKind::kPert || kind == DistKind::kBeta || kind == DistKind::kGamma;
}

}  // namespace

/// Compiles a model into a Program: the layout of its slots, then the code of each slot.
class ProgramBuilder {
 public:
  ProgramBuilder(Program& p, QuantileCache& cache) : p_(p), m_(p.model_), cache_(cache) {}

  /// Slots: nodes, then one flow per stock, then one per smooth() call in the source (the
  /// first-step and later-step code of an expression share its smooth slots); parameters,
  /// levers and the values before the start.
  void layout() {
    p_.steps_ = m_.time.steps();
    p_.nodes_ = static_cast<int>(m_.nodes.size());
    int stocks = 0, smooths = 0;
    for (const auto& n : m_.nodes)
      if (n.kind == NodeKind::kStock) ++stocks;
    for_each_expr(m_, [&](const Expr& e) { smooths += count_smooth(e); });
    first_flow_ = p_.nodes_;
    first_smooth_ = first_flow_ + stocks;
    p_.slots_ = first_smooth_ + smooths;
    flow_of_.assign(static_cast<std::size_t>(p_.nodes_), -1);
    p_.is_parameter_.assign(static_cast<std::size_t>(p_.slots_), 0);
    for (int i = 0, f = 0; i < p_.nodes_; ++i) {
      const Node& n = m_.nodes[static_cast<std::size_t>(i)];
      if (n.kind == NodeKind::kStock) flow_of_[static_cast<std::size_t>(i)] = first_flow_ + f++;
      if (n.kind == NodeKind::kParameter) {
        p_.parameters_.push_back(i);
        p_.is_parameter_[static_cast<std::size_t>(i)] = 1;
      }
      if (n.kind == NodeKind::kLever) p_.levers_.push_back(i);
    }
    layout_prestart();
  }

  /// Code of every node in evaluation order (parameters and levers are filled directly),
  /// then of every stock's flow; the scratch temps they need.
  void generate(const DependencyGraph& graph) {
    for (int i : graph.order) {
      const Node& n = m_.nodes[static_cast<std::size_t>(i)];
      if (n.kind == NodeKind::kLever || n.kind == NodeKind::kParameter) continue;
      SlotCode sc;
      sc.slot = i;
      sc.what = fmt::format("{} '{}'", kind_name(n.kind), n.name);
      if (n.kind == NodeKind::kAuxiliary) compile_expr(*n.formula, i, sc, true);
      if (n.kind == NodeKind::kStock) stock_code(i, sc);
      if (n.kind == NodeKind::kShock) shock_code(i, sc);
      p_.code_.push_back(std::move(sc));
    }
    for (int i = 0; i < p_.nodes_; ++i) {
      const Node& n = m_.nodes[static_cast<std::size_t>(i)];
      if (n.kind != NodeKind::kStock) continue;
      SlotCode sc;
      sc.slot = flow_of_[static_cast<std::size_t>(i)];
      sc.skip_last = true;
      sc.what = fmt::format("change of stock '{}'", n.name);
      compile_expr(*n.change, sc.slot, sc, true);
      p_.code_.push_back(std::move(sc));
    }
    // Scratch arrays for every temp any instruction writes.
    for (const auto& sc : p_.code_)
      for (const auto* code : {&sc.first, &sc.later})
        for (const auto& in : *code)
          if (in.dst.kind == Operand::Kind::kTemp)
            p_.temps_ = std::max(p_.temps_, in.dst.index + 1);
  }

  /// Cholesky factors of the correlated groups and the parameters' tabulated inverse CDFs.
  void sampling() {
    for (const auto& g : m_.correlations) {
      Program::Correlated c;
      for (const auto& name : g.parameters) {
        int node = m_.node_index.at(name);
        c.params.push_back(
            static_cast<int>(std::find(p_.parameters_.begin(), p_.parameters_.end(), node) -
                             p_.parameters_.begin()));
      }
      Eigen::MatrixXd pearson = (g.rank.array() * (std::numbers::pi / 6)).sin() * 2;
      c.chol = pearson.llt().matrixL();
      p_.correlated_.push_back(std::move(c));
    }
    // Every drawn parameter is the inverse CDF of one uniform; beta, PERT and gamma use
    // the tabulated one (the others' quantile() is already fast).
    p_.fast_quantile_.assign(p_.parameters_.size(), nullptr);
    for (std::size_t j = 0; j < p_.parameters_.size(); ++j) {
      const Node& n = m_.nodes[static_cast<std::size_t>(p_.parameters_[j])];
      if (!n.dist.fixed && tabulated_kind(n.dist.kind))
        p_.fast_quantile_[j] = cache_.get(n.dist.kind, n.dist.p);
    }
  }

 private:
  /// Values before the start: history (levers' rules fill theirs in fill_levers()).
  void layout_prestart() {
    int max_lag = 1;
    for_each_expr(m_, [&](const Expr& e) {
      for_each_ref(e, [&](const Expr& r) { max_lag = std::max(max_lag, r.lag + 1); });
    });
    p_.prestart_.assign(static_cast<std::size_t>(p_.slots_), {});
    for (int i = 0; i < p_.nodes_; ++i) {
      const Node& n = m_.nodes[static_cast<std::size_t>(i)];
      auto& pre = p_.prestart_[static_cast<std::size_t>(i)];
      for (int j = 1; j <= max_lag; ++j) {
        double t = m_.time.start - j * m_.time.step;
        double v = std::nan("");
        for (const auto& [ht, hv] : n.history)
          if (std::fabs(ht - t) < 1e-9) v = hv;
        pre.push_back(v);
      }
    }
  }

  /// The first-step code of `e` into `slot` and, if `both`, the later steps' code, which
  /// reuses the same smooth slots.
  void compile_expr(const Expr& e, int slot, SlotCode& sc, bool both) {
    Compiler first(m_, p_.constants_, smooth_used_, first_smooth_);
    int before = smooth_used_;
    first.emit_into(e, slot, true, sc.first, p_.temps_);
    if (both) {
      int after = smooth_used_;
      smooth_used_ = before;
      Compiler later(m_, p_.constants_, smooth_used_, first_smooth_);
      later.emit_into(e, slot, false, sc.later, p_.temps_);
      smooth_used_ = after;
    }
  }

  /// The initial value, then S(k) = S(k-1) + dt * flow(k-1).
  void stock_code(int i, SlotCode& sc) {
    compile_expr(*m_.nodes[static_cast<std::size_t>(i)].initial, i, sc, false);
    const Operand temp{Operand::Kind::kTemp, 0, 0};
    sc.later.push_back(
        make_instr(Code::kMul, temp,
                   {{Operand::Kind::kDt, 0, 0},
                    {Operand::Kind::kSlot, flow_of_[static_cast<std::size_t>(i)], 1}}));
    sc.later.push_back(
        make_instr(Code::kAdd, {Operand::Kind::kSlot, i, 0}, {{Operand::Kind::kSlot, i, 1}, temp}));
    p_.temps_ = std::max(p_.temps_, 1);
  }

  /// Parameter expressions, then one draw per lane; both step variants share the smooth()
  /// slots of the expressions.
  void shock_code(int i, SlotCode& sc) {
    const Node& n = m_.nodes[static_cast<std::size_t>(i)];
    int shock = static_cast<int>(p_.shock_nodes_.size());
    p_.shock_nodes_.push_back(i);
    // A beta, PERT or gamma shock with constant parameters: the tabulated inverse CDF
    // (quantile() would run Boost's solvers, microseconds a draw).
    std::shared_ptr<const QuantileFunction> fixed;
    if (tabulated_kind(n.dist.kind)) {
      std::vector<double> values;
      for (const auto& e : n.dist.p_expr)
        if (auto v = fold_constant(*e)) values.push_back(*v);
      if (values.size() == n.dist.p_expr.size() && !check_params(n.dist.kind, values))
        fixed = cache_.get(n.dist.kind, values);
    }
    p_.shock_quantile_.push_back(std::move(fixed));
    int before = smooth_used_;
    for (int pass = 0; pass < 2; ++pass) {
      if (pass == 1) smooth_used_ = before;
      auto& code = pass == 0 ? sc.first : sc.later;
      Compiler cc(m_, p_.constants_, smooth_used_, first_smooth_);
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
  }

  Program& p_;
  const Model& m_;
  QuantileCache& cache_;
  int first_flow_ = 0, first_smooth_ = 0, smooth_used_ = 0;
  std::vector<int> flow_of_;
};

Program compile(const Model& model, const DependencyGraph& graph, QuantileCache& cache) {
  validate(model);
  check_graph(model, graph);
  Program p;
  p.model_ = model;
  ProgramBuilder b(p, cache);
  b.layout();
  b.generate(graph);
  b.sampling();
  p.fill_levers();
  return p;
}

Program compile(const Model& model, const DependencyGraph& graph) {
  QuantileCache cache;
  return compile(model, graph, cache);
}

std::shared_ptr<const QuantileFunction> QuantileCache::get(DistKind kind,
                                                           const std::vector<double>& p) {
  const std::lock_guard<std::mutex> lock(mutex_);
  Key key{kind, p};
  if (auto it = tables_.find(key); it != tables_.end()) return it->second;
  auto q = std::make_shared<const QuantileFunction>(kind, p, nullptr);
  tables_.emplace(key, q);
  order_.push_back(std::move(key));
  if (order_.size() > kKeep) {
    tables_.erase(order_.front());
    order_.pop_front();
  }
  return q;
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

namespace {

/// A resolved operand: an array of the block, or one number for every lane.
struct Val {
  const double* p = nullptr;
  double c = 0;
};

/// True when no value is NaN or infinite: x - x is 0 for finite x and NaN otherwise,
/// so the (vectorized) sum is 0 or NaN whatever the order of addition.
bool all_finite(const double* v, int n) {
  ConstMap m(v, n);
  return !std::isnan((m - m).sum());
}

/// The first lane of `v` that is not finite (count if none).
int first_non_finite(const double* v, int count) {
  int lane = 0;
  while (lane < count && std::isfinite(v[lane])) ++lane;
  return lane;
}

}  // namespace

/// One step of one block: where slots, temps and operands are, and the instructions'
/// implementations.
struct Program::Frame {
  const Program& p;
  double* values;
  double* temps;
  double* broadcast;  ///< four arrays for scalars broadcast to every lane
  std::size_t ucap;
  int count;
  std::uint64_t seed;
  std::uint64_t first_run;
  StreamPurpose shocks;
  int k = 0;
  double year = 0;

  double* slot(int step, int s) const {
    return values + (static_cast<std::size_t>(step) * static_cast<std::size_t>(p.slots_) +
                     static_cast<std::size_t>(s)) *
                        ucap;
  }
  double* dst(const Instr& in) const {
    return in.dst.kind == Operand::Kind::kTemp
               ? temps + static_cast<std::size_t>(in.dst.index) * ucap
               : slot(k, in.dst.index);
  }
  Val resolve(const Operand& o) const {
    switch (o.kind) {
      case Operand::Kind::kTemp:
        return {temps + static_cast<std::size_t>(o.index) * ucap, 0};
      case Operand::Kind::kSlot: {
        int kk = k - o.lag;
        if (kk >= 0) return {slot(kk, o.index), 0};
        if (p.is_parameter_[static_cast<std::size_t>(o.index)]) return {slot(0, o.index), 0};
        return {nullptr,
                p.prestart_[static_cast<std::size_t>(o.index)][static_cast<std::size_t>(-kk - 1)]};
      }
      case Operand::Kind::kConst:
        return {nullptr, p.constants_[static_cast<std::size_t>(o.index)]};
      case Operand::Kind::kYear:
        return {nullptr, p.model_.time.time(k - o.lag)};
      case Operand::Kind::kDt:
        return {nullptr, p.model_.time.step};
      case Operand::Kind::kNone:
        break;
    }
    return {nullptr, 0};
  }
  /// The operand as an array (a scalar broadcast into buffer `i`).
  const double* array_of(const Operand& o, int i) const {
    Val v = resolve(o);
    if (v.p) return v.p;
    double* b = broadcast + static_cast<std::size_t>(i) * ucap;
    std::fill_n(b, count, v.c);
    return b;
  }
  double dt() const { return p.model_.time.step; }
  const Lookup& lookup(int i) const { return p.model_.lookups[static_cast<std::size_t>(i)]; }

  void run(const SlotCode& sc) const;
  void check_hidden(const SlotCode& sc, const Instr& in) const;
  void execute(const Instr& in) const;
  void draw_shock(const Instr& in, double* d) const;
  void report_shock(const Instr& in, const Val* pv, int lane) const;
};

namespace {

using Frame = Program::Frame;

/// The block form of operation O: by default its scalar form on every lane (transcendentals
/// thus call the scalar C library on every lane, so a value never depends on whether its
/// lane fell in a SIMD packet or a tail). Specializations below vectorize or add context.
template <Op O>
void block_op(const Frame& f, const Instr& in, double* d) {
  constexpr ScalarFn fn = op_info(O).scalar;
  constexpr int arity = op_info(O).min_args;
  static_assert(op_info(O).has_scalar && arity == op_info(O).max_args,
                "an operation without a scalar form, or of variable arity, needs a block_op "
                "specialization in program.cpp");
  const double* a[arity];
  for (int j = 0; j < arity; ++j) a[j] = f.array_of(in.a[j], j);
  for (int i = 0; i < f.count; ++i) {
    double x[arity];
    for (int j = 0; j < arity; ++j) x[j] = a[j][i];
    d[i] = fn(x, arity);
  }
}

/// a op b over Eigen arrays, without broadcasting a scalar operand.
template <class F>
void arith(const Frame& f, const Instr& in, double* d, F op) {
  const Val a = f.resolve(in.a[0]), b = f.resolve(in.a[1]);
  const int n = f.count;
  ArrayMap out(d, n);
  if (a.p && b.p) {
    out = op(ConstMap(a.p, n), ConstMap(b.p, n));
  } else if (a.p) {
    out = op(ConstMap(a.p, n), b.c);
  } else if (b.p) {
    out = op(a.c, ConstMap(b.p, n));
  } else {
    out.setConstant(op(a.c, b.c));
  }
}

ConstMap arg(const Frame& f, const Instr& in, int i) {
  return {f.array_of(in.a[i], i), f.count};
}

// + - * / as Eigen expressions, without broadcasting a scalar operand.
#define ATTAIN_ARITH_OP(id, functor)                                     \
  template <>                                                            \
  void block_op<Op::k##id>(const Frame& f, const Instr& in, double* d) { \
    arith(f, in, d, functor{});                                          \
  }
ATTAIN_ARITH_OP(Add, std::plus<>)
ATTAIN_ARITH_OP(Sub, std::minus<>)
ATTAIN_ARITH_OP(Mul, std::multiplies<>)
ATTAIN_ARITH_OP(Div, std::divides<>)
#undef ATTAIN_ARITH_OP
template <>
void block_op<Op::kNeg>(const Frame& f, const Instr& in, double* d) {
  ArrayMap(d, f.count) = -arg(f, in, 0);
}
template <>
void block_op<Op::kAbs>(const Frame& f, const Instr& in, double* d) {
  ArrayMap(d, f.count) = arg(f, in, 0).abs();
}
template <>
void block_op<Op::kSqrt>(const Frame& f, const Instr& in, double* d) {
  ArrayMap(d, f.count) = arg(f, in, 0).sqrt();  // IEEE-exact in SIMD and scalar alike
}
// Eigen's vectorized min/max agree with std::min/std::max on every lane (the compiler
// chains min/max of more arguments into binary ones).
template <>
void block_op<Op::kMin>(const Frame& f, const Instr& in, double* d) {
  ArrayMap(d, f.count) = arg(f, in, 0).min(arg(f, in, 1));
}
template <>
void block_op<Op::kMax>(const Frame& f, const Instr& in, double* d) {
  ArrayMap(d, f.count) = arg(f, in, 0).max(arg(f, in, 1));
}
template <>
void block_op<Op::kClamp>(const Frame& f, const Instr& in, double* d) {
  ArrayMap(d, f.count) = arg(f, in, 0).max(arg(f, in, 1)).min(arg(f, in, 2));
}
template <>
void block_op<Op::kStep>(const Frame& f, const Instr& in, double* d) {
  const double* h = f.array_of(in.a[0], 0);
  const double* t = f.array_of(in.a[1], 1);
  for (int i = 0; i < f.count; ++i) d[i] = f.year >= t[i] ? h[i] : 0.0;
}
template <>
void block_op<Op::kRamp>(const Frame& f, const Instr& in, double* d) {
  const double* s = f.array_of(in.a[0], 0);
  const double* t1 = f.array_of(in.a[1], 1);
  const double* t2 = in.n > 2 ? f.array_of(in.a[2], 2) : nullptr;
  const double year = f.year;
  for (int i = 0; i < f.count; ++i) {
    // Held after t2; a t2 before t1 means no ramp at all.
    double until = t2 && year > t2[i] ? t2[i] : year;
    d[i] = year > t1[i] && until > t1[i] ? s[i] * (until - t1[i]) : 0.0;
  }
}
template <>
void block_op<Op::kPulse>(const Frame& f, const Instr& in, double* d) {
  const double* h = f.array_of(in.a[0], 0);
  const double* t1 = f.array_of(in.a[1], 1);
  const double* w = in.n > 2 ? f.array_of(in.a[2], 2) : nullptr;
  const double year = f.year;
  for (int i = 0; i < f.count; ++i) {
    double width = w ? w[i] : f.dt();
    d[i] = (year >= t1[i] && year < t1[i] + width) ? h[i] : 0.0;
  }
}
template <>
void block_op<Op::kSmooth>(const Frame& f, const Instr& in, double* d) {
  const double* x = f.array_of(in.a[0], 0);
  const double* tau = f.array_of(in.a[1], 1);
  const double* prev = f.array_of(in.a[2], 2);
  const double dt = f.dt();
  for (int i = 0; i < f.count; ++i) {
    // tau <= 0 has no meaning: NaN, reported with the node and run.
    double g = tau[i] > 0 ? dt / tau[i] : std::nan("");
    g = g >= 1.0 ? 1.0 : g;  // NaN stays NaN
    d[i] = prev[i] + g * (x[i] - prev[i]);
  }
}
template <>
void block_op<Op::kLookup>(const Frame& f, const Instr& in, double* d) {
  const Lookup& l = f.lookup(in.extra);
  const double* x = f.array_of(in.a[0], 0);
  for (int i = 0; i < f.count; ++i) d[i] = l.at(x[i]);
}

/// Operands whose NaN or infinity the instruction would hide (the table's `hides`).
int hiding_operands(Code c) {
  return c < Code::kCopy ? op_info(static_cast<Op>(c)).hides : 0;
}

}  // namespace

void Program::Frame::execute(const Instr& in) const {
  double* d = dst(in);
  switch (in.code) {
#define ATTAIN_OP_CASE(id, ...)        \
  case Code::k##id:                    \
    block_op<Op::k##id>(*this, in, d); \
    break;
    ATTAIN_OPERATIONS(ATTAIN_OP_CASE)
#undef ATTAIN_OP_CASE
    case Code::kCopy: {
      Val v = resolve(in.a[0]);
      if (v.p)
        std::copy_n(v.p, count, d);
      else
        std::fill_n(d, count, v.c);
      break;
    }
    case Code::kDraw:
      draw_shock(in, d);
      break;
  }
}

/// Operands that an operation would hide if they were NaN or infinite stop the run here;
/// if() checks its condition only, so a guard like if(x > 0, ln(x), 0) still works.
void Program::Frame::check_hidden(const SlotCode& sc, const Instr& in) const {
  const int mask = hiding_operands(in.code);
  for (int a = 0; mask && a < in.n; ++a) {
    if (!(mask & (1 << a))) continue;
    const Val v = resolve(in.a[a]);
    if (v.p ? all_finite(v.p, count) : std::isfinite(v.c)) continue;
    const int lane = v.p ? first_non_finite(v.p, count) : 0;
    const std::uint64_t run = first_run + static_cast<std::uint64_t>(lane);
    throw RunError(
        fmt::format("{}: an argument of {}() is {} at {} in run {} (check "
                    "divisions, logarithms and powers of its formula)",
                    sc.what, op_name(static_cast<Op>(in.code)), v.p ? v.p[lane] : v.c, year, run),
        run);
  }
}

void Program::Frame::run(const SlotCode& sc) const {
  const auto& code = k == 0 ? sc.first : sc.later;
  for (const Instr& in : code) {
    if (hiding_operands(in.code) != 0) check_hidden(sc, in);
    execute(in);
  }
  // A non-finite value stops the run with the node, the step and the run index.
  const double* out = slot(k, sc.slot);
  if (!all_finite(out, count)) {
    const int lane = first_non_finite(out, count);
    const std::uint64_t run = first_run + static_cast<std::uint64_t>(lane);
    throw RunError(fmt::format("{} is {} at {} in run {} (check divisions, logarithms and "
                               "powers of its formula)",
                               sc.what, out[lane], year, run),
                   run);
  }
}

/// The uniforms of the block's runs first (independent Philox calls), then the inverse CDF
/// of each: quantile(u) is what draw() does with the stream's first word, so the numbers
/// are those of one stream per run.
void Program::Frame::draw_shock(const Instr& in, double* d) const {
  const int n = count;
  const int node = p.shock_nodes_[static_cast<std::size_t>(in.extra)];
  const Node& sn = p.model_.nodes[static_cast<std::size_t>(node)];
  first_uniforms(seed, first_run, sn.id, static_cast<std::uint64_t>(k), n, d, shocks);
  if (const QuantileFunction* fixed = p.shock_quantile_[static_cast<std::size_t>(in.extra)].get()) {
    (*fixed)(d, d, n);
    return;
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
      d[i] = quantile(sn.dist.kind, std::span<const double>(params, pn), &sn.dist.table, d[i]);
    }
  }
  for (int i = 0; i < n; ++i)
    if (std::isnan(d[i])) report_shock(in, pv, i);
}

/// Throws the RunError of an invalid draw in `lane`, with the parameters it had.
void Program::Frame::report_shock(const Instr& in, const Val* pv, int lane) const {
  const Node& sn =
      p.model_.nodes[static_cast<std::size_t>(p.shock_nodes_[static_cast<std::size_t>(in.extra)])];
  double params[4];
  for (int a = 0; a < in.n; ++a) params[a] = pv[a].p ? pv[a].p[lane] : pv[a].c;
  const std::uint64_t run = first_run + static_cast<std::uint64_t>(lane);
  std::string text;
  for (int a = 0; a < in.n; ++a) text += fmt::format("{}{}", a ? ", " : "", params[a]);
  auto msg =
      check_params(sn.dist.kind, std::span<const double>(params, static_cast<std::size_t>(in.n)));
  throw RunError(fmt::format("shock '{}' at {} in run {}: invalid {} parameters ({}){}", sn.name,
                             year, run, dist_name(sn.dist.kind), text, msg ? ": " + *msg : ""),
                 run);
}

void Program::evaluate(Block& block, std::uint64_t seed, std::uint64_t first_run, int count,
                       const Draws* draws) const {
  const auto ucap = static_cast<std::size_t>(block.capacity);
  double* temps = block.scratch.data();
  Frame f{*this,
          block.values.data(),
          temps,
          temps + static_cast<std::size_t>(temps_) * ucap,
          ucap,
          count,
          seed,
          first_run,
          draws ? draws->shocks : StreamPurpose::kSimulation};
  draw_parameters(f, block, draws);
  for (f.k = 0; f.k < steps_; ++f.k) {
    f.year = model_.time.time(f.k);
    run_step(f);
  }
}

void Program::run_step(Frame& f) const {
  const int k = f.k;
  for (std::size_t j = 0; j < levers_.size(); ++j)
    ArrayMap(f.slot(k, levers_[j]), f.count)
        .setConstant(lever_values_[j][static_cast<std::size_t>(k)]);
  if (k > 0)
    for (int j : parameters_) std::copy_n(f.slot(0, j), f.count, f.slot(k, j));
  for (const SlotCode& sc : code_) {
    if (sc.skip_last && k == steps_ - 1) continue;
    f.run(sc);
  }
}

// Parameters: drawn once per run from their own stream (seed, run, node, kOncePerRun),
// every one by its inverse CDF of the stream's first word (common random numbers that
// survive a change of the distribution); correlated ones after the Gaussian copula.
// Each stage runs over the whole block for one parameter at a time: the Philox calls and
// table lookups of different runs are independent, so the processor overlaps them.
void Program::draw_parameters(const Frame& f, Block& block, const Draws* draws) const {
  const int count = f.count;
  double* u = block.uniforms.data();
  auto u_of = [&](std::size_t j) { return u + j * f.ucap; };
  if (draws && draws->parameters) {
    draws->parameters(f.first_run, count, block.capacity, u);
  } else {
    for (std::size_t j = 0; j < parameters_.size(); ++j) {
      const Node& n = model_.nodes[static_cast<std::size_t>(parameters_[j])];
      if (!n.dist.fixed) first_uniforms(f.seed, f.first_run, n.id, kOncePerRun, count, u_of(j));
    }
  }
  correlate(block, count);
  for (std::size_t j = 0; j < parameters_.size(); ++j) {
    const Node& n = model_.nodes[static_cast<std::size_t>(parameters_[j])];
    double* x = f.slot(0, parameters_[j]);
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
    const double* p0 = f.slot(0, j);
    const int lane = first_non_finite(p0, count);
    if (lane < count)
      throw RunError(fmt::format("parameter '{}' drew a non-finite value in run {}",
                                 model_.nodes[static_cast<std::size_t>(j)].name,
                                 f.first_run + static_cast<std::uint64_t>(lane)),
                     f.first_run + static_cast<std::uint64_t>(lane));
  }
}

void Program::correlate(Block& block, int count) const {
  const auto ucap = static_cast<std::size_t>(block.capacity);
  const auto np = parameters_.size();
  double* u = block.uniforms.data();
  for (const auto& c : correlated_) {
    // z = L w for the normal scores w of the group's uniforms, lane by lane (the sum in
    // the order of the columns, so the bits do not depend on the block).
    const auto m = c.params.size();
    double* z = u + np * ucap;  // the group's normal scores, m arrays of the block's lanes
    for (std::size_t a = 0; a < m; ++a) {
      const double* ua = u + static_cast<std::size_t>(c.params[a]) * ucap;
      double* w = z + a * ucap;
      for (int lane = 0; lane < count; ++lane) w[lane] = normal_quantile(ua[lane]);
    }
    for (std::size_t a = 0; a < m; ++a) {
      double* ua = u + static_cast<std::size_t>(c.params[a]) * ucap;
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
