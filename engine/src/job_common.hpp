#pragma once
// What the job layer's sources share (engine/src/job_*.cpp); not part of the public API.
#include <string>

#include "attain/diagnostics.hpp"
#include "attain/job.hpp"

namespace attain {

/// A bad option value: one line, exit code 2.
[[noreturn]] inline void bad_arg(const std::string& text) {
  fail({}, text);
}

/// Removes the temporaries of `output` that killed runs left (results_file.hpp) and tells
/// the user of each through `hooks`, also of one that cannot be removed.
void remove_stale_outputs(const std::string& output, const JobHooks& hooks);

}  // namespace attain
