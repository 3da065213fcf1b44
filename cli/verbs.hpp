#pragma once
// The command line's verbs and what they share. Each verb (cli/verbs/<verb>.cpp) declares
// its options on its subcommand and returns its action, which parses the option texts into
// values, calls the engine's job layer (attain/job.hpp) and prints; cli/verbs.cpp lists
// them in one table, and cli/main.cpp maps every error to its exit code in one place.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "attain/job.hpp"

namespace attain::cli {

/// What runs a verb once the command line is parsed: its exit code.
using Action = std::function<int()>;

/// A row of the verb table: `declare` adds the verb's options to its subcommand.
struct Verb {
  const char* name;
  const char* help;
  Action (*declare)(CLI::App& sub);
};

/// The verbs, in the order `attain --help` lists them (cli/verbs.cpp, which also declares
/// each verb's `declare_<verb>`).
const std::vector<Verb>& verbs();

// ---------------------------------------------------------------------------------------
// Shared by the verbs (cli/options.cpp).

/// A bad command-line value: one line, exit code 2.
[[noreturn]] void bad_arg(const std::string& text);
/// A whole number in [0, 2^64 - 1]; nullopt for anything else.
std::optional<std::uint64_t> parse_count(const std::string& text);
/// A finite number; nullopt for anything else.
std::optional<double> parse_number(const std::string& text);

/// The hooks of a job run from this terminal: the process's signal flag (SIGINT, SIGTERM,
/// SIGHUP and SIGQUIT stop the job: exit 130, no output file), a progress bar on stderr
/// when it is a terminal and not `quiet`, and notes on stderr.
JobHooks terminal_hooks(bool quiet);
/// The hooks of a job writing one text output: a signal removes its temporary at once.
JobHooks output_hooks();

/// Options every ensemble verb shares, as typed.
struct EnsembleArgs {
  std::string model;
  std::vector<std::string> scenarios;
  IncludeRules dirs;  ///< --scenario-dir
  std::string runs = "10000";
  std::string seed = "1";
  int threads = 0;
  int block = 0;
  std::string store = "targets";
  std::string out;
  std::string ci_width;
  std::string memory_limit;
  bool json = false;
  bool quiet = false;
  bool force_threads = false;
  CLI::App* sub = nullptr;  ///< the subcommand, to tell what was given
};

/// Declares the shared options (model, --runs, --seed, --threads, ...) on `sub`.
void add_ensemble_options(CLI::App& sub, EnsembleArgs& a, const std::string& runs_help);
/// Declares --scenario-dir on `sub`.
void add_scenario_dir(CLI::App& sub, IncludeRules& dirs);
/// The shared options as values (bad texts: bad_arg).
EnsembleSettings ensemble_settings(const EnsembleArgs& a);
/// Prepares the job: settings, hooks, inputs.
EnsembleJob prepare(const EnsembleArgs& a, const JobHooks& hooks, std::size_t row_variants = 0);

// ---------------------------------------------------------------------------------------
// Printing shared by run and compare (cli/print.cpp).

/// "p [lo, hi]" with three decimals (scientific notation for small probabilities).
std::string interval(double p, double lo, double hi);
/// Prints a JSON document on stdout.
void print_document(const nlohmann::json& document);
/// The attainment table: one row per target, one column per scenario, in percent.
void print_table(const Model& m, const std::vector<Scenario>& scenarios,
                 const std::vector<EnsembleResult>& results);
/// compare's headline: per scenario, the expected number of targets met and the cost.
void print_headline(const Model& m, const std::vector<Scenario>& scenarios,
                    const std::vector<EnsembleResult>& results);
/// The note that adaptive stopping is not a sequential test.
void adaptive_note(const EnsembleJob& job);

}  // namespace attain::cli
