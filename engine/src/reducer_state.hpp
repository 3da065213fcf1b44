// Helpers for reducers' merge, save and load (internal to the engine).
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "attain/study.hpp"

namespace attain {

template <class R>
inline const R& same_kind(const Reducer& later) {
  const auto* r = dynamic_cast<const R*>(&later);
  if (!r) throw std::logic_error("merge of reducers of different kinds");
  return *r;
}

inline void add_counts(std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
  if (a.size() != b.size()) throw std::logic_error("merge of reducers of different shapes");
  for (std::size_t i = 0; i < a.size(); ++i) a[i] += b[i];
}

inline const std::vector<std::uint64_t>& counts_of(const ReducerState& s, const std::string& name,
                                                   std::size_t size) {
  auto it = s.counts.find(name);
  if (it == s.counts.end() || it->second.size() != size)
    throw std::invalid_argument(
        fmt::format("reducer state: '{}' is missing or has the wrong size", name));
  return it->second;
}

inline const std::vector<double>& reals_of(const ReducerState& s, const std::string& name,
                                           std::size_t size) {
  auto it = s.reals.find(name);
  if (it == s.reals.end() || it->second.size() != size)
    throw std::invalid_argument(
        fmt::format("reducer state: '{}' is missing or has the wrong size", name));
  return it->second;
}

}  // namespace attain
