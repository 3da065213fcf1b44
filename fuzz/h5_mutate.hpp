// Structure-aware mutation of an HDF5 file (the results-file fuzzer, fuzz_results.cpp):
// the fuzz input is read as a small program of edits made through the HDF5 C API, so the
// file stays well-formed HDF5 and whatever breaks is attain's reader, not libhdf5.
//
// The edits pick their object among every group, dataset and attribute of the file (in
// H5Ovisit order, attributes by name), and:
//   - replace an attribute with one of another class, rank or shape (scalar <-> array,
//     integer <-> float <-> string), values taken from the input or from special values;
//   - replace a dataset with another class, rank or shape: the old values reshaped (one
//     column more or less, a row less, ...), or declared huge dimensions (chunked, no data
//     written), keeping its attributes;
//   - set values to NaN, infinities, negatives, huge numbers, or cut or fill strings;
//   - delete, rename, or swap two objects; replace one by a soft link (dangling, a loop,
//     or to another object);
//   - with `outside` set: replace one by an external link, a dataset with external
//     storage or a virtual dataset, all naming the file `outside`: the reader must refuse
//     them without reading it (the fuzzer watches that file's access time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace attain::fuzz {

/// @brief Applies the edits that `data` encodes to the HDF5 file `path` (opened read-write,
/// closed on return). Edits that HDF5 refuses are skipped. At most `max_edits` are made.
/// Returns a short description of the edits made, one per line, for reproducers.
std::string mutate_h5(const std::string& path, const std::uint8_t* data, std::size_t size,
                      const std::string& outside, int max_edits = 8);

}  // namespace attain::fuzz
