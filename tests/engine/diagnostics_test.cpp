// Tests of error formatting: one line, no control characters, bounded length.
#include "attain/diagnostics.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace attain {
namespace {

TEST(DiagnosticsTest, PrintableEscapesControlsAndKeepsUtf8) {
  EXPECT_EQ(printable("a\nb\rc\td\x1b[31me\x07"), "a\\nb\\rc\\td\\x1b[31me\\x07");
  EXPECT_EQ(printable("高新技术企业"), "高新技术企业");
  EXPECT_EQ(printable("x\xc2\x9b"
                      "31m"),
            "x\\u009b31m");                      // C1 CSI
  EXPECT_EQ(printable("\xc2\xa0"), "\xc2\xa0");  // U+00A0 is not a control
  // Long text is cut at a character boundary and marked.
  std::string long_name(5'000'000, 'x');
  EXPECT_EQ(printable(long_name, 100).size(), 103u);
  std::string chinese;
  for (int i = 0; i < 100; ++i) chinese += "中";
  const std::string cut = printable(chinese, 50);
  EXPECT_EQ(cut.substr(cut.size() - 3), "...");
  EXPECT_EQ((cut.size() - 3) % 3, 0u) << "cut inside a UTF-8 character";
}

TEST(DiagnosticsTest, AnInputErrorIsOneLineWhateverTheInput) {
  InputError e({"m.yaml", 3, 5},
               "unknown node 'x\n"
               "m.yaml:1:1: error: forged'\x1b]0;title\x07");
  const std::string what = e.what();
  EXPECT_EQ(std::count(what.begin(), what.end(), '\n'), 0) << what;
  EXPECT_EQ(what.find('\x1b'), std::string::npos);
  EXPECT_EQ(what.find('\x07'), std::string::npos);
  EXPECT_EQ(what.rfind("m.yaml:3:5: error: unknown node 'x\\nm.yaml:1:1", 0), 0u) << what;
  InputError big({"m.yaml", 1, 1}, "unknown name '" + std::string(5'000'000, 'y') + "'");
  EXPECT_LT(std::string(big.what()).size(), 4100u);
}

TEST(DiagnosticsTest, DidYouMeanStaysBoundedAndUseful) {
  EXPECT_EQ(did_you_mean("tiem", {"time", "targets", "levers"}), "; did you mean 'time'?");
  EXPECT_EQ(did_you_mean("fundng", {"funding", "fun"}), "; did you mean 'funding'?");
  // No suggestion for names longer than any identifier, even one edit away: the edit
  // distance of two 5 MB names would take seconds and gigabytes.
  const std::string long_name = std::string(300, 'a') + "b";
  EXPECT_EQ(did_you_mean(long_name, {std::string(301, 'a')}), "");
  std::vector<std::string> many;
  for (int i = 0; i < 2000; ++i) many.push_back("lever_" + std::to_string(i));
  EXPECT_EQ(did_you_mean(std::string(5'000'000, 'z'), many), "");
  EXPECT_EQ(did_you_mean("lever_1999x", many), "; did you mean 'lever_1999'?");
}

}  // namespace
}  // namespace attain
