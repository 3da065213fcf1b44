// Diagnostics for users: failing at a place in their file, suggestions, safe text.
// The error types themselves are in attain/errors.hpp (included here).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "attain/errors.hpp"

namespace attain {

/// Throws InputError at `loc`.
[[noreturn]] void fail(const SourceLoc& loc, const std::string& text);

/// "; did you mean 'x'?" for the closest candidate by edit distance, or "".
std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates);

/// @brief `text` made safe for a terminal and one line: ASCII and C1 control characters
/// (newline, carriage return, ESC, BEL, ...) become visible escapes (\n, \r, \x1b, ...),
/// and text beyond `max_bytes` is cut at a character boundary and marked with "...".
/// UTF-8 text (Chinese labels) passes unchanged. For human-facing output only: JSON and
/// HDF5 keep values intact.
std::string printable(std::string_view text, std::size_t max_bytes = 4000);

/// Joins names as "'a', 'b' or 'c'" for messages listing what would be valid.
std::string one_of(const std::vector<std::string>& names);

}  // namespace attain
