// XXH3-64 digests of the reducer state and the per-run rows (digest.hpp), with xxHash
// (Debian's libxxhash).
#include "digest.hpp"

#include <fmt/format.h>
#include <xxhash.h>

#include <stdexcept>

#include "attain/program.hpp"
#include "attain/results_file.hpp"
#include "h5_read.hpp"
#include "h5_util.hpp"

namespace attain {
using namespace h5;

namespace {

void feed(XXH3_state_t* s, const void* data, std::size_t bytes) {
  if (bytes > 0 && XXH3_64bits_update(s, data, bytes) != XXH_OK)
    throw std::runtime_error("XXH3_64bits_update failed");
}

void feed_u64(XXH3_state_t* s, std::uint64_t v) {
  feed(s, &v, sizeof v);
}

/// A name and an array, each preceded by its length: no two layouts feed the same bytes.
template <class T>
void feed_array(XXH3_state_t* s, const std::string& name, const std::vector<T>& v) {
  feed_u64(s, name.size());
  feed(s, name.data(), name.size());
  feed_u64(s, v.size());
  feed(s, v.data(), v.size() * sizeof(T));
}

struct StateDeleter {
  void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
};
using StatePtr = std::unique_ptr<XXH3_state_t, StateDeleter>;

StatePtr new_state() {
  StatePtr s(XXH3_createState());
  if (!s || XXH3_64bits_reset(s.get()) != XXH_OK)
    throw std::runtime_error("XXH3_createState failed");
  return s;
}

/// Attribute `name` of `obj` as a scalar 64-bit integer; nullopt when absent.
std::optional<std::uint64_t> digest_attr(hid_t obj, const char* name, const std::string& path) {
  if (H5Aexists(obj, name) <= 0) return std::nullopt;
  Handle a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose, std::string("open attribute ") + name);
  Handle space(H5Aget_space(a), H5Sclose, "get dataspace");
  Handle type(H5Aget_type(a), H5Tclose, "get type");
  if (H5Sget_simple_extent_type(space) != H5S_SCALAR || H5Tget_class(type) != H5T_INTEGER ||
      H5Tget_size(type) != sizeof(std::uint64_t))
    throw OutputError(fmt::format(
        "'{}': the attribute '{}' is not one 64-bit integer (an XXH3-64 digest)", path, name));
  std::uint64_t v = 0;
  check(H5Aread(a, H5T_NATIVE_UINT64, &v), std::string("read attribute ") + name);
  return v;
}

}  // namespace

std::array<std::uint64_t, 3> row_widths(const Program& program, bool full) {
  return {program.model().targets.size(), program.parameters().size(),
          full ? static_cast<std::uint64_t>(program.steps()) * program.nodes() : 0};
}

std::uint64_t state_digest(const StudyState& state) {
  StatePtr s = new_state();
  feed_u64(s.get(), state.first);
  feed_u64(s.get(), state.last);
  feed_u64(s.get(), static_cast<std::uint64_t>(state.chunk));
  for (const auto& p : state.partials()) {
    feed_u64(s.get(), static_cast<std::uint64_t>(p.level));
    feed_u64(s.get(), p.index);
    feed_u64(s.get(), p.reducers.size());
    for (const auto& r : p.reducers) {
      const std::string kind = r->kind();
      feed_array(s.get(), kind, std::vector<char>());
      const ReducerState st = r->save();
      for (const auto& [name, v] : st.counts) feed_array(s.get(), name, v);
      feed_u64(s.get(), 0xffffffffffffffffULL);  // counts end
      for (const auto& [name, v] : st.reals) feed_array(s.get(), name, v);
    }
  }
  return XXH3_64bits_digest(s.get());
}

struct RowDigest::State {
  StatePtr s = new_state();
  std::uint64_t sum = 0;  ///< of the runs' own digests, modulo 2^64
};

RowDigest::RowDigest(const std::array<std::uint64_t, 3>& widths)
    : widths_(widths), state_(std::make_unique<State>()) {}

RowDigest::~RowDigest() = default;

void RowDigest::add(const ChunkData& c) {
  const auto n = static_cast<std::uint64_t>(std::max(0, c.count));
  const std::array<const std::vector<double>*, 3> parts{&c.target_values, &c.parameters, &c.full};
  for (std::size_t k = 0; k < 3; ++k)
    if (parts[k]->size() != n * widths_[k])
      throw std::invalid_argument(fmt::format("rows of {} runs hold {} values, not {} x {}", n,
                                              parts[k]->size(), n, widths_[k]));
  XXH3_state_t* s = state_->s.get();
  for (std::uint64_t i = 0; i < n; ++i) {
    if (XXH3_64bits_reset(s) != XXH_OK) throw std::runtime_error("XXH3_64bits_reset failed");
    feed_u64(s, c.first_run + i);
    for (std::size_t k = 0; k < 3; ++k)
      feed(s, parts[k]->data() + i * widths_[k], widths_[k] * sizeof(double));
    state_->sum += XXH3_64bits_digest(s);
  }
}

void RowDigest::add(std::uint64_t other) {
  state_->sum += other;
}

std::uint64_t RowDigest::value() const {
  return state_->sum;
}

void write_digests(hid_t state_group, std::uint64_t state, std::optional<std::uint64_t> rows) {
  attr_value<std::uint64_t>(state_group, "digest_state", state);
  if (rows) attr_value<std::uint64_t>(state_group, "digest_rows", *rows);
}

PartLayout read_part_layout(const std::string& path, const std::string& scenario) {
  Handle f = open_input(path, "results file", false);  // the validated reading layer
  const std::string where = "scenarios/" + scenario;
  if (H5Lexists(f, "scenarios", H5P_DEFAULT) <= 0 || H5Lexists(f, where.c_str(), H5P_DEFAULT) <= 0)
    throw OutputError(fmt::format("'{}' has no scenario '{}'", path, scenario));
  Handle g(H5Gopen2(f, where.c_str(), H5P_DEFAULT), H5Gclose, "open " + where);
  PartLayout out;
  if (has(g, "state")) {
    Handle sg(H5Gopen2(g, "state", H5P_DEFAULT), H5Gclose, "open " + where + "/state");
    out.digest_state = digest_attr(sg, "digest_state", path);
    out.digest_rows = digest_attr(sg, "digest_rows", path);
  }
  for (const char* name : {"run", "target_values", "parameters", "values"}) {
    if (!has(g, name)) continue;
    Handle d(H5Dopen2(g, name, H5P_DEFAULT), H5Dclose, std::string("open ") + name);
    Handle space(H5Dget_space(d), H5Sclose, "get dataspace");
    const int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0 || rank > H5S_MAX_RANK)
      throw OutputError(fmt::format("'{}': '{}/{}' has no dimensions", path, where, name));
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    out.rows[name] = std::vector<std::uint64_t>(dims.begin(), dims.end());
  }
  return out;
}

std::vector<std::optional<std::uint64_t>> read_checkpoint_digests(const std::string& folder) {
  const std::string path = folder + "/state.h5";
  Handle f = open_input(path, "checkpoint", true);  // the validated reading layer
  std::vector<std::optional<std::uint64_t>> out;
  if (!has(f, "scenarios")) return out;
  Handle all(H5Gopen2(f, "scenarios", H5P_DEFAULT), H5Gclose, "open scenarios");
  for (std::size_t i = 0; has(all, std::to_string(i)); ++i) {
    Handle g(H5Gopen2(all, std::to_string(i).c_str(), H5P_DEFAULT), H5Gclose, "open scenario");
    out.push_back(digest_attr(g, "rows_digest", path));
  }
  return out;
}

}  // namespace attain
