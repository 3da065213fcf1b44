// Temporary results files (`<output>.tmp-<pid>-<random>`) that killed runs left behind.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <string_view>
#include <system_error>

#include "attain/results_file.hpp"

namespace attain {
namespace {

/// The pid in a temporary's name `<prefix><pid>-<16 lowercase hex digits>`, or 0 when
/// `name` is not one.
int temporary_pid(std::string_view name, std::string_view prefix) {
  if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) return 0;
  const std::string_view rest = name.substr(prefix.size());
  const auto dash = rest.find('-');
  if (dash == std::string_view::npos) return 0;
  const std::string_view digits = rest.substr(0, dash), hex = rest.substr(dash + 1);
  if (digits.empty() || digits.front() == '0' || hex.size() != 16 ||
      !std::all_of(hex.begin(), hex.end(),
                   [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
    return 0;
  int pid = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
  if (ec != std::errc() || end != digits.data() + digits.size() || pid <= 0) return 0;
  return pid;
}

}  // namespace

std::vector<StaleTemporary> remove_stale_temporaries(const std::string& output) {
  namespace fs = std::filesystem;
  std::vector<StaleTemporary> found;
  const fs::path out(output);
  const std::string prefix = out.filename().string() + ".tmp-";
  const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path path = out.parent_path() / it->path().filename();  // as the user named it
    const int pid = temporary_pid(path.filename().string(), prefix);
    std::error_code type_ec;
    if (pid == 0 || !fs::is_regular_file(fs::symlink_status(path, type_ec))) continue;
    // A live process (or one we may not signal) still owns it.
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;
    // HDF5 holds a lock on a file while it is open: a writer whose pid we cannot see
    // (another PID namespace sharing the folder) keeps its file too.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) continue;  // gone meanwhile
    StaleTemporary t{path.string(), pid, false, {}};
    if (fd < 0) {
      t.error = std::generic_category().message(errno);
    } else if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      continue;
    } else {
      std::error_code rm_ec;
      t.removed = fs::remove(path, rm_ec);
      if (rm_ec) t.error = rm_ec.message();
      ::close(fd);
      if (!t.removed && !rm_ec) continue;  // removed by someone else meanwhile
    }
    found.push_back(std::move(t));
  }
  std::sort(found.begin(), found.end(),
            [](const StaleTemporary& a, const StaleTemporary& b) { return a.path < b.path; });
  return found;
}

}  // namespace attain
