// Printing shared by `run` and `compare`: the attainment table and its headline rows
// (cli/verbs.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "attain/ensemble.hpp"
#include "attain/results_json.hpp"
#include "format.hpp"
#include "verbs.hpp"

namespace attain::cli {

/// "p [lo, hi]" with three decimals; small probabilities in scientific notation so
/// that 4 hits in 10^6 runs do not read as zero.
std::string interval(double p, double lo, double hi) {
  if (hi < 0.001 || (p > 0 && p < 0.001)) return fmt::format("{:.1e} [{:.1e}, {:.1e}]", p, lo, hi);
  return fmt::format("{:.3f} [{:.3f}, {:.3f}]", p, lo, hi);
}

namespace {

/// A row of a table with one column per scenario: `cell(result)` in each.
template <class Cell>
void add_row(Table& table, std::string name, std::string fixed,
             const std::vector<EnsembleResult>& results, Cell cell) {
  table.names.push_back(std::move(name));
  table.fixed.push_back({std::move(fixed)});
  std::vector<std::string> row;
  for (const auto& r : results) row.push_back(cell(r));
  table.cells.push_back(row);
}

/// A table with one column per scenario.
Table scenario_table(std::string name_header, std::vector<std::string> fixed_headers,
                     const std::vector<Scenario>& scenarios) {
  Table table;
  table.name_header = std::move(name_header);
  table.fixed_headers = std::move(fixed_headers);
  for (const auto& s : scenarios) table.group_headers.push_back(s.name);
  return table;
}

/// "name  label" lines for each target, the label wrapped under itself to fit the terminal.
void print_target_labels(const Model& m) {
  std::size_t w = 0;
  for (const auto& t : m.targets) w = std::max(w, display_width(t.name));
  // A name so long that little room is left puts its label on the next lines.
  const bool own_line = w + 4 > kTerminalColumns / 2;
  const std::size_t indent = own_line ? 4 : 2 + w + 2;
  for (const auto& t : m.targets) {
    const auto lines = wrap(fmt::format("{} {} in {:g}: {}", cmp_name(t.op), t.threshold, t.year,
                                        printable(t.label, 300)),
                            kTerminalColumns - indent);
    if (own_line) fmt::print("  {}\n", t.name);
    for (std::size_t i = 0; i < lines.size(); ++i)
      fmt::print("{}{}\n",
                 own_line || i > 0 ? std::string(indent, ' ') : "  " + pad(t.name, w) + "  ",
                 lines[i]);
  }
}

/// The headline rows under the targets: the expected number of targets met (with its
/// 95 % interval) and, when levers have a cost, each scenario's total cost.
void add_headline_rows(Table& table, const Model& m, const std::vector<EnsembleResult>& results) {
  const bool counted = std::all_of(results.begin(), results.end(), [&](const auto& r) {
    return r.met.size() == m.targets.size() + 1;
  });
  if (!m.targets.empty() && counted)
    add_row(table, "expected targets met", fmt::format("of {}", m.targets.size()), results,
            [](const EnsembleResult& r) {
              const MeanInterval e = targets_met(r.met);
              return fmt::format("{:.2f} [{:.2f}, {:.2f}]", e.mean, e.lo, e.hi);
            });
  if (!results.empty() && results.front().cost)
    add_row(table,
            fmt::format("cost, {:g}-{:g}", results.front().cost->times.front(),
                        results.front().cost->times.back()),
            printable(m.cost_unit, 40), results,
            [](const EnsembleResult& r) { return fmt::format("{:.4g}", r.cost->total); });
}

/// P(exactly k targets met), k = 0..T, one column per scenario: the distribution behind
/// the expected number.
void print_met_distribution(const Model& m, const std::vector<Scenario>& scenarios,
                            const std::vector<EnsembleResult>& results) {
  if (m.targets.empty()) return;
  for (const auto& r : results)
    if (r.met.size() != m.targets.size() + 1) return;
  fmt::print("\nnumber of targets met in a run: share of runs (percent)\n");
  Table table = scenario_table("targets met", {}, scenarios);
  for (std::size_t k = 0; k <= m.targets.size(); ++k) {
    table.names.push_back(fmt::format("{}", k));
    table.fixed.push_back({});
    std::vector<std::string> row;
    for (const auto& r : results)
      row.push_back(
          percent(r.runs ? static_cast<double>(r.met[k]) / static_cast<double>(r.runs) : 0.0));
    table.cells.push_back(row);
  }
  for (const auto& line : table.render()) fmt::print("{}\n", line);
}

}  // namespace

/// compare's headline: per scenario, the expected number of targets met and the cost.
void print_headline(const Model& m, const std::vector<Scenario>& scenarios,
                    const std::vector<EnsembleResult>& results) {
  Table table = scenario_table("per scenario", {""}, scenarios);
  add_headline_rows(table, m, results);
  if (table.names.empty()) return;
  fmt::print("\n");
  for (const auto& line : table.render()) fmt::print("{}\n", line);
  print_met_distribution(m, scenarios, results);
}

/// The attainment table: one row per target, one column per scenario, in percent; as
/// many scenarios side by side as fit the terminal's 100 columns, the rest in blocks below.
void print_table(const Model& m, const std::vector<Scenario>& scenarios,
                 const std::vector<EnsembleResult>& results) {
  print_target_labels(m);
  fmt::print("\n");
  Table table = scenario_table("target", {"threshold"}, scenarios);
  for (std::size_t t = 0; t < m.targets.size(); ++t) {
    const auto& tt = m.targets[t];
    add_row(table, tt.name, fmt::format("{} {:g}", cmp_name(tt.op), tt.threshold), results,
            [&](const EnsembleResult& r) {
              return percent_interval(r.targets[t].probability, r.targets[t].ci_low,
                                      r.targets[t].ci_high);
            });
  }
  add_headline_rows(table, m, results);
  if (!m.targets.empty())
    add_row(table, "all targets together", "", results, [](const EnsembleResult& r) {
      return percent_interval(r.joint_probability, r.joint_low, r.joint_high);
    });
  for (const auto& line : table.render()) fmt::print("{}\n", line);
  print_met_distribution(m, scenarios, results);
  if (!m.actuals.empty()) {
    fmt::print("\nwhere the known actuals fall in the predicted distribution (percentile)\n");
    Table actuals = scenario_table("actual", {"value"}, scenarios);
    for (std::size_t i = 0; i < m.actuals.size(); ++i) {
      const auto& ac = m.actuals[i];
      add_row(actuals, fmt::format("{} {}", ac.node, ac.year), fmt::format("{:g}", ac.value),
              results, [&](const EnsembleResult& r) {
                return fmt::format("{:.1f} %", 100 * r.actuals[i].percentile);
              });
    }
    for (const auto& line : actuals.render()) fmt::print("{}\n", line);
  }
}

void adaptive_note(const EnsembleJob& job) {
  if (job.options.ci_width > 0)
    fmt::print(stderr,
               "attain: note: stopping once every 95 % half-width is <= {:g} is not a "
               "sequential test; see docs/analyses.md for the coverage it gives\n",
               job.options.ci_width);
}

void print_document(const nlohmann::json& document) {
  std::cout << document_text(document);
}

}  // namespace attain::cli
