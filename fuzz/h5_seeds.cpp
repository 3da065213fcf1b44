// The results-file fuzzer's genuine seeds (see h5_seeds.hpp).
#include "h5_seeds.hpp"

#include <fcntl.h>   // AT_FDCWD
#include <stdlib.h>  // mkdtemp
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "attain/analysis.hpp"
#include "attain/checkpoint.hpp"
#include "attain/job.hpp"
#include "attain/results_file.hpp"
#include "attain/sensitivity.hpp"

#ifndef ATTAIN_FUZZ_SOURCE_DIR
#error "ATTAIN_FUZZ_SOURCE_DIR must name the repository (its models/ and scenarios/)"
#endif

namespace fs = std::filesystem;

namespace attain::fuzz {
namespace {

const std::string kSource = ATTAIN_FUZZ_SOURCE_DIR;
std::string work_folder;  // removed at exit

void remove_work() {
  std::error_code ec;
  fs::remove_all(work_folder, ec);
}

/// A job of `model` (under models/) with `scenarios` (under scenarios/) writing `out`.
EnsembleJob job_of(const std::string& model, const std::vector<std::string>& scenarios,
                   const std::string& out, std::uint64_t runs, StoreLevel store, int chunk,
                   bool compare = false) {
  EnsembleSettings s;
  s.runs = runs;
  s.seed = 7;
  s.threads = 1;
  s.store = store;
  s.store_given = true;
  s.out = out;
  s.out_given = true;
  std::vector<std::string> paths;
  for (const auto& sc : scenarios) paths.push_back(kSource + "/scenarios/" + sc);
  // Rows are buffered for one scenario (run) or all (compare).
  const std::size_t row_variants =
      store == StoreLevel::kSummary ? 0 : std::max<std::size_t>(compare ? scenarios.size() : 1, 1);
  EnsembleJob job = prepare_ensemble(s, kSource + "/models/" + model, paths, {}, {}, row_variants);
  job.options.chunk = chunk;
  return job;
}

/// Records the widths of the first chunk a reader hands on.
struct WidthProbe : ChunkSink {
  RowWidths widths;
  bool seen = false;
  void write(const ChunkData& c) override {
    if (seen || c.count <= 0) return;
    const auto n = static_cast<std::size_t>(c.count);
    widths = {c.target_values.size() / n, c.parameters.size() / n, c.full.size() / n};
    seen = true;
  }
};

/// The seed `name` of `path`, written by `job`: its scenarios compiled, their row widths.
Seed seed_of(const std::string& name, const std::string& path, const EnsembleJob& job, bool state) {
  Seed s;
  s.name = name;
  s.path = path;
  s.rows = job.store != StoreLevel::kSummary;
  s.full = job.store == StoreLevel::kFull;
  s.state = state;
  for (std::size_t i = 0; i < job.inputs.scenarios.size(); ++i) {
    SeedScenario sc;
    sc.name = job.inputs.scenarios[i].name;
    sc.program = std::make_shared<const Program>(job.compile_scenario(i));
    if (s.rows) {
      WidthProbe probe;
      read_rows(path, sc.name, 64, probe);
      sc.widths = probe.widths;
    }
    s.scenarios.push_back(std::move(sc));
  }
  return s;
}

/// Two parts of one `run` (with their states) and a checkpoint made of the first's state.
void add_parts(SeedSet& set) {
  const std::vector<std::string> scenarios = {"teaching/as_written.yaml",
                                              "teaching/more_funding.yaml"};
  const std::string part0 = set.work + "/part0.h5", part1 = set.work + "/part1.h5";
  for (const auto& [out, first] : {std::pair{part0, 0}, std::pair{part1, 128}}) {
    EnsembleJob job = job_of("teaching_firms.yaml", scenarios, out, 256, StoreLevel::kTargets, 64);
    RunJobOptions o;
    o.first = static_cast<std::uint64_t>(first);
    o.last = o.first + 128;
    o.part = true;
    o.checkpoints_off = true;
    run_job(job, o, {});
    if (first != 0) continue;
    Seed s = seed_of("part", part0, job, true);
    // The checkpoint: the first part's states, as a run of [0, 128) saves them.
    const std::string folder = set.work + "/seed.checkpoint";
    fs::create_directories(folder);
    std::vector<StudyState> states;
    for (const auto& sc : s.scenarios) {
      NullSink none;
      states.push_back(
          read_state(part0, sc.name, scenario_reducers(*sc.program, true, &none, false)));
    }
    std::vector<CheckpointScenario> entries;
    for (std::size_t i = 0; i < states.size(); ++i)
      entries.push_back({s.scenarios[i].name, i == 0, 1.5, 0, "", nullptr, &states[i]});
    write_checkpoint(folder, study_fingerprint(job.inputs, job.info("run")), entries);
    Seed c = s;
    c.name = "checkpoint";
    c.path = folder + "/state.h5";
    c.checkpoint = true;
    // The part twice: read alone, and also merged with its sibling (slower).
    Seed m = s;
    m.name = "part to merge";
    m.sibling = part1;
    set.seeds.push_back(std::move(s));
    set.seeds.push_back(std::move(m));
    set.seeds.push_back(std::move(c));
  }
}

void add_analyses(SeedSet& set) {
  {
    const std::string out = set.work + "/full.h5";
    EnsembleJob job = job_of("all_constructs.yaml", {}, out, 48, StoreLevel::kFull, 16);
    RunJobOptions o;
    o.save_state = true;
    o.checkpoints_off = true;
    run_job(job, o, {});
    set.seeds.push_back(seed_of("full", out, job, true));
  }
  {
    const std::string out = set.work + "/compare.h5";
    EnsembleJob job =
        job_of("teaching_firms.yaml", {"teaching/as_written.yaml", "teaching/more_funding.yaml"},
               out, 64, StoreLevel::kTargets, 32, true);
    compare_job(job, true, {});
    set.seeds.push_back(seed_of("compare", out, job, false));
  }
  {
    const std::string out = set.work + "/sensitivity.h5";
    EnsembleJob job = job_of("teaching_firms.yaml", {}, out, 64, StoreLevel::kSummary, 32);
    SensitivityOptions o;
    o.rows = 32;
    o.resamples = 20;
    o.prim_rows = 64;
    sensitivity_job(job, o, {});
    set.seeds.push_back(seed_of("sensitivity", out, job, false));
  }
}

}  // namespace

void RowsChecker::write(const ChunkData& c) {
  const auto n = static_cast<std::size_t>(c.count);
  if (c.count < 0 || c.target_values.size() != n * widths_.targets ||
      c.parameters.size() != n * widths_.parameters || c.full.size() != n * widths_.full)
    throw RowsError("rows handed on do not match the model: " + std::to_string(c.count) +
                    " runs with " + std::to_string(c.target_values.size()) + " target values, " +
                    std::to_string(c.parameters.size()) + " parameters and " +
                    std::to_string(c.full.size()) + " node values (per run the model has " +
                    std::to_string(widths_.targets) + ", " + std::to_string(widths_.parameters) +
                    " and " + std::to_string(widths_.full) + ")");
}

SeedSet make_seeds() {
  const char* shm = "/dev/shm";
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(fs::is_directory(shm) ? shm
                                    : tmp                 ? tmp
                                                          : "/tmp") +
                        "/attain-fuzz-results-XXXXXX";
  if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create " + pattern);
  SeedSet set;
  set.work = work_folder = pattern;
  std::atexit(remove_work);
  add_parts(set);
  add_analyses(set);
  fs::create_directories(set.work + "/outside");
  set.outside = set.work + "/outside/victim.h5";
  fs::copy_file(set.seeds.front().path, set.outside);
  return set;
}

void SeedSet::unread_outside() {
  struct stat st {};
  if (::stat(outside.c_str(), &st) != 0) return;
  struct timespec times[2] = {st.st_mtim, st.st_mtim};
  times[0].tv_sec -= 100;
  ::utimensat(AT_FDCWD, outside.c_str(), times, 0);
}

bool SeedSet::outside_read() const {
  struct stat st {};
  return ::stat(outside.c_str(), &st) == 0 && st.st_atim.tv_sec != st.st_mtim.tv_sec - 100;
}

bool SeedSet::watch_outside() {
  unread_outside();
  if (outside_read()) return false;
  {
    std::ifstream in(outside, std::ios::binary);
    char c = 0;
    in.read(&c, 1);
  }
  const bool seen = outside_read();
  if (!seen)
    std::fprintf(stderr,
                 "attain-fuzz: reading a file does not change its access time here (noatime?): "
                 "external links, external storage and virtual datasets are not made\n");
  unread_outside();
  return seen;
}

}  // namespace attain::fuzz
