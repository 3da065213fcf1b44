// YAML model and scenario reader: structure, keys, types, distributions, references.
#include "attain/yaml_reader.hpp"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numbers>
#include <set>
#include <sstream>

#include "attain/validate.hpp"

namespace attain {
namespace {

using Keys = std::vector<std::string>;

/// @brief Fails with yaml-cpp's complaint about `text` at `mark`, and a hint where a
/// common mistake explains it: a tab in the indentation of the line (or the line
/// before), or an unquoted comparison such as `op: >=` (YAML reads `>` as the start of
/// a folded block scalar, and flow mappings reject it).
[[noreturn]] void fail_yaml(const std::string& text, const std::string& path,
                            const YAML::Mark& mark, const std::string& msg) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  const int at = mark.line;  // 0-based
  for (int l : {at, at - 1}) {
    if (l < 0 || l >= static_cast<int>(lines.size())) continue;
    const std::string& line = lines[static_cast<std::size_t>(l)];
    const std::size_t indent = line.find_first_not_of(" \t");
    const std::size_t tab = line.find('\t');
    if (tab != std::string::npos && tab < std::min(indent, line.size()))
      fail({path, l + 1, static_cast<int>(tab) + 1},
           fmt::format("malformed YAML: {}: a tab in the indentation; YAML indents with spaces "
                       "only, so replace the tab with spaces",
                       msg));
  }
  if (at >= 0 && at < static_cast<int>(lines.size())) {
    const std::string& line = lines[static_cast<std::size_t>(at)];
    // An unquoted comparison as a value, before the place yaml-cpp stopped.
    const std::size_t upto = std::min(line.size(), static_cast<std::size_t>(mark.column) + 1);
    for (std::size_t colon = line.find(':'); colon != std::string::npos && colon < upto;
         colon = line.find(':', colon + 1)) {
      std::size_t v = line.find_first_not_of(' ', colon + 1);
      if (v == std::string::npos || v == colon + 1 || line[v] != '>') continue;
      std::size_t e = v + 1;
      if (e < line.size() && line[e] == '=') ++e;
      const std::string op = line.substr(v, e - v);
      fail({path, at + 1, static_cast<int>(v) + 1},
           fmt::format("malformed YAML: {}: quote the comparison, op: \"{}\" (YAML reads an "
                       "unquoted '>' as the start of a folded block of text)",
                       msg, op));
    }
  }
  fail({path, mark.line + 1, mark.column + 1}, fmt::format("malformed YAML: {}", msg));
}

const Keys kCommonKeys = {"label", "unit", "description", "source", "history"};

/// Shared state of one file being read: its path and lines (for expression columns).
class Reader {
 public:
  Reader(const std::string& text, std::string path) : path_(std::move(path)) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) lines_.push_back(line);
  }

  const std::string& path() const { return path_; }

  SourceLoc loc(const YAML::Node& n) const {
    YAML::Mark m = n.Mark();
    if (m.line < 0) return {path_, 1, 1};
    return {path_, m.line + 1, m.column + 1};
  }

  YAML::Node load(const std::string& text) const {
    try {
      return YAML::Load(text);
    } catch (const YAML::DeepRecursion& e) {
      fail({path_, e.mark.line + 1, e.mark.column + 1},
           fmt::format("lists and mappings nest too deeply here (more than {} levels); a model "
                       "or scenario needs only a few levels",
                       e.depth()));
    } catch (const YAML::ParserException& e) {
      fail_yaml(text, path_, e.mark, e.msg);
    }
  }

  void expect_map(const YAML::Node& n, const std::string& what) const {
    if (!n.IsMap())
      fail(loc(n), fmt::format("{} must be a mapping of keys to values, got {}", what, shape(n)));
  }

  void expect_seq(const YAML::Node& n, const std::string& what) const {
    if (!n.IsSequence()) fail(loc(n), fmt::format("{} must be a list, got {}", what, shape(n)));
  }

  static std::string shape(const YAML::Node& n) {
    if (n.IsMap()) return "a mapping";
    if (n.IsSequence()) return "a list";
    if (n.IsNull()) return "nothing";
    return fmt::format("'{}'", n.Scalar());
  }

  /// Rejects keys outside `allowed` and duplicate keys.
  void check_keys(const YAML::Node& map, const Keys& allowed, const std::string& what) const {
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar()) fail(loc(it->first), fmt::format("{}: keys must be names", what));
      const std::string key = it->first.Scalar();
      if (!seen.insert(key).second)
        fail(loc(it->first), fmt::format("{}: key '{}' appears twice", what, key));
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        fail(loc(it->first), fmt::format("unknown key '{}' in {}{}; valid keys: {}", key, what,
                                         did_you_mean(key, allowed), one_of(allowed)));
    }
  }

  /// Location of the key `key` in `map` (for errors about a missing or bad value).
  SourceLoc key_loc(const YAML::Node& map, const std::string& key) const {
    for (auto it = map.begin(); it != map.end(); ++it)
      if (it->first.IsScalar() && it->first.Scalar() == key) return loc(it->first);
    return loc(map);
  }

  YAML::Node require(const YAML::Node& map, const std::string& key, const std::string& what) const {
    YAML::Node v = map[key];
    if (!v || v.IsNull()) fail(loc(map), fmt::format("{} needs '{}'", what, key));
    return v;
  }

  std::string string_of(const YAML::Node& v, const std::string& what) const {
    if (!v.IsScalar()) fail(loc(v), fmt::format("{} must be text, got {}", what, shape(v)));
    return v.Scalar();
  }

  std::string get_string(const YAML::Node& map, const std::string& key, const std::string& what,
                         bool required) const {
    YAML::Node v = map[key];
    if (!v || v.IsNull()) {
      if (required) fail(loc(map), fmt::format("{} needs '{}'", what, key));
      return {};
    }
    std::string s = string_of(v, fmt::format("'{}' of {}", key, what));
    if (required && s.find_first_not_of(" \t\n") == std::string::npos)
      fail(loc(v), fmt::format("'{}' of {} is empty", key, what));
    return s;
  }

  double number_of(const YAML::Node& v, const std::string& what) const {
    if (!v.IsScalar()) fail(loc(v), fmt::format("{} must be a number, got {}", what, shape(v)));
    const std::string& s = v.Scalar();
    const char* begin = s.c_str();
    char* end = nullptr;
    errno = 0;
    double x = std::strtod(begin, &end);
    if (s.empty() || end != begin + s.size() || errno == ERANGE || !std::isfinite(x)) {
      // "2.5%": a number followed by a percent sign.
      if (s.size() > 1 && s.back() == '%' && end == begin + s.size() - 1 && std::isfinite(x))
        fail(loc(v), fmt::format("{} must be a number, got '{}': write it without '%', in the "
                                 "unit of its node ({} when the unit is '%', or {:g} for a share)",
                                 what, s, s.substr(0, s.size() - 1), x / 100));
      fail(loc(v), fmt::format("{} must be a finite number, got '{}'", what, s));
    }
    return x;
  }

  double get_number(const YAML::Node& map, const std::string& key, const std::string& what) const {
    return number_of(require(map, key, what), fmt::format("'{}' of {}", key, what));
  }

  std::vector<double> numbers_of(const YAML::Node& v, const std::string& what) const {
    expect_seq(v, what);
    std::vector<double> out;
    for (const auto& e : v) out.push_back(number_of(e, fmt::format("each entry of {}", what)));
    return out;
  }

  /// Parses an expression held in a YAML scalar, mapping columns into the file.
  ExprPtr expr_of(const YAML::Node& v, const std::string& what) const {
    if (!v.IsScalar())
      fail(loc(v),
           fmt::format("{} must be an expression (text or a number), got {}", what, shape(v)));
    TextOrigin origin{loc(v), true};
    const std::string& text = v.Scalar();
    // Quoted scalars start one column after the quote; block scalars (| or >) and
    // multi-line text only know their first line.
    std::size_t line = static_cast<std::size_t>(origin.start.line - 1);
    std::size_t col = static_cast<std::size_t>(origin.start.col - 1);
    char first = (line < lines_.size() && col < lines_[line].size()) ? lines_[line][col] : ' ';
    if (first == '"' || first == '\'') origin.start.col += 1;
    if (first == '|' || first == '>' || text.find('\n') != std::string::npos)
      origin.single_line = false;
    return parse_expression(text, origin);
  }

 private:
  std::string path_;
  std::vector<std::string> lines_;
};

ExprPtr number_expr(double v, const SourceLoc& loc) {
  auto e = std::make_shared<Expr>();
  e->kind = Expr::Kind::kNumber;
  e->number = v;
  e->loc = loc;
  return e;
}

ExprPtr apply_expr(Op op, std::vector<ExprPtr> args, const SourceLoc& loc) {
  auto e = std::make_shared<Expr>();
  e->kind = Expr::Kind::kApply;
  e->op = op;
  e->args = std::move(args);
  e->loc = loc;
  return e;
}

struct DistKeys {
  Keys required;
  Keys optional;
};

/// Keys each distribution accepts in a file (besides `dist`): its parameters (those with
/// a fallback optional), except for the kinds that read_dist_form() reads.
DistKeys dist_keys(DistKind k) {
  switch (k) {
    case DistKind::kLogNormal:
      return {{}, {"meanlog", "sdlog", "mean", "sd"}};
    case DistKind::kGamma:
      return {{"shape"}, {"scale", "rate"}};
    case DistKind::kDiscrete:
      return {{"values", "probs"}, {}};
    case DistKind::kEmpirical:
      return {{"samples"}, {}};
    default:
      break;
  }
  DistKeys keys;
  for (const DistParam& p : dist_params(k))
    (p.optional ? keys.optional : keys.required).emplace_back(p.key);
  return keys;
}

Keys dist_names() {
  Keys names;
  for (DistKind k : kDistKinds) names.emplace_back(dist_name(k));
  return names;
}

/// A distribution map being read: its keys as expressions.
struct DistMap {
  const Reader& r;
  const YAML::Node& map;
  const std::string& what;
  SourceLoc at;  ///< where `dist` is
  bool has(std::string_view k) const {
    const std::string key(k);
    return map[key] && !map[key].IsNull();
  }
  ExprPtr ex(std::string_view k) const {
    const std::string key(k);
    return r.expr_of(map[key], fmt::format("'{}' of {}", key, what));
  }
};

/// lognormal by the mean and sd of the value: sdlog^2 = ln(1 + sd^2 / mean^2) and
/// meanlog = ln(mean) - sdlog^2 / 2.
std::vector<ExprPtr> lognormal_by_value(const DistMap& dm) {
  const SourceLoc& at = dm.at;
  dm.r.require(dm.map, "mean", dm.what), dm.r.require(dm.map, "sd", dm.what);
  ExprPtr m = dm.ex("mean"), s = dm.ex("sd");
  auto mv = fold_constant(*m), sv = fold_constant(*s);
  if (mv && !(*mv > 0))
    fail(m->loc, fmt::format("{} (lognormal): mean must be > 0 (got {})", dm.what, *mv));
  if (sv && !(*sv >= 0))
    fail(s->loc, fmt::format("{} (lognormal): sd must be >= 0 (got {})", dm.what, *sv));
  ExprPtr cv2 = apply_expr(
      Op::kDiv, {apply_expr(Op::kMul, {s, s}, at), apply_expr(Op::kMul, {m, m}, at)}, at);
  ExprPtr var_log = apply_expr(Op::kLn, {apply_expr(Op::kAdd, {number_expr(1, at), cv2}, at)}, at);
  ExprPtr meanlog = apply_expr(
      Op::kSub,
      {apply_expr(Op::kLn, {m}, at), apply_expr(Op::kDiv, {var_log, number_expr(2, at)}, at)}, at);
  return {meanlog, apply_expr(Op::kSqrt, {var_log}, at)};
}

/// The table of a discrete distribution: values sorted, with cumulative probabilities.
DistTable discrete_table(const DistMap& dm) {
  const auto& [r, map, what, at] = dm;
  auto values = r.numbers_of(map["values"], fmt::format("'values' of {}", what));
  auto probs = r.numbers_of(map["probs"], fmt::format("'probs' of {}", what));
  if (values.empty() || values.size() != probs.size())
    fail(r.key_loc(map, "probs"),
         fmt::format("{}: 'values' and 'probs' must be non-empty lists of the same length "
                     "(got {} and {})",
                     what, values.size(), probs.size()));
  double sum = 0;
  for (double p : probs) {
    if (p < 0 || p > 1)
      fail(r.key_loc(map, "probs"),
           fmt::format("{}: each probability must be in [0, 1] (got {})", what, p));
    sum += p;
  }
  if (std::fabs(sum - 1) > 1e-9)
    fail(r.key_loc(map, "probs"),
         fmt::format("{}: probabilities must sum to 1 (got {})", what, sum));
  std::vector<std::size_t> order(values.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  DistTable table;
  double cum = 0;
  for (std::size_t i : order) {
    cum += probs[i];
    table.values.push_back(values[i]);
    table.cumulative.push_back(cum / sum);
  }
  table.cumulative.back() = 1.0;
  return table;
}

/// The kinds a file may write in other forms than their parameters: lognormal by its
/// value's mean and sd, gamma by its rate, tables. False for the others.
bool read_dist_form(const DistMap& dm, DistSpec& d) {
  const auto& [r, map, what, at] = dm;
  switch (d.kind) {
    case DistKind::kLogNormal: {
      bool by_log = dm.has("meanlog") || dm.has("sdlog");
      bool by_value = dm.has("mean") || dm.has("sd");
      if (by_log == by_value)
        fail(at, fmt::format("{} (lognormal) needs either 'meanlog' and 'sdlog' or 'mean' and "
                             "'sd' of the value",
                             what));
      if (!by_log) {
        d.p_expr = lognormal_by_value(dm);
        return true;
      }
      r.require(map, "meanlog", what), r.require(map, "sdlog", what);
      return false;
    }
    case DistKind::kGamma:
      if (dm.has("scale") == dm.has("rate"))
        fail(at,
             fmt::format("{} (gamma) needs 'shape' and exactly one of 'scale' or 'rate'", what));
      if (dm.has("scale")) return false;
      d.p_expr = {dm.ex("shape"), apply_expr(Op::kDiv, {number_expr(1, at), dm.ex("rate")}, at)};
      return true;
    case DistKind::kTruncNormal:
      if (!dm.has("min") && !dm.has("max"))
        fail(at, fmt::format("{} (truncnormal) needs 'min', 'max' or both", what));
      return false;
    case DistKind::kDiscrete:
      d.table = discrete_table(dm);
      return true;
    case DistKind::kEmpirical: {
      auto samples = r.numbers_of(map["samples"], fmt::format("'samples' of {}", what));
      if (samples.empty())
        fail(r.key_loc(map, "samples"),
             fmt::format("{}: 'samples' needs at least one value", what));
      std::sort(samples.begin(), samples.end());
      d.table.values = samples;
      return true;
    }
    default:
      return false;
  }
}

/// Reads `dist` and its parameters from `map`. Parameters become expressions in the
/// canonical order of distributions.hpp; `extra` lists other keys the map may hold.
DistSpec read_dist(const Reader& r, const YAML::Node& map, const std::string& what,
                   const Keys& extra) {
  DistSpec d;
  YAML::Node dn = r.require(map, "dist", what);
  std::string name = r.string_of(dn, fmt::format("'dist' of {}", what));
  auto kind = dist_from_name(name);
  if (!kind) {
    const Keys names = dist_names();
    fail(r.loc(dn), fmt::format("unknown distribution '{}' for {}{}; valid: {}", name, what,
                                did_you_mean(name, names), one_of(names)));
  }
  d.kind = *kind;
  d.loc = r.loc(dn);
  DistKeys dk = dist_keys(d.kind);
  Keys allowed = extra;
  allowed.push_back("dist");
  allowed.insert(allowed.end(), dk.required.begin(), dk.required.end());
  allowed.insert(allowed.end(), dk.optional.begin(), dk.optional.end());
  r.check_keys(map, allowed, what);
  for (const auto& k : dk.required) r.require(map, k, fmt::format("{} ({})", what, name));

  const DistMap dm{r, map, what, r.loc(dn)};
  if (read_dist_form(dm, d)) return d;
  // Every parameter by its key, or its fallback when it may be left out.
  for (const DistParam& p : dist_params(d.kind))
    d.p_expr.push_back(!p.optional || dm.has(p.key) ? dm.ex(p.key)
                                                    : number_expr(p.fallback, dm.at));
  return d;
}

/// For parameters: every distribution parameter must fold to a number, and be valid.
void make_constant(const Reader& r, const YAML::Node& map, DistSpec& d, const std::string& what) {
  d.p.clear();
  for (const auto& e : d.p_expr) {
    auto v = fold_constant(*e);
    if (!v)
      fail(e->loc, fmt::format("{}: distribution parameters of a parameter must be numbers "
                               "(it is drawn once, before any step); use a shock for values "
                               "that depend on other nodes",
                               what));
    d.p.push_back(*v);
  }
  validate_distribution(d, what, r.loc(map["dist"]));
}

void read_history(const Reader& r, const YAML::Node& map, const std::string& what, Node& n) {
  std::map<double, double>& h = n.history;
  YAML::Node hn = map["history"];
  if (!hn || hn.IsNull()) return;
  r.expect_map(hn, fmt::format("'history' of {}", what));
  for (auto it = hn.begin(); it != hn.end(); ++it) {
    double year = r.number_of(it->first, fmt::format("a year in the history of {}", what));
    double v = r.number_of(it->second, fmt::format("a value in the history of {}", what));
    if (!h.emplace(year, v).second)
      fail(r.loc(it->first), fmt::format("history of {} gives year {} twice", what, year));
    n.history_loc[year] = r.loc(it->first);
  }
}

LeverRule read_lever_rule(const Reader& r, const YAML::Node& map, const std::string& what,
                          bool allow_scale, double* scale_out) {
  int forms = 0;
  for (const char* k : {"value", "series", "growth"})
    if (map[k]) ++forms;
  if (allow_scale && map["scale"]) ++forms;
  if (forms != 1)
    fail(r.loc(map), fmt::format("{} needs exactly one of {}", what,
                                 allow_scale ? "'value', 'series', 'growth' or 'scale'"
                                             : "'value', 'series' or 'growth'"));
  LeverRule rule;
  rule.loc = r.loc(map);
  if (map["value"]) {
    rule.form = LeverRule::Form::kConstant;
    rule.value = r.number_of(map["value"], fmt::format("'value' of {}", what));
  } else if (map["series"]) {
    rule.form = LeverRule::Form::kSeries;
    YAML::Node s = map["series"];
    r.expect_map(s, fmt::format("'series' of {} (year: value)", what));
    for (auto it = s.begin(); it != s.end(); ++it) {
      double year = r.number_of(it->first, fmt::format("a year in the series of {}", what));
      double v = r.number_of(it->second, fmt::format("a value in the series of {}", what));
      rule.series.emplace_back(year, v);
      rule.series_loc.push_back(r.loc(it->first));
    }
    if (rule.series.empty()) rule.loc = r.loc(s);
  } else if (map["growth"]) {
    rule.form = LeverRule::Form::kGrowth;
    YAML::Node g = map["growth"];
    std::string gw = fmt::format("'growth' of {}", what);
    r.expect_map(g, gw);
    r.check_keys(g, {"initial", "rate"}, gw);
    rule.initial = r.get_number(g, "initial", gw);
    rule.rate = r.get_number(g, "rate", gw);
    rule.rate_loc = r.key_loc(g, "rate");
  } else if (scale_out) {
    *scale_out = r.number_of(map["scale"], fmt::format("'scale' of {}", what));
    if (*scale_out < 0)
      fail(r.loc(map["scale"]),
           fmt::format("'scale' of {} must be >= 0 (got {})", what, *scale_out));
    return rule;
  }
  validate_lever_rule(rule, what, rule.loc);
  return rule;
}

const Keys kTopKeys = {"model",        "description", "time",        "cost_unit", "levers",
                       "parameters",   "shocks",      "auxiliaries", "stocks",    "lookups",
                       "correlations", "targets",     "actuals"};

// The model reader: one function per section, each turning YAML into the Model's
// fields and checking only what is about the file (shapes, keys, types, numbers);
// what the model means is validate()'s, called at the end.

void read_header(const Reader& r, const YAML::Node& root, Model& m) {
  m.loc = root["model"] ? r.loc(root["model"]) : r.loc(root);
  m.name = r.get_string(root, "model", "the model", true);
  m.description = r.get_string(root, "description", "the model", true);
  YAML::Node tn = r.require(root, "time", "the model");
  r.expect_map(tn, "'time'");
  r.check_keys(tn, {"start", "end", "step"}, "'time'");
  m.time.start = r.get_number(tn, "start", "'time'");
  m.time.end = r.get_number(tn, "end", "'time'");
  if (tn["step"]) m.time.step = r.number_of(tn["step"], "'step' of 'time'");
  m.time.start_loc = r.key_loc(tn, "start");
  m.time.end_loc = r.key_loc(tn, "end");
  m.time.step_loc = tn["step"] ? r.loc(tn["step"]) : r.loc(tn);
  if (root["cost_unit"]) {
    m.cost_unit = r.get_string(root, "cost_unit", "the model", true);
    m.cost_unit_loc = r.key_loc(root, "cost_unit");
  }
}

/// A node's YAML body, waiting for the second pass (after every name is declared).
struct Pending {
  YAML::Node map;
  std::size_t index;
};

/// Pass 1: declares every node, so references may point forward.
std::vector<Pending> declare_nodes(const Reader& r, const YAML::Node& root, Model& m) {
  std::vector<Pending> pending;
  const std::pair<const char*, NodeKind> sections[] = {{"levers", NodeKind::kLever},
                                                       {"parameters", NodeKind::kParameter},
                                                       {"shocks", NodeKind::kShock},
                                                       {"auxiliaries", NodeKind::kAuxiliary},
                                                       {"stocks", NodeKind::kStock}};
  for (const auto& [section, kind] : sections) {
    YAML::Node sec = root[section];
    if (!sec || sec.IsNull()) continue;
    r.expect_map(sec, fmt::format("'{}'", section));
    for (auto it = sec.begin(); it != sec.end(); ++it) {
      Node n;
      n.name = r.string_of(it->first, "a node name");
      n.kind = kind;
      n.loc = r.loc(it->first);
      n.id = stable_id(n.name);
      // A name declared twice is reported by validate(), at its second declaration.
      m.node_index.emplace(n.name, static_cast<int>(m.nodes.size()));
      r.expect_map(it->second, fmt::format("{} '{}'", kind_name(kind), n.name));
      pending.push_back({it->second, m.nodes.size()});
      m.nodes.push_back(std::move(n));
    }
  }
  return pending;
}

void read_lookups(const Reader& r, const YAML::Node& root, Model& m) {
  YAML::Node ls = root["lookups"];
  if (!ls || ls.IsNull()) return;
  r.expect_map(ls, "'lookups'");
  for (auto it = ls.begin(); it != ls.end(); ++it) {
    Lookup l;
    l.name = r.string_of(it->first, "a lookup name");
    std::string what = fmt::format("lookup '{}'", l.name);
    const YAML::Node map = it->second;  // a copy: it-> returns a temporary
    r.expect_map(map, what);
    r.check_keys(map, {"label", "unit", "description", "source", "x", "y"}, what);
    l.loc = r.loc(it->first);
    l.label = r.get_string(map, "label", what, true);
    l.unit = r.get_string(map, "unit", what, true);
    l.description = r.get_string(map, "description", what, true);
    l.source = r.get_string(map, "source", what, true);
    l.x = r.numbers_of(r.require(map, "x", what), fmt::format("'x' of {}", what));
    l.y = r.numbers_of(r.require(map, "y", what), fmt::format("'y' of {}", what));
    for (std::size_t i = 0; i < l.x.size(); ++i) l.x_loc.push_back(r.loc(map["x"][i]));
    if (l.x.size() != l.y.size()) l.loc = r.key_loc(map, "y");
    m.lookup_index.emplace(l.name, static_cast<int>(m.lookups.size()));
    m.lookups.push_back(std::move(l));
  }
}

void read_common(const Reader& r, const YAML::Node& map, Node& n, const std::string& what,
                 bool source_required) {
  n.label = r.get_string(map, "label", what, true);
  n.unit = r.get_string(map, "unit", what, true);
  n.description = r.get_string(map, "description", what, true);
  n.source = r.get_string(map, "source", what, source_required);
}

/// Pass 2: each node's body.
void read_node_body(const Reader& r, const YAML::Node& map, Node& n) {
  std::string what = fmt::format("{} '{}'", kind_name(n.kind), n.name);
  Keys keys = kCommonKeys;
  if ((n.kind == NodeKind::kLever || n.kind == NodeKind::kParameter) && map["history"])
    fail(r.key_loc(map, "history"),
         fmt::format("{} cannot have 'history': a lever's rule gives its values before the "
                     "start, and a parameter has one value for the whole run",
                     what));
  switch (n.kind) {
    case NodeKind::kLever:
      keys.insert(keys.end(), {"value", "series", "growth", "cost"});
      r.check_keys(map, keys, what);
      read_common(r, map, n, what, true);
      n.lever = read_lever_rule(r, map, what, false, nullptr);
      if (map["cost"]) n.cost = r.expr_of(map["cost"], fmt::format("'cost' of {}", what));
      break;
    case NodeKind::kParameter:
      if (map["value"] && !map["dist"]) {
        keys.push_back("value");
        r.check_keys(map, keys, what);
        read_common(r, map, n, what, true);
        n.dist.fixed = true;
        n.dist.fixed_value = r.number_of(map["value"], fmt::format("'value' of {}", what));
      } else {
        if (!map["dist"]) {
          keys.push_back("dist");
          r.check_keys(map, keys, what);
          fail(n.loc, fmt::format("{} needs 'dist' (a distribution) or 'value' (fixed)", what));
        }
        n.dist = read_dist(r, map, what, keys);
        read_common(r, map, n, what, true);
        make_constant(r, map, n.dist, what);
      }
      break;
    case NodeKind::kShock:
      n.dist = read_dist(r, map, what, keys);
      read_common(r, map, n, what, false);
      break;
    case NodeKind::kAuxiliary:
      keys.push_back("formula");
      r.check_keys(map, keys, what);
      read_common(r, map, n, what, map["history"].IsDefined());
      n.formula = r.expr_of(r.require(map, "formula", what), fmt::format("formula of {}", what));
      break;
    case NodeKind::kStock:
      keys.insert(keys.end(), {"initial", "change"});
      r.check_keys(map, keys, what);
      read_common(r, map, n, what, true);
      n.initial = r.expr_of(r.require(map, "initial", what), fmt::format("'initial' of {}", what));
      n.change = r.expr_of(r.require(map, "change", what), fmt::format("'change' of {}", what));
      break;
  }
  read_history(r, map, what, n);
}

void read_correlations(const Reader& r, const YAML::Node& root, Model& m) {
  YAML::Node cs = root["correlations"];
  if (!cs || cs.IsNull()) return;
  r.expect_seq(cs, "'correlations' (a list of groups with 'parameters' and 'matrix')");
  for (const auto& g : cs) {
    std::string what = "a correlation group";
    r.expect_map(g, what);
    r.check_keys(g, {"parameters", "matrix"}, what);
    CorrelationGroup group;
    group.loc = r.loc(g);
    YAML::Node ps = r.require(g, "parameters", what);
    r.expect_seq(ps, "'parameters' of a correlation group");
    for (const auto& p : ps) {
      group.parameters.push_back(r.string_of(p, "a parameter name"));
      group.parameter_loc.push_back(r.loc(p));
    }
    auto n = static_cast<Eigen::Index>(group.parameters.size());
    if (n < 2) fail(r.loc(ps), "a correlation group needs at least two parameters");
    YAML::Node mat = r.require(g, "matrix", what);
    group.matrix_loc = r.loc(mat);
    r.expect_seq(mat, "'matrix' (a list of rows)");
    if (static_cast<Eigen::Index>(mat.size()) != n)
      fail(r.loc(mat), fmt::format("the correlation matrix needs {} rows, one per parameter "
                                   "(got {})",
                                   n, mat.size()));
    group.rank.resize(n, n);
    for (Eigen::Index i = 0; i < n; ++i) {
      YAML::Node row = mat[static_cast<std::size_t>(i)];
      auto vals = r.numbers_of(row, "a row of the correlation matrix");
      if (static_cast<Eigen::Index>(vals.size()) != n)
        fail(r.loc(row), fmt::format("row {} of the correlation matrix needs {} entries (got {})",
                                     i + 1, n, vals.size()));
      for (Eigen::Index j = 0; j < n; ++j) {
        group.rank(i, j) = vals[static_cast<std::size_t>(j)];
        group.entry_loc.push_back(r.loc(row[static_cast<std::size_t>(j)]));
      }
    }
    m.correlations.push_back(std::move(group));
  }
}

/// A target's or actual's `year` (the end of the axis when absent) and `node`.
double read_year(const Reader& r, const YAML::Node& map, const Model& m, const std::string& what,
                 SourceLoc& loc) {
  loc = map["year"] ? r.loc(map["year"]) : r.loc(map);
  return map["year"] ? r.number_of(map["year"], fmt::format("'year' of {}", what)) : m.time.end;
}

std::string read_node_ref(const Reader& r, const YAML::Node& map, const std::string& what,
                          SourceLoc& loc) {
  YAML::Node nn = r.require(map, "node", what);
  loc = r.loc(nn);
  return r.string_of(nn, fmt::format("'node' of {}", what));
}

void read_targets(const Reader& r, const YAML::Node& root, Model& m) {
  YAML::Node ts = root["targets"];
  if (!ts || ts.IsNull()) return;
  r.expect_seq(ts, "'targets'");
  for (const auto& t : ts) {
    std::string what = fmt::format("target {}", m.targets.size() + 1);
    r.expect_map(t, what);
    r.check_keys(t, {"name", "node", "year", "op", "threshold", "label", "source"}, what);
    Target target;
    target.loc = r.loc(t);
    target.node = read_node_ref(r, t, what, target.node_loc);
    target.name = t["name"] ? r.string_of(t["name"], "'name' of a target") : target.node;
    target.name_loc = t["name"] ? r.loc(t["name"]) : target.loc;
    target.year = read_year(r, t, m, what, target.year_loc);
    YAML::Node op = r.require(t, "op", what);
    std::string ops = r.string_of(op, "'op' of a target");
    if (auto c = cmp_of(ops))
      target.op = *c;
    else if (ops.empty())
      fail(r.loc(op), fmt::format("{}: 'op' is empty; an unquoted '>' starts a folded block of "
                                  "text in YAML (which is empty here): quote it, op: \">\" or "
                                  "op: \">=\"",
                                  what));
    else
      fail(r.loc(op),
           fmt::format("{}: unknown comparison '{}'; valid: '>=', '>', '<=', '<'", what, ops));
    target.threshold = r.get_number(t, "threshold", what);
    target.label = r.get_string(t, "label", what, true);
    target.source = r.get_string(t, "source", what, true);
    m.targets.push_back(std::move(target));
  }
}

void read_actuals(const Reader& r, const YAML::Node& root, Model& m) {
  YAML::Node as = root["actuals"];
  if (!as || as.IsNull()) return;
  r.expect_seq(as, "'actuals'");
  for (const auto& a : as) {
    std::string what = fmt::format("actual {}", m.actuals.size() + 1);
    r.expect_map(a, what);
    r.check_keys(a, {"node", "year", "value", "label", "source"}, what);
    Actual actual;
    actual.loc = r.loc(a);
    actual.node = read_node_ref(r, a, what, actual.node_loc);
    actual.year = read_year(r, a, m, what, actual.year_loc);
    actual.value = r.get_number(a, "value", what);
    actual.label = r.get_string(a, "label", what, true);
    actual.source = r.get_string(a, "source", what, true);
    m.actuals.push_back(std::move(actual));
  }
}

/// The document of a `kind` file ("model", "scenario"), a map; `needs`: what it holds.
YAML::Node load_root(const Reader& r, const std::string& text, const std::string& path,
                     const std::string& kind, const std::string& needs) {
  const YAML::Node root = r.load(text);
  if (!root || root.IsNull())
    fail({path, 1, 1}, "the file holds no YAML document; a " + kind + " needs " + needs);
  r.expect_map(root, "a " + kind + " file");
  return root;
}

Model parse_model_impl(const std::string& original, const std::string& path) {
  const std::string text = normalise_line_breaks(original);
  Reader r(text, path);
  const YAML::Node root =
      load_root(r, text, path, "model", "'model', 'description', 'time' and nodes");
  r.check_keys(root, kTopKeys, "the model");

  Model m;
  m.path = path;
  m.source_text = original;
  read_header(r, root, m);
  std::vector<Pending> pending = declare_nodes(r, root, m);
  read_lookups(r, root, m);
  for (const auto& [map, index] : pending) read_node_body(r, map, m.nodes[index]);
  read_correlations(r, root, m);
  read_targets(r, root, m);
  read_actuals(r, root, m);
  validate(m);
  return m;
}

/// The (path, text) pairs of a scenario's chain: where `extends` leads when a scenario is
/// rebuilt from what a results file stored rather than from files.
using Sources = std::vector<std::pair<std::string, std::string>>;

Scenario parse_scenario_impl(const std::string& original, const std::string& path,
                             const Model& model, const IncludeRules& rules,
                             std::vector<std::string>& chain, const Sources* stored = nullptr);

/// The scenario that `root` extends, read recursively (an empty one if none).
Scenario read_base_scenario(const Reader& r, const YAML::Node& root, const std::string& path,
                            const Model& model, const IncludeRules& rules,
                            std::vector<std::string>& chain, const Sources* stored) {
  YAML::Node ext = root["extends"];
  if (!ext || ext.IsNull()) return {};
  std::string rel = r.string_of(ext, "'extends'");
  std::string base, base_text;
  if (stored) {
    // The path resolve_extends gave when the file was written, found among the texts.
    base = extends_path(path, rel);
    auto it = std::find_if(stored->begin(), stored->end(),
                           [&](const auto& source) { return source.first == base; });
    if (it == stored->end())
      fail(r.loc(ext), fmt::format("the stored sources hold no text of the extended scenario "
                                   "'{}' ({})",
                                   rel, base));
    base_text = it->second;
  } else {
    base = resolve_extends(path, rel, rules, r.loc(ext));
  }
  if (std::find(chain.begin(), chain.end(), base) != chain.end())
    fail(r.loc(ext), fmt::format("scenario '{}' extends itself through '{}'", path, rel));
  if (chain.size() > 64)
    fail(r.loc(ext), "more than 64 scenarios extend one another; flatten the chain");
  chain.push_back(base);
  if (!stored) {
    try {
      base_text = read_text_file(base);
    } catch (const InputError& e) {
      fail(r.loc(ext), fmt::format("cannot read the extended scenario '{}': {}", rel, e.text()));
    }
  }
  return parse_scenario_impl(base_text, base, model, rules, chain, stored);
}

/// The node of `kind` that `key` names in a scenario's overrides.
const Node& overridden_node(const Reader& r, const Model& model, const YAML::Node& key,
                            NodeKind kind) {
  std::string name = r.string_of(key, "a node name");
  const Node* n = model.find(name);
  if (!n) {
    std::vector<std::string> names;
    for (const auto& other : model.nodes)
      if (other.kind == kind) names.push_back(other.name);
    fail(r.loc(key),
         fmt::format("unknown {} '{}'{}", kind_name(kind), name, did_you_mean(name, names)));
  }
  if (n->kind != kind)
    fail(r.loc(key), fmt::format("'{}' is {} {}, not a {}; a scenario may override only levers "
                                 "and parameters",
                                 name, n->kind == NodeKind::kAuxiliary ? "an" : "a",
                                 kind_name(n->kind), kind_name(kind)));
  return *n;
}

/// The overrides of levers and parameters of a scenario file.
void read_overrides(const Reader& r, const YAML::Node& root, const Model& model, Scenario& s) {
  auto resolve = [&](const YAML::Node& key, NodeKind kind) -> const Node& {
    return overridden_node(r, model, key, kind);
  };
  if (YAML::Node ls = root["levers"]; ls && !ls.IsNull()) {
    r.expect_map(ls, "'levers'");
    for (auto it = ls.begin(); it != ls.end(); ++it) {
      const Node& n = resolve(it->first, NodeKind::kLever);
      std::string what = fmt::format("override of lever '{}'", n.name);
      r.expect_map(it->second, what);
      r.check_keys(it->second, {"value", "series", "growth", "scale"}, what);
      Scenario::LeverOverride ov;
      ov.loc = r.loc(it->first);
      double scale = 1;
      LeverRule rule = read_lever_rule(r, it->second, what, true, &scale);
      if (it->second["scale"])
        ov.scale = scale;
      else
        ov.rule = rule;
      s.levers.emplace_back(n.name, ov);
    }
  }
  if (YAML::Node ps = root["parameters"]; ps && !ps.IsNull()) {
    r.expect_map(ps, "'parameters'");
    for (auto it = ps.begin(); it != ps.end(); ++it) {
      const Node& n = resolve(it->first, NodeKind::kParameter);
      std::string what = fmt::format("override of parameter '{}'", n.name);
      const YAML::Node map = it->second;  // a copy: it-> returns a temporary
      r.expect_map(map, what);
      DistSpec d;
      if (map["value"] && !map["dist"]) {
        r.check_keys(map, {"value", "source"}, what);
        d.fixed = true;
        d.fixed_value = r.number_of(map["value"], fmt::format("'value' of {}", what));
      } else {
        d = read_dist(r, map, what, {"source"});
        make_constant(r, map, d, what);
      }
      s.parameters.emplace_back(n.name, d);
    }
  }
}

Scenario parse_scenario_impl(const std::string& original, const std::string& path,
                             const Model& model, const IncludeRules& rules,
                             std::vector<std::string>& chain, const Sources* stored) {
  const std::string text = normalise_line_breaks(original);
  Reader r(text, path);
  const YAML::Node root =
      load_root(r, text, path, "scenario", "'scenario', 'model' and 'description'");
  r.check_keys(root, {"scenario", "model", "description", "extends", "levers", "parameters"},
               "the scenario");
  Scenario s = read_base_scenario(r, root, path, model, rules, chain, stored);
  s.path = path;
  s.sources.emplace_back(path, original);
  s.name = r.get_string(root, "scenario", "the scenario", true);
  if (!is_identifier(s.name))
    fail(r.loc(root["scenario"]), fmt::format("scenario name '{}' is not an identifier", s.name));
  s.description = r.get_string(root, "description", "the scenario", true);
  s.model_name = r.get_string(root, "model", "the scenario", true);
  if (s.model_name != model.name)
    fail(r.loc(root["model"]), fmt::format("scenario '{}' is for model '{}', but the model is "
                                           "'{}'",
                                           s.name, s.model_name, model.name));
  read_overrides(r, root, model, s);
  return s;
}

}  // namespace

Model parse_model(const std::string& text, const std::string& path) {
  try {
    return parse_model_impl(text, path);
  } catch (const YAML::Exception& e) {
    fail_yaml(normalise_line_breaks(text), path, e.mark, e.msg);
  }
}

Model load_model(const std::string& path) {
  return parse_model(read_text_file(path), path);
}

Scenario parse_scenario(const std::string& text, const std::string& path, const Model& model,
                        const IncludeRules& rules) {
  std::vector<std::string> chain{std::filesystem::path(path).lexically_normal().string()};
  IncludeRules with_own = rules;
  const std::string folder = std::filesystem::path(path).parent_path().string();
  with_own.roots.insert(with_own.roots.begin(), folder.empty() ? "." : folder);
  try {
    return parse_scenario_impl(text, path, model, with_own, chain);
  } catch (const YAML::Exception& e) {
    fail_yaml(normalise_line_breaks(text), path, e.mark, e.msg);
  }
}

Scenario parse_stored_scenario(const std::string& path,
                               const std::vector<std::pair<std::string, std::string>>& sources,
                               const Model& model) {
  auto own = std::find_if(sources.begin(), sources.end(),
                          [&](const auto& source) { return source.first == path; });
  if (own == sources.end())
    fail({path, 1, 1}, "the stored sources hold no text of this scenario file");
  const std::string& text = own->second;
  std::vector<std::string> chain{std::filesystem::path(path).lexically_normal().string()};
  try {
    return parse_scenario_impl(text, path, model, {}, chain, &sources);
  } catch (const YAML::Exception& e) {
    fail_yaml(normalise_line_breaks(text), path, e.mark, e.msg);
  }
}

Scenario load_scenario(const std::string& path, const Model& model, const IncludeRules& rules) {
  return parse_scenario(read_text_file(path), path, model, rules);
}

}  // namespace attain
