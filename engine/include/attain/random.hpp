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
};

/// Step index used for quantities drawn once per run (uncertain parameters).
inline constexpr std::uint64_t kOncePerRun = ~std::uint64_t{0};

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
    return (static_cast<double>(bits() >> 12) + 0.5) * 0x1.0p-52;
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

}  // namespace attain
