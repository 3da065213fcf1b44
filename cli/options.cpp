// What the verbs share: option texts parsed into values, the ensemble options, and the
// hooks a job gets from this terminal and process (cli/verbs.hpp).
#include <fmt/format.h>
#include <tbb/global_control.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <memory>

#include "format.hpp"
#include "processes.hpp"
#include "verbs.hpp"

namespace attain::cli {

namespace {

/// Set by SIGINT, SIGTERM, SIGHUP and SIGQUIT: the job stops at its next block. The
/// process's own state, which the command line (not the engine) owns.
std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) {
  g_interrupted.store(true);
}

/// The temporary file of a text output while it is written: a signal removes it (unlink
/// and _exit are async-signal-safe), so no partial output is left.
char g_temporary[4096];
extern "C" void on_output_signal(int) {
  if (g_temporary[0]) ::unlink(g_temporary);
  static const char text[] = "attain: error: interrupted; no output written\n";
  [[maybe_unused]] auto n = ::write(2, text, sizeof text - 1);
  ::_exit(kExitInterrupted);
}

/// "8G", "512M", "1.5G", "100000" (bytes); K, M, G, T are powers of 1024.
std::optional<std::uint64_t> parse_size(std::string text) {
  double unit = 1;
  if (!text.empty()) {
    const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(text.back())));
    const std::string units = "KMGT";
    if (auto at = units.find(c); at != std::string::npos) {
      unit = std::ldexp(1.0, 10 * static_cast<int>(at + 1));
      text.pop_back();
    }
  }
  const char* end = text.data() + text.size();
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || text.empty() || !(v * unit >= 1) || v * unit > 0x1.0p62)
    return std::nullopt;
  return static_cast<std::uint64_t>(v * unit);
}

/// A progress bar on stderr: the share done, the speed in `unit`s per second and the time
/// left at that speed (at most, with --ci-width).
std::function<void(std::uint64_t)> progress_bar(const std::string& what, std::uint64_t total,
                                                const std::string& unit) {
  const auto start = std::chrono::steady_clock::now();
  return [what, total, unit, start](std::uint64_t done) {
    done = std::min(done, total);
    const int filled =
        static_cast<int>(static_cast<double>(done) / static_cast<double>(total) * 24);
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double per_second = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
    const std::string speed = per_second > 0 ? rate(per_second) : std::string("--");
    const std::string left = per_second > 0
                                 ? duration(static_cast<double>(total - done) / per_second)
                                 : std::string("--");
    // At most 90 columns, which the end of the phase blanks.
    fmt::print(stderr, "\r{:<22} [{:<24}] {:>3}% {:>7} {}/s {:<15}", pad(what.substr(0, 22), 22),
               std::string(static_cast<std::size_t>(filled), '#'), done * 100 / total, speed, unit,
               fmt::format("{} left", left));
  };
}

/// With --force-threads, more threads than cores: TBB's process-wide limit raised for this
/// process, which the command line owns (a study's own arena never changes it).
void allow_threads(int threads) {
  static std::unique_ptr<tbb::global_control> allow;
  allow = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                static_cast<std::size_t>(threads));
}

}  // namespace

void bad_arg(const std::string& text) {
  fail({}, text);
}

std::optional<std::uint64_t> parse_count(const std::string& text) {
  std::uint64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return v;
}

std::optional<double> parse_number(const std::string& text) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || text.empty() || !std::isfinite(v)) return std::nullopt;
  return v;
}

JobHooks terminal_hooks(bool quiet) {
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) std::signal(sig, on_signal);
  JobHooks h;
  h.cancel = &g_interrupted;
  if (!quiet && ::isatty(2)) {
    h.progress = progress_bar;
    h.progress_done = [] { fmt::print(stderr, "\r{:90}\r", ""); };
  }
  h.note = [](const std::string& line) { fmt::print(stderr, "attain: {}\n", line); };
  return h;
}

JobHooks output_hooks() {
  JobHooks h;
  h.cancel = &g_interrupted;
  h.note = [](const std::string& line) { fmt::print(stderr, "attain: {}\n", line); };
  h.temporary = [](const std::string& path) {
    if (path.empty()) {
      g_temporary[0] = 0;
      return;
    }
    if (path.size() >= sizeof g_temporary)
      bad_arg(fmt::format("--out: the path '{}' is too long", printable(path, 300)));
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) std::signal(sig, on_output_signal);
    std::memcpy(g_temporary, path.c_str(), path.size() + 1);
  };
  return h;
}

void add_scenario_dir(CLI::App& sub, IncludeRules& dirs) {
  sub.add_option("--scenario-dir", dirs.roots,
                 "a folder whose scenario files 'extends' may also name (besides the "
                 "scenario's own folder tree); repeatable")
      ->check(CLI::ExistingDirectory);
}

void add_ensemble_options(CLI::App& sub, EnsembleArgs& a, const std::string& runs_help) {
  a.sub = &sub;
  sub.add_option("model", a.model, "model file (YAML)")->required();
  sub.add_option("--runs", a.runs, runs_help);
  sub.add_option("--seed", a.seed, "random seed (default 1)");
  sub.add_option("--threads", a.threads,
                 "worker threads (default: every core; at most the cores unless forced)");
  sub.add_flag("--force-threads", a.force_threads,
               "allow --threads above the number of cores (each thread costs memory)");
  sub.add_option("--memory-limit", a.memory_limit,
                 "refuse a run needing more memory than this, e.g. 8G (default: what is "
                 "available)");
  sub.add_option("--block", a.block,
                 "runs evaluated together (default 0: chosen from the L1 data cache size, 16 to "
                 "256; results do not depend on it)");
  sub.add_option("--out", a.out, "results file (HDF5)");
  sub.add_flag("--json", a.json, "print the results as JSON");
  sub.add_flag("--quiet", a.quiet, "no progress bar");
  add_scenario_dir(sub, a.dirs);
}

EnsembleSettings ensemble_settings(const EnsembleArgs& a) {
  EnsembleSettings s;
  if (a.threads == 0 && a.sub->count("--threads")) bad_arg("--threads must be >= 1 (got 0)");
  auto runs = parse_count(a.runs);
  if (!runs || *runs < 1 || *runs > (std::uint64_t{1} << 48))
    bad_arg(fmt::format("--runs must be a whole number from 1 to 2^48 (got '{}')", a.runs));
  auto seed = parse_count(a.seed);
  if (!seed)
    bad_arg(fmt::format("--seed must be a whole number from 0 to 2^64-1 (got '{}')", a.seed));
  if (!a.memory_limit.empty()) {
    s.memory_limit = parse_size(a.memory_limit);
    if (!s.memory_limit)
      bad_arg(fmt::format(
          "--memory-limit must be a size in bytes, or with K, M, G or T, e.g. 8G (got '{}')",
          a.memory_limit));
  }
  std::optional<StoreLevel> store;
  for (auto level : {StoreLevel::kSummary, StoreLevel::kTargets, StoreLevel::kFull})
    if (a.store == store_name(level)) store = level;
  if (!store)
    bad_arg(fmt::format("unknown --store '{}'; valid: 'summary', 'targets' or 'full'", a.store));
  if (!a.ci_width.empty()) {
    auto w = parse_number(a.ci_width);
    if (!w || *w <= 0 || *w >= 0.5)
      bad_arg(fmt::format(
          "--ci-width must be a half-width of a 95 % interval in (0, 0.5), e.g. 0.01 (got '{}')",
          a.ci_width));
    s.ci_width = *w;
  }
  s.runs = *runs;
  s.seed = *seed;
  s.threads = a.threads;
  s.force_threads = a.force_threads;
  s.block = a.block;
  s.store = *store;
  s.store_given = a.sub->get_option_no_throw("--store") && a.sub->count("--store") > 0;
  s.out = a.out;
  s.out_given = a.sub->count("--out") > 0;
  s.communicator = communicator();
  return s;
}

EnsembleJob prepare(const EnsembleArgs& a, const JobHooks& hooks, std::size_t row_variants) {
  const EnsembleSettings s = ensemble_settings(a);
  EnsembleJob job = prepare_ensemble(s, a.model, a.scenarios, a.dirs, hooks, row_variants);
  if (s.force_threads && s.threads > machine_cores()) allow_threads(s.threads);
  return job;
}

}  // namespace attain::cli
