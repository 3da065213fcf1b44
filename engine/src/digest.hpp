// XXH3-64 digests of a results file's reducer state and per-run rows, written with the
// state (attributes `digest_state`, `digest_rows` of group `state`, docs/results-format.md)
// and checked by `attain merge`: integrity against accidents (a truncated copy, a flipped
// bit, a file edited by mistake), not against a forger, who can compute them again.
#pragma once

#include <hdf5.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attain/study.hpp"

namespace attain {

class Program;

/// The values per run of target_values, parameters and (with `full`) values of `program`:
/// the widths of its per-run rows.
std::array<std::uint64_t, 3> row_widths(const Program& program, bool full);

/// The digest of a study's exact state: each partial's place and each reducer's kind and
/// saved arrays, in order.
std::uint64_t state_digest(const StudyState& state);

/// @brief The digest of per-run rows: the sum modulo 2^64 of each run's XXH3-64 of its
/// index, target values, parameters and full values. The same for any split of the runs
/// into chunks, ranks or parts, in any order (the ranks' and the parts' digests add up).
class RowDigest {
 public:
  /// `widths`: the values per run of target_values, parameters and full.
  explicit RowDigest(const std::array<std::uint64_t, 3>& widths);
  ~RowDigest();
  RowDigest(const RowDigest&) = delete;
  RowDigest& operator=(const RowDigest&) = delete;
  /// Adds a chunk's runs; std::invalid_argument when its sizes are not count x widths.
  void add(const ChunkData& chunk);
  /// Adds the digest of other runs (another rank's).
  void add(std::uint64_t other);
  std::uint64_t value() const;

 private:
  std::array<std::uint64_t, 3> widths_;
  struct State;
  std::unique_ptr<State> state_;
};

/// Writes the digests as attributes of the `state` group `state_group`.
void write_digests(hid_t state_group, std::uint64_t state, std::optional<std::uint64_t> rows);

/// What `attain merge` checks of a part's scenario before reading its rows.
struct PartLayout {
  std::optional<std::uint64_t> digest_state, digest_rows;  ///< absent in older files
  /// The dimensions of each per-run dataset present (run, target_values, parameters,
  /// values).
  std::map<std::string, std::vector<std::uint64_t>> rows;
};
/// Reads scenario `scenario`'s layout from the results file `path`. Throws OutputError
/// (naming `path`) for a digest that is not a scalar 64-bit integer.
PartLayout read_part_layout(const std::string& path, const std::string& scenario);

/// The `rows_digest` of each scenario of the checkpoint `folder`/state.h5, in order (nullopt
/// where a scenario has none). Throws OutputError for one that is not a scalar u64.
std::vector<std::optional<std::uint64_t>> read_checkpoint_digests(const std::string& folder);

}  // namespace attain
