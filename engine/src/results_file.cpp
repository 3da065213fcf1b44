// HDF5 results writer (C API behind RAII handles). Layout: docs/results-format.md.
#include "attain/results_file.hpp"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <hdf5.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <optional>
#include <random>

#include "attain/constants.hpp"
#include "attain/version.hpp"

namespace attain {
namespace {

/// Owns one HDF5 identifier and closes it with the matching function.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer close, const std::string& what) : id_(id), close_(close) {
    if (id < 0) throw OutputError("HDF5: cannot " + what);
  }
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept {
    reset();
    id_ = o.id_, close_ = o.close_, o.id_ = -1;
    return *this;
  }
  ~Handle() { reset(); }
  void reset() {
    if (id_ >= 0 && close_) close_(id_);
    id_ = -1;
  }
  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }

 private:
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

/// @brief Before the first HDF5 call of the process: no termination at exit (a file whose
/// close failed, on a full disk say, stays half-open inside the library, and HDF5's own
/// shutdown then crashes on it; the OS reclaims everything anyway). On every thread that
/// calls HDF5: errors become exceptions, not stack dumps on stderr (the error stack is
/// per thread in a thread-safe HDF5, and chunks are written from the pipeline's threads).
void quiet_hdf5() {
  static const bool once = [] {
    H5dont_atexit();
    return true;
  }();
  (void)once;
  thread_local bool quiet = false;
  if (!quiet) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    quiet = true;
  }
}

/// A failed write of the results file at `path`, in the user's terms where the file
/// system tells (a full disk), else HDF5's.
OutputError write_failure(const std::string& path, const std::exception& e) {
  std::error_code ec;
  const auto dir = std::filesystem::absolute(path, ec).parent_path();
  const auto space = std::filesystem::space(dir, ec);
  if (!ec && space.available < (std::uint64_t{1} << 20))
    return OutputError(
        fmt::format("cannot write the results to '{}': no space left on the "
                    "device of '{}'",
                    path, dir.string()));
  return OutputError(fmt::format("cannot write the results to '{}': {}", path, e.what()));
}

void check(herr_t status, const std::string& what) {
  if (status < 0) throw OutputError("HDF5: cannot " + what);
}

Handle group(hid_t parent, const std::string& name) {
  return Handle(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                "create group " + name);
}

/// The group `name` under `parent`, created when it is not there yet.
Handle open_or_create_group(hid_t parent, const std::string& name) {
  if (H5Lexists(parent, name.c_str(), H5P_DEFAULT) > 0)
    return Handle(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose, "open group " + name);
  return group(parent, name);
}

Handle utf8_type() {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose, "copy string type");
  check(H5Tset_size(t, H5T_VARIABLE), "set string size");
  check(H5Tset_cset(t, H5T_CSET_UTF8), "set UTF-8");
  return t;
}

Handle scalar_space() {
  return Handle(H5Screate(H5S_SCALAR), H5Sclose, "create dataspace");
}

Handle simple_space(std::vector<hsize_t> dims) {
  return Handle(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
                "create dataspace");
}

void attr_string(hid_t obj, const std::string& name, const std::string& value) {
  Handle type = utf8_type();
  Handle space = scalar_space();
  Handle a(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
           "create attribute " + name);
  const char* p = value.c_str();
  check(H5Awrite(a, type, &p), "write attribute " + name);
}

template <class T>
hid_t native();
template <>
hid_t native<double>() {
  return H5T_NATIVE_DOUBLE;
}
template <>
hid_t native<std::uint64_t>() {
  return H5T_NATIVE_UINT64;
}
template <>
hid_t native<int>() {
  return H5T_NATIVE_INT;
}

template <class T>
void attr_values(hid_t obj, const std::string& name, const std::vector<T>& values) {
  Handle space = simple_space({values.size()});
  Handle a(H5Acreate2(obj, name.c_str(), native<T>(), space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
           "create attribute " + name);
  check(H5Awrite(a, native<T>(), values.data()), "write attribute " + name);
}

template <class T>
void attr_value(hid_t obj, const std::string& name, T value) {
  Handle space = scalar_space();
  Handle a(H5Acreate2(obj, name.c_str(), native<T>(), space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
           "create attribute " + name);
  check(H5Awrite(a, native<T>(), &value), "write attribute " + name);
}

template <class T>
void dataset(hid_t parent, const std::string& name, const std::vector<T>& data,
             std::vector<hsize_t> dims) {
  Handle space = simple_space(dims);
  Handle d(
      H5Dcreate2(parent, name.c_str(), native<T>(), space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
      H5Dclose, "create dataset " + name);
  if (!data.empty())
    check(H5Dwrite(d, native<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), "write " + name);
}

void string_dataset(hid_t parent, const std::string& name, const std::vector<std::string>& data) {
  Handle type = utf8_type();
  Handle space = simple_space({data.size()});
  Handle d(H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
           H5Dclose, "create dataset " + name);
  std::vector<const char*> ptrs;
  for (const auto& s : data) ptrs.push_back(s.c_str());
  if (!ptrs.empty())
    check(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), "write " + name);
}

template <class T>
void scalar_dataset(hid_t parent, const std::string& name, T value) {
  Handle space = scalar_space();
  Handle d(
      H5Dcreate2(parent, name.c_str(), native<T>(), space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
      H5Dclose, "create dataset " + name);
  check(H5Dwrite(d, native<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &value), "write " + name);
}

/// A per-run dataset [runs, ...] written one chunk of rows at a time, compressed. It
/// grows as rows arrive (an adaptive study may stop before its ceiling of runs).
class RowDataset {
 public:
  RowDataset(hid_t parent, const std::string& name, std::vector<hsize_t> dims) : dims_(dims) {
    row_ = 1;
    for (std::size_t i = 1; i < dims.size(); ++i) row_ *= dims[i];
    std::vector<hsize_t> max = dims;
    max[0] = H5S_UNLIMITED;
    // An empty row (no targets, say) still needs a chunk shape of ones: then every
    // dimension must be extendable.
    if (row_ == 0) std::fill(max.begin(), max.end(), H5S_UNLIMITED);
    dims_[0] = 0;
    Handle space(H5Screate_simple(static_cast<int>(dims_.size()), dims_.data(), max.data()),
                 H5Sclose, "create dataspace");
    Handle plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "create property list");
    // About 256 KiB per HDF5 chunk: small enough to stream, large enough to compress.
    std::vector<hsize_t> chunk = dims;
    hsize_t rows = std::max<hsize_t>(1, (256 * 1024 / 8) / std::max<hsize_t>(1, row_));
    chunk[0] = std::max<hsize_t>(1, std::min(dims[0], rows));
    for (std::size_t i = 1; i < chunk.size(); ++i) chunk[i] = std::max<hsize_t>(1, chunk[i]);
    check(H5Pset_chunk(plist, static_cast<int>(chunk.size()), chunk.data()), "set chunking");
    if (row_ > 0) {
      check(H5Pset_shuffle(plist), "set shuffle");
      check(H5Pset_deflate(plist, 1), "set deflate");
    }
    set_ = Handle(
        H5Dcreate2(parent, name.c_str(), H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, plist, H5P_DEFAULT),
        H5Dclose, "create dataset " + name);
  }

  void write(hsize_t first_row, hsize_t rows, const double* data) {
    if (rows == 0) return;
    if (first_row + rows > dims_[0]) {
      dims_[0] = first_row + rows;
      check(H5Dset_extent(set_, dims_.data()), "extend dataset");
    }
    if (row_ == 0) return;
    Handle file_space(H5Dget_space(set_), H5Sclose, "get dataspace");
    std::vector<hsize_t> start(dims_.size(), 0), count = dims_;
    start[0] = first_row;
    count[0] = rows;
    check(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr, count.data(),
                              nullptr),
          "select rows");
    Handle mem_space = simple_space(count);
    check(H5Dwrite(set_, H5T_NATIVE_DOUBLE, mem_space, file_space, H5P_DEFAULT, data),
          "write rows");
  }

 private:
  std::vector<hsize_t> dims_;
  hsize_t row_ = 1;
  Handle set_;
};

class ScenarioSink : public ChunkSink {
 public:
  ScenarioSink(hid_t group, const Program& program, const RunInfo& info, std::string path)
      : first_run_(info.first_run), path_(std::move(path)) {
    const auto& m = program.model();
    hsize_t runs = info.runs;
    if (info.store == StoreLevel::kSummary) return;
    Handle g = attain::group(group, "runs");
    attr_value<std::uint64_t>(g, "first_run", info.first_run);
    target_values_.emplace(g, "target_values", std::vector<hsize_t>{runs, m.targets.size()});
    parameters_.emplace(g, "parameters", std::vector<hsize_t>{runs, program.parameters().size()});
    if (info.store == StoreLevel::kFull)
      values_.emplace(g, "values",
                      std::vector<hsize_t>{runs, static_cast<hsize_t>(program.steps()),
                                           static_cast<hsize_t>(program.nodes())});
  }

  void write(const ChunkData& c) override {
    quiet_hdf5();
    try {
      // Row i is run first_run + i: a study of the range [first, last) fills rows from 0.
      hsize_t row = c.first_run - first_run_;
      hsize_t n = static_cast<hsize_t>(c.count);
      if (target_values_) target_values_->write(row, n, c.target_values.data());
      if (parameters_) parameters_->write(row, n, c.parameters.data());
      if (values_) values_->write(row, n, c.full.data());
    } catch (const OutputError& e) {
      throw write_failure(path_, e);
    }
  }

 private:
  std::uint64_t first_run_;
  std::string path_;
  std::optional<RowDataset> target_values_, parameters_, values_;
};

}  // namespace

struct ResultsFile::Impl {
  std::string path, tmp;
  RunInfo info;
  const Model* model = nullptr;
  Handle file;
  Handle scenarios;
  /// Scenario groups begun and not yet ended, oldest first (a comparison runs several
  /// scenarios at once, each with its own sink).
  struct Open {
    Handle group;
    const Program* program = nullptr;
    std::unique_ptr<ScenarioSink> sink;
  };
  std::deque<Open> open;
  std::vector<std::string> names;
  bool committed = false;
};

ResultsFile::ResultsFile(const std::string& path, const Model& model, const RunInfo& info)
    : impl_(std::make_unique<Impl>()) {
  quiet_hdf5();
  impl_->path = path;
  impl_->info = info;
  impl_->model = &model;
  // The temporary file has an unpredictable name and is created exclusively (O_EXCL), so
  // a file or symlink planted beside the output is never followed or overwritten.
  std::random_device entropy;
  hid_t f = -1;
  for (int attempt = 0; attempt < 8 && f < 0; ++attempt) {
    impl_->tmp = fmt::format("{}.tmp-{}-{:08x}{:08x}", path, ::getpid(), entropy(), entropy());
    f = H5Fcreate(impl_->tmp.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
  }
  if (f < 0)
    throw OutputError(
        fmt::format("cannot create output file '{}' (is its directory writable?)", path));
  impl_->file = Handle(f, H5Fclose, "create file");
  hid_t root = impl_->file;
  attr_string(root, "filetype", kResultsFiletype);
  attr_values<int>(root, "version", {kResultsVersionMajor, kResultsVersionMinor});
  attr_string(root, "engine_version", kEngineVersion);
  attr_string(root, "model", model.name);
  attr_value<std::uint64_t>(root, "seed", info.seed);
  attr_value<std::uint64_t>(root, "runs", info.runs);
  attr_value<std::uint64_t>(root, "first_run", info.first_run);
  attr_value<int>(root, "chunk_runs", info.chunk);
  attr_string(root, "store", std::string(store_name(info.store)));
  attr_string(root, "analysis", info.analysis);
  attr_value<double>(root, "ci_width", info.ci_width);
  attr_string(root, "rng", kRngScheme);
  attr_string(root, "created",
              fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr))));

  Handle mg = group(root, "model");
  attr_string(mg, "name", model.name);
  attr_string(mg, "description", model.description);
  attr_string(mg, "path", model.path);
  attr_string(mg, "source", model.source_text);
  std::vector<std::string> names, kinds, labels, units, descriptions, sources;
  std::vector<std::uint64_t> ids;
  for (const auto& n : model.nodes) {
    names.push_back(n.name);
    kinds.emplace_back(kind_name(n.kind));
    labels.push_back(n.label);
    units.push_back(n.unit);
    descriptions.push_back(n.description);
    sources.push_back(n.source);
    ids.push_back(n.id);
  }
  Handle ng = group(mg, "nodes");
  string_dataset(ng, "name", names);
  dataset(ng, "id", ids, {ids.size()});
  string_dataset(ng, "kind", kinds);
  string_dataset(ng, "label", labels);
  string_dataset(ng, "unit", units);
  string_dataset(ng, "description", descriptions);
  string_dataset(ng, "source", sources);
  std::vector<double> times;
  for (int k = 0; k < model.time.steps(); ++k) times.push_back(model.time.time(k));
  dataset(mg, "time", times, {times.size()});
  std::vector<std::string> params;
  for (const auto& n : model.nodes)
    if (n.kind == NodeKind::kParameter) params.push_back(n.name);
  string_dataset(mg, "parameters", params);
  impl_->scenarios = group(root, "scenarios");
}

ResultsFile::~ResultsFile() {
  if (!impl_->committed) {
    impl_->open.clear();
    impl_->scenarios.reset();
    impl_->file.reset();
    std::error_code ec;
    std::filesystem::remove(impl_->tmp, ec);
  }
}

ChunkSink& ResultsFile::begin_scenario(const Scenario& scenario, const Program& program) {
  impl_->open.push_back({group(impl_->scenarios, scenario.name), &program, nullptr});
  impl_->names.push_back(scenario.name);
  hid_t g = impl_->open.back().group;
  attr_string(g, "name", scenario.name);
  attr_string(g, "description", scenario.description);
  attr_string(g, "path", scenario.path);
  std::string sources;
  for (const auto& [p, text] : scenario.sources) sources += fmt::format("# {}\n{}\n", p, text);
  attr_string(g, "source", sources);
  impl_->open.back().sink = std::make_unique<ScenarioSink>(g, program, impl_->info, impl_->path);
  return *impl_->open.back().sink;
}

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

void write_state(hid_t parent, const StudyResult& r, int chunk_runs) {
  Handle sg = group(parent, "state");
  attr_value<std::uint64_t>(sg, "first", r.first);
  attr_value<std::uint64_t>(sg, "last", r.last);
  attr_value<int>(sg, "chunk_runs", chunk_runs);
  const auto& partials = r.state.partials();
  attr_value<int>(sg, "partials", static_cast<int>(partials.size()));
  std::vector<std::string> kinds;
  if (!partials.empty())
    for (const auto& red : partials[0].reducers) kinds.push_back(red->kind());
  string_dataset(sg, "reducers", kinds);
  for (std::size_t i = 0; i < partials.size(); ++i) {
    Handle pg = group(sg, std::to_string(i));
    attr_value<int>(pg, "level", partials[i].level);
    attr_value<std::uint64_t>(pg, "index", partials[i].index);
    for (std::size_t j = 0; j < partials[i].reducers.size(); ++j) {
      Handle rg = group(pg, std::to_string(j));
      attr_string(rg, "kind", partials[i].reducers[j]->kind());
      const ReducerState st = partials[i].reducers[j]->save();
      Handle cg = group(rg, "counts");
      for (const auto& [name, v] : st.counts) state_array(cg, name, v);
      Handle fg = group(rg, "reals");
      for (const auto& [name, v] : st.reals) state_array(fg, name, v);
    }
  }
}

}  // namespace

void ResultsFile::end_scenario(const EnsembleResult& r, const StudyResult* state) {
  try {
    end_scenario_unchecked(r, state);
  } catch (const OutputError& e) {
    throw write_failure(impl_->path, e);
  }
}

void ResultsFile::end_scenario_unchecked(const EnsembleResult& r, const StudyResult* state) {
  if (impl_->open.empty()) throw std::logic_error("end_scenario without begin_scenario");
  hid_t g = impl_->open.front().group;
  const Model& m = impl_->open.front().program->model();
  const auto steps = static_cast<hsize_t>(m.time.steps());
  const auto nt = m.targets.size();
  attr_value<double>(g, "seconds", r.seconds);
  attr_value<std::uint64_t>(g, "runs", r.runs);

  Handle tg = group(g, "targets");
  std::vector<std::string> name, node, label, op, source;
  std::vector<double> year, threshold, prob, lo, hi;
  std::vector<std::uint64_t> hits, runs, first_met, never;
  for (std::size_t t = 0; t < nt; ++t) {
    const Target& tt = m.targets[t];
    const TargetResult& tr = r.targets[t];
    name.push_back(tt.name), node.push_back(tt.node), label.push_back(tt.label);
    op.emplace_back(cmp_name(tt.op)), source.push_back(tt.source);
    year.push_back(tt.year), threshold.push_back(tt.threshold);
    hits.push_back(tr.hits), runs.push_back(tr.runs), prob.push_back(tr.probability);
    lo.push_back(tr.ci_low), hi.push_back(tr.ci_high), never.push_back(tr.never);
    first_met.insert(first_met.end(), tr.first_met.begin(), tr.first_met.end());
  }
  string_dataset(tg, "name", name);
  string_dataset(tg, "node", node);
  string_dataset(tg, "label", label);
  string_dataset(tg, "op", op);
  string_dataset(tg, "source", source);
  dataset(tg, "year", year, {nt});
  dataset(tg, "threshold", threshold, {nt});
  dataset(tg, "hits", hits, {nt});
  dataset(tg, "runs", runs, {nt});
  dataset(tg, "probability", prob, {nt});
  dataset(tg, "ci_low", lo, {nt});
  dataset(tg, "ci_high", hi, {nt});
  dataset(tg, "first_met", first_met, {nt, steps});
  dataset(tg, "never_met", never, {nt});

  if (nt > 0) {
    Handle jg = group(g, "joint");
    scalar_dataset<std::uint64_t>(jg, "hits", r.joint_hits);
    scalar_dataset<std::uint64_t>(jg, "runs", r.runs);
    scalar_dataset<double>(jg, "probability", r.joint_probability);
    scalar_dataset<double>(jg, "ci_low", r.joint_low);
    scalar_dataset<double>(jg, "ci_high", r.joint_high);
  }

  if (!m.actuals.empty()) {
    Handle ag = group(g, "actuals");
    std::vector<std::string> an, al, as;
    std::vector<double> ay, av, ap;
    std::vector<std::uint64_t> below, equal;
    for (std::size_t a = 0; a < m.actuals.size(); ++a) {
      an.push_back(m.actuals[a].node), al.push_back(m.actuals[a].label),
          as.push_back(m.actuals[a].source);
      ay.push_back(m.actuals[a].year), av.push_back(m.actuals[a].value);
      ap.push_back(r.actuals[a].percentile);
      below.push_back(r.actuals[a].below), equal.push_back(r.actuals[a].equal);
    }
    string_dataset(ag, "node", an);
    string_dataset(ag, "label", al);
    string_dataset(ag, "source", as);
    dataset(ag, "year", ay, {ay.size()});
    dataset(ag, "value", av, {av.size()});
    dataset(ag, "percentile", ap, {ap.size()});
    dataset(ag, "below", below, {below.size()});
    dataset(ag, "equal", equal, {equal.size()});
  }

  if (!r.moments.empty()) {
    Handle sg = group(g, "summary");
    const auto nodes = static_cast<hsize_t>(m.nodes.size());
    std::vector<double> mean, sd, mn, mx, q;
    for (std::size_t i = 0; i < r.moments.size(); ++i) {
      mean.push_back(r.moments[i].mean());
      sd.push_back(r.moments[i].sd());
      mn.push_back(r.moments[i].min);
      mx.push_back(r.moments[i].max);
      q.insert(q.end(), r.quantiles[i].begin(), r.quantiles[i].end());
    }
    dataset(sg, "mean", mean, {nodes, steps});
    dataset(sg, "sd", sd, {nodes, steps});
    dataset(sg, "min", mn, {nodes, steps});
    dataset(sg, "max", mx, {nodes, steps});
    dataset(sg, "quantiles", q, {nodes, steps, EnsembleResult::kQuantileLevels.size()});
    {
      Handle qs(H5Dopen2(sg, "quantiles", H5P_DEFAULT), H5Dclose, "open quantiles");
      attr_values<double>(qs, "levels",
                          std::vector<double>(EnsembleResult::kQuantileLevels.begin(),
                                              EnsembleResult::kQuantileLevels.end()));
    }
  }
  if (state) write_state(g, *state, impl_->info.chunk);
  impl_->open.pop_front();
}

namespace {

/// One row per target (and the joint last) of a paired comparison.
void paired_rows(hid_t g, const std::vector<const PairedTarget*>& rows) {
  const hsize_t n = rows.size();
  std::vector<std::string> name;
  std::vector<std::uint64_t> both, helped, hurt, neither;
  std::vector<double> p_ref, p_other, diff, lo, hi, ulo, uhi, pv, md, mlo, mhi;
  for (const PairedTarget* r : rows) {
    name.push_back(r->name);
    both.push_back(r->table.both), helped.push_back(r->table.helped);
    hurt.push_back(r->table.hurt), neither.push_back(r->table.neither);
    p_ref.push_back(r->reference.p), p_other.push_back(r->other.p);
    diff.push_back(r->paired.difference), lo.push_back(r->paired.lo), hi.push_back(r->paired.hi);
    ulo.push_back(r->unpaired.lo), uhi.push_back(r->unpaired.hi), pv.push_back(r->p_value);
    const double nan = std::nan("");
    md.push_back(r->value_difference ? r->value_difference->mean : nan);
    mlo.push_back(r->value_difference ? r->value_difference->lo : nan);
    mhi.push_back(r->value_difference ? r->value_difference->hi : nan);
  }
  string_dataset(g, "name", name);
  dataset(g, "both", both, {n});
  dataset(g, "helped", helped, {n});
  dataset(g, "hurt", hurt, {n});
  dataset(g, "neither", neither, {n});
  dataset(g, "p_reference", p_ref, {n});
  dataset(g, "p_scenario", p_other, {n});
  dataset(g, "difference", diff, {n});
  dataset(g, "ci_low", lo, {n});
  dataset(g, "ci_high", hi, {n});
  dataset(g, "unpaired_ci_low", ulo, {n});
  dataset(g, "unpaired_ci_high", uhi, {n});
  dataset(g, "p_value", pv, {n});
  dataset(g, "value_difference", md, {n});
  dataset(g, "value_difference_ci_low", mlo, {n});
  dataset(g, "value_difference_ci_high", mhi, {n});
}

void proportions(hid_t g, const std::string& prefix, const std::vector<Proportion>& ps,
                 std::vector<hsize_t> dims) {
  std::vector<std::uint64_t> hits, runs;
  std::vector<double> p, lo, hi;
  for (const auto& x : ps)
    hits.push_back(x.hits), runs.push_back(x.runs), p.push_back(x.p), lo.push_back(x.lo),
        hi.push_back(x.hi);
  dataset(g, prefix + "hits", hits, dims);
  dataset(g, prefix + "runs", runs, dims);
  dataset(g, prefix + "probability", p, dims);
  dataset(g, prefix + "ci_low", lo, dims);
  dataset(g, prefix + "ci_high", hi, dims);
}

}  // namespace

void ResultsFile::write_comparisons(const std::vector<Comparison>& comparisons) {
  Handle cg = group(impl_->file, "comparisons");
  for (const auto& c : comparisons) {
    Handle g = group(cg, c.scenario);
    attr_string(g, "reference", c.reference);
    attr_string(g, "scenario", c.scenario);
    attr_string(g, "interval", "Newcombe (1998) method 10, paired; 95 %");
    attr_string(g, "test", "exact McNemar, two-sided");
    std::vector<const PairedTarget*> rows;
    for (const auto& t : c.targets) rows.push_back(&t);
    rows.push_back(&c.joint);
    paired_rows(g, rows);
  }
}

void ResultsFile::write_sweep(const SweepResult& sw) {
  Handle g = group(impl_->file, "sweep");
  const hsize_t np = sw.points.size(), na = sw.axes.size();
  const hsize_t nt = impl_->model->targets.size();
  std::vector<std::string> levers, meaning;
  for (std::size_t i = 0; i < sw.axes.size(); ++i) {
    levers.push_back(sw.axes[i].lever);
    meaning.push_back(sw.absolute[i] ? "value" : "scale");
  }
  string_dataset(g, "levers", levers);
  string_dataset(g, "level_kind", meaning);
  std::vector<std::string> targets;
  for (const auto& t : impl_->model->targets) targets.push_back(t.name);
  string_dataset(g, "targets", targets);
  std::vector<double> levels;
  std::vector<Proportion> ps, joint;
  for (const auto& p : sw.points) {
    levels.insert(levels.end(), p.levels.begin(), p.levels.end());
    ps.insert(ps.end(), p.targets.begin(), p.targets.end());
    joint.push_back(p.joint);
  }
  dataset(g, "levels", levels, {np, na});
  proportions(g, "", ps, {np, nt});
  proportions(g, "joint_", joint, {np});
}

void ResultsFile::write_search(const SearchResult& r) {
  Handle g = group(impl_->file, "search");
  string_dataset(g, "levers", r.levers);
  attr_string(g, "level_kind", r.absolute ? "value" : "scale");
  attr_string(g, "target", r.target);
  attr_value<double>(g, "goal", r.goal);
  attr_values<double>(g, "range", {r.range_low, r.range_high});
  attr_value<double>(g, "tolerance", r.tolerance);
  attr_value<int>(g, "reachable", r.reachable ? 1 : 0);
  attr_value<int>(g, "monotone", r.monotone ? 1 : 0);
  attr_value<double>(g, "level", r.level);
  attr_value<double>(g, "level_low", r.level_low);
  attr_value<double>(g, "level_high", r.level_high);
  attr_value<double>(g, "probability", r.at_level.p);
  attr_value<double>(g, "ci_low", r.at_level.lo);
  attr_value<double>(g, "ci_high", r.at_level.hi);
  std::vector<double> levels;
  std::vector<Proportion> ps;
  for (const auto& e : r.evaluations) levels.push_back(e.level), ps.push_back(e.p);
  Handle eg = group(g, "evaluations");
  dataset(eg, "level", levels, {levels.size()});
  proportions(eg, "", ps, {ps.size()});
}

void ResultsFile::write_sensitivity(const std::string& scenario, const SensitivityResult& r) {
  Handle root = open_or_create_group(impl_->file, "sensitivity");
  Handle g = group(root, scenario);
  const Model& m = *impl_->model;
  attr_string(g, "design",
              "Saltelli (2010) matrices A, B, AB_j; N rows, N (k + 2) runs; variant order A, B, "
              "AB_0 .. AB_k-1");
  attr_string(g, "sampling",
              r.sampling == Sampling::kSobol
                  ? "Sobol sequence (Boost.Random), shifted modulo 1 (seeded)"
                  : "counter-based streams");
  attr_string(g, "first_order", "Saltelli et al. (2010), centred on the mean of f(B)");
  attr_string(g, "total", "Jansen (1999)");
  attr_string(g, "interval",
              "95 % percentile interval of a Poisson(1) bootstrap of the design's rows");
  attr_value<std::uint64_t>(g, "rows", r.rows);
  attr_value<std::uint64_t>(g, "runs", r.runs);
  attr_value<int>(g, "resamples", r.resamples);
  attr_value<std::uint64_t>(g, "prim_points", r.prim_points);
  const hsize_t k = r.factors.size(), no = r.outputs.size(), nu = r.uncertain.size();
  std::vector<std::string> names, kinds, members;
  for (const auto& f : r.factors) {
    names.push_back(f.name);
    kinds.push_back(f.why);
    std::string list;
    for (const auto& name : f.members) list += (list.empty() ? "" : ",") + name;
    members.push_back(list);
  }
  string_dataset(g, "factors", names);
  string_dataset(g, "factor_kind", kinds);
  string_dataset(g, "factor_parameters", members);
  string_dataset(g, "parameters", r.uncertain);
  std::vector<std::string> target, output;
  std::vector<double> mean, variance, s1, s1l, s1h, st, stl, sth, sums;
  std::vector<std::uint64_t> third_runs;
  std::vector<double> third_v, third_l, third_h;
  for (const auto& o : r.outputs) {
    target.push_back(
        o.output.target < 0 ? "" : m.targets[static_cast<std::size_t>(o.output.target)].name);
    output.push_back(o.output.met ? "met" : "value");
    mean.push_back(o.mean);
    variance.push_back(o.variance);
    for (const auto& f : o.factors) {
      s1.push_back(f.s1.value), s1l.push_back(f.s1.lo), s1h.push_back(f.s1.hi);
      st.push_back(f.st.value), stl.push_back(f.st.lo), sth.push_back(f.st.hi);
    }
    for (const Estimate* e : {&o.sum_s1, &o.sum_st})
      sums.insert(sums.end(), {e->value, e->lo, e->hi});
    for (const auto& th : o.thirds)
      for (const auto& t : th) {
        third_runs.push_back(t.runs);
        third_v.push_back(t.value), third_l.push_back(t.lo), third_h.push_back(t.hi);
      }
  }
  string_dataset(g, "output_target", target);
  string_dataset(g, "output_kind", output);
  dataset(g, "mean", mean, {no});
  dataset(g, "variance", variance, {no});
  dataset(g, "S1", s1, {no, k});
  dataset(g, "S1_low", s1l, {no, k});
  dataset(g, "S1_high", s1h, {no, k});
  dataset(g, "ST", st, {no, k});
  dataset(g, "ST_low", stl, {no, k});
  dataset(g, "ST_high", sth, {no, k});
  dataset(g, "sums", sums, {no, 2, 3});
  dataset(g, "third_runs", third_runs, {no, nu, 3});
  dataset(g, "third_value", third_v, {no, nu, 3});
  dataset(g, "third_low", third_l, {no, nu, 3});
  dataset(g, "third_high", third_h, {no, nu, 3});
  if (r.prim.empty()) return;
  Handle pg = group(g, "prim");
  for (const auto& pt : r.prim) {
    const PrimResult& p = pt.result;
    Handle tg = group(pg, m.targets[static_cast<std::size_t>(pt.target)].name);
    attr_string(tg, "reason", p.reason);
    attr_value<int>(tg, "chosen", p.chosen);
    attr_value<int>(tg, "pastes", p.pastes);
    std::vector<double> mass, coverage, density;
    std::vector<int> restricted;
    for (const auto& b : p.trajectory) {
      mass.push_back(b.mass), coverage.push_back(b.coverage), density.push_back(b.density);
      restricted.push_back(b.restricted);
    }
    const hsize_t steps = p.trajectory.size();
    dataset(tg, "trajectory_mass", mass, {steps});
    dataset(tg, "trajectory_coverage", coverage, {steps});
    dataset(tg, "trajectory_density", density, {steps});
    dataset(tg, "trajectory_restricted", restricted, {steps});
    if (p.box.lower.size() == nu) {
      attr_value<double>(tg, "mass", p.box.mass);
      attr_value<double>(tg, "coverage", p.box.coverage);
      attr_value<double>(tg, "density", p.box.density);
      attr_value<std::uint64_t>(tg, "points", p.box.points);
      attr_value<std::uint64_t>(tg, "hits", p.box.hits);
      dataset(tg, "box_lower", p.box.lower, {nu});
      dataset(tg, "box_upper", p.box.upper, {nu});
    }
    std::vector<std::string> dims;
    std::vector<double> lo, hi, qp;
    for (const auto& d : p.restricted) {
      dims.push_back(r.uncertain[static_cast<std::size_t>(d.dim)]);
      lo.push_back(d.lower_restricted ? d.lower : -std::numeric_limits<double>::infinity());
      hi.push_back(d.upper_restricted ? d.upper : std::numeric_limits<double>::infinity());
      qp.push_back(d.quasi_p);
    }
    string_dataset(tg, "restricted", dims);
    dataset(tg, "restricted_lower", lo, {dims.size()});
    dataset(tg, "restricted_upper", hi, {dims.size()});
    dataset(tg, "quasi_p", qp, {dims.size()});
  }
}

namespace {

/// Names of the links in a group, in creation-independent (name) order.
std::vector<std::string> members(hid_t g) {
  H5G_info_t info;
  check(H5Gget_info(g, &info), "read group");
  std::vector<std::string> out;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    ssize_t n = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (n < 0) throw OutputError("HDF5: cannot read a link name");
    std::string name(static_cast<std::size_t>(n), '\0');
    H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(),
                       static_cast<std::size_t>(n) + 1, H5P_DEFAULT);
    out.push_back(name);
  }
  return out;
}

template <class T>
std::vector<T> read_array(hid_t parent, const std::string& name) {
  Handle d(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), H5Dclose, "open dataset " + name);
  Handle space(H5Dget_space(d), H5Sclose, "get dataspace");
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n < 0) throw OutputError("HDF5: cannot size " + name);
  std::vector<T> v(static_cast<std::size_t>(n));
  if (n > 0)
    check(H5Dread(d, native<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "read " + name);
  return v;
}

template <class T>
T read_attr(hid_t obj, const std::string& name) {
  Handle a(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
  T v{};
  check(H5Aread(a, native<T>(), &v), "read attribute " + name);
  return v;
}

}  // namespace

namespace {

Handle open_results(const std::string& path) {
  quiet_hdf5();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw OutputError(fmt::format("'{}' does not exist", path));
  if (!std::filesystem::is_regular_file(path, ec))
    throw OutputError(fmt::format("'{}' is not a regular file, so not a results file", path));
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw OutputError(fmt::format("'{}' is not an HDF5 file, so not an attain results file", path));
  Handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
           "open '" + path + "' (is it an attain results file?)");
  if (H5Aexists(f, "filetype") <= 0)
    throw OutputError(fmt::format("'{}' is not an attain results file (no 'filetype')", path));
  return f;
}

std::vector<std::string> read_string_array(hid_t obj, const std::string& name, bool attribute) {
  Handle type = utf8_type();
  Handle h =
      attribute
          ? Handle(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name)
          : Handle(H5Dopen2(obj, name.c_str(), H5P_DEFAULT), H5Dclose, "open dataset " + name);
  Handle space(attribute ? H5Aget_space(h) : H5Dget_space(h), H5Sclose, "get dataspace");
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n < 0) throw OutputError("HDF5: cannot size " + name);
  std::vector<char*> ptrs(static_cast<std::size_t>(n), nullptr);
  if (n > 0) {
    if (attribute)
      check(H5Aread(h, type, ptrs.data()), "read attribute " + name);
    else
      check(H5Dread(h, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), "read " + name);
  }
  std::vector<std::string> out;
  for (char* p : ptrs) {
    out.emplace_back(p ? p : "");
    H5free_memory(p);
  }
  return out;
}

std::string read_string_attr(hid_t obj, const std::string& name) {
  Handle type = utf8_type();
  Handle a(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
  char* text = nullptr;
  check(H5Aread(a, type, &text), "read attribute " + name);
  std::string s = text ? text : "";
  H5free_memory(text);
  return s;
}

}  // namespace

std::vector<std::string> stored_scenarios(const std::string& path) {
  Handle f = open_results(path);
  if (H5Aexists(f, "scenarios") <= 0) return {};
  return read_string_array(f, "scenarios", true);
}

StoredRuns read_runs(const std::string& path, const std::string& scenario) {
  Handle f = open_results(path);
  StoredRuns r;
  r.model = read_string_attr(f, "model");
  r.seed = read_attr<std::uint64_t>(f, "seed");
  const std::string g = "scenarios/" + scenario;
  if (H5Lexists(f, "scenarios", H5P_DEFAULT) <= 0 || H5Lexists(f, g.c_str(), H5P_DEFAULT) <= 0)
    throw OutputError(fmt::format("'{}' has no scenario '{}'", path, scenario));
  Handle sg(H5Gopen2(f, g.c_str(), H5P_DEFAULT), H5Gclose, "open " + g);
  if (H5Lexists(sg, "runs", H5P_DEFAULT) <= 0)
    throw OutputError(fmt::format(
        "'{}' holds no per-run rows for scenario '{}' (it was written with --store summary; "
        "write it with --store targets)",
        path, scenario));
  Handle rg(H5Gopen2(sg, "runs", H5P_DEFAULT), H5Gclose, "open runs");
  r.first_run = read_attr<std::uint64_t>(f, "first_run");
  Handle mg(H5Gopen2(f, "model", H5P_DEFAULT), H5Gclose, "open model");
  r.parameters = read_string_array(mg, "parameters", false);
  Handle tg(H5Gopen2(sg, "targets", H5P_DEFAULT), H5Gclose, "open targets");
  r.targets = read_string_array(tg, "name", false);
  for (const auto& op : read_string_array(tg, "op", false)) {
    auto c = cmp_of(op);
    if (!c)
      throw OutputError(
          fmt::format("'{}': scenario '{}' has a target with comparison '{}'", path, scenario, op));
    r.ops.push_back(*c);
  }
  r.thresholds = read_array<double>(tg, "threshold");
  const auto params = read_array<double>(rg, "parameters");
  const auto values = read_array<double>(rg, "target_values");
  const std::size_t np = r.parameters.size(), nt = r.targets.size();
  const std::size_t rows = np ? params.size() / np : (nt ? values.size() / nt : 0);
  if ((np && params.size() != rows * np) || (nt && values.size() != rows * nt) ||
      r.ops.size() != nt || r.thresholds.size() != nt)
    throw OutputError(
        fmt::format("'{}': scenario '{}' has rows of inconsistent sizes", path, scenario));
  r.values.assign(np, std::vector<double>(rows));
  r.target_values.assign(nt, std::vector<double>(rows));
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t q = 0; q < np; ++q) r.values[q][i] = params[i * np + q];
    for (std::size_t t = 0; t < nt; ++t) r.target_values[t][i] = values[i * nt + t];
  }
  return r;
}

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
                    "'attain run --save-state')",
                    path, scenario));
  Handle sg(H5Gopen2(f, where.c_str(), H5P_DEFAULT), H5Gclose, "open " + where);
  if (first) *first = read_attr<std::uint64_t>(sg, "first");
  if (last) *last = read_attr<std::uint64_t>(sg, "last");
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

void ResultsFile::commit() {
  try {
    commit_unchecked();
  } catch (const OutputError& e) {
    throw write_failure(impl_->path, e);
  }
}

void ResultsFile::commit_unchecked() {
  std::vector<std::string> names = impl_->names;
  {
    Handle type = utf8_type();
    Handle space = simple_space({names.size()});
    Handle a(H5Acreate2(impl_->file, "scenarios", type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
             "create attribute scenarios");
    std::vector<const char*> ptrs;
    for (const auto& s : names) ptrs.push_back(s.c_str());
    if (!ptrs.empty()) check(H5Awrite(a, type, ptrs.data()), "write attribute scenarios");
  }
  impl_->scenarios.reset();
  check(H5Fflush(impl_->file, H5F_SCOPE_GLOBAL), "flush file");
  impl_->file.reset();
  std::error_code ec;
  std::filesystem::rename(impl_->tmp, impl_->path, ec);
  if (ec) {
    std::filesystem::remove(impl_->tmp, ec);
    throw OutputError(fmt::format("cannot rename the finished file to '{}'", impl_->path));
  }
  impl_->committed = true;
}

namespace {

/// The pid in a temporary's name `<prefix><pid>-<16 lowercase hex digits>`, or 0 when
/// `name` is not one.
int temporary_pid(std::string_view name, std::string_view prefix) {
  if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) return 0;
  const std::string_view rest = name.substr(prefix.size());
  const auto dash = rest.find('-');
  if (dash == std::string_view::npos) return 0;
  const std::string_view digits = rest.substr(0, dash), hex = rest.substr(dash + 1);
  if (digits.empty() || digits.front() == '0' || hex.size() != 16 ||
      !std::all_of(hex.begin(), hex.end(),
                   [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
    return 0;
  int pid = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
  if (ec != std::errc() || end != digits.data() + digits.size() || pid <= 0) return 0;
  return pid;
}

}  // namespace

std::vector<StaleTemporary> remove_stale_temporaries(const std::string& output) {
  namespace fs = std::filesystem;
  std::vector<StaleTemporary> found;
  const fs::path out(output);
  const std::string prefix = out.filename().string() + ".tmp-";
  const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path path = out.parent_path() / it->path().filename();  // as the user named it
    const int pid = temporary_pid(path.filename().string(), prefix);
    std::error_code type_ec;
    if (pid == 0 || !fs::is_regular_file(fs::symlink_status(path, type_ec))) continue;
    // A live process (or one we may not signal) still owns it.
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;
    // HDF5 holds a lock on a file while it is open: a writer whose pid we cannot see
    // (another PID namespace sharing the folder) keeps its file too.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) continue;  // gone meanwhile
    StaleTemporary t{path.string(), pid, false, {}};
    if (fd < 0) {
      t.error = std::generic_category().message(errno);
    } else if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      continue;
    } else {
      std::error_code rm_ec;
      t.removed = fs::remove(path, rm_ec);
      if (rm_ec) t.error = rm_ec.message();
      ::close(fd);
      if (!t.removed && !rm_ec) continue;  // removed by someone else meanwhile
    }
    found.push_back(std::move(t));
  }
  std::sort(found.begin(), found.end(),
            [](const StaleTemporary& a, const StaleTemporary& b) { return a.path < b.path; });
  return found;
}

}  // namespace attain
