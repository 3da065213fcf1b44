// Reading files from elsewhere in a child process (attain/isolation.hpp): fork, limits and a
// seccomp filter (Debian's libseccomp) in the child, its result or error through a pipe.
#include "attain/isolation.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <new>

#include "attain/diagnostics.hpp"
#include "attain/errors.hpp"
#include "attain/study.hpp"

namespace attain {

bool sanitized_build() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

std::string quoted(const std::string& path) {
  return fmt::format("'{}'", printable(path, 300));
}

IsolationLimits reading_limits(const std::vector<std::string>& paths) {
  std::uint64_t bytes = 0;
  for (const auto& p : paths) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(p, ec);
    if (!ec) bytes += size;
  }
  IsolationLimits l;
  l.memory_bytes = available_memory();
  l.seconds = 60.0 + static_cast<double>(bytes) / (1 << 20);
  l.files = 256;
  return l;
}

namespace {

// ---------------------------------------------------------------------------------------
// The child's message: 'R' and the result's bytes, or 'E', the error's kind and fields.

enum class Kind : char {
  kInput = 'I',
  kOutput = 'O',
  kMemoryLimit = 'M',
  kRun = 'R',
  kInterrupted = 'C',
  kError = 'E',  ///< any other attain::Error: SharedError keeps its line and exit code
  kBadAlloc = 'A',
  kOther = 'X',  ///< another std::exception: std::runtime_error with its message
};

void put(std::string& out, const std::string& s) {
  const auto n = static_cast<std::uint32_t>(s.size());
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
  out += s;
}
void put(std::string& out, std::uint64_t v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

/// Reads what put() wrote; a short message (a child that died while writing) is an error.
struct Reader {
  const std::string& in;
  std::size_t at = 1;
  bool ok = true;
  std::uint64_t u64() {
    std::uint64_t v = 0;
    if (in.size() - at < sizeof v) return ok = false, 0;
    std::memcpy(&v, in.data() + at, sizeof v);
    at += sizeof v;
    return v;
  }
  std::string str() {
    std::uint32_t n = 0;
    if (in.size() - at < sizeof n) return ok = false, std::string();
    std::memcpy(&n, in.data() + at, sizeof n);
    at += sizeof n;
    if (in.size() - at < n) return ok = false, std::string();
    at += n;
    return in.substr(at - n, n);
  }
};

/// The message of the exception being handled (called in a catch block).
std::string error_message() {
  std::string m(1, 'E');
  auto with = [&](Kind k, const std::exception& e, const std::string& user, std::uint64_t code) {
    m += static_cast<char>(k);
    put(m, std::string(e.what()));
    put(m, user);
    put(m, code);
  };
  try {
    throw;
  } catch (const InputError& e) {
    with(Kind::kInput, e, e.text(), 0);
    put(m, e.loc().file);
    put(m, static_cast<std::uint64_t>(e.loc().line));
    put(m, static_cast<std::uint64_t>(e.loc().col));
  } catch (const OutputError& e) {
    with(Kind::kOutput, e, "", 0);
  } catch (const MemoryLimitError& e) {
    with(Kind::kMemoryLimit, e, "", 0);
  } catch (const RunError& e) {
    with(Kind::kRun, e, "", e.run());
  } catch (const InterruptedError& e) {
    with(Kind::kInterrupted, e, "", 0);
  } catch (const Error& e) {
    with(Kind::kError, e, e.user_message(), static_cast<std::uint64_t>(e.exit_code()));
  } catch (const std::bad_alloc& e) {
    with(Kind::kBadAlloc, e, "", 0);
  } catch (const std::exception& e) {
    with(Kind::kOther, e, "", 0);
  } catch (...) {
    with(Kind::kOther, std::runtime_error("an exception of an unknown type"), "", 0);
  }
  return m;
}

/// Throws the error the child reported; false when its message is malformed.
bool rethrow(const std::string& message) {
  Reader r{message};
  const char kind = message.size() > 1 ? message[1] : 0;
  r.at = 2;
  const std::string what = r.str(), user = r.str();
  const std::uint64_t code = r.u64();
  if (!r.ok) return false;
  switch (static_cast<Kind>(kind)) {
    case Kind::kInput: {
      SourceLoc loc;
      loc.file = r.str();
      loc.line = static_cast<int>(r.u64());
      loc.col = static_cast<int>(r.u64());
      if (!r.ok) return false;
      throw InputError(loc, user);
    }
    case Kind::kOutput:
      throw OutputError(what);
    case Kind::kMemoryLimit:
      throw MemoryLimitError(what);
    case Kind::kRun:
      throw RunError(what, code);
    case Kind::kInterrupted:
      throw InterruptedError();
    case Kind::kError:
      throw SharedError(user, static_cast<int>(code));
    case Kind::kBadAlloc:
      throw std::bad_alloc();
    case Kind::kOther:
      throw std::runtime_error(what);
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// The child.

bool write_all(int fd, const std::string& bytes) {
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

/// No network, no new programs or processes, no tracing: each such call fails with EACCES
/// (ENOSYS for clone3, so that glibc falls back to clone, whose flags a filter can see).
bool install_filter() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) return false;
  const int denied[] = {SCMP_SYS(socket),
                        SCMP_SYS(socketpair),
                        SCMP_SYS(connect),
                        SCMP_SYS(bind),
                        SCMP_SYS(listen),
                        SCMP_SYS(accept),
                        SCMP_SYS(accept4),
                        SCMP_SYS(sendto),
                        SCMP_SYS(sendmsg),
                        SCMP_SYS(sendmmsg),
                        SCMP_SYS(execve),
                        SCMP_SYS(execveat),
                        SCMP_SYS(fork),
                        SCMP_SYS(vfork),
                        SCMP_SYS(ptrace),
                        SCMP_SYS(process_vm_readv),
                        SCMP_SYS(process_vm_writev),
                        SCMP_SYS(bpf),
                        SCMP_SYS(perf_event_open),
                        SCMP_SYS(io_uring_setup),
                        SCMP_SYS(unshare),
                        SCMP_SYS(setns),
                        SCMP_SYS(mount),
                        SCMP_SYS(keyctl),
                        SCMP_SYS(add_key),
                        SCMP_SYS(request_key)};
  bool ok = true;
  for (int sc : denied) ok = ok && seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), sc, 0) == 0;
  ok = ok && seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) == 0;
  // clone without CLONE_THREAD makes a process; threads (CLONE_THREAD) stay allowed.
  ok = ok && seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0)) == 0;
  ok = ok && seccomp_load(ctx) == 0;
  seccomp_release(ctx);
  return ok;
}

/// The child's confinement; false (and the child ends) when a part cannot be set.
bool confine(pid_t parent, const int pipes[2], const IsolationLimits& limits,
             std::uint64_t address) {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) return false;
  // Standard error into the parent's pipe, the message pipe as descriptor 3; nothing else
  // the parent had open stays open (its output files, its HDF5 files).
  if (::dup2(pipes[1], 2) != 2 || ::dup2(pipes[0], 3) != 3) return false;
  ::syscall(SYS_close_range, 4u, ~0u, 0u);
  auto limit = [](int resource, rlim_t soft, rlim_t hard) {
    const rlimit r{soft, hard};
    return ::setrlimit(resource, &r) == 0;
  };
  bool ok = limit(RLIMIT_CORE, 0, 0);
  if (limits.files > 0) ok = ok && limit(RLIMIT_NOFILE, limits.files, limits.files);
  if (limits.seconds > 0) {
    const auto cpu = static_cast<rlim_t>(std::ceil(limits.seconds));
    ok = ok && limit(RLIMIT_CPU, cpu, cpu + 1);
  }
  if (limits.memory_bytes > 0 && !sanitized_build())
    ok = ok && limit(RLIMIT_AS, address + limits.memory_bytes, address + limits.memory_bytes);
  return ok && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && install_filter();
}

/// `pipes`: the write ends of the message pipe and of standard error's.
[[noreturn]] void child(pid_t parent, const int pipes[2], const IsolationLimits& limits,
                        std::uint64_t address, const std::function<std::string()>& fn) {
  if (!confine(parent, pipes, limits, address)) ::_exit(120);
  std::string message;
  bool result = true;
  try {
    message = fn();
  } catch (...) {
    result = false;
    message = error_message();  // starts with 'E'
  }
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  ::_exit((!result || write_all(3, "R")) && write_all(3, message) ? 0 : 121);
}

// ---------------------------------------------------------------------------------------
// The parent.

/// The parent's address space now (VmSize), the base the child's RLIMIT_AS adds to.
std::uint64_t address_space() {
  std::ifstream in("/proc/self/statm");
  std::uint64_t pages = 0;
  in >> pages;
  return pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

enum class Ending { kDone, kTimeout, kCancelled };

/// What came from the child: its message and its standard error (kept to 1 MiB).
struct Received {
  std::string message, errors;
};

/// Reads the child's message and standard error until it closes both pipes, the time is
/// up or `cancel` is set. `fds`: the read ends of the message and standard error pipes.
Ending receive(const int fds[2], double seconds, const std::atomic<bool>* cancel, Received& got) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::duration<double>(seconds);
  std::string* into[2] = {&got.message, &got.errors};
  pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
  std::string buf(1 << 20, '\0');
  while (p[0].fd >= 0 || p[1].fd >= 0) {
    if (cancel && cancel->load()) return Ending::kCancelled;
    int wait_ms = 100;
    if (seconds > 0) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
      if (left <= 0) return Ending::kTimeout;
      wait_ms = static_cast<int>(std::min<long long>(left, wait_ms));
    }
    const int r = ::poll(p, 2, wait_ms);
    if (r < 0 && errno != EINTR) return Ending::kDone;
    for (int i = 0; r > 0 && i < 2; ++i) {
      if (p[i].fd < 0 || p[i].revents == 0) continue;
      const ssize_t n = ::read(p[i].fd, buf.data(), buf.size());
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0)
        p[i].fd = -1;  // closed: the child ended (or closed it)
      else if (i == 0 || into[i]->size() < (1u << 20))
        into[i]->append(buf.data(), static_cast<std::size_t>(n));
    }
  }
  return Ending::kDone;
}

/// Why a child that left no complete message ended, for the user.
std::string cause(int status, const IsolationLimits& limits) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    const std::string what = fmt::format("signal {}, SIG{}", sig, name ? name : "?");
    if (sig == SIGXCPU || sig == SIGKILL)
      return fmt::format(
          "reading it was stopped ({}) after {:.0f} s of processor time or by the "
          "memory limit",
          what, limits.seconds);
    return fmt::format("reading it crashed the HDF5 library or attain's reader ({})", what);
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 120) return "the reading process could not be confined (limits, seccomp filter)";
  // A sanitizer ends a process whose memory use it caught with its exit code (1), not a signal.
  if (sanitized_build() && code != 0)
    return fmt::format(
        "reading it crashed the HDF5 library or attain's reader (a sanitizer's report, status {})",
        code);
  return fmt::format("the reading process ended with status {} without a result", code);
}

[[noreturn]] void fail_to_start(const std::string& what) {
  throw OutputError(
      fmt::format("cannot start a process to read {}: {}", what, std::strerror(errno)));
}

[[noreturn]] void unsafe(const std::string& what, const std::string& why) {
  throw InputError({}, fmt::format("{} could not be read safely: {}; the file is damaged or "
                                   "not one attain wrote",
                                   what, why));
}

}  // namespace

std::string isolated(const std::string& what, const IsolationLimits& limits,
                     const std::function<std::string()>& fn, const std::atomic<bool>* cancel) {
  const std::uint64_t address = limits.memory_bytes > 0 ? address_space() : 0;
  int message[2], errors[2];
  if (::pipe2(message, O_CLOEXEC) != 0) fail_to_start(what);
  if (::pipe2(errors, O_CLOEXEC) != 0) {
    ::close(message[0]), ::close(message[1]);
    fail_to_start(what);
  }
  ::fcntl(message[0], F_SETPIPE_SZ, 1 << 20);  // fewer turns for a large result (best effort)
  std::cout.flush();
  std::fflush(nullptr);  // nothing buffered is written twice
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int ends[2] = {message[1], errors[1]};
    child(parent, ends, limits, address, fn);
  }
  ::close(message[1]), ::close(errors[1]);
  const int ends[2] = {message[0], errors[0]};
  Received got;
  const Ending ending = pid < 0 ? Ending::kDone : receive(ends, limits.seconds, cancel, got);
  ::close(message[0]), ::close(errors[0]);
  if (pid < 0) fail_to_start(what);
  if (ending != Ending::kDone) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const bool exited_well = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  // What the child printed: shown when it ended well; after a crash, only in a sanitizer
  // build (a report from the sanitizer), else the one line below says what happened.
  if (!got.errors.empty() && (exited_well || sanitized_build()))
    std::fwrite(got.errors.data(), 1, got.errors.size(), stderr);
  if (ending == Ending::kCancelled) throw InterruptedError();
  if (ending == Ending::kTimeout)
    unsafe(what, fmt::format("reading it took more than {:.0f} s", limits.seconds));
  std::string& m = got.message;
  if (exited_well && !m.empty() && m[0] == 'R') return std::move(m.erase(0, 1));
  if (exited_well && m.size() > 1 && m[0] == 'E' && m[1] == static_cast<char>(Kind::kBadAlloc))
    unsafe(what, fmt::format("reading it needs more than the {} MiB of memory available",
                             limits.memory_bytes >> 20));
  if (exited_well && !m.empty() && m[0] == 'E' && !rethrow(m))
    throw std::logic_error("isolated: a malformed error message from the child");
  unsafe(what, cause(status, limits));
}

void isolated_read(const std::string& path, const std::function<void()>& read) {
  isolated(quoted(path), reading_limits({path}), [&] {
    read();
    return std::string();
  });
}

}  // namespace attain
