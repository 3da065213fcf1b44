// HDF5 results writer (C API behind RAII handles). Layout: docs/results-format.md.
#include "attain/results_file.hpp"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <utility>

#include "attain/checkpoint.hpp"
#include "attain/communicator.hpp"
#include "attain/constants.hpp"
#include "attain/version.hpp"
#include "attain/yaml_reader.hpp"

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
Handle dataset(hid_t parent, const std::string& name, const std::vector<T>& data,
               std::vector<hsize_t> dims) {
  Handle space = simple_space(dims);
  Handle d(
      H5Dcreate2(parent, name.c_str(), native<T>(), space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
      H5Dclose, "create dataset " + name);
  if (!data.empty())
    check(H5Dwrite(d, native<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), "write " + name);
  return d;
}

Handle string_dataset(hid_t parent, const std::string& name, const std::vector<std::string>& data) {
  Handle type = utf8_type();
  Handle space = simple_space({data.size()});
  Handle d(H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
           H5Dclose, "create dataset " + name);
  std::vector<const char*> ptrs;
  for (const auto& s : data) ptrs.push_back(s.c_str());
  if (!ptrs.empty())
    check(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), "write " + name);
  return d;
}

template <class T>
Handle scalar_dataset(hid_t parent, const std::string& name, T value) {
  Handle space = scalar_space();
  Handle d(
      H5Dcreate2(parent, name.c_str(), native<T>(), space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
      H5Dclose, "create dataset " + name);
  check(H5Dwrite(d, native<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &value), "write " + name);
  return d;
}

/// A string array attribute (empty arrays too).
void attr_strings(hid_t obj, const std::string& name, const std::vector<std::string>& values) {
  Handle type = utf8_type();
  Handle space = simple_space({values.size()});
  Handle a(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
           "create attribute " + name);
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  if (!ptrs.empty()) check(H5Awrite(a, type, ptrs.data()), "write attribute " + name);
}

/// CF attributes of a variable: what it is (`long_name`) and its unit, when it has one.
void describe(hid_t d, const std::string& long_name, const std::string& units) {
  if (!long_name.empty()) attr_string(d, "long_name", long_name);
  if (!units.empty()) attr_string(d, "units", units);
}

/// Counts as f64 (exact below 2^53): a JavaScript reader gets Numbers, not BigInts.
std::vector<double> counts(const std::vector<std::uint64_t>& v) {
  return std::vector<double>(v.begin(), v.end());
}

/// @brief A group in NetCDF-4's data model (docs/results-format.md): every dimension is a
/// dimension scale, the coordinate variable holding its labels, and every variable has
/// its dimensions attached, so netCDF, xarray and ncdump see named dimensions.
class NcGroup {
 public:
  NcGroup() = default;
  explicit NcGroup(Handle g) : g_(std::move(g)) {}
  operator hid_t() const { return g_; }

  /// Dimension `name` with its coordinate variable of the same name.
  template <class T>
  void coordinate(const std::string& name, const std::vector<T>& labels,
                  const std::string& long_name, const std::string& units = "") {
    add_scale(name, dataset(g_, name, labels, {labels.size()}), labels.size(), long_name, units);
  }
  void coordinate(const std::string& name, const std::vector<std::string>& labels,
                  const std::string& long_name) {
    add_scale(name, string_dataset(g_, name, labels), labels.size(), long_name, "");
  }
  /// Dimension `name` whose coordinate variable `d` grows as rows arrive.
  void add_scale(const std::string& name, Handle d, hsize_t size, const std::string& long_name,
                 const std::string& units) {
    check(H5DSset_scale(d, name.c_str()), "make " + name + " a dimension scale");
    describe(d, long_name, units);
    dims_[name] = {std::move(d), size};
  }

  template <class T>
  void variable(const std::string& name, const std::vector<T>& data,
                const std::vector<std::string>& dims, const std::string& long_name,
                const std::string& units = "") {
    Handle d = dataset(g_, name, data, shape(dims));
    attach(d, dims);
    describe(d, long_name, units);
  }
  void strings(const std::string& name, const std::vector<std::string>& data,
               const std::string& dim, const std::string& long_name) {
    Handle d = string_dataset(g_, name, data);
    attach(d, {dim});
    describe(d, long_name, "");
  }
  template <class T>
  void scalar(const std::string& name, T value, const std::string& long_name,
              const std::string& units = "") {
    Handle d = scalar_dataset<T>(g_, name, value);
    describe(d, long_name, units);
  }

  /// Attaches dimension i of `d` to the scale dims[i].
  void attach(hid_t d, const std::vector<std::string>& dims) const {
    for (unsigned i = 0; i < dims.size(); ++i)
      check(H5DSattach_scale(d, dims_.at(dims[i]).set, i), "attach dimension " + dims[i]);
  }
  std::vector<hsize_t> shape(const std::vector<std::string>& dims) const {
    std::vector<hsize_t> out;
    for (const auto& d : dims) out.push_back(dims_.at(d).size);
    return out;
  }
  /// Closes the group and its dimensions' datasets (reopen() opens them again by name):
  /// the file closes on rank 0 before every rank opens it (parallel HDF5).
  void close() {
    for (auto& [name, d] : dims_) d.set.reset();
    g_.reset();
  }
  void reopen(Handle g) {
    g_ = std::move(g);
    for (auto& [name, d] : dims_)
      d.set = Handle(H5Dopen2(g_, name.c_str(), H5P_DEFAULT), H5Dclose, "open dataset " + name);
  }

 private:
  struct Dim {
    Handle set;
    hsize_t size = 0;
  };
  Handle g_;
  std::map<std::string, Dim> dims_;
};

/// A per-run dataset [runs, ...] written one chunk of rows at a time, compressed. It
/// grows as rows arrive (an adaptive study may stop before its ceiling of runs).
class RowDataset {
 public:
  /// `fixed`: the layout every rank writes in parallel (parallel HDF5 1.10 writes filtered
  /// datasets only collectively, and ranks write their rows independently): all `dims[0]`
  /// rows at once, contiguous, allocated at creation, no compression.
  RowDataset(hid_t parent, const std::string& name, std::vector<hsize_t> dims,
             hid_t type = H5T_NATIVE_DOUBLE, bool fixed = false)
      : dims_(dims), type_(type) {
    row_ = 1;
    for (std::size_t i = 1; i < dims.size(); ++i) row_ *= dims[i];
    if (fixed) {
      Handle space = simple_space(dims);
      Handle plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "create property list");
      check(H5Pset_alloc_time(plist, H5D_ALLOC_TIME_EARLY), "set allocation time");
      check(H5Pset_fill_time(plist, H5D_FILL_TIME_NEVER), "set fill time");
      set_ = Handle(H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, plist, H5P_DEFAULT),
                    H5Dclose, "create dataset " + name);
      return;
    }
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
    set_ = Handle(H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, plist, H5P_DEFAULT),
                  H5Dclose, "create dataset " + name);
  }

  /// The dataset `name` that rank 0 created (fixed), opened on every rank.
  RowDataset(hid_t parent, const std::string& name, hid_t type) : type_(type) {
    set_ = Handle(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), H5Dclose, "open dataset " + name);
    Handle space(H5Dget_space(set_), H5Sclose, "get dataspace");
    dims_.resize(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space)));
    H5Sget_simple_extent_dims(space, dims_.data(), nullptr);
    row_ = 1;
    for (std::size_t i = 1; i < dims_.size(); ++i) row_ *= dims_[i];
  }

  void write(hsize_t first_row, hsize_t rows, const void* data) {
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
    check(H5Dwrite(set_, type_, mem_space, file_space, H5P_DEFAULT, data), "write rows");
  }
  hid_t id() const { return set_; }

 private:
  std::vector<hsize_t> dims_;
  hid_t type_;
  hsize_t row_ = 1;
  Handle set_;
};

/// Writes a scenario's per-run rows (`--store targets|full`) as the ensemble runs: the
/// extendable dimension `run` (its coordinate holds the run indices) and the variables
/// along it.
class ScenarioSink : public ChunkSink {
 public:
  /// `fixed`: datasets of all `info.runs` rows that every rank writes (RowDataset).
  ScenarioSink(NcGroup& g, const Program& program, const RunInfo& info, std::string path,
               bool fixed = false)
      : first_run_(info.first_run), path_(std::move(path)), store_(info.store) {
    const auto& m = program.model();
    hsize_t runs = info.runs;
    if (info.store == StoreLevel::kSummary) return;
    attr_value<std::uint64_t>(g, "first_run", info.first_run);
    run_.emplace(g, "run", std::vector<hsize_t>{runs}, H5T_NATIVE_UINT64, fixed);
    g.add_scale("run", Handle(H5Dopen2(g, "run", H5P_DEFAULT), H5Dclose, "open dataset run"), runs,
                "run index (the random streams' counter)", "");
    target_values_.emplace(g, "target_values", std::vector<hsize_t>{runs, m.targets.size()},
                           H5T_NATIVE_DOUBLE, fixed);
    g.attach(target_values_->id(), {"run", "target"});
    describe(target_values_->id(), "each target's node at the target's year", "");
    parameters_.emplace(g, "parameters", std::vector<hsize_t>{runs, program.parameters().size()},
                        H5T_NATIVE_DOUBLE, fixed);
    g.attach(parameters_->id(), {"run", "parameter"});
    describe(parameters_->id(), "the drawn uncertain parameters", "");
    if (info.store == StoreLevel::kFull) {
      values_.emplace(g, "values",
                      std::vector<hsize_t>{runs, static_cast<hsize_t>(program.steps()),
                                           static_cast<hsize_t>(program.nodes())},
                      H5T_NATIVE_DOUBLE, fixed);
      g.attach(values_->id(), {"run", "time", "node"});
      describe(values_->id(), "every node at every step", "");
    }
  }

  /// A rank's sink for the datasets rank 0 creates: open() opens them.
  ScenarioSink(const RunInfo& info, std::string path)
      : first_run_(info.first_run), path_(std::move(path)), store_(info.store) {}

  /// Closes the datasets (the file is about to close), and opens them again in `group`.
  void close() { run_.reset(), target_values_.reset(), parameters_.reset(), values_.reset(); }
  void open(hid_t group) {
    if (store_ == StoreLevel::kSummary) return;
    run_.emplace(group, "run", H5T_NATIVE_UINT64);
    target_values_.emplace(group, "target_values", H5T_NATIVE_DOUBLE);
    parameters_.emplace(group, "parameters", H5T_NATIVE_DOUBLE);
    if (store_ == StoreLevel::kFull) values_.emplace(group, "values", H5T_NATIVE_DOUBLE);
  }

  void write(const ChunkData& c) override {
    quiet_hdf5();
    const auto start = std::chrono::steady_clock::now();
    struct Timed {  // also when the write fails
      double& seconds;
      std::chrono::steady_clock::time_point start;
      ~Timed() {
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      }
    } timed{seconds_, start};
    try {
      // Row i is run first_run + i: a study of the range [first, last) fills rows from 0.
      hsize_t row = c.first_run - first_run_;
      hsize_t n = static_cast<hsize_t>(c.count);
      if (run_) {
        std::vector<std::uint64_t> index(n);
        for (hsize_t i = 0; i < n; ++i) index[i] = c.first_run + i;
        run_->write(row, n, index.data());
      }
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
  StoreLevel store_;
  std::optional<RowDataset> run_, target_values_, parameters_, values_;

 public:
  double seconds_ = 0;  ///< spent in write() (ATTAIN_RANK_TIMES, docs/scaling.md)
};

/// The dimensions `node`, `time` and `parameter` of `m`, with their coordinates.
void model_coordinates(NcGroup& g, const Model& m) {
  std::vector<std::string> names, params;
  for (const auto& n : m.nodes) {
    names.push_back(n.name);
    if (n.kind == NodeKind::kParameter) params.push_back(n.name);
  }
  std::vector<double> times;
  for (int k = 0; k < m.time.steps(); ++k) times.push_back(m.time.time(k));
  g.coordinate("node", names, "node name");
  g.coordinate("time", times, "time", "year");
  g.coordinate("parameter", params, "parameter name");
}

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
    NcGroup group;
    const Program* program = nullptr;
    std::unique_ptr<ScenarioSink> sink;
    std::string name;
  };
  std::deque<Open> open;
  std::vector<std::string> names;
  bool committed = false;

  // Several ranks (MPI): rank 0 alone writes the file through HDF5's default driver (parallel
  // HDF5 cannot write variable-length strings); while per-run rows arrive, the file is open
  // on every rank through parallel HDF5 and each rank writes its own chunks' rows.
  Communicator* comm = nullptr;  ///< set when there are several ranks
  bool parallel = false;         ///< the file is open on every rank
  bool writer() const { return !comm || comm->rank() == 0; }
  /// Ends a parallel phase (collective); true on the rank that writes.
  bool ready() {
    to_serial();
    return writer();
  }
  void to_serial();
  void to_parallel();
};

void ResultsFile::Impl::to_serial() {
  if (!parallel) return;
  double written = 0;
  for (auto& o : open)
    if (o.sink) {
      o.sink->close();
      written += std::exchange(o.sink->seconds_, 0.0);
    }
  const auto closing = std::chrono::steady_clock::now();
  file.reset();                            // collective: every rank's rows are in the file after it
  if (std::getenv("ATTAIN_RANK_TIMES")) {  // docs/scaling.md
    const double mine[2] = {
        written, std::chrono::duration<double>(std::chrono::steady_clock::now() - closing).count()};
    const auto all = comm->all_gather(std::as_bytes(std::span(mine)));
    for (std::size_t r = 0; writer() && r < all.size(); ++r) {
      double t[2];
      std::memcpy(t, all[r].data(), sizeof t);
      std::fprintf(stderr, "attain: rank %zu: rows written in %.3f s, file closed in %.3f s\n", r,
                   t[0], t[1]);
    }
  }
  parallel = false;
  if (!writer()) return;
  file = Handle(H5Fopen(tmp.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose, "open file " + tmp);
  scenarios = Handle(H5Gopen2(file, "scenarios", H5P_DEFAULT), H5Gclose, "open group scenarios");
  for (auto& o : open)
    o.group.reopen(
        Handle(H5Gopen2(scenarios, o.name.c_str(), H5P_DEFAULT), H5Gclose, "open group " + o.name));
}

void ResultsFile::Impl::to_parallel() {
  if (parallel || info.store == StoreLevel::kSummary) return;
  const auto access = static_cast<hid_t>(comm->parallel_file_access());
  if (access < 0)
    throw std::logic_error("ResultsFile: per-run rows on several ranks need parallel HDF5");
  if (writer()) {
    for (auto& o : open) {
      if (o.sink) o.sink->close();
      o.group.close();
    }
    scenarios.reset();
    file.reset();
  }
  comm->barrier();  // rank 0 closed the file: it is complete on disk for every rank
  file = Handle(H5Fopen(tmp.c_str(), H5F_ACC_RDWR, access), H5Fclose, "open file on every rank");
  parallel = true;
  for (auto& o : open)
    if (o.sink) {
      const std::string where = "scenarios/" + o.name;
      Handle g(H5Gopen2(file, where.c_str(), H5P_DEFAULT), H5Gclose, "open group " + where);
      o.sink->open(g);
    }
}

ResultsFile::ResultsFile(const std::string& path, const Model& model, const RunInfo& info,
                         Communicator* communicator)
    : impl_(std::make_unique<Impl>()) {
  quiet_hdf5();
  impl_->path = path;
  impl_->info = info;
  impl_->model = &model;
  if (communicator && communicator->size() > 1) impl_->comm = communicator;
  // Several ranks: rank 0 creates the file; the others learn its temporary name when rank 0's
  // constructor ends, or that it failed (then every rank throws the same error).
  const std::string cannot =
      fmt::format("cannot create output file '{}' (is its directory writable?)", path);
  if (!impl_->writer()) {
    const std::vector<std::byte> name = impl_->comm->broadcast({});
    if (name.empty()) throw OutputError(cannot);
    impl_->tmp.assign(reinterpret_cast<const char*>(name.data()), name.size());
    return;
  }
  struct Tell {
    Impl& impl;
    bool done = false;
    ~Tell() {
      if (impl.comm)
        impl.comm->broadcast(done ? std::as_bytes(std::span(impl.tmp))
                                  : std::span<const std::byte>{});
    }
  } tell{*impl_};
  // The temporary file has an unpredictable name and is created exclusively (O_EXCL), so
  // a file or symlink planted beside the output is never followed or overwritten.
  std::random_device entropy;
  hid_t f = -1;
  for (int attempt = 0; attempt < 8 && f < 0; ++attempt) {
    impl_->tmp = fmt::format("{}.tmp-{}-{:08x}{:08x}", path, ::getpid(), entropy(), entropy());
    f = H5Fcreate(impl_->tmp.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
  }
  if (f < 0) throw OutputError(cannot);
  impl_->file = Handle(f, H5Fclose, "create file");
  hid_t root = impl_->file;
  attr_string(root, "filetype", kResultsFiletype);
  attr_string(root, "Conventions", "CF-1.8");
  attr_string(root, "title", fmt::format("attain results of model {}", model.name));
  attr_values<int>(root, "version", {kResultsVersionMajor, kResultsVersionMinor});
  attr_string(root, "engine_version", kEngineVersion);
  attr_string(root, "model", model.name);
  attr_value<std::uint64_t>(root, "seed", info.seed);
  attr_value<std::uint64_t>(root, "runs", info.runs);
  attr_value<std::uint64_t>(root, "first_run", info.first_run);
  attr_value<std::uint64_t>(root, "study_runs",
                            info.study_runs ? info.study_runs : info.first_run + info.runs);
  attr_value<int>(root, "chunk_runs", info.chunk);
  attr_string(root, "store", std::string(store_name(info.store)));
  attr_string(root, "analysis", info.analysis);
  attr_value<double>(root, "ci_width", info.ci_width);
  attr_string(root, "rng", kRngScheme);
  attr_string(root, "created",
              fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr))));

  NcGroup mg(group(root, "model"));
  attr_string(mg, "name", model.name);
  attr_string(mg, "description", model.description);
  attr_string(mg, "path", model.path);
  attr_string(mg, "source", model.source_text);
  model_coordinates(mg, model);
  std::vector<std::string> kinds, labels, units, descriptions, sources;
  std::vector<std::uint64_t> ids;
  for (const auto& n : model.nodes) {
    kinds.emplace_back(kind_name(n.kind));
    labels.push_back(n.label);
    units.push_back(n.unit);
    descriptions.push_back(n.description);
    sources.push_back(n.source);
    ids.push_back(n.id);
  }
  mg.variable("node_id", ids, {"node"}, "stable id (FNV-1a 64 of the name): the random-stream key");
  mg.strings("node_kind", kinds, "node", "lever, parameter, shock, auxiliary or stock");
  mg.strings("node_label", labels, "node", "label");
  mg.strings("node_unit", units, "node", "unit");
  mg.strings("node_description", descriptions, "node", "description");
  mg.strings("node_source", sources, "node", "source");
  impl_->scenarios = group(root, "scenarios");
  tell.done = true;
}

ResultsFile::~ResultsFile() {
  if (!impl_->committed) {
    impl_->open.clear();
    impl_->scenarios.reset();
    impl_->file.reset();
    std::error_code ec;
    if (impl_->writer()) std::filesystem::remove(impl_->tmp, ec);
  }
}

ChunkSink& ResultsFile::begin_scenario(const Scenario& scenario, const Program& program) {
  if (!impl_->ready()) {  // another rank than 0: rank 0 creates the group
    impl_->open.push_back({NcGroup(), &program,
                           std::make_unique<ScenarioSink>(impl_->info, impl_->path),
                           scenario.name});
    impl_->names.push_back(scenario.name);
    impl_->to_parallel();
    return *impl_->open.back().sink;
  }
  impl_->open.push_back(
      {NcGroup(group(impl_->scenarios, scenario.name)), &program, nullptr, scenario.name});
  impl_->names.push_back(scenario.name);
  NcGroup& g = impl_->open.back().group;
  const Model& m = program.model();
  attr_string(g, "name", scenario.name);
  attr_string(g, "description", scenario.description);
  attr_string(g, "path", scenario.path);
  std::string sources;
  std::vector<std::string> paths, texts;
  for (const auto& [p, text] : scenario.sources) {
    sources += fmt::format("# {}\n{}\n", p, text);
    paths.push_back(p);
    texts.push_back(text);
  }
  attr_string(g, "source", sources);
  attr_strings(g, "source_paths", paths);
  attr_strings(g, "source_texts", texts);
  model_coordinates(g, m);
  std::vector<std::string> targets;
  for (const auto& t : m.targets) targets.push_back(t.name);
  g.coordinate("target", targets, "target name");
  g.coordinate("quantile",
               std::vector<double>(EnsembleResult::kQuantileLevels.begin(),
                                   EnsembleResult::kQuantileLevels.end()),
               "quantile level", "1");
  std::vector<int> actuals(m.actuals.size());
  for (std::size_t a = 0; a < actuals.size(); ++a) actuals[a] = static_cast<int>(a);
  g.coordinate("actual", actuals, "actual (known outcome) index, model order");
  std::vector<int> met(m.targets.size() + 1);
  for (std::size_t k = 0; k < met.size(); ++k) met[k] = static_cast<int>(k);
  g.coordinate("targets_met", met, "number of targets met in a run", "1");
  if (auto cost = scenario_cost(m)) {
    std::vector<std::string> levers;
    for (const auto& c : cost->levers) levers.push_back(c.lever);
    g.coordinate("cost_lever", levers, "lever with a cost");
  }
  impl_->open.back().sink =
      std::make_unique<ScenarioSink>(g, program, impl_->info, impl_->path, impl_->comm != nullptr);
  if (impl_->comm) impl_->to_parallel();
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

/// Group `state`: the partials of runs [first, last) in chunks of `chunk_runs`.
void write_state(hid_t parent, std::uint64_t first, std::uint64_t last, int chunk_runs,
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

void write_state(hid_t parent, const StudyResult& r, int chunk_runs) {
  std::vector<const StudyPartial*> partials;
  for (const auto& p : r.state.partials()) partials.push_back(&p);
  write_state(parent, r.first, r.last, chunk_runs, partials);
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
  if (!impl_->ready()) {
    impl_->open.pop_front();
    return;
  }
  NcGroup& g = impl_->open.front().group;
  const Model& m = impl_->open.front().program->model();
  const auto nt = m.targets.size();
  attr_value<double>(g, "seconds", r.seconds);
  attr_value<std::uint64_t>(g, "runs", r.runs);

  std::vector<std::string> node, label, op, source;
  std::vector<double> year, threshold, prob, lo, hi;
  std::vector<std::uint64_t> hits, runs, first_met, never;
  for (std::size_t t = 0; t < nt; ++t) {
    const Target& tt = m.targets[t];
    const TargetResult& tr = r.targets[t];
    node.push_back(tt.node), label.push_back(tt.label);
    op.emplace_back(cmp_name(tt.op)), source.push_back(tt.source);
    year.push_back(tt.year), threshold.push_back(tt.threshold);
    hits.push_back(tr.hits), runs.push_back(tr.runs), prob.push_back(tr.probability);
    lo.push_back(tr.ci_low), hi.push_back(tr.ci_high), never.push_back(tr.never);
    first_met.insert(first_met.end(), tr.first_met.begin(), tr.first_met.end());
  }
  g.strings("target_node", node, "target", "the node the target is on");
  g.strings("target_label", label, "target", "the target as the plan words it");
  g.strings("target_op", op, "target", "comparison: >=, >, <= or <");
  g.strings("target_source", source, "target", "where the target comes from");
  g.variable("target_year", year, {"target"}, "the year the target is checked at", "year");
  g.variable("threshold", threshold, {"target"}, "the target's threshold (in its node's unit)");
  g.variable("hits", counts(hits), {"target"}, "runs that met the target at its year", "1");
  g.variable("runs", counts(runs), {"target"}, "runs", "1");
  g.variable("probability", prob, {"target"}, "probability of meeting the target", "1");
  g.variable("ci_low", lo, {"target"}, "Wilson 95 % interval, lower end", "1");
  g.variable("ci_high", hi, {"target"}, "Wilson 95 % interval, upper end", "1");
  g.variable("first_met", counts(first_met), {"target", "time"},
             "runs whose first step meeting the target is this one", "1");
  g.variable("never_met", counts(never), {"target"},
             "runs meeting the target at no step up to its year", "1");
  if (nt > 0) {
    g.scalar<double>("joint_hits", static_cast<double>(r.joint_hits), "runs that met every target",
                     "1");
    g.scalar<double>("joint_runs", static_cast<double>(r.runs), "runs", "1");
    g.scalar<double>("joint_probability", r.joint_probability,
                     "probability of meeting every target", "1");
    g.scalar<double>("joint_ci_low", r.joint_low, "Wilson 95 % interval, lower end", "1");
    g.scalar<double>("joint_ci_high", r.joint_high, "Wilson 95 % interval, upper end", "1");
  }
  if (r.met.size() == nt + 1) {
    g.variable("met_runs", counts(r.met), {"targets_met"}, "runs meeting exactly this many targets",
               "1");
    const MeanInterval e = targets_met(r.met);
    g.scalar<double>("expected_met", e.mean, "expected number of targets met", "1");
    g.scalar<double>("expected_met_ci_low", e.lo, "Student-t 95 % interval, lower end", "1");
    g.scalar<double>("expected_met_ci_high", e.hi, "Student-t 95 % interval, upper end", "1");
  }
  if (r.cost) {
    std::vector<double> totals;
    for (const auto& c : r.cost->levers) totals.push_back(c.total);
    g.variable("lever_cost", totals, {"cost_lever"},
               "the lever's cost summed over the times after the start", m.cost_unit);
    g.scalar<double>("cost", r.cost->total, "the scenario's cost: the sum of lever_cost",
                     m.cost_unit);
  }

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
  g.strings("actual_node", an, "actual", "the node the known outcome is of");
  g.strings("actual_label", al, "actual", "label");
  g.strings("actual_source", as, "actual", "source");
  g.variable("actual_year", ay, {"actual"}, "year", "year");
  g.variable("actual_value", av, {"actual"}, "the known outcome (in its node's unit)");
  g.variable("actual_below", counts(below), {"actual"}, "runs with the node below it", "1");
  g.variable("actual_equal", counts(equal), {"actual"}, "runs with the node equal to it", "1");
  g.variable("actual_percentile", ap, {"actual"},
             "where the actual falls in the predicted distribution: (below + equal / 2) / runs",
             "1");

  if (!r.moments.empty()) {
    std::vector<double> mean, sd, mn, mx, q;
    for (std::size_t i = 0; i < r.moments.size(); ++i) {
      mean.push_back(r.moments[i].mean());
      sd.push_back(r.moments[i].sd());
      mn.push_back(r.moments[i].min);
      mx.push_back(r.moments[i].max);
      q.insert(q.end(), r.quantiles[i].begin(), r.quantiles[i].end());
    }
    g.variable("mean", mean, {"node", "time"}, "mean over runs (in the node's unit)");
    g.variable("sd", sd, {"node", "time"}, "standard deviation over runs (in the node's unit)");
    g.variable("min", mn, {"node", "time"}, "smallest value over runs (in the node's unit)");
    g.variable("max", mx, {"node", "time"}, "largest value over runs (in the node's unit)");
    g.variable("quantiles", q, {"node", "time", "quantile"},
               "quantiles over runs (in the node's unit)");
  }
  if (state) write_state(g, *state, impl_->info.chunk);
  impl_->open.pop_front();
}

namespace {

/// One row per target (and the joint last) of a paired comparison, along `target`.
void paired_rows(NcGroup& g, const std::vector<const PairedTarget*>& rows) {
  std::vector<std::string> name;
  std::vector<std::uint64_t> both, helped, hurt, neither;
  std::vector<double> p_ref, p_other, diff, lo, hi, ulo, uhi, pv, md, mlo, mhi, msd;
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
    msd.push_back(r->value_difference ? r->value_difference->sd : nan);
  }
  g.coordinate("target", name, "target name (the last, 'all targets', is every target together)");
  const std::vector<std::string> t = {"target"};
  g.variable("both", counts(both), t, "runs meeting it in both scenarios", "1");
  g.variable("helped", counts(helped), t, "runs meeting it only in the scenario", "1");
  g.variable("hurt", counts(hurt), t, "runs meeting it only in the reference", "1");
  g.variable("neither", counts(neither), t, "runs meeting it in neither", "1");
  g.variable("p_reference", p_ref, t, "probability in the reference", "1");
  g.variable("p_scenario", p_other, t, "probability in the scenario", "1");
  g.variable("difference", diff, t, "probability difference, scenario - reference", "1");
  g.variable("ci_low", lo, t, "paired 95 % interval of the difference, lower end", "1");
  g.variable("ci_high", hi, t, "paired 95 % interval of the difference, upper end", "1");
  g.variable("unpaired_ci_low", ulo, t, "unpaired 95 % interval, lower end", "1");
  g.variable("unpaired_ci_high", uhi, t, "unpaired 95 % interval, upper end", "1");
  g.variable("p_value", pv, t, "exact McNemar two-sided p-value", "1");
  g.variable("value_difference", md, t,
             "mean difference of the target's node at its year (NaN for the joint)");
  g.variable("value_difference_ci_low", mlo, t, "its 95 % interval, lower end");
  g.variable("value_difference_ci_high", mhi, t, "its 95 % interval, upper end");
  g.variable("value_difference_sd", msd, t, "standard deviation of the run-wise difference");
}

/// hits, runs, probability, ci_low, ci_high of proportions laid out along `dims`.
void proportions(NcGroup& g, const std::string& prefix, const std::vector<Proportion>& ps,
                 const std::vector<std::string>& dims, const std::string& what) {
  std::vector<std::uint64_t> hits, runs;
  std::vector<double> p, lo, hi;
  for (const auto& x : ps)
    hits.push_back(x.hits), runs.push_back(x.runs), p.push_back(x.p), lo.push_back(x.lo),
        hi.push_back(x.hi);
  g.variable(prefix + "hits", counts(hits), dims, "runs that met " + what, "1");
  g.variable(prefix + "runs", counts(runs), dims, "runs", "1");
  g.variable(prefix + "probability", p, dims, "probability of meeting " + what, "1");
  g.variable(prefix + "ci_low", lo, dims, "Wilson 95 % interval, lower end", "1");
  g.variable(prefix + "ci_high", hi, dims, "Wilson 95 % interval, upper end", "1");
}

/// The scenario a sweep or search ran on: its name and sources.
void scenario_attributes(hid_t g, const Scenario& scenario) {
  attr_string(g, "scenario", scenario.name);
  std::vector<std::string> paths, texts;
  for (const auto& [p, text] : scenario.sources) paths.push_back(p), texts.push_back(text);
  attr_strings(g, "source_paths", paths);
  attr_strings(g, "source_texts", texts);
}

std::vector<int> indices(std::size_t n) {
  std::vector<int> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<int>(i);
  return v;
}

}  // namespace

void ResultsFile::write_comparisons(const std::vector<Comparison>& comparisons) {
  if (!impl_->ready()) return;
  Handle cg = group(impl_->file, "comparisons");
  for (const auto& c : comparisons) {
    NcGroup g(group(cg, c.scenario));
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

void ResultsFile::write_sweep(const SweepResult& sw, const Scenario& scenario) {
  if (!impl_->ready()) return;
  NcGroup g(group(impl_->file, "sweep"));
  scenario_attributes(g, scenario);
  attr_value<std::uint64_t>(g, "runs", sw.runs);
  attr_value<double>(g, "seconds", sw.seconds);
  std::vector<std::string> levers, meaning;
  std::vector<double> from, to;
  std::vector<int> points;
  for (std::size_t i = 0; i < sw.axes.size(); ++i) {
    levers.push_back(sw.axes[i].lever);
    meaning.push_back(sw.absolute[i] ? "value" : "scale");
    from.push_back(sw.axes[i].from), to.push_back(sw.axes[i].to);
    points.push_back(sw.axes[i].points);
  }
  std::vector<std::string> targets;
  for (const auto& t : impl_->model->targets) targets.push_back(t.name);
  g.coordinate("point", indices(sw.points.size()), "grid point (the last lever varies fastest)");
  g.coordinate("lever", levers, "lever name");
  g.coordinate("target", targets, "target name");
  g.coordinate("non_monotone", sw.non_monotone,
               "neighbouring points where an estimate falls as the level rises");
  g.strings("level_kind", meaning, "lever", "value (the lever's level) or scale (a factor on it)");
  g.variable("lever_from", from, {"lever"}, "first level");
  g.variable("lever_to", to, {"lever"}, "last level");
  g.variable("lever_points", points, {"lever"}, "levels along the lever", "1");
  std::vector<double> levels;
  std::vector<Proportion> ps, joint;
  for (const auto& p : sw.points) {
    levels.insert(levels.end(), p.levels.begin(), p.levels.end());
    ps.insert(ps.end(), p.targets.begin(), p.targets.end());
    joint.push_back(p.joint);
  }
  g.variable("levels", levels, {"point", "lever"}, "each lever's level at the point");
  proportions(g, "", ps, {"point", "target"}, "the target");
  proportions(g, "joint_", joint, {"point"}, "every target");
  if (!sw.points.empty() && sw.points.front().cost) {
    std::vector<double> cost;
    for (const auto& p : sw.points) cost.push_back(p.cost.value_or(std::nan("")));
    g.variable("cost", cost, {"point"}, "the scenario's cost at the point (levers' costs)",
               impl_->model->cost_unit);
  }
}

void ResultsFile::write_search(const SearchResult& r, const Scenario& scenario) {
  if (!impl_->ready()) return;
  NcGroup g(group(impl_->file, "search"));
  scenario_attributes(g, scenario);
  attr_value<std::uint64_t>(g, "runs", r.runs);
  attr_value<double>(g, "seconds", r.seconds);
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
  attr_value<double>(g, "hits", static_cast<double>(r.at_level.hits));
  attr_value<double>(g, "hits_runs", static_cast<double>(r.at_level.runs));
  attr_value<double>(g, "probability", r.at_level.p);
  attr_value<double>(g, "ci_low", r.at_level.lo);
  attr_value<double>(g, "ci_high", r.at_level.hi);
  g.coordinate("lever", r.levers, "lever name (moved together)");
  std::vector<double> levels;
  std::vector<Proportion> ps;
  for (const auto& e : r.evaluations) levels.push_back(e.level), ps.push_back(e.p);
  g.coordinate("evaluation", indices(levels.size()), "evaluation, by level ascending");
  g.variable("level", levels, {"evaluation"}, "the level evaluated");
  proportions(g, "", ps, {"evaluation"}, "the searched target");
}

void ResultsFile::write_sensitivity(const std::string& scenario, const SensitivityResult& r) {
  if (!impl_->ready()) return;
  Handle root = open_or_create_group(impl_->file, "sensitivity");
  NcGroup g(group(root, scenario));
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
  attr_value<double>(g, "seconds", r.seconds);
  std::vector<std::string> names, kinds, members;
  for (const auto& f : r.factors) {
    names.push_back(f.name);
    kinds.push_back(f.why);
    std::string list;
    for (const auto& name : f.members) list += (list.empty() ? "" : ",") + name;
    members.push_back(list);
  }
  std::vector<std::string> target, output, output_name;
  std::vector<double> mean, variance, s1, s1l, s1h, st, stl, sth;
  std::vector<double> sum_s1, sum_s1l, sum_s1h, sum_st, sum_stl, sum_sth;
  std::vector<std::uint64_t> third_runs;
  std::vector<double> third_v, third_l, third_h;
  for (const auto& o : r.outputs) {
    target.push_back(
        o.output.target < 0 ? "" : m.targets[static_cast<std::size_t>(o.output.target)].name);
    output.push_back(o.output.met ? "met" : "value");
    output_name.push_back(o.name);
    mean.push_back(o.mean);
    variance.push_back(o.variance);
    for (const auto& f : o.factors) {
      s1.push_back(f.s1.value), s1l.push_back(f.s1.lo), s1h.push_back(f.s1.hi);
      st.push_back(f.st.value), stl.push_back(f.st.lo), sth.push_back(f.st.hi);
    }
    sum_s1.push_back(o.sum_s1.value), sum_s1l.push_back(o.sum_s1.lo);
    sum_s1h.push_back(o.sum_s1.hi);
    sum_st.push_back(o.sum_st.value), sum_stl.push_back(o.sum_st.lo);
    sum_sth.push_back(o.sum_st.hi);
    for (const auto& th : o.thirds)
      for (const auto& t : th) {
        third_runs.push_back(t.runs);
        third_v.push_back(t.value), third_l.push_back(t.lo), third_h.push_back(t.hi);
      }
  }
  g.coordinate("factor", names, "factor name");
  g.coordinate("output", indices(r.outputs.size()), "output index");
  g.coordinate("parameter", r.uncertain, "uncertain parameter name");
  g.coordinate("third", std::vector<std::string>{"lower", "middle", "upper"},
               "third of the parameter's distribution");
  g.strings("factor_kind", kinds, "factor", "parameter, correlation group, --factor or shocks");
  g.strings("factor_parameters", members, "factor", "the factor's parameters, comma-separated");
  g.strings("output_target", target, "output", "the target (empty: every target together)");
  g.strings("output_kind", output, "output",
            "met (the target's indicator) or value (its node at its year)");
  g.strings("output_name", output_name, "output", "the output's name");
  g.variable("mean", mean, {"output"}, "mean of the output over the runs of A and B");
  g.variable("variance", variance, {"output"}, "variance of the output over A and B");
  const std::vector<std::string> of = {"output", "factor"}, o = {"output"};
  g.variable("S1", s1, of, "first-order Sobol index", "1");
  g.variable("S1_low", s1l, of, "its 95 % bootstrap interval, lower end", "1");
  g.variable("S1_high", s1h, of, "its 95 % bootstrap interval, upper end", "1");
  g.variable("ST", st, of, "total Sobol index", "1");
  g.variable("ST_low", stl, of, "its 95 % bootstrap interval, lower end", "1");
  g.variable("ST_high", sth, of, "its 95 % bootstrap interval, upper end", "1");
  g.variable("sum_S1", sum_s1, o, "sum of the first-order indices", "1");
  g.variable("sum_S1_low", sum_s1l, o, "its 95 % bootstrap interval, lower end", "1");
  g.variable("sum_S1_high", sum_s1h, o, "its 95 % bootstrap interval, upper end", "1");
  g.variable("sum_ST", sum_st, o, "sum of the total indices", "1");
  g.variable("sum_ST_low", sum_stl, o, "its 95 % bootstrap interval, lower end", "1");
  g.variable("sum_ST_high", sum_sth, o, "its 95 % bootstrap interval, upper end", "1");
  const std::vector<std::string> opt = {"output", "parameter", "third"};
  g.variable("third_runs", counts(third_runs), opt,
             "runs of A and B with the parameter in the third", "1");
  g.variable("third_value", third_v, opt, "the output's mean over those runs");
  g.variable("third_low", third_l, opt, "its 95 % interval, lower end");
  g.variable("third_high", third_h, opt, "its 95 % interval, upper end");
  if (r.prim.empty()) return;
  Handle pg = group(g, "prim");
  const hsize_t nu = r.uncertain.size();
  for (const auto& pt : r.prim) {
    const PrimResult& p = pt.result;
    NcGroup tg(group(pg, m.targets[static_cast<std::size_t>(pt.target)].name));
    attr_string(tg, "reason", p.reason);
    attr_value<int>(tg, "chosen", p.chosen);
    attr_value<int>(tg, "pastes", p.pastes);
    std::vector<double> mass, coverage, density;
    std::vector<int> restricted;
    for (const auto& b : p.trajectory) {
      mass.push_back(b.mass), coverage.push_back(b.coverage), density.push_back(b.density);
      restricted.push_back(b.restricted);
    }
    tg.coordinate("step", indices(p.trajectory.size()), "peeling step (0: all the data)");
    tg.coordinate("parameter", r.uncertain, "uncertain parameter name");
    const std::vector<std::string> st1 = {"step"};
    tg.variable("trajectory_mass", mass, st1, "share of the points in the box", "1");
    tg.variable("trajectory_coverage", coverage, st1, "share of the met points in the box", "1");
    tg.variable("trajectory_density", density, st1, "share of the box's points met", "1");
    tg.variable("trajectory_restricted", restricted, st1, "restricted parameters", "1");
    if (p.box.lower.size() == nu) {
      attr_value<double>(tg, "mass", p.box.mass);
      attr_value<double>(tg, "coverage", p.box.coverage);
      attr_value<double>(tg, "density", p.box.density);
      attr_value<std::uint64_t>(tg, "points", p.box.points);
      attr_value<std::uint64_t>(tg, "hits", p.box.hits);
      attr_value<int>(tg, "restricted_count", p.box.restricted);
      tg.variable("box_lower", p.box.lower, {"parameter"}, "the box's lower limit");
      tg.variable("box_upper", p.box.upper, {"parameter"}, "the box's upper limit");
    }
    std::vector<std::string> dims;
    std::vector<double> lo, hi, qp;
    for (const auto& d : p.restricted) {
      dims.push_back(r.uncertain[static_cast<std::size_t>(d.dim)]);
      lo.push_back(d.lower_restricted ? d.lower : -std::numeric_limits<double>::infinity());
      hi.push_back(d.upper_restricted ? d.upper : std::numeric_limits<double>::infinity());
      qp.push_back(d.quasi_p);
    }
    tg.coordinate("restricted", dims, "restricted parameter, by quasi-p ascending");
    tg.variable("restricted_lower", lo, {"restricted"}, "lower limit (-inf: not restricted)");
    tg.variable("restricted_upper", hi, {"restricted"}, "upper limit (+inf: not restricted)");
    tg.variable("quasi_p", qp, {"restricted"}, "quasi-p value of the restriction", "1");
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

namespace {

/// The group `name` under `parent`; an OutputError naming `what` when it is not there.
Handle open_group(hid_t parent, const std::string& name, const std::string& what) {
  if (H5Lexists(parent, name.c_str(), H5P_DEFAULT) <= 0) throw OutputError(what);
  return Handle(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose, "open group " + name);
}

bool has(hid_t parent, const std::string& name) {
  return H5Lexists(parent, name.c_str(), H5P_DEFAULT) > 0;
}

/// A numeric attribute array (e.g. `version`, `range`).
template <class T>
std::vector<T> read_attr_array(hid_t obj, const std::string& name) {
  Handle a(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
  Handle space(H5Aget_space(a), H5Sclose, "get dataspace");
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n < 0) throw OutputError("HDF5: cannot size " + name);
  std::vector<T> v(static_cast<std::size_t>(n));
  if (n > 0) check(H5Aread(a, native<T>(), v.data()), "read attribute " + name);
  return v;
}

/// A variable of exactly `n` values (a truncated or foreign file fails here, not later).
template <class T>
std::vector<T> read_sized(hid_t g, const std::string& name, std::size_t n,
                          const std::string& path) {
  auto v = read_array<T>(g, name);
  if (v.size() != n)
    throw OutputError(
        fmt::format("'{}': '{}' has {} values where {} were expected", path, name, v.size(), n));
  return v;
}

std::vector<std::string> read_strings(hid_t g, const std::string& name, std::size_t n,
                                      const std::string& path) {
  auto v = read_string_array(g, name, false);
  if (v.size() != n)
    throw OutputError(
        fmt::format("'{}': '{}' has {} values where {} were expected", path, name, v.size(), n));
  return v;
}

template <class T>
T read_scalar(hid_t g, const std::string& name, const std::string& path) {
  return read_sized<T>(g, name, 1, path)[0];
}

/// Proportions stored as `prefix`hits, runs, probability, ci_low, ci_high (n of each).
std::vector<Proportion> read_proportions(hid_t g, const std::string& prefix, std::size_t n,
                                         const std::string& path) {
  const auto hits = read_sized<std::uint64_t>(g, prefix + "hits", n, path);
  const auto runs = read_sized<std::uint64_t>(g, prefix + "runs", n, path);
  const auto p = read_sized<double>(g, prefix + "probability", n, path);
  const auto lo = read_sized<double>(g, prefix + "ci_low", n, path);
  const auto hi = read_sized<double>(g, prefix + "ci_high", n, path);
  std::vector<Proportion> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = {hits[i], runs[i], p[i], lo[i], hi[i]};
  return out;
}

std::vector<std::pair<std::string, std::string>> read_sources(hid_t g) {
  std::vector<std::pair<std::string, std::string>> out;
  if (H5Aexists(g, "source_paths") <= 0) return out;
  const auto paths = read_string_array(g, "source_paths", true);
  const auto texts = read_string_array(g, "source_texts", true);
  for (std::size_t i = 0; i < paths.size() && i < texts.size(); ++i)
    out.emplace_back(paths[i], texts[i]);
  return out;
}

StoredScenario read_scenario(hid_t f, const std::string& name, const Model& m,
                             const std::string& path) {
  Handle g =
      open_group(f, "scenarios/" + name,
                 fmt::format("'{}' lists scenario '{}' but has no group for it", path, name));
  StoredScenario s;
  s.name = read_string_attr(g, "name");
  s.description = read_string_attr(g, "description");
  s.path = read_string_attr(g, "path");
  s.source = read_string_attr(g, "source");
  s.sources = read_sources(g);
  s.seconds = read_attr<double>(g, "seconds");
  EnsembleResult& r = s.result;
  r.runs = read_attr<std::uint64_t>(g, "runs");
  r.seconds = s.seconds;
  const std::size_t nt = m.targets.size(), steps = static_cast<std::size_t>(m.time.steps());
  if (read_string_array(g, "target", false) != [&] {
        std::vector<std::string> names;
        for (const auto& t : m.targets) names.push_back(t.name);
        return names;
      }())
    throw OutputError(fmt::format(
        "'{}': scenario '{}' has other targets than the model stored in the file", path, name));
  const auto hits = read_sized<std::uint64_t>(g, "hits", nt, path);
  const auto runs = read_sized<std::uint64_t>(g, "runs", nt, path);
  const auto prob = read_sized<double>(g, "probability", nt, path);
  const auto lo = read_sized<double>(g, "ci_low", nt, path);
  const auto hi = read_sized<double>(g, "ci_high", nt, path);
  const auto first = read_sized<std::uint64_t>(g, "first_met", nt * steps, path);
  const auto never = read_sized<std::uint64_t>(g, "never_met", nt, path);
  for (std::size_t t = 0; t < nt; ++t) {
    TargetResult tr;
    tr.hits = hits[t], tr.runs = runs[t], tr.probability = prob[t];
    tr.ci_low = lo[t], tr.ci_high = hi[t], tr.never = never[t];
    tr.first_met.assign(first.begin() + static_cast<std::ptrdiff_t>(t * steps),
                        first.begin() + static_cast<std::ptrdiff_t>((t + 1) * steps));
    r.targets.push_back(std::move(tr));
  }
  if (nt > 0) {
    r.joint_hits = read_scalar<std::uint64_t>(g, "joint_hits", path);
    r.joint_probability = read_scalar<double>(g, "joint_probability", path);
    r.joint_low = read_scalar<double>(g, "joint_ci_low", path);
    r.joint_high = read_scalar<double>(g, "joint_ci_high", path);
  }
  if (has(g, "met_runs")) r.met = read_sized<std::uint64_t>(g, "met_runs", nt + 1, path);
  if (has(g, "cost")) {
    CostResult c;
    c.unit = m.cost_unit;
    const auto names = read_string_array(g, "cost_lever", false);
    const auto totals = read_sized<double>(g, "lever_cost", names.size(), path);
    for (std::size_t i = 0; i < names.size(); ++i) c.levers.push_back({names[i], {}, totals[i]});
    c.total = read_scalar<double>(g, "cost", path);
    r.cost = std::move(c);
  }
  const std::size_t na = m.actuals.size();
  const auto below = read_sized<std::uint64_t>(g, "actual_below", na, path);
  const auto equal = read_sized<std::uint64_t>(g, "actual_equal", na, path);
  const auto pct = read_sized<double>(g, "actual_percentile", na, path);
  for (std::size_t a = 0; a < na; ++a) r.actuals.push_back({below[a], equal[a], r.runs, pct[a]});
  if (has(g, "mean")) {
    const std::size_t n = m.nodes.size() * steps;
    StoredSummary sm;
    sm.mean = read_sized<double>(g, "mean", n, path);
    sm.sd = read_sized<double>(g, "sd", n, path);
    sm.min = read_sized<double>(g, "min", n, path);
    sm.max = read_sized<double>(g, "max", n, path);
    sm.levels = read_array<double>(g, "quantile");
    sm.quantiles = read_sized<double>(g, "quantiles", n * sm.levels.size(), path);
    s.summary = std::move(sm);
  }
  return s;
}

Comparison read_comparison(hid_t g, const Model& m, const std::string& path) {
  Comparison c;
  c.reference = read_string_attr(g, "reference");
  c.scenario = read_string_attr(g, "scenario");
  const auto names = read_string_array(g, "target", false);
  const std::size_t n = m.targets.size() + 1;
  if (names.size() != n)
    throw OutputError(fmt::format("'{}': comparison '{}' has {} rows, not {}", path, c.scenario,
                                  names.size(), n));
  const auto both = read_sized<std::uint64_t>(g, "both", n, path);
  const auto helped = read_sized<std::uint64_t>(g, "helped", n, path);
  const auto hurt = read_sized<std::uint64_t>(g, "hurt", n, path);
  const auto neither = read_sized<std::uint64_t>(g, "neither", n, path);
  const auto md = read_sized<double>(g, "value_difference", n, path);
  const auto mlo = read_sized<double>(g, "value_difference_ci_low", n, path);
  const auto mhi = read_sized<double>(g, "value_difference_ci_high", n, path);
  const auto msd = read_sized<double>(g, "value_difference_sd", n, path);
  for (std::size_t i = 0; i < n; ++i) {
    PairedTarget t = paired_target(names[i], {both[i], helped[i], hurt[i], neither[i]});
    if (i + 1 < n) {
      t.value_difference = MeanInterval{md[i], mlo[i], mhi[i], msd[i]};
      c.targets.push_back(std::move(t));
    } else {
      c.joint = std::move(t);
    }
  }
  return c;
}

SweepResult read_sweep(hid_t g, const Model& m, const std::string& path) {
  SweepResult sw;
  const auto levers = read_string_array(g, "lever", false);
  const auto kinds = read_strings(g, "level_kind", levers.size(), path);
  const auto from = read_sized<double>(g, "lever_from", levers.size(), path);
  const auto to = read_sized<double>(g, "lever_to", levers.size(), path);
  const auto points = read_sized<int>(g, "lever_points", levers.size(), path);
  for (std::size_t i = 0; i < levers.size(); ++i) {
    sw.axes.push_back({levers[i], from[i], to[i], points[i]});
    sw.absolute.push_back(kinds[i] == "value");
  }
  const std::size_t np = read_array<int>(g, "point").size(), na = levers.size(),
                    nt = m.targets.size();
  const auto levels = read_sized<double>(g, "levels", np * na, path);
  const auto ps = read_proportions(g, "", np * nt, path);
  const auto joint = read_proportions(g, "joint_", np, path);
  for (std::size_t p = 0; p < np; ++p) {
    SweepPoint pt;
    pt.levels.assign(levels.begin() + static_cast<std::ptrdiff_t>(p * na),
                     levels.begin() + static_cast<std::ptrdiff_t>((p + 1) * na));
    pt.targets.assign(ps.begin() + static_cast<std::ptrdiff_t>(p * nt),
                      ps.begin() + static_cast<std::ptrdiff_t>((p + 1) * nt));
    pt.joint = joint[p];
    sw.points.push_back(std::move(pt));
  }
  if (has(g, "cost")) {
    const auto cost = read_sized<double>(g, "cost", np, path);
    for (std::size_t p = 0; p < np; ++p) sw.points[p].cost = cost[p];
  }
  sw.runs = read_attr<std::uint64_t>(g, "runs");
  sw.seconds = read_attr<double>(g, "seconds");
  sw.non_monotone = read_string_array(g, "non_monotone", false);
  return sw;
}

SearchResult read_search(hid_t g, const std::string& path) {
  SearchResult r;
  r.levers = read_string_array(g, "lever", false);
  r.absolute = read_string_attr(g, "level_kind") == "value";
  r.target = read_string_attr(g, "target");
  r.goal = read_attr<double>(g, "goal");
  const auto range = read_attr_array<double>(g, "range");
  if (range.size() != 2) throw OutputError(fmt::format("'{}': /search has no range", path));
  r.range_low = range[0], r.range_high = range[1];
  r.tolerance = read_attr<double>(g, "tolerance");
  r.reachable = read_attr<int>(g, "reachable") != 0;
  r.monotone = read_attr<int>(g, "monotone") != 0;
  r.level = read_attr<double>(g, "level");
  r.level_low = read_attr<double>(g, "level_low");
  r.level_high = read_attr<double>(g, "level_high");
  r.at_level = {read_attr<std::uint64_t>(g, "hits"), read_attr<std::uint64_t>(g, "hits_runs"),
                read_attr<double>(g, "probability"), read_attr<double>(g, "ci_low"),
                read_attr<double>(g, "ci_high")};
  const auto levels = read_array<double>(g, "level");
  const auto ps = read_proportions(g, "", levels.size(), path);
  for (std::size_t i = 0; i < levels.size(); ++i) r.evaluations.push_back({levels[i], ps[i]});
  r.runs = read_attr<std::uint64_t>(g, "runs");
  r.seconds = read_attr<double>(g, "seconds");
  return r;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    const auto comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

SensitivityResult read_sensitivity(hid_t g, const Model& m, const std::string& path) {
  SensitivityResult r;
  const std::string sampling = read_string_attr(g, "sampling");
  r.sampling = sampling.rfind("Sobol", 0) == 0 ? Sampling::kSobol : Sampling::kRandom;
  r.rows = read_attr<std::uint64_t>(g, "rows");
  r.runs = read_attr<std::uint64_t>(g, "runs");
  r.resamples = read_attr<int>(g, "resamples");
  r.prim_points = read_attr<std::uint64_t>(g, "prim_points");
  r.seconds = read_attr<double>(g, "seconds");
  const auto names = read_string_array(g, "factor", false);
  const std::size_t k = names.size();
  const auto kinds = read_strings(g, "factor_kind", k, path);
  const auto members = read_strings(g, "factor_parameters", k, path);
  r.uncertain = read_string_array(g, "parameter", false);
  for (std::size_t i = 0; i < k; ++i) {
    Factor f;
    f.name = names[i], f.why = kinds[i], f.members = split_commas(members[i]);
    r.factors.push_back(std::move(f));
  }
  const std::size_t no = read_array<int>(g, "output").size(), nu = r.uncertain.size();
  const auto target = read_strings(g, "output_target", no, path);
  const auto kind = read_strings(g, "output_kind", no, path);
  const auto oname = read_strings(g, "output_name", no, path);
  const auto mean = read_sized<double>(g, "mean", no, path);
  const auto variance = read_sized<double>(g, "variance", no, path);
  std::map<std::string, std::vector<double>> v;
  for (const char* n : {"S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"})
    v[n] = read_sized<double>(g, n, no * k, path);
  for (const char* n :
       {"sum_S1", "sum_S1_low", "sum_S1_high", "sum_ST", "sum_ST_low", "sum_ST_high"})
    v[n] = read_sized<double>(g, n, no, path);
  const auto third_runs = read_sized<std::uint64_t>(g, "third_runs", no * nu * 3, path);
  for (const char* n : {"third_value", "third_low", "third_high"})
    v[n] = read_sized<double>(g, n, no * nu * 3, path);
  for (std::size_t o = 0; o < no; ++o) {
    OutputSensitivity out;
    out.output.met = kind[o] == "met";
    out.output.target = -1;
    for (std::size_t t = 0; t < m.targets.size(); ++t)
      if (!target[o].empty() && m.targets[t].name == target[o])
        out.output.target = static_cast<int>(t);
    out.name = oname[o];
    out.mean = mean[o], out.variance = variance[o];
    for (std::size_t j = 0; j < k; ++j) {
      const std::size_t i = o * k + j;
      out.factors.push_back({{v["S1"][i], v["S1_low"][i], v["S1_high"][i]},
                             {v["ST"][i], v["ST_low"][i], v["ST_high"][i]}});
    }
    out.sum_s1 = {v["sum_S1"][o], v["sum_S1_low"][o], v["sum_S1_high"][o]};
    out.sum_st = {v["sum_ST"][o], v["sum_ST_low"][o], v["sum_ST_high"][o]};
    for (std::size_t u = 0; u < nu; ++u) {
      std::array<Third, 3> th;
      for (std::size_t q = 0; q < 3; ++q) {
        const std::size_t i = (o * nu + u) * 3 + q;
        th[q] = {third_runs[i], v["third_value"][i], v["third_low"][i], v["third_high"][i]};
      }
      out.thirds.push_back(th);
    }
    r.outputs.push_back(std::move(out));
  }
  if (!has(g, "prim")) return r;
  Handle pg(H5Gopen2(g, "prim", H5P_DEFAULT), H5Gclose, "open prim");
  // In the model's target order (the order they were written in).
  for (std::size_t t = 0; t < m.targets.size(); ++t) {
    if (!has(pg, m.targets[t].name)) continue;
    Handle tg(H5Gopen2(pg, m.targets[t].name.c_str(), H5P_DEFAULT), H5Gclose, "open prim");
    PrimTarget pt;
    pt.target = static_cast<int>(t);
    PrimResult& p = pt.result;
    p.reason = read_string_attr(tg, "reason");
    p.chosen = read_attr<int>(tg, "chosen");
    p.pastes = read_attr<int>(tg, "pastes");
    const auto mass = read_array<double>(tg, "trajectory_mass");
    const auto coverage = read_sized<double>(tg, "trajectory_coverage", mass.size(), path);
    const auto density = read_sized<double>(tg, "trajectory_density", mass.size(), path);
    const auto restricted = read_sized<int>(tg, "trajectory_restricted", mass.size(), path);
    for (std::size_t i = 0; i < mass.size(); ++i) {
      PrimBox b;
      b.mass = mass[i], b.coverage = coverage[i], b.density = density[i];
      b.restricted = restricted[i];
      p.trajectory.push_back(b);
    }
    if (has(tg, "box_lower")) {
      p.box.mass = read_attr<double>(tg, "mass");
      p.box.coverage = read_attr<double>(tg, "coverage");
      p.box.density = read_attr<double>(tg, "density");
      p.box.points = read_attr<std::uint64_t>(tg, "points");
      p.box.hits = read_attr<std::uint64_t>(tg, "hits");
      p.box.restricted = read_attr<int>(tg, "restricted_count");
      p.box.lower = read_sized<double>(tg, "box_lower", nu, path);
      p.box.upper = read_sized<double>(tg, "box_upper", nu, path);
    }
    const auto dims = read_string_array(tg, "restricted", false);
    const auto lo = read_sized<double>(tg, "restricted_lower", dims.size(), path);
    const auto hi = read_sized<double>(tg, "restricted_upper", dims.size(), path);
    const auto qp = read_sized<double>(tg, "quasi_p", dims.size(), path);
    for (std::size_t i = 0; i < dims.size(); ++i) {
      PrimDimension d;
      d.name = dims[i];
      d.dim = static_cast<int>(std::find(r.uncertain.begin(), r.uncertain.end(), dims[i]) -
                               r.uncertain.begin());
      d.lower_restricted = std::isfinite(lo[i]), d.upper_restricted = std::isfinite(hi[i]);
      d.lower = lo[i], d.upper = hi[i], d.quasi_p = qp[i];
      p.restricted.push_back(d);
    }
    r.prim.push_back(std::move(pt));
  }
  return r;
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

}  // namespace

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
  const auto params = read_array<double>(sg, "parameters");
  const auto values = read_array<double>(sg, "target_values");
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

namespace {

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

}  // namespace

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

void ResultsFile::commit() {
  std::string error;
  if (impl_->ready()) try {
      commit_unchecked();
    } catch (const OutputError& e) {
      if (!impl_->comm) throw write_failure(impl_->path, e);
      error = write_failure(impl_->path, e).what();
    }
  if (!impl_->comm) return;
  // Every rank ends with rank 0's outcome.
  const std::vector<std::byte> told = impl_->comm->broadcast(std::as_bytes(std::span(error)));
  if (!told.empty())
    throw OutputError(std::string(reinterpret_cast<const char*>(told.data()), told.size()));
  impl_->committed = true;
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

// ---------------------------------------------------------------------------------------
// Per-run rows, streamed.

namespace attain {

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
    Column run = open_column("run"), targets = open_column("target_values"),
           params = open_column("parameters");
    std::optional<Column> full;
    if (has(g, "values")) full = open_column("values");
    const hsize_t rows = run.dims[0];
    if (targets.dims[0] != rows || params.dims[0] != rows || (full && full->dims[0] != rows))
      throw OutputError(
          fmt::format("'{}': scenario '{}' has rows of inconsistent sizes", path, scenario));
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

// ---------------------------------------------------------------------------------------
// Checkpoints (attain/checkpoint.hpp): the state file.

namespace {

constexpr const char* kCheckpointFiletype = "attain checkpoint";

/// fsync()s a file or folder; false when it cannot.
bool sync_path(const std::string& path, bool folder) {
  const int fd = ::open(path.c_str(), (folder ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
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

void write_checkpoint(const std::string& folder, const Fingerprint& fingerprint,
                      const std::vector<CheckpointScenario>& scenarios) {
  quiet_hdf5();
  const std::string path = folder + "/state.h5", tmp = path + ".tmp";
  std::error_code ec;
  std::filesystem::remove(tmp, ec);
  try {
    Handle f(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
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
      const StudyState* head = sc.before ? sc.before : sc.state;
      if (!head) throw std::logic_error("write_checkpoint: a scenario without a state");
      std::vector<const StudyPartial*> partials;
      for (const StudyState* st : {sc.before, sc.state})
        if (st)
          for (const auto& p : st->partials()) partials.push_back(&p);
      write_state(g, head->first, sc.state ? sc.state->last : sc.before->last, head->chunk,
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
