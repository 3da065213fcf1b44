// Genuine results files and a checkpoint for the results-file fuzzer (fuzz_results.cpp),
// written at its start by the engine itself from the example models, so that the seeds
// always have the layout of the engine being fuzzed.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "attain/program.hpp"
#include "attain/study.hpp"

namespace attain::fuzz {

/// Values per run in each array of a ChunkData, as the genuine file has them.
struct RowWidths {
  std::size_t targets = 0, parameters = 0, full = 0;
};

/// Rows a reader handed on that do not match the model (a finding).
struct RowsError : std::logic_error {
  using std::logic_error::logic_error;
};

/// A sink that checks each chunk's arrays against `widths` (throws RowsError).
class RowsChecker : public ChunkSink {
 public:
  explicit RowsChecker(RowWidths widths) : widths_(widths) {}
  void write(const ChunkData& chunk) override;

 private:
  RowWidths widths_;
};

struct SeedScenario {
  std::string name;
  std::shared_ptr<const Program> program;  ///< compiled as the writer compiled it
  RowWidths widths;
};

struct Seed {
  std::string name;  ///< e.g. "part", "full", "compare", "sensitivity", "checkpoint"
  std::string path;  ///< the results file (a checkpoint's state.h5)
  bool checkpoint = false;
  bool rows = false;    ///< per-run rows stored (--store targets or full)
  bool full = false;    ///< --store full
  bool state = false;   ///< the exact state stored
  std::string sibling;  ///< the other part of the study, for merge ("" none)
  std::vector<SeedScenario> scenarios;
};

/// The seeds in a private temporary folder (removed at exit), and a file outside them
/// whose reading the fuzzer detects by its access time.
struct SeedSet {
  std::string work;     ///< the folder; the fuzzer writes its inputs here too
  std::string outside;  ///< a genuine HDF5 file that no reader may open
  std::vector<Seed> seeds;
  /// Whether reading `outside` shows in its access time on this file system.
  bool watch_outside();
  /// Sets the access time of `outside` before its modification time.
  void unread_outside();
  /// Whether `outside` was read since unread_outside().
  bool outside_read() const;
};

/// Writes the seeds (a few seconds under the sanitizers). Throws on failure.
SeedSet make_seeds();

}  // namespace attain::fuzz
