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
#include <filesystem>

#include "attain/results_file.hpp"

namespace attain {

std::string first_difference(const Fingerprint& saved, const Fingerprint& now) {
  for (std::size_t i = 0; i < now.size(); ++i)
    if (i >= saved.size() || saved[i] != now[i]) return now[i].first;
  return saved.size() > now.size() ? saved[now.size()].first : std::string();
}

RowSpool::RowSpool(std::string path, std::uint64_t keep) : path_(std::move(path)) {
  const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    throw OutputError(
        fmt::format("cannot open the rows spool '{}': {}", path_, std::strerror(errno)));
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
  bytes_ += sizeof(std::uint64_t) * head.size() +
            sizeof(double) * (c.target_values.size() + c.parameters.size() + c.full.size());
}

void RowSpool::sync() {
  if (std::fflush(file_) != 0 || ::fdatasync(::fileno(file_)) != 0)
    throw OutputError(
        fmt::format("cannot sync the rows spool '{}': {}", path_, std::strerror(errno)));
}

void RowSpool::replay(const std::string& path, std::uint64_t bytes, ChunkSink& sink) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f && bytes == 0) return;
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

CheckpointLock::CheckpointLock(const std::string& folder) {
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  const std::string lock = folder + "/lock";
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
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
