// The HTML report (docs/report.md): report_data() gathers what a results file says as one
// JSON document; render_report() puts it, Chart.js and the page's template
// (engine/src/report/, embedded by CMake into report_assets.cpp) into one HTML file.
#include "attain/report.hpp"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string_view>

#include "attain/distributions.hpp"
#include "attain/graph.hpp"
#include "attain/graph_svg.hpp"
#include "report_assets.hpp"

namespace attain {

const char* default_chartjs_path() {
  return ATTAIN_CHARTJS_PATH;
}

namespace {

using nlohmann::json;

/// A number for the page: NaN and infinities become null (JSON has none).
json num(double v) {
  return std::isfinite(v) ? json(v) : json(nullptr);
}

std::string g(double v) {
  return fmt::format("{:.4g}", v);
}

/// A distribution in words, with the range holding 90 % of its draws.
std::string dist_words(const DistSpec& d) {
  if (d.fixed) return fmt::format("fixed at {}", g(d.fixed_value));
  const auto& p = d.p;
  auto at = [&](std::size_t i) { return i < p.size() ? p[i] : std::nan(""); };
  std::string s;
  switch (d.kind) {
    case DistKind::kNormal:
      s = fmt::format("normal: mean {}, standard deviation {}", g(at(0)), g(at(1)));
      break;
    case DistKind::kLogNormal: {
      const double mu = at(0), sigma = at(1);
      const double mean = std::exp(mu + sigma * sigma / 2);
      const double sd = mean * std::sqrt(std::expm1(sigma * sigma));
      s = fmt::format("lognormal: mean {}, standard deviation {}", g(mean), g(sd));
      break;
    }
    case DistKind::kUniform:
      s = fmt::format("uniform from {} to {}", g(at(0)), g(at(1)));
      break;
    case DistKind::kTriangular:
      s = fmt::format("triangular from {} to {}, most likely {}", g(at(0)), g(at(2)), g(at(1)));
      break;
    case DistKind::kPert:
      s = fmt::format("PERT from {} to {}, most likely {}", g(at(0)), g(at(2)), g(at(1)));
      if (at(3) != 4) s += fmt::format(" (weight of the most likely value {})", g(at(3)));
      break;
    case DistKind::kBeta: {
      const double a = at(0), b = at(1), lo = at(2), hi = at(3);
      s = fmt::format("beta with shape {} and {}", g(a), g(b));
      if (lo != 0 || hi != 1) s += fmt::format(", scaled to {} .. {}", g(lo), g(hi));
      s += fmt::format(" (mean {})", g(lo + (hi - lo) * a / (a + b)));
      break;
    }
    case DistKind::kGamma:
      s = fmt::format("gamma with shape {} and scale {} (mean {})", g(at(0)), g(at(1)),
                      g(at(0) * at(1)));
      break;
    case DistKind::kTruncNormal:
      s = fmt::format("normal: mean {}, standard deviation {}, kept within {} .. {}", g(at(0)),
                      g(at(1)), g(at(2)), g(at(3)));
      break;
    case DistKind::kDiscrete: {
      s = "one of ";
      double previous = 0;
      for (std::size_t i = 0; i < d.table.values.size(); ++i) {
        const double c = i < d.table.cumulative.size() ? d.table.cumulative[i] : 1;
        s += fmt::format("{}{} ({:.3g} %)", i ? ", " : "", g(d.table.values[i]),
                         100 * (c - previous));
        previous = c;
      }
      break;
    }
    case DistKind::kEmpirical:
      s = d.table.values.empty()
              ? "observed values"
              : fmt::format("one of {} observed values from {} to {}, each equally likely",
                            d.table.values.size(), g(d.table.values.front()),
                            g(d.table.values.back()));
      break;
    case DistKind::kPoisson:
      s = fmt::format("Poisson count with mean {}", g(at(0)));
      break;
    case DistKind::kBinomial:
      s = fmt::format("binomial count of {} trials with probability {}", g(at(0)), g(at(1)));
      break;
    case DistKind::kBernoulli:
      s = fmt::format("yes (1) with probability {}, else no (0)", g(at(0)));
      break;
  }
  if (d.kind != DistKind::kBernoulli && d.kind != DistKind::kDiscrete && !check_params(d.kind, p)) {
    const DistTable* table = d.kind == DistKind::kEmpirical ? &d.table : nullptr;
    const double lo = quantile(d.kind, p, table, 0.05), hi = quantile(d.kind, p, table, 0.95);
    if (std::isfinite(lo) && std::isfinite(hi) && lo < hi)
      s += fmt::format("; 90 % of draws between {} and {}", g(lo), g(hi));
  }
  return s;
}

/// A lever's rule in words.
std::string lever_words(const LeverRule& r) {
  std::string s;
  switch (r.form) {
    case LeverRule::Form::kConstant:
      s = g(r.value);
      break;
    case LeverRule::Form::kSeries:
      for (std::size_t i = 0; i < r.series.size(); ++i)
        s += fmt::format("{}{}: {}", i ? ", " : "", g(r.series[i].first), g(r.series[i].second));
      break;
    case LeverRule::Form::kGrowth:
      s = fmt::format("starts at {} and grows {} % a year", g(r.initial), g(100 * r.rate));
      break;
  }
  if (r.scale != 1) s += fmt::format(", times {}", g(r.scale));
  return s;
}

json proportion(std::uint64_t hits, std::uint64_t runs, double p, double lo, double hi) {
  return {{"hits", hits}, {"runs", runs}, {"p", num(p)}, {"lo", num(lo)}, {"hi", num(hi)}};
}

json proportion(const Proportion& p) {
  return proportion(p.hits, p.runs, p.p, p.lo, p.hi);
}

json estimate(const Estimate& e) {
  return json::array({num(e.value), num(e.lo), num(e.hi)});
}

json model_json(const Model& m, const ReportOptions& options) {
  json j;
  j["name"] = m.name;
  j["description"] = m.description;
  j["path"] = m.path;
  json times = json::array();
  for (int k = 0; k < m.time.steps(); ++k) times.push_back(m.time.time(k));
  j["time"] = {
      {"start", m.time.start}, {"end", m.time.end}, {"step", m.time.step}, {"times", times}};
  j["source"] = m.source_text;
  j["cost_unit"] = m.cost_unit;
  json nodes = json::array();
  for (const auto& n : m.nodes) {
    json node = {{"name", n.name}, {"kind", std::string(kind_name(n.kind))}, {"label", n.label},
                 {"unit", n.unit}, {"description", n.description},           {"source", n.source}};
    if (n.kind == NodeKind::kParameter) node["dist"] = dist_words(n.dist);
    if (n.kind == NodeKind::kShock) node["dist"] = std::string(dist_name(n.dist.kind));
    if (n.kind == NodeKind::kLever) node["rule"] = lever_words(n.lever);
    if (!n.history.empty()) {
      json h = json::array();
      for (const auto& [t, v] : n.history) h.push_back({t, v});
      node["history"] = h;
    }
    nodes.push_back(node);
  }
  j["nodes"] = nodes;
  json correlations = json::array();
  for (const auto& c : m.correlations) {
    json matrix = json::array();
    for (Eigen::Index r = 0; r < c.rank.rows(); ++r) {
      json row = json::array();
      for (Eigen::Index col = 0; col < c.rank.cols(); ++col) row.push_back(num(c.rank(r, col)));
      matrix.push_back(row);
    }
    correlations.push_back({{"parameters", c.parameters}, {"matrix", matrix}});
  }
  j["correlations"] = correlations;
  json targets = json::array();
  for (const auto& t : m.targets) {
    const Node* n = m.find(t.node);
    targets.push_back({{"name", t.name},
                       {"node", t.node},
                       {"label", t.label},
                       {"year", t.year},
                       {"op", std::string(cmp_name(t.op))},
                       {"threshold", num(t.threshold)},
                       {"source", t.source},
                       {"unit", n ? n->unit : ""},
                       {"node_label", n ? n->label : ""}});
  }
  j["targets"] = targets;
  json actuals = json::array();
  for (const auto& a : m.actuals) {
    const Node* n = m.find(a.node);
    actuals.push_back({{"node", a.node},
                       {"label", a.label},
                       {"year", a.year},
                       {"value", num(a.value)},
                       {"source", a.source},
                       {"unit", n ? n->unit : ""}});
  }
  j["actuals"] = actuals;
  j["graph_svg"] = nullptr;
  if (options.graph) {
    try {
      const DependencyGraph graph = build_graph(m);
      const GraphDrawing plan = plan_graph_drawing(m, graph);
      if (!plan.note.empty()) j["graph_note"] = plan.note;
      const std::string svg = report_graph_svg(m, graph, plan);
      if (!svg.empty()) j["graph_svg"] = svg;
    } catch (const Error& e) {
      j["graph_error"] = e.what();
    }
  }
  return j;
}

/// The nodes whose distribution over time the page draws: targets' and actuals' nodes
/// (fan charts) and levers (what each scenario sets).
std::vector<int> charted_nodes(const Model& m) {
  std::vector<char> keep(m.nodes.size(), 0);
  for (const auto& t : m.targets)
    if (auto it = m.node_index.find(t.node); it != m.node_index.end()) keep[it->second] = 1;
  for (const auto& a : m.actuals)
    if (auto it = m.node_index.find(a.node); it != m.node_index.end()) keep[it->second] = 1;
  for (std::size_t i = 0; i < m.nodes.size(); ++i)
    if (m.nodes[i].kind == NodeKind::kLever) keep[i] = 1;
  std::vector<int> out;
  for (std::size_t i = 0; i < keep.size(); ++i)
    if (keep[i]) out.push_back(static_cast<int>(i));
  return out;
}

json scenario_json(const Model& m, const StoredScenario& s) {
  const auto& r = s.result;
  json j;
  j["name"] = s.name;
  j["description"] = s.description;
  j["path"] = s.path;
  json sources = json::array();
  for (const auto& [path, text] : s.sources) sources.push_back({{"path", path}, {"text", text}});
  j["sources"] = sources;
  j["runs"] = r.runs;
  j["seconds"] = num(s.seconds);
  json targets = json::array();
  for (const auto& t : r.targets)
    targets.push_back(proportion(t.hits, t.runs, t.probability, t.ci_low, t.ci_high));
  j["targets"] = targets;
  j["joint"] = proportion(r.joint_hits, r.runs, r.joint_probability, r.joint_low, r.joint_high);
  // The headline: the expected number of targets met, and the scenario's cost.
  j["met"] = nullptr;
  if (r.met.size() == m.targets.size() + 1) {
    const MeanInterval e = targets_met(r.met);
    j["met"] = {{"expected", num(e.mean)}, {"lo", num(e.lo)}, {"hi", num(e.hi)}};
  }
  j["cost"] = r.cost ? json(num(r.cost->total)) : json(nullptr);
  json actuals = json::array();
  for (const auto& a : r.actuals)
    actuals.push_back({{"percentile", num(a.percentile)}, {"runs", a.runs}});
  j["actuals"] = actuals;
  j["series"] = nullptr;
  if (s.summary) {
    const auto& sum = *s.summary;
    const std::size_t steps = static_cast<std::size_t>(m.time.steps());
    const std::size_t levels = sum.levels.size();
    json series = json::object();
    for (int node : charted_nodes(m)) {
      const std::size_t base = static_cast<std::size_t>(node) * steps;
      if (base + steps > sum.mean.size()) continue;
      json mean = json::array(), sd = json::array(), lo = json::array(), hi = json::array(),
           q = json::array();
      for (std::size_t k = 0; k < steps; ++k) {
        mean.push_back(num(sum.mean[base + k]));
        sd.push_back(base + k < sum.sd.size() ? num(sum.sd[base + k]) : json(nullptr));
        lo.push_back(base + k < sum.min.size() ? num(sum.min[base + k]) : json(nullptr));
        hi.push_back(base + k < sum.max.size() ? num(sum.max[base + k]) : json(nullptr));
        json row = json::array();
        for (std::size_t l = 0; l < levels; ++l) {
          const std::size_t at = (base + k) * levels + l;
          row.push_back(at < sum.quantiles.size() ? num(sum.quantiles[at]) : json(nullptr));
        }
        q.push_back(row);
      }
      series[m.nodes[static_cast<std::size_t>(node)].name] = {
          {"mean", mean}, {"sd", sd}, {"min", lo}, {"max", hi}, {"q", q}};
    }
    j["levels"] = sum.levels;
    j["series"] = series;
  }
  return j;
}

json paired_json(const PairedTarget& t) {
  json j = {{"name", t.name},
            {"reference", proportion(t.reference)},
            {"other", proportion(t.other)},
            {"difference", num(t.paired.difference)},
            {"lo", num(t.paired.lo)},
            {"hi", num(t.paired.hi)},
            {"unpaired_lo", num(t.unpaired.lo)},
            {"unpaired_hi", num(t.unpaired.hi)},
            {"helped", t.table.helped},
            {"hurt", t.table.hurt},
            {"both", t.table.both},
            {"neither", t.table.neither},
            {"p_value", num(t.p_value)}};
  if (t.value_difference)
    j["value_difference"] = {{"mean", num(t.value_difference->mean)},
                             {"lo", num(t.value_difference->lo)},
                             {"hi", num(t.value_difference->hi)}};
  return j;
}

json sweep_json(const SweepResult& s) {
  json axes = json::array();
  for (std::size_t a = 0; a < s.axes.size(); ++a)
    axes.push_back({{"lever", s.axes[a].lever},
                    {"from", num(s.axes[a].from)},
                    {"to", num(s.axes[a].to)},
                    {"points", s.axes[a].points},
                    {"absolute", a < s.absolute.size() && s.absolute[a]}});
  json points = json::array();
  for (const auto& p : s.points) {
    json targets = json::array();
    for (const auto& t : p.targets) targets.push_back(proportion(t));
    points.push_back({{"levels", p.levels}, {"targets", targets}, {"joint", proportion(p.joint)}});
  }
  return {{"axes", axes}, {"points", points}, {"runs", s.runs}, {"non_monotone", s.non_monotone}};
}

json search_json(const SearchResult& s) {
  json evaluations = json::array();
  for (const auto& e : s.evaluations)
    evaluations.push_back({{"level", num(e.level)}, {"p", proportion(e.p)}});
  return {{"levers", s.levers},
          {"absolute", s.absolute},
          {"target", s.target},
          {"goal", num(s.goal)},
          {"range", {num(s.range_low), num(s.range_high)}},
          {"tolerance", num(s.tolerance)},
          {"reachable", s.reachable},
          {"level", s.reachable ? num(s.level) : json(nullptr)},
          {"at_level", proportion(s.at_level)},
          {"level_low", s.reachable ? num(s.level_low) : json(nullptr)},
          {"level_high", s.reachable ? num(s.level_high) : json(nullptr)},
          {"monotone", s.monotone},
          {"evaluations", evaluations},
          {"runs", s.runs}};
}

json sensitivity_json(const std::string& scenario, const SensitivityResult& r) {
  json factors = json::array();
  for (const auto& f : r.factors)
    factors.push_back(
        {{"name", f.name}, {"members", f.members}, {"shocks", f.shocks}, {"why", f.why}});
  json outputs = json::array();
  for (const auto& o : r.outputs) {
    json fs = json::array();
    for (const auto& f : o.factors) fs.push_back({{"s1", estimate(f.s1)}, {"st", estimate(f.st)}});
    json thirds = json::array();
    for (const auto& t3 : o.thirds) {
      json row = json::array();
      for (const auto& t : t3)
        row.push_back(
            {{"runs", t.runs}, {"value", num(t.value)}, {"lo", num(t.lo)}, {"hi", num(t.hi)}});
      thirds.push_back(row);
    }
    outputs.push_back({{"target", o.output.target},
                       {"met", o.output.met},
                       {"name", o.name},
                       {"mean", num(o.mean)},
                       {"variance", num(o.variance)},
                       {"factors", fs},
                       {"sum_s1", estimate(o.sum_s1)},
                       {"sum_st", estimate(o.sum_st)},
                       {"thirds", thirds}});
  }
  json prim = json::array();
  for (const auto& p : r.prim) {
    json restricted = json::array();
    for (const auto& d : p.result.restricted)
      restricted.push_back({{"dim", d.dim},
                            {"name", d.name},
                            {"lower", num(d.lower)},
                            {"upper", num(d.upper)},
                            {"lower_restricted", d.lower_restricted},
                            {"upper_restricted", d.upper_restricted},
                            {"quasi_p", num(d.quasi_p)}});
    const auto& b = p.result.box;
    prim.push_back({{"target", p.target},
                    {"reason", p.result.reason},
                    {"box",
                     {{"mass", num(b.mass)},
                      {"coverage", num(b.coverage)},
                      {"density", num(b.density)},
                      {"points", b.points},
                      {"hits", b.hits}}},
                    {"restricted", restricted}});
  }
  return {{"scenario", scenario},
          {"rows", r.rows},
          {"runs", r.runs},
          {"resamples", r.resamples},
          {"sampling", r.sampling == Sampling::kSobol ? "sobol" : "random"},
          {"factors", factors},
          {"uncertain", r.uncertain},
          {"outputs", outputs},
          {"prim", prim},
          {"prim_points", r.prim_points}};
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw OutputError(
        fmt::format("cannot read Chart.js at '{}', which the report inlines; install Debian's "
                    "libjs-chart.js (tools/deps.sh does) or configure with -DATTAIN_CHARTJS=PATH",
                    path));
  std::ostringstream s;
  s << in.rdbuf();
  if (!in.good() && !in.eof()) throw OutputError(fmt::format("cannot read Chart.js at '{}'", path));
  return s.str();
}

/// Text placed inside a <script> element must not contain "</script" (any case) or "<!--",
/// which would end or confuse the element; "<\/script" means the same to JavaScript.
std::string script_safe(std::string js) {
  for (std::size_t i = 0; (i = js.find("</", i)) != std::string::npos; i += 3) {
    std::string_view rest(js.data() + i + 2, std::min<std::size_t>(6, js.size() - i - 2));
    std::string lower(rest);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "script") js.replace(i, 2, "<\\/");
  }
  for (std::size_t i = 0; (i = js.find("<!--", i)) != std::string::npos;)
    js.replace(i, 4, "<\\!--");
  return js;
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string json_for_script(const json& j) {
  const std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xe2' && i + 2 < text.size() && text[i + 1] == '\x80' &&
               (text[i + 2] == '\xa8' || text[i + 2] == '\xa9')) {
      out += text[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";  // only ever inside strings
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

json report_data(const StoredResults& r, const ReportOptions& options) {
  json j;
  j["generator"] = "attain report";
  j["file"] = r.path;
  j["layout_version"] = fmt::format("{}.{}", r.version_major, r.version_minor);
  j["engine_version"] = r.engine_version;
  j["created"] = r.created;
  j["rng"] = r.rng;
  j["run"] = {{"seed", r.info.seed},
              {"runs", r.info.runs},
              {"first_run", r.info.first_run},
              {"chunk", r.info.chunk},
              {"store", std::string(store_name(r.info.store))},
              {"analysis", r.info.analysis},
              {"ci_width", num(r.info.ci_width)}};
  j["model"] = model_json(r.model, options);
  json scenarios = json::array();
  for (const auto& s : r.scenarios) scenarios.push_back(scenario_json(r.model, s));
  j["scenarios"] = scenarios;
  json comparisons = json::array();
  for (const auto& c : r.comparisons) {
    json targets = json::array();
    for (const auto& t : c.targets) targets.push_back(paired_json(t));
    comparisons.push_back({{"reference", c.reference},
                           {"scenario", c.scenario},
                           {"targets", targets},
                           {"joint", paired_json(c.joint)}});
  }
  j["comparisons"] = comparisons;
  j["sweep"] = r.sweep ? sweep_json(*r.sweep) : json(nullptr);
  j["search"] = r.search ? search_json(*r.search) : json(nullptr);
  j["analysis_scenario"] = r.analysis_scenario;
  json sensitivity = json::array();
  for (const auto& [name, s] : r.sensitivity) sensitivity.push_back(sensitivity_json(name, s));
  j["sensitivity"] = sensitivity;
  return j;
}

std::string render_report(const StoredResults& results, const ReportOptions& options) {
  const std::string chartjs = script_safe(read_file(options.chartjs_path));
  const json data = report_data(results, options);
  const std::string& title = results.model.name;
  const std::string_view html = report_asset("report.html");
  // One pass over the template: each {{name}} is replaced once, so nothing inserted (a
  // label, a model's text) is ever read as a placeholder.
  std::string out;
  out.reserve(html.size() + chartjs.size() + 4096);
  std::size_t at = 0;
  while (true) {
    const std::size_t open = html.find("{{", at);
    if (open == std::string_view::npos) break;
    const std::size_t close = html.find("}}", open);
    if (close == std::string_view::npos) break;
    out.append(html.substr(at, open - at));
    const std::string_view name = html.substr(open + 2, close - open - 2);
    if (name == "title")
      out += html_escape(fmt::format("{} — attain report", title));
    else if (name == "style")
      out += report_asset("report.css");
    else if (name == "chartjs")
      out += chartjs;
    else if (name == "script")
      out += script_safe(std::string(report_asset("report.js")));
    else if (name == "data")
      out += json_for_script(data);
    else
      throw std::logic_error(fmt::format("report.html: unknown placeholder {{{{{}}}}}", name));
    at = close + 2;
  }
  out.append(html.substr(at));
  return out;
}

}  // namespace attain
