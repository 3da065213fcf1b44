// HDF5 helpers shared by the results file sources (private to engine/src): RAII handles,
// attribute and dataset writers, and NcGroup (NetCDF-4 dimensions); the readers are in
// h5_read.hpp, the validated reading layer.
// Layout of the file: docs/results-format.md.
#pragma once

#include <fmt/format.h>
#include <hdf5.h>
#include <hdf5_hl.h>

#include <cstdint>
#include <exception>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "attain/errors.hpp"

namespace attain::h5 {

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
inline void quiet_hdf5() {
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
inline OutputError write_failure(const std::string& path, const std::exception& e) {
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

inline void check(herr_t status, const std::string& what) {
  if (status < 0) throw OutputError("HDF5: cannot " + what);
}

inline Handle group(hid_t parent, const std::string& name) {
  return Handle(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
                "create group " + name);
}

/// The group `name` under `parent`, created when it is not there yet.
inline Handle open_or_create_group(hid_t parent, const std::string& name) {
  if (H5Lexists(parent, name.c_str(), H5P_DEFAULT) > 0)
    return Handle(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose, "open group " + name);
  return group(parent, name);
}

inline Handle utf8_type() {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose, "copy string type");
  check(H5Tset_size(t, H5T_VARIABLE), "set string size");
  check(H5Tset_cset(t, H5T_CSET_UTF8), "set UTF-8");
  return t;
}

inline Handle scalar_space() {
  return Handle(H5Screate(H5S_SCALAR), H5Sclose, "create dataspace");
}

inline Handle simple_space(std::vector<hsize_t> dims) {
  return Handle(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
                "create dataspace");
}

inline void attr_string(hid_t obj, const std::string& name, const std::string& value) {
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
inline hid_t native<double>() {
  return H5T_NATIVE_DOUBLE;
}
template <>
inline hid_t native<std::uint64_t>() {
  return H5T_NATIVE_UINT64;
}
template <>
inline hid_t native<int>() {
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

inline Handle string_dataset(hid_t parent, const std::string& name,
                             const std::vector<std::string>& data) {
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
inline void attr_strings(hid_t obj, const std::string& name,
                         const std::vector<std::string>& values) {
  Handle type = utf8_type();
  Handle space = simple_space({values.size()});
  Handle a(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
           "create attribute " + name);
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  if (!ptrs.empty()) check(H5Awrite(a, type, ptrs.data()), "write attribute " + name);
}

/// CF attributes of a variable: what it is (`long_name`) and its unit, when it has one.
inline void describe(hid_t d, const std::string& long_name, const std::string& units) {
  if (!long_name.empty()) attr_string(d, "long_name", long_name);
  if (!units.empty()) attr_string(d, "units", units);
}

/// Counts as f64 (exact below 2^53): a JavaScript reader gets Numbers, not BigInts.
inline std::vector<double> counts(const std::vector<std::uint64_t>& v) {
  return std::vector<double>(v.begin(), v.end());
}

/// 0, 1, .., n - 1: the labels of an index dimension.
inline std::vector<int> indices(std::size_t n) {
  std::vector<int> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<int>(i);
  return v;
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

/// Names of the links in a group, in creation-independent (name) order.
inline std::vector<std::string> members(hid_t g) {
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

}  // namespace attain::h5

// The read side: the validated reading layer.
#include "h5_read.hpp"  // IWYU pragma: export
