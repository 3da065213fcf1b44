// The merge job: the parts of one `run` (--run-range) into the file one process writes
// (attain/job.hpp, docs/scaling.md).
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "attain/isolation.hpp"
#include "attain/job.hpp"
#include "attain/program.hpp"
#include "attain/study.hpp"
#include "attain/yaml_reader.hpp"
#include "job_common.hpp"

namespace attain {

namespace {

/// How `attain merge` names a key of study_fingerprint().
std::string merge_words(const std::string& key, std::size_t at, const Fingerprint& a,
                        const Fingerprint& b) {
  if (key == "runs of the study") return "--runs";
  if (key == "chunk") return "chunk size";
  if (key == "store") return "--store";
  if (key.rfind("scenario ", 0) == 0)
    return at < a.size() && at < b.size() && a[at].first == b[at].first
               ? fmt::format("the source of scenario '{}'", key.substr(9))
               : fmt::format("scenario {}", at - 3);  // after engine, streams, model, count
  return key;
}

/// Every part of one study: the first difference from the first part is named.
void check_one_study(const std::vector<StoredResults>& parts,
                     const std::vector<std::string>& paths) {
  const Fingerprint a = study_fingerprint(parts[0]);
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const Fingerprint b = study_fingerprint(parts[i]);
    std::size_t at = 0;
    while (at < a.size() && at < b.size() && a[at] == b[at]) ++at;
    if (at == a.size() && at == b.size()) continue;
    const std::string key = at < a.size() ? a[at].first : b[at].first;
    const std::string va = at < a.size() ? a[at].second : "",
                      vb = at < b.size() ? b[at].second : "";
    const bool scenario_name =
        key.rfind("scenario ", 0) == 0 && at < b.size() && a[at].first != b[at].first;
    const std::string shown_a = scenario_name ? a[at].first.substr(9) : va;
    const std::string shown_b = scenario_name ? b[at].first.substr(9) : vb;
    const bool short_values = key != "model" && key.rfind("scenario ", 0) != 0;
    bad_arg(fmt::format(
        "'{}' and '{}' are not parts of one study: they differ in {}{}; merge parts made by one "
        "command with different --run-range only",
        paths[i], paths[0], merge_words(key, at, a, b),
        (short_values || scenario_name) && shown_a.size() + shown_b.size() < 120 &&
                shown_a.find('\n') == std::string::npos && shown_b.find('\n') == std::string::npos
            ? fmt::format(" ({} and {})", shown_b, shown_a)
            : std::string()));
  }
}

/// The parts in run order, checked to tile [0, N): no gap, no overlap.
std::vector<std::size_t> tile(const std::vector<StoredResults>& parts,
                              const std::vector<std::string>& paths) {
  std::vector<std::size_t> order(parts.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    return parts[x].info.first_run < parts[y].info.first_run;
  });
  const std::uint64_t n = parts[0].info.study_runs;
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
  return order;
}

std::vector<StoredResults> read_parts(const std::vector<std::string>& paths,
                                      const std::string& out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<StoredResults> parts;
  for (const auto& p : paths) {
    if (fs::exists(out, ec) && fs::equivalent(out, p, ec))
      bad_arg(fmt::format("--out '{}' is the part '{}'; the merge would replace it", out, p));
    try {
      parts.push_back(read_results(p));
    } catch (const OutputError& e) {
      bad_arg(e.what());
    }
    const auto& r = parts.back();
    if (r.info.analysis != "run")
      bad_arg(
          fmt::format("'{}' holds a {}; attain merge takes the parts of one 'attain run' "
                      "written with --run-range",
                      p, printable(r.info.analysis, 100)));
  }
  return parts;
}

/// One scenario's exact states and rows from every part, in run order, into `file`.
void merge_scenario(const StoredScenario& stored, const Model& model, const DependencyGraph& graph,
                    const std::vector<StoredResults>& parts, const std::vector<std::string>& paths,
                    const std::vector<std::size_t>& order, ResultsFile& file,
                    const JobHooks& hooks) {
  const RunInfo& info = parts[0].info;
  const bool rows = info.store != StoreLevel::kSummary;
  const Scenario scenario = stored.sources.empty()
                                ? default_scenario(model)
                                : parse_stored_scenario(stored.path, stored.sources, model);
  Program program = compile(apply_scenario(model, scenario), graph);
  ChunkSink& sink = file.begin_scenario(scenario, program);
  const auto prototypes =
      scenario_reducers(program, true, rows ? &sink : nullptr, info.store == StoreLevel::kFull);
  StudyResult merged;
  double seconds = 0;
  for (const std::size_t i : order) {
    if (hooks.cancel && hooks.cancel->load()) throw InterruptedError();
    const std::uint64_t first = parts[i].info.first_run, last = first + parts[i].info.runs;
    try {
      StudyState state = read_state(paths[i], stored.name, prototypes);
      if (state.first != first || state.last != last)
        bad_arg(
            fmt::format("'{}': the state of scenario '{}' covers runs [{}, {}), not the "
                        "file's [{}, {})",
                        paths[i], stored.name, state.first, state.last, first, last));
      merged.state.append(std::move(state));
      if (rows) read_rows(paths[i], stored.name, static_cast<std::uint64_t>(info.chunk), sink);
    } catch (const OutputError& e) {
      bad_arg(e.what());
    }
    for (const auto& sc : parts[i].scenarios)
      if (sc.name == stored.name) seconds += sc.seconds;
  }
  merged.first = 0;
  merged.last = merged.state.last;
  merged.reducers = merged.state.result();
  merged.seconds = seconds;
  file.end_scenario(scenario_result(program, merged.reducers, true, seconds), &merged);
}

}  // namespace

static MergeJobResult merge_here(const std::vector<std::string>& paths, const std::string& out,
                                 const JobHooks& hooks) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (paths.empty()) bad_arg("merge needs the parts to merge");
  if (out.empty()) bad_arg("--out needs a file name (got an empty one)");
  if (fs::is_directory(out, ec))
    bad_arg(fmt::format("--out '{}' is a directory; name a file, e.g. '{}/all.h5'", out, out));
  const std::vector<StoredResults> parts = read_parts(paths, out);
  check_one_study(parts, paths);
  const std::vector<std::size_t> order = tile(parts, paths);
  const StoredResults& a = parts[0];
  const Model& model = a.model;
  const DependencyGraph graph = build_graph(model);
  RunInfo info = a.info;
  info.first_run = 0;
  info.runs = info.study_runs;
  remove_stale_outputs(out, hooks);
  std::unique_ptr<ResultsFile> file;
  try {
    file = std::make_unique<ResultsFile>(out, model, info);
  } catch (const OutputError& e) {
    bad_arg(fmt::format("--out: {}", e.what()));
  }
  for (const auto& stored : a.scenarios)
    merge_scenario(stored, model, graph, parts, paths, order, *file, hooks);
  file->commit();
  return {parts.size(), a.scenarios.size(), info.study_runs};
}

/// The parts as an error names them: 'a.h5', 'b.h5' (or one of ...).
static std::string merged_parts(const std::vector<std::string>& paths) {
  std::string s = paths.size() > 1 ? "one of the parts " : "the part ";
  for (std::size_t i = 0; i < paths.size() && i < 5; ++i) s += (i ? ", " : "") + quoted(paths[i]);
  return paths.size() > 5 ? s + fmt::format(" and {} more", paths.size() - 5) : s;
}

// Parts may come from elsewhere: the whole merge runs in a child process (isolation.hpp),
// so that a crash or hang of libhdf5 on a part is one error line; the temporary of a child
// that was killed is removed here.
MergeJobResult merge_job(const std::vector<std::string>& paths, const std::string& out,
                         const JobHooks& hooks) {
  JobHooks quiet = hooks;  // no progress bar from the child (its output comes at its end)
  quiet.progress = nullptr;
  quiet.progress_done = nullptr;
  try {
    return isolated_value<MergeJobResult>(
        merged_parts(paths), reading_limits(paths), [&] { return merge_here(paths, out, quiet); },
        hooks.cancel);
  } catch (const Error&) {
    if (!out.empty()) remove_stale_outputs(out, hooks);
    throw;
  }
}

}  // namespace attain
