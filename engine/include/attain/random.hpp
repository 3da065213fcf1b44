// Counter-based random streams (Random123 Philox4x64-10) keyed by logical identity.
#pragma once

#include <Random123/philox.h>

#include <array>
#include <cstdint>

namespace attain {

/// What a stream is used for; part of the Philox key so purposes never share numbers.
enum class StreamPurpose : std::uint64_t {
  kSimulation = 0,  ///< uncertain parameters and shocks of an ensemble run
  kTest = 0x7e57,   ///< tests and benchmarks of the samplers
  /// Sensitivity designs (sensitivity.hpp): the second matrix's parameters and shocks
  /// (B; the first, A, uses kSimulation), the Sobol sequence's random shift, and the
  /// bootstrap's resampling weights.
  kDesignB = 0xb,
  kSobolShift = 0x50b0,
  kBootstrap = 0xb007,
};

/// Step index used for quantities drawn once per run (uncertain parameters).
inline constexpr std::uint64_t kOncePerRun = ~std::uint64_t{0};

/// The uniform of 64 random bits, as Stream::u01() makes it: (k + 0.5) 2^-52 for the top
/// 52 bits k, in (0, 1).
inline double u01_of(std::uint64_t bits) {
  return (static_cast<double>(bits >> 12) + 0.5) * 0x1.0p-52;
}

/// @brief A stream of uniform numbers that is a pure function of its identity.
///
/// Draw d of the stream (seed, run, node, step) is word d % 4 of
/// Philox4x64-10(counter = {run, node, step, d / 4}, key = {seed, purpose}).
/// No state is shared between streams, so thread count, block size and process
/// count cannot change any number drawn.
/// @code
///   attain::Stream s(seed, run, node_id, step);
///   double u = s.u01();  // in (0, 1)
/// @endcode
class Stream {
 public:
  using Philox = r123::Philox4x64_R<10>;

  Stream(std::uint64_t seed, std::uint64_t run, std::uint64_t node, std::uint64_t step,
         StreamPurpose purpose = StreamPurpose::kSimulation)
      : ctr_{{run, node, step, 0}}, key_{{seed, static_cast<std::uint64_t>(purpose)}} {}

  /// Next 64 random bits.
  std::uint64_t bits() {
    if (used_ == 4) refill();
    return block_[used_++];
  }

  /// Next uniform number in the open interval (0, 1), on a grid of step 2^-52.
  double u01() {
    // (k + 0.5) / 2^52 for the top 52 bits is exact in a double: never 0, never 1
    // (with 53 bits the largest value would round up to 1).
    return u01_of(bits());
  }

 private:
  void refill() {
    Philox philox;
    auto out = philox(ctr_, key_);
    for (int i = 0; i < 4; ++i) block_[i] = out[i];
    ctr_[3] += 1;
    used_ = 0;
  }

  Philox::ctr_type ctr_;
  Philox::key_type key_;
  std::array<std::uint64_t, 4> block_{};
  int used_ = 4;
};

/// @brief The first uniform of the streams (seed, first_run + i, node, step) for i in
/// [0, count), written to out[i]: bit for bit Stream(seed, first_run + i, node, step,
/// purpose).u01(), for a block of runs at once.
///
/// The Philox calls of different runs are independent, so the processor overlaps them
/// (about 3 times the throughput of one stream refilled call after call); the loop keeps
/// no state between runs, so block boundaries cannot change a number.
inline void first_uniforms(std::uint64_t seed, std::uint64_t first_run, std::uint64_t node,
                           std::uint64_t step, int count, double* out,
                           StreamPurpose purpose = StreamPurpose::kSimulation) {
  const Stream::Philox philox;
  const Stream::Philox::key_type key = {{seed, static_cast<std::uint64_t>(purpose)}};
  for (int i = 0; i < count; ++i) {
    const Stream::Philox::ctr_type ctr = {
        {first_run + static_cast<std::uint64_t>(i), node, step, 0}};
    out[i] = u01_of(philox(ctr, key)[0]);
  }
}

}  // namespace attain
