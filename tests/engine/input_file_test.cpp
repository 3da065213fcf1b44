// Rules for input files: regular files only, bounded size, never a blocking open, and
// line breaks as YAML 1.2 defines them.
#include "attain/input_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "attain/yaml_reader.hpp"

namespace attain {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class InputFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("attain-input-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string error_reading(const std::string& p, std::size_t max = kMaxInputBytes) {
    try {
      read_text_file(p, max);
    } catch (const InputError& e) {
      EXPECT_EQ(e.loc().file, p);
      EXPECT_EQ(e.loc().line, 1);
      return e.text();
    }
    ADD_FAILURE() << "read " << p;
    return {};
  }
  fs::path dir_;
};

TEST_F(InputFileTest, DevicesFifosAndDirectoriesAreRefusedWithoutReading) {
  EXPECT_TRUE(contains(error_reading("/dev/zero"), "this is a character device"));
  EXPECT_TRUE(contains(error_reading("/dev/null"), "this is a character device"));
  EXPECT_TRUE(contains(error_reading(dir_.string()), "this is a directory"));
  // A FIFO with no writer: opening must not block, and it is refused.
  ASSERT_EQ(::mkfifo(path("fifo.yaml").c_str(), 0600), 0);
  EXPECT_TRUE(contains(error_reading(path("fifo.yaml")), "a FIFO (named pipe)"));
  EXPECT_THROW(check_input_file(path("fifo.yaml")), InputError);
  EXPECT_THROW(load_model("/dev/zero"), InputError);
}

TEST_F(InputFileTest, SizeIsBounded) {
  std::ofstream(path("big.yaml")) << "model: m\n" << std::string(5000, '#') << "\n";
  EXPECT_TRUE(contains(error_reading(path("big.yaml"), 4096), "larger than"));
  EXPECT_THROW(check_input_file(path("big.yaml"), 4096), InputError);
  EXPECT_NO_THROW(check_input_file(path("big.yaml"), 8192));
  EXPECT_EQ(read_text_file(path("big.yaml"), 8192).size(), 5010u);
}

TEST_F(InputFileTest, MissingFileSaysSo) {
  EXPECT_TRUE(contains(error_reading(path("none.yaml")), "No such file"));
}

TEST_F(InputFileTest, LineBreaksNormalised) {
  EXPECT_EQ(normalise_line_breaks("a\rb\r\nc\nd\r"), "a\nb\nc\nd\n");
  EXPECT_EQ(normalise_line_breaks("\r\r\n"), "\n\n");
  // Positions in a CR-only file count its lines.
  try {
    check_utf8("a\rb\r\xff", "x.yaml");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.loc().line, 3);
    EXPECT_EQ(e.loc().col, 1);
  }
}

}  // namespace
}  // namespace attain
