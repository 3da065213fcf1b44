// The jobs on results files: merge, export and report, and the one atomic writer of text
// outputs (attain/job.hpp).
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <ostream>
#include <random>
#include <sstream>
#include <streambuf>

#include "attain/isolation.hpp"
#include "attain/job.hpp"
#include "attain/program.hpp"
#include "attain/report.hpp"
#include "attain/study.hpp"
#include "attain/yaml_reader.hpp"
#include "job_common.hpp"

namespace attain {

namespace {

/// An output stream buffer over a file descriptor that reports write errors (a full
/// disk, a closed pipe) through the stream's state.
class FdBuf : public std::streambuf {
 public:
  explicit FdBuf(int fd) : fd_(fd) { setp(buf_, buf_ + sizeof buf_); }
  ~FdBuf() override { drain(); }
  int error() const { return errno_; }

 protected:
  int overflow(int c) override {
    if (!drain()) return traits_type::eof();
    if (c != traits_type::eof()) {
      *pptr() = static_cast<char>(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool drain() {
    const char* p = pbase();
    while (p < pptr() && errno_ == 0) {
      const ssize_t n = ::write(fd_, p, static_cast<std::size_t>(pptr() - p));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        errno_ = n < 0 ? errno : EIO;
      else
        p += n;
    }
    setp(buf_, buf_ + sizeof buf_);
    return errno_ == 0;
  }
  int fd_;
  int errno_ = 0;
  char buf_[1 << 16];
};

/// Writes `write` to descriptor `fd`; the error number of a failed write, else 0.
int write_fd(int fd, const std::function<void(std::ostream&)>& write) {
  FdBuf buf(fd);
  std::ostream os(&buf);
  write(os);
  os.flush();
  return buf.error() ? buf.error() : os ? 0 : EIO;
}

/// The temporary beside `path`, removed (and the front end told) unless released.
struct Temporary {
  std::string path;
  const JobHooks& hooks;
  int fd = -1;
  ~Temporary() {
    if (fd >= 0) ::close(fd);
    if (!path.empty()) {
      ::unlink(path.c_str());
      if (hooks.temporary) hooks.temporary("");
    }
  }
};

}  // namespace

void write_atomically(const std::string& path, const std::function<void(std::ostream&)>& write,
                      const JobHooks& hooks) {
  if (path.empty()) {
    std::cout.flush();
    if (const int error = write_fd(1, write))
      throw OutputError(fmt::format("cannot write to standard output: {}", std::strerror(error)));
    return;
  }
  // Temporaries of this output that a killed export (kill -9) left, as for results files.
  remove_stale_outputs(path, hooks);
  std::random_device rd;
  Temporary tmp{fmt::format("{}.tmp-{}-{:08x}{:08x}", path, ::getpid(), std::uint32_t{rd()},
                            std::uint32_t{rd()}),
                hooks};
  const std::string shown = printable(path, 300);
  if (hooks.temporary) hooks.temporary(tmp.path);
  // O_EXCL refuses a planted link already (POSIX); O_NOFOLLOW says so where it is read.
  tmp.fd = ::open(tmp.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (tmp.fd < 0) {
    const int e = errno;
    tmp.path.clear();
    if (hooks.temporary) hooks.temporary("");
    bad_arg(fmt::format("--out '{}': cannot create a file there: {}", shown, std::strerror(e)));
  }
  auto fail_with = [&](int e) {
    throw OutputError(fmt::format("--out '{}': cannot write it: {}", shown, std::strerror(e)));
  };
  if (const int e = write_fd(tmp.fd, write)) fail_with(e);
  if (::fsync(tmp.fd) != 0) fail_with(errno);
  const int fd = tmp.fd;
  tmp.fd = -1;
  if (::close(fd) != 0) fail_with(errno);
  if (std::rename(tmp.path.c_str(), path.c_str()) != 0)
    throw OutputError(fmt::format("--out '{}': cannot rename the temporary file to it: {}", shown,
                                  std::strerror(errno)));
  tmp.path.clear();
  if (hooks.temporary) hooks.temporary("");
}

void export_job(const ExportJob& e, const JobHooks& hooks) {
  if (e.format != "csv" && e.format != "json")
    bad_arg(fmt::format("unknown --format '{}'; valid: 'csv' or 'json'", printable(e.format, 100)));
  std::optional<ExportPart> part;
  if (!e.what.empty()) {
    part = part_of(e.what);
    if (!part) {
      std::vector<std::string> names;
      for (auto p : all_parts()) names.emplace_back(part_name(p));
      bad_arg(fmt::format("unknown --what '{}'{}; valid: {}", printable(e.what, 100),
                          did_you_mean(e.what, names), one_of(names)));
    }
  }
  if (e.bom && e.format != "csv")
    bad_arg("--bom applies to --format csv (a JSON document has no byte order mark)");
  if (e.out.empty() && e.out_given) bad_arg("--out needs a file name (got an empty one)");
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!e.out.empty()) {
    if (fs::is_directory(e.out, ec))
      bad_arg(fmt::format("--out '{}' is a directory; name a file, e.g. '{}/results.{}'",
                          printable(e.out, 300), printable(e.out, 300), e.format));
    if (fs::equivalent(e.out, e.file, ec))
      bad_arg(fmt::format("--out '{}' is the results file read; the export would replace it",
                          printable(e.out, 300)));
  }
  // The file may come from elsewhere: read and rendered in a child process (isolation.hpp),
  // which passes back the text; written here, whole or not at all.
  const std::string text = isolated(quoted(e.file), reading_limits({e.file}), [&] {
    const StoredResults results = read_results(e.file);
    if (!part) part = default_part(results);
    require_part(results, *part);  // names what the file has instead
    std::vector<StoredRuns> runs;
    if (*part == ExportPart::kRuns)
      for (const auto& s : results.scenarios) runs.push_back(read_runs(e.file, s.name));
    if (e.format == "json") return document_text(json_document(results, *part, runs));
    std::ostringstream os;
    if (e.bom) os << kUtf8Bom;
    write_csv(os, results, *part, runs);
    return std::move(os).str();
  });
  write_atomically(
      e.out, [&](std::ostream& os) { os << text; }, hooks);
}

void report_job(const std::string& results_path, const std::string& out, const JobHooks& hooks) {
  namespace fs = std::filesystem;
  if (out.empty()) bad_arg("--out needs a file name, e.g. --out report.html");
  std::error_code ec;
  if (fs::is_directory(out, ec))
    bad_arg(fmt::format("--out '{}' is a directory; name a file, e.g. '{}/report.html'",
                        printable(out, 300), printable(out, 300)));
  if (fs::equivalent(out, results_path, ec))
    bad_arg(fmt::format("--out '{}' is the results file; the report would replace it",
                        printable(out, 300)));
  // Read and rendered in a child process, as an export (isolation.hpp).
  const std::string html = isolated(quoted(results_path), reading_limits({results_path}),
                                    [&] { return render_report(read_results(results_path)); });
  write_atomically(
      out, [&](std::ostream& os) { os << html; }, hooks);
}

}  // namespace attain
