// The given-data sensitivity job: first-order indices from the rows a results file stored,
// with no extra runs, and its JSON document (attain/job.hpp, docs/analyses.md).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "attain/isolation.hpp"
#include "attain/job.hpp"
#include "attain/version.hpp"
#include "attain/yaml_reader.hpp"
#include "job_common.hpp"

namespace attain {

namespace {

StoredRuns read_given_runs(const std::string& path, const std::string& scenario, const Model& m,
                           const std::string& model_path) {
  StoredRuns r;
  try {
    r = read_runs(path, scenario);
  } catch (const OutputError& e) {
    bad_arg(fmt::format("--given-data: {}", e.what()));
  }
  if (r.model != m.name)
    bad_arg(fmt::format("--given-data: '{}' holds results of model '{}', not of '{}' ({})", path,
                        r.model, m.name, model_path));
  return r;
}

/// One scenario's outputs (each target met and its value, then all targets together) and
/// the indices of the parameters that vary in its rows.
GivenDataScenario given_data_scenario(const StoredRuns& r, const std::string& name,
                                      const GivenDataOptions& go) {
  GivenDataScenario sc;
  sc.name = name;
  sc.rows = r.target_values.empty() ? 0 : r.target_values[0].size();
  // Parameters that vary in these runs (a fixed one has one value in every row).
  std::vector<std::vector<double>> x;
  for (std::size_t q = 0; q < r.parameters.size(); ++q) {
    const auto& c = r.values[q];
    if (std::any_of(c.begin(), c.end(), [&](double v) { return v != c.front(); })) {
      sc.parameters.push_back(r.parameters[q]);
      x.push_back(c);
    }
  }
  std::vector<std::vector<double>> ys;
  std::vector<double> joint(sc.rows, 1.0);
  for (std::size_t t = 0; t < r.targets.size(); ++t) {
    std::vector<double> met(sc.rows);
    for (std::size_t i = 0; i < sc.rows; ++i) {
      met[i] = compare(r.ops[t], r.target_values[t][i], r.thresholds[t]) ? 1.0 : 0.0;
      joint[i] = joint[i] * met[i];
    }
    sc.outputs.push_back({r.targets[t], true, 0, {}});
    ys.push_back(std::move(met));
    sc.outputs.push_back({r.targets[t], false, 0, {}});
    ys.push_back(r.target_values[t]);
  }
  if (r.targets.size() > 1) {
    sc.outputs.push_back({"", true, 0, {}});
    ys.push_back(joint);
  }
  std::vector<char> flags;
  for (const auto& o : sc.outputs) flags.push_back(o.met);
  std::vector<std::vector<GivenDataIndex>> all;
  try {
    all = given_data_indices(x, ys, flags, go);
  } catch (const std::invalid_argument& e) {
    bad_arg(fmt::format("--given-data: scenario '{}': {}", name, e.what()));
  }
  for (std::size_t oi = 0; oi < sc.outputs.size(); ++oi) {
    double mean = 0;
    for (double v : ys[oi]) mean += v;
    sc.outputs[oi].mean = mean / static_cast<double>(std::max<std::size_t>(sc.rows, 1));
    sc.outputs[oi].indices = std::move(all[oi]);
  }
  return sc;
}

/// A number, or null when it is not finite (JSON has no NaN).
nlohmann::json number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

}  // namespace

namespace {

/// The rows of every scenario `path` stores, checked against model `m`.
std::vector<std::pair<std::string, StoredRuns>> read_given_data(const std::string& path,
                                                                const Model& m,
                                                                const std::string& model_path) {
  std::vector<std::string> names;
  try {
    names = stored_scenarios(path);
  } catch (const OutputError& e) {
    bad_arg(fmt::format("--given-data: {}", e.what()));
  }
  if (names.empty())
    bad_arg(
        fmt::format("--given-data: '{}' holds no scenario (write it with 'attain run ... "
                    "--store targets --out FILE')",
                    path));
  std::vector<std::pair<std::string, StoredRuns>> rows;
  for (const auto& sn : names) rows.emplace_back(sn, read_given_runs(path, sn, m, model_path));
  return rows;
}

}  // namespace

GivenDataResult given_data_job(const std::string& model_path, const std::string& results_path) {
  GivenDataResult out;
  const Model m = load_model(model_path);
  out.model = m.name;
  out.path = results_path;
  // The file may come from elsewhere: read whole in a child process first (isolation.hpp),
  // so that a crash or hang of libhdf5 on it is one error line; then read here (the indices
  // use TBB, which a forked child must not).
  isolated_read(results_path, [&] { read_given_data(results_path, m, model_path); });
  for (const auto& [name, rows] : read_given_data(results_path, m, model_path))
    out.scenarios.push_back(given_data_scenario(rows, name, out.options));
  return out;
}

nlohmann::json given_data_document(const GivenDataResult& result) {
  using nlohmann::json;
  json out = json::array();
  for (const auto& sc : result.scenarios)
    for (const auto& o : sc.outputs) {
      json fs = json::array();
      const std::string prefix = o.met ? "p_" : "mean_";
      for (std::size_t q = 0; q < o.indices.size(); ++q) {
        const auto& idx = o.indices[q];
        fs.push_back({{"name", sc.parameters[q]},
                      {"S1", number(idx.s1.value)},
                      {"S1_low", number(idx.s1.lo)},
                      {"S1_high", number(idx.s1.hi)},
                      {"ST", nullptr},
                      {"ST_low", nullptr},
                      {"ST_high", nullptr},
                      {prefix + "low_third", number(idx.thirds[0].value)},
                      {prefix + "mid_third", number(idx.thirds[1].value)},
                      {prefix + "high_third", number(idx.thirds[2].value)}});
      }
      out.push_back({{"scenario", sc.name},
                     {"target", o.target.empty() ? json(nullptr) : json(o.target)},
                     {"output", o.met ? "met" : "value"},
                     {"method", "given-data"},
                     {"runs", sc.rows},
                     {"mean", number(o.mean)},
                     {"factors", fs}});
    }
  json j;
  j["schema"] = "attain-sensitivity-given-data";
  j["version"] = kDocumentVersion;
  j["engine_version"] = kEngineVersion;
  j["model"] = result.model;
  j["given_data"] = result.path;
  j["method"] = "given-data first-order indices by binning (ANOVA estimator)";
  j["interval"] = fmt::format("95 % Student-t interval from {} batches of consecutive runs",
                              result.options.batches);
  j["sensitivity"] = out;
  j["prim"] = json::array();
  return j;
}

}  // namespace attain
