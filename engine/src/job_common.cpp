// The job layer's common part: hooks, inputs, ensemble settings, results files and the
// one definition of "the same study" (attain/job.hpp).
#include "job_common.hpp"

#include <fmt/format.h>
#include <sched.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <thread>

#include "attain/available_memory.hpp"
#include "attain/communicator.hpp"
#include "attain/constants.hpp"
#include "attain/job.hpp"
#include "attain/study.hpp"
#include "attain/version.hpp"
#include "attain/yaml_reader.hpp"

namespace attain {

std::function<void(std::uint64_t)> JobHooks::make_progress(const std::string& what,
                                                           std::uint64_t total,
                                                           const std::string& unit) const {
  return progress ? progress(what, total, unit) : nullptr;
}

void JobHooks::done() const {
  if (progress_done) progress_done();
}

void JobHooks::say(const std::string& line) const {
  if (note) note(line);
}

JobInputs load_inputs(const std::string& model_path, const std::vector<std::string>& scenarios,
                      const IncludeRules& dirs) {
  JobInputs l;
  l.model = load_model(model_path);
  l.graph = build_graph(l.model);
  std::map<std::string, std::string> seen;
  for (const auto& p : scenarios) {
    Scenario s = load_scenario(p, l.model, dirs);
    if (auto [it, fresh] = seen.emplace(s.name, p); !fresh)
      fail({p, 1, 1}, fmt::format("scenario name '{}' is also used by '{}'; scenario names "
                                  "must differ",
                                  s.name, it->second));
    l.scenarios.push_back(std::move(s));
  }
  if (l.scenarios.empty()) l.scenarios.push_back(default_scenario(l.model));
  return l;
}

int machine_cores() {
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return std::max(1u, std::thread::hardware_concurrency());
}

namespace {

/// A bad option value: one line, exit code 2.
void check_settings(const EnsembleSettings& s) {
  if (s.runs < 1 || s.runs > (std::uint64_t{1} << 48))
    bad_arg(fmt::format("--runs must be a whole number from 1 to 2^48 (got '{}')", s.runs));
  if (s.threads < 0 || s.threads > 4096)
    bad_arg(fmt::format("--threads must be from 1 to 4096 (got {})", s.threads));
  // More threads than cores only cost memory (each holds its own blocks and chunks).
  if (const int cores = machine_cores(); s.threads > cores && !s.force_threads)
    bad_arg(fmt::format(
        "--threads {} is more than the {} core{} this machine has; use --threads {} or fewer, "
        "or add --force-threads to run more anyway",
        s.threads, cores, cores == 1 ? "" : "s", cores));
  if (s.block < 0 || s.block > 65536)
    bad_arg(fmt::format("--block must be in [1, 65536], or 0 for the automatic size (got {})",
                        s.block));
  // Per-run rows go only to a results file: without one, 'targets' or 'full' would keep
  // nothing ('summary', per-run data kept by no one, is what happens anyway).
  if (s.store_given && !s.out_given && s.store != StoreLevel::kSummary)
    bad_arg(
        fmt::format("--store {} keeps per-run data in the results file; add --out FILE.h5, "
                    "or leave out --store",
                    store_name(s.store)));
  if (s.ci_width < 0 || s.ci_width >= 0.5)
    bad_arg(fmt::format(
        "--ci-width must be a half-width of a 95 % interval in (0, 0.5), e.g. 0.01 (got '{}')",
        s.ci_width));
  if (s.out.empty() && s.out_given) bad_arg("--out needs a file name (got an empty one)");
}

}  // namespace

Program EnsembleJob::compile_scenario(std::size_t si) const {
  return compile(apply_scenario(inputs.model, inputs.scenarios[si]), inputs.graph, *cache);
}

RunInfo EnsembleJob::info(const std::string& analysis) const {
  RunInfo info;
  info.seed = options.seed;
  info.runs = options.runs;
  info.chunk = options.chunk;
  info.store = store;
  info.analysis = analysis;
  info.ci_width = options.ci_width;
  return info;
}

StoredResults EnsembleJob::stored(const std::string& analysis) const {
  return stored_results(inputs.model, info(analysis), out);
}

EnsembleJob prepare_ensemble(const EnsembleSettings& settings, const std::string& model_path,
                             const std::vector<std::string>& scenarios, const IncludeRules& dirs,
                             const JobHooks& hooks, std::size_t row_variants) {
  check_settings(settings);
  EnsembleJob c;
  if (settings.memory_limit) {
    c.options.memory_limit = *settings.memory_limit;
    c.options.memory_limit_source = "set by --memory-limit";
  } else {
    const AvailableMemory available = available_memory_source();
    c.options.memory_limit = available.bytes;
    c.options.memory_limit_source = available.source;
  }
  c.options.ci_width = settings.ci_width;
  c.options.runs = settings.runs;
  c.options.seed = settings.seed;
  c.options.threads = settings.threads;
  c.options.block = settings.block;
  c.options.cancel = hooks.cancel;
  c.options.communicator = settings.communicator;
  c.store = settings.store;
  c.out = settings.out;
  c.out_given = settings.out_given;
  c.inputs = load_inputs(model_path, scenarios, dirs);
  // A chunk's per-run rows wait in memory until the chunk is written: keep them within
  // kChunkBufferBytes by using smaller chunks (docs/results-format.md).
  if (row_variants > 0 && !c.out.empty() && c.store != StoreLevel::kSummary)
    c.options.chunk = buffered_chunk(
        c.options.chunk,
        RowsReducer::bytes_per_run(c.inputs.model, c.store == StoreLevel::kFull) * row_variants);
  return c;
}

std::unique_ptr<ResultsFile> open_results(const EnsembleJob& job, const RunInfo& info,
                                          const JobHooks& hooks) {
  std::unique_ptr<ResultsFile> file;
  const std::string& out = job.out;
  if (out.empty()) return file;
  // Checked before any run: a directory would only fail at the final rename, and an
  // input file would be replaced by the results.
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(out, ec))
    bad_arg(fmt::format("--out '{}' is a directory; name a file, e.g. '{}/results.h5'", out, out));
  std::vector<std::string> inputs{job.inputs.model.path};
  for (const auto& s : job.inputs.scenarios)
    for (const auto& src : s.sources) inputs.push_back(src.first);
  for (const auto& in : inputs)
    if (fs::equivalent(out, in, ec))
      bad_arg(
          fmt::format("--out '{}' is the input file '{}'; the results would replace it", out, in));
  // Temporaries of this output left by killed runs (kill -9, a crash, a power cut); under
  // MPI, rank 0's only (another rank's view of rank 0's pid would be wrong on another node).
  Communicator* comm = job.options.communicator;
  if (!comm || comm->rank() == 0) remove_stale_outputs(out, hooks);
  try {
    file = std::make_unique<ResultsFile>(out, job.inputs.model, info, comm);
  } catch (const OutputError& e) {
    bad_arg(fmt::format("--out: {}", e.what()));
  }
  return file;
}

namespace {

Fingerprint identity(const std::string& engine, const std::string& rng, const std::string& model,
                     const std::vector<std::pair<std::string, const Sources*>>& scenarios,
                     const RunInfo& info) {
  Fingerprint f;
  f.emplace_back("engine version", engine);
  f.emplace_back("random streams", rng);
  f.emplace_back("model", model);
  f.emplace_back("scenarios", std::to_string(scenarios.size()));
  for (const auto& [name, sources] : scenarios) {
    std::string text;
    for (const auto& [path, source] : *sources) text += "# " + path + "\n" + source + "\n";
    f.emplace_back("scenario " + name, text);
  }
  f.emplace_back("seed", std::to_string(info.seed));
  f.emplace_back("runs of the study",
                 std::to_string(info.study_runs ? info.study_runs : info.first_run + info.runs));
  f.emplace_back("chunk", std::to_string(info.chunk));
  f.emplace_back("store", std::string(store_name(info.store)));
  return f;
}

}  // namespace

void remove_stale_outputs(const std::string& output, const JobHooks& hooks) {
  for (const auto& t : remove_stale_temporaries(output))
    hooks.say(fmt::format("{} stale temporary file '{}' left by a killed run (pid {}){}",
                          t.removed ? "removed" : "warning: cannot remove", printable(t.path, 500),
                          t.pid, t.removed ? "" : ": " + t.error));
}

Fingerprint study_fingerprint(const JobInputs& inputs, const RunInfo& info) {
  std::vector<std::pair<std::string, const Sources*>> scenarios;
  for (const auto& s : inputs.scenarios) scenarios.emplace_back(s.name, &s.sources);
  return identity(kEngineVersion, kRngScheme, inputs.model.source_text, scenarios, info);
}

Fingerprint study_fingerprint(const StoredResults& results) {
  std::vector<std::pair<std::string, const Sources*>> scenarios;
  for (const auto& s : results.scenarios) scenarios.emplace_back(s.name, &s.sources);
  return identity(results.engine_version, results.rng, results.model.source_text, scenarios,
                  results.info);
}

}  // namespace attain
