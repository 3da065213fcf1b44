// The JSON documents of the jobs' results (attain/job.hpp): each result stored in memory as
// its results file would hold it, then the one document function of results_json.hpp, so
// `--json`, `attain export` and the front ends print the same document.
#include "attain/job.hpp"
#include "job_common.hpp"

namespace attain {

nlohmann::json run_job_document(const EnsembleJob& job,
                                const std::vector<EnsembleResult>& results) {
  StoredResults sr = job.stored("run");
  for (std::size_t si = 0; si < results.size(); ++si)
    sr.scenarios.push_back(stored_scenario(job.inputs.scenarios[si], results[si]));
  return run_document(sr);
}

nlohmann::json compare_job_document(const EnsembleJob& job, const CompareResult& result) {
  StoredResults sr = job.stored("compare");
  for (std::size_t i = 0; i < result.scenarios.size(); ++i)
    sr.scenarios.push_back(stored_scenario(job.inputs.scenarios[i], result.scenarios[i]));
  sr.comparisons = result.comparisons;
  return compare_document(sr);
}

nlohmann::json sweep_job_document(const EnsembleJob& job, const SweepResult& result) {
  StoredResults sr = job.stored("sweep");
  sr.analysis_scenario = job.inputs.scenarios[0].name;
  sr.sweep = result;
  return sweep_document(sr);
}

nlohmann::json search_job_document(const EnsembleJob& job, const SearchResult& result) {
  StoredResults sr = job.stored("search");
  sr.analysis_scenario = job.inputs.scenarios[0].name;
  sr.search = result;
  return search_document(sr);
}

nlohmann::json sensitivity_job_document(const EnsembleJob& job,
                                        const std::vector<SensitivityResult>& results) {
  StoredResults sr = job.stored("sensitivity");
  for (std::size_t si = 0; si < results.size(); ++si)
    sr.sensitivity.emplace_back(job.inputs.scenarios[si].name, results[si]);
  return sensitivity_document(sr);
}

}  // namespace attain
