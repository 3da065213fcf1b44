// The merge job: the parts of one `run` (--run-range) into the file one process writes
// (attain/job.hpp, docs/scaling.md).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <optional>

#include "attain/checkpoint.hpp"
#include "attain/isolation.hpp"
#include "attain/job.hpp"
#include "attain/program.hpp"
#include "attain/study.hpp"
#include "attain/yaml_reader.hpp"
#include "digest.hpp"
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

std::string dims_text(const std::vector<std::uint64_t>& dims) {
  return fmt::format("[{}]", fmt::join(dims, ", "));
}

/// @brief A part's rows on their way to the merged file, checked first: in run order from
/// the part's first run, `count` x the model's widths each (never a copy past a chunk's
/// end), and digested (digest.hpp) to compare with the part's `digest_rows`.
class CheckedRows : public ChunkSink {
 public:
  CheckedRows(ChunkSink& inner, const std::array<std::uint64_t, 3>& widths, std::uint64_t first,
              std::uint64_t last, std::string where)
      : inner_(inner),
        widths_(widths),
        next_(first),
        last_(last),
        where_(std::move(where)),
        digest_(widths) {}
  void write(const ChunkData& c) override {
    const auto n = static_cast<std::uint64_t>(std::max(0, c.count));
    bool ok = n > 0 && c.first_run == next_ && n <= last_ - next_;
    const std::array<std::size_t, 3> sizes{c.target_values.size(), c.parameters.size(),
                                           c.full.size()};
    for (std::size_t k = 0; k < 3; ++k) ok = ok && sizes[k] == n * widths_[k];
    if (!ok)
      throw OutputError(fmt::format(
          "{}: rows of {} runs from run {} with {} + {} + {} values, where rows from run {} "
          "(up to run {}) of {} + {} + {} values per run were due",
          where_, n, c.first_run, sizes[0], sizes[1], sizes[2], next_, last_, widths_[0],
          widths_[1], widths_[2]));
    digest_.add(c);
    inner_.write(c);
    next_ += n;
  }
  std::uint64_t next() const { return next_; }
  std::uint64_t digest() const { return digest_.value(); }

 private:
  ChunkSink& inner_;
  std::array<std::uint64_t, 3> widths_;
  std::uint64_t next_, last_;
  std::string where_;
  RowDigest digest_;
};

/// A part's per-run datasets: exactly those of its store level, each with its runs as rows
/// and the widths the model implies (so that reading them cannot overrun a row).
void check_row_shapes(const PartLayout& layout, const Program& program, StoreLevel store,
                      std::uint64_t runs, const std::string& where) {
  std::map<std::string, std::vector<std::uint64_t>> want;
  if (store != StoreLevel::kSummary) {
    const auto w = row_widths(program, store == StoreLevel::kFull);
    want["run"] = {runs};
    want["target_values"] = {runs, w[0]};
    want["parameters"] = {runs, w[1]};
    if (store == StoreLevel::kFull)
      want["values"] = {runs, static_cast<std::uint64_t>(program.steps()),
                        static_cast<std::uint64_t>(program.nodes())};
  }
  for (const auto& [name, dims] : want) {
    const auto got = layout.rows.find(name);
    if (got == layout.rows.end())
      bad_arg(fmt::format("{}: no '{}' of {}: the part's per-run rows are incomplete", where, name,
                          dims_text(dims)));
    if (got->second != dims)
      bad_arg(fmt::format("{}: '{}' is {}, not the {} the part's runs and the model imply", where,
                          name, dims_text(got->second), dims_text(dims)));
  }
  for (const auto& [name, dims] : layout.rows)
    if (!want.count(name))
      bad_arg(fmt::format("{}: '{}' ({}) is not a dataset of a part stored with --store {}", where,
                          name, dims_text(dims), store_name(store)));
}

/// Why `s`'s partials do not tile its run range [first, last) in dyadic ranges of chunks
/// (StudyPartial); "" when they do.
std::string tiling_error(const StudyState& s) {
  if (s.chunk <= 0) return fmt::format("its chunk size is {}", s.chunk);
  const auto chunk = static_cast<std::uint64_t>(s.chunk);
  std::uint64_t next = s.first / chunk;
  const std::uint64_t end = s.last / chunk + (s.last % chunk != 0);
  for (const auto& p : s.partials()) {
    const bool fits = p.level >= 0 && p.level < 63 && p.index <= (end >> p.level);
    const std::uint64_t lo = fits ? p.index << p.level : 0, hi = lo + (std::uint64_t{1} << p.level);
    if (!fits || lo != next || hi > end)
      return fmt::format(
          "its partial of level {} and index {} is not the next range of chunks (chunk {} of "
          "[{}, {}))",
          p.level, p.index, next, s.first / chunk, end);
    next = hi;
  }
  if (next != end)
    return fmt::format("its partials end at chunk {}, not at chunk {} (run {})", next, end, s.last);
  return {};
}

/// The part's stored counts against those of its state, and every count against its runs.
void check_counts(const EnsembleResult& stored, const EnsembleResult& state, std::uint64_t runs,
                  const std::string& where) {
  auto disagree = [&](const std::string& what, auto a, auto b) {
    bad_arg(
        fmt::format("{}: {} is {} in its summary but {} in its reducer state", where, what, a, b));
  };
  auto differs = [&](const std::string& what) {
    bad_arg(fmt::format("{}: {} in its summary differs from its reducer state's", where, what));
  };
  if (state.runs != runs)
    bad_arg(fmt::format("{}: its reducer state counts {} runs, not the part's {}", where,
                        state.runs, runs));
  if (stored.runs != runs) disagree("the number of runs", stored.runs, runs);
  if (stored.targets.size() != state.targets.size())
    disagree("the number of targets", stored.targets.size(), state.targets.size());
  for (std::size_t t = 0; t < state.targets.size(); ++t) {
    const TargetResult &a = stored.targets[t], &b = state.targets[t];
    if (b.hits > runs || b.never > runs || b.runs != runs)
      bad_arg(fmt::format("{}: target {} counts {} hits and {} misses in {} runs", where, t + 1,
                          b.hits, b.never, runs));
    if (a.hits != b.hits)
      disagree(fmt::format("the hit count of target {}", t + 1), a.hits, b.hits);
    if (a.runs != b.runs) disagree(fmt::format("the runs of target {}", t + 1), a.runs, b.runs);
    if (a.never != b.never)
      disagree(fmt::format("never_met of target {}", t + 1), a.never, b.never);
    if (a.first_met != b.first_met) differs(fmt::format("first_met of target {}", t + 1));
  }
  if (state.joint_hits > runs)
    bad_arg(fmt::format("{}: {} joint hits in {} runs", where, state.joint_hits, runs));
  if (!state.targets.empty() && stored.joint_hits != state.joint_hits)
    disagree("joint_hits", stored.joint_hits, state.joint_hits);
  if (!stored.met.empty() && stored.met != state.met) differs("met_runs");
  if (stored.actuals.size() != state.actuals.size())
    disagree("the number of actuals", stored.actuals.size(), state.actuals.size());
  for (std::size_t a = 0; a < state.actuals.size(); ++a)
    if (stored.actuals[a].below != state.actuals[a].below ||
        stored.actuals[a].equal != state.actuals[a].equal)
      differs(fmt::format("the counts of actual {}", a + 1));
}

/// One part's scenario, checked whole before anything is written: its rows' shapes, its
/// state (range, chunk size, tiling, digest) and its counts against the state.
struct CheckedPart {
  StudyState state;
  std::optional<std::uint64_t> digest_rows;
};

/// `none`: the sink of the loaded row reducers (which never write), alive while the state is.
CheckedPart check_part(NullSink& none, const StoredResults& part, const std::string& path,
                       const std::string& scenario, const Program& program) {
  const RunInfo& info = part.info;
  const std::string where = fmt::format("'{}', scenario '{}'", path, scenario);
  CheckedPart out;
  PartLayout layout;
  try {
    layout = read_part_layout(path, scenario);
    check_row_shapes(layout, program, info.store, info.runs, where);
    out.state = read_state(
        path, scenario,
        scenario_reducers(program, true, info.store != StoreLevel::kSummary ? &none : nullptr,
                          info.store == StoreLevel::kFull));
  } catch (const OutputError& e) {
    bad_arg(e.what());
  }
  const StudyState& st = out.state;
  if (st.first != info.first_run || st.last != info.first_run + info.runs)
    bad_arg(fmt::format("{}: the state covers runs [{}, {}), not the file's [{}, {})", where,
                        st.first, st.last, info.first_run, info.first_run + info.runs));
  if (st.chunk != info.chunk)
    bad_arg(fmt::format("{}: the state is in chunks of {} runs, the file's runs in chunks of {}",
                        where, st.chunk, info.chunk));
  if (const std::string why = tiling_error(st); !why.empty())
    bad_arg(fmt::format("{}: the state does not tile runs [{}, {}): {}", where, st.first, st.last,
                        why));
  if (layout.digest_state && *layout.digest_state != state_digest(st))
    bad_arg(
        fmt::format("{}: the reducer state does not match its digest (digest_state): the "
                    "part was damaged or edited since it was written",
                    where));
  const auto stored = std::find_if(part.scenarios.begin(), part.scenarios.end(),
                                   [&](const StoredScenario& s) { return s.name == scenario; });
  if (stored == part.scenarios.end()) bad_arg(fmt::format("{}: no such scenario", where));
  check_counts(stored->result, scenario_result(program, st.result(), true, 0), info.runs, where);
  out.digest_rows = layout.digest_rows;
  return out;
}

/// One scenario's exact states and rows from every part, in run order, into `file`: the
/// states checked by check_part, the rows checked (CheckedRows) as they are copied.
void merge_scenario(const StoredScenario& stored, const Scenario& scenario, const Program& program,
                    std::vector<CheckedPart>& checked, const std::vector<StoredResults>& parts,
                    const std::vector<std::string>& paths, const std::vector<std::size_t>& order,
                    ResultsFile& file, const JobHooks& hooks) {
  const RunInfo& info = parts[0].info;
  const bool rows = info.store != StoreLevel::kSummary;
  ChunkSink& sink = file.begin_scenario(scenario, program);
  StudyResult merged;
  double seconds = 0;
  for (const std::size_t i : order) {
    if (hooks.cancel && hooks.cancel->load()) throw InterruptedError();
    const std::uint64_t first = parts[i].info.first_run, last = first + parts[i].info.runs;
    const std::string where = fmt::format("'{}', scenario '{}'", paths[i], stored.name);
    try {
      merged.state.append(std::move(checked[i].state));
    } catch (const std::invalid_argument& e) {
      bad_arg(
          fmt::format("{}: its state does not follow the parts before it: {}", where, e.what()));
    }
    if (rows) {
      CheckedRows checked_rows(sink, row_widths(program, info.store == StoreLevel::kFull), first,
                               last, where);
      try {
        read_rows(paths[i], stored.name, static_cast<std::uint64_t>(info.chunk), checked_rows);
      } catch (const OutputError& e) {
        bad_arg(e.what());
      }
      if (checked_rows.next() != last)
        bad_arg(fmt::format("{}: rows end at run {}, not at the part's last run {}", where,
                            checked_rows.next(), last));
      if (checked[i].digest_rows && *checked[i].digest_rows != checked_rows.digest())
        bad_arg(
            fmt::format("{}: the per-run rows do not match their digest (digest_rows): the "
                        "part was damaged or edited since it was written",
                        where));
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
  // Every part's every scenario checked before anything is written.
  NullSink none;
  std::vector<Scenario> scenarios;
  std::vector<Program> programs;
  std::vector<std::vector<CheckedPart>> checked;
  scenarios.reserve(a.scenarios.size());  // the loaded reducers may refer to their program
  programs.reserve(a.scenarios.size());
  for (const auto& stored : a.scenarios) {
    scenarios.push_back(stored.sources.empty()
                            ? default_scenario(model)
                            : parse_stored_scenario(stored.path, stored.sources, model));
    programs.push_back(compile(apply_scenario(model, scenarios.back()), graph));
    checked.emplace_back();
    for (std::size_t i = 0; i < parts.size(); ++i)
      checked.back().push_back(check_part(none, parts[i], paths[i], stored.name, programs.back()));
  }
  remove_stale_outputs(out, hooks);
  std::unique_ptr<ResultsFile> file;
  try {
    file = std::make_unique<ResultsFile>(out, model, info);
  } catch (const OutputError& e) {
    bad_arg(fmt::format("--out: {}", e.what()));
  }
  for (std::size_t k = 0; k < a.scenarios.size(); ++k)
    merge_scenario(a.scenarios[k], scenarios[k], programs[k], checked[k], parts, paths, order,
                   *file, hooks);
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
