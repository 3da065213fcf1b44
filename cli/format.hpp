// Text for the terminal: display widths of UTF-8 text, wrapping, probabilities in percent,
// durations and rates for the progress bar, and tables that fit a given width.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace attain::cli {

/// Width of the terminal tables and lists (columns).
inline constexpr std::size_t kTerminalColumns = 100;

/// @brief Columns that UTF-8 text takes on a terminal: 2 for East Asian wide and
/// fullwidth characters (Chinese, Japanese, Korean, fullwidth forms, most emoji), 0 for
/// combining marks and zero-width characters, 1 for anything else (an ill-formed byte
/// counts 1).
std::size_t display_width(std::string_view text);

/// `text` padded with spaces to `width` columns (display_width), on the right (left
/// aligned) or on the left (`right` aligned); text already as wide is returned as is.
std::string pad(std::string_view text, std::size_t width, bool right = false);

/// @brief Breaks `text` into lines of at most `width` columns: at spaces, and between
/// two wide characters (Chinese has no spaces); a word wider than `width` is cut.
std::vector<std::string> wrap(std::string_view text, std::size_t width);

/// @brief A probability in percent with the digits that keep it honest: "0 %" and
/// "100 %" only when exact, "< 0.001 %" and "> 99.999 %" beyond three decimals, three
/// decimals below 0.1 % and above 99.9 %, one decimal otherwise ("29.1 %").
std::string percent(double p);

/// @brief A probability with its interval, in percent: "29.1 % [29.0, 29.2]". The
/// bounds take the point's decimals (three when any of the three lies below 0.1 % or
/// above 99.9 %) and are rounded outwards, so the printed interval contains the exact
/// one: a lower bound of 3e-6 prints as 0.000, an upper bound of 3.8e-6 as 0.001.
std::string percent_interval(double p, double lo, double hi);

/// @brief A difference of two probabilities in percentage points with its interval,
/// "+1.2 [+0.9, +1.5]", one decimal, or three when every number is below 0.1 points;
/// the bounds rounded outwards.
std::string points_interval(double d, double lo, double hi);

/// A duration for the progress bar: "42 s", "3 min 05 s", "2 h 07 min"; "--" when not
/// finite or negative.
std::string duration(double seconds);

/// A rate per second, before its unit: "850", "12.3k", "4.56M" (then "runs/s").
std::string rate(double per_second);

/// @brief A table whose first column (row names) stays at the left and whose other
/// columns come in groups (one per scenario, say), laid out to fit `width` columns:
/// as many groups side by side as fit, the rest in further blocks with the row names
/// repeated; a row name too wide to leave room for one group goes on a line of its own.
struct Table {
  std::string name_header;
  std::vector<std::string> names;  ///< one per row
  /// Columns printed with every block (e.g. a threshold), after the names.
  std::vector<std::string> fixed_headers;
  std::vector<std::vector<std::string>> fixed;  ///< [row][column]
  /// Fixed columns aligned left (text); the others, and every group, align right.
  std::vector<bool> fixed_left;
  std::vector<std::string> group_headers;       ///< one per group
  std::vector<std::vector<std::string>> cells;  ///< [row][group]
  /// Lines of the table: each block's header, a rule, and its rows; a blank line
  /// between blocks. Every line is at most `width` columns when the fixed columns and
  /// one group fit in it.
  std::vector<std::string> render(std::size_t width = kTerminalColumns) const;
};

}  // namespace attain::cli
