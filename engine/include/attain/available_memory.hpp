// The memory a study may take before it starts: the least of what the system, a cgroup and
// the address-space limit leave, with where that figure comes from.
#pragma once

#include <cstdint>
#include <string>

namespace attain {

/// Memory this process may still take, and where that figure comes from (for a message).
struct AvailableMemory {
  std::uint64_t bytes = 0;  ///< 0 when unknown
  std::string source;       ///< e.g. "available (MemAvailable)"
};

/// @brief The memory available to this process: the least of MemAvailable (/proc/meminfo),
/// what is left below a cgroup limit (memory.max), and what is left under the address-space
/// limit (RLIMIT_AS, `ulimit -v`) beyond what the process has already mapped (VmSize).
/// available_memory() (study.hpp) is its `bytes`.
AvailableMemory available_memory_source();

}  // namespace attain
