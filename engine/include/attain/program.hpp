// A model compiled into a flat program evaluated for a block of runs at a time.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "attain/distributions.hpp"
#include "attain/errors.hpp"
#include "attain/graph.hpp"
#include "attain/model.hpp"
#include "attain/operations.hpp"
#include "attain/random.hpp"

namespace attain {

/// Instruction codes: the expression operations (in Op's order) plus copy and draw.
enum class Code : std::uint8_t {
#define ATTAIN_CODE_ENUM(id, ...) k##id,
  ATTAIN_OPERATIONS(ATTAIN_CODE_ENUM)
#undef ATTAIN_CODE_ENUM
      kCopy,  ///< dst = a
  kDraw,      ///< dst = a draw of shock `extra` with parameters a[0..n)
};

/// Where an instruction reads or writes.
struct Operand {
  enum class Kind : std::uint8_t { kNone, kTemp, kSlot, kConst, kYear, kDt };
  Kind kind = Kind::kNone;
  int index = 0;  ///< temp number, slot number or constant number
  int lag = 0;    ///< kSlot, kYear: steps back
};

struct Instr {
  Code code = Code::kCopy;
  Operand dst;
  Operand a[4];
  int n = 0;      ///< operands used
  int extra = 0;  ///< lookup index, or shock index for kDraw
};

/// The code that computes one slot at a step.
struct SlotCode {
  int slot = 0;
  std::vector<Instr> first;  ///< at the first step
  std::vector<Instr> later;  ///< at every later step
  bool skip_last = false;    ///< stock flows: not needed at the last step
  std::string what;          ///< for messages: "auxiliary 'x'", "change of stock 'y'"
};

/// @brief Where a block's random numbers come from, when not from the counter-based
/// streams (seed, run, node, step) of the simulation purpose. The study's Design gives
/// one per variant (a Saltelli design: one per matrix A, B, AB_j).
struct Draws {
  /// Fills the uniforms behind the parameters for runs [first_run, first_run + count):
  /// u[j * capacity + lane] for parameter j in Program::parameters() order, each in
  /// (0, 1), before the Gaussian copula of correlated groups. Empty: the streams.
  std::function<void(std::uint64_t first_run, int count, int capacity, double* u)> parameters;
  /// The purpose (Philox key) of the shock streams: another purpose gives every shock
  /// of every run other, independent numbers.
  StreamPurpose shocks = StreamPurpose::kSimulation;
};

/// @brief Tabulated inverse CDFs (beta, PERT, gamma) by distribution and parameters, for
/// the programs compiled with it: scenarios usually keep most parameters' distributions,
/// and building a table takes milliseconds. Keeps the last 128 (about 0.4 MB each).
/// Thread-safe; whoever compiles owns it (no state is shared between studies).
class QuantileCache {
 public:
  std::shared_ptr<const QuantileFunction> get(DistKind kind, const std::vector<double>& p);

 private:
  using Key = std::pair<DistKind, std::vector<double>>;
  static constexpr std::size_t kKeep = 128;
  std::mutex mutex_;
  std::map<Key, std::shared_ptr<const QuantileFunction>> tables_;
  std::deque<Key> order_;  ///< oldest first
};

/// @brief A model compiled once into instructions over slots.
///
/// Slots 0..N-1 are the model's nodes in file order; then one hidden slot per stock
/// flow and per smooth() call. Levers are tables per step, so a policy search may
/// change them between batches and keep the same random numbers.
/// @code
///   Program p = compile(apply_scenario(model, scenario), build_graph(model));
///   Block b(p, 256);
///   p.evaluate(b, seed, first_run, 256);
/// @endcode
class Program {
 public:
  int steps() const { return steps_; }
  int slots() const { return slots_; }
  int nodes() const { return nodes_; }
  const Model& model() const { return model_; }
  double time(int k) const { return model_.time.time(k); }
  /// Parameters (node indices) in file order; draws use this order.
  const std::vector<int>& parameters() const { return parameters_; }
  /// Shock nodes the program draws (kDraw instructions), in node order of compilation.
  int shocks() const { return static_cast<int>(shock_nodes_.size()); }

  /// Replaces a lever's rule (same random numbers; for policy search).
  void set_lever(const std::string& name, const LeverRule& rule);

  /// Storage for one block of runs: value of slot s at step k for lane i is
  /// values[(k * slots + s) * capacity + i].
  struct Block {
    int capacity = 0;
    std::vector<double> values;
    std::vector<double> scratch;
    std::vector<double> uniforms;  ///< per parameter, per lane: the uniform behind its draw
    double at(int step, int slot, int lane, int slots) const {
      return values[(static_cast<std::size_t>(step) * static_cast<std::size_t>(slots) +
                     static_cast<std::size_t>(slot)) *
                        static_cast<std::size_t>(capacity) +
                    static_cast<std::size_t>(lane)];
    }
  };
  Block make_block(int capacity) const;

  /// Evaluates runs [first_run, first_run + count) into `block` (count <= capacity).
  /// Throws RunError on a non-finite value.
  void evaluate(Block& block, std::uint64_t seed, std::uint64_t first_run, int count,
                const Draws* draws = nullptr) const;

  /// Human-readable listing of the instructions (for `attain graph --format program`).
  std::string listing() const;

  /// Instructions executed per run per step (for benchmarks).
  std::size_t instructions_per_step() const;

  /// Internal: one step of one block as the interpreter sees it (program.cpp).
  struct Frame;

 private:
  friend class ProgramBuilder;
  friend Program compile(const Model& model, const DependencyGraph& graph, QuantileCache& cache);
  Model model_;
  int steps_ = 0, slots_ = 0, nodes_ = 0, temps_ = 0;
  std::vector<SlotCode> code_;  ///< evaluation order
  std::vector<double> constants_;
  std::vector<int> parameters_;
  std::vector<int> levers_;
  std::vector<std::vector<double>> lever_values_;  ///< per lever: per step
  std::vector<std::vector<double>> prestart_;      ///< per slot: value j steps before start, at j-1
  std::vector<char> is_parameter_;                 ///< per slot
  struct Correlated {
    std::vector<int> params;  ///< positions in parameters_
    Eigen::MatrixXd chol;     ///< lower Cholesky factor of the normal-score correlations
  };
  std::vector<Correlated> correlated_;
  /// per parameter: tabulated inverse CDF (beta, PERT, gamma), else null (quantile())
  std::vector<std::shared_ptr<const QuantileFunction>> fast_quantile_;
  std::vector<int> shock_nodes_;  ///< kDraw extra -> node index
  /// kDraw extra -> tabulated inverse CDF of a beta, PERT or gamma shock whose parameters
  /// are constants, else null (draw() with the lane's parameters)
  std::vector<std::shared_ptr<const QuantileFunction>> shock_quantile_;
  void fill_levers();
  /// Parameters of the block's runs: uniforms, the copula, inverse CDFs (at step 0).
  void draw_parameters(const Frame& f, Block& block, const Draws* draws) const;
  /// The Gaussian copula of the correlated groups over the block's uniforms.
  void correlate(Block& block, int count) const;
  /// Levers and parameters at step k, then every slot's code.
  void run_step(Frame& f) const;
};

/// Compiles a (scenario-applied) model with its checked graph. The tabulated inverse
/// CDFs come from `cache` (pass one cache to the compilations of one study to share them).
Program compile(const Model& model, const DependencyGraph& graph, QuantileCache& cache);
/// Same, with a cache of its own.
Program compile(const Model& model, const DependencyGraph& graph);

}  // namespace attain
