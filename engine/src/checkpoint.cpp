// Checkpoints: the rows spool and the lock (the HDF5 state file is in state_file.cpp,
// beside the `state` layout it shares).
#include "attain/checkpoint.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "attain/results_file.hpp"
#include "digest.hpp"

namespace attain {

std::string first_difference(const Fingerprint& saved, const Fingerprint& now) {
  for (std::size_t i = 0; i < now.size(); ++i)
    if (i >= saved.size() || saved[i] != now[i]) return now[i].first;
  return saved.size() > now.size() ? saved[now.size()].first : std::string();
}

namespace {

/// Opens `name` in `folder_fd`, never through a symbolic link; -1 and errno on failure
/// (ELOOP for a link, also where O_EXCL found one).
int open_in(int folder_fd, const std::string& name, int flags) {
  const int fd = ::openat(folder_fd, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, 0600);
  struct stat st {};
  if (fd < 0 && errno == EEXIST &&
      ::fstatat(folder_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
    errno = ELOOP;
  return fd;
}

/// Why `fd` (a plain file's descriptor, or -1 with errno) cannot serve; "" when it can.
std::string not_plain(int fd) {
  if (fd < 0)
    return errno == ELOOP || errno == EMLINK ? "it is a symbolic link"
           : errno == EEXIST                 ? "it exists already, made by another process"
                                             : std::string(std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) return std::strerror(errno);
  return S_ISREG(st.st_mode) ? std::string() : std::string("it is not a plain file");
}

/// `fd` when it is a plain file; else closes it and throws, naming `path` and `what`.
int plain_or_throw(int fd, const std::string& path, const char* what) {
  const std::string why = not_plain(fd);
  if (why.empty()) return fd;
  if (fd >= 0) ::close(fd);
  throw OutputError(
      fmt::format("cannot open {} '{}': {}; the checkpoint folder holds only attain's own files",
                  what, path, why));
}

}  // namespace

CheckpointFolder::CheckpointFolder(std::string path, bool create) : path_(std::move(path)) {
  if (create && ::mkdir(path_.c_str(), 0700) != 0 && errno != EEXIST)
    throw OutputError(
        fmt::format("cannot create the checkpoint folder '{}': {}", path_, std::strerror(errno)));
  fd_ = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  std::string why;
  struct stat st {};
  if (fd_ < 0)
    why = errno == ENOTDIR || errno == ELOOP ? "is not a directory (a symbolic link or a file)"
                                             : std::string(std::strerror(errno));
  else if (::fstat(fd_, &st) != 0)
    why = std::strerror(errno);
  else if (st.st_uid != ::geteuid())
    why = fmt::format("is owned by user {}, not by this user ({})", st.st_uid, ::geteuid());
  else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    why = fmt::format("is writable by others (mode {:o})", st.st_mode & 07777);
  if (why.empty()) return;
  if (fd_ >= 0) ::close(fd_);
  throw OutputError(fmt::format(
      "the checkpoint folder '{}' {}: it must be a directory of this user's that nobody else "
      "can write",
      path_, why));
}

CheckpointFolder::~CheckpointFolder() {
  if (fd_ >= 0) ::close(fd_);
}

void check_checkpoint_file(const CheckpointFolder& folder, const std::string& name) {
  const int fd = open_in(folder.fd(), name, O_RDONLY | O_NONBLOCK);
  if (fd < 0 && errno == ENOENT) return;
  ::close(plain_or_throw(fd, folder.path() + "/" + name, "the checkpoint file"));
}

RowSpool::RowSpool(int folder_fd, const std::string& name, std::string path, std::uint64_t keep,
                   bool fresh, const std::array<std::uint64_t, 3>& widths)
    : path_(std::move(path)), digest_(std::make_unique<RowDigest>(widths)) {
  const int fd =
      plain_or_throw(open_in(folder_fd, name, O_RDWR | O_NONBLOCK | O_CREAT | (fresh ? O_EXCL : 0)),
                     path_, "the rows spool");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) < keep ||
      ::ftruncate(fd, static_cast<off_t>(keep)) != 0 ||
      ::lseek(fd, static_cast<off_t>(keep), SEEK_SET) < 0) {
    ::close(fd);
    throw OutputError(fmt::format(
        "the rows spool '{}' is shorter than its checkpoint says ({} bytes) or cannot be cut",
        path_, keep));
  }
  file_ = ::fdopen(fd, "r+b");
  if (!file_) {
    ::close(fd);
    throw OutputError(fmt::format("cannot open the rows spool '{}'", path_));
  }
  bytes_ = keep;
}

RowSpool::~RowSpool() {
  if (file_) std::fclose(file_);
}

std::uint64_t RowSpool::digest() const {
  return digest_->value();
}

void RowSpool::count(const ChunkData& chunk) {
  digest_->add(chunk);
}

void RowSpool::write(const ChunkData& c) {
  const std::array<std::uint64_t, 5> head{c.first_run, static_cast<std::uint64_t>(c.count),
                                          c.target_values.size(), c.parameters.size(),
                                          c.full.size()};
  bool ok = std::fwrite(head.data(), sizeof(std::uint64_t), head.size(), file_) == head.size();
  for (const auto* v : {&c.target_values, &c.parameters, &c.full})
    ok =
        ok && (v->empty() || std::fwrite(v->data(), sizeof(double), v->size(), file_) == v->size());
  if (!ok) {
    const int error = errno;
    throw OutputError(fmt::format(
        "cannot write the rows spool '{}' of the checkpoint: {}", path_,
        error == ENOSPC ? "no space left on the device" : std::string(std::strerror(error))));
  }
  digest_->add(c);
  bytes_ += sizeof(std::uint64_t) * head.size() +
            sizeof(double) * (c.target_values.size() + c.parameters.size() + c.full.size());
}

void RowSpool::sync() {
  if (std::fflush(file_) != 0 || ::fdatasync(::fileno(file_)) != 0)
    throw OutputError(
        fmt::format("cannot sync the rows spool '{}': {}", path_, std::strerror(errno)));
}

void RowSpool::replay(int folder_fd, const std::string& name, const std::string& path,
                      std::uint64_t bytes, ChunkSink& sink) {
  if (bytes == 0) return;
  std::FILE* f = ::fdopen(
      plain_or_throw(open_in(folder_fd, name, O_RDONLY | O_NONBLOCK), path, "the rows spool"),
      "rb");
  if (!f) throw OutputError(fmt::format("cannot read the rows spool '{}'", path));
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> closer(f, std::fclose);
  std::uint64_t at = 0;
  ChunkData c;
  while (at < bytes) {
    std::array<std::uint64_t, 5> head{};
    const std::uint64_t limit = bytes - at;
    if (limit < sizeof head || std::fread(head.data(), sizeof(std::uint64_t), 5, f) != 5)
      throw OutputError(fmt::format("the rows spool '{}' ends inside a record", path));
    const std::uint64_t doubles = head[2] + head[3] + head[4];
    if (head[1] > (std::uint64_t{1} << 31) || doubles > (limit - sizeof head) / sizeof(double))
      throw OutputError(
          fmt::format("the rows spool '{}' has a damaged record at byte {}", path, at));
    c.first_run = head[0];
    c.count = static_cast<int>(head[1]);
    c.target_values.resize(head[2]);
    c.parameters.resize(head[3]);
    c.full.resize(head[4]);
    for (auto* v : {&c.target_values, &c.parameters, &c.full})
      if (!v->empty() && std::fread(v->data(), sizeof(double), v->size(), f) != v->size())
        throw OutputError(fmt::format("cannot read the rows spool '{}'", path));
    sink.write(c);
    at += sizeof head + doubles * sizeof(double);
  }
}

void RowSpool::check(int folder_fd, const std::string& name, const std::string& path,
                     std::uint64_t bytes, std::uint64_t first_run, std::uint64_t last_run,
                     const std::array<std::uint64_t, 3>& widths) {
  const int fd = bytes == 0 ? -1
                            : plain_or_throw(open_in(folder_fd, name, O_RDONLY | O_NONBLOCK), path,
                                             "the rows spool");
  struct Closer {
    int fd;
    ~Closer() {
      if (fd >= 0) ::close(fd);
    }
  } closer{fd};
  struct stat st {};
  if (fd >= 0 && (::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) < bytes))
    throw OutputError(fmt::format("the rows spool '{}' holds {} bytes; its checkpoint says {}",
                                  path, st.st_size, bytes));
  std::uint64_t at = 0, run = first_run;
  while (at < bytes) {
    std::array<std::uint64_t, 5> head{};
    const bool whole = bytes - at >= sizeof head &&
                       ::pread(fd, head.data(), sizeof head, static_cast<off_t>(at)) ==
                           static_cast<ssize_t>(sizeof head);
    bool fits = whole && head[0] == run && head[1] > 0 && head[1] <= last_run - run;
    for (std::size_t k = 0; fits && k < 3; ++k) fits = head[2 + k] == head[1] * widths[k];
    const std::uint64_t size =
        fits ? sizeof head + (head[2] + head[3] + head[4]) * sizeof(double) : 0;
    if (!fits || size > bytes - at)
      throw OutputError(fmt::format(
          "the rows spool '{}' does not fit its checkpoint: the record at byte {} is not "
          "runs from {} of {} + {} + {} values each, within the checkpoint's {} bytes",
          path, at, run, widths[0], widths[1], widths[2], bytes));
    at += size;
    run += head[1];
  }
  if (run != last_run)
    throw OutputError(fmt::format(
        "the rows spool '{}' holds rows of runs [{}, {}) in the checkpoint's {} bytes, but the "
        "checkpoint's state covers [{}, {})",
        path, first_run, run, bytes, first_run, last_run));
}

CheckpointLock::CheckpointLock(const std::string& folder) : folder_(folder, true) {
  const int fd = plain_or_throw(open_in(folder_.fd(), "lock", O_RDWR | O_CREAT | O_NONBLOCK),
                                folder + "/lock", "the checkpoint's lock");
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return;
  }
  fd_ = fd;
}

CheckpointLock::~CheckpointLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace attain
