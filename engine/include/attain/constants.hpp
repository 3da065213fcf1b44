// File-format constants shared by the results writer, its readers and the docs.
#pragma once

namespace attain {

/// Root attribute `filetype` of a results file (docs/results-format.md).
inline constexpr const char* kResultsFiletype = "attain-results";
/// Root attribute `version` = {major, minor}: a reader refuses another major version.
inline constexpr int kResultsVersionMajor = 2;
inline constexpr int kResultsVersionMinor = 1;
/// The random number scheme, recorded in every results file.
inline constexpr const char* kRngScheme =
    "Random123 Philox4x64-10; key {seed, purpose 0}; counter {run, node id (FNV-1a 64 of the "
    "name), step (2^64-1 for parameters), draw/4}; u01 = (top 52 bits + 0.5) / 2^52";

}  // namespace attain
