// GoogleTest: terminal text (cli/format.cpp): display widths, wrapping, percentages,
// durations, and tables that fit 100 columns.
#include "format.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace {

using attain::cli::display_width;
using attain::cli::percent;
using attain::cli::percent_interval;
using attain::cli::points_interval;

TEST(CliFormat, DisplayWidthCountsChineseAsTwoColumns) {
  EXPECT_EQ(display_width(""), 0u);
  EXPECT_EQ(display_width("abc"), 3u);
  EXPECT_EQ(display_width("高新技术企业"), 12u);
  EXPECT_EQ(display_width("R&D强度 (%)"), 11u);
  EXPECT_EQ(display_width("，。（）"), 8u);          // fullwidth punctuation
  EXPECT_EQ(display_width("e\xCC\x81"), 1u);         // e + combining acute accent
  EXPECT_EQ(display_width("\xF0\x9F\x8E\x89"), 2u);  // an emoji
  EXPECT_EQ(display_width("\xFF"), 1u);              // an ill-formed byte
}

TEST(CliFormat, PadUsesDisplayWidth) {
  EXPECT_EQ(attain::cli::pad("企业", 6), "企业  ");
  EXPECT_EQ(attain::cli::pad("企业", 6, true), "  企业");
  EXPECT_EQ(attain::cli::pad("abcdef", 3), "abcdef");
}

TEST(CliFormat, WrapBreaksAtSpacesAndBetweenChineseCharacters) {
  auto lines = attain::cli::wrap("the quick brown fox jumps over the lazy dog", 10);
  EXPECT_EQ(lines,
            (std::vector<std::string>{"the quick", "brown fox", "jumps over", "the lazy", "dog"}));
  // 全社会R&D投入强度达到2.5%: Chinese breaks between characters, never inside "R&D".
  lines = attain::cli::wrap("全社会R&D投入强度达到2.5% (R&D intensity)", 12);
  for (const auto& l : lines) EXPECT_LE(display_width(l), 12u) << l;
  std::string joined;
  for (const auto& l : lines) joined += l;
  EXPECT_EQ(joined, "全社会R&D投入强度达到2.5% (R&Dintensity)");
  EXPECT_EQ(lines,
            (std::vector<std::string>{"全社会R&D投", "入强度达到", "2.5% (R&D", "intensity)"}));
  // Closing punctuation stays with what precedes it.
  lines = attain::cli::wrap("一二三四，五六", 8);
  EXPECT_EQ(lines, (std::vector<std::string>{"一二三", "四，五六"}));
  // A word wider than a line is cut.
  lines = attain::cli::wrap("abcdefghij", 4);
  EXPECT_EQ(lines, (std::vector<std::string>{"abcd", "efgh", "ij"}));
  EXPECT_EQ(attain::cli::wrap("", 10), (std::vector<std::string>{""}));
}

TEST(CliFormat, PercentEdgeCases) {
  EXPECT_EQ(percent(0), "0 %");
  EXPECT_EQ(percent(1), "100 %");
  EXPECT_EQ(percent(0.291), "29.1 %");
  EXPECT_EQ(percent(0.5), "50.0 %");
  EXPECT_EQ(percent(0.001), "0.1 %");
  EXPECT_EQ(percent(0.998), "99.8 %");
  // Tiny and near one: three decimals, never rounded to 0 or 100.
  EXPECT_EQ(percent(0.00038), "0.038 %");
  EXPECT_EQ(percent(4e-6), "< 0.001 %");
  EXPECT_EQ(percent(1e-5), "0.001 %");
  EXPECT_EQ(percent(0.99962), "99.962 %");
  EXPECT_EQ(percent(1 - 4e-6), "> 99.999 %");
  EXPECT_EQ(percent(1 - 1e-12), "> 99.999 %");
}

TEST(CliFormat, PercentIntervalRoundsBoundsOutwards) {
  EXPECT_EQ(percent_interval(0.291, 0.29036, 0.29124), "29.1 % [29.0, 29.2]");
  EXPECT_EQ(percent_interval(0.29, 0.29, 0.29), "29.0 % [29.0, 29.0]");
  // No hit in 10^6 runs: the upper bound 3.8e-6 must not print as zero.
  EXPECT_EQ(percent_interval(0, 0, 3.8e-6), "0 % [0, 0.001]");
  // 4 hits in 10^6 runs.
  EXPECT_EQ(percent_interval(4e-6, 1.6e-6, 1.03e-5), "< 0.001 % [0.000, 0.002]");
  // Every run met the target.
  EXPECT_EQ(percent_interval(1, 1 - 3.8e-6, 1), "100 % [99.999, 100]");
  EXPECT_EQ(percent_interval(0.9995, 0.9991, 0.99973), "99.950 % [99.910, 99.973]");
  // A bound close to 100 that would round up to it prints as 100.
  EXPECT_EQ(percent_interval(0.5, 0.4, 0.9999999), "50.000 % [40.000, 100]");
  EXPECT_EQ(percent_interval(std::nan(""), 0, 1), "-");
}

TEST(CliFormat, PointsInterval) {
  EXPECT_EQ(points_interval(0.012, 0.009, 0.015), "+1.2 [+0.9, +1.5]");
  EXPECT_EQ(points_interval(-0.05, -0.0612, -0.0388), "-5.0 [-6.2, -3.8]");
  EXPECT_EQ(points_interval(0, 0, 0), "0 [0, 0]");
  EXPECT_EQ(points_interval(2e-5, -1e-5, 5e-5), "+0.002 [-0.001, +0.005]");
}

TEST(CliFormat, DurationAndRate) {
  EXPECT_EQ(attain::cli::duration(0), "0 s");
  EXPECT_EQ(attain::cli::duration(42.4), "42 s");
  EXPECT_EQ(attain::cli::duration(185), "3 min 05 s");
  EXPECT_EQ(attain::cli::duration(7620), "2 h 07 min");
  EXPECT_EQ(attain::cli::duration(-1), "--");
  EXPECT_EQ(attain::cli::duration(std::nan("")), "--");
  EXPECT_EQ(attain::cli::rate(850), "850");
  EXPECT_EQ(attain::cli::rate(12345), "12.3k");
  EXPECT_EQ(attain::cli::rate(4.56e6), "4.56M");
}

/// A table of `scenarios` groups of attainment cells for 14 targets with long names.
attain::cli::Table attainment_table(int scenarios, std::size_t name_length) {
  attain::cli::Table t;
  t.name_header = "target";
  t.fixed_headers = {"threshold"};
  for (int s = 0; s < scenarios; ++s) t.group_headers.push_back("scenario_" + std::to_string(s));
  for (int r = 0; r < 14; ++r) {
    std::string name = "t" + std::to_string(r) + "_";
    name += std::string(name_length - name.size(), 'x');
    t.names.push_back(name);
    t.fixed.push_back({">= 370000"});
    std::vector<std::string> row;
    for (int s = 0; s < scenarios; ++s)
      row.push_back(percent_interval(0.9995 - 0.1 * s, 0.9991 - 0.1 * s, 0.99973 - 0.1 * s));
    t.cells.push_back(row);
  }
  return t;
}

TEST(CliFormat, TableFitsOneHundredColumnsForAnyNumberOfScenarios) {
  for (int scenarios : {1, 2, 3, 5, 8, 20})
    for (std::size_t name_length : {10u, 26u, 60u, 90u}) {
      SCOPED_TRACE(std::to_string(scenarios) + " scenarios, names of " +
                   std::to_string(name_length));
      const auto t = attainment_table(scenarios, name_length);
      const auto lines = t.render();
      for (const auto& l : lines) EXPECT_LE(display_width(l), 100u) << l;
      // Every cell and every name appears, each scenario's header once.
      std::string all;
      for (const auto& l : lines) all += l + "\n";
      for (const auto& h : t.group_headers) EXPECT_NE(all.find(h), std::string::npos) << h;
      for (const auto& n : t.names) EXPECT_NE(all.find(n), std::string::npos) << n;
      for (const auto& row : t.cells)
        for (const auto& c : row) EXPECT_NE(all.find(c), std::string::npos) << c;
    }
}

TEST(CliFormat, TableWrapsScenariosIntoBlocks) {
  const auto lines = attainment_table(5, 26).render();
  // Names (26) and thresholds (1 + 9) leave 64 columns: the first scenario's cells are 25
  // wide, the others' 19, so two fit beside them, then three in a second block.
  std::vector<std::string> headers;
  for (const auto& l : lines)
    if (l.rfind("target", 0) == 0) headers.push_back(l);
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(lines[0], headers[0]);
  for (const char* s : {"scenario_0", "scenario_1"})
    EXPECT_NE(headers[0].find(s), std::string::npos) << s;
  for (const char* s : {"scenario_2", "scenario_3", "scenario_4"}) {
    EXPECT_EQ(headers[0].find(s), std::string::npos) << s;
    EXPECT_NE(headers[1].find(s), std::string::npos) << s;
  }
}

TEST(CliFormat, TableNameOnItsOwnLineWhenTooWide) {
  const auto t = attainment_table(1, 90);
  const auto lines = t.render();
  // The name alone, then its row indented.
  EXPECT_EQ(lines[3], t.names[0]);
  EXPECT_EQ(lines[4].rfind("   ", 0), 0u) << lines[4];
  EXPECT_NE(lines[4].find(t.cells[0][0]), std::string::npos);
}

}  // namespace
