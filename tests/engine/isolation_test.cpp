// Tests of the child process that reads files from elsewhere (attain/isolation.hpp): what it
// returns and throws comes back as such; a crash, a hang, too much memory become one
// InputError; the network, new programs and the parent's files are out of its reach.
#include "attain/isolation.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "attain/errors.hpp"

namespace attain {
namespace {

IsolationLimits small(double seconds = 20) {
  IsolationLimits l;
  l.memory_bytes = 256u << 20;
  l.seconds = seconds;
  l.files = 32;
  return l;
}

/// The message of the InputError `fn` makes isolated() throw ("" when none).
std::string input_error(const std::function<std::string()>& fn, double seconds = 20) {
  try {
    isolated("'f.h5'", small(seconds), fn);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Isolation, ReturnsTheChildsBytes) {
  std::string big(10u << 20, 'x');
  big[12345] = '\0';
  EXPECT_EQ(isolated("'f.h5'", small(), [&] { return big; }), big);
  EXPECT_EQ(isolated("'f.h5'", small(), [] { return std::string(); }), "");
  EXPECT_EQ(isolated_value<int>("'f.h5'", small(), [] { return 42; }), 42);
}

TEST(Isolation, ErrorsComeBackWithTheirTypeAndMessage) {
  try {
    isolated("'f.h5'", small(), []() -> std::string {
      throw InputError({"model.yaml", 3, 4}, "no such node 'x'");
    });
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), InputError({"model.yaml", 3, 4}, "no such node 'x'").what());
    EXPECT_EQ(e.loc().line, 3);
    EXPECT_EQ(e.text(), "no such node 'x'");
    EXPECT_EQ(e.exit_code(), kExitInput);
  }
  EXPECT_THROW(isolated("'f.h5'", small(), []() -> std::string { throw OutputError("full"); }),
               OutputError);
  EXPECT_THROW(isolated("'f.h5'", small(), []() -> std::string { throw RunError("nan", 7); }),
               RunError);
  try {
    isolated("'f.h5'", small(), []() -> std::string { throw std::out_of_range("at 9"); });
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "at 9");
  }
}

TEST(Isolation, ACrashIsOneInputError) {
  const std::string m = input_error([]() -> std::string {
    ::raise(SIGSEGV);
    return "not reached";
  });
  EXPECT_NE(m.find("'f.h5' could not be read safely"), std::string::npos) << m;
  // A sanitizer catches the signal itself, reports and exits.
  if (!sanitized_build()) {
    EXPECT_NE(m.find("signal 11, SIGSEGV"), std::string::npos) << m;
  }
  EXPECT_EQ(m.find('\n'), std::string::npos);
  const std::string a = input_error([]() -> std::string { ::abort(); });
  EXPECT_NE(a.find("could not be read safely"), std::string::npos) << a;
}

TEST(Isolation, AHangIsStoppedInTime) {
  const auto start = std::chrono::steady_clock::now();
  const std::string busy = input_error(
      []() -> std::string {
        for (;;) asm volatile("" ::: "memory");  // busy, never optimised away
      },
      1);
  EXPECT_NE(busy.find("took more than 1 s"), std::string::npos) << busy;
  const std::string asleep = input_error(
      []() -> std::string {
        ::sleep(100);
        return "";
      },
      1);
  EXPECT_NE(asleep.find("took more than 1 s"), std::string::npos) << asleep;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(Isolation, MemoryBeyondTheLimitIsOneInputError) {
  if (sanitized_build()) GTEST_SKIP() << "no address-space limit under a sanitizer";
  const std::string m = input_error([] {
    std::vector<char> v(std::size_t{1} << 30, 1);
    return std::string(v.data(), 1);
  });
  EXPECT_NE(m.find("needs more than the 256 MiB of memory available"), std::string::npos) << m;
}

TEST(Isolation, NoNetworkNoProgramsNoProcesses) {
  const std::string r = isolated("'f.h5'", small(), [] {
    std::string out;
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    out += s < 0 && errno == EACCES ? "i" : "I";
    const int u = ::socket(AF_UNIX, SOCK_STREAM, 0);
    out += u < 0 && errno == EACCES ? "u" : "U";
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    out += ::execv("/bin/true", argv) < 0 && errno == EACCES ? "e" : "E";
    const pid_t p = ::fork();
    if (p == 0) ::_exit(0);
    out += p < 0 && errno == EACCES ? "f" : "F";
    return out;
  });
  EXPECT_EQ(r, "iuef");
}

TEST(Isolation, TheParentsFilesAreClosedInTheChild) {
  // Above the child's own descriptors (0 to 2, and 3 for its message).
  const int opened = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(opened, 0);
  const int fd = ::fcntl(opened, F_DUPFD_CLOEXEC, 50);
  ::close(opened);
  ASSERT_GE(fd, 50);
  const int flags = isolated_value<int>("'f.h5'", small(), [&] { return ::fcntl(fd, F_GETFD); });
  EXPECT_EQ(flags, -1);
  ::close(fd);
}

TEST(Isolation, ACancelStopsTheChild) {
  std::atomic<bool> cancel{true};
  EXPECT_THROW(isolated(
                   "'f.h5'", small(),
                   [] {
                     ::sleep(100);
                     return std::string();
                   },
                   &cancel),
               InterruptedError);
}

}  // namespace
}  // namespace attain
