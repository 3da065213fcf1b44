// The group /sensitivity/<scenario> of the results file: Sobol indices, conditional
// thirds and PRIM boxes, written and read back side by side.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <map>

#include "results_groups.hpp"

namespace attain::h5 {
namespace {

/// Group `prim`: each target's PRIM box, trajectory and restricted parameters.
void write_prim(hid_t g, const Model& m, const SensitivityResult& r) {
  Handle pg = group(g, "prim");
  const hsize_t nu = r.uncertain.size();
  for (const auto& pt : r.prim) {
    const PrimResult& p = pt.result;
    NcGroup tg(group(pg, m.targets[static_cast<std::size_t>(pt.target)].name));
    attr_string(tg, "reason", p.reason);
    attr_value<int>(tg, "chosen", p.chosen);
    attr_value<int>(tg, "pastes", p.pastes);
    std::vector<double> mass, coverage, density;
    std::vector<int> restricted;
    for (const auto& b : p.trajectory) {
      mass.push_back(b.mass), coverage.push_back(b.coverage), density.push_back(b.density);
      restricted.push_back(b.restricted);
    }
    tg.coordinate("step", indices(p.trajectory.size()), "peeling step (0: all the data)");
    tg.coordinate("parameter", r.uncertain, "uncertain parameter name");
    const std::vector<std::string> st1 = {"step"};
    tg.variable("trajectory_mass", mass, st1, "share of the points in the box", "1");
    tg.variable("trajectory_coverage", coverage, st1, "share of the met points in the box", "1");
    tg.variable("trajectory_density", density, st1, "share of the box's points met", "1");
    tg.variable("trajectory_restricted", restricted, st1, "restricted parameters", "1");
    if (p.box.lower.size() == nu) {
      attr_value<double>(tg, "mass", p.box.mass);
      attr_value<double>(tg, "coverage", p.box.coverage);
      attr_value<double>(tg, "density", p.box.density);
      attr_value<std::uint64_t>(tg, "points", p.box.points);
      attr_value<std::uint64_t>(tg, "hits", p.box.hits);
      attr_value<int>(tg, "restricted_count", p.box.restricted);
      tg.variable("box_lower", p.box.lower, {"parameter"}, "the box's lower limit");
      tg.variable("box_upper", p.box.upper, {"parameter"}, "the box's upper limit");
    }
    std::vector<std::string> dims;
    std::vector<double> lo, hi, qp;
    for (const auto& d : p.restricted) {
      dims.push_back(r.uncertain[static_cast<std::size_t>(d.dim)]);
      lo.push_back(d.lower_restricted ? d.lower : -std::numeric_limits<double>::infinity());
      hi.push_back(d.upper_restricted ? d.upper : std::numeric_limits<double>::infinity());
      qp.push_back(d.quasi_p);
    }
    tg.coordinate("restricted", dims, "restricted parameter, by quasi-p ascending");
    tg.variable("restricted_lower", lo, {"restricted"}, "lower limit (-inf: not restricted)");
    tg.variable("restricted_upper", hi, {"restricted"}, "upper limit (+inf: not restricted)");
    tg.variable("quasi_p", qp, {"restricted"}, "quasi-p value of the restriction", "1");
  }
}

/// Reads write_prim's group into `r.prim`, in the model's target order.
void read_prim(hid_t g, const Model& m, const std::string& path, SensitivityResult& r) {
  const std::size_t nu = r.uncertain.size();
  Handle pg(H5Gopen2(g, "prim", H5P_DEFAULT), H5Gclose, "open prim");
  // In the model's target order (the order they were written in).
  for (std::size_t t = 0; t < m.targets.size(); ++t) {
    if (!has(pg, m.targets[t].name)) continue;
    Handle tg(H5Gopen2(pg, m.targets[t].name.c_str(), H5P_DEFAULT), H5Gclose, "open prim");
    PrimTarget pt;
    pt.target = static_cast<int>(t);
    PrimResult& p = pt.result;
    p.reason = read_string_attr(tg, "reason");
    p.chosen = read_attr<int>(tg, "chosen");
    p.pastes = read_attr<int>(tg, "pastes");
    const auto mass = read_array<double>(tg, "trajectory_mass");
    const auto coverage = read_sized<double>(tg, "trajectory_coverage", mass.size(), path);
    const auto density = read_sized<double>(tg, "trajectory_density", mass.size(), path);
    const auto restricted = read_sized<int>(tg, "trajectory_restricted", mass.size(), path);
    if (p.chosen < -1 || p.chosen >= static_cast<int>(mass.size()))
      throw refusal(tg, "chosen",
                    fmt::format("is {}; a box of the trajectory's {} (or -1) was expected",
                                p.chosen, mass.size()));
    for (std::size_t i = 0; i < mass.size(); ++i) {
      PrimBox b;
      b.mass = mass[i], b.coverage = coverage[i], b.density = density[i];
      b.restricted = restricted[i];
      p.trajectory.push_back(b);
    }
    if (has(tg, "box_lower")) {
      p.box.mass = read_attr<double>(tg, "mass");
      p.box.coverage = read_attr<double>(tg, "coverage");
      p.box.density = read_attr<double>(tg, "density");
      p.box.points = read_attr<std::uint64_t>(tg, "points");
      p.box.hits = read_attr<std::uint64_t>(tg, "hits");
      p.box.restricted = read_attr<int>(tg, "restricted_count");
      p.box.lower = read_sized<double>(tg, "box_lower", nu, path);
      p.box.upper = read_sized<double>(tg, "box_upper", nu, path);
    }
    const auto dims = read_string_array(tg, "restricted", false);
    const auto lo = read_sized<double>(tg, "restricted_lower", dims.size(), path);
    const auto hi = read_sized<double>(tg, "restricted_upper", dims.size(), path);
    const auto qp = read_sized<double>(tg, "quasi_p", dims.size(), path);
    for (std::size_t i = 0; i < dims.size(); ++i) {
      PrimDimension d;
      d.name = dims[i];
      d.dim = static_cast<int>(std::find(r.uncertain.begin(), r.uncertain.end(), dims[i]) -
                               r.uncertain.begin());
      if (static_cast<std::size_t>(d.dim) >= nu)
        throw refusal(
            tg, "restricted",
            fmt::format("names '{}', which is not an uncertain parameter of the file", dims[i]));
      d.lower_restricted = std::isfinite(lo[i]), d.upper_restricted = std::isfinite(hi[i]);
      d.lower = lo[i], d.upper = hi[i], d.quasi_p = qp[i];
      p.restricted.push_back(d);
    }
    r.prim.push_back(std::move(pt));
  }
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    const auto comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

void write_sensitivity(hid_t file, const Model& m, const std::string& scenario,
                       const SensitivityResult& r) {
  Handle root = open_or_create_group(file, "sensitivity");
  NcGroup g(group(root, scenario));
  attr_string(g, "design",
              "Saltelli (2010) matrices A, B, AB_j; N rows, N (k + 2) runs; variant order A, B, "
              "AB_0 .. AB_k-1");
  attr_string(g, "sampling",
              r.sampling == Sampling::kSobol
                  ? "Sobol sequence (Boost.Random), shifted modulo 1 (seeded)"
                  : "counter-based streams");
  attr_string(g, "first_order", "Saltelli et al. (2010), centred on the mean of f(B)");
  attr_string(g, "total", "Jansen (1999)");
  attr_string(g, "interval",
              "95 % percentile interval of a Poisson(1) bootstrap of the design's rows");
  attr_value<std::uint64_t>(g, "rows", r.rows);
  attr_value<std::uint64_t>(g, "runs", r.runs);
  attr_value<int>(g, "resamples", r.resamples);
  attr_value<std::uint64_t>(g, "prim_points", r.prim_points);
  attr_value<double>(g, "seconds", r.seconds);
  std::vector<std::string> names, kinds, members;
  for (const auto& f : r.factors) {
    names.push_back(f.name);
    kinds.push_back(f.why);
    std::string list;
    for (const auto& name : f.members) list += (list.empty() ? "" : ",") + name;
    members.push_back(list);
  }
  std::vector<std::string> target, output, output_name;
  std::vector<double> mean, variance, s1, s1l, s1h, st, stl, sth;
  std::vector<double> sum_s1, sum_s1l, sum_s1h, sum_st, sum_stl, sum_sth;
  std::vector<std::uint64_t> third_runs;
  std::vector<double> third_v, third_l, third_h;
  for (const auto& o : r.outputs) {
    target.push_back(
        o.output.target < 0 ? "" : m.targets[static_cast<std::size_t>(o.output.target)].name);
    output.push_back(o.output.met ? "met" : "value");
    output_name.push_back(o.name);
    mean.push_back(o.mean);
    variance.push_back(o.variance);
    for (const auto& f : o.factors) {
      s1.push_back(f.s1.value), s1l.push_back(f.s1.lo), s1h.push_back(f.s1.hi);
      st.push_back(f.st.value), stl.push_back(f.st.lo), sth.push_back(f.st.hi);
    }
    sum_s1.push_back(o.sum_s1.value), sum_s1l.push_back(o.sum_s1.lo);
    sum_s1h.push_back(o.sum_s1.hi);
    sum_st.push_back(o.sum_st.value), sum_stl.push_back(o.sum_st.lo);
    sum_sth.push_back(o.sum_st.hi);
    for (const auto& th : o.thirds)
      for (const auto& t : th) {
        third_runs.push_back(t.runs);
        third_v.push_back(t.value), third_l.push_back(t.lo), third_h.push_back(t.hi);
      }
  }
  g.coordinate("factor", names, "factor name");
  g.coordinate("output", indices(r.outputs.size()), "output index");
  g.coordinate("parameter", r.uncertain, "uncertain parameter name");
  g.coordinate("third", std::vector<std::string>{"lower", "middle", "upper"},
               "third of the parameter's distribution");
  g.strings("factor_kind", kinds, "factor", "parameter, correlation group, --factor or shocks");
  g.strings("factor_parameters", members, "factor", "the factor's parameters, comma-separated");
  g.strings("output_target", target, "output", "the target (empty: every target together)");
  g.strings("output_kind", output, "output",
            "met (the target's indicator) or value (its node at its year)");
  g.strings("output_name", output_name, "output", "the output's name");
  g.variable("mean", mean, {"output"}, "mean of the output over the runs of A and B");
  g.variable("variance", variance, {"output"}, "variance of the output over A and B");
  const std::vector<std::string> of = {"output", "factor"}, o = {"output"};
  g.variable("S1", s1, of, "first-order Sobol index", "1");
  g.variable("S1_low", s1l, of, "its 95 % bootstrap interval, lower end", "1");
  g.variable("S1_high", s1h, of, "its 95 % bootstrap interval, upper end", "1");
  g.variable("ST", st, of, "total Sobol index", "1");
  g.variable("ST_low", stl, of, "its 95 % bootstrap interval, lower end", "1");
  g.variable("ST_high", sth, of, "its 95 % bootstrap interval, upper end", "1");
  g.variable("sum_S1", sum_s1, o, "sum of the first-order indices", "1");
  g.variable("sum_S1_low", sum_s1l, o, "its 95 % bootstrap interval, lower end", "1");
  g.variable("sum_S1_high", sum_s1h, o, "its 95 % bootstrap interval, upper end", "1");
  g.variable("sum_ST", sum_st, o, "sum of the total indices", "1");
  g.variable("sum_ST_low", sum_stl, o, "its 95 % bootstrap interval, lower end", "1");
  g.variable("sum_ST_high", sum_sth, o, "its 95 % bootstrap interval, upper end", "1");
  const std::vector<std::string> opt = {"output", "parameter", "third"};
  g.variable("third_runs", counts(third_runs), opt,
             "runs of A and B with the parameter in the third", "1");
  g.variable("third_value", third_v, opt, "the output's mean over those runs");
  g.variable("third_low", third_l, opt, "its 95 % interval, lower end");
  g.variable("third_high", third_h, opt, "its 95 % interval, upper end");
  if (r.prim.empty()) return;
  write_prim(g, m, r);
}

SensitivityResult read_sensitivity(hid_t g, const Model& m, const std::string& path) {
  SensitivityResult r;
  const std::string sampling = read_string_attr(g, "sampling");
  r.sampling = sampling.rfind("Sobol", 0) == 0 ? Sampling::kSobol : Sampling::kRandom;
  r.rows = read_attr<std::uint64_t>(g, "rows");
  r.runs = read_attr<std::uint64_t>(g, "runs");
  r.resamples = read_attr<int>(g, "resamples");
  r.prim_points = read_attr<std::uint64_t>(g, "prim_points");
  r.seconds = read_attr<double>(g, "seconds");
  const auto names = read_string_array(g, "factor", false);
  const std::size_t k = names.size();
  const auto kinds = read_strings(g, "factor_kind", k, path);
  const auto members = read_strings(g, "factor_parameters", k, path);
  r.uncertain = read_string_array(g, "parameter", false);
  for (std::size_t i = 0; i < k; ++i) {
    Factor f;
    f.name = names[i], f.why = kinds[i], f.members = split_commas(members[i]);
    r.factors.push_back(std::move(f));
  }
  const std::size_t no = read_array<int>(g, "output").size(), nu = r.uncertain.size();
  const auto target = read_strings(g, "output_target", no, path);
  const auto kind = read_strings(g, "output_kind", no, path);
  const auto oname = read_strings(g, "output_name", no, path);
  const auto mean = read_sized<double>(g, "mean", no, path);
  const auto variance = read_sized<double>(g, "variance", no, path);
  std::map<std::string, std::vector<double>> v;
  for (const char* n : {"S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"})
    v[n] = read_sized<double>(g, n, no * k, path);
  for (const char* n :
       {"sum_S1", "sum_S1_low", "sum_S1_high", "sum_ST", "sum_ST_low", "sum_ST_high"})
    v[n] = read_sized<double>(g, n, no, path);
  const auto third_runs = read_counts(g, "third_runs", no * nu * 3, std::max(r.runs, r.rows));
  for (const char* n : {"third_value", "third_low", "third_high"})
    v[n] = read_sized<double>(g, n, no * nu * 3, path);
  for (std::size_t o = 0; o < no; ++o) {
    OutputSensitivity out;
    out.output.met = kind[o] == "met";
    out.output.target = -1;
    for (std::size_t t = 0; t < m.targets.size(); ++t)
      if (!target[o].empty() && m.targets[t].name == target[o])
        out.output.target = static_cast<int>(t);
    out.name = oname[o];
    out.mean = mean[o], out.variance = variance[o];
    for (std::size_t j = 0; j < k; ++j) {
      const std::size_t i = o * k + j;
      out.factors.push_back({{v["S1"][i], v["S1_low"][i], v["S1_high"][i]},
                             {v["ST"][i], v["ST_low"][i], v["ST_high"][i]}});
    }
    out.sum_s1 = {v["sum_S1"][o], v["sum_S1_low"][o], v["sum_S1_high"][o]};
    out.sum_st = {v["sum_ST"][o], v["sum_ST_low"][o], v["sum_ST_high"][o]};
    for (std::size_t u = 0; u < nu; ++u) {
      std::array<Third, 3> th;
      for (std::size_t q = 0; q < 3; ++q) {
        const std::size_t i = (o * nu + u) * 3 + q;
        th[q] = {third_runs[i], v["third_value"][i], v["third_low"][i], v["third_high"][i]};
      }
      out.thirds.push_back(th);
    }
    r.outputs.push_back(std::move(out));
  }
  if (!has(g, "prim")) return r;
  read_prim(g, m, path, r);
  return r;
}

}  // namespace attain::h5
