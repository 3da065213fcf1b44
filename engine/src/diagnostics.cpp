// Error formatting and "did you mean" suggestions.
#include "attain/diagnostics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace attain {
namespace {

std::string format_loc(const SourceLoc& loc, const std::string& text) {
  // The message is one line whatever the input held (a scalar with a newline cannot
  // forge a second "file:line:col: error:" line, nor an escape sequence reach the terminal).
  if (loc.line > 0)
    return fmt::format("{}:{}:{}: error: {}", printable(loc.file, 500), loc.line, loc.col,
                       printable(text));
  return fmt::format("{}: error: {}", loc.file.empty() ? "attain" : printable(loc.file, 500),
                     printable(text));
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

std::string printable(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 8);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (out.size() >= max_bytes) {
      // Back off to the start of a UTF-8 character before marking the cut.
      while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80)
        out.pop_back();
      if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\x{:02x}", c);
    } else if (c == 0xC2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      // A C1 control (U+0080..U+009F; U+009B is a CSI on some terminals).
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(text[i + 1]));
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

InputError::InputError(SourceLoc loc, const std::string& text)
    : Error(format_loc(loc, text), kExitInput), loc_(std::move(loc)), text_(text) {}

void fail(const SourceLoc& loc, const std::string& text) {
  throw InputError(loc, text);
}

std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates) {
  // Suggest only plausible typos: at most a third of the name's letters differ. The
  // distance is at least the difference in length, so most candidates need no matrix,
  // and names longer than any identifier get no suggestion: the cost stays bounded
  // (a 5 MB name among 2,000 candidates must not take seconds).
  constexpr std::size_t kLongest = 256;
  const std::size_t allowed = std::max<std::size_t>(1, name.size() / 3);
  if (name.size() > kLongest) return "";
  std::size_t best = std::string::npos;
  const std::string* pick = nullptr;
  for (const auto& c : candidates) {
    const std::size_t gap =
        c.size() > name.size() ? c.size() - name.size() : name.size() - c.size();
    if (gap > allowed || gap >= best || c.size() > kLongest) continue;
    std::size_t d = edit_distance(name, c);
    if (d < best) best = d, pick = &c;
  }
  if (pick && best > 0 && best <= allowed) return fmt::format("; did you mean '{}'?", *pick);
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
