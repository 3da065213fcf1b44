// The verb table: one row per verb (cli/verbs.hpp; docs/architecture.md, "How to add a verb").
#include "verbs.hpp"

namespace attain::cli {

// Each defined in cli/verbs/<verb>.cpp.
Action declare_check(CLI::App& sub);
Action declare_graph(CLI::App& sub);
Action declare_run(CLI::App& sub);
Action declare_compare(CLI::App& sub);
Action declare_sweep(CLI::App& sub);
Action declare_search(CLI::App& sub);
Action declare_sensitivity(CLI::App& sub);
Action declare_replay(CLI::App& sub);
Action declare_merge(CLI::App& sub);
Action declare_export(CLI::App& sub);
Action declare_report(CLI::App& sub);

const std::vector<Verb>& verbs() {
  static const std::vector<Verb> table{
      {"check", "Validate a model (and scenarios); print its summary", declare_check},
      {"graph", "Print the dependency graph", declare_graph},
      {"run", "Run the Monte Carlo ensemble and report attainment", declare_run},
      {"compare", "Compare scenarios with the first on the same runs (paired differences)",
       declare_compare},
      {"sweep", "P(targets) over a grid of lever levels, same runs", declare_sweep},
      {"search", "Least lever level at which P(target) reaches a probability (same runs)",
       declare_search},
      {"sensitivity",
       "Which uncertain inputs decide each target: Sobol indices, P by thirds, PRIM boxes",
       declare_sensitivity},
      {"replay",
       "Re-run one run of an ensemble and print every node: of a model, or of a results file "
       "(with its seed, model and scenarios as stored)",
       declare_replay},
      {"merge", "Merge the parts of one 'attain run' (--run-range) into one results file",
       declare_merge},
      {"export", "Write a results file's targets, summary, analysis or runs as CSV or JSON",
       declare_export},
      {"report", "Write a self-contained HTML report of a results file (opens offline)",
       declare_report},
  };
  return table;
}

}  // namespace attain::cli
