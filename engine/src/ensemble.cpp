// Parallel ensemble: a TBB pipeline of chunks, evaluated in blocks, merged in run order.
#include "attain/ensemble.hpp"

#include <fmt/format.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/global_control.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>

namespace attain {
namespace {

/// Moments of one node-step within a chunk. Run r adds to accumulator r mod 4, in run
/// order, so the sums depend on run indices only (not on block size or threads) and
/// four independent accumulators let the compiler vectorize the loop.
struct ChunkMoments {
  std::uint64_t n = 0;
  double shift = 0, mn = 0, mx = 0;
  double s[4] = {0, 0, 0, 0}, ss[4] = {0, 0, 0, 0};

  void add(const double* v, int count, std::uint64_t first_run) {
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

  Moments moments() const {
    Moments m;
    m.n = n;
    m.shift = shift;
    m.sum = ((s[0] + s[1]) + s[2]) + s[3];
    m.sumsq = ((ss[0] + ss[1]) + ss[2]) + ss[3];
    m.min = mn;
    m.max = mx;
    return m;
  }
};

/// Everything one chunk contributes, produced in parallel and merged in order.
struct ChunkWork {
  std::uint64_t index = 0;
  ChunkData data;
  std::vector<ChunkMoments> moments;
  std::vector<std::uint64_t> hits;       ///< per target
  std::vector<std::uint64_t> first_met;  ///< per target x (steps + 1); last = never
  std::uint64_t joint = 0;
  std::vector<std::uint64_t> below, equal;  ///< per actual
  std::exception_ptr error;
};

struct TargetRef {
  int slot;
  int step;
  Cmp op;
  double threshold;
};

}  // namespace

std::string_view store_name(StoreLevel s) {
  switch (s) {
    case StoreLevel::kSummary:
      return "summary";
    case StoreLevel::kTargets:
      return "targets";
    case StoreLevel::kFull:
      return "full";
  }
  return "?";
}

EnsembleResult run_ensemble(const Program& program, const EnsembleOptions& o, ChunkSink* sink) {
  if (o.runs == 0) throw std::invalid_argument("run_ensemble: runs must be > 0");
  if (o.block < 1 || o.chunk < 1)
    throw std::invalid_argument("run_ensemble: block and chunk must be >= 1");
  const auto start = std::chrono::steady_clock::now();
  const Model& m = program.model();
  const int steps = program.steps();
  const int nodes = program.nodes();
  const auto ns = static_cast<std::size_t>(nodes) * static_cast<std::size_t>(steps);
  // Results do not depend on the block size, so it may shrink to keep one block's
  // values (steps x slots x block doubles) within 256 MiB per thread.
  const std::uint64_t per_run = static_cast<std::uint64_t>(program.steps()) *
                                static_cast<std::uint64_t>(program.slots()) * sizeof(double);
  const std::uint64_t budget = std::max<std::uint64_t>(1, (std::uint64_t{256} << 20) / per_run);
  const int block_size = static_cast<int>(std::min<std::uint64_t>(
      {static_cast<std::uint64_t>(std::min(o.block, o.chunk)), o.runs, budget}));

  std::vector<TargetRef> targets;
  for (const auto& t : m.targets)
    targets.push_back({m.node_index.at(t.node), *m.time.index_of(t.year), t.op, t.threshold});
  std::vector<std::pair<int, int>> actual_refs;
  for (const auto& a : m.actuals)
    actual_refs.emplace_back(m.node_index.at(a.node), *m.time.index_of(a.year));
  const auto nt = targets.size();
  const auto np = program.parameters().size();

  EnsembleResult result;
  result.runs = o.runs;
  result.targets.resize(nt);
  for (auto& t : result.targets) t.first_met.assign(static_cast<std::size_t>(steps), 0);
  result.actuals.resize(actual_refs.size());
  result.moments.resize(ns);

  const std::uint64_t chunks =
      (o.runs + static_cast<std::uint64_t>(o.chunk) - 1) / static_cast<std::uint64_t>(o.chunk);
  tbb::enumerable_thread_specific<std::vector<QuantileSketch>> sketches(
      [ns] { return std::vector<QuantileSketch>(ns); });
  tbb::enumerable_thread_specific<std::unique_ptr<Program::Block>> blocks;

  auto work = [&](std::uint64_t c) {
    auto w = std::make_unique<ChunkWork>();
    w->index = c;
    try {
      const std::uint64_t first = o.first_run + c * static_cast<std::uint64_t>(o.chunk);
      const int count = static_cast<int>(std::min<std::uint64_t>(
          static_cast<std::uint64_t>(o.chunk), o.runs - c * static_cast<std::uint64_t>(o.chunk)));
      w->data.first_run = first;
      w->data.count = count;
      w->moments.resize(ns);
      w->hits.assign(nt, 0);
      w->first_met.assign(nt * static_cast<std::size_t>(steps + 1), 0);
      w->below.assign(actual_refs.size(), 0);
      w->equal.assign(actual_refs.size(), 0);
      if (o.store != StoreLevel::kSummary) {
        w->data.target_values.resize(static_cast<std::size_t>(count) * nt);
        w->data.parameters.resize(static_cast<std::size_t>(count) * np);
      }
      if (o.store == StoreLevel::kFull) w->data.full.resize(static_cast<std::size_t>(count) * ns);
      auto& block_ptr = blocks.local();
      if (!block_ptr || block_ptr->capacity != block_size)
        block_ptr = std::make_unique<Program::Block>(program.make_block(block_size));
      Program::Block& b = *block_ptr;
      auto& sk = sketches.local();
      const int slots = program.slots();
      for (int off = 0; off < count; off += block_size) {
        if (o.cancel && o.cancel->load(std::memory_order_relaxed)) throw InterruptedError();
        const int n = std::min(block_size, count - off);
        try {
          program.evaluate(b, o.seed, first + static_cast<std::uint64_t>(off), n,
                           o.uniforms ? &o.uniforms : nullptr);
        } catch (const RunError&) {
          // Name the lowest failing run of the block, whatever the block size: runs are
          // independent, so evaluate them alone in order until one fails.
          Program::Block one = program.make_block(1);
          for (int i = 0; i < n; ++i)
            program.evaluate(one, o.seed, first + static_cast<std::uint64_t>(off + i), 1,
                             o.uniforms ? &o.uniforms : nullptr);
          throw;
        }
        // Moments in run order within the chunk; sketches are order-free.
        for (int node = 0; node < nodes; ++node)
          for (int k = 0; k < steps; ++k) {
            const std::size_t idx =
                static_cast<std::size_t>(node) * static_cast<std::size_t>(steps) +
                static_cast<std::size_t>(k);
            const double* v =
                &b.values[(static_cast<std::size_t>(k) * static_cast<std::size_t>(slots) +
                           static_cast<std::size_t>(node)) *
                          static_cast<std::size_t>(b.capacity)];
            w->moments[idx].add(v, n, first + static_cast<std::uint64_t>(off));
            sk[idx].add(v, n);
          }
        for (int i = 0; i < n; ++i) {
          const auto row = static_cast<std::size_t>(off + i);
          bool all = true;
          for (std::size_t t = 0; t < nt; ++t) {
            const TargetRef& tr = targets[t];
            double v = b.at(tr.step, tr.slot, i, slots);
            bool hit = compare(tr.op, v, tr.threshold);
            w->hits[t] += hit;
            all = all && hit;
            int first_step = steps;  // never
            for (int k = 0; k <= tr.step; ++k)
              if (compare(tr.op, b.at(k, tr.slot, i, slots), tr.threshold)) {
                first_step = k;
                break;
              }
            ++w->first_met[t * static_cast<std::size_t>(steps + 1) +
                           static_cast<std::size_t>(first_step)];
            if (!w->data.target_values.empty()) w->data.target_values[row * nt + t] = v;
          }
          w->joint += (all && nt > 0);
          for (std::size_t a = 0; a < actual_refs.size(); ++a) {
            double v = b.at(actual_refs[a].second, actual_refs[a].first, i, slots);
            double actual = m.actuals[a].value;
            w->below[a] += v < actual;
            w->equal[a] += v == actual;
          }
          if (!w->data.parameters.empty())
            for (std::size_t j = 0; j < np; ++j)
              w->data.parameters[row * np + j] = b.at(0, program.parameters()[j], i, slots);
          if (!w->data.full.empty())
            for (int k = 0; k < steps; ++k)
              for (int node = 0; node < nodes; ++node)
                w->data.full[(row * static_cast<std::size_t>(steps) + static_cast<std::size_t>(k)) *
                                 static_cast<std::size_t>(nodes) +
                             static_cast<std::size_t>(node)] = b.at(k, node, i, slots);
        }
      }
    } catch (...) {
      w->error = std::current_exception();
    }
    return w.release();
  };

  std::uint64_t next = 0, done_runs = 0;
  auto merge = [&](ChunkWork* raw) {
    std::unique_ptr<ChunkWork> w(raw);
    if (w->error) std::rethrow_exception(w->error);
    for (std::size_t i = 0; i < ns; ++i) result.moments[i].merge(w->moments[i].moments());
    for (std::size_t t = 0; t < nt; ++t) {
      result.targets[t].hits += w->hits[t];
      for (int k = 0; k < steps; ++k)
        result.targets[t].first_met[static_cast<std::size_t>(k)] +=
            w->first_met[t * static_cast<std::size_t>(steps + 1) + static_cast<std::size_t>(k)];
      result.targets[t].never +=
          w->first_met[t * static_cast<std::size_t>(steps + 1) + static_cast<std::size_t>(steps)];
    }
    result.joint_hits += w->joint;
    for (std::size_t a = 0; a < actual_refs.size(); ++a) {
      result.actuals[a].below += w->below[a];
      result.actuals[a].equal += w->equal[a];
    }
    if (sink) sink->write(w->data);
    done_runs += static_cast<std::uint64_t>(w->data.count);
    if (o.progress) o.progress(done_runs);
  };

  const int threads = o.threads > 0 ? o.threads : tbb::this_task_arena::max_concurrency();
  // Allow more threads than cores when asked (tests of thread-count independence).
  tbb::global_control allow(tbb::global_control::max_allowed_parallelism,
                            static_cast<std::size_t>(threads));
  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_pipeline(
        static_cast<std::size_t>(threads) * 2,
        tbb::make_filter<void, std::uint64_t>(tbb::filter_mode::serial_in_order,
                                              [&](tbb::flow_control& fc) -> std::uint64_t {
                                                if (next >= chunks) {
                                                  fc.stop();
                                                  return 0;
                                                }
                                                return next++;
                                              }) &
            tbb::make_filter<std::uint64_t, ChunkWork*>(tbb::filter_mode::parallel, work) &
            tbb::make_filter<ChunkWork*, void>(tbb::filter_mode::serial_in_order, merge));
  });

  // Quantiles from the merged sketches (integer counts: any merge order gives the same).
  std::vector<QuantileSketch> total(ns);
  for (auto& local : sketches)
    for (std::size_t i = 0; i < ns; ++i) total[i].merge(local[i]);
  result.quantiles.resize(ns);
  for (std::size_t i = 0; i < ns; ++i)
    for (std::size_t q = 0; q < EnsembleResult::kQuantileLevels.size(); ++q)
      result.quantiles[i][q] = total[i].quantile(EnsembleResult::kQuantileLevels[q]);

  for (auto& t : result.targets) {
    t.runs = o.runs;
    t.probability = static_cast<double>(t.hits) / static_cast<double>(o.runs);
    std::tie(t.ci_low, t.ci_high) = wilson_interval(t.hits, o.runs);
  }
  result.joint_probability = static_cast<double>(result.joint_hits) / static_cast<double>(o.runs);
  std::tie(result.joint_low, result.joint_high) = wilson_interval(result.joint_hits, o.runs);
  for (auto& a : result.actuals) {
    a.runs = o.runs;
    a.percentile = (static_cast<double>(a.below) + 0.5 * static_cast<double>(a.equal)) /
                   static_cast<double>(o.runs);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::vector<std::vector<double>> replay_run(const Program& program, std::uint64_t seed,
                                            std::uint64_t run) {
  Program::Block b = program.make_block(1);
  program.evaluate(b, seed, run, 1);
  std::vector<std::vector<double>> out(static_cast<std::size_t>(program.steps()));
  for (int k = 0; k < program.steps(); ++k)
    for (int node = 0; node < program.nodes(); ++node)
      out[static_cast<std::size_t>(k)].push_back(b.at(k, node, 0, program.slots()));
  return out;
}

}  // namespace attain
