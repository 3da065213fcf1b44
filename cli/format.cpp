// Text for the terminal: widths, wrapping, percentages, durations and tables.
#include "format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace attain::cli {
namespace {

/// One code point decoded from `text` at `at` (advanced past it); an ill-formed byte
/// decodes as itself, one byte long.
char32_t next_code_point(std::string_view text, std::size_t& at) {
  const auto b = static_cast<unsigned char>(text[at]);
  const int len = b < 0x80           ? 1
                  : (b >> 5) == 0x6  ? 2
                  : (b >> 4) == 0xE  ? 3
                  : (b >> 3) == 0x1E ? 4
                                     : 1;
  if (len == 1 || at + static_cast<std::size_t>(len) > text.size()) {
    ++at;
    return b;
  }
  char32_t cp = b & (0x7F >> len);
  for (int i = 1; i < len; ++i) {
    const auto c = static_cast<unsigned char>(text[at + static_cast<std::size_t>(i)]);
    if ((c >> 6) != 0x2) {
      ++at;
      return b;
    }
    cp = (cp << 6) | (c & 0x3F);
  }
  at += static_cast<std::size_t>(len);
  return cp;
}

struct Range {
  char32_t first, last;
};

bool in(const Range* begin, const Range* end, char32_t c) {
  const Range* r =
      std::upper_bound(begin, end, c, [](char32_t v, const Range& x) { return v < x.first; });
  return r != begin && c <= (r - 1)->last;
}

/// East Asian Wide (W) and Fullwidth (F) characters, Unicode 15 (EastAsianWidth.txt),
/// merged into ranges; unassigned code points inside a CJK block count as wide too.
constexpr Range kWide[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},
    {0x23F0, 0x23F0},   {0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},
    {0x2648, 0x2653},   {0x267F, 0x267F},   {0x2693, 0x2693},   {0x26A1, 0x26A1},
    {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},   {0x26CE, 0x26CE},
    {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},   {0x26F5, 0x26F5},
    {0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},
    {0x2728, 0x2728},   {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},
    {0x2757, 0x2757},   {0x2795, 0x2797},   {0x27B0, 0x27B0},   {0x27BF, 0x27BF},
    {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x2E80, 0x303E},
    {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},
    {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},
    {0xFE30, 0xFE6F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4},
    {0x17000, 0x18CFF}, {0x1B000, 0x1B2FF}, {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF},
    {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F251}, {0x1F300, 0x1F320},
    {0x1F32D, 0x1F335}, {0x1F337, 0x1F37C}, {0x1F37E, 0x1F393}, {0x1F3A0, 0x1F3CA},
    {0x1F3CF, 0x1F3D3}, {0x1F3E0, 0x1F3F0}, {0x1F3F4, 0x1F3F4}, {0x1F3F8, 0x1F43E},
    {0x1F440, 0x1F440}, {0x1F442, 0x1F4FC}, {0x1F4FF, 0x1F53D}, {0x1F54B, 0x1F54E},
    {0x1F550, 0x1F567}, {0x1F57A, 0x1F57A}, {0x1F595, 0x1F596}, {0x1F5A4, 0x1F5A4},
    {0x1F5FB, 0x1F64F}, {0x1F680, 0x1F6C5}, {0x1F6CC, 0x1F6CC}, {0x1F6D0, 0x1F6D2},
    {0x1F6D5, 0x1F6D7}, {0x1F6DC, 0x1F6DF}, {0x1F6EB, 0x1F6EC}, {0x1F6F4, 0x1F6FC},
    {0x1F7E0, 0x1F7EB}, {0x1F7F0, 0x1F7F0}, {0x1F90C, 0x1F93A}, {0x1F93C, 0x1F945},
    {0x1F947, 0x1F9FF}, {0x1FA70, 0x1FAFF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

/// Combining marks, zero-width and invisible format characters: no column of their own.
constexpr Range kZero[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489},   {0x0591, 0x05BD}, {0x0610, 0x061A}, {0x064B, 0x065F},
    {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF},   {0x200B, 0x200F}, {0x202A, 0x202E}, {0x2060, 0x2064},
    {0x20D0, 0x20FF}, {0x302A, 0x302D},   {0x3099, 0x309A}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F},
    {0xFEFF, 0xFEFF}, {0xE0100, 0xE01EF},
};

std::size_t width_of(char32_t c) {
  if (c < 0x300) return 1;
  if (in(std::begin(kZero), std::end(kZero), c)) return 0;
  return in(std::begin(kWide), std::end(kWide), c) ? 2 : 1;
}

/// Wide punctuation that may not start a line (kinsoku): it stays with what precedes it.
bool no_break_before(char32_t c) {
  switch (c) {
    case U'，':
    case U'。':
    case U'、':
    case U'；':
    case U'：':
    case U'）':
    case U'」':
    case U'』':
    case U'》':
    case U'〉':
    case U'！':
    case U'？':
    case U'】':
      return true;
    default:
      return false;
  }
}

/// x rounded to `digits` decimals, downwards or upwards; a relative 1e-9 of slack keeps
/// 29.0 from flooring to 28.9 when 0.29 * 100 lands just below 29.
double round_out(double x, int digits, bool up) {
  const double scale = std::pow(10.0, digits);
  const double v = x * scale;
  const double slack = 1e-9 * std::max(1.0, std::abs(v));
  return (up ? std::ceil(v - slack) : std::floor(v + slack)) / scale;
}

/// Whether a percentage needs three decimals: strictly between 0 and 0.1, or 99.9 and 100.
bool needs_three(double pct) {
  return (pct > 0 && pct < 0.1) || (pct > 99.9 && pct < 100);
}

/// A percentage (without the sign) at `digits` decimals; exact 0 and 100 bare, values
/// that would round to them said with < or >.
std::string pct_text(double pct, int digits) {
  if (pct == 0) return "0";
  if (pct == 100) return "100";
  const double least = std::pow(10.0, -digits);
  if (pct < least) return fmt::format("< {:.{}f}", least, digits);
  if (pct > 100 - least) return fmt::format("> {:.{}f}", 100 - least, digits);
  return fmt::format("{:.{}f}", pct, digits);
}

/// A bound (in percent) rounded outwards at `digits` decimals; exact 0 and 100 bare.
std::string bound_text(double pct, int digits, bool upper) {
  if (pct <= 0) return "0";
  if (pct >= 100) return "100";
  const double r = round_out(pct, digits, upper);
  if (r >= 100) return "100";
  return fmt::format("{:.{}f}", r, digits);
}

}  // namespace

std::size_t display_width(std::string_view text) {
  std::size_t w = 0;
  for (std::size_t at = 0; at < text.size();) w += width_of(next_code_point(text, at));
  return w;
}

std::string pad(std::string_view text, std::size_t width, bool right) {
  const std::size_t w = display_width(text);
  if (w >= width) return std::string(text);
  const std::string fill(width - w, ' ');
  return right ? fill + std::string(text) : std::string(text) + fill;
}

std::vector<std::string> wrap(std::string_view text, std::size_t width) {
  width = std::max<std::size_t>(width, 2);
  // Pieces between break opportunities: words, and single wide characters.
  struct Piece {
    std::string text;
    std::size_t width = 0;
    bool space_before = false;
  };
  std::vector<Piece> pieces;
  bool space = false, open_word = false;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t start = at;
    const char32_t c = next_code_point(text, at);
    const std::string_view bytes = text.substr(start, at - start);
    const std::size_t w = width_of(c);
    if (c == U' ' || c == U'\t' || c == U'\n') {
      space = true;
      open_word = false;
      continue;
    }
    const bool wide = w == 2;
    if (!pieces.empty() && !space && ((open_word && !wide) || no_break_before(c) || w == 0)) {
      pieces.back().text += bytes;
      pieces.back().width += w;
    } else {
      pieces.push_back({std::string(bytes), w, space});
    }
    open_word = !wide;
    space = false;
  }
  std::vector<std::string> lines;
  std::string line;
  std::size_t lw = 0;
  for (const auto& p : pieces) {
    const std::size_t sep = !line.empty() && p.space_before ? 1 : 0;
    if (lw + sep + p.width <= width) {
      line += std::string(sep, ' ') + p.text;
      lw += sep + p.width;
      continue;
    }
    if (!line.empty()) lines.push_back(line);
    line.clear();
    lw = 0;
    // A piece wider than a line is cut between code points.
    for (std::size_t at = 0; at < p.text.size();) {
      const std::size_t start = at;
      const std::size_t w = width_of(next_code_point(p.text, at));
      if (lw + w > width) {
        lines.push_back(line);
        line.clear();
        lw = 0;
      }
      line += p.text.substr(start, at - start);
      lw += w;
    }
  }
  if (!line.empty() || lines.empty()) lines.push_back(line);
  return lines;
}

std::string percent(double p) {
  if (!std::isfinite(p)) return "-";
  const double pct = 100 * p;
  return pct_text(pct, needs_three(pct) ? 3 : 1) + " %";
}

std::string percent_interval(double p, double lo, double hi) {
  if (!std::isfinite(p)) return "-";
  const int digits = needs_three(100 * p) || needs_three(100 * lo) || needs_three(100 * hi) ? 3 : 1;
  return fmt::format("{} % [{}, {}]", pct_text(100 * p, digits),
                     bound_text(100 * lo, digits, false), bound_text(100 * hi, digits, true));
}

std::string points_interval(double d, double lo, double hi) {
  const double m = 100 * std::max({std::abs(d), std::abs(lo), std::abs(hi)});
  const int digits = m < 0.1 ? 3 : 1;
  auto text = [&](double v) {
    if (v == 0) return std::string("0");
    return fmt::format("{:+.{}f}", v, digits);
  };
  return fmt::format("{} [{}, {}]", text(100 * d), text(round_out(100 * lo, digits, false)),
                     text(round_out(100 * hi, digits, true)));
}

std::string duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--";
  const auto s = static_cast<std::uint64_t>(std::llround(seconds));
  if (s < 60) return fmt::format("{} s", s);
  if (s < 3600) return fmt::format("{} min {:02} s", s / 60, s % 60);
  return fmt::format("{} h {:02} min", s / 3600, s % 3600 / 60);
}

std::string rate(double per_second) {
  if (!std::isfinite(per_second) || per_second < 0) return "--";
  if (per_second < 1e3) return fmt::format("{:.0f}", per_second);
  if (per_second < 1e6) return fmt::format("{:.1f}k", per_second / 1e3);
  if (per_second < 1e9) return fmt::format("{:.2f}M", per_second / 1e6);
  return fmt::format("{:.2f}G", per_second / 1e9);
}

std::vector<std::string> Table::render(std::size_t width) const {
  std::size_t name_w = display_width(name_header);
  for (const auto& n : names) name_w = std::max(name_w, display_width(n));
  std::vector<std::size_t> fixed_w(fixed_headers.size());
  for (std::size_t j = 0; j < fixed_w.size(); ++j) {
    fixed_w[j] = display_width(fixed_headers[j]);
    for (const auto& row : fixed) fixed_w[j] = std::max(fixed_w[j], display_width(row[j]));
  }
  std::vector<std::size_t> group_w(group_headers.size());
  std::size_t widest_group = 0;
  for (std::size_t g = 0; g < group_w.size(); ++g) {
    group_w[g] = display_width(group_headers[g]);
    for (const auto& row : cells) group_w[g] = std::max(group_w[g], display_width(row[g]));
    widest_group = std::max(widest_group, group_w[g]);
  }
  std::size_t after_names = 0;
  for (std::size_t w : fixed_w) after_names += 1 + w;
  // Names on lines of their own when a name leaves no room for the widest group.
  const bool own_line = name_w + after_names + (group_w.empty() ? 0 : 2 + widest_group) > width;
  const std::size_t name_col = own_line ? 2 : name_w;

  std::vector<std::string> lines;
  for (std::size_t first = 0; first < group_w.size() || (first == 0 && group_w.empty());) {
    std::size_t used = name_col + after_names, last = first;
    while (last < group_w.size() && (last == first || used + 2 + group_w[last] <= width))
      used += 2 + group_w[last++];
    if (!lines.empty()) lines.emplace_back();
    auto line = [&](const std::string& name, const std::vector<std::string>& fixed_cells,
                    const std::vector<std::string>& group_cells) {
      std::string s = pad(own_line ? "" : name, name_col);
      for (std::size_t j = 0; j < fixed_w.size(); ++j) {
        s += ' ';
        s += pad(fixed_cells[j], fixed_w[j], !(j < fixed_left.size() && fixed_left[j]));
      }
      for (std::size_t g = first; g < last; ++g) {
        s += "  ";
        s += pad(group_cells[g], group_w[g], true);
      }
      while (!s.empty() && s.back() == ' ') s.pop_back();
      return s;
    };
    if (own_line) lines.push_back(name_header);
    const std::string header = line(name_header, fixed_headers, group_headers);
    lines.push_back(header);
    lines.push_back(std::string(display_width(header), '-'));
    static const std::vector<std::string> kNone;
    for (std::size_t r = 0; r < names.size(); ++r) {
      if (own_line) lines.push_back(names[r]);
      lines.push_back(
          line(names[r], fixed_w.empty() ? kNone : fixed[r], group_w.empty() ? kNone : cells[r]));
    }
    if (group_w.empty()) break;
    first = last;
  }
  return lines;
}

}  // namespace attain::cli
