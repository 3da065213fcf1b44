#pragma once
// Reading files from elsewhere in a child process (docs/security.md): a results file, a part
// or a checkpoint is read by a forked child with memory, CPU-time, wall-clock and
// file-descriptor limits, no network, no exec and no further processes (a seccomp filter),
// which passes back only plain bytes or its error. A crash or hang inside libhdf5 on a
// damaged file then becomes one InputError line (exit code 2) in the parent, whose memory
// the child cannot touch.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace attain {

/// What a child may use. Zero: no limit of that kind.
struct IsolationLimits {
  /// Address space the child may add to the parent's (RLIMIT_AS); not applied in
  /// AddressSanitizer or ThreadSanitizer builds, which reserve terabytes of it.
  std::uint64_t memory_bytes = 0;
  /// Wall-clock seconds, and the child's CPU seconds (RLIMIT_CPU), before it is killed.
  double seconds = 0;
  /// Open file descriptors (RLIMIT_NOFILE).
  int files = 0;
};

/// The limits for reading `paths`: the memory available (available_memory()), 60 s plus
/// 1 s per MiB of the files (a genuine file reads at 100 MiB/s and more), 256 descriptors.
IsolationLimits reading_limits(const std::vector<std::string>& paths);

/// True when this build runs under a sanitizer that needs unlimited address space.
bool sanitized_build();

/// `path` in quotes, its control characters escaped, for isolated()'s `what`.
std::string quoted(const std::string& path);

/// @brief Runs `fn` in a forked child under `limits` and returns the bytes it returned.
/// An attain::Error (or std::bad_alloc, or another std::exception) that `fn` throws is
/// thrown again here with the same type and message. A child killed by a signal, past its
/// time, out of memory or ended without a result gives an InputError: `what` (the file
/// read, as quoted() names it) "could not be read safely", and the cause. `cancel`, when set, kills
/// the child and throws InterruptedError. The child must not use TBB if the parent has (its workers
/// are not forked); it ends with _exit, so nothing the parent opened is flushed or closed twice.
std::string isolated(const std::string& what, const IsolationLimits& limits,
                     const std::function<std::string()>& fn,
                     const std::atomic<bool>* cancel = nullptr);

/// isolated() for a value of a trivially copyable type.
template <class T>
T isolated_value(const std::string& what, const IsolationLimits& limits,
                 const std::function<T()>& fn, const std::atomic<bool>* cancel = nullptr) {
  static_assert(std::is_trivially_copyable_v<T>);
  const std::string bytes = isolated(
      what, limits,
      [&] {
        const T value = fn();
        return std::string(reinterpret_cast<const char*>(&value), sizeof value);
      },
      cancel);
  T value{};
  if (bytes.size() != sizeof value)
    throw std::logic_error("isolated_value: a result of another size");
  std::memcpy(&value, bytes.data(), sizeof value);
  return value;
}

/// A validating pre-read: runs `read` (which reads `path` as the parent will) in a child
/// under reading_limits({path}); returns when it read the file without an error.
void isolated_read(const std::string& path, const std::function<void()>& read);

}  // namespace attain
