// The one check of a model's meaning, whatever front end built it (the YAML reader
// today; Python and XMILE import later). The engine's entry points (build_graph,
// compile) call it too, so a model that skipped a front end's checks still cannot
// reach undefined behaviour.
#pragma once

#include <string>

#include "attain/model.hpp"

namespace attain {

/// @brief Checks everything the engine relies on and the language promises: names
/// (identifiers, unique, not reserved, distinct stable ids), the time axis, lever
/// rules, distributions and their parameters, required texts and sources, history,
/// lookups, references to nodes and lookups, constant sub-expressions, correlation
/// groups and targets and actuals. Throws InputError at the place the model says
/// (its `*_loc` members, else the node's, else `path:1:1`) for the first problem.
void validate(const Model& model);

/// A lever rule's own rules (series years increasing and non-empty, growth rate > -1,
/// scale >= 0); `what` names the rule's owner in messages ("lever 'funding'").
void validate_lever_rule(const LeverRule& rule, const std::string& what, const SourceLoc& at);

/// A distribution's numeric parameters (for parameters, and scenario overrides of
/// them) and tables; `what` names its owner in messages.
void validate_distribution(const DistSpec& dist, const std::string& what, const SourceLoc& at);

}  // namespace attain
