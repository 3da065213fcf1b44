// Studies: a run range evaluated under one or more variants, through a design, into
// reducers. Every command (run, compare, sweep, search) is a front end over run_study.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "attain/diagnostics.hpp"
#include "attain/errors.hpp"
#include "attain/program.hpp"
#include "attain/stats.hpp"

namespace attain {

/// @brief One block of runs of one variant, as reducers see it: values(step, node) points
/// at `count()` lanes, one per run from first_run(). Reducers read blocks only through
/// this view, never the evaluator's storage layout.
class BlockView {
 public:
  BlockView(const Program& program, const Program::Block& block, std::uint64_t first_run, int count)
      : program_(&program), block_(&block), first_run_(first_run), count_(count) {}
  const double* values(int step, int node) const {
    return block_->values.data() +
           (static_cast<std::size_t>(step) * static_cast<std::size_t>(program_->slots()) +
            static_cast<std::size_t>(node)) *
               static_cast<std::size_t>(block_->capacity);
  }
  /// The uniform behind parameter j (Program::parameters() order) in each lane, after
  /// the Gaussian copula: the parameter's value is its inverse CDF at this number.
  /// Undefined for a fixed parameter.
  const double* uniforms(std::size_t j) const {
    return block_->uniforms.data() + j * static_cast<std::size_t>(block_->capacity);
  }
  std::uint64_t first_run() const { return first_run_; }
  int count() const { return count_; }
  const Program& program() const { return *program_; }

 private:
  const Program* program_;
  const Program::Block* block_;
  std::uint64_t first_run_;
  int count_;
};

/// All variants of a study evaluated on the same runs: variants[v] is variant v.
struct StudyBlock {
  std::uint64_t first_run = 0;
  int count = 0;
  std::span<const BlockView> variants;
};

/// A reducer's exact state: named arrays of integers and of doubles. Loading a saved
/// state and merging gives the same bits as never having saved it.
struct ReducerState {
  std::map<std::string, std::vector<std::uint64_t>> counts;
  std::map<std::string, std::vector<double>> reals;
  bool operator==(const ReducerState&) const = default;
};

/// @brief Consumes blocks of runs and keeps what one output needs.
///
/// A study gives each chunk of runs its own empty() copy; add() sees the chunk's blocks
/// in run order; chunk_done() is called once per chunk in run order (per-run rows go
/// out there); then chunks merge by absolute chunk index (see run_study), `later`
/// always covering the runs after this one's.
class Reducer {
 public:
  virtual ~Reducer() = default;
  virtual std::string kind() const = 0;
  virtual std::unique_ptr<Reducer> empty() const = 0;
  virtual void add(const StudyBlock& block) = 0;
  virtual void chunk_done() {}
  virtual void merge(const Reducer& later) = 0;
  virtual ReducerState save() const = 0;
  virtual void load(const ReducerState& state) = 0;
  /// Bytes one copy holds in a chunk of `chunk_runs` runs: for sure (`at_bound` false)
  /// or at most (true). The default: the size of the saved state (fixed-size reducers).
  virtual std::uint64_t bytes(int chunk_runs, bool at_bound) const;
};

/// Count, sums and extremes of one quantity within a chunk: run r adds to accumulator
/// r mod 4 around a shift (the chunk's first value), so the sums depend on run indices
/// only, not on block size or threads. moments() folds the four in a fixed order.
struct ChunkMoments {
  std::uint64_t n = 0;
  double shift = 0, mn = 0, mx = 0;
  double s[4] = {0, 0, 0, 0}, ss[4] = {0, 0, 0, 0};
  void add(const double* v, int count, std::uint64_t first_run);
  Moments moments() const;
};

/// A quantity accumulated chunk by chunk: ChunkMoments inside a chunk, Moments (Chan
/// et al.'s merge) across chunks.
struct RunMoments {
  ChunkMoments chunk;
  Moments total;
  bool sealed = false;
  void add(const double* v, int count, std::uint64_t first_run) { chunk.add(v, count, first_run); }
  void seal();  ///< moves the chunk accumulators into `total` (idempotent)
  const Moments& moments() {
    seal();
    return total;
  }
};

// ---------------------------------------------------------------------------------------
// The standard reducers.

/// Per target of one variant: hits at its year, the step it is first met, and the joint;
/// and per k = 0..targets, the runs meeting exactly k targets at their years.
class AttainmentReducer : public Reducer {
 public:
  /// `targets`: indices into the model's targets (all when empty).
  AttainmentReducer(const Model& model, int variant);
  std::string kind() const override { return "attainment"; }
  std::unique_ptr<Reducer> empty() const override;
  void add(const StudyBlock& block) override;
  void merge(const Reducer& later) override;
  ReducerState save() const override;
  void load(const ReducerState& state) override;

  int variant() const { return variant_; }
  std::uint64_t runs() const { return runs_; }
  std::uint64_t hits(std::size_t target) const { return hits_[target]; }
  std::size_t targets() const { return hits_.size(); }
  std::uint64_t joint_hits() const { return joint_; }
  /// Runs first meeting target t at step k (k = steps: never).
  std::uint64_t first_met(std::size_t target, int step) const;
  /// Runs meeting exactly k of the targets (k = 0..targets()).
  std::uint64_t met(std::size_t k) const { return met_[k]; }

 private:
  struct Ref {
    int node, step;
    Cmp op;
    double threshold;
  };
  std::vector<Ref> refs_;
  int variant_, steps_;
  std::uint64_t runs_ = 0, joint_ = 0;
  std::vector<std::uint64_t> hits_, first_met_, met_;
};

/// Where each known actual falls in one variant's predicted distribution.
class ActualsReducer : public Reducer {
 public:
  ActualsReducer(const Model& model, int variant);
  std::string kind() const override { return "actuals"; }
  std::unique_ptr<Reducer> empty() const override;
  void add(const StudyBlock& block) override;
  void merge(const Reducer& later) override;
  ReducerState save() const override;
  void load(const ReducerState& state) override;
  std::uint64_t runs() const { return runs_; }
  std::uint64_t below(std::size_t a) const { return below_[a]; }
  std::uint64_t equal(std::size_t a) const { return equal_[a]; }

 private:
  std::vector<std::pair<int, int>> refs_;  ///< (node, step)
  std::vector<double> values_;
  int variant_;
  std::uint64_t runs_ = 0;
  std::vector<std::uint64_t> below_, equal_;
};

/// Moments and a quantile sketch of every node at every step of one variant.
class SummaryReducer : public Reducer {
 public:
  SummaryReducer(int nodes, int steps, int variant);
  std::string kind() const override { return "summary"; }
  std::unique_ptr<Reducer> empty() const override;
  void add(const StudyBlock& block) override;
  void merge(const Reducer& later) override;
  ReducerState save() const override;
  void load(const ReducerState& state) override;
  /// Moments of node n at step k.
  Moments moments(int node, int step) const;
  const QuantileSketch& sketch(int node, int step) const;
  /// Moments and an empty sketch per node and step; at the bound, full sketches.
  std::uint64_t bytes(int chunk_runs, bool at_bound) const override;
  int nodes() const { return nodes_; }
  int steps() const { return steps_; }

 private:
  int nodes_, steps_, variant_;
  mutable std::vector<RunMoments> moments_;  ///< [node * steps + step]
  std::vector<QuantileSketch> sketches_;
};

/// Per-run data of one chunk, in run order.
struct ChunkData {
  std::uint64_t first_run = 0;
  int count = 0;
  std::vector<double> target_values;  ///< count x targets: each target node at its year
  std::vector<double> parameters;     ///< count x parameters: the drawn uncertain inputs
  std::vector<double> full;           ///< count x steps x nodes (store full)
};

/// Receives chunks in run order from one thread at a time (e.g. the HDF5 writer).
class ChunkSink {
 public:
  virtual ~ChunkSink() = default;
  virtual void write(const ChunkData& chunk) = 0;
};

/// Per-run rows of one variant (target values and parameters; every node when `full`),
/// handed to a sink in run order. Its state is the number of rows written.
class RowsReducer : public Reducer {
 public:
  RowsReducer(const Model& model, const Program& program, int variant, bool full, ChunkSink* sink);
  std::string kind() const override { return "rows"; }
  std::unique_ptr<Reducer> empty() const override;
  void add(const StudyBlock& block) override;
  void chunk_done() override;
  void merge(const Reducer& later) override;
  ReducerState save() const override;
  void load(const ReducerState& state) override;
  std::uint64_t rows() const { return rows_; }
  /// Bytes buffered per run of a chunk until chunk_done() hands the rows on.
  std::uint64_t bytes_per_run() const;
  std::uint64_t bytes(int chunk_runs, bool at_bound) const override;
  /// bytes_per_run() of a RowsReducer of `model` (every node, time axis and parameter).
  static std::uint64_t bytes_per_run(const Model& model, bool full);

 private:
  std::vector<std::pair<int, int>> targets_;  ///< (node, step)
  std::vector<int> parameters_;
  int variant_, steps_, nodes_;
  bool full_;
  ChunkSink* sink_;
  ChunkData data_;
  std::uint64_t rows_ = 0;
};

/// @brief Paired comparison of variant `other` with variant `reference` on the same runs:
/// per target (and jointly) the 2x2 table of met / not met, and the moments of the
/// difference of each target's node at the target's year.
class PairedReducer : public Reducer {
 public:
  PairedReducer(const Model& model, int reference, int other);
  std::string kind() const override { return "paired"; }
  std::unique_ptr<Reducer> empty() const override;
  void add(const StudyBlock& block) override;
  void merge(const Reducer& later) override;
  ReducerState save() const override;
  void load(const ReducerState& state) override;

  /// The 2x2 table of one target (index = targets: the joint).
  struct Table {
    std::uint64_t both = 0, helped = 0, hurt = 0, neither = 0;
    std::uint64_t n() const { return both + helped + hurt + neither; }
  };
  int reference() const { return reference_; }
  int other() const { return other_; }
  Table table(std::size_t target) const;  ///< target == targets(): all targets together
  std::size_t targets() const { return refs_.size(); }
  /// Moments of (other - reference) of the target's node at its year.
  Moments difference(std::size_t target) const;

 private:
  struct Ref {
    int node, step;
    Cmp op;
    double threshold;
  };
  std::vector<Ref> refs_;
  int reference_, other_;
  std::vector<std::uint64_t> cells_;  ///< per target and the joint: both, helped, hurt, neither
  mutable std::vector<RunMoments> diff_;
  std::vector<double> scratch_;
};

// ---------------------------------------------------------------------------------------
// The study.

/// Where a run's uniform numbers come from. The default is the counter-based streams
/// (seed, run, node, step) for every variant; a design (the Saltelli matrices of
/// sensitivity.hpp) gives each variant its own Draws: the parameters' uniforms from a
/// design matrix, the shocks from streams of another purpose.
struct Design {
  std::string name = "streams";
  std::vector<Draws> draws;  ///< empty, or one per variant
};

/// Decides, after each chunk in run order, whether the study has seen enough runs.
/// Called from one thread at a time with that chunk's reducers; decisions depend only
/// on run order, so the runs used are the same for any thread count.
class StopRule {
 public:
  virtual ~StopRule() = default;
  virtual bool observe(std::span<const std::unique_ptr<Reducer>> chunk) = 0;
};

/// What a chunk's per-run buffers (RowsReducer's rows) may hold: 64 MiB.
inline constexpr std::uint64_t kChunkBufferBytes = std::uint64_t{64} << 20;

/// Runs per chunk for a study whose reducers buffer `bytes_per_run` bytes per run of a
/// chunk: `chunk` halved until chunk x bytes_per_run <= `budget` (at least 1 run), so the
/// chunks subdivide those of `chunk`. Counts and quantiles do not depend on the chunk
/// size; means and sds may differ in the last bits, and adaptive stopping decides at
/// the smaller chunk boundaries.
/// The automatic block: the largest power of two from 16 to 256 whose four arrays (an
/// instruction's three operands and result) fill at most half an L1 data cache of
/// `l1_bytes` (0: this machine's, or 32 KiB if unknown).
int auto_block(std::uint64_t l1_bytes = 0);

int buffered_chunk(int chunk, std::uint64_t bytes_per_run,
                   std::uint64_t budget = kChunkBufferBytes);

/// The memory available to this process: MemAvailable (/proc/meminfo), or less when a
/// cgroup limit (memory.max) leaves less; 0 when unknown.
std::uint64_t available_memory();

class StudyState;
class Communicator;  // communicator.hpp

/// @brief How a study is evaluated, whatever it computes: the base of every options struct
/// (StudyOptions, AnalysisOptions, EnsembleOptions, SensitivityOptions), so that each of
/// these is declared once and passed on whole (`static_cast<Execution&>(to) = from`).
struct Execution {
  std::uint64_t seed = 1;
  int threads = 0;  ///< 0: every core
  /// Runs evaluated together; results do not depend on it. 0: auto_block(), from the L1
  /// data cache size (256 on this project's machines).
  int block = 0;
  std::function<void(std::uint64_t done)> progress;  ///< runs (or rows) done, in run order
  const std::atomic<bool>* cancel = nullptr;         ///< set to stop (InterruptedError)
  /// > 0: refuse (MemoryLimitError) a study whose estimate_memory().least() exceeds it.
  std::uint64_t memory_limit = 0;
  /// Where memory_limit comes from, for the message (e.g. "available (MemAvailable)").
  std::string memory_limit_source = "the limit";
  /// Processes sharing the study (communicator.hpp): each evaluates its share of the
  /// chunks and every one returns the merged result. nullptr: this process alone.
  Communicator* communicator = nullptr;
};

struct StudyOptions : Execution {
  std::uint64_t first = 0;  ///< the run range [first, last)
  std::uint64_t last = 10000;
  int chunk = 4096;          ///< runs per chunk; chunk c holds runs [c * chunk, (c + 1) * chunk)
  StopRule* stop = nullptr;  ///< adaptive stopping
  /// Called in the serial stage after each chunk is merged, in run order, with the exact
  /// state of [first, end of that chunk); then once more with `interrupted` true just
  /// before run_study throws InterruptedError (the state holds every chunk finished).
  /// What a checkpoint saves (attain/checkpoint.hpp); it decides itself how often.
  std::function<void(const StudyState& state, bool interrupted)> checkpoint;
};

/// @brief A model's variants on a run range, through a design, into reducers.
/// @code
///   Study s;
///   s.variants = {&plan, &boost};                       // compiled programs
///   s.reducers.push_back(std::make_unique<PairedReducer>(model, 0, 1));
///   StudyResult r = run_study(s, options);
///   auto& paired = r.get<PairedReducer>(0);
/// @endcode
struct Study {
  std::vector<const Program*> variants;
  Design design;
  std::vector<std::unique_ptr<Reducer>> reducers;  ///< prototypes: empty, configured
};

/// A partial result: the reducers of a dyadic range of chunks
/// [index * 2^level, (index + 1) * 2^level) (clipped to the run range).
struct StudyPartial {
  int level = 0;
  std::uint64_t index = 0;
  std::vector<std::unique_ptr<Reducer>> reducers;
};

/// @brief Exact, mergeable state of a study over a run range: its canonical partials.
///
/// Merging is fixed by absolute chunk index: siblings of the dyadic tree over chunk
/// indices merge into their parent as soon as both are present, and the result folds
/// the remaining partials left to right. So [0, k) and [k, N) merged (k on a chunk
/// boundary) give exactly the bits of [0, N).
class StudyState {
 public:
  /// The run range covered, [first, last), in chunks of `chunk` runs (run_study and
  /// read_state set them; append() checks them).
  std::uint64_t first = 0, last = 0;
  int chunk = 0;
  void push(StudyPartial p);
  /// Appends `later`, whose runs must follow this one's directly, with the same chunk
  /// size and the split on a chunk boundary (else std::invalid_argument: the merge would
  /// count runs twice or give other bits than one study).
  void append(StudyState later);
  const std::vector<StudyPartial>& partials() const { return partials_; }
  /// The merged reducers (a fresh copy; the state is unchanged).
  std::vector<std::unique_ptr<Reducer>> result() const;

 private:
  std::vector<StudyPartial> partials_;
};

struct StudyResult {
  std::uint64_t first = 0, last = 0;  ///< runs actually used: [first, last)
  std::uint64_t runs() const { return last - first; }
  StudyState state;
  std::vector<std::unique_ptr<Reducer>> reducers;  ///< merged, in the study's order
  double seconds = 0;
  template <class R>
  const R& get(std::size_t i) const {
    return dynamic_cast<const R&>(*reducers.at(i));
  }
};

/// @brief Memory a study holds at once, by part, in bytes. Each thread evaluates its own
/// blocks; the chunks in flight (two per thread) hold a set of reducers with their
/// per-run buffers; the dyadic partials and the result hold sets without buffers.
struct MemoryEstimate {
  std::uint64_t threads = 1;
  int block = 1;                   ///< runs per block, after run_study's own cap
  std::uint64_t blocks = 0;        ///< one thread's evaluation blocks (every variant)
  std::uint64_t state = 0;         ///< one set of reducers without buffers, for sure
  std::uint64_t state_most = 0;    ///< the same at its bound (every sketch full)
  std::uint64_t buffers = 0;       ///< one chunk's per-run buffers (rows)
  std::uint64_t buffers_most = 0;  ///< the same at its bound
  std::uint64_t in_flight = 0;     ///< chunks in flight: two per thread
  std::uint64_t sets = 0;          ///< sets of reducers alive at once, in flight included
  std::uint64_t least() const { return threads * blocks + sets * state + in_flight * buffers; }
  std::uint64_t most() const {
    return threads * blocks + sets * state_most + in_flight * buffers_most;
  }
};
MemoryEstimate estimate_memory(const Study& study, const StudyOptions& options);

/// @brief Evaluates every variant on runs [first, last) chunk by chunk in parallel (TBB)
/// and merges in chunk order. Results are bit-identical for any thread count and block
/// size; with a StopRule, the study ends after the first chunk (in run order) at which
/// the rule says so.
StudyResult run_study(const Study& study, const StudyOptions& options);

// ---------------------------------------------------------------------------------------
// Statistics of the reductions.

/// A proportion with its Wilson 95 % interval.
struct Proportion {
  std::uint64_t hits = 0, runs = 0;
  double p = 0, lo = 0, hi = 1;
};
Proportion proportion(std::uint64_t hits, std::uint64_t runs);

/// @brief A difference of two proportions with a 95 % interval.
struct Difference {
  double difference = 0, lo = 0, hi = 0;
};

/// Newcombe (1998) method 10: the interval for a difference of *paired* proportions,
/// P(other) - P(reference), from the Wilson intervals of each and the phi coefficient of
/// the 2x2 table (phi = 0 when a margin is empty).
Difference paired_difference(const PairedReducer::Table& t);
/// Newcombe (1998) method 10 for *independent* samples of the same sizes (phi = 0): the
/// interval an unpaired comparison of two separate ensembles would give.
Difference unpaired_difference(const PairedReducer::Table& t);
/// Exact two-sided McNemar test: 2 P(Bin(helped + hurt, 1/2) <= min(helped, hurt)),
/// capped at 1; 1 when there are no discordant runs.
double mcnemar_exact_p(std::uint64_t helped, std::uint64_t hurt);

/// A mean with its 95 % Student-t interval.
struct MeanInterval {
  double mean = 0, lo = 0, hi = 0, sd = 0;
};
MeanInterval mean_interval(const Moments& m);

}  // namespace attain
