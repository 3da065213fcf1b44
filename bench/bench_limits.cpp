// Limits of this machine, one thread, against which the engine's figures are compared
// (docs/performance.md). Each is what a part of the engine could reach at best, written
// as plainly as the engine could write it:
//
// BM_LimitFma*: node evaluations per second (one node for one lane = one evaluation) of
//   an interpreter with nothing to interpret: 4 input arrays and 12 node arrays of `block`
//   doubles (64-byte aligned; 8 KiB per array at block 1024, so the 16 arrays fill L1 at
//   block 256 and spill to L2 at 1024), each node one loop over the block with __restrict
//   operands that the compiler vectorises. graph:0 computes d = a * b + c of three earlier
//   arrays (three loads, one store per lane); graph:1 a product, minimum or maximum of two
//   earlier arrays, drawn as bench_engine's BM_ProgramRandomGraph draws its nodes (two
//   loads, one store). No non-finite check, no operand resolution, no draws: the ceiling
//   for BM_ProgramRandomGraph's node_evals_per_s. BM_LimitFma is the build's instruction
//   set (portable x86-64: SSE2, 2 lanes, a * b + c rounded twice as -ffp-contract=off
//   makes the engine round); _Avx2 the same source compiled for AVX2 (4 lanes, the same
//   rounding: what ATTAIN_NATIVE=ON could reach bit for bit); _Avx2Fused uses the fused
//   multiply-add (other rounding). The AVX2 ones skip on a machine without AVX2 and FMA.
//
// BM_LimitPhilox/*: the counter-based generator the engine draws from (attain::Stream:
//   Philox4x64-10, counter {run, node, step, d / 4}, key {seed, purpose}), one call per
//   run of a block of 256 consecutive runs, as a block of runs needs them; all 4 words of
//   each call stored (word j of run r at words[j * 256 + r]). Counters: calls, 64-bit
//   words and uniforms per second, a uniform being one 52-bit u01 (attain::Stream::u01:
//   one per 64-bit word; the conversion itself is not included). r123_4x64 is Random123's
//   r123::Philox4x64_R<10> (scalar 64 x 64 -> 128-bit multiplies); r123_4x32 its
//   Philox4x32_R<10> (counter {run, node, step, 0} and key {seed, purpose} cut to 32
//   bits; 4 x 32 bits = two 52-bit uniforms per call), which GCC vectorises across runs,
//   with SSE2 (r123_4x32) or AVX2 (r123_4x32_avx2); sse2_lanes_4x64 and
//   avx2_lanes_4x64 are Philox4x64-10 on 2 or 4 runs at once in vector registers, each
//   64 x 64 -> 128-bit multiply from four 32 x 32 -> 64-bit ones (_mm_mul_epu32 /
//   _mm256_mul_epu32), checked bit for bit against Random123 before timing (abort if
//   not); engine_stream is attain::Stream as Program::evaluate draws a parameter: a new
//   stream per run and one u01 from it, 1 of the call's 4 words used.
//
// BM_LimitInverseNormal: the engine's attain::normal_quantile (Wichura AS241, scalar,
//   branches on the tail) over blocks of 256 uniforms, normal quantiles per second. The
//   uniforms come from 64 different blocks (128 KiB), so the branch predictor cannot learn
//   one block's pattern of tails.
#include <Random123/philox.h>
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "attain/distributions.hpp"
#include "attain/random.hpp"

namespace {

enum class LimitOp : int { kMulAdd, kMul, kMin, kMax };

/// Node d = op(a, b[, c]) over arrays of the limit graph.
struct LimitNode {
  LimitOp op;
  int d, a, b, c;
};

// The kernels, once per instruction set (see bench_limits_kernels.inc).
namespace sse2 {
#define ATTAIN_LIMIT_TARGET
#define ATTAIN_LIMIT_MULADD(a, b, c) ((a) * (b) + (c))
#define ATTAIN_LIMIT_PHILOX_VEC
using U64V = std::uint64_t __attribute__((vector_size(16)));
constexpr int kLanes = 2;
inline U64V iota() {
  return U64V{0, 1};
}
inline U64V mul32(U64V a, U64V b) {
  return (U64V)_mm_mul_epu32((__m128i)a, (__m128i)b);
}
#include "bench_limits_kernels.inc"
#undef ATTAIN_LIMIT_TARGET
#undef ATTAIN_LIMIT_MULADD
#undef ATTAIN_LIMIT_PHILOX_VEC
}  // namespace sse2

namespace avx2 {
#define ATTAIN_LIMIT_TARGET __attribute__((target("avx2,fma")))
#define ATTAIN_LIMIT_MULADD(a, b, c) ((a) * (b) + (c))
#define ATTAIN_LIMIT_PHILOX_VEC
using U64V = std::uint64_t __attribute__((vector_size(32)));
constexpr int kLanes = 4;
ATTAIN_LIMIT_TARGET inline U64V iota() {
  return U64V{0, 1, 2, 3};
}
ATTAIN_LIMIT_TARGET inline U64V mul32(U64V a, U64V b) {
  return (U64V)_mm256_mul_epu32((__m256i)a, (__m256i)b);
}
#include "bench_limits_kernels.inc"
#undef ATTAIN_LIMIT_TARGET
#undef ATTAIN_LIMIT_MULADD
#undef ATTAIN_LIMIT_PHILOX_VEC
}  // namespace avx2

namespace avx2_fused {
#define ATTAIN_LIMIT_TARGET __attribute__((target("avx2,fma")))
#define ATTAIN_LIMIT_MULADD(a, b, c) __builtin_fma((a), (b), (c))
#include "bench_limits_kernels.inc"
#undef ATTAIN_LIMIT_TARGET
#undef ATTAIN_LIMIT_MULADD
}  // namespace avx2_fused

bool has_avx2_fma() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/// 64-byte aligned doubles.
struct Aligned {
  explicit Aligned(std::size_t n)
      : data(static_cast<double*>(std::aligned_alloc(64, (n * sizeof(double) + 63) / 64 * 64))) {
    if (!data) std::abort();
  }
  ~Aligned() { std::free(data); }
  Aligned(const Aligned&) = delete;
  Aligned& operator=(const Aligned&) = delete;
  double* data;
};

// ---------------------------------------------------------------------------------------
// 1. Node evaluations.

constexpr int kInputs = 4, kArrays = 16;

/// The 12 nodes over arrays 4..15: graph 0 d = a * b + c of the three arrays 1, 3 and 4
/// before it; graph 1 a product, minimum, maximum or product (as bench_engine's
/// random_graph) of two random earlier arrays.
std::vector<LimitNode> limit_graph(int graph) {
  std::vector<LimitNode> nodes;
  std::mt19937 gen(1);  // only shapes the graph
  for (int k = kInputs; k < kArrays; ++k) {
    if (graph == 0) {
      nodes.push_back({LimitOp::kMulAdd, k, k - 1, k - 3, k - 4});
    } else {
      std::uniform_int_distribution<int> pick(0, k - 1);
      const LimitOp ops[] = {LimitOp::kMul, LimitOp::kMin, LimitOp::kMax, LimitOp::kMul};
      const LimitOp op = ops[gen() % 4];
      const int a = pick(gen), b = pick(gen);
      nodes.push_back({op, k, a, b, 0});
    }
  }
  return nodes;
}

using EvaluateNodes = void (*)(double*, const LimitNode*, int, int);

void limit_nodes(benchmark::State& state, EvaluateNodes evaluate, bool avx2) {
  if (avx2 && !has_avx2_fma()) {
    state.SkipWithError("this CPU has no AVX2 and FMA");
    return;
  }
  const int block = static_cast<int>(state.range(0));
  const int graph = static_cast<int>(state.range(1));
  state.SetLabel(graph == 0 ? "a*b+c" : "mul/min/max of two");
  const std::vector<LimitNode> nodes = limit_graph(graph);
  const int count = static_cast<int>(nodes.size());
  Aligned v(static_cast<std::size_t>(kArrays) * static_cast<std::size_t>(block));
  // Inputs in [0.95, 1): 12 levels of products stay far from subnormal numbers.
  for (int i = 0; i < kArrays * block; ++i) v.data[i] = 0.95 + 0.05 * ((i * 7919) % 1000) / 1000.0;
  benchmark::DoNotOptimize(v.data);  // the arrays escape: their stores are observable
  for (auto _ : state) {
    evaluate(v.data, nodes.data(), count, block);
    benchmark::ClobberMemory();
  }
  double sum = 0;
  for (int i = 0; i < kArrays * block; ++i) sum += v.data[i];
  if (!std::isfinite(sum)) state.SkipWithError("non-finite node value");
  const double evals = static_cast<double>(count) * block;
  state.counters["node_evals_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * evals, benchmark::Counter::kIsRate);
}

void BM_LimitFma(benchmark::State& state) {
  limit_nodes(state, sse2::evaluate_nodes, false);
}
void BM_LimitFma_Avx2(benchmark::State& state) {
  limit_nodes(state, avx2::evaluate_nodes, true);
}
void BM_LimitFma_Avx2Fused(benchmark::State& state) {
  limit_nodes(state, avx2_fused::evaluate_nodes, true);
}
BENCHMARK(BM_LimitFma)->ArgsProduct({{64, 256, 1024}, {0, 1}})->ArgNames({"block", "graph"});
BENCHMARK(BM_LimitFma_Avx2)->ArgsProduct({{64, 256, 1024}, {0, 1}})->ArgNames({"block", "graph"});
BENCHMARK(BM_LimitFma_Avx2Fused)->ArgsProduct({{64, 256, 1024}, {0}})->ArgNames({"block", "graph"});

// ---------------------------------------------------------------------------------------
// 2. Philox.

constexpr int kRuns = 256;  // runs per block
constexpr std::uint64_t kSeed = 1, kNode = 17, kStep = 2;

enum class Gen { kR123x64, kR123x32, kR123x32Avx2, kSse2Lanes, kAvx2Lanes, kEngineStream };

/// Random123's Philox4x64-10 for runs [run0, run0 + kRuns), words[j * kRuns + r].
void r123_4x64(std::uint64_t run0, std::uint64_t node, std::uint64_t step, std::uint64_t d4,
               std::uint64_t* words) {
  using Philox = r123::Philox4x64_R<10>;
  const Philox philox;
  const Philox::key_type key = {{kSeed, static_cast<std::uint64_t>(attain::StreamPurpose::kTest)}};
  for (int r = 0; r < kRuns; ++r) {
    const Philox::ctr_type ctr = {{run0 + static_cast<std::uint64_t>(r), node, step, d4}};
    const Philox::ctr_type out = philox(ctr, key);
    for (int j = 0; j < 4; ++j) words[j * kRuns + r] = out[static_cast<std::size_t>(j)];
  }
}

/// Random123's Philox4x32-10 with the same counter and key cut to 32 bits.
void r123_4x32(Gen gen, std::uint64_t run0, std::uint32_t* words) {
  const auto purpose = static_cast<std::uint32_t>(attain::StreamPurpose::kTest);
  const auto node = static_cast<std::uint32_t>(kNode), step = static_cast<std::uint32_t>(kStep);
  const auto seed = static_cast<std::uint32_t>(kSeed);
  if (gen == Gen::kR123x32)
    sse2::r123_4x32(run0, kRuns, node, step, seed, purpose, words, kRuns);
  else
    avx2::r123_4x32(run0, kRuns, node, step, seed, purpose, words, kRuns);
}

/// The lane-parallel Philox4x64-10 of `gen` (SSE2 or AVX2).
void lanes_4x64(Gen gen, std::uint64_t run0, std::uint64_t node, std::uint64_t step,
                std::uint64_t d4, std::uint64_t* words) {
  const auto purpose = static_cast<std::uint64_t>(attain::StreamPurpose::kTest);
  if (gen == Gen::kSse2Lanes)
    sse2::philox4x64_lanes(run0, kRuns, node, step, d4, kSeed, purpose, words, kRuns);
  else
    avx2::philox4x64_lanes(run0, kRuns, node, step, d4, kSeed, purpose, words, kRuns);
}

/// Aborts unless the lane-parallel Philox of `gen` gives Random123's words bit for bit
/// (runs near 0 and near 2^64, other nodes, steps and word groups).
void check_lanes(Gen gen) {
  std::vector<std::uint64_t> want(4 * kRuns), got(4 * kRuns);
  const std::uint64_t cases[][4] = {
      {0, kNode, kStep, 0},
      {1000, 5, attain::kOncePerRun, 0},
      {(std::uint64_t{1} << 40) + 12345, 92, 3, 7},
      {~std::uint64_t{0} - 100, ~std::uint64_t{0}, 0, ~std::uint64_t{0}}};
  for (const auto& c : cases) {
    r123_4x64(c[0], c[1], c[2], c[3], want.data());
    lanes_4x64(gen, c[0], c[1], c[2], c[3], got.data());
    if (want != got) {
      std::fprintf(stderr, "bench_limits: lane-parallel Philox4x64-10 differs from Random123\n");
      std::abort();
    }
  }
}

void BM_LimitPhilox(benchmark::State& state, Gen gen) {
  const bool lanes = gen == Gen::kSse2Lanes || gen == Gen::kAvx2Lanes;
  if ((gen == Gen::kAvx2Lanes || gen == Gen::kR123x32Avx2) && !has_avx2_fma()) {
    state.SkipWithError("this CPU has no AVX2");
    return;
  }
  if (lanes) check_lanes(gen);
  std::vector<std::uint64_t> words(4 * kRuns);
  std::vector<std::uint32_t> words32(4 * kRuns);
  std::vector<double> u(kRuns);
  benchmark::DoNotOptimize(words.data());
  benchmark::DoNotOptimize(words32.data());
  benchmark::DoNotOptimize(u.data());
  std::uint64_t run0 = 0;
  for (auto _ : state) {
    switch (gen) {
      case Gen::kR123x64:
        r123_4x64(run0, kNode, kStep, 0, words.data());
        break;
      case Gen::kR123x32:
      case Gen::kR123x32Avx2:
        r123_4x32(gen, run0, words32.data());
        break;
      case Gen::kSse2Lanes:
      case Gen::kAvx2Lanes:
        lanes_4x64(gen, run0, kNode, kStep, 0, words.data());
        break;
      case Gen::kEngineStream:
        for (int r = 0; r < kRuns; ++r) {
          attain::Stream s(kSeed, run0 + static_cast<std::uint64_t>(r), kNode, attain::kOncePerRun,
                           attain::StreamPurpose::kTest);
          u[static_cast<std::size_t>(r)] = s.u01();
        }
        break;
    }
    benchmark::ClobberMemory();
    run0 += kRuns;
  }
  // 64-bit words and 52-bit uniforms per call: 4 (4x64), 2 (4x32), 1 used (engine stream).
  const bool x32 = gen == Gen::kR123x32 || gen == Gen::kR123x32Avx2;
  const double per_call = x32 ? 2 : gen == Gen::kEngineStream ? 1 : 4;
  const double calls = static_cast<double>(state.iterations()) * kRuns;
  state.counters["calls_per_s"] = benchmark::Counter(calls, benchmark::Counter::kIsRate);
  state.counters["words64_per_s"] =
      benchmark::Counter(calls * per_call, benchmark::Counter::kIsRate);
  state.counters["uniforms_per_s"] =
      benchmark::Counter(calls * per_call, benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_LimitPhilox, r123_4x64, Gen::kR123x64);
BENCHMARK_CAPTURE(BM_LimitPhilox, r123_4x32, Gen::kR123x32);
BENCHMARK_CAPTURE(BM_LimitPhilox, r123_4x32_avx2, Gen::kR123x32Avx2);
BENCHMARK_CAPTURE(BM_LimitPhilox, sse2_lanes_4x64, Gen::kSse2Lanes);
BENCHMARK_CAPTURE(BM_LimitPhilox, avx2_lanes_4x64, Gen::kAvx2Lanes);
BENCHMARK_CAPTURE(BM_LimitPhilox, engine_stream, Gen::kEngineStream);

// ---------------------------------------------------------------------------------------
// 3. Inverse normal CDF.

void BM_LimitInverseNormal(benchmark::State& state) {
  constexpr int kBlocks = 64;
  std::vector<double> u(static_cast<std::size_t>(kBlocks) * kRuns), z(kRuns);
  for (std::size_t i = 0; i < u.size(); ++i) {
    attain::Stream s(kSeed, i, kNode, 0, attain::StreamPurpose::kTest);
    u[i] = s.u01();
  }
  benchmark::DoNotOptimize(z.data());
  int b = 0;
  for (auto _ : state) {
    const double* ub = u.data() + static_cast<std::ptrdiff_t>(b) * kRuns;
    for (int i = 0; i < kRuns; ++i) z[static_cast<std::size_t>(i)] = attain::normal_quantile(ub[i]);
    benchmark::ClobberMemory();
    b = (b + 1) % kBlocks;
  }
  state.counters["quantiles_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kRuns, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LimitInverseNormal);

}  // namespace

BENCHMARK_MAIN();
