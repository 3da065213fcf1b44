// The attain command line: check, graph, run and replay, over the attain::engine library.
#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <thread>

#include "attain/analysis.hpp"
#include "attain/checkpoint.hpp"
#include "attain/constants.hpp"
#include "attain/ensemble.hpp"
#include "attain/graph.hpp"
#include "attain/program.hpp"
#include "attain/report.hpp"
#include "attain/results_file.hpp"
#include "attain/results_json.hpp"
#include "attain/sensitivity.hpp"
#include "attain/version.hpp"
#include "attain/yaml_reader.hpp"
#include "build_commit.hpp"
#include "format.hpp"
#include "processes.hpp"

namespace {

using attain::InputError;
using nlohmann::json;

using attain::kExitInput;

std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) {
  g_interrupted.store(true);
}

/// From here on, SIGINT, SIGTERM, SIGHUP and SIGQUIT end the run at the next block: exit
/// 130, no results file, its temporary removed.
void catch_signals() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) std::signal(sig, on_signal);
}

/// A model with the scenarios it runs under, all checked.
struct Loaded {
  attain::Model model;
  attain::DependencyGraph graph;
  std::vector<attain::Scenario> scenarios;
};

/// Folders besides each scenario's own tree that `extends` may reach (--scenario-dir).
attain::IncludeRules g_scenario_dirs;

Loaded load(const std::string& model_path, const std::vector<std::string>& scenario_paths) {
  Loaded l;
  l.model = attain::load_model(model_path);
  l.graph = attain::build_graph(l.model);
  std::map<std::string, std::string> seen;
  for (const auto& p : scenario_paths) {
    attain::Scenario s = attain::load_scenario(p, l.model, g_scenario_dirs);
    if (auto [it, fresh] = seen.emplace(s.name, p); !fresh)
      attain::fail({p, 1, 1}, fmt::format("scenario name '{}' is also used by '{}'; scenario names "
                                          "must differ",
                                          s.name, it->second));
    l.scenarios.push_back(std::move(s));
  }
  if (l.scenarios.empty()) l.scenarios.push_back(attain::default_scenario(l.model));
  return l;
}

json targets_json(const attain::Model& m) {
  json out = json::array();
  for (const auto& t : m.targets)
    out.push_back({{"name", t.name},
                   {"node", t.node},
                   {"label", t.label},
                   {"year", t.year},
                   {"op", attain::cmp_name(t.op)},
                   {"threshold", t.threshold},
                   {"source", t.source}});
  return out;
}

int cmd_check(const std::string& model_path, const std::vector<std::string>& scenarios,
              bool as_json) {
  Loaded l = load(model_path, scenarios);
  const auto& m = l.model;
  std::map<std::string, int> kinds;
  for (const char* k : {"lever", "parameter", "shock", "auxiliary", "stock"}) kinds[k] = 0;
  for (const auto& n : m.nodes) ++kinds[std::string(attain::kind_name(n.kind))];
  std::vector<std::string> unused;
  if (!m.targets.empty() || !m.actuals.empty())
    for (std::size_t i = 0; i < m.nodes.size(); ++i)
      if (!l.graph.used[i]) unused.push_back(m.nodes[i].name);
  if (as_json) {
    json j;
    j["model"] = m.name;
    j["path"] = m.path;
    j["time"] = {{"start", m.time.start},
                 {"end", m.time.end},
                 {"step", m.time.step},
                 {"steps", m.time.steps()}};
    j["nodes"] = kinds;
    j["nodes"]["total"] = m.nodes.size();
    j["lookups"] = m.lookups.size();
    j["edges"] = {{"same_step", l.graph.same_step_edges}, {"lagged", l.graph.lagged_edges}};
    j["correlation_groups"] = m.correlations.size();
    j["targets"] = targets_json(m);
    json actuals = json::array();
    for (const auto& a : m.actuals)
      actuals.push_back(
          {{"node", a.node}, {"label", a.label}, {"year", a.year}, {"value", a.value}});
    j["actuals"] = actuals;
    j["unused"] = unused;
    json sc = json::array();
    for (const auto& s : l.scenarios)
      sc.push_back({{"name", s.name},
                    {"description", s.description},
                    {"path", s.path},
                    {"levers", s.levers.size()},
                    {"parameters", s.parameters.size()}});
    j["scenarios"] = sc;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  fmt::print("model {} ({}): ok\n", m.name, attain::printable(m.path, 500));
  fmt::print("  time: {} to {} by {} ({} steps)\n", m.time.start, m.time.end, m.time.step,
             m.time.steps());
  fmt::print(
      "  nodes: {} ({} levers, {} parameters, {} shocks, {} auxiliaries, {} stocks), {} lookups\n",
      m.nodes.size(), kinds["lever"], kinds["parameter"], kinds["shock"], kinds["auxiliary"],
      kinds["stock"], m.lookups.size());
  fmt::print("  edges: {} same-step, {} lagged\n", l.graph.same_step_edges, l.graph.lagged_edges);
  fmt::print("  targets: {}, actuals: {}, correlation groups: {}\n", m.targets.size(),
             m.actuals.size(), m.correlations.size());
  for (const auto& t : m.targets)
    fmt::print("    {} {} {} {} in {}: {}\n", t.name, t.node, attain::cmp_name(t.op), t.threshold,
               t.year, attain::printable(t.label, 300));
  for (const auto& s : l.scenarios)
    if (!s.path.empty())
      fmt::print("  scenario {} ({}): ok, {} lever and {} parameter overrides\n", s.name, s.path,
                 s.levers.size(), s.parameters.size());
  for (const auto& u : unused)
    fmt::print(stderr, "{}:{}:{}: warning: node '{}' does not affect any target or actual\n",
               m.nodes[static_cast<std::size_t>(m.node_index.at(u))].loc.file,
               m.nodes[static_cast<std::size_t>(m.node_index.at(u))].loc.line,
               m.nodes[static_cast<std::size_t>(m.node_index.at(u))].loc.col, u);
  return 0;
}

int cmd_graph(const std::string& model_path, const std::string& format) {
  Loaded l = load(model_path, {});
  if (format == "dot") {
    std::cout << attain::graph_to_dot(l.model, l.graph);
  } else if (format == "json") {
    std::cout << attain::graph_to_json(l.model, l.graph).dump(2) << "\n";
  } else {
    attain::Program p = attain::compile(l.model, l.graph);
    std::cout << p.listing();
  }
  return 0;
}

/// Parses a whole number in [0, 2^64 - 1]; nullopt for anything else.
std::optional<std::uint64_t> parse_count(const std::string& text) {
  std::uint64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return v;
}

/// Parses a finite number; nullopt for anything else.
std::optional<double> parse_number(const std::string& text) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || text.empty() || !std::isfinite(v)) return std::nullopt;
  return v;
}

/// Options every ensemble command shares.
struct RunArgs {
  std::string model;
  std::vector<std::string> scenarios;
  std::string runs = "10000";
  std::string seed = "1";
  int threads = 0;
  int block = 0;
  std::string store = "targets";
  std::string out;
  std::string ci_width;
  bool json = false;
  bool quiet = false;
  bool save_state = false;
  bool out_given = false;    ///< --out was on the command line (perhaps empty)
  bool store_given = false;  ///< --store was on the command line
  bool force_threads = false;
  std::string memory_limit;
  std::string run_range;         ///< run: FIRST:LAST, a part of the study (attain merge)
  std::string part;              ///< run: K/P, part K of P (attain merge)
  std::string checkpoint_every;  ///< run: seconds between checkpoints
  bool resume = false;           ///< run: continue from the checkpoint
};

/// Cores this process may run on (its CPU affinity, as in a container), at least 1.
int machine_cores() {
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return std::max(1u, std::thread::hardware_concurrency());
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

/// A bad command-line value: one line, exit code 2.
[[noreturn]] void bad_arg(const std::string& text) {
  attain::fail({}, text);
}

struct Common {
  attain::AnalysisOptions options;
  attain::StoreLevel store = attain::StoreLevel::kTargets;
  Loaded loaded;
};

/// `row_variants`: the scenarios whose per-run rows one study buffers (run: 1, compare:
/// all; sweep and search keep none).
Common prepare(const RunArgs& a, std::size_t row_variants = 0) {
  Common c;
  auto runs = parse_count(a.runs);
  if (!runs || *runs < 1 || *runs > (std::uint64_t{1} << 48))
    bad_arg(fmt::format("--runs must be a whole number from 1 to 2^48 (got '{}')", a.runs));
  auto seed = parse_count(a.seed);
  if (!seed)
    bad_arg(fmt::format("--seed must be a whole number from 0 to 2^64-1 (got '{}')", a.seed));
  if (a.threads < 0 || a.threads > 4096)
    bad_arg(fmt::format("--threads must be from 1 to 4096 (got {})", a.threads));
  // More threads than cores only cost memory (each holds its own blocks and chunks).
  if (const int cores = machine_cores(); a.threads > cores && !a.force_threads)
    bad_arg(fmt::format(
        "--threads {} is more than the {} core{} this machine has; use --threads {} or fewer, "
        "or add --force-threads to run more anyway",
        a.threads, cores, cores == 1 ? "" : "s", cores));
  if (!a.memory_limit.empty()) {
    auto limit = parse_size(a.memory_limit);
    if (!limit)
      bad_arg(fmt::format(
          "--memory-limit must be a size in bytes, or with K, M, G or T, e.g. 8G (got '{}')",
          a.memory_limit));
    c.options.memory_limit = *limit;
    c.options.memory_limit_source = "set by --memory-limit";
  } else {
    c.options.memory_limit = attain::available_memory();
    c.options.memory_limit_source = "available (MemAvailable)";
  }
  if (a.block < 0 || a.block > 65536)
    bad_arg(fmt::format("--block must be in [1, 65536], or 0 for the automatic size (got {})",
                        a.block));
  std::optional<attain::StoreLevel> store;
  for (auto s :
       {attain::StoreLevel::kSummary, attain::StoreLevel::kTargets, attain::StoreLevel::kFull})
    if (a.store == attain::store_name(s)) store = s;
  if (!store)
    bad_arg(fmt::format("unknown --store '{}'; valid: 'summary', 'targets' or 'full'", a.store));
  // Per-run rows go only to a results file: without one, 'targets' or 'full' would keep
  // nothing ('summary', per-run data kept by no one, is what happens anyway).
  if (a.store_given && !a.out_given && *store != attain::StoreLevel::kSummary)
    bad_arg(
        fmt::format("--store {} keeps per-run data in the results file; add --out FILE.h5, "
                    "or leave out --store",
                    a.store));
  if (!a.ci_width.empty()) {
    auto w = parse_number(a.ci_width);
    if (!w || *w <= 0 || *w >= 0.5)
      bad_arg(fmt::format(
          "--ci-width must be a half-width of a 95 % interval in (0, 0.5), e.g. 0.01 (got '{}')",
          a.ci_width));
    c.options.ci_width = *w;
  }
  c.options.runs = *runs;
  c.options.seed = *seed;
  c.options.threads = a.threads;
  c.options.block = a.block;
  c.options.cancel = &g_interrupted;
  c.options.communicator = attain::cli::communicator();
  c.store = *store;
  c.loaded = load(a.model, a.scenarios);
  // A chunk's per-run rows wait in memory until the chunk is written: keep them within
  // attain::kChunkBufferBytes by using smaller chunks (docs/results-format.md).
  if (row_variants > 0 && !a.out.empty() && c.store != attain::StoreLevel::kSummary)
    c.options.chunk = attain::buffered_chunk(
        c.options.chunk,
        attain::RowsReducer::bytes_per_run(c.loaded.model, c.store == attain::StoreLevel::kFull) *
            row_variants);
  return c;
}

/// How a command's results are made, as a results file records it.
attain::RunInfo run_info(const Common& c, const std::string& analysis) {
  attain::RunInfo info;
  info.seed = c.options.seed;
  info.runs = c.options.runs;
  info.chunk = c.options.chunk;
  info.store = c.store;
  info.analysis = analysis;
  info.ci_width = c.options.ci_width;
  return info;
}

/// The results of a command as a results file would hold them, for the JSON documents
/// (attain/results_json.hpp): `--json` and `attain export` then print the same document.
attain::StoredResults stored(const RunArgs& a, const Common& c, const std::string& analysis) {
  return attain::stored_results(c.loaded.model, run_info(c, analysis), a.out);
}

/// Prints a JSON document on stdout.
void print_document(const json& document) {
  std::cout << attain::document_text(document);
}

std::unique_ptr<attain::ResultsFile> open_file(const RunArgs& a, const Common& c,
                                               const attain::RunInfo& info) {
  std::unique_ptr<attain::ResultsFile> file;
  if (a.out.empty()) {
    if (a.out_given) bad_arg("--out needs a file name (got an empty one)");
    return file;
  }
  // Checked before any run: a directory would only fail at the final rename, and an
  // input file would be replaced by the results.
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(a.out, ec))
    bad_arg(
        fmt::format("--out '{}' is a directory; name a file, e.g. '{}/results.h5'", a.out, a.out));
  std::vector<std::string> inputs{c.loaded.model.path};
  for (const auto& s : c.loaded.scenarios)
    for (const auto& src : s.sources) inputs.push_back(src.first);
  for (const auto& in : inputs)
    if (fs::equivalent(a.out, in, ec))
      bad_arg(fmt::format("--out '{}' is the input file '{}'; the results would replace it", a.out,
                          in));
  // Temporaries of this output left by killed runs (kill -9, a crash, a power cut); under
  // MPI, rank 0's only (another rank's view of rank 0's pid would be wrong on another node).
  for (const auto& t : attain::cli::communicator() && attain::cli::communicator()->rank() != 0
                           ? std::vector<attain::StaleTemporary>{}
                           : attain::remove_stale_temporaries(a.out)) {
    if (t.removed)
      fmt::print(stderr,
                 "attain: removed stale temporary file '{}' left by a killed run (pid {})\n",
                 attain::printable(t.path, 500), t.pid);
    else
      fmt::print(stderr,
                 "attain: warning: cannot remove stale temporary file '{}' left by a killed run "
                 "(pid {}): {}\n",
                 attain::printable(t.path, 500), t.pid, t.error);
  }
  try {
    file = std::make_unique<attain::ResultsFile>(a.out, c.loaded.model, info,
                                                 attain::cli::communicator());
  } catch (const attain::OutputError& e) {
    bad_arg(fmt::format("--out: {}", e.what()));
  }
  return file;
}

/// A progress bar on stderr when it is a terminal: the share done, the speed in `unit`s
/// per second and the time left at that speed (at most, with --ci-width).
std::function<void(std::uint64_t)> progress_bar(const RunArgs& a, const std::string& what,
                                                std::uint64_t total,
                                                const std::string& unit = "runs") {
  if (a.quiet || !::isatty(2)) return nullptr;
  const auto start = std::chrono::steady_clock::now();
  return [what, total, unit, start](std::uint64_t done) {
    done = std::min(done, total);
    const int filled =
        static_cast<int>(static_cast<double>(done) / static_cast<double>(total) * 24);
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double per_second = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
    const std::string speed = per_second > 0 ? attain::cli::rate(per_second) : std::string("--");
    const std::string left =
        per_second > 0 ? attain::cli::duration(static_cast<double>(total - done) / per_second)
                       : std::string("--");
    // At most 90 columns, which clear_bar blanks.
    fmt::print(stderr, "\r{:<22} [{:<24}] {:>3}% {:>7} {}/s {:<15}",
               attain::cli::pad(what.substr(0, 22), 22),
               std::string(static_cast<std::size_t>(filled), '#'), done * 100 / total, speed, unit,
               fmt::format("{} left", left));
  };
}

void clear_bar(const RunArgs& a) {
  if (!a.quiet && ::isatty(2)) fmt::print(stderr, "\r{:90}\r", "");
}

/// "p [lo, hi]" with three decimals; small probabilities in scientific notation so
/// that 4 hits in 10^6 runs do not read as zero.
std::string interval(double p, double lo, double hi) {
  if (hi < 0.001 || (p > 0 && p < 0.001)) return fmt::format("{:.1e} [{:.1e}, {:.1e}]", p, lo, hi);
  return fmt::format("{:.3f} [{:.3f}, {:.3f}]", p, lo, hi);
}

/// A number, or null when it is not finite (JSON has no NaN).
json number(double v) {
  return std::isfinite(v) ? json(v) : json(nullptr);
}

/// "name  label" lines for each target, the label wrapped under itself to fit the terminal.
void print_target_labels(const attain::Model& m) {
  std::size_t w = 0;
  for (const auto& t : m.targets) w = std::max(w, attain::cli::display_width(t.name));
  // A name so long that little room is left puts its label on the next lines.
  const bool own_line = w + 4 > attain::cli::kTerminalColumns / 2;
  const std::size_t indent = own_line ? 4 : 2 + w + 2;
  for (const auto& t : m.targets) {
    const auto lines =
        attain::cli::wrap(fmt::format("{} {} in {:g}: {}", attain::cmp_name(t.op), t.threshold,
                                      t.year, attain::printable(t.label, 300)),
                          attain::cli::kTerminalColumns - indent);
    if (own_line) fmt::print("  {}\n", t.name);
    for (std::size_t i = 0; i < lines.size(); ++i)
      fmt::print(
          "{}{}\n",
          own_line || i > 0 ? std::string(indent, ' ') : "  " + attain::cli::pad(t.name, w) + "  ",
          lines[i]);
  }
}

/// The headline rows under the targets: the expected number of targets met (with its
/// 95 % interval) and, when levers have a cost, each scenario's total cost.
void add_headline_rows(attain::cli::Table& table, const attain::Model& m,
                       const std::vector<attain::EnsembleResult>& results) {
  const bool counted = std::all_of(results.begin(), results.end(), [&](const auto& r) {
    return r.met.size() == m.targets.size() + 1;
  });
  if (!m.targets.empty() && counted) {
    table.names.push_back("expected targets met");
    table.fixed.push_back({fmt::format("of {}", m.targets.size())});
    std::vector<std::string> row;
    for (const auto& r : results) {
      const attain::MeanInterval e = attain::targets_met(r.met);
      row.push_back(fmt::format("{:.2f} [{:.2f}, {:.2f}]", e.mean, e.lo, e.hi));
    }
    table.cells.push_back(row);
  }
  if (!results.empty() && results.front().cost) {
    table.names.push_back(fmt::format("cost, {:g}-{:g}", results.front().cost->times.front(),
                                      results.front().cost->times.back()));
    table.fixed.push_back({attain::printable(m.cost_unit, 40)});
    std::vector<std::string> row;
    for (const auto& r : results) row.push_back(fmt::format("{:.4g}", r.cost->total));
    table.cells.push_back(row);
  }
}

/// P(exactly k targets met), k = 0..T, one column per scenario: the distribution behind
/// the expected number.
void print_met_distribution(const attain::Model& m, const std::vector<attain::Scenario>& scenarios,
                            const std::vector<attain::EnsembleResult>& results) {
  if (m.targets.empty()) return;
  for (const auto& r : results)
    if (r.met.size() != m.targets.size() + 1) return;
  fmt::print("\nnumber of targets met in a run: share of runs (percent)\n");
  attain::cli::Table table;
  table.name_header = "targets met";
  for (const auto& s : scenarios) table.group_headers.push_back(s.name);
  for (std::size_t k = 0; k <= m.targets.size(); ++k) {
    table.names.push_back(fmt::format("{}", k));
    table.fixed.push_back({});
    std::vector<std::string> row;
    for (const auto& r : results)
      row.push_back(attain::cli::percent(
          r.runs ? static_cast<double>(r.met[k]) / static_cast<double>(r.runs) : 0.0));
    table.cells.push_back(row);
  }
  for (const auto& line : table.render()) fmt::print("{}\n", line);
}

/// compare's headline: per scenario, the expected number of targets met and the cost.
void print_headline(const attain::Model& m, const std::vector<attain::Scenario>& scenarios,
                    const std::vector<attain::EnsembleResult>& results) {
  attain::cli::Table table;
  table.name_header = "per scenario";
  table.fixed_headers = {""};
  for (const auto& s : scenarios) table.group_headers.push_back(s.name);
  add_headline_rows(table, m, results);
  if (table.names.empty()) return;
  fmt::print("\n");
  for (const auto& line : table.render()) fmt::print("{}\n", line);
  print_met_distribution(m, scenarios, results);
}

/// The attainment table: one row per target, one column per scenario, in percent; as
/// many scenarios side by side as fit the terminal's 100 columns, the rest in blocks below.
void print_table(const attain::Model& m, const std::vector<attain::Scenario>& scenarios,
                 const std::vector<attain::EnsembleResult>& results) {
  print_target_labels(m);
  fmt::print("\n");
  attain::cli::Table table;
  table.name_header = "target";
  table.fixed_headers = {"threshold"};
  for (const auto& s : scenarios) table.group_headers.push_back(s.name);
  for (std::size_t t = 0; t < m.targets.size(); ++t) {
    const auto& tt = m.targets[t];
    table.names.push_back(tt.name);
    table.fixed.push_back({fmt::format("{} {:g}", attain::cmp_name(tt.op), tt.threshold)});
    std::vector<std::string> row;
    for (const auto& r : results)
      row.push_back(attain::cli::percent_interval(r.targets[t].probability, r.targets[t].ci_low,
                                                  r.targets[t].ci_high));
    table.cells.push_back(row);
  }
  add_headline_rows(table, m, results);
  if (!m.targets.empty()) {
    table.names.push_back("all targets together");
    table.fixed.push_back({""});
    std::vector<std::string> row;
    for (const auto& r : results)
      row.push_back(attain::cli::percent_interval(r.joint_probability, r.joint_low, r.joint_high));
    table.cells.push_back(row);
  }
  for (const auto& line : table.render()) fmt::print("{}\n", line);
  print_met_distribution(m, scenarios, results);
  if (!m.actuals.empty()) {
    fmt::print("\nwhere the known actuals fall in the predicted distribution (percentile)\n");
    attain::cli::Table actuals;
    actuals.name_header = "actual";
    actuals.fixed_headers = {"value"};
    for (const auto& s : scenarios) actuals.group_headers.push_back(s.name);
    for (std::size_t i = 0; i < m.actuals.size(); ++i) {
      const auto& ac = m.actuals[i];
      actuals.names.push_back(fmt::format("{} {}", ac.node, ac.year));
      actuals.fixed.push_back({fmt::format("{:g}", ac.value)});
      std::vector<std::string> row;
      for (const auto& r : results)
        row.push_back(fmt::format("{:.1f} %", 100 * r.actuals[i].percentile));
      actuals.cells.push_back(row);
    }
    for (const auto& line : actuals.render()) fmt::print("{}\n", line);
  }
}

void adaptive_note(const Common& c) {
  if (c.options.ci_width > 0)
    fmt::print(stderr,
               "attain: note: stopping once every 95 % half-width is <= {:g} is not a "
               "sequential test; see docs/analyses.md for the coverage it gives\n",
               c.options.ci_width);
}

/// `--run-range FIRST:LAST` of a study of `runs` runs in chunks of `chunk`: both ends on
/// chunk boundaries (LAST may also be `runs`), so that parts merge exactly.
std::pair<std::uint64_t, std::uint64_t> parse_run_range(const std::string& text, std::uint64_t runs,
                                                        int chunk_runs) {
  const auto colon = text.find(':');
  std::optional<std::uint64_t> first, last;
  if (colon != std::string::npos) {
    first = parse_count(text.substr(0, colon));
    last = parse_count(text.substr(colon + 1));
  }
  if (!first || !last || *first >= *last || *last > runs)
    bad_arg(fmt::format(
        "--run-range must be FIRST:LAST with 0 <= FIRST < LAST <= --runs ({}), e.g. 0:{} (got "
        "'{}')",
        runs, std::min<std::uint64_t>(runs, 4 * static_cast<std::uint64_t>(chunk_runs)), text));
  const auto chunk = static_cast<std::uint64_t>(chunk_runs);
  for (const std::uint64_t end : {*first, *last}) {
    if (end % chunk == 0 || end == runs) continue;
    const std::uint64_t below = end / chunk * chunk, above = std::min(runs, below + chunk);
    bad_arg(fmt::format(
        "--run-range {}: run {} is not on a chunk boundary (chunks of {} runs with this model "
        "and --store); the nearest boundaries are {} and {}",
        text, end, chunk, below, above));
  }
  return {*first, *last};
}

/// `--part K/P`: part K (from 0) of P, the study's chunks shared out as evenly as whole
/// chunks allow: runs [floor(C K / P) chunk, floor(C (K + 1) / P) chunk) of the C chunks.
std::pair<std::uint64_t, std::uint64_t> parse_part(const std::string& text, std::uint64_t runs,
                                                   int chunk_runs) {
  const auto slash = text.find('/');
  std::optional<std::uint64_t> k, p;
  if (slash != std::string::npos) {
    k = parse_count(text.substr(0, slash));
    p = parse_count(text.substr(slash + 1));
  }
  const auto chunk = static_cast<std::uint64_t>(chunk_runs);
  const std::uint64_t chunks = (runs + chunk - 1) / chunk;
  if (!k || !p || *p < 1 || *k >= *p)
    bad_arg(
        fmt::format("--part must be K/P with 0 <= K < P, e.g. 3/25 for the fourth of 25 "
                    "parts (got '{}')",
                    text));
  if (*p > chunks)
    bad_arg(
        fmt::format("--part {}: {} runs make {} chunk{} of {} runs, too few for {} parts; "
                    "use at most {} parts",
                    text, runs, chunks, chunks == 1 ? "" : "s", chunk, *p, chunks));
  const auto share = [&](std::uint64_t i) {
    return static_cast<std::uint64_t>(static_cast<unsigned __int128>(chunks) * i / *p);
  };
  return {share(*k) * chunk, std::min(runs, share(*k + 1) * chunk)};
}

/// What a checkpoint of `run` must match to be resumed (attain/checkpoint.hpp).
attain::Fingerprint run_fingerprint(const Common& c, const attain::RunInfo& info, bool save_state) {
  attain::Fingerprint f;
  f.emplace_back("engine version", attain::kEngineVersion);
  f.emplace_back("random streams", attain::kRngScheme);
  f.emplace_back("model", c.loaded.model.source_text);
  f.emplace_back("scenarios", std::to_string(c.loaded.scenarios.size()));
  for (const auto& s : c.loaded.scenarios) {
    std::string text;
    for (const auto& [path, source] : s.sources) text += "# " + path + "\n" + source + "\n";
    f.emplace_back("scenario " + s.name, text);
  }
  f.emplace_back("seed", std::to_string(info.seed));
  f.emplace_back("run range", fmt::format("[{}, {})", info.first_run, info.first_run + info.runs));
  f.emplace_back("runs of the study", std::to_string(info.study_runs));
  f.emplace_back("chunk", std::to_string(info.chunk));
  f.emplace_back("store", std::string(attain::store_name(info.store)));
  f.emplace_back("save state", save_state ? "yes" : "no");
  return f;
}

/// A scenario finished or begun, as the checkpoints of a run keep it.
struct ScenarioProgress {
  std::string name;
  bool done = false;
  double seconds = 0;
  attain::StudyState before;  ///< the range a resumed run found in the checkpoint
  attain::StudyState after;   ///< the whole range, once done
  std::string spool_name;     ///< its rows spool in the checkpoint folder
  std::unique_ptr<attain::RowSpool> spool;
};

/// After a successful run: its own spools go; the rest of the checkpoint folder (a killed
/// run's spools, the state) only when no other process holds its lock.
void remove_checkpoint(const std::string& folder, std::unique_ptr<attain::CheckpointLock>& lock,
                       const std::vector<ScenarioProgress>& progress) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto& p : progress)
    if (!p.spool_name.empty()) fs::remove(folder + "/" + p.spool_name, ec);
  if (!fs::exists(folder, ec)) return;
  if (!lock) lock = std::make_unique<attain::CheckpointLock>(folder);
  if (lock->held()) {
    fs::remove_all(folder, ec);
    lock.reset();
  }
}

int cmd_run(const RunArgs& a) {
  if (a.save_state && a.out.empty()) bad_arg("--save-state needs --out FILE.h5");
  if ((!a.run_range.empty() || !a.part.empty()) && a.out.empty())
    bad_arg(fmt::format("{} needs --out FILE.h5: a part is only of use to 'attain merge'",
                        a.part.empty() ? "--run-range" : "--part"));
  if (a.resume && a.out.empty()) bad_arg("--resume needs --out FILE.h5, the run's results file");
  if (!a.run_range.empty() && !a.part.empty()) bad_arg("give --run-range or --part, not both");
  Common c = prepare(a, 1);
  std::uint64_t range_first = 0, range_last = c.options.runs;
  if (!a.run_range.empty() || !a.part.empty()) {
    if (c.options.ci_width > 0)
      bad_arg(
          fmt::format("{} and --ci-width do not go together: a part cannot know when the "
                      "whole study would stop",
                      a.part.empty() ? "--run-range" : "--part"));
    std::tie(range_first, range_last) =
        a.part.empty() ? parse_run_range(a.run_range, c.options.runs, c.options.chunk)
                       : parse_part(a.part, c.options.runs, c.options.chunk);
  }
  // Checkpoints: of a run with a results file and a fixed number of runs.
  std::optional<double> every;
  const bool no_checkpoints = a.checkpoint_every == "off";
  if (no_checkpoints && a.resume) bad_arg("--resume and --checkpoint-every off contradict");
  if (!a.checkpoint_every.empty() && !no_checkpoints) {
    every = parse_number(a.checkpoint_every);
    if (!every || !(*every >= 0) || *every > 1e9)
      bad_arg(fmt::format(
          "--checkpoint-every must be seconds >= 0 (0: after every chunk), e.g. 600, or 'off' "
          "(got '{}')",
          a.checkpoint_every));
    if (a.out.empty()) bad_arg("--checkpoint-every needs --out FILE.h5");
  }
  // Under mpirun, none: each rank would checkpoint its own share (docs/scaling.md).
  if (attain::cli::communicator() && (a.resume || every))
    bad_arg(
        "--checkpoint-every and --resume run on one process only: under mpirun, split the "
        "study with --run-range into jobs and 'attain merge' their files instead");
  const bool checkpoints =
      !a.out.empty() && c.options.ci_width == 0 && !no_checkpoints && !attain::cli::communicator();
  if (!a.out.empty() && c.options.ci_width > 0 && (a.resume || every))
    bad_arg(
        "--checkpoint-every and --resume do not go together with --ci-width: where an "
        "adaptive run stops depends on every chunk before it");
  const double interval = every.value_or(attain::kCheckpointSeconds);
  const std::string folder = a.out + ".checkpoint";

  attain::RunInfo info = run_info(c, "run");
  info.first_run = range_first;
  info.runs = range_last - range_first;
  info.study_runs = c.options.runs;
  const bool save_state = a.save_state || !a.run_range.empty() || !a.part.empty();
  const attain::Fingerprint fingerprint = run_fingerprint(c, info, save_state);

  // A checkpoint left by an interrupted run: continued with --resume, never overwritten
  // without it.
  std::optional<attain::CheckpointInfo> resumed;
  std::unique_ptr<attain::CheckpointLock> lock;
  namespace fs = std::filesystem;
  std::error_code ec;
  if (checkpoints && fs::exists(folder + "/state.h5", ec)) {
    lock = std::make_unique<attain::CheckpointLock>(folder);
    if (!lock->held())
      bad_arg(
          fmt::format("another attain process is writing '{}' (its checkpoint '{}' is "
                      "locked); wait for it or give another --out",
                      a.out, folder));
    if (!a.resume)
      bad_arg(fmt::format(
          "'{}' holds the checkpoint of an interrupted run of '{}'; add --resume to continue "
          "it, or remove the folder to start again",
          folder, a.out));
    try {
      resumed = attain::read_checkpoint_info(folder);
    } catch (const attain::OutputError& e) {
      bad_arg(fmt::format("--resume: {}; remove '{}' to start again", e.what(), folder));
    }
    if (const std::string key = attain::first_difference(resumed->fingerprint, fingerprint);
        !key.empty())
      bad_arg(fmt::format(
          "--resume: the checkpoint in '{}' was made with another {} than this command's; "
          "run the command that made it, or remove the folder to start again",
          folder, key));
    std::uint64_t done = 0;
    for (const auto& s : resumed->scenarios) done += s.last - s.first;
    fmt::print(stderr, "attain: resuming from the checkpoint in '{}' ({} of {} runs done)\n",
               folder, done, info.runs * c.loaded.scenarios.size());
  } else if (a.resume) {
    fmt::print(stderr, "attain: no checkpoint in '{}'; starting from the first run\n", folder);
  }

  const Loaded& l = c.loaded;
  const bool rows = c.store != attain::StoreLevel::kSummary;
  const bool full = c.store == attain::StoreLevel::kFull;
  std::vector<ScenarioProgress> progress(l.scenarios.size());
  // Every scenario the checkpoint holds, read before anything runs: later checkpoints of
  // this process keep the ones it has not reached yet.
  const std::size_t saved = resumed ? resumed->scenarios.size() : 0;
  if (saved > l.scenarios.size())
    bad_arg(fmt::format("--resume: the checkpoint in '{}' holds {} scenarios, not {}", folder,
                        saved, l.scenarios.size()));
  for (std::size_t si = 0; si < saved; ++si) {
    const auto& s = l.scenarios[si];
    const auto& stored = resumed->scenarios[si];
    if (stored.name != s.name)
      bad_arg(fmt::format("--resume: the checkpoint's scenario {} is '{}', not '{}'", si + 1,
                          stored.name, s.name));
    if (stored.done && stored.last != range_last)
      bad_arg(fmt::format("--resume: the checkpoint's scenario '{}' is done at run {}, not {}",
                          s.name, stored.last, range_last));
    attain::Program program = attain::compile(attain::apply_scenario(l.model, s), l.graph);
    static attain::NullSink none;  // outlives the loaded reducers, which never write
    try {
      progress[si].before = attain::read_checkpoint_state(
          folder, si, attain::scenario_reducers(program, true, rows ? &none : nullptr, full));
    } catch (const attain::OutputError& e) {
      bad_arg(fmt::format("--resume: {}; remove '{}' to start again", e.what(), folder));
    }
    progress[si].name = s.name;
    progress[si].seconds = stored.seconds;
    progress[si].spool_name = stored.rows_file;
  }

  catch_signals();  // before the temporary exists: no signal can leave it behind
  auto file = open_file(a, c, info);
  std::vector<attain::EnsembleResult> results;
  double seconds = 0;
  std::uint64_t total_runs = 0;
  bool checkpointing = checkpoints;
  bool saved_one = false;
  auto last_save = std::chrono::steady_clock::now();
  // Saves every scenario begun: the finished ones whole, the running one up to `state`.
  auto save = [&](std::size_t current, const attain::StudyState* state, double elapsed) {
    if (!lock) {
      lock = std::make_unique<attain::CheckpointLock>(folder);
      if (!lock->held()) {
        fmt::print(stderr,
                   "attain: warning: another attain process holds the checkpoint '{}'; this "
                   "run goes on without checkpoints\n",
                   folder);
        checkpointing = false;
        return;
      }
    }
    std::vector<attain::CheckpointScenario> entries;
    for (std::size_t i = 0; i < std::max(current + 1, saved) && i < progress.size(); ++i) {
      ScenarioProgress& p = progress[i];
      attain::CheckpointScenario e;
      e.name = p.name;
      e.done = p.done;
      e.seconds = p.seconds + (i == current && !p.done ? elapsed : 0);
      if (p.spool) {
        p.spool->sync();
        e.rows_bytes = p.spool->bytes();
        e.rows_file = p.spool_name;
      } else if (i > current) {  // resumed, not reached yet: as the checkpoint had it
        e.rows_bytes = resumed->scenarios[i].rows_bytes;
        e.rows_file = resumed->scenarios[i].rows_file;
        e.done = resumed->scenarios[i].done;
      }
      if (i > current) {
        e.before = &p.before;
      } else if (p.done) {
        e.state = &p.after;
      } else {
        e.before = p.before.partials().empty() ? nullptr : &p.before;
        e.state = state;
        if (!e.before && !e.state) e.state = &p.before;
      }
      entries.push_back(e);
    }
    attain::write_checkpoint(folder, fingerprint, entries);
    last_save = std::chrono::steady_clock::now();
    saved_one = true;
  };
  // A run that fails before its first checkpoint leaves none (nor its spools); one that
  // fails later keeps what it saved, to resume once the cause is gone (a full disk).
  struct Cleanup {
    std::function<void()> f;
    ~Cleanup() {
      if (f) f();
    }
  } cleanup{[&] {
    if (checkpoints && !saved_one && !resumed) remove_checkpoint(folder, lock, progress);
  }};

  for (std::size_t si = 0; si < l.scenarios.size(); ++si) {
    const auto& s = l.scenarios[si];
    ScenarioProgress& sp = progress[si];
    sp.name = s.name;
    attain::Program program = attain::compile(attain::apply_scenario(l.model, s), l.graph);
    attain::ChunkSink* file_sink = file ? &file->begin_scenario(s, program) : nullptr;
    const bool have = si < saved;
    // Rows go to the results file and, for checkpoints, to a spool that survives a crash.
    if (rows && checkpointing) {
      fs::create_directories(folder, ec);
      sp.spool_name = have && !resumed->scenarios[si].rows_file.empty()
                          ? resumed->scenarios[si].rows_file
                          : fmt::format("rows-{}-{}.bin", si, ::getpid());
      sp.spool = std::make_unique<attain::RowSpool>(folder + "/" + sp.spool_name,
                                                    have ? resumed->scenarios[si].rows_bytes : 0);
    }
    std::optional<attain::TeeSink> tee;
    attain::ChunkSink* sink = file_sink;
    if (sp.spool) sink = &tee.emplace(std::vector<attain::ChunkSink*>{file_sink, sp.spool.get()});
    std::uint64_t start = range_first;
    if (have) {
      const auto& stored = resumed->scenarios[si];
      try {
        if (rows)
          attain::RowSpool::replay(folder + "/" + sp.spool_name, stored.rows_bytes, *file_sink);
      } catch (const attain::OutputError& e) {
        bad_arg(fmt::format("--resume: {}; remove '{}' to start again", e.what(), folder));
      }
      start = stored.last;
    } else {
      sp.before.first = sp.before.last = range_first;
      sp.before.chunk = c.options.chunk;
    }
    attain::StudyResult merged;
    if (have && start == range_last) {  // every run done (the scenario may not say so yet)
      merged.state = std::move(sp.before);
    } else {
      attain::AnalysisOptions o = c.options;
      o.first = start;
      o.runs = range_last - start;
      o.progress = progress_bar(a, fmt::format("{} ({}/{})", s.name, si + 1, l.scenarios.size()),
                                range_last - range_first);
      if (o.progress && start > range_first)
        o.progress = [bar = o.progress, done = start - range_first](std::uint64_t n) {
          bar(done + n);
        };
      const auto begun = std::chrono::steady_clock::now();
      if (checkpointing)
        o.checkpoint = [&, si, begun](const attain::StudyState& st, bool interrupted) {
          const auto now = std::chrono::steady_clock::now();
          if (!checkpointing ||
              (!interrupted && std::chrono::duration<double>(now - last_save).count() < interval))
            return;
          save(si, &st, std::chrono::duration<double>(now - begun).count());
          if (interrupted)
            fmt::print(stderr,
                       "attain: checkpoint saved in '{}' ({} runs of scenario '{}' done); "
                       "add --resume to continue\n",
                       folder, st.last - range_first, s.name);
        };
      attain::StudyResult study;
      attain::run_scenario(program, o, file != nullptr, rows ? sink : nullptr, full, &study);
      clear_bar(a);
      sp.seconds += study.seconds;
      merged.state = std::move(sp.before);
      merged.state.append(std::move(study.state));
    }
    merged.first = range_first;
    merged.last = merged.state.last;
    merged.reducers = merged.state.result();
    merged.seconds = sp.seconds;
    results.push_back(
        attain::scenario_result(program, merged.reducers, file != nullptr, sp.seconds));
    seconds += sp.seconds;
    total_runs += results.back().runs;
    if (file) file->end_scenario(results.back(), save_state ? &merged : nullptr);
    sp.after = std::move(merged.state);
    sp.done = true;
    sp.before = attain::StudyState();
    // A scenario ends with a checkpoint: the next one starts from it.
    if (checkpointing && si + 1 < l.scenarios.size() &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - last_save).count() >=
            interval)
      save(si, nullptr, 0);
  }
  if (file) file->commit();
  // The results file is in place: the checkpoint has served.
  cleanup.f = nullptr;
  if (checkpoints) remove_checkpoint(folder, lock, progress);

  const auto& m = l.model;
  if (a.json) {
    attain::StoredResults sr = stored(a, c, "run");
    for (std::size_t si = 0; si < l.scenarios.size(); ++si)
      sr.scenarios.push_back(attain::stored_scenario(l.scenarios[si], results[si]));
    print_document(attain::run_document(sr));
    adaptive_note(c);
    return 0;
  }
  if (c.options.ci_width > 0) {
    std::string used;
    for (std::size_t si = 0; si < l.scenarios.size(); ++si)
      used += fmt::format("{}{} {}", si ? ", " : "", l.scenarios[si].name, results[si].runs);
    for (const auto& line : attain::cli::wrap(
             fmt::format("{}: until every 95 % half-width <= {:g} (at most {} runs), seed {}; "
                         "runs used: {}",
                         m.name, c.options.ci_width, c.options.runs, c.options.seed, used),
             attain::cli::kTerminalColumns))
      fmt::print("{}\n", line);
  } else {
    fmt::print("{}: {} runs per scenario, seed {}\n", m.name, c.options.runs, c.options.seed);
  }
  fmt::print(
      "probability of meeting each target in percent, with its 95 % Wilson interval (rounded "
      "outwards)\n\n");
  print_table(m, l.scenarios, results);
  fmt::print("\n{} runs in {:.2f} s ({:.0f} runs/s){}\n", total_runs, seconds,
             static_cast<double>(total_runs) / std::max(seconds, 1e-9),
             a.out.empty() ? "" : fmt::format("; results in {}", a.out));
  adaptive_note(c);
  return 0;
}

int cmd_compare(const RunArgs& a) {
  if (a.scenarios.size() < 2)
    bad_arg("compare needs two or more --scenario files; the first is the reference");
  Common c = prepare(a, a.scenarios.size());
  catch_signals();  // before the temporary exists: no signal can leave it behind
  auto file = open_file(a, c, run_info(c, "compare"));
  const Loaded& l = c.loaded;
  const auto& m = l.model;
  std::vector<attain::Program> programs;
  for (const auto& s : l.scenarios)
    programs.push_back(attain::compile(attain::apply_scenario(m, s), l.graph));
  std::vector<const attain::Program*> ptrs;
  std::vector<std::string> names;
  std::vector<attain::ChunkSink*> sinks;
  for (std::size_t i = 0; i < programs.size(); ++i) {
    ptrs.push_back(&programs[i]);
    names.push_back(l.scenarios[i].name);
    if (file) {
      attain::ChunkSink* sink = &file->begin_scenario(l.scenarios[i], programs[i]);
      sinks.push_back(c.store == attain::StoreLevel::kSummary ? nullptr : sink);
    }
  }
  attain::AnalysisOptions o = c.options;
  o.progress = progress_bar(a, "compare", o.runs);
  // --json reports each scenario's actuals too, with or without a results file.
  attain::CompareResult r = attain::compare(m, ptrs, names, o, file != nullptr || a.json, sinks,
                                            c.store == attain::StoreLevel::kFull);
  clear_bar(a);
  if (file) {
    for (const auto& e : r.scenarios) file->end_scenario(e);
    file->write_comparisons(r.comparisons);
    file->commit();
  }
  if (a.json) {
    attain::StoredResults sr = stored(a, c, "compare");
    for (std::size_t i = 0; i < l.scenarios.size(); ++i)
      sr.scenarios.push_back(attain::stored_scenario(l.scenarios[i], r.scenarios[i]));
    sr.comparisons = r.comparisons;
    print_document(attain::compare_document(sr));
    adaptive_note(c);
    return 0;
  }
  fmt::print("{}: {} paired runs (the same runs under every scenario), seed {}{}\n", m.name, r.runs,
             c.options.seed,
             c.options.ci_width > 0
                 ? fmt::format("; stopped when every difference's 95 % half-width <= {:g}",
                               c.options.ci_width)
                 : "");
  fmt::print(
      "difference = P(scenario) - P(reference) in percentage points, with its 95 % interval for\n"
      "paired proportions (Newcombe 1998, method 10); helped / hurt: runs meeting the target only\n"
      "under the scenario / only under the reference; p: exact McNemar test\n");
  print_headline(m, l.scenarios, r.scenarios);
  for (const auto& cmp : r.comparisons) {
    fmt::print("\n{} against {} (reference)\n", cmp.scenario, cmp.reference);
    attain::cli::Table table;
    table.name_header = "target";
    table.fixed_headers = {"P(ref)", "P(scen)", "difference [95 % CI]", "helped", "hurt",
                           "p",      "narrower"};
    double ratio_sum = 0;
    int ratio_n = 0;
    auto row = [&](const attain::PairedTarget& t, const std::string& name) {
      const double pw = t.paired.hi - t.paired.lo, uw = t.unpaired.hi - t.unpaired.lo;
      // Without discordant runs both scenarios agree in every run: no ratio to show.
      const bool discordant = t.table.helped + t.table.hurt > 0;
      std::string narrower = discordant && pw > 0 ? fmt::format("{:.1f}x", uw / pw) : "-";
      if (discordant && pw > 0) ratio_sum += uw / pw, ++ratio_n;
      table.names.push_back(name);
      table.fixed.push_back(
          {attain::cli::percent(t.reference.p), attain::cli::percent(t.other.p),
           attain::cli::points_interval(t.paired.difference, t.paired.lo, t.paired.hi),
           fmt::format("{}", t.table.helped), fmt::format("{}", t.table.hurt),
           fmt::format("{:.2g}", t.p_value), narrower});
    };
    for (const auto& t : cmp.targets) row(t, t.name);
    if (!m.targets.empty()) row(cmp.joint, "all targets together");
    for (const auto& line : table.render()) fmt::print("{}\n", line);
    if (ratio_n > 0)
      fmt::print(
          "paired intervals are {:.1f}x narrower than unpaired ones of the same runs\n(mean over "
          "rows where some run differs)\n",
          ratio_sum / ratio_n);
    fmt::print("\nmean paired difference of each target's node at the target's year\n");
    attain::cli::Table values;
    values.name_header = "target";
    values.fixed_headers = {"node", "difference [95 % CI]", "unit"};
    values.fixed_left = {true, false, true};
    auto signed_number = [](double x) {
      return x == 0 ? std::string("0") : fmt::format("{:+.4g}", x);
    };
    for (std::size_t t = 0; t < cmp.targets.size(); ++t) {
      const auto& v = *cmp.targets[t].value_difference;
      values.names.push_back(m.targets[t].name);
      values.fixed.push_back(
          {m.targets[t].node,
           fmt::format("{} [{}, {}]", signed_number(v.mean), signed_number(v.lo),
                       signed_number(v.hi)),
           attain::printable(
               m.nodes[static_cast<std::size_t>(m.node_index.at(m.targets[t].node))].unit, 60)});
    }
    for (const auto& line : values.render()) fmt::print("{}\n", line);
  }
  fmt::print("\n{} runs x {} scenarios in {:.2f} s{}\n", r.runs, l.scenarios.size(), r.seconds,
             a.out.empty() ? "" : fmt::format("; results in {}", a.out));
  adaptive_note(c);
  return 0;
}

/// NAME=FROM:TO:POINTS
attain::SweepAxis parse_axis(const std::string& text) {
  attain::SweepAxis ax;
  const auto eq = text.find('=');
  auto usage = [&]() {
    bad_arg(fmt::format("--lever must be NAME=FROM:TO:POINTS, e.g. fiscal_st=0.5:2:7 (got '{}')",
                        text));
  };
  if (eq == std::string::npos || eq == 0) usage();
  ax.lever = text.substr(0, eq);
  std::vector<std::string> parts;
  std::string rest = text.substr(eq + 1);
  for (std::size_t pos = 0;;) {
    auto colon = rest.find(':', pos);
    parts.push_back(rest.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos));
    if (colon == std::string::npos) break;
    pos = colon + 1;
  }
  if (parts.size() != 3) usage();
  auto from = parse_number(parts[0]), to = parse_number(parts[1]);
  auto points = parse_count(parts[2]);
  if (!from || !to || !points) usage();
  if (*points < 1 || *points > 1000)
    bad_arg(fmt::format("--lever {}: POINTS must be from 1 to 1000 (got {})", ax.lever, *points));
  ax.from = *from;
  ax.to = *to;
  ax.points = static_cast<int>(*points);
  return ax;
}

int cmd_sweep(const RunArgs& a, const std::vector<std::string>& lever_texts) {
  std::vector<attain::SweepAxis> axes;
  for (const auto& t : lever_texts) axes.push_back(parse_axis(t));
  if (axes.empty()) bad_arg("sweep needs at least one --lever NAME=FROM:TO:POINTS");
  std::size_t total = 1;
  for (const auto& ax : axes) {
    if (total > attain::kMaxSweepPoints / static_cast<std::size_t>(ax.points))
      bad_arg(fmt::format("the sweep grid has more than {} points", attain::kMaxSweepPoints));
    total *= static_cast<std::size_t>(ax.points);
  }
  for (std::size_t i = 0; i < axes.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (axes[i].lever == axes[j].lever)
        bad_arg(
            fmt::format("lever '{}' is swept twice; give each lever one --lever", axes[i].lever));
  if (a.scenarios.size() > 1) bad_arg("sweep takes at most one --scenario (the base)");
  Common c = prepare(a);
  const Loaded& l = c.loaded;
  const auto& m = l.model;
  attain::Model sm = attain::apply_scenario(m, l.scenarios[0]);
  attain::Program base = attain::compile(sm, l.graph);
  for (const auto& ax : axes) attain::LeverKnob(sm, {ax.lever});  // names checked first
  catch_signals();  // before the temporary exists: no signal can leave it behind
  auto file = open_file(a, c, run_info(c, "sweep"));
  attain::AnalysisOptions o = c.options;
  o.progress = progress_bar(a, "sweep", total, "points");
  attain::SweepResult r = attain::sweep(base, sm, axes, o);
  clear_bar(a);
  if (file) {
    file->write_sweep(r, l.scenarios[0]);
    file->commit();
  }
  if (a.json) {
    attain::StoredResults sr = stored(a, c, "sweep");
    sr.analysis_scenario = l.scenarios[0].name;
    sr.sweep = r;
    print_document(attain::sweep_document(sr));
    return 0;
  }
  fmt::print("{} / {}: sweep of {} points, each on the same {} runs, seed {}\n", m.name,
             l.scenarios[0].name, r.points.size(), r.runs, c.options.seed);
  for (std::size_t i = 0; i < axes.size(); ++i)
    fmt::print("  {}: {} from {:g} to {:g} in {} points\n", axes[i].lever,
               r.absolute[i] ? "value" : "scale factor on the scenario's rule", axes[i].from,
               axes[i].to, axes[i].points);
  fmt::print("probability of meeting each target (95 % Wilson half-width at most {:.3f})\n\n", [&] {
    double h = 0;
    for (const auto& p : r.points) {
      for (const auto& t : p.targets) h = std::max(h, (t.hi - t.lo) / 2);
      h = std::max(h, (p.joint.hi - p.joint.lo) / 2);
    }
    return h;
  }());
  for (std::size_t t = 0; t < m.targets.size(); ++t)
    fmt::print("  T{:<3} {} ({})\n", t + 1, m.targets[t].name,
               attain::printable(m.targets[t].label, 300));
  std::string header;
  for (const auto& ax : axes) header += fmt::format("{:>12} ", ax.lever.substr(0, 12));
  for (std::size_t t = 0; t < m.targets.size(); ++t)
    header += fmt::format("{:>6} ", fmt::format("T{}", t + 1));
  header += fmt::format("{:>6}", "all");
  const bool priced = !r.points.empty() && r.points.front().cost;
  if (priced) header += fmt::format(" {:>9}", "cost");
  fmt::print("\n{}\n{}\n", header, std::string(header.size(), '-'));
  for (const auto& p : r.points) {
    std::string row;
    for (double v : p.levels) row += fmt::format("{:>12.6g} ", v);
    for (const auto& t : p.targets) row += fmt::format("{:>6.3f} ", t.p);
    row += fmt::format("{:>6.3f}", p.joint.p);
    if (priced) row += fmt::format(" {:>9.4g}", p.cost.value_or(std::nan("")));
    fmt::print("{}\n", row);
  }
  if (priced)
    fmt::print(
        "cost: the levers' costs at the point, summed over the years after the start, in "
        "{}\n",
        attain::printable(m.cost_unit, 40));
  if (!r.non_monotone.empty()) {
    fmt::print(stderr, "attain: warning: estimates fall where a lever rises ({} cases), e.g. {}\n",
               r.non_monotone.size(), r.non_monotone.front());
  }
  fmt::print("\n{} points x {} runs in {:.2f} s{}\n", r.points.size(), r.runs, r.seconds,
             a.out.empty() ? "" : fmt::format("; results in {}", a.out));
  return 0;
}

struct SearchArgs {
  std::string levers, target, probability, range, tolerance = "0.01";
};

int cmd_search(const RunArgs& a, const SearchArgs& sa) {
  if (a.scenarios.size() > 1) bad_arg("search takes at most one --scenario (the base)");
  attain::SearchSpec spec;
  for (std::size_t pos = 0;;) {
    auto comma = sa.levers.find(',', pos);
    spec.levers.push_back(
        sa.levers.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  auto goal = parse_number(sa.probability);
  if (!goal || *goal <= 0 || *goal >= 1)
    bad_arg(fmt::format("--probability must be a number in (0, 1), e.g. 0.8 (got '{}')",
                        sa.probability));
  spec.goal = *goal;
  auto tol = parse_number(sa.tolerance);
  if (!tol || *tol <= 0)
    bad_arg(fmt::format("--tolerance must be a number > 0 (got '{}')", sa.tolerance));
  spec.tolerance = *tol;
  if (!sa.range.empty()) {
    auto colon = sa.range.find(':');
    std::optional<double> lo, hi;
    if (colon != std::string::npos) {
      lo = parse_number(sa.range.substr(0, colon));
      hi = parse_number(sa.range.substr(colon + 1));
    }
    if (!lo || !hi || !(*hi > *lo))
      bad_arg(fmt::format("--range must be LO:HI with LO < HI, e.g. 0.5:3 (got '{}')", sa.range));
    spec.low = lo;
    spec.high = hi;
  }
  Common c = prepare(a);
  const Loaded& l = c.loaded;
  const auto& m = l.model;
  if (sa.target != "all") {
    std::vector<std::string> names{"all"};
    for (const auto& t : m.targets) names.push_back(t.name);
    for (std::size_t t = 0; t < m.targets.size(); ++t)
      if (m.targets[t].name == sa.target) spec.target = static_cast<int>(t);
    if (spec.target < 0)
      bad_arg(fmt::format("--target '{}' is not a target of model '{}'{}; valid: {}", sa.target,
                          m.name, attain::did_you_mean(sa.target, names), attain::one_of(names)));
  } else if (m.targets.empty()) {
    bad_arg(fmt::format("model '{}' has no targets to search for", m.name));
  }
  attain::Model sm = attain::apply_scenario(m, l.scenarios[0]);
  attain::Program base = attain::compile(sm, l.graph);
  attain::LeverKnob knob(sm, spec.levers);  // names checked before any file is made
  catch_signals();  // before the temporary exists: no signal can leave it behind
  auto file = open_file(a, c, run_info(c, "search"));
  attain::AnalysisOptions o = c.options;
  o.progress = progress_bar(a, "search", 40, "evals");
  attain::SearchResult r = attain::search(base, sm, spec, o);
  clear_bar(a);
  if (file) {
    file->write_search(r, l.scenarios[0]);
    file->commit();
  }
  const std::string what =
      spec.target < 0
          ? "all targets together"
          : fmt::format("{} ({} {} {:g} in {:g})",
                        m.targets[static_cast<std::size_t>(spec.target)].name,
                        m.targets[static_cast<std::size_t>(spec.target)].node,
                        attain::cmp_name(m.targets[static_cast<std::size_t>(spec.target)].op),
                        m.targets[static_cast<std::size_t>(spec.target)].threshold,
                        m.targets[static_cast<std::size_t>(spec.target)].year);
  if (a.json) {
    attain::StoredResults sr = stored(a, c, "search");
    sr.analysis_scenario = l.scenarios[0].name;
    sr.search = r;
    print_document(attain::search_document(sr));
    if (!r.monotone)
      fmt::print(stderr,
                 "attain: warning: the estimated probability is not monotone in the level\n");
    return 0;
  }
  fmt::print("{} / {}: least {} with P({}) >= {:g}\n", m.name, l.scenarios[0].name,
             knob.description(), what, r.goal);
  fmt::print("  on the same {} runs at every level (seed {}), searched in [{:g}, {:g}] to {:g}\n",
             r.runs, c.options.seed, r.range_low, r.range_high, r.tolerance);
  if (r.reachable) {
    // Levels to the tolerance's precision (bisection midpoints carry spurious digits).
    const int digits = std::clamp(static_cast<int>(std::ceil(-std::log10(r.tolerance))) + 1, 0, 12);
    fmt::print("  level {:.{}f}: P = {}\n", r.level, digits,
               interval(r.at_level.p, r.at_level.lo, r.at_level.hi));
    if (std::isfinite(r.level_high))
      fmt::print("  levels whose 95 % interval contains {:g}: {:.{}f} to {:.{}f}\n", r.goal,
                 r.level_low, digits, r.level_high, digits);
    else
      fmt::print(
          "  levels whose 95 % interval contains {:g}: from {:.{}f} to beyond the range "
          "(no level in it has its whole interval above {:g})\n",
          r.goal, r.level_low, digits, r.goal);
    if (!knob.absolute())
      fmt::print("  (a scale factor on the scenario's rule; 1 is the scenario as written)\n");
  } else {
    fmt::print("  unreachable in the range: at {:g}, the top of the range, P = {}\n", r.range_high,
               interval(r.at_level.p, r.at_level.lo, r.at_level.hi));
  }
  fmt::print("  {} evaluations in {:.2f} s{}\n", r.evaluations.size(), r.seconds,
             a.out.empty() ? "" : fmt::format("; results in {}", a.out));
  if (!r.monotone)
    fmt::print(stderr,
               "attain: warning: the estimated probability falls somewhere as the level rises; "
               "the model is not monotone in this lever and the answer may not be the least "
               "level\n");
  return 0;
}

/// Options of `attain sensitivity` beyond RunArgs.
struct SensitivityArgs {
  int resamples = 200;
  std::string sampling = "sobol";
  std::vector<std::string> factors;
  int top = 12;
  std::string prim_rows = "32768";
  double prim_coverage = 0.5;
  double prim_alpha = 0.05;
  std::string given_data;
};

/// "NAME=a,b,c" -> a hand-made factor.
attain::FactorGroup parse_factor(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    bad_arg(fmt::format("--factor must be NAME=PARAMETER,PARAMETER,... (got '{}')", text));
  attain::FactorGroup g;
  g.name = text.substr(0, eq);
  std::string rest = text.substr(eq + 1);
  std::size_t at = 0;
  while (at <= rest.size()) {
    const auto comma = rest.find(',', at);
    std::string name = rest.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    if (name.empty())
      bad_arg(fmt::format("--factor '{}': an empty parameter name in '{}'", g.name, rest));
    g.parameters.push_back(name);
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return g;
}

/// "0.42 [0.38, 0.47]", or "-" without an estimate.
std::string estimate_text(const attain::Estimate& e) {
  if (!std::isfinite(e.value)) return "-";
  return fmt::format("{:.3f} [{:.3f}, {:.3f}]", e.value, e.lo, e.hi);
}

std::string percent(double p) {
  if (!std::isfinite(p)) return "-";
  if (p > 0 && p < 0.001) return "<0.1%";
  return fmt::format("{:.1f}%", 100 * p);
}

/// `attain sensitivity MODEL --given-data RESULTS.h5`: first-order indices and thirds
/// from the rows an ordinary run stored, with no extra runs.
int cmd_given_data(const RunArgs& a, const SensitivityArgs& sa) {
  if (!a.out.empty() || a.out_given)
    bad_arg("--given-data reads a results file and writes none; leave out --out");
  if (!a.scenarios.empty())
    bad_arg(
        "--given-data analyses every scenario stored in the results file; leave out "
        "--scenario");
  if (!sa.factors.empty())
    bad_arg(
        "--factor applies to Saltelli's design; --given-data gives each parameter's own "
        "first-order index");
  const attain::Model m = attain::load_model(a.model);
  std::vector<std::string> names;
  try {
    names = attain::stored_scenarios(sa.given_data);
  } catch (const attain::OutputError& e) {
    bad_arg(fmt::format("--given-data: {}", e.what()));
  }
  if (names.empty())
    bad_arg(fmt::format(
        "--given-data: '{}' holds no scenario (write it with 'attain run ... --store targets "
        "--out FILE')",
        sa.given_data));
  json out = json::array();
  for (const auto& sn : names) {
    attain::StoredRuns r;
    try {
      r = attain::read_runs(sa.given_data, sn);
    } catch (const attain::OutputError& e) {
      bad_arg(fmt::format("--given-data: {}", e.what()));
    }
    if (r.model != m.name)
      bad_arg(fmt::format("--given-data: '{}' holds results of model '{}', not of '{}' ({})",
                          sa.given_data, r.model, m.name, a.model));
    const std::size_t rows = r.target_values.empty() ? 0 : r.target_values[0].size();
    // Parameters that vary in these runs (a fixed one has one value in every row).
    std::vector<std::size_t> cols;
    std::vector<std::vector<double>> x;
    for (std::size_t q = 0; q < r.parameters.size(); ++q) {
      const auto& c = r.values[q];
      if (std::any_of(c.begin(), c.end(), [&](double v) { return v != c.front(); })) {
        cols.push_back(q);
        x.push_back(c);
      }
    }
    struct Output {
      std::string target;
      bool met;
      std::vector<double> y;
    };
    std::vector<Output> outputs;
    std::vector<double> joint(rows, 1.0);
    for (std::size_t t = 0; t < r.targets.size(); ++t) {
      Output met{r.targets[t], true, std::vector<double>(rows)};
      for (std::size_t i = 0; i < rows; ++i) {
        met.y[i] = attain::compare(r.ops[t], r.target_values[t][i], r.thresholds[t]) ? 1.0 : 0.0;
        joint[i] = joint[i] * met.y[i];
      }
      outputs.push_back(std::move(met));
      outputs.push_back({r.targets[t], false, r.target_values[t]});
    }
    if (r.targets.size() > 1) outputs.push_back({"", true, joint});
    attain::GivenDataOptions go;
    std::vector<std::vector<double>> ys;
    std::vector<char> flags;
    for (const auto& o : outputs) ys.push_back(o.y), flags.push_back(o.met);
    std::vector<std::vector<attain::GivenDataIndex>> all;
    try {
      all = attain::given_data_indices(x, ys, flags, go);
    } catch (const std::invalid_argument& e) {
      bad_arg(fmt::format("--given-data: scenario '{}': {}", sn, e.what()));
    }
    if (!a.json)
      fmt::print(
          "{}, scenario {}: given-data first-order indices from {} stored runs of '{}' (no "
          "extra runs)\nS1 by binning each parameter's ranks (ANOVA estimator) with a 95 % "
          "interval from {} batches of runs;\na correlated parameter's S1 includes what its "
          "partners explain through it. Total indices need Saltelli's design (leave out "
          "--given-data).\n",
          m.name, sn, rows, sa.given_data, go.batches);
    for (std::size_t oi = 0; oi < outputs.size(); ++oi) {
      const auto& o = outputs[oi];
      const auto& idx = all[oi];
      double mean = 0;
      for (double v : o.y) mean += v;
      mean /= static_cast<double>(std::max<std::size_t>(rows, 1));
      if (a.json) {
        json fs = json::array();
        const std::string prefix = o.met ? "p_" : "mean_";
        for (std::size_t q = 0; q < idx.size(); ++q)
          fs.push_back({{"name", r.parameters[cols[q]]},
                        {"S1", number(idx[q].s1.value)},
                        {"S1_low", number(idx[q].s1.lo)},
                        {"S1_high", number(idx[q].s1.hi)},
                        {"ST", nullptr},
                        {"ST_low", nullptr},
                        {"ST_high", nullptr},
                        {prefix + "low_third", number(idx[q].thirds[0].value)},
                        {prefix + "mid_third", number(idx[q].thirds[1].value)},
                        {prefix + "high_third", number(idx[q].thirds[2].value)}});
        out.push_back({{"scenario", sn},
                       {"target", o.target.empty() ? json(nullptr) : json(o.target)},
                       {"output", o.met ? "met" : "value"},
                       {"method", "given-data"},
                       {"runs", rows},
                       {"mean", number(mean)},
                       {"factors", fs}});
        continue;
      }
      if (!o.met) continue;
      fmt::print("\n{}: P(met) = {}\n", o.target.empty() ? "all targets together" : o.target,
                 percent(mean));
      std::vector<std::size_t> order(idx.size());
      for (std::size_t q = 0; q < order.size(); ++q) order[q] = q;
      std::stable_sort(order.begin(), order.end(), [&](std::size_t p1, std::size_t p2) {
        const double v1 = idx[p1].s1.value, v2 = idx[p2].s1.value;
        return (std::isfinite(v1) ? v1 : -1) > (std::isfinite(v2) ? v2 : -1);
      });
      if (order.empty() || !std::isfinite(idx[order[0]].s1.value)) {
        fmt::print("  no variance to attribute\n");
        continue;
      }
      std::size_t w = 24;
      for (std::size_t c : cols) w = std::max(w, r.parameters[c].size());
      std::string header = fmt::format("  {:<{}} {:>24}   {:>7} {:>7} {:>7}", "parameter", w,
                                       "S1 [95 % CI]", "P low", "P mid", "P high");
      fmt::print("{}\n  {}\n", header, std::string(header.size() - 2, '-'));
      for (std::size_t k = 0; k < order.size() && k < static_cast<std::size_t>(sa.top); ++k) {
        const auto& g = idx[order[k]];
        fmt::print("  {:<{}} {:>24}   {:>7} {:>7} {:>7}\n", r.parameters[cols[order[k]]], w,
                   estimate_text(g.s1), percent(g.thirds[0].value), percent(g.thirds[1].value),
                   percent(g.thirds[2].value));
      }
      if (order.size() > static_cast<std::size_t>(sa.top))
        fmt::print("  ({} more parameters with smaller S1: --top or --json shows them)\n",
                   order.size() - static_cast<std::size_t>(sa.top));
    }
  }
  if (a.json) {
    json j;
    j["schema"] = "attain-sensitivity-given-data";
    j["version"] = attain::kDocumentVersion;
    j["engine_version"] = attain::kEngineVersion;
    j["model"] = m.name;
    j["given_data"] = sa.given_data;
    j["method"] = "given-data first-order indices by binning (ANOVA estimator)";
    j["interval"] = "95 % Student-t interval from 20 batches of consecutive runs";
    j["sensitivity"] = out;
    j["prim"] = json::array();
    print_document(j);
  }
  return 0;
}

int cmd_sensitivity(const RunArgs& a, const SensitivityArgs& sa) {
  if (!sa.given_data.empty()) return cmd_given_data(a, sa);
  RunArgs args = a;
  args.store = "summary";
  Common c = prepare(args);
  if (sa.resamples < 10 || sa.resamples > 10000)
    bad_arg(fmt::format("--resamples must be from 10 to 10000 (got {})", sa.resamples));
  if (sa.sampling != "sobol" && sa.sampling != "random")
    bad_arg(fmt::format("unknown --sampling '{}'; valid: 'sobol' or 'random'", sa.sampling));
  if (sa.top < 1) bad_arg(fmt::format("--top must be >= 1 (got {})", sa.top));
  auto prim_rows = parse_count(sa.prim_rows);
  if (!prim_rows || *prim_rows > (std::uint64_t{1} << 24))
    bad_arg(
        fmt::format("--prim-rows must be a whole number from 0 to 2^24 (got '{}')", sa.prim_rows));
  if (!(sa.prim_coverage > 0 && sa.prim_coverage <= 1))
    bad_arg(fmt::format("--prim-coverage must be in (0, 1] (got {})", sa.prim_coverage));
  if (!(sa.prim_alpha > 0 && sa.prim_alpha < 0.5))
    bad_arg(fmt::format("--prim-alpha must be in (0, 0.5) (got {})", sa.prim_alpha));
  if (c.options.runs < 2) bad_arg("--rows must be at least 2");
  std::vector<attain::FactorGroup> groups;
  for (const auto& f : sa.factors) groups.push_back(parse_factor(f));
  catch_signals();
  auto file = open_file(args, c, run_info(c, "sensitivity"));
  const Loaded& l = c.loaded;
  const auto& m = l.model;
  std::vector<attain::SensitivityResult> results;
  for (std::size_t si = 0; si < l.scenarios.size(); ++si) {
    const auto& s = l.scenarios[si];
    attain::Program program = attain::compile(attain::apply_scenario(m, s), l.graph);
    attain::SensitivityOptions o;
    o.rows = c.options.runs;
    o.seed = c.options.seed;
    o.sampling = sa.sampling == "sobol" ? attain::Sampling::kSobol : attain::Sampling::kRandom;
    o.resamples = sa.resamples;
    o.groups = groups;
    o.prim_rows = *prim_rows;
    o.prim.min_coverage = sa.prim_coverage;
    o.prim.alpha = sa.prim_alpha;
    o.prim.paste_alpha = sa.prim_alpha;
    o.threads = c.options.threads;
    o.block = c.options.block;
    o.cancel = &g_interrupted;
    o.memory_limit = c.options.memory_limit;
    o.memory_limit_source = c.options.memory_limit_source;
    o.communicator = c.options.communicator;
    o.progress = progress_bar(a, fmt::format("{} ({}/{})", s.name, si + 1, l.scenarios.size()),
                              o.rows, "rows");
    try {
      results.push_back(attain::run_sensitivity(program, o));
    } catch (const std::invalid_argument& e) {
      bad_arg(fmt::format("scenario '{}': {}", s.name, e.what()));
    }
    clear_bar(a);
    if (file) file->write_sensitivity(s.name, results.back());
  }
  if (file) file->commit();

  auto target_label = [&](const attain::OutputSensitivity& o) {
    if (o.output.target < 0) return std::string("all targets together");
    const auto& t = m.targets[static_cast<std::size_t>(o.output.target)];
    return fmt::format("{} ({} {} {:g} in {:g})", t.name, t.node, attain::cmp_name(t.op),
                       t.threshold, t.year);
  };
  if (a.json) {
    attain::StoredResults sr = stored(args, c, "sensitivity");
    for (std::size_t si = 0; si < results.size(); ++si)
      sr.sensitivity.emplace_back(l.scenarios[si].name, results[si]);
    print_document(attain::sensitivity_document(sr));
    return 0;
  }
  for (std::size_t si = 0; si < results.size(); ++si) {
    const auto& r = results[si];
    fmt::print(
        "{}, scenario {}: Sobol indices of {} factors over {} rows of Saltelli's design "
        "({} runs), {} sampling, seed {}\n",
        m.name, l.scenarios[si].name, r.factors.size(), r.rows, r.runs,
        sa.sampling == "sobol" ? "Sobol-sequence" : "random", c.options.seed);
    fmt::print(
        "S1: first-order index (Saltelli 2010), ST: total index (Jansen 1999), each with a 95 % "
        "bootstrap interval ({} resamples);\nP by third: P(met) when the parameter lies in the "
        "lower, middle, upper third of its distribution.\nCorrelated parameters form one factor; "
        "Sobol indices assume independent factors.\n",
        r.resamples);
    std::map<std::string, std::size_t> q_of;
    for (std::size_t q = 0; q < r.uncertain.size(); ++q) q_of[r.uncertain[q]] = q;
    std::size_t w = 24;
    for (const auto& f : r.factors) {
      if (f.members.size() == 1 || f.shocks) w = std::max(w, f.name.size());
      for (const auto& member : f.members) w = std::max(w, member.size() + 2);
    }
    for (std::size_t oi = 0; oi < r.outputs.size(); ++oi) {
      const auto& o = r.outputs[oi];
      if (!o.output.met) continue;
      fmt::print("\n{}: P(met) = {}\n", target_label(o), percent(o.mean));
      if (!(o.variance > 0)) {
        fmt::print("  {} in every run: no variance to attribute\n",
                   o.mean > 0.5 ? "met" : "not met");
        continue;
      }
      std::vector<std::size_t> order(r.factors.size());
      for (std::size_t f = 0; f < order.size(); ++f) order[f] = f;
      std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
        const double a1 = o.factors[x].st.value, b1 = o.factors[y].st.value;
        return (std::isfinite(a1) ? a1 : -1) > (std::isfinite(b1) ? b1 : -1);
      });
      std::string header = fmt::format("  {:<{}} {:>24} {:>24}   {:>7} {:>7} {:>7}", "factor", w,
                                       "S1 [95 % CI]", "ST [95 % CI]", "P low", "P mid", "P high");
      fmt::print("{}\n  {}\n", header, std::string(header.size() - 2, '-'));
      // Factors that change nothing (every AB_j run equal to A's: ST exactly 0 in every
      // resample) are counted, not listed.
      auto inert = [&](std::size_t f) {
        return o.factors[f].st.value == 0 && o.factors[f].st.hi == 0;
      };
      std::size_t none = 0;
      for (std::size_t f : order) none += inert(f);
      std::size_t shown = 0;
      for (std::size_t f : order) {
        if (shown == static_cast<std::size_t>(sa.top) || inert(f)) break;
        ++shown;
        const auto& fi = o.factors[f];
        std::string thirds = fmt::format("{:>7} {:>7} {:>7}", "", "", "");
        if (r.factors[f].members.size() == 1) {
          const auto& th = o.thirds[q_of.at(r.factors[f].members[0])];
          thirds = fmt::format("{:>7} {:>7} {:>7}", percent(th[0].value), percent(th[1].value),
                               percent(th[2].value));
        }
        std::string name = r.factors[f].name;
        if (r.factors[f].members.size() > 1)
          name = fmt::format("{} ({} parameters)", r.factors[f].why == "--factor" ? name : "group",
                             r.factors[f].members.size());
        fmt::print("  {:<{}} {:>24} {:>24}   {}\n", name, w, estimate_text(fi.s1),
                   estimate_text(fi.st), thirds);
        // A group's members: each parameter's thirds.
        if (r.factors[f].members.size() > 1)
          for (const auto& member : r.factors[f].members) {
            const auto& th = o.thirds[q_of.at(member)];
            fmt::print("    {:<{}} {:>24} {:>24}   {:>7} {:>7} {:>7}\n", member, w - 2, "", "",
                       percent(th[0].value), percent(th[1].value), percent(th[2].value));
          }
      }
      if (shown + none < order.size())
        fmt::print("  ({} more factors with smaller ST: --top {} or --json shows them)\n",
                   order.size() - shown - none, order.size());
      if (none > 0)
        fmt::print("  ({} factor{} cannot change this output at all: ST = 0 exactly)\n", none,
                   none == 1 ? "" : "s");
      if (std::isfinite(o.sum_s1.value))
        fmt::print("  sum of S1 {}: {:.2f} of the variance is left to interactions\n",
                   estimate_text(o.sum_s1), std::max(0.0, 1 - o.sum_s1.value));
      for (const auto& pt : r.prim) {
        if (pt.target != o.output.target) continue;
        const auto& p = pt.result;
        if (!p.reason.empty()) {
          fmt::print("  scenario discovery (PRIM): {}\n", p.reason);
        } else if (p.restricted.empty()) {
          fmt::print("  scenario discovery (PRIM): no box denser than the whole space\n");
        } else {
          std::size_t weak = 0;
          for (const auto& d : p.restricted) weak += !(d.quasi_p < 0.05);
          std::string words = attain::prim_box_words(p, r.uncertain, 0.05);
          fmt::print(
              "  scenario discovery (PRIM): met in {} of the runs where {}\n    (the box holds "
              "{} of the runs that meet it, {} of all runs{})\n",
              percent(p.box.density), words.empty() ? "(no limit with quasi-p < 0.05)" : words,
              percent(p.box.coverage), percent(p.box.mass),
              weak ? fmt::format("; {} more limit{} with quasi-p >= 0.05 in --json", weak,
                                 weak == 1 ? "" : "s")
                   : "");
        }
      }
    }
    fmt::print("\n{} runs in {:.2f} s{}\n", r.runs, r.seconds,
               a.out.empty() ? "" : fmt::format("; results in {}", a.out));
  }
  return 0;
}

/// One run's every node at every step, as a table or JSON.
void print_replay(const attain::Model& m, const std::string& scenario, std::uint64_t seed,
                  std::uint64_t run, const std::vector<std::vector<double>>& values, bool as_json) {
  if (as_json) {
    json j;
    j["model"] = m.name;
    j["scenario"] = scenario;
    j["seed"] = seed;
    j["run"] = run;
    json years = json::array();
    for (int k = 0; k < m.time.steps(); ++k) years.push_back(m.time.time(k));
    j["time"] = years;
    json nodes = json::object();
    for (std::size_t n = 0; n < m.nodes.size(); ++n) {
      json series = json::array();
      for (const auto& step : values) series.push_back(step[n]);
      nodes[m.nodes[n].name] = series;
    }
    j["values"] = nodes;
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::string header = fmt::format("{:<28}", "node");
  for (int k = 0; k < m.time.steps(); ++k)
    header += fmt::format(" {:>14}", fmt::format("{:g}", m.time.time(k)));
  fmt::print("{} / {}: run {} with seed {}\n{}\n", m.name, scenario, run, seed, header);
  for (std::size_t n = 0; n < m.nodes.size(); ++n) {
    std::string row = fmt::format("{:<28}", m.nodes[n].name);
    for (const auto& step : values) row += fmt::format(" {:>14.6g}", step[n]);
    fmt::print("{}\n", row);
  }
}

/// Whether `path` is a regular file that starts with HDF5's signature (a results file).
bool is_hdf5_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  std::ifstream in(path, std::ios::binary);
  char head[8] = {};
  in.read(head, sizeof head);
  return in.gcount() == 8 && std::string(head, 8) == std::string("\x89HDF\r\n\x1a\n", 8);
}

/// `attain replay RESULTS.h5 --run R [--scenario NAME]`: the run again from what the file
/// stored (its seed, the model's and the scenario's texts), by this engine only if it is
/// the version that wrote the file.
int cmd_replay_results(const std::string& path, const std::vector<std::string>& scenarios,
                       std::uint64_t run, bool seed_given, bool as_json) {
  if (seed_given)
    bad_arg(fmt::format("--seed: '{}' is a results file, which gives the seed; leave out --seed",
                        path));
  if (scenarios.size() > 1)
    bad_arg("replay takes at most one --scenario (with a results file: a scenario's name)");
  const attain::StoredResults r = attain::read_results(path);
  if (r.engine_version != attain::kEngineVersion)
    bad_arg(fmt::format(
        "'{}' was written by attain {}, this is attain {}: another engine version may draw "
        "other values, so the run would not be the one the file holds; replay it with attain {}",
        path, attain::printable(r.engine_version, 100), attain::kEngineVersion,
        attain::printable(r.engine_version, 100)));
  if (r.info.analysis != "run" && r.info.analysis != "compare")
    bad_arg(
        fmt::format("'{}' holds a {}, whose model evaluations are not the numbered runs of an "
                    "ensemble; replay takes a file of 'attain run' or 'attain compare'",
                    path, attain::printable(r.info.analysis, 100)));
  std::vector<std::string> names;
  for (const auto& sc : r.scenarios) names.push_back(sc.name);
  if (names.empty()) bad_arg(fmt::format("'{}' holds no scenario to replay", path));
  const attain::StoredScenario* chosen = nullptr;
  if (scenarios.empty()) {
    if (r.scenarios.size() > 1)
      bad_arg(fmt::format("'{}' holds {} scenarios; name one with --scenario NAME: {}", path,
                          names.size(), attain::one_of(names)));
    chosen = &r.scenarios[0];
  } else {
    for (const auto& sc : r.scenarios)
      if (sc.name == scenarios[0]) chosen = &sc;
    if (!chosen)
      bad_arg(fmt::format("--scenario '{}' is not in '{}'{}; valid: {}",
                          attain::printable(scenarios[0], 200), path,
                          attain::did_you_mean(scenarios[0], names), attain::one_of(names)));
  }
  const std::uint64_t first = r.info.first_run, used = chosen->result.runs;
  if (run < first || run - first >= used)
    bad_arg(fmt::format("--run {} is not a run of scenario '{}' in '{}'; it holds runs {} to {}",
                        run, chosen->name, path, first, first + used - 1));
  const attain::Model& m = r.model;
  // The scenario from the texts the file stored, never from files on disk (which may
  // have changed since); a model run as written has none.
  attain::Scenario scenario = chosen->sources.empty()
                                  ? attain::default_scenario(m)
                                  : attain::parse_stored_scenario(chosen->path, chosen->sources, m);
  if (scenario.name != chosen->name)
    bad_arg(fmt::format("'{}': the stored source of scenario '{}' names scenario '{}'", path,
                        chosen->name, attain::printable(scenario.name, 200)));
  const attain::DependencyGraph graph = attain::build_graph(m);
  attain::Program p = attain::compile(attain::apply_scenario(m, scenario), graph);
  print_replay(m, scenario.name, r.info.seed, run, attain::replay_run(p, r.info.seed, run),
               as_json);
  return 0;
}

int cmd_replay(const std::string& model_path, const std::vector<std::string>& scenarios,
               const std::string& run_text, const std::string& seed_text, bool seed_given,
               bool as_json) {
  auto run_index = parse_count(run_text);
  auto seed_value = parse_count(seed_text);
  if (!run_index) {
    fmt::print(stderr, "attain: error: --run must be a whole number >= 0 (got '{}')\n", run_text);
    return kExitInput;
  }
  if (is_hdf5_file(model_path))
    return cmd_replay_results(model_path, scenarios, *run_index, seed_given, as_json);
  if (!seed_value) {
    fmt::print(stderr, "attain: error: --seed must be a whole number from 0 to 2^64-1 (got '{}')\n",
               seed_text);
    return kExitInput;
  }
  const std::uint64_t run = *run_index, seed = *seed_value;
  Loaded l = load(model_path, scenarios);
  if (l.scenarios.size() != 1) {
    fmt::print(stderr, "attain: error: replay takes at most one --scenario\n");
    return kExitInput;
  }
  attain::Program p = attain::compile(attain::apply_scenario(l.model, l.scenarios[0]), l.graph);
  print_replay(l.model, l.scenarios[0].name, seed, run, attain::replay_run(p, seed, run), as_json);
  return 0;
}

// ---------------------------------------------------------------------------------------
// attain export RESULTS.h5 --format csv|json [--what PART] [--out FILE] [--bom]

struct ExportArgs {
  std::string file, format, what, out;
  bool bom = false;
  bool out_given = false;
};

/// The temporary file of `export --out` while it is written: a signal removes it
/// (unlink and _exit are async-signal-safe), so no partial output is left.
char g_export_temporary[4096];
extern "C" void on_export_signal(int) {
  if (g_export_temporary[0]) ::unlink(g_export_temporary);
  static const char text[] = "attain: error: interrupted; no output written\n";
  [[maybe_unused]] auto n = ::write(2, text, sizeof text - 1);
  ::_exit(attain::kExitInterrupted);
}

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

/// Writes `write(stream)` to `path` atomically: a temporary file beside it, created
/// exclusively, synced and renamed over `path`; on any error (or a signal) the
/// temporary is removed and `path` stays as it was. Without `path`, writes to stdout.
void write_output(const std::string& path, const std::function<void(std::ostream&)>& write) {
  if (path.empty()) {
    std::cout.flush();
    FdBuf buf(1);
    std::ostream os(&buf);
    write(os);
    os.flush();
    if (!os || buf.error())
      throw attain::OutputError(
          fmt::format("cannot write to standard output: {}", std::strerror(buf.error())));
    return;
  }
  // Temporaries of this output that a killed export (kill -9) left, as for results files.
  for (const auto& t : attain::remove_stale_temporaries(path))
    fmt::print(stderr, "attain: {} stale temporary file '{}' left by a killed run (pid {}){}\n",
               t.removed ? "removed" : "warning: cannot remove", attain::printable(t.path, 500),
               t.pid, t.removed ? "" : ": " + t.error);
  std::random_device rd;
  const std::string tmp = fmt::format("{}.tmp-{}-{:08x}{:08x}", path, ::getpid(),
                                      std::uint32_t{rd()}, std::uint32_t{rd()});
  if (tmp.size() >= sizeof g_export_temporary)
    bad_arg(fmt::format("--out '{}': the path is too long", attain::printable(path, 300)));
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) std::signal(sig, on_export_signal);
  std::memcpy(g_export_temporary, tmp.c_str(), tmp.size() + 1);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    g_export_temporary[0] = 0;
    bad_arg(fmt::format("--out '{}': cannot create a file there: {}", attain::printable(path, 300),
                        std::strerror(errno)));
  }
  auto fail = [&](const std::string& why) {
    ::close(fd);
    ::unlink(tmp.c_str());
    g_export_temporary[0] = 0;
    throw attain::OutputError(
        fmt::format("--out '{}': cannot write it: {}", attain::printable(path, 300), why));
  };
  int error = 0;
  {
    FdBuf buf(fd);
    std::ostream os(&buf);
    try {
      write(os);
    } catch (...) {
      ::close(fd);
      ::unlink(tmp.c_str());
      g_export_temporary[0] = 0;
      throw;
    }
    os.flush();
    error = buf.error() ? buf.error() : os ? 0 : EIO;
  }
  if (error) fail(std::strerror(error));
  if (::fsync(fd) != 0) fail(std::strerror(errno));
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    g_export_temporary[0] = 0;
    throw attain::OutputError(fmt::format("--out '{}': cannot write it: {}",
                                          attain::printable(path, 300), std::strerror(errno)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    g_export_temporary[0] = 0;
    throw attain::OutputError(fmt::format("--out '{}': cannot rename the temporary file to it: {}",
                                          attain::printable(path, 300), std::strerror(e)));
  }
  g_export_temporary[0] = 0;
}

/// `attain merge`: parts of one `run` (--run-range) into the file one process writes.
int cmd_merge(const std::vector<std::string>& paths, const std::string& out, bool quiet) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (out.empty()) bad_arg("--out needs a file name (got an empty one)");
  if (fs::is_directory(out, ec))
    bad_arg(fmt::format("--out '{}' is a directory; name a file, e.g. '{}/all.h5'", out, out));
  std::vector<attain::StoredResults> parts;
  for (const auto& p : paths) {
    if (fs::exists(out, ec) && fs::equivalent(out, p, ec))
      bad_arg(fmt::format("--out '{}' is the part '{}'; the merge would replace it", out, p));
    try {
      parts.push_back(attain::read_results(p));
    } catch (const attain::OutputError& e) {
      bad_arg(e.what());
    }
    const auto& r = parts.back();
    if (r.info.analysis != "run")
      bad_arg(
          fmt::format("'{}' holds a {}; attain merge takes the parts of one 'attain run' "
                      "written with --run-range",
                      p, attain::printable(r.info.analysis, 100)));
  }
  // Every part of one study: the same model, scenarios, seed, chunks, store and engine.
  const attain::StoredResults& a = parts[0];
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const attain::StoredResults& b = parts[i];
    auto differ = [&](const std::string& what, const std::string& va, const std::string& vb) {
      bad_arg(
          fmt::format("'{}' and '{}' are not parts of one study: they differ in {}{}; merge "
                      "parts made by one command with different --run-range only",
                      paths[i], paths[0], what,
                      va.size() + vb.size() < 120 && va.find('\n') == std::string::npos &&
                              vb.find('\n') == std::string::npos
                          ? fmt::format(" ({} and {})", vb, va)
                          : std::string()));
    };
    if (b.engine_version != a.engine_version)
      differ("engine version", a.engine_version, b.engine_version);
    if (b.rng != a.rng) differ("random streams", a.rng, b.rng);
    if (b.model.source_text != a.model.source_text) differ("model", "", "");
    if (b.info.seed != a.info.seed)
      differ("seed", std::to_string(a.info.seed), std::to_string(b.info.seed));
    if (b.info.study_runs != a.info.study_runs)
      differ("--runs", std::to_string(a.info.study_runs), std::to_string(b.info.study_runs));
    if (b.info.chunk != a.info.chunk)
      differ("chunk size", std::to_string(a.info.chunk), std::to_string(b.info.chunk));
    if (b.info.store != a.info.store)
      differ("--store", std::string(attain::store_name(a.info.store)),
             std::string(attain::store_name(b.info.store)));
    if (b.scenarios.size() != a.scenarios.size())
      differ("scenarios", std::to_string(a.scenarios.size()), std::to_string(b.scenarios.size()));
    for (std::size_t s = 0; s < a.scenarios.size(); ++s) {
      if (b.scenarios[s].name != a.scenarios[s].name)
        differ(fmt::format("scenario {}", s + 1), a.scenarios[s].name, b.scenarios[s].name);
      if (b.scenarios[s].sources != a.scenarios[s].sources)
        differ(fmt::format("the source of scenario '{}'", a.scenarios[s].name), "", "");
    }
  }
  // The parts tile [0, N): in run order, no gap, no overlap.
  std::vector<std::size_t> order(parts.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    return parts[x].info.first_run < parts[y].info.first_run;
  });
  const std::uint64_t n = a.info.study_runs;
  std::uint64_t next = 0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const auto& info = parts[order[k]].info;
    const std::uint64_t first = info.first_run, last = info.first_run + info.runs;
    if (first > next)
      bad_arg(
          fmt::format("runs [{}, {}) are in no part: the parts must tile [0, {}) ({} starts "
                      "at run {})",
                      next, first, n, paths[order[k]], first));
    if (first < next)
      bad_arg(fmt::format("runs [{}, {}) are in both '{}' and '{}': the parts must not overlap",
                          first, std::min(next, last), paths[order[k - 1]], paths[order[k]]));
    next = last;
  }
  if (next != n)
    bad_arg(fmt::format("runs [{}, {}) are in no part: the parts must tile [0, {})", next, n, n));

  attain::Model model = a.model;
  const attain::DependencyGraph graph = attain::build_graph(model);
  attain::RunInfo info = a.info;
  info.first_run = 0;
  info.runs = n;
  info.study_runs = n;
  for (const auto& t : attain::remove_stale_temporaries(out))
    if (t.removed)
      fmt::print(stderr,
                 "attain: removed stale temporary file '{}' left by a killed run (pid {})\n",
                 attain::printable(t.path, 500), t.pid);
  catch_signals();
  std::unique_ptr<attain::ResultsFile> file;
  try {
    file = std::make_unique<attain::ResultsFile>(out, model, info);
  } catch (const attain::OutputError& e) {
    bad_arg(fmt::format("--out: {}", e.what()));
  }
  const bool rows = info.store != attain::StoreLevel::kSummary;
  const bool full = info.store == attain::StoreLevel::kFull;
  for (const auto& stored : a.scenarios) {
    const attain::Scenario scenario =
        stored.sources.empty() ? attain::default_scenario(model)
                               : attain::parse_stored_scenario(stored.path, stored.sources, model);
    attain::Program program = attain::compile(attain::apply_scenario(model, scenario), graph);
    attain::ChunkSink& sink = file->begin_scenario(scenario, program);
    const auto prototypes = attain::scenario_reducers(program, true, rows ? &sink : nullptr, full);
    attain::StudyResult merged;
    double seconds = 0;
    for (const std::size_t i : order) {
      if (g_interrupted.load()) throw attain::InterruptedError();
      try {
        attain::StudyState state = attain::read_state(paths[i], stored.name, prototypes);
        if (state.first != parts[i].info.first_run ||
            state.last != parts[i].info.first_run + parts[i].info.runs)
          bad_arg(
              fmt::format("'{}': the state of scenario '{}' covers runs [{}, {}), not the "
                          "file's [{}, {})",
                          paths[i], stored.name, state.first, state.last, parts[i].info.first_run,
                          parts[i].info.first_run + parts[i].info.runs));
        merged.state.append(std::move(state));
        if (rows)
          attain::read_rows(paths[i], stored.name, static_cast<std::uint64_t>(info.chunk), sink);
      } catch (const attain::OutputError& e) {
        bad_arg(e.what());
      }
      for (const auto& sc : parts[i].scenarios)
        if (sc.name == stored.name) seconds += sc.seconds;
    }
    merged.first = 0;
    merged.last = merged.state.last;
    merged.reducers = merged.state.result();
    merged.seconds = seconds;
    file->end_scenario(attain::scenario_result(program, merged.reducers, true, seconds), &merged);
  }
  file->commit();
  if (!quiet)
    fmt::print("merged {} part{} of runs [0, {}) of {} scenario{} into {}\n", parts.size(),
               parts.size() == 1 ? "" : "s", n, a.scenarios.size(),
               a.scenarios.size() == 1 ? "" : "s", out);
  return 0;
}

int cmd_export(const ExportArgs& e) {
  if (e.format != "csv" && e.format != "json")
    bad_arg(fmt::format("unknown --format '{}'; valid: 'csv' or 'json'",
                        attain::printable(e.format, 100)));
  std::optional<attain::ExportPart> part;
  if (!e.what.empty()) {
    part = attain::part_of(e.what);
    if (!part) {
      std::vector<std::string> names;
      for (auto p : attain::all_parts()) names.emplace_back(attain::part_name(p));
      bad_arg(fmt::format("unknown --what '{}'{}; valid: {}", attain::printable(e.what, 100),
                          attain::did_you_mean(e.what, names), attain::one_of(names)));
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
                          attain::printable(e.out, 300), attain::printable(e.out, 300), e.format));
    if (fs::equivalent(e.out, e.file, ec))
      bad_arg(fmt::format("--out '{}' is the results file read; the export would replace it",
                          attain::printable(e.out, 300)));
  }
  const attain::StoredResults results = attain::read_results(e.file);
  if (!part) part = attain::default_part(results);
  attain::require_part(results, *part);  // names what the file has instead
  std::vector<attain::StoredRuns> runs;
  if (*part == attain::ExportPart::kRuns)
    for (const auto& s : results.scenarios) runs.push_back(attain::read_runs(e.file, s.name));
  if (e.format == "json") {
    // Built whole before the output is opened: an error leaves no file.
    const std::string text = attain::document_text(attain::json_document(results, *part, runs));
    write_output(e.out, [&](std::ostream& os) { os << text; });
  } else {
    write_output(e.out, [&](std::ostream& os) {
      if (e.bom) os << attain::kUtf8Bom;
      attain::write_csv(os, results, *part, runs);
    });
  }
  return 0;
}

/// `attain report RESULTS.h5 --out report.html`: one self-contained HTML page
/// (docs/report.md), built whole, then written atomically as export's --out is.
int cmd_report(const std::string& results_path, const std::string& out) {
  namespace fs = std::filesystem;
  if (out.empty()) bad_arg("--out needs a file name, e.g. --out report.html");
  std::error_code ec;
  if (fs::is_directory(out, ec))
    bad_arg(fmt::format("--out '{}' is a directory; name a file, e.g. '{}/report.html'",
                        attain::printable(out, 300), attain::printable(out, 300)));
  if (fs::equivalent(out, results_path, ec))
    bad_arg(fmt::format("--out '{}' is the results file; the report would replace it",
                        attain::printable(out, 300)));
  const attain::StoredResults results = attain::read_results(results_path);
  const std::string html = attain::render_report(results);
  write_output(out, [&](std::ostream& os) { os << html; });
  return 0;
}

}  // namespace

namespace {

int run_command(int argc, char** argv) {
  CLI::App app{"attain: probability of reaching a plan's targets, by Monte Carlo over its model"};
  app.set_version_flag("--version", fmt::format("attain {} (commit {})", attain::kEngineVersion,
                                                attain::cli::build_commit()));
  app.require_subcommand(1);

  std::string model;
  std::vector<std::string> scenarios;
  bool as_json = false;
  auto* check = app.add_subcommand("check", "Validate a model (and scenarios); print its summary");
  check->add_option("model", model, "model file (YAML)")->required();
  check->add_option("--scenario", scenarios, "scenario file (YAML); repeatable");
  const char* dir_help =
      "a folder whose scenario files 'extends' may also name (besides the scenario's own "
      "folder tree); repeatable";
  check->add_option("--scenario-dir", g_scenario_dirs.roots, dir_help)
      ->check(CLI::ExistingDirectory);
  check->add_flag("--json", as_json, "print the summary as JSON");

  std::string format = "dot";
  auto* graph = app.add_subcommand("graph", "Print the dependency graph");
  graph->add_option("model", model, "model file (YAML)")->required();
  graph->add_option("--format", format, "dot (Graphviz), json, or program (compiled instructions)")
      ->check(CLI::IsMember({"dot", "json", "program"}));

  RunArgs ra;
  auto add_common = [&](CLI::App* sub, const std::string& runs_help) {
    sub->add_option("model", ra.model, "model file (YAML)")->required();
    sub->add_option("--runs", ra.runs, runs_help);
    sub->add_option("--seed", ra.seed, "random seed (default 1)");
    sub->add_option("--threads", ra.threads,
                    "worker threads (default: every core; at most the cores unless forced)");
    sub->add_flag("--force-threads", ra.force_threads,
                  "allow --threads above the number of cores (each thread costs memory)");
    sub->add_option("--memory-limit", ra.memory_limit,
                    "refuse a run needing more memory than this, e.g. 8G (default: what is "
                    "available)");
    sub->add_option("--block", ra.block,
                    "runs evaluated together (default 0: chosen from the L1 data cache size, 16 to "
                    "256; results do not depend on it)");
    sub->add_option("--out", ra.out, "results file (HDF5)");
    sub->add_flag("--json", ra.json, "print the results as JSON");
    sub->add_flag("--quiet", ra.quiet, "no progress bar");
    sub->add_option("--scenario-dir", g_scenario_dirs.roots, dir_help)
        ->check(CLI::ExistingDirectory);
  };
  auto* run = app.add_subcommand("run", "Run the Monte Carlo ensemble and report attainment");
  add_common(run, "runs per scenario (default 10000; the ceiling with --ci-width)");
  run->add_option("--scenario", ra.scenarios, "scenario file (YAML); repeatable, one column each");
  run->add_option("--store", ra.store, "per-run data to keep: summary, targets (default) or full");
  run->add_option("--ci-width", ra.ci_width,
                  "stop once every target's 95 % half-width is at most this (e.g. 0.01)");
  run->add_flag("--save-state", ra.save_state,
                "also store each scenario's exact reducer state in --out (for merging run "
                "ranges)");
  run->add_option("--run-range", ra.run_range,
                  "FIRST:LAST: compute only runs [FIRST, LAST) of the --runs, on chunk "
                  "boundaries, for 'attain merge'");
  run->add_option("--part", ra.part,
                  "K/P: compute only part K (from 0) of P of the --runs, whole chunks each, "
                  "for 'attain merge' (e.g. $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)");
  run->add_option("--checkpoint-every", ra.checkpoint_every,
                  fmt::format("seconds between checkpoints of --out (default {:g}; 0: every "
                              "chunk; off: none)",
                              attain::kCheckpointSeconds));
  run->add_flag("--resume", ra.resume,
                "continue from the checkpoint of an interrupted run with the same --out "
                "(or start, when there is none)");

  auto* cmp = app.add_subcommand(
      "compare", "Compare scenarios with the first on the same runs (paired differences)");
  add_common(cmp, "paired runs (default 10000; the ceiling with --ci-width)");
  cmp->add_option("--scenario", ra.scenarios,
                  "scenario file (YAML); two or more, the first is the reference");
  cmp->add_option("--store", ra.store, "per-run data to keep: summary, targets (default) or full");
  cmp->add_option("--ci-width", ra.ci_width,
                  "stop once every difference's 95 % half-width is at most this");

  std::vector<std::string> sweep_levers;
  auto* swp = app.add_subcommand("sweep", "P(targets) over a grid of lever levels, same runs");
  add_common(swp, "runs per grid point (default 10000)");
  swp->add_option("--scenario", ra.scenarios, "base scenario file (YAML)");
  swp->add_option("--lever", sweep_levers,
                  "NAME=FROM:TO:POINTS; a value for a constant lever, else a scale factor; "
                  "repeatable (a grid)")
      ->required();

  SearchArgs sa;
  auto* srch = app.add_subcommand(
      "search", "Least lever level at which P(target) reaches a probability (same runs)");
  add_common(srch, "runs per evaluation (default 10000)");
  srch->add_option("--scenario", ra.scenarios, "base scenario file (YAML)");
  srch->add_option("--lever", sa.levers,
                   "NAME or NAME,NAME,... (moved together by one scale factor)")
      ->required();
  srch->add_option("--target", sa.target, "a target's name, or 'all'")->required();
  srch->add_option("--probability", sa.probability, "the probability to reach, in (0, 1)")
      ->required();
  srch->add_option("--range", sa.range,
                   "LO:HI of the level (default 0 to 4x the level as written)");
  srch->add_option("--tolerance", sa.tolerance, "precision of the level (default 0.01)");

  SensitivityArgs sens;
  auto* sen = app.add_subcommand(
      "sensitivity",
      "Which uncertain inputs decide each target: Sobol indices, P by thirds, PRIM boxes");
  add_common(sen,
             "base rows N of Saltelli's design (default 4096; the model runs N (k + 2) "
             "times for k factors)");
  std::string sens_rows;
  sen->add_option("--rows", sens_rows, "the same as --runs: base rows N of Saltelli's design");
  sen->add_option("--scenario", ra.scenarios,
                  "scenario file (YAML); repeatable, one analysis each");
  sen->add_option("--resamples", sens.resamples,
                  "bootstrap resamples for the intervals (default 200)");
  sen->add_option(
      "--sampling", sens.sampling,
      "sobol (default: a shifted Sobol sequence) or random (the counter-based streams)");
  sen->add_option("--factor", sens.factors,
                  "NAME=a,b,c: vary these parameters together as one factor; repeatable");
  sen->add_option("--top", sens.top, "factors shown per target in the table (default 12)");
  sen->add_option("--prim-rows", sens.prim_rows,
                  "rows whose A and B points PRIM peels (default 32768; 0: no PRIM)");
  sen->add_option("--prim-coverage", sens.prim_coverage,
                  "PRIM chooses the densest box holding at least this share of the runs that "
                  "meet the target (default 0.5)");
  sen->add_option("--prim-alpha", sens.prim_alpha,
                  "PRIM's peeling and pasting share (default 0.05)");
  sen->add_option("--given-data", sens.given_data,
                  "RESULTS.h5 of 'attain run --store targets': first-order indices of its "
                  "stored runs by binning, with no extra runs");

  std::string replay_run, replay_seed = "1";
  auto* replay = app.add_subcommand(
      "replay",
      "Re-run one run of an ensemble and print every node: of a model, or of a results file "
      "(with its seed, model and scenarios as stored)");
  replay->add_option("model", model, "model file (YAML), or a results file (HDF5)")->required();
  replay->add_option("--scenario", scenarios,
                     "scenario file (YAML); with a results file, a stored scenario's name");
  replay->add_option("--scenario-dir", g_scenario_dirs.roots, dir_help)
      ->check(CLI::ExistingDirectory);
  replay->add_option("--run", replay_run, "run index")->required();
  replay->add_option("--seed", replay_seed,
                     "random seed (default 1; with a results file, the file's seed)");
  replay->add_flag("--json", as_json, "print as JSON");

  ExportArgs ex;
  std::vector<std::string> merge_parts;
  std::string merge_out;
  bool merge_quiet = false;
  auto* mrg = app.add_subcommand(
      "merge", "Merge the parts of one 'attain run' (--run-range) into one results file");
  mrg->add_option("parts", merge_parts, "results files of 'attain run --run-range', any order")
      ->required()
      ->expected(1, -1);
  mrg->add_option("--out", merge_out, "the merged results file (HDF5)")->required();
  mrg->add_flag("--quiet", merge_quiet, "print nothing on success");

  auto* exp = app.add_subcommand(
      "export", "Write a results file's targets, summary, analysis or runs as CSV or JSON");
  exp->add_option("results", ex.file,
                  "results file (HDF5) of run, compare, sweep, search or "
                  "sensitivity")
      ->required();
  exp->add_option("--format", ex.format, "csv (a tidy table) or json (a document)")->required();
  exp->add_option("--what", ex.what,
                  "targets, summary, comparisons, sensitivity, sweep, search or runs (default: "
                  "what the file's analysis made)");
  exp->add_option("--out", ex.out, "output file, written whole or not at all (default: stdout)");
  exp->add_flag("--bom", ex.bom, "start the CSV with a UTF-8 byte order mark (for Excel)");

  std::string report_in, report_out;
  auto* report = app.add_subcommand(
      "report", "Write a self-contained HTML report of a results file (opens offline)");
  report
      ->add_option("results", report_in,
                   "results file (HDF5) of run, compare, sweep, search or "
                   "sensitivity")
      ->required();
  report->add_option("--out", report_out, "the HTML file to write")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "attain: error: {} (see 'attain --help')\n", e.what());
    return kExitInput;
  }

  try {
    if (*check) return cmd_check(model, scenarios, as_json);
    if (*graph) return cmd_graph(model, format);
    for (CLI::App* sub : {run, cmp, swp, srch, sen}) {
      if (*sub && ra.threads == 0 && sub->count("--threads"))
        bad_arg("--threads must be >= 1 (got 0)");
      if (*sub) ra.out_given = sub->count("--out") > 0;
      if (*sub && sub->get_option_no_throw("--store")) ra.store_given = sub->count("--store") > 0;
    }
    if (*run) return cmd_run(ra);
    if (*cmp) return cmd_compare(ra);
    if (*swp) return cmd_sweep(ra, sweep_levers);
    if (*srch) return cmd_search(ra, sa);
    if (*sen) {
      if (sen->count("--runs") && sen->count("--rows"))
        bad_arg("give --rows or --runs (the same: base rows of the design), not both");
      if (sen->count("--rows"))
        ra.runs = sens_rows;
      else if (!sen->count("--runs"))
        ra.runs = "4096";
      return cmd_sensitivity(ra, sens);
    }
    if (*exp) {
      ex.out_given = exp->count("--out") > 0;
      return cmd_export(ex);
    }
    if (*mrg) return cmd_merge(merge_parts, merge_out, merge_quiet);
    if (*report) return cmd_report(report_in, report_out);
    if (*replay)
      return cmd_replay(model, scenarios, replay_run, replay_seed, replay->count("--seed") > 0,
                        as_json);
  } catch (const attain::InterruptedError& e) {
    // On a terminal, first clear a progress bar the interrupt left on the line.
    if (::isatty(2)) fmt::print(stderr, "\r{:90}\r", "");
    fmt::print(stderr, "{}\n", e.user_message());
    return e.exit_code();
  } catch (const attain::Error& e) {
    // Every error a user can cause: one line, the exit code its type names.
    if (::isatty(2)) fmt::print(stderr, "\r{:90}\r", "");
    fmt::print(stderr, "{}\n", e.user_message());
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    // The check before the run counts what is certain; quantile sketches of values that
    // span many octaves grow past it (up to 64 KiB per node and step in every chunk's
    // copy), and other programs may take memory meanwhile.
    fmt::print(stderr,
               "attain: error: out of memory during the run; use fewer --threads (each holds "
               "its own blocks and two chunks of node statistics) or leave out --out (node "
               "statistics of every step are kept only for the results file)\n");
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "attain: internal error: {}\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Under mpirun (an ATTAIN_MPI build): MPI for the command's lifetime, and one ending for
  // every rank (processes.hpp).
  attain::cli::Processes processes(argc, argv);
  return processes.finish(run_command(argc, argv));
}
