// Rules for input files: regular files of bounded size, UTF-8 text, confined `extends`.
#include "attain/input_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

namespace attain {
namespace {

/// What a file that is not a regular file is, for the message.
std::string_view file_type(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

[[noreturn]] void not_regular(const std::string& path, mode_t mode) {
  fail({path, 1, 1}, fmt::format("this is {}; attain reads models and scenarios only from "
                                 "regular files",
                                 file_type(mode)));
}

[[noreturn]] void too_big(const std::string& path, std::size_t max_bytes) {
  fail({path, 1, 1}, fmt::format("the file is larger than {} MiB, the most attain reads as a "
                                 "model or scenario; split it or check that it is the right file",
                                 max_bytes >> 20));
}

/// An open file descriptor, closed on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string real_path(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> p(::realpath(path.c_str(), nullptr), &std::free);
  return p ? std::string(p.get()) : std::string();
}

bool inside(const std::string& file, const std::string& root) {
  if (root.empty()) return false;
  if (root == "/") return true;
  return file.size() > root.size() && file.compare(0, root.size(), root) == 0 &&
         file[root.size()] == '/';
}

/// The bytes of the line break at `i` in `text`: 2 for CR-LF and LF-CR (one break, as
/// written by Windows and by RISC OS, so lines are numbered as an editor shows them), 1
/// for a lone LF or CR, 0 for no break. Every count of lines (check_utf8,
/// normalise_line_breaks and so the YAML parser) uses it.
std::size_t line_break(std::string_view text, std::size_t i) {
  const char c = text[i];
  if (c != '\n' && c != '\r') return 0;
  const char pair = c == '\n' ? '\r' : '\n';
  return i + 1 < text.size() && text[i + 1] == pair ? 2 : 1;
}

}  // namespace

void check_input_file(const std::string& path, std::size_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    fail({path, 1, 1}, fmt::format("cannot open file: {}", std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) not_regular(path, st.st_mode);
  if (static_cast<std::size_t>(st.st_size) > max_bytes) too_big(path, max_bytes);
}

std::string read_text_file(const std::string& path, std::size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; the type is checked on the
  // open descriptor, so the file cannot be swapped between the check and the read.
  Fd f{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
  if (f.fd < 0) {
    if (errno == EISDIR) not_regular(path, S_IFDIR);
    fail({path, 1, 1}, fmt::format("cannot open file: {}", std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0)
    fail({path, 1, 1}, fmt::format("cannot read file: {}", std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) not_regular(path, st.st_mode);
  if (static_cast<std::size_t>(st.st_size) > max_bytes) too_big(path, max_bytes);
  std::string text;
  text.resize(static_cast<std::size_t>(st.st_size) + 1);
  std::size_t got = 0;
  for (;;) {
    if (got == text.size()) {
      if (text.size() > max_bytes) too_big(path, max_bytes);
      text.resize(std::min(max_bytes + 1, text.size() * 2));
    }
    ssize_t n = ::read(f.fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail({path, 1, 1}, fmt::format("cannot read file: {}", std::strerror(errno)));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > max_bytes) too_big(path, max_bytes);
  text.resize(got);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    fail({path, 1, 1}, "the file is empty; a model needs 'model', 'description', 'time' and nodes");
  check_utf8(text, path);
  return text;
}

void check_utf8(std::string_view text, const std::string& path) {
  int line = 1, col = 1;
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = byte(i);
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
    if (c >= 0x01 && c <= 0x7f)
      len = 1;
    else if (c >= 0xc2 && c <= 0xdf)
      len = 2;
    else if (c >= 0xe0 && c <= 0xef)
      len = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    else if (c >= 0xf0 && c <= 0xf4)
      len = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    bool ok = len > 0 && i + len <= text.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      unsigned char b = byte(i + k);
      ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xbf);
    }
    if (!ok)
      fail({path, line, col}, fmt::format("this is not a UTF-8 text file (byte 0x{:02x}); a model "
                                          "or scenario is YAML text",
                                          c));
    if (const std::size_t brk = line_break(text, i)) {
      ++line, col = 1;
      i += brk;
      continue;
    }
    i += len;
    ++col;
  }
}

std::string normalise_line_breaks(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t brk = line_break(text, i);
    out.push_back(brk ? '\n' : text[i]);
    i += brk ? brk : 1;
  }
  return out;
}

std::string extends_path(const std::string& from, const std::string& rel) {
  namespace fs = std::filesystem;
  const fs::path p(rel);
  return p.is_absolute() ? p.lexically_normal().string()
                         : (fs::path(from).parent_path() / p).lexically_normal().string();
}

std::string resolve_extends(const std::string& from, const std::string& rel,
                            const IncludeRules& rules, const SourceLoc& at) {
  namespace fs = std::filesystem;
  const fs::path p(rel);
  if (rel.empty()) fail(at, "'extends' is empty; name a scenario file, such as 'plan.yaml'");
  const std::string ext = p.extension().string();
  if (ext != ".yaml" && ext != ".yml")
    fail(at, fmt::format("'extends' must name a scenario file ending in '.yaml' or '.yml' (got "
                         "'{}')",
                         rel));
  const std::string joined = extends_path(from, rel);
  const std::string real = real_path(joined.empty() ? std::string(".") : joined);
  if (real.empty())
    fail(at, fmt::format("cannot read the extended scenario '{}': {}", rel, std::strerror(errno)));
  for (const auto& root : rules.roots)
    if (inside(real, real_path(root.empty() ? std::string(".") : root))) return joined;
  fail(at, fmt::format("'extends' leads outside the folder of the scenario given on the command "
                       "line ('{}'); a scenario may extend only files in that folder tree, or "
                       "under a folder named with --scenario-dir",
                       rel));
}

}  // namespace attain
