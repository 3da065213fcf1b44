// GoogleTest: Philox4x64-10 known-answer vectors and the attain::Stream layout on top of it.
#include "attain/random.hpp"

#include <Random123/philox.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#ifndef ATTAIN_TEST_DATA
#define ATTAIN_TEST_DATA "tests/data"  // standalone builds run from the repository root
#endif

namespace attain {
namespace {

using Philox = r123::Philox4x64_R<10>;

struct KatVector {
  std::uint64_t ctr[4];
  std::uint64_t key[2];
  std::uint64_t out[4];
};

std::vector<KatVector> read_kat(const std::string& path) {
  std::ifstream in(path);
  std::vector<KatVector> vectors;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string name;
    unsigned rounds = 0;
    if (!(words >> name) || name != "philox4x64") continue;  // comments, other generators
    KatVector v{};
    words >> rounds >> std::hex;
    for (auto& w : v.ctr) words >> w;
    for (auto& w : v.key) words >> w;
    for (auto& w : v.out) words >> w;
    if (words && rounds == 10) vectors.push_back(v);
  }
  return vectors;
}

TEST(Philox, KnownAnswerVectors) {
  const std::string path = std::string(ATTAIN_TEST_DATA) + "/philox4x64_kat.txt";
  const std::vector<KatVector> vectors = read_kat(path);
  ASSERT_GE(vectors.size(), 3u) << "could not read " << path;
  for (const KatVector& v : vectors) {
    const Philox::ctr_type ctr = {{v.ctr[0], v.ctr[1], v.ctr[2], v.ctr[3]}};
    const Philox::key_type key = {{v.key[0], v.key[1]}};
    const Philox::ctr_type out = Philox()(ctr, key);
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(out[i], v.out[i]) << "word " << i << " of vector with ctr0 " << std::hex
                                  << v.ctr[0];
    }
  }
}

// Philox4x64-10 of counter {run, node, step, block}, key {seed, purpose}.
Philox::ctr_type block(std::uint64_t seed, std::uint64_t run, std::uint64_t node,
                       std::uint64_t step, StreamPurpose purpose, std::uint64_t index) {
  const Philox::ctr_type ctr = {{run, node, step, index}};
  const Philox::key_type key = {{seed, static_cast<std::uint64_t>(purpose)}};
  return Philox()(ctr, key);
}

TEST(Stream, WordDIsWordDMod4OfBlockDDiv4) {
  struct Identity {
    std::uint64_t seed, run, node, step;
    StreamPurpose purpose;
  };
  for (const Identity& id : {Identity{0, 0, 0, 0, StreamPurpose::kSimulation},
                             Identity{42, 7, 3, 11, StreamPurpose::kSimulation},
                             Identity{42, 7, 3, kOncePerRun, StreamPurpose::kSimulation},
                             Identity{~0ull, 1ull << 40, 12345, 2, StreamPurpose::kTest}}) {
    Stream s(id.seed, id.run, id.node, id.step, id.purpose);
    for (std::uint64_t d = 0; d < 12; ++d) {
      const auto expected = block(id.seed, id.run, id.node, id.step, id.purpose, d / 4);
      EXPECT_EQ(s.bits(), expected[d % 4]) << "draw " << d;
    }
  }
}

TEST(Stream, U01IsTheTop52BitsCentredInTheirCell) {
  Stream s(5, 6, 7, 8);
  Stream copy = s;  // streams are values: a copy continues identically
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t b = copy.bits();
    const double u = s.u01();
    EXPECT_EQ(u, (static_cast<double>(b >> 12) + 0.5) * 0x1.0p-52);
    EXPECT_GT(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
}

TEST(Stream, U01NeverReachesZeroOrOne) {
  // The extreme cells of the grid: all-zero and all-one top bits.
  EXPECT_EQ((static_cast<double>(0) + 0.5) * 0x1.0p-52, 0x1.0p-53);
  EXPECT_LT((static_cast<double>((~std::uint64_t{0}) >> 12) + 0.5) * 0x1.0p-52, 1.0);
}

TEST(Stream, UniformMeanAndVarianceAcrossRuns) {
  // Engine pattern: one stream per run; the first u01 of 1e5 runs has mean 1/2 and
  // variance 1/12 (checked within 5 standard errors).
  const int n = 100000;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < n; ++i) {
    Stream s(2024, static_cast<std::uint64_t>(i), 1, 0);
    const double u = s.u01();
    sum += u;
    sum2 += u * u;
  }
  const double mean = sum / n;
  const double var = sum2 / n - mean * mean;
  EXPECT_NEAR(mean, 0.5, 5 * std::sqrt(1.0 / 12 / n));
  EXPECT_NEAR(var, 1.0 / 12, 5 * std::sqrt((1.0 / 80 - 1.0 / 144) / n));  // mu4 = 1/80
}

TEST(Stream, EveryPartOfTheIdentityChangesTheNumbers) {
  const std::uint64_t base = Stream(1, 2, 3, 4).bits();
  EXPECT_EQ(Stream(1, 2, 3, 4).bits(), base);
  EXPECT_NE(Stream(9, 2, 3, 4).bits(), base);
  EXPECT_NE(Stream(1, 9, 3, 4).bits(), base);
  EXPECT_NE(Stream(1, 2, 9, 4).bits(), base);
  EXPECT_NE(Stream(1, 2, 3, 9).bits(), base);
  EXPECT_NE(Stream(1, 2, 3, 4, StreamPurpose::kTest).bits(), base);
}

TEST(FirstUniforms, EqualTheFirstU01OfEachRunsStream) {
  // The block form the engine draws with must give the numbers of one stream per run,
  // whatever the block's first run and length (so block size cannot change a result).
  for (const std::uint64_t first :
       {std::uint64_t{0}, std::uint64_t{1} << 40, ~std::uint64_t{0} - 300}) {
    std::vector<double> block(257);
    first_uniforms(11, first, 77, kOncePerRun, 257, block.data());
    for (int i = 0; i < 257; ++i)
      EXPECT_EQ(block[static_cast<std::size_t>(i)],
                Stream(11, first + static_cast<std::uint64_t>(i), 77, kOncePerRun).u01())
          << "run " << first + static_cast<std::uint64_t>(i);
    std::vector<double> test(5);
    first_uniforms(11, first, 77, 3, 5, test.data(), StreamPurpose::kTest);
    for (int i = 0; i < 5; ++i)
      EXPECT_EQ(
          test[static_cast<std::size_t>(i)],
          Stream(11, first + static_cast<std::uint64_t>(i), 77, 3, StreamPurpose::kTest).u01());
  }
}

}  // namespace
}  // namespace attain
