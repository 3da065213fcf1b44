// The exact reducer state: a scenario's group `state` in a results file (read_state) and
// the checkpoint folder's state.h5 (attain/checkpoint.hpp), written and read side by side.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "attain/checkpoint.hpp"
#include "attain/results_file.hpp"
#include "attain/version.hpp"
#include "h5_util.hpp"
#include "results_groups.hpp"

namespace attain {
using namespace h5;
namespace {

/// A 1-D array, compressed when it is large (sketch counts are long and mostly small).
template <class T>
void state_array(hid_t parent, const std::string& name, const std::vector<T>& data) {
  const hsize_t n = data.size();
  Handle space = simple_space({n});
  Handle plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "create property list");
  if (n >= 1024) {
    const hsize_t chunk = std::min<hsize_t>(n, 32768);
    check(H5Pset_chunk(plist, 1, &chunk), "set chunking");
    check(H5Pset_shuffle(plist), "set shuffle");
    check(H5Pset_deflate(plist, 1), "set deflate");
  }
  Handle d(H5Dcreate2(parent, name.c_str(), native<T>(), space, H5P_DEFAULT, plist, H5P_DEFAULT),
           H5Dclose, "create dataset " + name);
  if (n > 0)
    check(H5Dwrite(d, native<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), "write " + name);
}

/// Group `state`: the partials of runs [first, last) in chunks of `chunk_runs`.
void write_partials(hid_t parent, std::uint64_t first, std::uint64_t last, int chunk_runs,
                    const std::vector<const StudyPartial*>& partials) {
  Handle sg = group(parent, "state");
  attr_value<std::uint64_t>(sg, "first", first);
  attr_value<std::uint64_t>(sg, "last", last);
  attr_value<int>(sg, "chunk_runs", chunk_runs);
  attr_value<int>(sg, "partials", static_cast<int>(partials.size()));
  std::vector<std::string> kinds;
  if (!partials.empty())
    for (const auto& red : partials[0]->reducers) kinds.push_back(red->kind());
  string_dataset(sg, "reducers", kinds);
  for (std::size_t i = 0; i < partials.size(); ++i) {
    Handle pg = group(sg, std::to_string(i));
    attr_value<int>(pg, "level", partials[i]->level);
    attr_value<std::uint64_t>(pg, "index", partials[i]->index);
    for (std::size_t j = 0; j < partials[i]->reducers.size(); ++j) {
      Handle rg = group(pg, std::to_string(j));
      attr_string(rg, "kind", partials[i]->reducers[j]->kind());
      const ReducerState st = partials[i]->reducers[j]->save();
      Handle cg = group(rg, "counts");
      for (const auto& [name, v] : st.counts) state_array(cg, name, v);
      Handle fg = group(rg, "reals");
      for (const auto& [name, v] : st.reals) state_array(fg, name, v);
    }
  }
}

/// The header of state group `sg`: its run range and chunk size, refused unless the chunk
/// size is `chunk` (the study's; 0: any positive) and the range starts on a chunk boundary.
StudyState read_state_header(hid_t sg, int chunk) {
  StudyState state;
  state.first = read_attr<std::uint64_t>(sg, "first");
  state.last = read_attr<std::uint64_t>(sg, "last");
  state.chunk = read_attr<int>(sg, "chunk_runs");
  if (state.chunk <= 0)
    throw refusal(sg, "chunk_runs",
                  fmt::format("is {}; a positive chunk size was expected", state.chunk));
  if (chunk > 0 && state.chunk != chunk)
    throw refusal(sg, "chunk_runs",
                  fmt::format("is {}: the state is of {}-run chunks where the study's chunks "
                              "have {} runs",
                              state.chunk, state.chunk, chunk));
  if (state.first > state.last || state.first % static_cast<std::uint64_t>(state.chunk) != 0)
    throw refusal(sg, "first",
                  fmt::format("and 'last' give runs [{}, {}); a range from a multiple of {} "
                              "was expected",
                              state.first, state.last, state.chunk));
  return state;
}

/// Refuses partial `p` unless it starts at chunk `*at` (then moves `*at` past it) and
/// ends no later than chunk `end`: the partials tile the state's chunks in order.
void check_partial(hid_t pg, const StudyPartial& p, std::uint64_t* at, std::uint64_t end) {
  const bool fits = p.level >= 0 && p.level < 63 && p.index <= (end >> p.level) &&
                    (p.index << p.level) == *at && ((p.index + 1) << p.level) > *at;
  const std::uint64_t stop = fits ? std::min(end, (p.index + 1) << p.level) : 0;
  if (!fits || stop <= *at)
    throw refusal(pg, "index",
                  fmt::format("is {} at level {}: the partial's chunks do not start at chunk "
                              "{} within the state's {} chunks",
                              p.index, p.level, *at, end));
  *at = stop;
}

/// The state group `sg` (write_state's layout), each reducer loaded into an empty() copy
/// of `prototypes`; refused unless of `chunk`-run chunks (0: any); `path` names the file.
StudyState read_state_group(hid_t sg, const std::vector<std::unique_ptr<Reducer>>& prototypes,
                            const std::string& path, int chunk) {
  StudyState state = read_state_header(sg, chunk);
  const int count = read_attr<int>(sg, "partials");
  if (count < 0 || static_cast<std::size_t>(count) > members(sg).size())
    throw refusal(sg, "partials", fmt::format("is {}; at most the groups present", count));
  const auto size = static_cast<std::uint64_t>(state.chunk);
  std::uint64_t at = state.first / size;
  const std::uint64_t end = state.last / size + (state.last % size != 0);
  for (int i = 0; i < count; ++i) {
    Handle pg = open_group(sg, std::to_string(i),
                           fmt::format("'{}': the stored state has no partial {}", path, i));
    StudyPartial p;
    p.level = read_attr<int>(pg, "level");
    p.index = read_attr<std::uint64_t>(pg, "index");
    check_partial(pg, p, &at, end);
    for (std::size_t j = 0; j < prototypes.size(); ++j) {
      if (H5Lexists(pg, std::to_string(j).c_str(), H5P_DEFAULT) <= 0)
        throw OutputError(
            fmt::format("'{}': the stored state has fewer reducers than asked", path));
      Handle rg(H5Gopen2(pg, std::to_string(j).c_str(), H5P_DEFAULT), H5Gclose, "open reducer");
      if (const std::string kind = read_string_attr(rg, "kind"); kind != prototypes[j]->kind())
        throw OutputError(fmt::format("'{}': stored reducer {} is '{}', not '{}'", path, j, kind,
                                      prototypes[j]->kind()));
      ReducerState st;
      Handle cg =
          open_group(rg, "counts", fmt::format("'{}': stored reducer {} has no counts", path, j));
      for (const auto& name : members(cg)) st.counts[name] = read_array<std::uint64_t>(cg, name);
      Handle fg =
          open_group(rg, "reals", fmt::format("'{}': stored reducer {} has no reals", path, j));
      for (const auto& name : members(fg)) st.reals[name] = read_array<double>(fg, name);
      auto r = prototypes[j]->empty();
      try {
        r->load(st);
      } catch (const std::invalid_argument& e) {
        throw refusal(
            rg, "",
            fmt::format("holds a {} state that does not fit: {}", prototypes[j]->kind(), e.what()));
      }
      p.reducers.push_back(std::move(r));
    }
    state.push(std::move(p));
  }
  if (at != end && state.first != state.last)
    throw refusal(sg, "partials",
                  fmt::format("cover chunks up to {}, not the state's {}", at, end));
  return state;
}

/// The chunk size the fingerprint of checkpoint `f` names (0 when it names none).
int fingerprint_chunk(hid_t f) {
  const auto names = read_string_array(f, "fingerprint_names", false);
  const auto values = read_string_array(f, "fingerprint_values", false);
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i)
    if (names[i] == "chunk") {
      try {
        const int chunk = std::stoi(values[i]);
        return chunk > 0 ? chunk : 0;
      } catch (const std::exception&) {
        return 0;
      }
    }
  return 0;
}

constexpr const char* kCheckpointFiletype = "attain checkpoint";

/// fsync()s a file or folder; false when it cannot.
bool sync_path(const std::string& path, bool folder) {
  const int fd =
      ::open(path.c_str(), (folder ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

Handle open_checkpoint(const std::string& folder) {
  const std::string path = folder + "/state.h5";
  Handle f = open_input(path, "checkpoint", true);
  if (H5Aexists(f, "filetype") <= 0 || read_string_attr(f, "filetype") != kCheckpointFiletype)
    throw OutputError(fmt::format("'{}' is not an attain checkpoint", path));
  return f;
}

}  // namespace

namespace h5 {

void write_state(hid_t parent, const StudyResult& r, int chunk_runs) {
  std::vector<const StudyPartial*> partials;
  for (const auto& p : r.state.partials()) partials.push_back(&p);
  write_partials(parent, r.first, r.last, chunk_runs, partials);
}

}  // namespace h5

StudyState read_state(const std::string& path, const std::string& scenario,
                      const std::vector<std::unique_ptr<Reducer>>& prototypes, std::uint64_t* first,
                      std::uint64_t* last) {
  // The same file-type and structure rules as every input (h5_read.hpp).
  Handle f = open_input(path, "results file", false);
  const std::string where = "scenarios/" + scenario + "/state";
  if (H5Lexists(f, ("scenarios/" + scenario).c_str(), H5P_DEFAULT) <= 0 ||
      H5Lexists(f, where.c_str(), H5P_DEFAULT) <= 0)
    throw OutputError(
        fmt::format("'{}' holds no reducer state for scenario '{}' (written by "
                    "'attain run --save-state' or '--run-range')",
                    path, scenario));
  Handle sg(H5Gopen2(f, where.c_str(), H5P_DEFAULT), H5Gclose, "open " + where);
  StudyState state = read_state_group(sg, prototypes, path, read_attr<int>(f, "chunk_runs"));
  if (first) *first = state.first;
  if (last) *last = state.last;
  return state;
}

void write_checkpoint(const std::string& folder, const Fingerprint& fingerprint,
                      const std::vector<CheckpointScenario>& scenarios) {
  quiet_hdf5();
  const std::string path = folder + "/state.h5", tmp = path + ".tmp";
  std::error_code ec;
  std::filesystem::remove(tmp, ec);  // a killed run's (unlink: a link goes, never its target)
  try {
    // Exclusively (O_CREAT | O_EXCL): a link planted under the temporary's name is refused.
    Handle f(H5Fcreate(tmp.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
             "create '" + tmp + "'");
    attr_string(f, "filetype", kCheckpointFiletype);
    attr_string(f, "engine_version", kEngineVersion);
    std::vector<std::string> names, values;
    for (const auto& [name, value] : fingerprint) names.push_back(name), values.push_back(value);
    string_dataset(f, "fingerprint_names", names);
    string_dataset(f, "fingerprint_values", values);
    Handle all = group(f, "scenarios");
    for (std::size_t i = 0; i < scenarios.size(); ++i) {
      const CheckpointScenario& sc = scenarios[i];
      Handle g = group(all, std::to_string(i));
      attr_string(g, "name", sc.name);
      attr_value<int>(g, "done", sc.done ? 1 : 0);
      attr_value<double>(g, "seconds", sc.seconds);
      attr_value<std::uint64_t>(g, "rows_bytes", sc.rows_bytes);
      attr_string(g, "rows_file", sc.rows_file);
      if (sc.rows_digest) attr_value<std::uint64_t>(g, "rows_digest", *sc.rows_digest);
      const StudyState* head = sc.before ? sc.before : sc.state;
      if (!head) throw std::logic_error("write_checkpoint: a scenario without a state");
      std::vector<const StudyPartial*> partials;
      for (const StudyState* st : {sc.before, sc.state})
        if (st)
          for (const auto& p : st->partials()) partials.push_back(&p);
      write_partials(g, head->first, sc.state ? sc.state->last : sc.before->last, head->chunk,
                     partials);
    }
    check(H5Fflush(f, H5F_SCOPE_GLOBAL), "flush the checkpoint");
  } catch (const OutputError& e) {
    std::filesystem::remove(tmp, ec);
    throw OutputError(fmt::format("cannot write the checkpoint '{}': {}", path, e.what()));
  }
  // The new state is on disk before its name replaces the old one, and the rename is on
  // disk before the run goes on: a crash at any moment leaves one valid state.h5.
  if (!sync_path(tmp, false)) {
    std::filesystem::remove(tmp, ec);
    throw OutputError(fmt::format("cannot sync the checkpoint '{}'", tmp));
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw OutputError(fmt::format("cannot rename the checkpoint to '{}'", path));
  }
  sync_path(folder, true);
}

CheckpointInfo read_checkpoint_info(const std::string& folder) {
  Handle f = open_checkpoint(folder);
  CheckpointInfo info;
  try {
    const auto names = read_string_array(f, "fingerprint_names", false);
    const auto values = read_string_array(f, "fingerprint_values", false);
    if (names.size() != values.size())
      throw OutputError("HDF5: fingerprint names and values differ in number");
    for (std::size_t i = 0; i < names.size(); ++i)
      info.fingerprint.emplace_back(names[i], values[i]);
    Handle all = open_group(f, "scenarios", "no scenarios group");
    const std::size_t n = members(all).size();
    for (std::size_t i = 0; i < n; ++i) {
      Handle g = open_group(all, std::to_string(i), "scenario " + std::to_string(i) + " missing");
      CheckpointInfo::Scenario s;
      s.name = read_string_attr(g, "name");
      s.done = read_attr<int>(g, "done") != 0;
      s.seconds = read_attr<double>(g, "seconds");
      s.rows_bytes = read_attr<std::uint64_t>(g, "rows_bytes");
      s.rows_file = read_string_attr(g, "rows_file");
      if (s.rows_file.find('/') != std::string::npos || s.rows_file == "..")
        throw OutputError(fmt::format("HDF5: a rows spool named '{}'", s.rows_file));
      Handle sg = open_group(g, "state", "no state");
      s.first = read_attr<std::uint64_t>(sg, "first");
      s.last = read_attr<std::uint64_t>(sg, "last");
      info.scenarios.push_back(std::move(s));
    }
  } catch (const OutputError& e) {
    throw OutputError(
        fmt::format("the checkpoint '{}/state.h5' cannot be read: {}", folder, e.what()));
  }
  return info;
}

StudyState read_checkpoint_state(const std::string& folder, std::size_t index,
                                 const std::vector<std::unique_ptr<Reducer>>& prototypes) {
  Handle f = open_checkpoint(folder);
  const std::string where = fmt::format("scenarios/{}/state", index);
  if (H5Lexists(f, fmt::format("scenarios/{}", index).c_str(), H5P_DEFAULT) <= 0)
    throw OutputError(fmt::format("the checkpoint in '{}' has no scenario {}", folder, index));
  Handle sg = open_group(
      f, where, fmt::format("the checkpoint in '{}' has no state for scenario {}", folder, index));
  return read_state_group(sg, prototypes, folder + "/state.h5", fingerprint_chunk(f));
}

}  // namespace attain
