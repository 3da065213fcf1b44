// The results as documents for scripts and spreadsheets: the JSON documents of `--json`
// and `attain export`, and tidy CSV tables. Every document is built from a StoredResults,
// whether it was just computed (the CLI fills one from its in-memory results) or read
// from a results file (read_results), so the two give the same document by construction.
// docs/export.md describes the documents, their schemas (docs/schema/) and the columns.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "attain/results_file.hpp"

namespace attain {

/// @brief The version of every JSON document ("major.minor"), its field `version`.
/// A minor version adds fields or values a reader may ignore; a major version removes or
/// renames a field or changes its meaning or type, so a reader should refuse a major
/// version it does not know. Each document's schema (docs/schema/<name>.schema.json)
/// changes with it.
inline constexpr const char* kDocumentVersion = "1.0";

/// What `attain export --what` selects: one JSON document or one CSV table each.
enum class ExportPart { kTargets, kSummary, kComparisons, kSensitivity, kSweep, kSearch, kRuns };
/// "targets", "summary", "comparisons", "sensitivity", "sweep", "search", "runs".
std::string_view part_name(ExportPart part);
/// The part named `text`, if it is one.
std::optional<ExportPart> part_of(std::string_view text);
/// Every part, in the order above.
std::vector<ExportPart> all_parts();
/// The parts a results file holds (targets: scenario groups; summary: node summaries;
/// runs: per-run rows, `--store targets` or `full`; the others: their analysis).
std::vector<ExportPart> parts_of(const StoredResults& results);
/// Throws OutputError naming the parts the results have when they lack `part`.
void require_part(const StoredResults& results, ExportPart part);
/// The part an export gives without `--what`: the one the file's analysis made
/// (run: targets, compare: comparisons, sweep, search, sensitivity).
ExportPart default_part(const StoredResults& results);
/// The `schema` field of a part's JSON document: "attain-run", "attain-compare", ...
std::string_view schema_name(ExportPart part);

// ---------------------------------------------------------------------------------------
// From in-memory results to what a results file holds.

/// A StoredResults with no scenario or analysis yet: `path` is the results file the
/// results were (or will be) written to, empty when none; engine_version is this engine's.
StoredResults stored_results(const Model& model, const RunInfo& info, const std::string& path);
/// A scenario's stored form: its names and sources, and the result (with the node
/// summaries of `result.moments` and `result.quantiles` when it has them).
StoredScenario stored_scenario(const Scenario& scenario, const EnsembleResult& result);
/// The node summary of an ensemble's moments and quantiles; nullopt without them.
std::optional<StoredSummary> stored_summary(const EnsembleResult& result);

// ---------------------------------------------------------------------------------------
// JSON documents. Each has `schema`, `version` (kDocumentVersion) and `engine_version`;
// a statistic that is not finite is null. Each throws OutputError when the results lack
// what it needs (e.g. a compare document of a file with no comparisons).

/// "attain-run": per scenario its targets, the joint and the actuals (`attain run --json`).
nlohmann::json run_document(const StoredResults& results);
/// "attain-compare": the run document's scenarios and the paired comparisons.
nlohmann::json compare_document(const StoredResults& results);
/// "attain-sweep": P of each target and of all together at every grid point.
nlohmann::json sweep_document(const StoredResults& results);
/// "attain-search": the least lever level that reaches the goal, and every evaluation.
nlohmann::json search_document(const StoredResults& results);
/// "attain-sensitivity": Sobol indices, conditional thirds and PRIM boxes per scenario.
nlohmann::json sensitivity_document(const StoredResults& results);
/// "attain-summary": every node's mean, sd, min, max and quantiles per scenario and time.
nlohmann::json summary_document(const StoredResults& results);
/// "attain-runs": the per-run rows, `runs[i]` those of `results.scenarios[i]`.
nlohmann::json runs_document(const StoredResults& results, const std::vector<StoredRuns>& runs);
/// A document as the CLI prints it: indented by 2, ending in a newline; bytes that are
/// not UTF-8 (none come from attain's own inputs) are replaced by U+FFFD.
std::string document_text(const nlohmann::json& document);
/// The document of `part` (`runs` only for ExportPart::kRuns).
nlohmann::json json_document(const StoredResults& results, ExportPart part,
                             const std::vector<StoredRuns>& runs = {});

/// A PRIM box's restricted limits in words, "a >= 0.5 and 0.1 <= b <= 0.3", those whose
/// quasi-p-value is below `max_p` (all by default); `names` name the box's dimensions.
std::string prim_box_words(const PrimResult& prim, const std::vector<std::string>& names,
                           double max_p = 2);

// ---------------------------------------------------------------------------------------
// CSV (RFC 4180: fields separated by commas, records ended by CRLF, a field quoted when
// it holds a comma, a double quote, CR or LF, with its double quotes doubled; UTF-8).

/// `text` as one CSV field.
std::string csv_field(std::string_view text);
/// A number as a CSV field: the shortest text that reads back as the same double
/// ("0.1", "2020", "1e-07", "inf"); NaN is the empty field.
std::string csv_number(double value);

/// Writes CSV records one field at a time.
class CsvWriter {
 public:
  explicit CsvWriter(std::ostream& out) : out_(out) {}
  CsvWriter& text(std::string_view value);
  CsvWriter& number(double value);
  CsvWriter& count(std::uint64_t value);
  CsvWriter& integer(long long value);
  CsvWriter& boolean(bool value);  ///< "true" or "false"
  CsvWriter& empty();
  /// Ends the record (CRLF).
  void end_row();
  /// A header: each name as a field, then end_row().
  void header(const std::vector<std::string>& names);

 private:
  void separate();
  std::ostream& out_;
  bool first_ = true;
};

/// The UTF-8 byte order mark, which makes Excel read a CSV file as UTF-8.
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

/// @brief Writes part `part` of the results as one tidy CSV table, a row per
/// observation, with a header row (columns: docs/export.md). `runs` as in json_document.
/// Throws OutputError when the results lack the part.
void write_csv(std::ostream& out, const StoredResults& results, ExportPart part,
               const std::vector<StoredRuns>& runs = {});

}  // namespace attain
