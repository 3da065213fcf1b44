// The attain command line: the verb table (cli/verbs.cpp) over the engine's job layer
// (attain/job.hpp), with every error mapped to its exit code here, in one place.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <map>
#include <new>

#include "attain/diagnostics.hpp"
#include "attain/version.hpp"
#include "build_commit.hpp"
#include "processes.hpp"
#include "verbs.hpp"

namespace {

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
    fmt::print(stderr, "{}\n", e.user_message());
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    // The check before the run counts what is certain; quantile sketches of values that
    // span many octaves grow past it (up to 64 KiB per node and step in every chunk's
    // copy), and other programs may take memory meanwhile.
    clear();
    fmt::print(stderr,
               "attain: error: out of memory during the run; use fewer --threads (each holds "
               "its own blocks and two chunks of node statistics) or leave out --out (node "
               "statistics of every step are kept only for the results file)\n");
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "attain: internal error: {}\n", e.what());
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
    fmt::print(stderr, "attain: error: {} (see 'attain --help')\n", e.what());
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
