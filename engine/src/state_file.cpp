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

/// The state group `sg` (write_state's layout), each reducer loaded into an empty() copy
/// of `prototypes`; `path` names the file in messages.
StudyState read_state_group(hid_t sg, const std::vector<std::unique_ptr<Reducer>>& prototypes,
                            const std::string& path) {
  const int count = read_attr<int>(sg, "partials");
  StudyState state;
  state.first = read_attr<std::uint64_t>(sg, "first");
  state.last = read_attr<std::uint64_t>(sg, "last");
  state.chunk = read_attr<int>(sg, "chunk_runs");
  for (int i = 0; i < count; ++i) {
    Handle pg(H5Gopen2(sg, std::to_string(i).c_str(), H5P_DEFAULT), H5Gclose,
              "open partial " + std::to_string(i));
    StudyPartial p;
    p.level = read_attr<int>(pg, "level");
    p.index = read_attr<std::uint64_t>(pg, "index");
    for (std::size_t j = 0; j < prototypes.size(); ++j) {
      if (H5Lexists(pg, std::to_string(j).c_str(), H5P_DEFAULT) <= 0)
        throw OutputError(
            fmt::format("'{}': the stored state has fewer reducers than asked", path));
      Handle rg(H5Gopen2(pg, std::to_string(j).c_str(), H5P_DEFAULT), H5Gclose, "open reducer");
      if (const std::string kind = read_string_attr(rg, "kind"); kind != prototypes[j]->kind())
        throw OutputError(fmt::format("'{}': stored reducer {} is '{}', not '{}'", path, j, kind,
                                      prototypes[j]->kind()));
      ReducerState st;
      Handle cg(H5Gopen2(rg, "counts", H5P_DEFAULT), H5Gclose, "open counts");
      for (const auto& name : members(cg)) st.counts[name] = read_array<std::uint64_t>(cg, name);
      Handle fg(H5Gopen2(rg, "reals", H5P_DEFAULT), H5Gclose, "open reals");
      for (const auto& name : members(fg)) st.reals[name] = read_array<double>(fg, name);
      auto r = prototypes[j]->empty();
      try {
        r->load(st);
      } catch (const std::invalid_argument& e) {
        throw OutputError(fmt::format("'{}': stored {} state does not fit: {}", path,
                                      prototypes[j]->kind(), e.what()));
      }
      p.reducers.push_back(std::move(r));
    }
    state.push(std::move(p));
  }
  return state;
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
  quiet_hdf5();
  const std::string path = folder + "/state.h5";
  Handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
           "open the checkpoint '" + path + "'");
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
  quiet_hdf5();
  // The same file-type rule as every input: a FIFO or device would block or never end.
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    throw OutputError(fmt::format("'{}' is not a regular file, so not a results file", path));
  Handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
           "open '" + path + "' (is it an attain results file?)");
  const std::string where = "scenarios/" + scenario + "/state";
  if (H5Lexists(f, ("scenarios/" + scenario).c_str(), H5P_DEFAULT) <= 0 ||
      H5Lexists(f, where.c_str(), H5P_DEFAULT) <= 0)
    throw OutputError(
        fmt::format("'{}' holds no reducer state for scenario '{}' (written by "
                    "'attain run --save-state' or '--run-range')",
                    path, scenario));
  Handle sg(H5Gopen2(f, where.c_str(), H5P_DEFAULT), H5Gclose, "open " + where);
  if (first) *first = read_attr<std::uint64_t>(sg, "first");
  if (last) *last = read_attr<std::uint64_t>(sg, "last");
  return read_state_group(sg, prototypes, path);
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
  Handle sg(H5Gopen2(f, where.c_str(), H5P_DEFAULT), H5Gclose, "open " + where);
  return read_state_group(sg, prototypes, folder + "/state.h5");
}

}  // namespace attain
