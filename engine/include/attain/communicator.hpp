// Processes that run one study together (MPI ranks, or simulated ranks in a test): the
// seam through which run_study splits a run range and exchanges reducer states. The engine
// knows no MPI; an MPI build adds MpiCommunicator (mpi_communicator.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "attain/errors.hpp"
#include "attain/study.hpp"

namespace attain {

/// @brief A fixed group of processes, each calling the same collective operations in the
/// same order. rank() is in [0, size()).
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Collective: every rank's `bytes`, in rank order, on every rank.
  virtual std::vector<std::vector<std::byte>> all_gather(std::span<const std::byte> bytes) = 0;
  /// An HDF5 file-access property list (hid_t) that opens one file on every rank at once
  /// (parallel HDF5), owned by the communicator; -1 when there is none (ResultsFile then
  /// refuses per-run rows on more than one rank).
  virtual std::int64_t parallel_file_access() const { return -1; }
  /// Collective: rank 0's `bytes` on every rank.
  std::vector<std::byte> broadcast(std::span<const std::byte> bytes);
  /// Collective: returns when every rank has called it.
  void barrier() { all_gather({}); }
};

/// Chunks [begin, end) (absolute chunk indices) that `rank` of `size` evaluates of a study
/// whose chunks are [first_chunk, end_chunk): contiguous blocks, sizes differing by at most
/// one, in rank order.
struct ChunkShare {
  std::uint64_t begin = 0, end = 0;
};
ChunkShare chunk_share(std::uint64_t first_chunk, std::uint64_t end_chunk, int rank, int size);

/// @brief A study state as plain bytes (native byte order; the ranks of one job share a
/// machine architecture): first, last, chunk, then each partial's level, index and each
/// reducer's kind and saved state (named integer and double arrays).
std::vector<std::byte> encode_state(const StudyState& state);
/// The state that encode_state wrote, each reducer loaded into an empty() copy of the
/// matching prototype. Throws std::invalid_argument when the bytes do not match them.
StudyState decode_state(std::span<const std::byte> bytes,
                        const std::vector<std::unique_ptr<Reducer>>& prototypes);

/// run_study's path with StudyOptions::communicator of size > 1: this rank evaluates its
/// chunk_share() of the range, the ranks all_gather their encoded states (or their first
/// error), and every rank appends them in chunk order, so every rank returns the same
/// result, bit for bit that of one process. A StopRule is refused (an Error, exit code 2):
/// see docs/architecture.md.
StudyResult run_study_on_ranks(const Study& study, const StudyOptions& options);

}  // namespace attain
