// The HTML report of a results file: one self-contained page for a policy reader.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "attain/results_file.hpp"

namespace attain {

/// The Chart.js file (Debian's libjs-chart.js) that reports inline, set at build time
/// (CMake cache variable ATTAIN_CHARTJS).
const char* default_chartjs_path();

struct ReportOptions {
  std::string chartjs_path = default_chartjs_path();  ///< Chart.js 3 (UMD build)
  bool graph = true;  ///< lay out the dependency graph with Graphviz (graph_to_svg)
};

/// @brief Everything the report shows, as one JSON document: the question and model
/// (graph as SVG), per scenario the targets' probabilities with intervals, the joint,
/// the fan-chart quantiles of each target's node and of each node with actuals,
/// comparisons, sweep, search, sensitivity (thirds, total indices, PRIM boxes), every
/// assumption (levers, parameters with their distribution in words, other nodes) and
/// the provenance (engine version, seed, runs, model and scenario sources).
nlohmann::json report_data(const StoredResults& results, const ReportOptions& options);

/// @brief One self-contained HTML page (docs/report.md): the page's template
/// (engine/src/report/, embedded at build time), Chart.js inlined, and report_data() as
/// an inline JSON blob that the page's script renders. The page makes no network
/// request: a Content-Security-Policy allows only inline scripts, styles and data:
/// images. Throws OutputError when Chart.js cannot be read (install libjs-chart.js with
/// tools/deps.sh) or Graphviz fails.
std::string render_report(const StoredResults& results, const ReportOptions& options = {});

/// @brief `json` as text that is safe inside `<script type="application/json">`: `<`,
/// `>` and `&` as \u escapes (so no `</script>` or `<!--` can end the element), and
/// U+2028 / U+2029 escaped; invalid UTF-8 replaced by U+FFFD.
std::string json_for_script(const nlohmann::json& json);

}  // namespace attain
