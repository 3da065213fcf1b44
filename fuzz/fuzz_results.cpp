// libFuzzer target: the results-file and checkpoint readers on genuine files mutated through
// the HDF5 API (h5_mutate.hpp), so every file is well-formed HDF5 and a crash is attain's.
//
// At start the target writes its genuine seeds with the engine itself, from models/: two
// parts of a `run` (--run-range, with the exact state), a `run --store full`, a `compare`,
// a `sensitivity` and a checkpoint. The input's first byte picks a seed, the rest is the
// program of edits. Then it calls, in process, read_results, read_runs, read_rows,
// read_state (and the merge of the state, and a summary of it), merge_job (a part with
// its genuine sibling), read_checkpoint_info and read_checkpoint_state. Every call must
// return, or throw an attain::Error of exit code 2 whose message is one printable line
// (oracle.hpp); rows handed on must be as wide as the model's; and no call may open the
// file that the edits' external links, external storage and virtual datasets name.
// Crashes, sanitizer reports, > 10 s and > 2 GB are findings too (tools/fuzz's flags).
//
// Reproduce: build-fuzz/fuzz_results FILE; with ATTAIN_FUZZ_KEEP=OUT.h5 the mutated file is
// also written to OUT.h5 (for a checkpoint seed, OUT.h5 is its state.h5) and the edits
// are printed. ATTAIN_FUZZ_NO_OUTSIDE=1 makes no external links, storage or virtual datasets.
#include <fmt/format.h>
#include <stdlib.h>  // mkdtemp
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "attain/analysis.hpp"
#include "attain/checkpoint.hpp"
#include "attain/errors.hpp"
#include "attain/job.hpp"
#include "attain/results_file.hpp"
#include "h5_mutate.hpp"
#include "h5_seeds.hpp"
#include "oracle.hpp"

namespace fs = std::filesystem;
using namespace attain;

namespace {

fuzz::SeedSet* seeds = nullptr;
std::string outside;  ///< the file the edits' external references name ("" when unwatched)

/// Fails the input: prints the finding and the edits, and aborts (libFuzzer saves it).
[[noreturn]] void finding(const std::string& what, const std::string& edits) {
  std::fprintf(stderr, "attain-fuzz: finding (results): %s\nedits:\n%s", what.c_str(),
               edits.c_str());
  std::abort();
}

/// Runs `call`; "" when it returned or refused the file as it must, else the finding.
std::string refusal(const char* name, const std::function<void()>& call) {
  try {
    call();
    return "";
  } catch (const Error& e) {
    std::string why = fuzz::check_error_line(e.user_message());
    if (why.empty() && e.exit_code() != kExitInput)
      why = fmt::format("exit code {}, not {}", e.exit_code(), kExitInput);
    return why.empty() ? "" : fmt::format("{}: {}", name, why);
  } catch (const fuzz::RowsError& e) {
    return fmt::format("{}: {}", name, e.what());
  } catch (const std::exception& e) {
    return fmt::format("{}: an exception that is not an attain::Error escaped: {}", name,
                       printable(e.what(), 300));
  } catch (...) {
    return fmt::format("{}: an exception that is not a std::exception escaped", name);
  }
}

void check(const char* name, const std::function<void()>& call, const std::string& edits) {
  if (std::string why = refusal(name, call); !why.empty()) finding(why, edits);
}

/// Every reader on results file `path` of seed `s`.
void read_all(const fuzz::Seed& s, const std::string& path, const std::string& edits) {
  check(
      "read_results", [&] { read_results(path); }, edits);
  for (std::size_t i = 0; i < s.scenarios.size(); ++i) {
    const fuzz::SeedScenario& sc = s.scenarios[i];
    if (s.rows) {
      check(
          "read_runs", [&] { read_runs(path, sc.name); }, edits);
      check(
          "read_rows",
          [&] {
            fuzz::RowsChecker sink(sc.widths);
            read_rows(path, sc.name, 64, sink);
          },
          edits);
    }
    if (s.state)
      check(
          "read_state",
          [&] {
            NullSink none;
            const auto prototypes =
                scenario_reducers(*sc.program, true, s.rows ? &none : nullptr, s.full);
            StudyState state = read_state(path, sc.name, prototypes);
            const auto reducers = state.result();
            scenario_result(*sc.program, reducers, true, 0);
          },
          edits);
  }
  if (!s.sibling.empty())
    check(
        "merge_job",
        [&] {
          const std::string out = seeds->work + "/merged.h5";
          merge_job({path, s.sibling}, out, {});
          fs::remove(out);
        },
        edits);
}

/// The checkpoint readers on folder `folder` of seed `s`.
void read_checkpoint(const fuzz::Seed& s, const std::string& folder, const std::string& edits) {
  CheckpointInfo info;
  if (!refusal("read_checkpoint_info", [&] { info = read_checkpoint_info(folder); }).empty()) {
    check(
        "read_checkpoint_info", [&] { read_checkpoint_info(folder); }, edits);
    return;
  }
  for (std::size_t i = 0; i < info.scenarios.size() && i < s.scenarios.size(); ++i)
    check(
        "read_checkpoint_state",
        [&] {
          NullSink none;
          const auto prototypes =
              scenario_reducers(*s.scenarios[i].program, true, s.rows ? &none : nullptr, s.full);
          StudyState state = read_checkpoint_state(folder, i, prototypes);
          state.result();
        },
        edits);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  seeds = new fuzz::SeedSet(fuzz::make_seeds());
  // ATTAIN_FUZZ_NO_OUTSIDE=1: no external references (to look for other findings while the
  // reader still follows them).
  const char* no = std::getenv("ATTAIN_FUZZ_NO_OUTSIDE");
  outside = (!no || std::string(no) != "1") && seeds->watch_outside() ? seeds->outside : "";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const fuzz::Seed& s = seeds->seeds[data[0] % seeds->seeds.size()];
  const std::string folder = seeds->work + "/in.checkpoint";
  const std::string path = s.checkpoint ? folder + "/state.h5" : seeds->work + "/in.h5";
  if (s.checkpoint) fs::create_directories(folder);
  fs::copy_file(s.path, path, fs::copy_options::overwrite_existing);
  const std::string edits = fuzz::mutate_h5(path, data + 1, size - 1, outside);
  if (const char* keep = std::getenv("ATTAIN_FUZZ_KEEP")) {
    fs::copy_file(path, keep, fs::copy_options::overwrite_existing);
    std::fprintf(stderr, "attain-fuzz: seed %s, edits:\n%s", s.name.c_str(), edits.c_str());
  }
  seeds->unread_outside();
  if (s.checkpoint)
    read_checkpoint(s, folder, edits);
  else
    read_all(s, path, edits);
  if (seeds->outside_read())
    finding(fmt::format("a reader opened '{}', a file that the results file names (an external "
                        "link, external storage or a virtual dataset)",
                        seeds->outside),
            edits);
  return 0;
}
