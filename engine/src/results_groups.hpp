// The groups of a results file, each result type's writer beside its reader (private to
// engine/src). ResultsFile (results_writer.cpp) and read_results (results_reader.cpp) call
// them. Layout: docs/results-format.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attain/results_file.hpp"
#include "h5_util.hpp"

namespace attain::h5 {

// results_scenario.cpp: a scenario's group (targets, joint, actuals, summary).
void write_scenario_results(NcGroup& g, const Model& m, const EnsembleResult& r);
StoredScenario read_scenario(hid_t f, const std::string& name, const Model& m,
                             const std::string& path);

// results_analyses.cpp: /comparisons, /sweep and /search.
void write_comparisons(hid_t file, const std::vector<Comparison>& comparisons);
Comparison read_comparison(hid_t g, const Model& m, const std::string& path);
void write_sweep(hid_t file, const Model& m, const SweepResult& sw, const Scenario& scenario);
SweepResult read_sweep(hid_t g, const Model& m, const std::string& path);
void write_search(hid_t file, const SearchResult& r, const Scenario& scenario);
SearchResult read_search(hid_t g, const std::string& path);

// results_sensitivity.cpp: /sensitivity/<scenario>.
void write_sensitivity(hid_t file, const Model& m, const std::string& scenario,
                       const SensitivityResult& r);
SensitivityResult read_sensitivity(hid_t g, const Model& m, const std::string& path);

// state_file.cpp: a scenario's exact reducer state (group `state`).
void write_state(hid_t parent, const StudyResult& r, int chunk_runs);

}  // namespace attain::h5
