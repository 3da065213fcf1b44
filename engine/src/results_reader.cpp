// Reading a results file back: the whole file (read_results), its scenario names, its
// per-run rows (read_runs, read_rows). Each group's reader sits beside its writer
// (results_scenario.cpp, results_analyses.cpp, results_sensitivity.cpp).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include "attain/constants.hpp"
#include "attain/results_file.hpp"
#include "attain/version.hpp"
#include "attain/yaml_reader.hpp"
#include "h5_util.hpp"
#include "results_groups.hpp"

namespace attain {
using namespace h5;
namespace {

Handle open_results(const std::string& path) {
  Handle f = open_input(path, "results file", false);
  if (H5Aexists(f, "filetype") <= 0)
    throw OutputError(fmt::format("'{}' is not an attain results file (no 'filetype')", path));
  return f;
}

/// Checks the file's layout version: another major version is refused.
void check_version(hid_t f, const std::string& path) {
  const auto version = read_attr_array<int>(f, "version");
  if (version.size() != 2 || version[0] != kResultsVersionMajor)
    throw OutputError(fmt::format(
        "'{}' has results layout version {}, which this attain ({}) cannot read: it reads "
        "version {}.x (written by attain {}); run the analysis again with this attain",
        path, version.size() == 2 ? fmt::format("{}.{}", version[0], version[1]) : std::string("?"),
        kEngineVersion, kResultsVersionMajor,
        H5Aexists(f, "engine_version") > 0 ? read_string_attr(f, "engine_version")
                                           : std::string("?")));
}

/// The widths of a scenario's per-run rows that the model stored in the file implies.
struct RowWidths {
  hsize_t parameters = 0, targets = 0, steps = 0, nodes = 0;
};

RowWidths row_widths(hid_t f, const std::string& path) {
  Handle mg = open_group(f, "model", fmt::format("'{}' has no /model group", path));
  const std::string source = read_string_attr(mg, "source");
  Model m;
  try {
    m = parse_model(source, path + ":/model");
  } catch (const Error& e) {
    throw OutputError(fmt::format(
        "'{}': the model stored in it no longer reads with this attain: {}", path, e.what()));
  }
  RowWidths w;
  for (const auto& n : m.nodes) w.parameters += n.kind == NodeKind::kParameter;
  w.targets = m.targets.size();
  w.steps = static_cast<hsize_t>(m.time.steps());
  w.nodes = m.nodes.size();
  return w;
}

/// Refuses dataset `name` of `g` unless its shape is {rows, widths...}.
void check_rows(hid_t g, const std::string& name, hsize_t rows, std::vector<hsize_t> widths) {
  auto dims = dims_of(g, name, static_cast<int>(widths.size() + 1));
  widths.insert(widths.begin(), rows);
  if (dims != widths)
    throw refusal(g, name,
                  fmt::format("has the shape ({}) where ({}) was expected (the runs and the "
                              "widths the stored model implies)",
                              fmt::join(dims, ", "), fmt::join(widths, ", ")));
}

}  // namespace

std::vector<std::string> stored_scenarios(const std::string& path) {
  Handle f = open_results(path);
  if (H5Aexists(f, "scenarios") <= 0) return {};
  return read_string_array(f, "scenarios", true);
}

StoredResults read_results(const std::string& path) {
  Handle f = open_results(path);
  StoredResults r;
  try {
    check_version(f, path);
    r.path = path;
    const auto version = read_attr_array<int>(f, "version");
    r.version_major = version[0], r.version_minor = version[1];
    r.engine_version = read_string_attr(f, "engine_version");
    r.created = read_string_attr(f, "created");
    r.rng = read_string_attr(f, "rng");
    r.info.seed = read_attr<std::uint64_t>(f, "seed");
    r.info.runs = read_attr<std::uint64_t>(f, "runs");
    r.info.first_run = read_attr<std::uint64_t>(f, "first_run");
    r.info.study_runs = H5Aexists(f, "study_runs") > 0 ? read_attr<std::uint64_t>(f, "study_runs")
                                                       : r.info.first_run + r.info.runs;
    r.info.chunk = read_attr<int>(f, "chunk_runs");
    const std::string store = read_string_attr(f, "store");
    r.info.store = store == "full"      ? StoreLevel::kFull
                   : store == "summary" ? StoreLevel::kSummary
                                        : StoreLevel::kTargets;
    r.info.analysis = read_string_attr(f, "analysis");
    r.info.ci_width = read_attr<double>(f, "ci_width");
    Handle mg = open_group(f, "model", fmt::format("'{}' has no /model group", path));
    const std::string source = read_string_attr(mg, "source");
    const std::string model_path = read_string_attr(mg, "path");
    try {
      r.model = parse_model(source, model_path.empty() ? path + ":/model" : model_path);
    } catch (const Error& e) {
      throw OutputError(fmt::format(
          "'{}': the model stored in it no longer reads with this attain: {}", path, e.what()));
    }
    for (const auto& name : stored_scenarios(path))
      r.scenarios.push_back(read_scenario(f, name, r.model, path));
    if (has(f, "comparisons")) {
      Handle cg(H5Gopen2(f, "comparisons", H5P_DEFAULT), H5Gclose, "open comparisons");
      for (const auto& s : r.scenarios)
        if (has(cg, s.name)) {
          Handle g(H5Gopen2(cg, s.name.c_str(), H5P_DEFAULT), H5Gclose, "open comparison");
          r.comparisons.push_back(read_comparison(g, r.model, path));
        }
    }
    if (has(f, "sweep")) {
      Handle g(H5Gopen2(f, "sweep", H5P_DEFAULT), H5Gclose, "open sweep");
      r.sweep = read_sweep(g, r.model, path);
      r.analysis_scenario = read_string_attr(g, "scenario");
    }
    if (has(f, "search")) {
      Handle g(H5Gopen2(f, "search", H5P_DEFAULT), H5Gclose, "open search");
      r.search = read_search(g, path);
      r.analysis_scenario = read_string_attr(g, "scenario");
    }
    if (has(f, "sensitivity")) {
      Handle sg(H5Gopen2(f, "sensitivity", H5P_DEFAULT), H5Gclose, "open sensitivity");
      for (const auto& name : members(sg)) {
        Handle g(H5Gopen2(sg, name.c_str(), H5P_DEFAULT), H5Gclose, "open sensitivity");
        r.sensitivity.emplace_back(name, read_sensitivity(g, r.model, path));
      }
    }
  } catch (const OutputError& e) {
    const std::string what = e.what();
    if (what.rfind("HDF5: ", 0) == 0)
      throw OutputError(
          fmt::format("'{}' is not a complete attain results file ({})", path, what.substr(6)));
    throw;
  }
  return r;
}

StoredRuns read_runs(const std::string& path, const std::string& scenario) {
  Handle f = open_results(path);
  check_version(f, path);
  StoredRuns r;
  r.model = read_string_attr(f, "model");
  r.seed = read_attr<std::uint64_t>(f, "seed");
  const std::string g = "scenarios/" + scenario;
  if (!has(f, "scenarios") || !has(f, g))
    throw OutputError(fmt::format("'{}' has no scenario '{}'", path, scenario));
  Handle sg(H5Gopen2(f, g.c_str(), H5P_DEFAULT), H5Gclose, "open " + g);
  if (!has(sg, "run"))
    throw OutputError(fmt::format(
        "'{}' holds no per-run rows for scenario '{}' (it was written with --store summary; "
        "write it with --store targets)",
        path, scenario));
  r.first_run = read_attr<std::uint64_t>(f, "first_run");
  r.parameters = read_string_array(sg, "parameter", false);
  r.targets = read_string_array(sg, "target", false);
  for (const auto& op : read_string_array(sg, "target_op", false)) {
    auto c = cmp_of(op);
    if (!c)
      throw OutputError(
          fmt::format("'{}': scenario '{}' has a target with comparison '{}'", path, scenario, op));
    r.ops.push_back(*c);
  }
  r.thresholds = read_array<double>(sg, "threshold");
  const RowWidths w = row_widths(f, path);
  const std::size_t np = r.parameters.size(), nt = r.targets.size();
  if (np != w.parameters || nt != w.targets || r.ops.size() != nt || r.thresholds.size() != nt)
    throw OutputError(fmt::format(
        "'{}': scenario '{}' names {} parameters and {} targets where its model has {} and {}",
        path, scenario, np, nt, w.parameters, w.targets));
  const hsize_t rows = dims_of(sg, "run", 1)[0];
  check_rows(sg, "parameters", rows, {np});
  check_rows(sg, "target_values", rows, {nt});
  const auto params = read_array<double>(sg, "parameters");
  const auto values = read_array<double>(sg, "target_values");
  r.values.assign(np, std::vector<double>(rows));
  r.target_values.assign(nt, std::vector<double>(rows));
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t q = 0; q < np; ++q) r.values[q][i] = params[i * np + q];
    for (std::size_t t = 0; t < nt; ++t) r.target_values[t][i] = values[i * nt + t];
  }
  return r;
}

void read_rows(const std::string& path, const std::string& scenario, std::uint64_t block,
               ChunkSink& sink) {
  Handle f = open_results(path);
  try {
    const std::string where = "scenarios/" + scenario;
    if (H5Lexists(f, where.c_str(), H5P_DEFAULT) <= 0)
      throw OutputError(fmt::format("'{}' has no scenario '{}'", path, scenario));
    Handle g(H5Gopen2(f, where.c_str(), H5P_DEFAULT), H5Gclose, "open " + where);
    if (!has(g, "run"))
      throw OutputError(fmt::format(
          "'{}' holds no per-run rows for scenario '{}' (it was written with --store summary)",
          path, scenario));
    struct Column {
      Handle set;
      std::vector<hsize_t> dims;
      hsize_t row = 1;
    };
    auto open_column = [&](const char* name) {
      Column c;
      c.set = Handle(H5Dopen2(g, name, H5P_DEFAULT), H5Dclose, std::string("open ") + name);
      const ObjectShape s = shape_of(c.set, false);
      if (s.type_class != H5T_INTEGER && (name == std::string("run") || s.type_class != H5T_FLOAT))
        throw refusal(g, name,
                      name == std::string("run") ? "is not integer; run numbers were expected"
                                                 : "is not numeric; numbers were expected");
      Handle space(H5Dget_space(c.set), H5Sclose, "get dataspace");
      const int rank = H5Sget_simple_extent_ndims(space);
      if (rank < 1) throw OutputError(fmt::format("HDF5: '{}' has no rows", name));
      c.dims.resize(static_cast<std::size_t>(rank));
      H5Sget_simple_extent_dims(space, c.dims.data(), nullptr);
      for (std::size_t i = 1; i < c.dims.size(); ++i) c.row *= c.dims[i];
      return c;
    };
    auto read = [](Column& c, hsize_t first, hsize_t n, hid_t type, void* out) {
      if (n == 0 || c.row == 0) return;
      Handle space(H5Dget_space(c.set), H5Sclose, "get dataspace");
      std::vector<hsize_t> start(c.dims.size(), 0), count = c.dims;
      start[0] = first;
      count[0] = n;
      check(
          H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
          "select rows");
      Handle mem = simple_space(count);
      check(H5Dread(c.set, type, mem, space, H5P_DEFAULT, out), "read rows");
    };
    // Every column has the rows of `run` (one dimension) and the widths the model implies:
    // the sink takes them as the model's rows.
    const RowWidths w = row_widths(f, path);
    const hsize_t rows = dims_of(g, "run", 1)[0];
    check_rows(g, "target_values", rows, {w.targets});
    check_rows(g, "parameters", rows, {w.parameters});
    if (has(g, "values")) check_rows(g, "values", rows, {w.steps, w.nodes});
    Column run = open_column("run"), targets = open_column("target_values"),
           params = open_column("parameters");
    std::optional<Column> full;
    if (has(g, "values")) full = open_column("values");
    block = std::max<std::uint64_t>(1, block);
    ChunkData c;
    std::vector<std::uint64_t> index;
    for (hsize_t at = 0; at < rows; at += block) {
      const hsize_t n = std::min<hsize_t>(block, rows - at);
      index.resize(n);
      read(run, at, n, H5T_NATIVE_UINT64, index.data());
      for (hsize_t i = 1; i < n; ++i)
        if (index[i] != index[0] + i)
          throw OutputError(
              fmt::format("'{}': scenario '{}' has rows out of run order", path, scenario));
      c.first_run = index[0];
      c.count = static_cast<int>(n);
      c.target_values.resize(n * targets.row);
      c.parameters.resize(n * params.row);
      c.full.resize(full ? n * full->row : 0);
      read(targets, at, n, H5T_NATIVE_DOUBLE, c.target_values.data());
      read(params, at, n, H5T_NATIVE_DOUBLE, c.parameters.data());
      if (full) read(*full, at, n, H5T_NATIVE_DOUBLE, c.full.data());
      sink.write(c);
    }
  } catch (const OutputError& e) {
    const std::string what = e.what();
    if (what.rfind("HDF5: ", 0) == 0)
      throw OutputError(fmt::format("'{}': cannot read the rows of scenario '{}' ({})", path,
                                    scenario, what.substr(6)));
    throw;
  }
}

}  // namespace attain
