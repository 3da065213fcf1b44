// The fuzzing oracle: what attain must do with any input, shared by the libFuzzer targets
// (fuzz/) and the regression corpus test (tests/fuzz/corpus_test.cpp).
//
// An input must either be accepted or be refused with an attain::Error whose
// user_message() is one printable line `path:line:col: error: text` (line, col >= 1).
// Anything else -- another exception type, a message that is several lines, holds a
// control character, has no place or is unbounded in length -- is a finding. Crashes,
// sanitizer reports, hangs and memory blow-ups are found by the process running the check.
#pragma once

#include <string>
#include <string_view>

namespace attain::fuzz {

/// The targets; each names its corpus folder (tests/corpus/<name>).
enum class Target { kModel, kScenario, kExpr };
std::string_view target_name(Target t);

/// Longest acceptable message: the reader echoes at most 4000 bytes of a value and 500 of
/// a path (printable()), so anything near this size echoes the input without bound.
inline constexpr std::size_t kMaxMessageBytes = 6000;

/// Whole error texts that say nothing about what is wrong (yaml-cpp's words for its flow
/// nesting limit, which the reader once passed on).
inline constexpr std::string_view kOpaqueTexts[] = {"malformed YAML: bad file"};

/// Why `message` is not a well-formed located input error for file `path`; "" when it is.
/// A message whose whole text is one of kOpaqueTexts is refused too.
std::string check_input_message(std::string_view message, std::string_view path);

/// Why `message` of an error refusing a results file, checkpoint or state (OutputError,
/// InputError, ...) is not one printable line of bounded length; "" when it is.
std::string check_error_line(std::string_view message);

/// Why `message` of a run that stopped (RunError) is not one printable line; "" when it is.
std::string check_run_message(std::string_view message);

/// @brief Runs `input` through target `t` and returns "" when attain behaved (accepted it,
/// or refused it with a well-formed error) or a one-paragraph description of the finding.
/// - kModel: parse_model, build_graph, compile and, when small enough, two runs of the
///   evaluator, the second again alone (same bits whatever the block size).
/// - kScenario: parse_scenario against an example model (the one whose name the input
///   mentions, else teaching_firms), then the same runs; the scenario is read as a file in
///   an empty temporary folder, so `extends` must fail whatever it names.
/// - kExpr: parse_expression and constant folding.
std::string check(Target t, std::string_view input);

}  // namespace attain::fuzz
