// Helpers shared by the results' documents (results_json.cpp and
// results_json_sensitivity.cpp; private to engine/src).
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "attain/results_json.hpp"

namespace attain::export_detail {

using nlohmann::json;

/// The name of the joint row (every target together) in the CSV tables.
inline constexpr std::string_view kJointName = "all targets";

/// A number, or null when it is not finite (JSON has no NaN).
inline json number(double v) {
  return std::isfinite(v) ? json(v) : json(nullptr);
}

inline json output_path(const StoredResults& r) {
  return r.path.empty() ? json(nullptr) : json(r.path);
}

/// The fields every document starts with.
inline json head(const StoredResults& r, ExportPart part) {
  return {{"schema", std::string(schema_name(part))},
          {"version", kDocumentVersion},
          {"engine_version", r.engine_version},
          {"model", r.model.name}};
}

inline void need(const StoredResults& r, ExportPart part) {
  require_part(r, part);
}

inline const Target& target_at(const Model& m, int t) {
  if (t < 0 || static_cast<std::size_t>(t) >= m.targets.size())
    throw OutputError(fmt::format("target index {} is not among model '{}''s {} targets", t, m.name,
                                  m.targets.size()));
  return m.targets[static_cast<std::size_t>(t)];
}

inline std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string s;
  for (std::size_t i = 0; i < parts.size(); ++i) s += (i ? std::string(sep) : "") + parts[i];
  return s;
}

/// The CSV table of `attain sensitivity` (results_json_sensitivity.cpp).
void sensitivity_csv(CsvWriter& w, const StoredResults& res);

}  // namespace attain::export_detail
