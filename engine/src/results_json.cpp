// The JSON documents and CSV tables of results (results_json.hpp, docs/export.md).
#include "attain/results_json.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>

#include "attain/constants.hpp"
#include "attain/version.hpp"
#include "results_json_common.hpp"

namespace attain {

using nlohmann::json;
using namespace export_detail;

namespace {

/// What a results file was written by, for messages: "written by 'attain run'".
std::string written_by(const StoredResults& r) {
  return fmt::format("written by 'attain {}'", r.info.analysis);
}

/// "targets, summary and runs (--what)", or "nothing to export".
std::string has_parts(const StoredResults& r) {
  const std::vector<ExportPart> parts = parts_of(r);
  if (parts.empty()) return "nothing to export";
  std::string s;
  for (std::size_t i = 0; i < parts.size(); ++i)
    s += fmt::format("{}{}",
                     i == 0                  ? ""
                     : i + 1 == parts.size() ? " and "
                                             : ", ",
                     part_name(parts[i]));
  return s + " (--what)";
}

/// Throws OutputError: the results have no `part`.
[[noreturn]] void lacks(const StoredResults& r, ExportPart part) {
  throw OutputError(fmt::format("'{}' has no {} (it was {}); it has {}",
                                r.path.empty() ? std::string("the results") : r.path,
                                part_name(part), written_by(r), has_parts(r)));
}

/// The scenario's result has one entry per target and actual of the model.
void check_shape(const Model& m, const StoredScenario& s) {
  if (s.result.targets.size() != m.targets.size() || s.result.actuals.size() != m.actuals.size())
    throw OutputError(fmt::format(
        "scenario '{}' has results for {} targets and {} actuals; model '{}' has {} and {}", s.name,
        s.result.targets.size(), s.result.actuals.size(), m.name, m.targets.size(),
        m.actuals.size()));
}

json target_json(const Target& t) {
  return {{"name", t.name},
          {"node", t.node},
          {"label", t.label},
          {"year", t.year},
          {"op", std::string(cmp_name(t.op))},
          {"threshold", t.threshold},
          {"source", t.source}};
}

json proportion_json(const Proportion& p) {
  return {{"hits", p.hits},
          {"runs", p.runs},
          {"probability", p.p},
          {"ci_low", p.lo},
          {"ci_high", p.hi}};
}

json scenario_json(const Model& m, const StoredScenario& s) {
  check_shape(m, s);
  const EnsembleResult& r = s.result;
  json targets = json::array();
  for (std::size_t t = 0; t < m.targets.size(); ++t) {
    const auto& tr = r.targets[t];
    json first = json::object();
    for (std::size_t k = 0; k < tr.first_met.size(); ++k)
      if (tr.first_met[k])
        first[fmt::format("{}", m.time.time(static_cast<int>(k)))] = tr.first_met[k];
    json tj = target_json(m.targets[t]);
    tj.update({{"hits", tr.hits},
               {"runs", tr.runs},
               {"probability", tr.probability},
               {"ci_low", tr.ci_low},
               {"ci_high", tr.ci_high},
               {"first_met", first},
               {"never_met", tr.never}});
    targets.push_back(tj);
  }
  json actuals = json::array();
  for (std::size_t i = 0; i < m.actuals.size(); ++i)
    actuals.push_back({{"node", m.actuals[i].node},
                       {"label", m.actuals[i].label},
                       {"year", m.actuals[i].year},
                       {"value", m.actuals[i].value},
                       {"percentile", number(r.actuals[i].percentile)}});
  json met = nullptr;
  if (r.met.size() == m.targets.size() + 1) {
    const MeanInterval e = targets_met(r.met);
    json share = json::array();
    for (std::uint64_t n : r.met)
      share.push_back(r.runs ? static_cast<double>(n) / static_cast<double>(r.runs) : 0.0);
    met = {{"expected", number(e.mean)}, {"ci_low", number(e.lo)}, {"ci_high", number(e.hi)},
           {"sd", number(e.sd)},         {"runs", r.met},          {"probability", share}};
  }
  json cost = nullptr;
  if (r.cost) {
    json levers = json::array();
    for (const auto& c : r.cost->levers)
      levers.push_back({{"lever", c.lever}, {"total", number(c.total)}});
    cost = {{"total", number(r.cost->total)}, {"unit", r.cost->unit}, {"levers", levers}};
  }
  return {{"name", s.name},
          {"description", s.description},
          {"runs", r.runs},
          {"targets", targets},
          {"joint",
           {{"hits", r.joint_hits},
            {"runs", r.runs},
            {"probability", r.joint_probability},
            {"ci_low", r.joint_low},
            {"ci_high", r.joint_high}}},
          {"targets_met", met},
          {"cost", cost},
          {"actuals", actuals},
          {"seconds", r.seconds}};
}

json scenarios_json(const StoredResults& r) {
  json sc = json::array();
  for (const auto& s : r.scenarios) sc.push_back(scenario_json(r.model, s));
  return sc;
}

json paired_json(const PairedTarget& t) {
  json j = {{"name", t.name},
            {"p_reference", t.reference.p},
            {"p_scenario", t.other.p},
            {"difference", t.paired.difference},
            {"ci_low", t.paired.lo},
            {"ci_high", t.paired.hi},
            {"unpaired_ci_low", t.unpaired.lo},
            {"unpaired_ci_high", t.unpaired.hi},
            {"helped", t.table.helped},
            {"hurt", t.table.hurt},
            {"both", t.table.both},
            {"neither", t.table.neither},
            {"p_value", t.p_value}};
  if (t.value_difference)
    j["value_difference"] = {{"mean", number(t.value_difference->mean)},
                             {"ci_low", number(t.value_difference->lo)},
                             {"ci_high", number(t.value_difference->hi)},
                             {"sd", number(t.value_difference->sd)}};
  return j;
}

/// The quantile levels' column names: 0.05 -> "q05", 0.5 -> "q50".
std::string quantile_column(double level) {
  const double pct = level * 100;
  if (pct == std::round(pct)) return fmt::format("q{:02}", static_cast<int>(pct));
  return fmt::format("q{}", pct);
}

/// The runs of every scenario, checked against the results' scenarios.
void check_runs(const StoredResults& r, const std::vector<StoredRuns>& runs) {
  need(r, ExportPart::kRuns);
  if (runs.size() != r.scenarios.size())
    throw OutputError(fmt::format("per-run rows of {} scenarios given for {} scenarios",
                                  runs.size(), r.scenarios.size()));
  for (std::size_t s = 0; s < runs.size(); ++s) {
    const StoredRuns& x = runs[s];
    const std::size_t rows = x.target_values.empty() ? (x.values.empty() ? 0 : x.values[0].size())
                                                     : x.target_values[0].size();
    bool ok = x.values.size() == x.parameters.size() && x.target_values.size() == x.targets.size();
    for (const auto& c : x.values) ok = ok && c.size() == rows;
    for (const auto& c : x.target_values) ok = ok && c.size() == rows;
    if (!ok)
      throw OutputError(
          fmt::format("the per-run rows of scenario '{}' have columns of "
                      "different lengths",
                      r.scenarios[s].name));
  }
}

std::size_t rows_of(const StoredRuns& x) {
  if (!x.target_values.empty()) return x.target_values[0].size();
  return x.values.empty() ? 0 : x.values[0].size();
}

}  // namespace

// ---------------------------------------------------------------------------------------

std::string_view part_name(ExportPart part) {
  switch (part) {
    case ExportPart::kTargets:
      return "targets";
    case ExportPart::kSummary:
      return "summary";
    case ExportPart::kComparisons:
      return "comparisons";
    case ExportPart::kSensitivity:
      return "sensitivity";
    case ExportPart::kSweep:
      return "sweep";
    case ExportPart::kSearch:
      return "search";
    case ExportPart::kRuns:
      return "runs";
  }
  return "?";
}

std::vector<ExportPart> all_parts() {
  return {ExportPart::kTargets,     ExportPart::kSummary, ExportPart::kComparisons,
          ExportPart::kSensitivity, ExportPart::kSweep,   ExportPart::kSearch,
          ExportPart::kRuns};
}

std::optional<ExportPart> part_of(std::string_view text) {
  for (ExportPart p : all_parts())
    if (part_name(p) == text) return p;
  return std::nullopt;
}

std::string_view schema_name(ExportPart part) {
  switch (part) {
    case ExportPart::kTargets:
      return "attain-run";
    case ExportPart::kSummary:
      return "attain-summary";
    case ExportPart::kComparisons:
      return "attain-compare";
    case ExportPart::kSensitivity:
      return "attain-sensitivity";
    case ExportPart::kSweep:
      return "attain-sweep";
    case ExportPart::kSearch:
      return "attain-search";
    case ExportPart::kRuns:
      return "attain-runs";
  }
  return "?";
}

std::vector<ExportPart> parts_of(const StoredResults& r) {
  std::vector<ExportPart> out;
  if (!r.scenarios.empty()) out.push_back(ExportPart::kTargets);
  if (!r.scenarios.empty() &&
      std::all_of(r.scenarios.begin(), r.scenarios.end(),
                  [](const StoredScenario& s) { return s.summary.has_value(); }))
    out.push_back(ExportPart::kSummary);
  if (!r.comparisons.empty()) out.push_back(ExportPart::kComparisons);
  if (!r.sensitivity.empty()) out.push_back(ExportPart::kSensitivity);
  if (r.sweep) out.push_back(ExportPart::kSweep);
  if (r.search) out.push_back(ExportPart::kSearch);
  if (!r.scenarios.empty() && r.info.store != StoreLevel::kSummary)
    out.push_back(ExportPart::kRuns);
  return out;
}

void require_part(const StoredResults& r, ExportPart part) {
  for (ExportPart p : parts_of(r))
    if (p == part) return;
  lacks(r, part);
}

ExportPart default_part(const StoredResults& r) {
  if (r.info.analysis == "compare") return ExportPart::kComparisons;
  if (r.info.analysis == "sweep") return ExportPart::kSweep;
  if (r.info.analysis == "search") return ExportPart::kSearch;
  if (r.info.analysis == "sensitivity") return ExportPart::kSensitivity;
  return ExportPart::kTargets;
}

// ---------------------------------------------------------------------------------------

StoredResults stored_results(const Model& model, const RunInfo& info, const std::string& path) {
  StoredResults r;
  r.path = path;
  r.version_major = kResultsVersionMajor;
  r.version_minor = kResultsVersionMinor;
  r.engine_version = kEngineVersion;
  r.rng = kRngScheme;
  r.info = info;
  r.model = model;
  return r;
}

std::optional<StoredSummary> stored_summary(const EnsembleResult& result) {
  if (result.moments.empty() || result.quantiles.size() != result.moments.size())
    return std::nullopt;
  StoredSummary s;
  const std::size_t n = result.moments.size();
  s.mean.reserve(n);
  s.sd.reserve(n);
  s.min.reserve(n);
  s.max.reserve(n);
  for (const Moments& m : result.moments) {
    s.mean.push_back(m.mean());
    s.sd.push_back(m.sd());
    s.min.push_back(m.min);
    s.max.push_back(m.max);
  }
  s.levels.assign(EnsembleResult::kQuantileLevels.begin(), EnsembleResult::kQuantileLevels.end());
  s.quantiles.reserve(n * s.levels.size());
  for (const auto& q : result.quantiles) s.quantiles.insert(s.quantiles.end(), q.begin(), q.end());
  return s;
}

StoredScenario stored_scenario(const Scenario& scenario, const EnsembleResult& result) {
  StoredScenario s;
  s.name = scenario.name;
  s.description = scenario.description;
  s.path = scenario.path;
  s.sources = scenario.sources;
  // As the results file's attribute `source` (results_writer.cpp).
  for (const auto& [path, text] : scenario.sources)
    s.source += fmt::format("# {}\n{}\n", path, text);
  s.seconds = result.seconds;
  s.summary = stored_summary(result);
  s.result = result;
  s.result.moments.clear();
  s.result.quantiles.clear();
  return s;
}

// ---------------------------------------------------------------------------------------

json run_document(const StoredResults& r) {
  need(r, ExportPart::kTargets);
  json j = head(r, ExportPart::kTargets);
  j["seed"] = r.info.seed;
  j["runs"] = r.info.runs;
  j["ci_width"] = r.info.ci_width > 0 ? json(r.info.ci_width) : json(nullptr);
  j["output"] = output_path(r);
  j["scenarios"] = scenarios_json(r);
  return j;
}

json compare_document(const StoredResults& r) {
  need(r, ExportPart::kComparisons);
  json j = head(r, ExportPart::kComparisons);
  j["seed"] = r.info.seed;
  // Every scenario of a comparison ran on the same runs, in the same study.
  j["runs"] = r.scenarios.front().result.runs;
  j["ci_width"] = r.info.ci_width > 0 ? json(r.info.ci_width) : json(nullptr);
  j["output"] = output_path(r);
  j["interval"] = "Newcombe (1998) method 10 for paired proportions, 95 %";
  j["test"] = "exact McNemar, two-sided";
  j["scenarios"] = scenarios_json(r);
  json comps = json::array();
  for (const auto& cmp : r.comparisons) {
    json targets = json::array();
    for (const auto& t : cmp.targets) targets.push_back(paired_json(t));
    comps.push_back({{"reference", cmp.reference},
                     {"scenario", cmp.scenario},
                     {"targets", targets},
                     {"joint", paired_json(cmp.joint)}});
  }
  j["comparisons"] = comps;
  j["seconds"] = r.scenarios.front().seconds;
  return j;
}

json sweep_document(const StoredResults& r) {
  need(r, ExportPart::kSweep);
  const SweepResult& sw = *r.sweep;
  const Model& m = r.model;
  if (sw.absolute.size() != sw.axes.size())
    throw OutputError(fmt::format("the sweep has {} levers and {} level kinds", sw.axes.size(),
                                  sw.absolute.size()));
  json levers = json::array();
  for (std::size_t i = 0; i < sw.axes.size(); ++i)
    levers.push_back({{"name", sw.axes[i].lever},
                      {"level", sw.absolute[i] ? "value" : "scale"},
                      {"from", sw.axes[i].from},
                      {"to", sw.axes[i].to},
                      {"points", sw.axes[i].points}});
  json points = json::array();
  for (const auto& p : sw.points) {
    if (p.levels.size() != sw.axes.size() || p.targets.size() != m.targets.size())
      throw OutputError("a sweep point does not match the sweep's levers and the model's targets");
    json lv = json::object();
    for (std::size_t i = 0; i < sw.axes.size(); ++i) lv[sw.axes[i].lever] = p.levels[i];
    json targets = json::array();
    for (std::size_t t = 0; t < m.targets.size(); ++t) {
      json tj = proportion_json(p.targets[t]);
      tj["name"] = m.targets[t].name;
      targets.push_back(tj);
    }
    points.push_back({{"levels", lv},
                      {"targets", targets},
                      {"joint", proportion_json(p.joint)},
                      {"cost", p.cost ? number(*p.cost) : json(nullptr)}});
  }
  json j = head(r, ExportPart::kSweep);
  j["scenario"] = r.analysis_scenario;
  j["seed"] = r.info.seed;
  j["runs"] = sw.runs;
  j["output"] = output_path(r);
  j["sweep"] = {{"levers", levers}, {"points", points}, {"non_monotone", sw.non_monotone}};
  j["seconds"] = sw.seconds;
  return j;
}

json search_document(const StoredResults& r) {
  need(r, ExportPart::kSearch);
  const SearchResult& s = *r.search;
  json evals = json::array();
  for (const auto& e : s.evaluations) {
    json ej = proportion_json(e.p);
    ej["level"] = e.level;
    evals.push_back(ej);
  }
  json j = head(r, ExportPart::kSearch);
  j["scenario"] = r.analysis_scenario;
  j["seed"] = r.info.seed;
  j["runs"] = s.runs;
  j["output"] = output_path(r);
  j["search"] = {{"lever", s.levers.size() == 1 ? json(s.levers[0]) : json(s.levers)},
                 {"levers", s.levers},
                 {"level_kind", s.absolute ? "value" : "scale"},
                 {"target", s.target},
                 {"goal", s.goal},
                 {"range", {s.range_low, s.range_high}},
                 {"tolerance", s.tolerance},
                 {"reachable", s.reachable},
                 {"level", number(s.level)},
                 {"probability", s.at_level.p},
                 {"ci_low", s.at_level.lo},
                 {"ci_high", s.at_level.hi},
                 {"level_low", number(s.level_low)},
                 {"level_high", number(s.level_high)},
                 {"monotone", s.monotone},
                 {"evaluations", s.evaluations.size()},
                 {"points", evals}};
  j["seconds"] = s.seconds;
  return j;
}

json summary_document(const StoredResults& r) {
  need(r, ExportPart::kSummary);
  const Model& m = r.model;
  const std::size_t steps = static_cast<std::size_t>(m.time.steps());
  json time = json::array();
  for (std::size_t k = 0; k < steps; ++k) time.push_back(m.time.time(static_cast<int>(k)));
  json nodes = json::array();
  for (const auto& n : m.nodes)
    nodes.push_back({{"name", n.name},
                     {"kind", std::string(kind_name(n.kind))},
                     {"label", n.label},
                     {"unit", n.unit}});
  json scenarios = json::array();
  json levels = json::array();
  for (const auto& s : r.scenarios) {
    const StoredSummary& su = *s.summary;
    const std::size_t cells = m.nodes.size() * steps, nl = su.levels.size();
    if (su.mean.size() != cells || su.sd.size() != cells || su.min.size() != cells ||
        su.max.size() != cells || su.quantiles.size() != cells * nl)
      throw OutputError(fmt::format(
          "the summary of scenario '{}' does not have {} nodes x {} steps of model '{}'", s.name,
          m.nodes.size(), steps, m.name));
    if (levels.empty())
      for (double l : su.levels) levels.push_back(l);
    json ns = json::array();
    for (std::size_t n = 0; n < m.nodes.size(); ++n) {
      json mean = json::array(), sd = json::array(), mn = json::array(), mx = json::array(),
           qs = json::array();
      for (std::size_t k = 0; k < steps; ++k) {
        const std::size_t c = n * steps + k;
        mean.push_back(number(su.mean[c]));
        sd.push_back(number(su.sd[c]));
        mn.push_back(number(su.min[c]));
        mx.push_back(number(su.max[c]));
        json q = json::array();
        for (std::size_t l = 0; l < nl; ++l) q.push_back(number(su.quantiles[c * nl + l]));
        qs.push_back(q);
      }
      ns.push_back({{"name", m.nodes[n].name},
                    {"mean", mean},
                    {"sd", sd},
                    {"min", mn},
                    {"max", mx},
                    {"quantiles", qs}});
    }
    scenarios.push_back({{"name", s.name}, {"runs", s.result.runs}, {"nodes", ns}});
  }
  json j = head(r, ExportPart::kSummary);
  j["seed"] = r.info.seed;
  j["output"] = output_path(r);
  j["time"] = time;
  j["levels"] = levels;
  j["nodes"] = nodes;
  j["scenarios"] = scenarios;
  return j;
}

json runs_document(const StoredResults& r, const std::vector<StoredRuns>& runs) {
  check_runs(r, runs);
  json scenarios = json::array();
  for (std::size_t s = 0; s < runs.size(); ++s) {
    const StoredRuns& x = runs[s];
    const std::size_t rows = rows_of(x);
    json index = json::array();
    for (std::size_t i = 0; i < rows; ++i) index.push_back(x.first_run + i);
    json params = json::array(), targets = json::array();
    for (const auto& c : x.values) {
      json col = json::array();
      for (double v : c) col.push_back(number(v));
      params.push_back(col);
    }
    for (const auto& c : x.target_values) {
      json col = json::array();
      for (double v : c) col.push_back(number(v));
      targets.push_back(col);
    }
    scenarios.push_back({{"name", r.scenarios[s].name},
                         {"first_run", x.first_run},
                         {"rows", rows},
                         {"run", index},
                         {"parameters", x.parameters},
                         {"parameter_values", params},
                         {"targets", x.targets},
                         {"target_values", targets}});
  }
  json j = head(r, ExportPart::kRuns);
  j["seed"] = r.info.seed;
  j["output"] = output_path(r);
  j["store"] = std::string(store_name(r.info.store));
  j["scenarios"] = scenarios;
  return j;
}

std::string document_text(const json& document) {
  return document.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

json json_document(const StoredResults& r, ExportPart part, const std::vector<StoredRuns>& runs) {
  switch (part) {
    case ExportPart::kTargets:
      return run_document(r);
    case ExportPart::kSummary:
      return summary_document(r);
    case ExportPart::kComparisons:
      return compare_document(r);
    case ExportPart::kSensitivity:
      return sensitivity_document(r);
    case ExportPart::kSweep:
      return sweep_document(r);
    case ExportPart::kSearch:
      return search_document(r);
    case ExportPart::kRuns:
      return runs_document(r, runs);
  }
  lacks(r, part);
}

// ---------------------------------------------------------------------------------------
// CSV.

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string s = "\"";
  for (char c : text) {
    if (c == '"') s += '"';
    s += c;
  }
  return s + "\"";
}

std::string csv_number(double value) {
  if (std::isnan(value)) return "";
  return fmt::format("{}", value);
}

void CsvWriter::separate() {
  if (!first_) out_ << ',';
  first_ = false;
}

CsvWriter& CsvWriter::text(std::string_view value) {
  separate();
  out_ << csv_field(value);
  return *this;
}

CsvWriter& CsvWriter::number(double value) {
  separate();
  out_ << csv_number(value);
  return *this;
}

CsvWriter& CsvWriter::count(std::uint64_t value) {
  separate();
  out_ << value;
  return *this;
}

CsvWriter& CsvWriter::integer(long long value) {
  separate();
  out_ << value;
  return *this;
}

CsvWriter& CsvWriter::boolean(bool value) {
  separate();
  out_ << (value ? "true" : "false");
  return *this;
}

CsvWriter& CsvWriter::empty() {
  separate();
  return *this;
}

void CsvWriter::end_row() {
  out_ << "\r\n";
  first_ = true;
}

void CsvWriter::header(const std::vector<std::string>& names) {
  for (const auto& n : names) text(n);
  end_row();
}

namespace {

constexpr std::string_view kJointLabel = "all targets together";

void targets_csv(CsvWriter& w, const StoredResults& r) {
  const Model& m = r.model;
  w.header({"scenario", "target", "label", "node", "year", "op", "threshold", "probability",
            "ci_low", "ci_high", "hits", "runs", "joint"});
  for (const auto& s : r.scenarios) {
    check_shape(m, s);
    for (std::size_t t = 0; t < m.targets.size(); ++t) {
      const Target& tg = m.targets[t];
      const TargetResult& tr = s.result.targets[t];
      w.text(s.name).text(tg.name).text(tg.label).text(tg.node).number(tg.year);
      w.text(cmp_name(tg.op)).number(tg.threshold).number(tr.probability).number(tr.ci_low);
      w.number(tr.ci_high).count(tr.hits).count(tr.runs).boolean(false);
      w.end_row();
    }
    if (m.targets.empty()) continue;
    const EnsembleResult& e = s.result;
    w.text(s.name).text(kJointName).text(kJointLabel).empty().empty().empty().empty();
    w.number(e.joint_probability).number(e.joint_low).number(e.joint_high).count(e.joint_hits);
    w.count(e.runs).boolean(true);
    w.end_row();
  }
}

void summary_csv(CsvWriter& w, const StoredResults& r) {
  const Model& m = r.model;
  const std::size_t steps = static_cast<std::size_t>(m.time.steps());
  const std::vector<double>& levels = r.scenarios.front().summary->levels;
  std::vector<std::string> head{"scenario", "node", "label", "unit", "time",
                                "mean",     "sd",   "min",   "max"};
  for (double l : levels) head.push_back(quantile_column(l));
  w.header(head);
  for (const auto& s : r.scenarios) {
    const StoredSummary& su = *s.summary;
    const std::size_t cells = m.nodes.size() * steps, nl = levels.size();
    if (su.levels != levels || su.mean.size() != cells || su.sd.size() != cells ||
        su.min.size() != cells || su.max.size() != cells || su.quantiles.size() != cells * nl)
      throw OutputError(fmt::format(
          "the summary of scenario '{}' does not have {} nodes x {} steps of model '{}'", s.name,
          m.nodes.size(), steps, m.name));
    for (std::size_t n = 0; n < m.nodes.size(); ++n)
      for (std::size_t k = 0; k < steps; ++k) {
        const std::size_t c = n * steps + k;
        w.text(s.name).text(m.nodes[n].name).text(m.nodes[n].label).text(m.nodes[n].unit);
        w.number(m.time.time(static_cast<int>(k)));
        w.number(su.mean[c]).number(su.sd[c]).number(su.min[c]).number(su.max[c]);
        for (std::size_t l = 0; l < nl; ++l) w.number(su.quantiles[c * nl + l]);
        w.end_row();
      }
  }
}

void comparisons_csv(CsvWriter& w, const StoredResults& r) {
  w.header({"reference",
            "scenario",
            "target",
            "joint",
            "p_reference",
            "p_scenario",
            "difference",
            "ci_low",
            "ci_high",
            "unpaired_ci_low",
            "unpaired_ci_high",
            "both",
            "helped",
            "hurt",
            "neither",
            "p_value",
            "value_difference",
            "value_difference_ci_low",
            "value_difference_ci_high",
            "value_difference_sd"});
  for (const auto& c : r.comparisons) {
    auto row = [&](const PairedTarget& t, bool joint) {
      w.text(c.reference).text(c.scenario).text(joint ? kJointName : t.name).boolean(joint);
      w.number(t.reference.p).number(t.other.p).number(t.paired.difference);
      w.number(t.paired.lo).number(t.paired.hi).number(t.unpaired.lo).number(t.unpaired.hi);
      w.count(t.table.both).count(t.table.helped).count(t.table.hurt).count(t.table.neither);
      w.number(t.p_value);
      if (t.value_difference)
        w.number(t.value_difference->mean)
            .number(t.value_difference->lo)
            .number(t.value_difference->hi)
            .number(t.value_difference->sd);
      else
        w.empty().empty().empty().empty();
      w.end_row();
    };
    for (const auto& t : c.targets) row(t, false);
    row(c.joint, true);
  }
}

void sweep_csv(CsvWriter& w, const StoredResults& r) {
  const SweepResult& sw = *r.sweep;
  const Model& m = r.model;
  std::vector<std::string> head{"scenario", "point"};
  for (const auto& ax : sw.axes) head.push_back("level_" + ax.lever);
  for (const char* c : {"target", "joint", "probability", "ci_low", "ci_high", "hits", "runs"})
    head.emplace_back(c);
  w.header(head);
  for (std::size_t q = 0; q < sw.points.size(); ++q) {
    const SweepPoint& p = sw.points[q];
    if (p.levels.size() != sw.axes.size() || p.targets.size() != m.targets.size())
      throw OutputError("a sweep point does not match the sweep's levers and the model's targets");
    auto row = [&](const Proportion& pr, std::string_view name, bool joint) {
      w.text(r.analysis_scenario).count(q);
      for (double v : p.levels) w.number(v);
      w.text(name).boolean(joint).number(pr.p).number(pr.lo).number(pr.hi).count(pr.hits);
      w.count(pr.runs);
      w.end_row();
    };
    for (std::size_t t = 0; t < m.targets.size(); ++t) row(p.targets[t], m.targets[t].name, false);
    row(p.joint, kJointName, true);
  }
}

void search_csv(CsvWriter& w, const StoredResults& r) {
  const SearchResult& s = *r.search;
  w.header({"scenario", "levers", "level_kind", "target", "goal", "level", "probability", "ci_low",
            "ci_high", "hits", "runs", "reaches_goal", "answer"});
  for (const auto& e : s.evaluations) {
    w.text(r.analysis_scenario).text(join(s.levers, ",")).text(s.absolute ? "value" : "scale");
    w.text(s.target).number(s.goal).number(e.level).number(e.p.p).number(e.p.lo).number(e.p.hi);
    w.count(e.p.hits).count(e.p.runs).boolean(e.p.p >= s.goal);
    w.boolean(s.reachable && e.level == s.level);
    w.end_row();
  }
}

void runs_csv(CsvWriter& w, const StoredResults& r, const std::vector<StoredRuns>& runs) {
  check_runs(r, runs);
  const StoredRuns& first = runs.front();
  for (std::size_t s = 1; s < runs.size(); ++s)
    if (runs[s].parameters != first.parameters || runs[s].targets != first.targets)
      throw OutputError(fmt::format(
          "scenarios '{}' and '{}' store different parameter or target columns; export them as "
          "JSON (--format json)",
          r.scenarios[0].name, r.scenarios[s].name));
  std::vector<std::string> head{"scenario", "run"};
  for (const auto& p : first.parameters) head.push_back("parameter:" + p);
  for (const auto& t : first.targets) head.push_back("target:" + t);
  w.header(head);
  for (std::size_t s = 0; s < runs.size(); ++s) {
    const StoredRuns& x = runs[s];
    const std::size_t rows = rows_of(x);
    for (std::size_t i = 0; i < rows; ++i) {
      w.text(r.scenarios[s].name).count(x.first_run + i);
      for (const auto& c : x.values) w.number(c[i]);
      for (const auto& c : x.target_values) w.number(c[i]);
      w.end_row();
    }
  }
}

}  // namespace

void write_csv(std::ostream& out, const StoredResults& r, ExportPart part,
               const std::vector<StoredRuns>& runs) {
  need(r, part);
  CsvWriter w(out);
  switch (part) {
    case ExportPart::kTargets:
      return targets_csv(w, r);
    case ExportPart::kSummary:
      return summary_csv(w, r);
    case ExportPart::kComparisons:
      return comparisons_csv(w, r);
    case ExportPart::kSensitivity:
      return sensitivity_csv(w, r);
    case ExportPart::kSweep:
      return sweep_csv(w, r);
    case ExportPart::kSearch:
      return search_csv(w, r);
    case ExportPart::kRuns:
      return runs_csv(w, r, runs);
  }
}

}  // namespace attain
