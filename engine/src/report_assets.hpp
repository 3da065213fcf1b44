// The report's template files (engine/src/report/), embedded into the library at build
// time: CMake runs engine/embed_files.cmake to generate report_assets.cpp.
#pragma once

#include <string_view>

namespace attain {

/// The text of engine/src/report/`name` (e.g. "report.html") as it was at build time.
/// Throws std::out_of_range for a name that is not embedded.
std::string_view report_asset(std::string_view name);

}  // namespace attain
