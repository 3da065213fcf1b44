// Source locations and the one error type for bad user input.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace attain {

/// A place in a user's file; line and column are 1-based (0 when unknown).
struct SourceLoc {
  std::string file;
  int line = 0;
  int col = 0;
};

/// @brief The base of every error attain reports to a user: the message is one line
/// ready to print, and the exit code the command line returns for it. The CLI maps
/// errors to exit codes in one place, by catching this type.
class Error : public std::runtime_error {
 public:
  Error(const std::string& message, int exit_code)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }
  /// The line printed for a user: "attain: error: " and the message, unless the
  /// message already names its place (file:line:col).
  virtual std::string user_message() const { return std::string("attain: error: ") + what(); }

 private:
  int exit_code_;
};

/// Exit codes of the command line.
inline constexpr int kExitInput = 2;  ///< bad input or an unwritable output
inline constexpr int kExitRun = 3;    ///< a run produced a non-finite value
inline constexpr int kExitInterrupted = 130;

/// Bad user input: the message is `file:line:col: error: text`, one line.
class InputError : public Error {
 public:
  InputError(SourceLoc loc, const std::string& text);
  const SourceLoc& loc() const { return loc_; }
  const std::string& text() const { return text_; }
  std::string user_message() const override { return what(); }

 private:
  SourceLoc loc_;
  std::string text_;
};

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
