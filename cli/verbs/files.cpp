// The verbs on results files: attain merge PARTS... --out FILE, attain export RESULTS.h5,
// attain report RESULTS.h5 --out PAGE.html (docs/scaling.md, docs/export.md, docs/report.md).
#include <fmt/format.h>

#include <memory>

#include "verbs.hpp"

namespace attain::cli {

Action declare_merge(CLI::App& sub) {
  struct MergeArgs {
    std::vector<std::string> parts;
    std::string out;
    bool quiet = false;
  };
  auto a = std::make_shared<MergeArgs>();
  sub.add_option("parts", a->parts, "results files of 'attain run --run-range', any order")
      ->required()
      ->expected(1, -1);
  sub.add_option("--out", a->out, "the merged results file (HDF5)")->required();
  sub.add_flag("--quiet", a->quiet, "print nothing on success");
  return [a] {
    const MergeJobResult r = merge_job(a->parts, a->out, terminal_hooks(true));
    if (!a->quiet)
      fmt::print("merged {} part{} of runs [0, {}) of {} scenario{} into {}\n", r.parts,
                 r.parts == 1 ? "" : "s", r.runs, r.scenarios, r.scenarios == 1 ? "" : "s", a->out);
    return 0;
  };
}

Action declare_export(CLI::App& sub) {
  auto a = std::make_shared<ExportJob>();
  sub.add_option("results", a->file,
                 "results file (HDF5) of run, compare, sweep, search or sensitivity")
      ->required();
  sub.add_option("--format", a->format, "csv (a tidy table) or json (a document)")->required();
  sub.add_option("--what", a->what,
                 "targets, summary, comparisons, sensitivity, sweep, search or runs (default: "
                 "what the file's analysis made)");
  sub.add_option("--out", a->out, "output file, written whole or not at all (default: stdout)");
  sub.add_flag("--bom", a->bom, "start the CSV with a UTF-8 byte order mark (for Excel)");
  return [a, &sub] {
    a->out_given = sub.count("--out") > 0;
    export_job(*a, output_hooks());
    return 0;
  };
}

Action declare_report(CLI::App& sub) {
  struct ReportArgs {
    std::string results, out;
  };
  auto a = std::make_shared<ReportArgs>();
  sub.add_option("results", a->results,
                 "results file (HDF5) of run, compare, sweep, search or sensitivity")
      ->required();
  sub.add_option("--out", a->out, "the HTML file to write")->required();
  return [a] {
    report_job(a->results, a->out, output_hooks());
    return 0;
  };
}

}  // namespace attain::cli
