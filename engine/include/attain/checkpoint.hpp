// Checkpoints of a run that writes a results file, so that a killed run resumes where it
// stopped and ends with the file an uninterrupted run writes (docs/scaling.md).
//
// A checkpoint is a folder beside the output, `<output>.checkpoint/`:
//   state.h5     the exact reducer state of every scenario begun (HDF5, the results
//                file's `state` layout), the rows spooled so far, and the fingerprint of
//                what made it. Written as `state.h5.tmp`, synced, then renamed over the
//                previous one: a crash at any moment leaves the previous one valid.
//   rows-<i>-<pid>.bin  scenario i's per-run rows (--store targets|full), appended in
//                run order by process <pid> and synced before each state.h5 names the
//                file, its length and its digest; a resume cuts what follows that length.
//   lock         held (flock) by the process writing the checkpoint.
//
// The folder is attain's own: created with mode 0700, and used only when it is a real
// directory (not a symbolic link) owned by this user and writable by nobody else
// (CheckpointFolder). Its files are opened relative to it (openat) with O_NOFOLLOW, new
// ones with O_EXCL: a link planted in it is refused, never followed.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "attain/study.hpp"

namespace attain {

/// Seconds between checkpoints unless --checkpoint-every says otherwise.
inline constexpr double kCheckpointSeconds = 60;

/// What a checkpoint must match to be resumed, as (name, value) in a fixed order: model
/// source, scenario sources, seed, run range, chunk, store, engine version, ...
using Fingerprint = std::vector<std::pair<std::string, std::string>>;

/// The first entry of `now` that differs from `saved` (its name), or "" when they agree.
std::string first_difference(const Fingerprint& saved, const Fingerprint& now);

class RowDigest;  // digest.hpp

/// @brief A scenario's per-run rows appended to a plain binary file in run order. Each
/// record is one ChunkData: first_run (u64), count (u64), the lengths of target_values,
/// parameters and full (3 x u64), then those doubles, all in this machine's byte order
/// (a spool is read back only where it was written).
class RowSpool : public ChunkSink {
 public:
  /// Opens `name` in the folder `folder_fd` (`path` names it in messages) and cuts it to
  /// its first `keep` bytes; `fresh`: creates it, refusing a file of that name.
  /// `widths`: the values per run of target_values, parameters and full, for the digest.
  RowSpool(int folder_fd, const std::string& name, std::string path, std::uint64_t keep, bool fresh,
           const std::array<std::uint64_t, 3>& widths);
  ~RowSpool() override;
  RowSpool(const RowSpool&) = delete;
  RowSpool& operator=(const RowSpool&) = delete;
  void write(const ChunkData& chunk) override;
  /// Flushes and fdatasync()s: every row written so far survives a crash.
  void sync();
  std::uint64_t bytes() const { return bytes_; }
  /// The XXH3-64 digest (digest.hpp's RowDigest) of the rows written, after those given to
  /// count(): the rows it kept from a checkpoint, as they are replayed.
  std::uint64_t digest() const;
  void count(const ChunkData& chunk);
  /// Hands the records in the first `bytes` bytes of the spool `name` in the folder
  /// `folder_fd` to `sink`, in order; `path` names it in messages.
  static void replay(int folder_fd, const std::string& name, const std::string& path,
                     std::uint64_t bytes, ChunkSink& sink);
  /// Checks, reading no row, that the spool's first `bytes` bytes are whole records in run
  /// order from `first_run` that end at run `last_run`, each of `widths` (target values,
  /// parameters, full per run). Throws OutputError naming what disagrees.
  static void check(int folder_fd, const std::string& name, const std::string& path,
                    std::uint64_t bytes, std::uint64_t first_run, std::uint64_t last_run,
                    const std::array<std::uint64_t, 3>& widths);

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::uint64_t bytes_ = 0;
  std::unique_ptr<RowDigest> digest_;
};

/// Hands each chunk to every sink in order (the results file and a spool).
class TeeSink : public ChunkSink {
 public:
  explicit TeeSink(std::vector<ChunkSink*> sinks) : sinks_(std::move(sinks)) {}
  void write(const ChunkData& chunk) override {
    for (ChunkSink* s : sinks_) s->write(chunk);
  }

 private:
  std::vector<ChunkSink*> sinks_;
};

/// A sink for reducers that must not write (the prototypes a saved state loads into).
class NullSink : public ChunkSink {
 public:
  void write(const ChunkData&) override {
    throw std::logic_error("NullSink: a loaded reducer wrote rows");
  }
};

/// One scenario as a checkpoint records it.
struct CheckpointScenario {
  std::string name;
  bool done = false;                         ///< its study finished
  double seconds = 0;                        ///< wall time spent on it so far
  std::uint64_t rows_bytes = 0;              ///< the valid length of its rows spool
  std::string rows_file;                     ///< the spool's name in the folder ("" without rows)
  /// Its state: `before`'s partials, then `state`'s (either may be null): a resumed
  /// scenario's saved range and the range run since.
  const StudyState* before = nullptr;
  const StudyState* state = nullptr;
  std::optional<std::uint64_t> rows_digest;  ///< of its spool's rows (RowSpool::digest())
};

/// Writes `folder`/state.h5 atomically (a temporary, fsync, rename, fsync of the folder).
/// Throws OutputError when it cannot.
void write_checkpoint(const std::string& folder, const Fingerprint& fingerprint,
                      const std::vector<CheckpointScenario>& scenarios);

/// What `folder`/state.h5 holds besides the reducer states.
struct CheckpointInfo {
  Fingerprint fingerprint;
  struct Scenario {
    std::string name;
    bool done = false;
    double seconds = 0;
    std::uint64_t rows_bytes = 0;
    std::string rows_file;
    std::uint64_t first = 0, last = 0;  ///< the run range its state covers
  };
  std::vector<Scenario> scenarios;  ///< begun, in order
};
/// Throws OutputError for a file that is not a checkpoint.
CheckpointInfo read_checkpoint_info(const std::string& folder);
/// Scenario `index`'s state, each reducer loaded into an empty() copy of `prototypes`.
StudyState read_checkpoint_state(const std::string& folder, std::size_t index,
                                 const std::vector<std::unique_ptr<Reducer>>& prototypes);

/// @brief A checkpoint folder checked to be attain's own: a real directory (not a
/// symbolic link), owned by this process's user, writable by nobody else. Holds it open,
/// so that its files are opened relative to it (openat) whatever its name becomes.
class CheckpointFolder {
 public:
  /// Opens `path`, creating it with mode 0700 when it is missing and `create`. Throws
  /// OutputError (one line naming what is wrong) for a folder that is not attain's own.
  CheckpointFolder(std::string path, bool create);
  ~CheckpointFolder();
  CheckpointFolder(const CheckpointFolder&) = delete;
  CheckpointFolder& operator=(const CheckpointFolder&) = delete;
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

/// @brief The lock on a checkpoint folder (flock on `folder`/lock), held while this
/// process may write the checkpoint; released on destruction or exit (also kill -9).
class CheckpointLock {
 public:
  /// Creates the folder if needed (CheckpointFolder: throws OutputError for a folder that
  /// is not attain's own, or a `lock` that is not a plain file); `held()` is false when
  /// another process holds it.
  explicit CheckpointLock(const std::string& folder);
  ~CheckpointLock();
  CheckpointLock(const CheckpointLock&) = delete;
  CheckpointLock& operator=(const CheckpointLock&) = delete;
  bool held() const { return fd_ >= 0; }
  /// The checked folder, open.
  const CheckpointFolder& folder() const { return folder_; }

 private:
  CheckpointFolder folder_;
  int fd_ = -1;
};

/// Checks that `name` in the checkpoint folder `folder` is a plain file (not a link, a FIFO
/// or a device) or missing; throws OutputError naming it otherwise.
void check_checkpoint_file(const CheckpointFolder& folder, const std::string& name);

}  // namespace attain
