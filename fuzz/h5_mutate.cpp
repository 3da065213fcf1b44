// Structure-aware HDF5 mutations (see h5_mutate.hpp).
#include "h5_mutate.hpp"

#include <fmt/format.h>
#include <fuzzer/FuzzedDataProvider.h>
#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <utility>
#include <vector>

namespace attain::fuzz {
namespace {

/// Closes an HDF5 identifier with its own close function.
class Hid {
 public:
  Hid(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Hid() {
    if (id_ >= 0) close_(id_);
  }
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  operator hid_t() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

/// Largest number of elements an edit reads or writes (declared sizes may be larger).
constexpr hsize_t kMaxElements = hsize_t{1} << 18;

struct Obj {
  std::string path;  ///< the object (group or dataset)
  std::string attr;  ///< "" for the object itself
  bool dataset = false;
};

struct Lister {
  std::vector<Obj>* out;
  std::string path;
};

herr_t list_attr(hid_t, const char* name, const H5A_info_t*, void* data) {
  auto* l = static_cast<Lister*>(data);
  l->out->push_back({l->path, name, false});
  return 0;
}

herr_t list_obj(hid_t root, const char* name, const H5O_info_t* info, void* data) {
  auto* out = static_cast<std::vector<Obj>*>(data);
  const std::string path = std::strcmp(name, ".") == 0 ? "/" : std::string("/") + name;
  if (path != "/") out->push_back({path, "", info->type == H5O_TYPE_DATASET});
  Lister l{out, path};
  H5Aiterate_by_name(root, path.c_str(), H5_INDEX_NAME, H5_ITER_INC, nullptr, list_attr, &l,
                     H5P_DEFAULT);
  return 0;
}

std::vector<Obj> list_objects(hid_t file) {
  std::vector<Obj> out;
  H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_INC, list_obj, &out, H5O_INFO_BASIC);
  return out;
}

std::string parent_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

double special_real(FuzzedDataProvider& in) {
  static constexpr double kReals[] = {0,
                                      1,
                                      -1,
                                      0.5,
                                      2,
                                      1e300,
                                      -1e300,
                                      4096,
                                      4097,
                                      1e9,
                                      9007199254740993.0,
                                      1.8446744073709552e19,
                                      std::numeric_limits<double>::quiet_NaN(),
                                      std::numeric_limits<double>::infinity(),
                                      -std::numeric_limits<double>::infinity(),
                                      std::numeric_limits<double>::denorm_min(),
                                      -0.0};
  if (in.ConsumeBool()) return in.PickValueInArray(kReals);
  return in.ConsumeFloatingPoint<double>();
}

std::uint64_t special_int(FuzzedDataProvider& in) {
  static constexpr std::uint64_t kInts[] = {0,
                                            1,
                                            2,
                                            3,
                                            64,
                                            4096,
                                            4097,
                                            std::uint64_t{1} << 31,
                                            std::uint64_t{1} << 32,
                                            std::uint64_t{1} << 48,
                                            std::uint64_t{1} << 63,
                                            ~std::uint64_t{0},
                                            ~std::uint64_t{0} - 1,
                                            0x7fffffff};
  if (in.ConsumeBool()) return in.PickValueInArray(kInts);
  return in.ConsumeIntegral<std::uint64_t>();
}

std::string special_string(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 5)) {
    case 0:
      return "";
    case 1:
      return std::string(in.ConsumeIntegralInRange<std::size_t>(1, 70000), 'x');
    case 2:
      return "a\nattain: error: forged\r\x1b[2J";
    case 3:
      return "\xed\xa0\x80\xff\xfe";  // a lone surrogate, invalid UTF-8
    case 4:
      return "nodes: [\n  - {name: x, formula: '1/0'}\n";
    default:
      return in.ConsumeRandomLengthString(256);
  }
}

/// A file type for a new object: integer, float or string of some size.
hid_t new_type(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 7)) {
    case 0:
      return H5Tcopy(H5T_STD_U64LE);
    case 1:
      return H5Tcopy(H5T_STD_I64LE);
    case 2:
      return H5Tcopy(H5T_STD_I32LE);
    case 3:
      return H5Tcopy(H5T_STD_U8LE);
    case 4:
      return H5Tcopy(H5T_IEEE_F32LE);
    case 5: {
      hid_t t = H5Tcopy(H5T_C_S1);
      H5Tset_size(t, in.ConsumeIntegralInRange<std::size_t>(1, 80));
      return t;
    }
    case 6: {
      hid_t t = H5Tcopy(H5T_C_S1);
      H5Tset_size(t, H5T_VARIABLE);
      return t;
    }
    default:
      return H5Tcopy(H5T_IEEE_F64LE);
  }
}

/// Dimensions of a new object: a rank from 0 to 3, each size small or from `old`.
std::vector<hsize_t> new_dims(FuzzedDataProvider& in, const std::vector<hsize_t>& old) {
  const int rank =
      in.ConsumeBool() ? static_cast<int>(old.size()) : in.ConsumeIntegralInRange(0, 3);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  for (int d = 0; d < rank; ++d) {
    const hsize_t was = d < static_cast<int>(old.size()) ? old[static_cast<std::size_t>(d)] : 1;
    switch (in.ConsumeIntegralInRange(0, 7)) {
      case 0:
        dims[d] = was + 1;
        break;
      case 1:
        dims[d] = was > 0 ? was - 1 : 0;
        break;
      case 2:
        dims[d] = 0;
        break;
      case 3:
        dims[d] = 1;
        break;
      case 4:
        dims[d] = 64;
        break;
      case 5:
        dims[d] = in.ConsumeIntegralInRange<hsize_t>(0, 4096);
        break;
      default:
        dims[d] = was;
    }
  }
  return dims;
}

hsize_t elements(const std::vector<hsize_t>& dims) {
  hsize_t n = 1;
  for (hsize_t d : dims) n = d != 0 && n > kMaxElements * 16 / d ? kMaxElements * 16 : n * d;
  return n;
}

std::vector<hsize_t> dims_of(hid_t space) {
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return dims;
}

hid_t make_space(const std::vector<hsize_t>& dims) {
  if (dims.empty()) return H5Screate(H5S_SCALAR);
  return H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
}

/// A buffer of `n` elements of memory type `mem` (a native or string type) and the strings
/// its variable-length elements point into.
struct Buffer {
  std::vector<unsigned char> bytes;
  std::deque<std::string> strings;  ///< a deque: pointers into it stay valid
};

/// Sets element i of `b` (type `mem`, of `size` bytes) to a value made from the input.
void set_element(FuzzedDataProvider& in, hid_t mem, Buffer& b, std::size_t i) {
  const std::size_t size = H5Tget_size(mem);
  unsigned char* at = b.bytes.data() + i * size;
  switch (H5Tget_class(mem)) {
    case H5T_INTEGER: {
      const std::uint64_t v = special_int(in);
      std::memcpy(at, &v, std::min(size, sizeof v));
      break;
    }
    case H5T_FLOAT: {
      const double v = special_real(in);
      if (size == sizeof(double)) std::memcpy(at, &v, size);
      if (size == sizeof(float)) {
        const auto f = static_cast<float>(v);
        std::memcpy(at, &f, size);
      }
      break;
    }
    case H5T_STRING: {
      const std::string s = special_string(in);
      if (H5Tis_variable_str(mem) > 0) {
        b.strings.push_back(s);
        const char* p = b.strings.back().c_str();
        std::memcpy(at, &p, sizeof p);
      } else {
        std::memset(at, 0, size);
        std::memcpy(at, s.data(), std::min(size, s.size()));
      }
      break;
    }
    default:
      break;
  }
}

/// Values for a new object of `n` elements: one value everywhere, then a few others.
Buffer new_values(FuzzedDataProvider& in, hid_t mem, hsize_t n) {
  Buffer b;
  const std::size_t size = H5Tget_size(mem);
  b.bytes.assign(static_cast<std::size_t>(n) * size, 0);
  if (n == 0) return b;
  set_element(in, mem, b, 0);
  const bool vlen = H5Tis_variable_str(mem) > 0;
  for (hsize_t i = 1; i < n; ++i) std::memcpy(&b.bytes[i * size], &b.bytes[0], size);
  const int others = in.ConsumeIntegralInRange(0, vlen ? 14 : 4);
  for (int k = 0; k < others; ++k)
    set_element(in, mem, b, in.ConsumeIntegralInRange<std::size_t>(0, n - 1));
  return b;
}

/// Reads the attributes of `from` and writes copies to `to` (an attribute on each).
herr_t copy_attr(hid_t from, const char* name, const H5A_info_t*, void* data) {
  const hid_t to = *static_cast<hid_t*>(data);
  Hid a(H5Aopen(from, name, H5P_DEFAULT), H5Aclose);
  if (!a.ok()) return 0;
  Hid type(H5Aget_type(a), H5Tclose), space(H5Aget_space(a), H5Sclose);
  Hid mem(H5Tget_native_type(type, H5T_DIR_ASCEND), H5Tclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (!mem.ok() || n < 0 || static_cast<hsize_t>(n) > kMaxElements) return 0;
  std::vector<unsigned char> buf(static_cast<std::size_t>(n) * H5Tget_size(mem) + 1);
  if (H5Aread(a, mem, buf.data()) < 0) return 0;
  Hid b(H5Acreate2(to, name, type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (b.ok()) H5Awrite(b, mem, buf.data());
  if (H5Tdetect_class(mem, H5T_VLEN) > 0 || H5Tis_variable_str(mem) > 0)
    H5Dvlen_reclaim(mem, space, H5P_DEFAULT, buf.data());
  return 0;
}

/// An attribute, a dataset or a group (in equal shares, so that the few attributes and
/// groups are edited as often as the many datasets), then one of them.
const Obj& pick_object(FuzzedDataProvider& in, const std::vector<Obj>& objs) {
  const int kind = in.ConsumeIntegralInRange(0, 2);
  std::vector<std::size_t> of_kind;
  for (std::size_t i = 0; i < objs.size(); ++i)
    if ((kind == 0 && !objs[i].attr.empty()) ||
        (objs[i].attr.empty() && objs[i].dataset == (kind == 1)))
      of_kind.push_back(i);
  if (of_kind.empty()) return objs[in.ConsumeIntegralInRange<std::size_t>(0, objs.size() - 1)];
  return objs[of_kind[in.ConsumeIntegralInRange<std::size_t>(0, of_kind.size() - 1)]];
}

}  // namespace

namespace {

/// One run of edits on an open file.
class Mutator {
 public:
  Mutator(hid_t file, FuzzedDataProvider& in, const std::string& outside)
      : file_(file), in_(in), outside_(outside) {}
  /// Makes one edit; false when the input is used up.
  bool edit();
  std::string log;

 private:
  void replace_attr(const Obj& o);
  void set_values(const Obj& o);
  void replace_dataset(const Obj& o, int how);
  void relink(const Obj& o, int how);
  void note(const std::string& what, const Obj& o) {
    log += fmt::format("{} {}{}{}\n", what, o.path, o.attr.empty() ? "" : " @", o.attr);
  }
  hid_t file_;
  FuzzedDataProvider& in_;
  const std::string& outside_;
};

bool Mutator::edit() {
  if (in_.remaining_bytes() < 2) return false;
  const std::vector<Obj> objs = list_objects(file_);
  if (objs.empty()) return false;
  const Obj& o = pick_object(in_, objs);
  const int op = in_.ConsumeIntegralInRange(0, 9);
  if (!o.attr.empty()) {
    if (op < 4)
      replace_attr(o);
    else if (op < 8)
      set_values(o);
    else if (op == 8) {
      note("delete", o);
      H5Adelete_by_name(file_, o.path.c_str(), o.attr.c_str(), H5P_DEFAULT);
    } else {
      const Obj& other = objs[in_.ConsumeIntegralInRange<std::size_t>(0, objs.size() - 1)];
      const std::string to = other.attr.empty() ? o.attr + "_" : other.attr;
      note("rename to " + to, o);
      H5Arename_by_name(file_, o.path.c_str(), o.attr.c_str(), to.c_str(), H5P_DEFAULT);
    }
  } else if (o.dataset && op < 3) {
    set_values(o);
  } else if (o.dataset && op < 7) {
    // Without `outside`, external storage and virtual become a reshape and a retype, so
    // that an input means the same edits either way (ATTAIN_FUZZ_NO_OUTSIDE).
    const int how = in_.ConsumeIntegralInRange(0, 4);
    replace_dataset(o, outside_.empty() && how >= 3 ? how - 3 : how);
  } else {
    const int how = in_.ConsumeIntegralInRange(0, 4);  // without `outside`, a soft link
    relink(o, outside_.empty() && how == 4 ? 3 : how);
  }
  return true;
}

void Mutator::replace_attr(const Obj& o) {
  std::vector<hsize_t> old;
  {
    Hid a(H5Aopen_by_name(file_, o.path.c_str(), o.attr.c_str(), H5P_DEFAULT, H5P_DEFAULT),
          H5Aclose);
    if (!a.ok()) return;
    Hid space(H5Aget_space(a), H5Sclose);
    old = dims_of(space);
  }
  std::vector<hsize_t> dims = new_dims(in_, old);
  if (in_.ConsumeBool())
    dims = old.empty() ? std::vector<hsize_t>{in_.PickValueInArray<hsize_t>({1, 3, 64})}
                       : std::vector<hsize_t>{};  // scalar <-> array
  if (elements(dims) > 4096) return;
  Hid type(new_type(in_), H5Tclose);
  Hid mem(H5Tget_native_type(type, H5T_DIR_ASCEND), H5Tclose);
  Hid space(make_space(dims), H5Sclose);
  Buffer b = new_values(in_, mem, elements(dims));
  H5Adelete_by_name(file_, o.path.c_str(), o.attr.c_str(), H5P_DEFAULT);
  Hid a(H5Acreate_by_name(file_, o.path.c_str(), o.attr.c_str(), type, space, H5P_DEFAULT,
                          H5P_DEFAULT, H5P_DEFAULT),
        H5Aclose);
  if (a.ok()) H5Awrite(a, mem, b.bytes.data());
  note(fmt::format("attribute as class {} rank {} elements {}",
                   static_cast<int>(H5Tget_class(type)), dims.size(), elements(dims)),
       o);
}

void Mutator::set_values(const Obj& o) {
  const bool attr = !o.attr.empty();
  Hid obj(attr ? H5Aopen_by_name(file_, o.path.c_str(), o.attr.c_str(), H5P_DEFAULT, H5P_DEFAULT)
               : H5Dopen2(file_, o.path.c_str(), H5P_DEFAULT),
          attr ? H5Aclose : H5Dclose);
  if (!obj.ok()) return;
  Hid type(attr ? H5Aget_type(obj) : H5Dget_type(obj), H5Tclose);
  Hid space(attr ? H5Aget_space(obj) : H5Dget_space(obj), H5Sclose);
  Hid mem(H5Tget_native_type(type, H5T_DIR_ASCEND), H5Tclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  const H5T_class_t c = H5Tget_class(mem);
  if (!mem.ok() || n <= 0 || static_cast<hsize_t>(n) > kMaxElements ||
      (c != H5T_INTEGER && c != H5T_FLOAT && c != H5T_STRING))
    return;
  const bool vlen = H5Tis_variable_str(mem) > 0;
  const std::size_t size = H5Tget_size(mem);
  Buffer b;
  b.bytes.assign(static_cast<std::size_t>(n) * size, 0);
  if ((attr ? H5Aread(obj, mem, b.bytes.data())
            : H5Dread(obj, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, b.bytes.data())) < 0)
    return;
  const std::vector<unsigned char> read = b.bytes;  // the pointers HDF5 allocated
  // All elements to one value, or a few of them to values of their own.
  const bool all = in_.ConsumeBool();
  const int count = all ? 1 : in_.ConsumeIntegralInRange(1, vlen ? 14 : 4);
  for (int k = 0; k < count; ++k)
    set_element(
        in_, mem, b,
        all ? 0 : in_.ConsumeIntegralInRange<std::size_t>(0, static_cast<std::size_t>(n) - 1));
  if (all)
    for (hssize_t i = 1; i < n; ++i) std::memcpy(&b.bytes[i * size], &b.bytes[0], size);
  if (attr)
    H5Awrite(obj, mem, b.bytes.data());
  else
    H5Dwrite(obj, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, b.bytes.data());
  if (vlen) H5Dvlen_reclaim(mem, space, H5P_DEFAULT, const_cast<unsigned char*>(read.data()));
  note(fmt::format("set {} of {} values", all ? n : count, n), o);
}

/// The new dataset's creation properties and what it says about it: chunked with huge
/// declared dimensions, external storage in `outside`, or virtual from `outside`.
hid_t layout(FuzzedDataProvider& in, int how, hid_t type, std::vector<hsize_t>& dims,
             const std::string& path, const std::string& outside) {
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (how == 2) {
    if (dims.empty()) dims.push_back(1);
    for (auto& d : dims)
      if (in.ConsumeBool())
        d = in.PickValueInArray({hsize_t{1} << 31, hsize_t{1} << 32, hsize_t{1} << 40,
                                 hsize_t{1} << 48, hsize_t{1} << 60});
    std::vector<hsize_t> chunk(dims.size(), 1);
    H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
  } else if (how == 3) {
    H5Pset_external(dcpl, outside.c_str(), 0, H5F_UNLIMITED);
  } else if (how == 4) {
    Hid space(make_space(dims), H5Sclose);
    H5Pset_virtual(dcpl, space, outside.c_str(), path.c_str(), space);
  }
  (void)type;
  return dcpl;
}

void Mutator::replace_dataset(const Obj& o, int how) {
  const std::string old_path =
      parent_of(o.path) + (parent_of(o.path) == "/" ? "" : "/") + ".fuzz-old";
  if (H5Lmove(file_, o.path.c_str(), file_, old_path.c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0) return;
  Hid old(H5Dopen2(file_, old_path.c_str(), H5P_DEFAULT), H5Dclose);
  Hid old_type(H5Dget_type(old), H5Tclose), old_space(H5Dget_space(old), H5Sclose);
  const std::vector<hsize_t> old_dims = dims_of(old_space);
  std::vector<hsize_t> dims = how == 2 ? old_dims : new_dims(in_, old_dims);
  Hid type(how == 1 ? new_type(in_) : H5Tcopy(old_type), H5Tclose);
  Hid mem(H5Tget_native_type(type, H5T_DIR_ASCEND), H5Tclose);
  Hid dcpl(layout(in_, how, type, dims, o.path, outside_), H5Pclose);
  Hid space(how == 2 ? H5Screate_simple(static_cast<int>(dims.size()), dims.data(),
                                        std::vector<hsize_t>(dims.size(), H5S_UNLIMITED).data())
                     : make_space(dims),
            H5Sclose);
  Hid d(H5Dcreate2(file_, o.path.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose);
  if (!d.ok()) {
    H5Lmove(file_, old_path.c_str(), file_, o.path.c_str(), H5P_DEFAULT, H5P_DEFAULT);
    return;
  }
  const hsize_t n = elements(dims), old_n = elements(old_dims);
  if (how == 0 && n <= kMaxElements && old_n <= kMaxElements && n > 0) {
    // The old values, in flat order, repeated or cut to the new size.
    const std::size_t size = H5Tget_size(mem);
    std::vector<unsigned char> was(std::max<std::size_t>(old_n * size, 1)), now(n * size, 0);
    if (old_n > 0 && H5Dread(old, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, was.data()) >= 0) {
      for (hsize_t i = 0; i < n; ++i) std::memcpy(&now[i * size], &was[(i % old_n) * size], size);
      H5Dwrite(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, now.data());
      if (H5Tis_variable_str(mem) > 0) H5Dvlen_reclaim(mem, old_space, H5P_DEFAULT, was.data());
    }
  } else if (how == 1 && n <= kMaxElements) {
    Buffer b = new_values(in_, mem, n);
    H5Dwrite(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, b.bytes.data());
  }
  hid_t to = d;
  H5Aiterate2(old, H5_INDEX_NAME, H5_ITER_INC, nullptr, copy_attr, &to);
  H5Ldelete(file_, old_path.c_str(), H5P_DEFAULT);
  static constexpr const char* kHow[] = {"reshaped", "retyped", "huge", "external storage",
                                         "virtual"};
  note(fmt::format("dataset {} rank {} elements {}", kHow[how], dims.size(), n), o);
}

void Mutator::relink(const Obj& o, int how) {
  const std::vector<Obj> objs = list_objects(file_);
  const Obj& other = objs[in_.ConsumeIntegralInRange<std::size_t>(0, objs.size() - 1)];
  if (how == 0) {
    note("delete", o);
    H5Ldelete(file_, o.path.c_str(), H5P_DEFAULT);
  } else if (how == 1 && other.attr.empty() && other.path != o.path) {
    // Swap two objects' names (the other's parent must not be this object).
    note("swap with " + other.path, o);
    const std::string tmp = "/.fuzz-swap";
    H5Lmove(file_, o.path.c_str(), file_, tmp.c_str(), H5P_DEFAULT, H5P_DEFAULT);
    H5Lmove(file_, other.path.c_str(), file_, o.path.c_str(), H5P_DEFAULT, H5P_DEFAULT);
    H5Lmove(file_, tmp.c_str(), file_, other.path.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  } else if (how == 2) {
    const std::string to = o.path + (in_.ConsumeBool() ? "_" : "x");
    note("rename to " + to, o);
    H5Lmove(file_, o.path.c_str(), file_, to.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  } else if (how == 3) {
    const int target = in_.ConsumeIntegralInRange(0, 2);
    const std::string to = target == 0 ? o.path : target == 1 ? "/nowhere" : other.path;
    note("soft link to " + to, o);
    H5Ldelete(file_, o.path.c_str(), H5P_DEFAULT);
    H5Lcreate_soft(to.c_str(), file_, o.path.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  } else if (how == 4) {
    note("external link to " + outside_, o);
    H5Ldelete(file_, o.path.c_str(), H5P_DEFAULT);
    H5Lcreate_external(outside_.c_str(), o.path.c_str(), file_, o.path.c_str(), H5P_DEFAULT,
                       H5P_DEFAULT);
  }
}

}  // namespace

std::string mutate_h5(const std::string& path, const std::uint8_t* data, std::size_t size,
                      const std::string& outside, int max_edits) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  FuzzedDataProvider in(data, size);
  std::string log;
  {
    Hid file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    if (!file.ok()) return "the seed does not open\n";
    Mutator m(file, in, outside);
    for (int k = 0; k < max_edits && m.edit(); ++k) {
    }
    log = m.log;
  }
  return log;
}

}  // namespace attain::fuzz
