// Reads model and scenario files (YAML) into validated Model and Scenario values.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "attain/input_file.hpp"
#include "attain/model.hpp"

namespace attain {

/// @brief Reads and validates a model file; throws InputError naming file:line:col.
/// Checks structure, keys, types, distribution parameters, names and references;
/// graph checks (cycles, lags before the start) are build_graph's.
Model load_model(const std::string& path);

/// Same, from text already in memory (`path` is used in messages).
Model parse_model(const std::string& text, const std::string& path);

/// @brief Reads a scenario file (following `extends`) and checks it against `model`.
/// `extends` may reach files in the folder tree of `path` and under `rules.roots`
/// (input_file.hpp has the rules).
Scenario load_scenario(const std::string& path, const Model& model, const IncludeRules& rules = {});
Scenario parse_scenario(const std::string& text, const std::string& path, const Model& model,
                        const IncludeRules& rules = {});

/// @brief Rebuilds the scenario of file `path` from the (path, text) pairs of its chain, as
/// Scenario::sources holds them and a results file stores them: the text of `path` and of
/// each file it extends are looked up among `sources` (in any order), never on disk.
/// Throws InputError as parse_scenario does, and when a text is missing.
Scenario parse_stored_scenario(const std::string& path,
                               const std::vector<std::pair<std::string, std::string>>& sources,
                               const Model& model);

}  // namespace attain
