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

/// Bad user input: the message is `file:line:col: error: text`, one line.
class InputError : public std::runtime_error {
 public:
  InputError(SourceLoc loc, const std::string& text);
  const SourceLoc& loc() const { return loc_; }
  const std::string& text() const { return text_; }

 private:
  SourceLoc loc_;
  std::string text_;
};

/// Throws InputError at `loc`.
[[noreturn]] void fail(const SourceLoc& loc, const std::string& text);

/// "; did you mean 'x'?" for the closest candidate by edit distance, or "".
std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates);

/// Joins names as "'a', 'b' or 'c'" for messages listing what would be valid.
std::string one_of(const std::vector<std::string>& names);

}  // namespace attain
