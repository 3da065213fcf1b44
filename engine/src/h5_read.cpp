// The validated reading layer (h5_read.hpp): opening a file nobody vouches for, the walk
// that refuses links and storage out of the file, and the checks before every read.
#include "h5_read.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "attain/diagnostics.hpp"

namespace attain::h5 {
namespace {

/// Deflate's largest ratio (about 1032:1): a compressed dataset cannot hold more.
constexpr std::uint64_t kDeflateRatio = 1032;

/// Names from a file reach a terminal and a one-line message: escaped (attain::printable,
/// diagnostics.hpp), an object's name cut at 200 bytes, a file's path left to the error
/// printer's cut.
std::string shown_name(const std::string& s) {
  return printable(s, 200);
}

std::string file_name(hid_t obj) {
  const ssize_t n = H5Fget_name(obj, nullptr, 0);
  if (n <= 0) return "?";
  std::string name(static_cast<std::size_t>(n), '\0');
  H5Fget_name(obj, name.data(), static_cast<std::size_t>(n) + 1);
  return name;
}

std::string object_path(hid_t obj, const std::string& name) {
  const ssize_t n = H5Iget_name(obj, nullptr, 0);
  std::string base;
  if (n > 0) {
    base.assign(static_cast<std::size_t>(n), '\0');
    H5Iget_name(obj, base.data(), static_cast<std::size_t>(n) + 1);
  }
  if (name.empty()) return base.empty() ? "/" : base;
  return (base.empty() || base == "/" ? "/" : base + "/") + name;
}

/// The most bytes one read may allocate: bounded by physical memory (half of it).
std::uint64_t memory_bound() {
  const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || size <= 0) return std::uint64_t{1} << 32;
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(size) / 2;
}

/// The filters a results file or checkpoint may use (attain writes shuffle and deflate).
bool known_filter(H5Z_filter_t f) {
  return f == H5Z_FILTER_DEFLATE || f == H5Z_FILTER_SHUFFLE || f == H5Z_FILTER_FLETCHER32;
}

struct Walk {
  std::string error;
};

/// Why dataset `name` under `g` may not be read, or "".
std::string dataset_problem(hid_t g, const char* name) {
  Handle d(H5Dopen2(g, name, H5P_DEFAULT), H5Dclose, std::string("open dataset ") + name);
  Handle dcpl(H5Dget_create_plist(d), H5Pclose, "get dataset properties");
  if (H5Pget_external_count(dcpl) != 0)
    return "has external storage (its data in another file); a results file keeps its data "
           "inside itself";
  const H5D_layout_t layout = H5Pget_layout(dcpl);
  if (layout == H5D_VIRTUAL)
    return "is a virtual dataset (its data in other files); a results file keeps its data "
           "inside itself";
  if (layout != H5D_CONTIGUOUS && layout != H5D_CHUNKED && layout != H5D_COMPACT)
    return "has an unknown storage layout";
  const int filters = H5Pget_nfilters(dcpl);
  for (int i = 0; i < filters; ++i) {
    unsigned flags = 0;
    std::size_t nvalues = 0;
    unsigned config = 0;
    const H5Z_filter_t f = H5Pget_filter2(dcpl, static_cast<unsigned>(i), &flags, &nvalues, nullptr,
                                          0, nullptr, &config);
    if (!known_filter(f))
      return fmt::format("uses filter {}; only shuffle, deflate and Fletcher-32 are read", f);
  }
  return "";
}

herr_t visit_link(hid_t g, const char* name, const H5L_info_t* info, void* data) {
  auto* walk = static_cast<Walk*>(data);
  auto fail = [&](const std::string& problem) {
    walk->error = fmt::format("'{}': '/{}' {}", printable(file_name(g)), shown_name(name), problem);
    return -1;
  };
  if (info->type == H5L_TYPE_SOFT) return fail("is a soft link; attain writes only hard links");
  if (info->type == H5L_TYPE_EXTERNAL)
    return fail("is an external link (to another file); a results file links only inside itself");
  if (info->type != H5L_TYPE_HARD)
    return fail("is a user-defined link; attain writes only hard links");
  H5O_info_t o;
  if (H5Oget_info_by_name2(g, name, &o, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
    return fail("cannot be read (a damaged object header)");
  if (o.type == H5O_TYPE_DATASET) {
    try {
      if (std::string p = dataset_problem(g, name); !p.empty()) return fail(p);
    } catch (const OutputError&) {
      return fail("cannot be opened (a damaged dataset)");
    }
  } else if (o.type != H5O_TYPE_GROUP && o.type != H5O_TYPE_NAMED_DATATYPE) {
    return fail("is an object of an unknown kind");
  }
  return 0;
}

}  // namespace

std::string where(hid_t obj, const std::string& name) {
  return fmt::format("'{}': '{}'", printable(file_name(obj)), shown_name(object_path(obj, name)));
}

OutputError refusal(hid_t obj, const std::string& name, const std::string& problem) {
  return OutputError(where(obj, name) + " " + problem);
}

Handle open_input(const std::string& path, const std::string& what, bool nofollow) {
  quiet_hdf5();
  // HDF5 follows an external link only while its class is registered: without it, no
  // read can reach another file even past the walk below (attain writes none; the class
  // stays unregistered for the process, which then reads only files attain could write).
  static const bool no_external_links = H5Lunregister(H5L_TYPE_EXTERNAL) >= 0;
  if (!no_external_links) throw OutputError("HDF5: cannot turn off external links");
  const std::string shown = printable(path);
  const int fd =
      ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) throw OutputError(fmt::format("'{}' does not exist", shown));
    if (err == ELOOP)
      throw OutputError(fmt::format(
          "'{}' is a symbolic link; attain reads its own {} only as a regular file", shown, what));
    throw OutputError(fmt::format("cannot open '{}': {}", shown, std::strerror(err)));
  }
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  ::close(fd);
  if (!regular)
    throw OutputError(fmt::format("'{}' is not a regular file, so not an attain {}", shown, what));
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw OutputError(fmt::format("'{}' is not an HDF5 file, so not an attain {}", shown, what));
  Handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
           "open '" + shown + "' (is it an attain " + what + "?)");
  Walk walk;
  if (H5Lvisit(f, H5_INDEX_NAME, H5_ITER_INC, visit_link, &walk) < 0)
    throw OutputError(walk.error.empty()
                          ? fmt::format("'{}': cannot walk its groups (a damaged file)", shown)
                          : walk.error);
  return f;
}

Handle open_object(hid_t obj, const std::string& name, bool attribute) {
  if (attribute) {
    if (H5Aexists(obj, name.c_str()) <= 0) throw refusal(obj, name, "is missing (an attribute)");
    return Handle(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
  }
  if (H5Lexists(obj, name.c_str(), H5P_DEFAULT) <= 0)
    throw refusal(obj, name, "is missing (a dataset)");
  H5O_info_t o;
  if (H5Oget_info_by_name2(obj, name.c_str(), &o, H5O_INFO_BASIC, H5P_DEFAULT) < 0 ||
      o.type != H5O_TYPE_DATASET)
    throw refusal(obj, name, "is not a dataset");
  return Handle(H5Dopen2(obj, name.c_str(), H5P_DEFAULT), H5Dclose, "open dataset " + name);
}

ObjectShape shape_of(hid_t h, bool attribute) {
  ObjectShape s;
  Handle type(attribute ? H5Aget_type(h) : H5Dget_type(h), H5Tclose, "get type");
  s.type_class = H5Tget_class(type);
  s.type_size = H5Tget_size(type);
  s.type_signed = s.type_class == H5T_INTEGER && H5Tget_sign(type) == H5T_SGN_2;
  s.variable_string = s.type_class == H5T_STRING && H5Tis_variable_str(type) > 0;
  Handle space(attribute ? H5Aget_space(h) : H5Dget_space(h), H5Sclose, "get dataspace");
  const H5S_class_t sc = H5Sget_simple_extent_type(space);
  if (sc == H5S_SIMPLE) {
    const int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0 || rank > H5S_MAX_RANK) throw OutputError("HDF5: a dataspace of no rank");
    s.dims.resize(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space, s.dims.data(), nullptr);
  }
  // The number of values, without overflow: any product above 2^62 is as refused.
  s.points = sc == H5S_NULL ? 0 : 1;
  for (hsize_t d : s.dims)
    s.points = d != 0 && s.points > (hsize_t{1} << 62) / d ? (hsize_t{1} << 62) : s.points * d;
  std::uint64_t ratio = 1;
  if (!attribute) {
    Handle dcpl(H5Dget_create_plist(h), H5Pclose, "get dataset properties");
    if (H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_nfilters(dcpl) > 0) ratio = kDeflateRatio;
  }
  const auto size = [&] {
    Handle file(H5Iget_file_id(h), H5Fclose, "get the file");
    hsize_t bytes = 0;
    return H5Fget_filesize(file, &bytes) < 0 ? std::uint64_t{0} : static_cast<std::uint64_t>(bytes);
  }();
  s.budget = std::min(size * ratio, memory_bound());
  return s;
}

void check_size(hid_t obj, const std::string& name, const ObjectShape& s,
                std::optional<hsize_t> expect, std::size_t bytes_each) {
  if (expect && s.points != *expect)
    throw refusal(obj, name,
                  fmt::format("has {} value{} where {} {} expected", s.points,
                              s.points == 1 ? "" : "s", *expect, *expect == 1 ? "was" : "were"));
  const std::uint64_t bytes = std::max<std::uint64_t>(bytes_each, s.type_size);
  if (s.points > s.budget / bytes)
    throw refusal(obj, name,
                  fmt::format("declares {} values, more than its file can hold ({} bytes "
                              "allowed to this read)",
                              s.points, s.budget));
}

void read_raw(hid_t h, bool attribute, hid_t type, void* out, const std::string& name) {
  if (attribute)
    check(H5Aread(h, type, out), "read attribute " + name);
  else
    check(H5Dread(h, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out), "read " + name);
}

std::vector<std::string> read_texts(hid_t obj, const std::string& name, bool attribute,
                                    std::optional<hsize_t> expect) {
  Handle h = open_object(obj, name, attribute);
  const ObjectShape s = shape_of(h, attribute);
  if (s.type_class != H5T_STRING || !s.variable_string)
    throw refusal(obj, name, "is not text; variable-length UTF-8 strings were expected");
  // Each string takes at least 16 bytes of the file (its heap reference).
  check_size(obj, name, s, expect, 16);
  Handle type = utf8_type();
  std::vector<char*> ptrs(static_cast<std::size_t>(s.points), nullptr);
  if (!ptrs.empty()) read_raw(h, attribute, type, ptrs.data(), name);
  std::vector<std::string> out;
  out.reserve(ptrs.size());
  for (char* p : ptrs) {
    out.emplace_back(p ? p : "");
    H5free_memory(p);
  }
  return out;
}

std::vector<hsize_t> dims_of(hid_t obj, const std::string& name, int rank) {
  Handle h = open_object(obj, name, false);
  const ObjectShape s = shape_of(h, false);
  if (s.dims.size() != static_cast<std::size_t>(rank))
    throw refusal(obj, name,
                  fmt::format("has {} dimension{} where {} {} expected", s.dims.size(),
                              s.dims.size() == 1 ? "" : "s", rank, rank == 1 ? "was" : "were"));
  return s.dims;
}

std::vector<std::uint64_t> read_counts(hid_t g, const std::string& name, std::size_t n,
                                       std::uint64_t most) {
  auto v = read_numbers<std::uint64_t>(g, name, false, n);
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i] > most)
      throw refusal(g, name,
                    fmt::format("holds {} at [{}]; a count of at most {} (the runs) was expected",
                                v[i], i, most));
  return v;
}

std::vector<double> read_probabilities(hid_t g, const std::string& name, std::size_t n,
                                       bool nan_ok) {
  auto v = read_numbers<double>(g, name, false, n);
  for (std::size_t i = 0; i < v.size(); ++i)
    if (std::isnan(v[i]) ? !nan_ok : !(v[i] >= 0 && v[i] <= 1))
      throw refusal(
          g, name,
          fmt::format("holds {} at [{}]; a probability from 0 to 1 was expected", v[i], i));
  return v;
}

void check_interval(hid_t g, const std::string& name, std::size_t i, double lo, double p,
                    double hi) {
  if (std::isnan(lo) || std::isnan(p) || std::isnan(hi)) return;
  if (!(lo <= p && p <= hi))
    throw refusal(g, name,
                  fmt::format("has the interval [{}, {}] around {} at [{}]; low <= p <= high "
                              "was expected",
                              lo, hi, p, i));
}

}  // namespace attain::h5
