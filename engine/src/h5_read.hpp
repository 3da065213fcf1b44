// The validated reading layer of results files and checkpoints (private to engine/src):
// files opened only when they are regular files whose every link is a hard link and whose
// every dataset keeps its data inside the file; every attribute and dataset checked for
// its type class, its number of values and the memory it would take before it is read;
// scalars read only from one-value dataspaces. A failure is one OutputError (exit 2)
// naming the file, the object ('/scenarios/base/hits') and what was expected.
// Rules for a reader: docs/results-format.md, "Reading a file you did not make".
#pragma once

#include <fmt/format.h>
#include <hdf5.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "h5_util.hpp"

namespace attain::h5 {

/// `name` under `obj` as a reader names it: "'FILE': '/scenarios/base/hits'" (control
/// characters escaped, long names cut).
std::string where(hid_t obj, const std::string& name);

/// The error for `name` under `obj`: "'FILE': '/path' <problem>".
OutputError refusal(hid_t obj, const std::string& name, const std::string& problem);

/// Opens `path` for reading (results file or checkpoint `what`): a regular file (checked
/// on a descriptor opened non-blocking, and without following a final symbolic link when
/// `nofollow`), opened read-only, then walked: a soft, external or user-defined link, a
/// dataset with external storage, a virtual dataset or a filter other than shuffle,
/// deflate and Fletcher-32 is refused by name before anything is read.
Handle open_input(const std::string& path, const std::string& what, bool nofollow);

/// What an attribute (`attribute`) or dataset holds: its type class, its values and the
/// most bytes a read of it may allocate (bounded by the file's size, by deflate's largest
/// ratio where it is compressed, and by the memory of the machine).
struct ObjectShape {
  H5T_class_t type_class = H5T_NO_CLASS;
  std::size_t type_size = 0;
  bool type_signed = false;
  bool variable_string = false;
  std::vector<hsize_t> dims;
  hsize_t points = 0;
  std::uint64_t budget = 0;
};
ObjectShape shape_of(hid_t h, bool attribute);

/// Opens attribute or dataset `name` of `obj`, refusing by name when it is not there.
Handle open_object(hid_t obj, const std::string& name, bool attribute);

/// Checks `s` of `name` before a read of `bytes_each` per value: its count (`expect`
/// when given) and the bytes it would take.
void check_size(hid_t obj, const std::string& name, const ObjectShape& s,
                std::optional<hsize_t> expect, std::size_t bytes_each);

/// Reads every value of `h` (already checked) as `type` into `out`.
void read_raw(hid_t h, bool attribute, hid_t type, void* out, const std::string& name);

/// Numbers of `name` (an attribute or a dataset) as T: the class must be integer or
/// floating point; integer T takes only integral values in T's range (a float-stored
/// count is checked, never clamped); exactly `expect` values when given.
template <class T>
std::vector<T> read_numbers(hid_t obj, const std::string& name, bool attribute,
                            std::optional<hsize_t> expect = std::nullopt) {
  Handle h = open_object(obj, name, attribute);
  const ObjectShape s = shape_of(h, attribute);
  if (s.type_class != H5T_INTEGER && s.type_class != H5T_FLOAT)
    throw refusal(obj, name, "is not numeric; a number was expected");
  if (s.type_size > 8) throw refusal(obj, name, "has numbers wider than 8 bytes");
  check_size(obj, name, s, expect, 8);
  const auto n = static_cast<std::size_t>(s.points);
  if constexpr (std::is_floating_point_v<T>) {
    std::vector<T> v(n);
    if (n) read_raw(h, attribute, native<T>(), v.data(), name);
    return v;
  } else {
    std::vector<T> v(n);
    auto in_range = [&](auto x) {
      using X = decltype(x);
      if constexpr (std::is_floating_point_v<X>)
        return std::isfinite(x) && x == std::floor(x) &&
               x >= static_cast<X>(std::numeric_limits<T>::min()) &&
               x <= static_cast<X>(std::numeric_limits<T>::max());
      else
        return std::in_range<T>(x);
    };
    auto convert = [&](auto sample, hid_t type) {
      std::vector<decltype(sample)> raw(n);
      if (n) read_raw(h, attribute, type, raw.data(), name);
      for (std::size_t i = 0; i < n; ++i) {
        if (!in_range(raw[i]))
          throw refusal(
              obj, name,
              fmt::format("holds {} at [{}]; an integer from {} to {} was expected", raw[i], i,
                          std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
        v[i] = static_cast<T>(raw[i]);
      }
    };
    if (s.type_class == H5T_FLOAT)
      convert(double{}, H5T_NATIVE_DOUBLE);
    else if (s.type_signed)
      convert(std::int64_t{}, H5T_NATIVE_INT64);
    else
      convert(std::uint64_t{}, H5T_NATIVE_UINT64);
    return v;
  }
}

/// Variable-length strings of `name`; exactly `expect` of them when given.
std::vector<std::string> read_texts(hid_t obj, const std::string& name, bool attribute,
                                    std::optional<hsize_t> expect = std::nullopt);

/// The dimensions of dataset `name`, refused unless its rank is `rank`.
std::vector<hsize_t> dims_of(hid_t obj, const std::string& name, int rank);

/// Counts (hits, runs, ..) of `name`: `n` finite non-negative integers, each at most
/// `most`.
std::vector<std::uint64_t> read_counts(hid_t g, const std::string& name, std::size_t n,
                                       std::uint64_t most);

/// Probabilities of `name`: `n` values in [0, 1] (NaN only where `nan_ok`).
std::vector<double> read_probabilities(hid_t g, const std::string& name, std::size_t n,
                                       bool nan_ok = false);

/// Refuses an interval [lo, hi] around p that is not ordered (NaN aside).
void check_interval(hid_t g, const std::string& name, std::size_t i, double lo, double p,
                    double hi);

// The readers by the names the results sources use.

template <class T>
std::vector<T> read_array(hid_t parent, const std::string& name) {
  return read_numbers<T>(parent, name, false);
}

/// A numeric attribute of one value (scalar or one-element dataspace only).
template <class T>
T read_attr(hid_t obj, const std::string& name) {
  return read_numbers<T>(obj, name, true, 1)[0];
}

/// A numeric attribute array (e.g. `version`, `range`).
template <class T>
std::vector<T> read_attr_array(hid_t obj, const std::string& name) {
  return read_numbers<T>(obj, name, true);
}

inline std::vector<std::string> read_string_array(hid_t obj, const std::string& name,
                                                  bool attribute) {
  return read_texts(obj, name, attribute);
}

inline std::string read_string_attr(hid_t obj, const std::string& name) {
  return read_texts(obj, name, true, 1)[0];
}

/// The group `name` under `parent`; an OutputError naming `what` when it is not there.
inline Handle open_group(hid_t parent, const std::string& name, const std::string& what) {
  if (H5Lexists(parent, name.c_str(), H5P_DEFAULT) <= 0) throw OutputError(what);
  return Handle(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose, "open group " + name);
}

inline bool has(hid_t parent, const std::string& name) {
  return H5Lexists(parent, name.c_str(), H5P_DEFAULT) > 0;
}

/// A variable of exactly `n` values (a truncated or foreign file fails here, not later);
/// `path` is kept for the callers' sake, the message names the file itself.
template <class T>
std::vector<T> read_sized(hid_t g, const std::string& name, std::size_t n,
                          const std::string& /*path*/) {
  return read_numbers<T>(g, name, false, n);
}

inline std::vector<std::string> read_strings(hid_t g, const std::string& name, std::size_t n,
                                             const std::string& /*path*/) {
  return read_texts(g, name, false, n);
}

template <class T>
T read_scalar(hid_t g, const std::string& name, const std::string& /*path*/) {
  return read_numbers<T>(g, name, false, 1)[0];
}

}  // namespace attain::h5
