// The sensitivity part of the results' documents (results_json.hpp, docs/export.md): the
// JSON document of `attain sensitivity` and its CSV table.
#include <fmt/format.h>

#include <map>

#include "attain/results_json.hpp"
#include "results_json_common.hpp"

namespace attain {

using nlohmann::json;
using namespace export_detail;

namespace {

json estimate_json(const Estimate& e) {
  return {number(e.value), number(e.lo), number(e.hi)};
}

std::string sampling_name(Sampling s) {
  return s == Sampling::kSobol ? "sobol" : "random";
}

/// One output's indices, conditional thirds and sums in the sensitivity document.
json output_json(const Model& m, const std::string& sn, const SensitivityResult& r,
                 const OutputSensitivity& o, const std::map<std::string, std::size_t>& q_of) {
  if (o.factors.size() != r.factors.size() || o.thirds.size() != r.uncertain.size())
    throw OutputError(
        fmt::format("the sensitivity of scenario '{}' has {} factors and {} "
                    "parameters, an output {} and {}",
                    sn, r.factors.size(), r.uncertain.size(), o.factors.size(), o.thirds.size()));
  json fs = json::array();
  for (std::size_t f = 0; f < r.factors.size(); ++f) {
    const auto& fi = o.factors[f];
    json e = {{"name", r.factors[f].name},  {"S1", number(fi.s1.value)},
              {"S1_low", number(fi.s1.lo)}, {"S1_high", number(fi.s1.hi)},
              {"ST", number(fi.st.value)},  {"ST_low", number(fi.st.lo)},
              {"ST_high", number(fi.st.hi)}};
    const char* keys[3] = {"low_third", "mid_third", "high_third"};
    const std::string prefix = o.output.met ? "p_" : "mean_";
    const auto member =
        r.factors[f].members.size() == 1 ? q_of.find(r.factors[f].members[0]) : q_of.end();
    for (std::size_t t = 0; t < 3; ++t)
      e[prefix + keys[t]] =
          member == q_of.end() ? json(nullptr) : number(o.thirds[member->second][t].value);
    fs.push_back(e);
  }
  json thirds = json::array();
  for (std::size_t q = 0; q < r.uncertain.size(); ++q) {
    json th = json::array();
    for (const auto& t : o.thirds[q])
      th.push_back({{"runs", t.runs},
                    {"value", number(t.value)},
                    {"low", number(t.lo)},
                    {"high", number(t.hi)}});
    thirds.push_back({{"parameter", r.uncertain[q]}, {"thirds", th}});
  }
  return {
      {"scenario", sn},
      {"target", o.output.target < 0 ? json(nullptr) : json(target_at(m, o.output.target).name)},
      {"output", o.output.met ? "met" : "value"},
      {"mean", number(o.mean)},
      {"variance", number(o.variance)},
      {"sum_S1", estimate_json(o.sum_s1)},
      {"sum_ST", estimate_json(o.sum_st)},
      {"factors", fs},
      {"conditional", thirds}};
}

/// One target's PRIM box and peeling trajectory in the sensitivity document.
json prim_json(const Model& m, const std::string& sn, const SensitivityResult& r,
               const PrimTarget& pt) {
  const auto& p = pt.result;
  json traj = json::array();
  for (const auto& b : p.trajectory)
    traj.push_back({{"mass", b.mass},
                    {"coverage", b.coverage},
                    {"density", b.density},
                    {"restricted", b.restricted}});
  json dims = json::array();
  for (const auto& d : p.restricted)
    dims.push_back({{"parameter", d.dim >= 0 && static_cast<std::size_t>(d.dim) < r.uncertain.size()
                                      ? r.uncertain[static_cast<std::size_t>(d.dim)]
                                      : d.name},
                    {"lower", d.lower_restricted ? json(d.lower) : json(nullptr)},
                    {"upper", d.upper_restricted ? json(d.upper) : json(nullptr)},
                    {"quasi_p", d.quasi_p}});
  json e = {
      {"scenario", sn},          {"target", target_at(m, pt.target).name},
      {"points", r.prim_points}, {"reason", p.reason.empty() ? json(nullptr) : json(p.reason)},
      {"trajectory", traj},      {"chosen", p.chosen},
      {"restricted", dims}};
  if (p.reason.empty())
    e["box"] = {{"mass", p.box.mass},
                {"coverage", p.box.coverage},
                {"density", p.box.density},
                {"in_words", prim_box_words(p, r.uncertain)}};
  return e;
}

}  // namespace

std::string prim_box_words(const PrimResult& p, const std::vector<std::string>& names,
                           double max_p) {
  std::string s;
  for (const auto& d : p.restricted) {
    if (!(d.quasi_p < max_p)) continue;
    const std::string n = d.dim >= 0 && static_cast<std::size_t>(d.dim) < names.size()
                              ? names[static_cast<std::size_t>(d.dim)]
                              : d.name;
    std::string part;
    if (d.lower_restricted && d.upper_restricted)
      part = fmt::format("{:.4g} <= {} <= {:.4g}", d.lower, n, d.upper);
    else if (d.lower_restricted)
      part = fmt::format("{} >= {:.4g}", n, d.lower);
    else
      part = fmt::format("{} <= {:.4g}", n, d.upper);
    s += (s.empty() ? "" : " and ") + part;
  }
  return s;
}

json sensitivity_document(const StoredResults& res) {
  need(res, ExportPart::kSensitivity);
  const Model& m = res.model;
  const SensitivityResult& first = res.sensitivity.front().second;
  json j = head(res, ExportPart::kSensitivity);
  j["seed"] = res.info.seed;
  j["rows"] = res.info.runs;
  j["sampling"] = sampling_name(first.sampling);
  j["resamples"] = first.resamples;
  j["output_file"] = output_path(res);
  j["first_order"] = "Saltelli et al. (2010), centred";
  j["total"] = "Jansen (1999)";
  j["interval"] = "95 % percentile interval, Poisson bootstrap of the design's rows";
  json sens = json::array(), prim = json::array(), scen = json::array();
  for (const auto& [sn, r] : res.sensitivity) {
    json factors = json::array();
    for (const auto& f : r.factors)
      factors.push_back({{"name", f.name}, {"kind", f.why}, {"parameters", f.members}});
    scen.push_back({{"scenario", sn},
                    {"rows", r.rows},
                    {"runs", r.runs},
                    {"factors", factors},
                    {"seconds", r.seconds}});
    std::map<std::string, std::size_t> q_of;
    for (std::size_t q = 0; q < r.uncertain.size(); ++q) q_of[r.uncertain[q]] = q;
    for (const auto& o : r.outputs) sens.push_back(output_json(m, sn, r, o, q_of));
    for (const auto& pt : r.prim) prim.push_back(prim_json(m, sn, r, pt));
  }
  j["scenarios"] = scen;
  j["sensitivity"] = sens;
  j["prim"] = prim;
  return j;
}

namespace export_detail {

void sensitivity_csv(CsvWriter& w, const StoredResults& res) {
  const Model& m = res.model;
  w.header({"scenario", "target", "output", "factor", "factor_kind", "parameters", "S1", "S1_low",
            "S1_high", "ST", "ST_low", "ST_high", "low_third", "mid_third", "high_third"});
  for (const auto& [sn, r] : res.sensitivity) {
    std::map<std::string, std::size_t> q_of;
    for (std::size_t q = 0; q < r.uncertain.size(); ++q) q_of[r.uncertain[q]] = q;
    for (const auto& o : r.outputs) {
      if (o.factors.size() != r.factors.size() || o.thirds.size() != r.uncertain.size())
        throw OutputError(fmt::format("the sensitivity of scenario '{}' is inconsistent", sn));
      const std::string target =
          o.output.target < 0 ? std::string(kJointName) : target_at(m, o.output.target).name;
      for (std::size_t f = 0; f < r.factors.size(); ++f) {
        const Factor& fa = r.factors[f];
        const FactorIndices& fi = o.factors[f];
        w.text(sn).text(target).text(o.output.met ? "met" : "value").text(fa.name).text(fa.why);
        w.text(join(fa.members, ","));
        w.number(fi.s1.value).number(fi.s1.lo).number(fi.s1.hi);
        w.number(fi.st.value).number(fi.st.lo).number(fi.st.hi);
        const auto member = fa.members.size() == 1 ? q_of.find(fa.members[0]) : q_of.end();
        for (std::size_t t = 0; t < 3; ++t)
          if (member == q_of.end())
            w.empty();
          else
            w.number(o.thirds[member->second][t].value);
        w.end_row();
      }
    }
  }
}

}  // namespace export_detail
}  // namespace attain
