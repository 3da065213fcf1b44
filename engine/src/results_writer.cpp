// The HDF5 results writer (ResultsFile): the file, its scenarios' groups and per-run rows,
// serial or through parallel HDF5 over MPI ranks. Layout: docs/results-format.md.
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <optional>
#include <random>
#include <span>
#include <utility>

#include "attain/communicator.hpp"
#include "attain/constants.hpp"
#include "attain/results_file.hpp"
#include "attain/version.hpp"
#include "digest.hpp"
#include "h5_util.hpp"
#include "results_groups.hpp"

namespace attain {
using namespace h5;
namespace {

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

  /// Rows [first_row, first_row + rows) from `data`, which must hold exactly that many
  /// rows (else OutputError: never a read past its end).
  template <class T>
  void write(hsize_t first_row, hsize_t rows, const std::vector<T>& data) {
    if (rows == 0) return;
    if (data.size() != rows * row_)
      throw OutputError(
          fmt::format("rows of {} values for {} runs of {} values each", data.size(), rows, row_));
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
    check(H5Dwrite(set_, type_, mem_space, file_space, H5P_DEFAULT, data.data()), "write rows");
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
    // The rows' digest (digest.hpp): each rank's of its own rows, added up at the end.
    digest_.emplace(row_widths(program, info.store == StoreLevel::kFull));
  }

  /// A rank's sink for the datasets rank 0 creates: open() opens them.
  ScenarioSink(const RunInfo& info, std::string path, const Program& program)
      : first_run_(info.first_run), path_(std::move(path)), store_(info.store) {
    if (store_ != StoreLevel::kSummary)
      digest_.emplace(row_widths(program, info.store == StoreLevel::kFull));
  }

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
      hsize_t n = static_cast<hsize_t>(std::max(0, c.count));
      if (c.first_run < first_run_)
        throw OutputError(
            fmt::format("rows of run {}, before the file's first run {}", c.first_run, first_run_));
      if (run_) {
        std::vector<std::uint64_t> index(n);
        for (hsize_t i = 0; i < n; ++i) index[i] = c.first_run + i;
        run_->write(row, n, index);
      }
      if (target_values_) target_values_->write(row, n, c.target_values);
      if (parameters_) parameters_->write(row, n, c.parameters);
      if (values_) values_->write(row, n, c.full);
      if (digest_) digest_->add(c);
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
  std::optional<RowDigest> digest_;  ///< of the rows written, in run order
  double seconds_ = 0;               ///< spent in write() (ATTAIN_RANK_TIMES, docs/scaling.md)
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
  /// Several ranks: every rank's rows digest added up into rank 0's (collective).
  void gather_digest(Open& o) {
    if (!comm || info.store == StoreLevel::kSummary) return;
    const std::uint64_t mine = o.sink && o.sink->digest_ ? o.sink->digest_->value() : 0;
    const auto all = comm->all_gather(std::as_bytes(std::span(&mine, 1)));
    if (!writer() || !o.sink || !o.sink->digest_) return;
    for (std::size_t r = 1; r < all.size(); ++r) {
      std::uint64_t theirs = 0;
      std::memcpy(&theirs, all[r].data(), std::min(all[r].size(), sizeof theirs));
      o.sink->digest_->add(theirs);
    }
  }
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
                           std::make_unique<ScenarioSink>(impl_->info, impl_->path, program),
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

void ResultsFile::end_scenario(const EnsembleResult& r, const StudyResult* state) {
  try {
    end_scenario_unchecked(r, state);
  } catch (const OutputError& e) {
    throw write_failure(impl_->path, e);
  }
}

void ResultsFile::end_scenario_unchecked(const EnsembleResult& r, const StudyResult* state) {
  if (impl_->open.empty()) throw std::logic_error("end_scenario without begin_scenario");
  impl_->gather_digest(impl_->open.front());
  if (!impl_->ready()) {
    impl_->open.pop_front();
    return;
  }
  NcGroup& g = impl_->open.front().group;
  h5::write_scenario_results(g, impl_->open.front().program->model(), r);
  if (state) {
    h5::write_state(g, *state, impl_->info.chunk);
    const auto& sink = impl_->open.front().sink;
    Handle sg(H5Gopen2(g, "state", H5P_DEFAULT), H5Gclose, "open group state");
    write_digests(sg, state_digest(state->state),
                  sink && sink->digest_ ? std::optional(sink->digest_->value()) : std::nullopt);
  }
  impl_->open.pop_front();
}

void ResultsFile::write_comparisons(const std::vector<Comparison>& comparisons) {
  if (impl_->ready()) h5::write_comparisons(impl_->file, comparisons);
}

void ResultsFile::write_sweep(const SweepResult& sweep, const Scenario& scenario) {
  if (impl_->ready()) h5::write_sweep(impl_->file, *impl_->model, sweep, scenario);
}

void ResultsFile::write_search(const SearchResult& search, const Scenario& scenario) {
  if (impl_->ready()) h5::write_search(impl_->file, search, scenario);
}

void ResultsFile::write_sensitivity(const std::string& scenario, const SensitivityResult& result) {
  if (impl_->ready()) h5::write_sensitivity(impl_->file, *impl_->model, scenario, result);
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

}  // namespace attain
