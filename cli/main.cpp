// The attain command line: the verb table (cli/verbs.cpp) over the engine's job layer
// (attain/job.hpp), with every error mapped to its exit code here, in one place.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <map>
#include <new>
#include <string_view>

#include "attain/diagnostics.hpp"
#include "attain/version.hpp"
#include "build_commit.hpp"
#include "processes.hpp"
#include "verbs.hpp"

namespace {

/// The longest error line printed, in bytes (a results file's string can be any length).
constexpr std::size_t kErrorLineBytes = 4000;

/// Prints one error line, whatever its source (a model, a results file, a checkpoint,
/// HDF5's own text): control characters as visible escapes (so no text can forge a second
/// line or reach the terminal as a command), cut at a UTF-8 character boundary to
/// kErrorLineBytes ("..." included).
void print_error(std::string_view line) {
  // printable() may pass its limit by one escape (6 bytes) before the "..." (3 bytes).
  fmt::print(stderr, "{}\n", attain::printable(line, kErrorLineBytes - 9));
}

/// Runs `action`; an error a user can cause is one line on stderr and its exit code.
int run_action(const attain::cli::Action& action) {
  // On a terminal, an error first clears a progress bar it left on the line.
  const auto clear = [] {
    if (::isatty(2)) fmt::print(stderr, "\r{:90}\r", "");
  };
  try {
    return action();
  } catch (const attain::Error& e) {
    clear();
    print_error(e.user_message());
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    // The check before the run counts what is certain; quantile sketches of values that
    // span many octaves grow past it (up to 64 KiB per node and step in every chunk's
    // copy), and other programs may take memory meanwhile.
    clear();
    print_error(
        "attain: error: out of memory during the run; use fewer --threads (each holds its own "
        "blocks and two chunks of node statistics) or leave out --out (node statistics of "
        "every step are kept only for the results file)");
    return 1;
  } catch (const std::exception& e) {
    print_error(fmt::format("attain: internal error: {}", e.what()));
    return 1;
  }
}

int run_command(int argc, char** argv) {
  CLI::App app{"attain: probability of reaching a plan's targets, by Monte Carlo over its model"};
  app.set_version_flag("--version", fmt::format("attain {} (commit {})", attain::kEngineVersion,
                                                attain::cli::build_commit()));
  app.require_subcommand(1);
  std::map<CLI::App*, attain::cli::Action> actions;
  for (const auto& verb : attain::cli::verbs()) {
    CLI::App* sub = app.add_subcommand(verb.name, verb.help);
    actions[sub] = verb.declare(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error(fmt::format("attain: error: {} (see 'attain --help')", e.what()));
    return attain::kExitInput;
  }
  for (auto& [sub, action] : actions)
    if (*sub) return run_action(action);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Under mpirun (an ATTAIN_MPI build): MPI for the command's lifetime, and one ending for
  // every rank (processes.hpp).
  attain::cli::Processes processes(argc, argv);
  return processes.finish(run_command(argc, argv));
}
