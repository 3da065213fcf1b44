// Error formatting and "did you mean" suggestions.
#include "attain/diagnostics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace attain {
namespace {

std::string format_loc(const SourceLoc& loc, const std::string& text) {
  if (loc.line > 0) return fmt::format("{}:{}:{}: error: {}", loc.file, loc.line, loc.col, text);
  return fmt::format("{}: error: {}", loc.file.empty() ? "attain" : loc.file, text);
}

/// Optimal string alignment distance: insertions, deletions, substitutions and
/// transpositions of neighbours each cost 1, so "tiem" is one edit from "time".
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

}  // namespace

InputError::InputError(SourceLoc loc, const std::string& text)
    : Error(format_loc(loc, text), kExitInput), loc_(std::move(loc)), text_(text) {}

void fail(const SourceLoc& loc, const std::string& text) {
  throw InputError(loc, text);
}

std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates) {
  std::size_t best = std::string::npos;
  const std::string* pick = nullptr;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(name, c);
    if (d < best) best = d, pick = &c;
  }
  // Suggest only plausible typos: at most a third of the name's letters differ.
  if (pick && best > 0 && best <= std::max<std::size_t>(1, name.size() / 3))
    return fmt::format("; did you mean '{}'?", *pick);
  return "";
}

std::string one_of(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += (i + 1 == names.size()) ? " or " : ", ";
    out += "'" + names[i] + "'";
  }
  return out;
}

}  // namespace attain
