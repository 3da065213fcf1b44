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

namespace attain {
namespace {

using Keys = std::vector<std::string>;

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
      fail({path_, e.mark.line + 1, e.mark.column + 1}, fmt::format("malformed YAML: {}", e.msg));
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
    if (s.empty() || end != begin + s.size() || errno == ERANGE || !std::isfinite(x))
      fail(loc(v), fmt::format("{} must be a finite number, got '{}'", what, s));
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

/// Keys each distribution accepts in a file (besides `dist`).
DistKeys dist_keys(DistKind k) {
  switch (k) {
    case DistKind::kNormal:
      return {{"mean", "sd"}, {}};
    case DistKind::kLogNormal:
      return {{}, {"meanlog", "sdlog", "mean", "sd"}};
    case DistKind::kUniform:
      return {{"min", "max"}, {}};
    case DistKind::kTriangular:
      return {{"min", "mode", "max"}, {}};
    case DistKind::kPert:
      return {{"min", "mode", "max"}, {"lambda"}};
    case DistKind::kBeta:
      return {{"alpha", "beta"}, {"min", "max"}};
    case DistKind::kGamma:
      return {{"shape"}, {"scale", "rate"}};
    case DistKind::kTruncNormal:
      return {{"mean", "sd"}, {"min", "max"}};
    case DistKind::kDiscrete:
      return {{"values", "probs"}, {}};
    case DistKind::kEmpirical:
      return {{"samples"}, {}};
    case DistKind::kPoisson:
      return {{"rate"}, {}};
    case DistKind::kBinomial:
      return {{"n", "p"}, {}};
    case DistKind::kBernoulli:
      return {{"p"}, {}};
  }
  return {};
}

const Keys kDistNames = {"normal",  "lognormal", "uniform",     "triangular", "pert",
                         "beta",    "gamma",     "truncnormal", "discrete",   "empirical",
                         "poisson", "binomial",  "bernoulli"};

/// Reads `dist` and its parameters from `map`. Parameters become expressions in the
/// canonical order of distributions.hpp; `extra` lists other keys the map may hold.
DistSpec read_dist(const Reader& r, const YAML::Node& map, const std::string& what,
                   const Keys& extra) {
  DistSpec d;
  YAML::Node dn = r.require(map, "dist", what);
  std::string name = r.string_of(dn, fmt::format("'dist' of {}", what));
  auto kind = dist_from_name(name);
  if (!kind)
    fail(r.loc(dn), fmt::format("unknown distribution '{}' for {}{}; valid: {}", name, what,
                                did_you_mean(name, kDistNames), one_of(kDistNames)));
  d.kind = *kind;
  DistKeys dk = dist_keys(d.kind);
  Keys allowed = extra;
  allowed.push_back("dist");
  allowed.insert(allowed.end(), dk.required.begin(), dk.required.end());
  allowed.insert(allowed.end(), dk.optional.begin(), dk.optional.end());
  r.check_keys(map, allowed, what);
  for (const auto& k : dk.required) r.require(map, k, fmt::format("{} ({})", what, name));

  auto has = [&](const char* k) { return map[k] && !map[k].IsNull(); };
  auto ex = [&](const char* k) { return r.expr_of(map[k], fmt::format("'{}' of {}", k, what)); };
  SourceLoc at = r.loc(dn);
  switch (d.kind) {
    case DistKind::kNormal:
      d.p_expr = {ex("mean"), ex("sd")};
      break;
    case DistKind::kLogNormal: {
      bool by_log = has("meanlog") || has("sdlog");
      bool by_value = has("mean") || has("sd");
      if (by_log == by_value)
        fail(at, fmt::format("{} (lognormal) needs either 'meanlog' and 'sdlog' or 'mean' and "
                             "'sd' of the value",
                             what));
      if (by_log) {
        r.require(map, "meanlog", what), r.require(map, "sdlog", what);
        d.p_expr = {ex("meanlog"), ex("sdlog")};
      } else {
        r.require(map, "mean", what), r.require(map, "sd", what);
        // sdlog^2 = ln(1 + sd^2 / mean^2); meanlog = ln(mean) - sdlog^2 / 2.
        ExprPtr m = ex("mean"), s = ex("sd");
        auto mv = fold_constant(*m), sv = fold_constant(*s);
        if (mv && !(*mv > 0))
          fail(m->loc, fmt::format("{} (lognormal): mean must be > 0 (got {})", what, *mv));
        if (sv && !(*sv >= 0))
          fail(s->loc, fmt::format("{} (lognormal): sd must be >= 0 (got {})", what, *sv));
        ExprPtr cv2 = apply_expr(
            Op::kDiv, {apply_expr(Op::kMul, {s, s}, at), apply_expr(Op::kMul, {m, m}, at)}, at);
        ExprPtr var_log =
            apply_expr(Op::kLn, {apply_expr(Op::kAdd, {number_expr(1, at), cv2}, at)}, at);
        ExprPtr meanlog = apply_expr(
            Op::kSub,
            {apply_expr(Op::kLn, {m}, at), apply_expr(Op::kDiv, {var_log, number_expr(2, at)}, at)},
            at);
        d.p_expr = {meanlog, apply_expr(Op::kSqrt, {var_log}, at)};
      }
      break;
    }
    case DistKind::kUniform:
      d.p_expr = {ex("min"), ex("max")};
      break;
    case DistKind::kTriangular:
      d.p_expr = {ex("min"), ex("mode"), ex("max")};
      break;
    case DistKind::kPert:
      d.p_expr = {ex("min"), ex("mode"), ex("max"),
                  has("lambda") ? ex("lambda") : number_expr(4, at)};
      break;
    case DistKind::kBeta:
      d.p_expr = {ex("alpha"), ex("beta"), has("min") ? ex("min") : number_expr(0, at),
                  has("max") ? ex("max") : number_expr(1, at)};
      break;
    case DistKind::kGamma:
      if (has("scale") == has("rate"))
        fail(at,
             fmt::format("{} (gamma) needs 'shape' and exactly one of 'scale' or 'rate'", what));
      d.p_expr = {ex("shape"), has("scale")
                                   ? ex("scale")
                                   : apply_expr(Op::kDiv, {number_expr(1, at), ex("rate")}, at)};
      break;
    case DistKind::kTruncNormal:
      if (!has("min") && !has("max"))
        fail(at, fmt::format("{} (truncnormal) needs 'min', 'max' or both", what));
      d.p_expr = {
          ex("mean"), ex("sd"),
          has("min") ? ex("min") : number_expr(-std::numeric_limits<double>::infinity(), at),
          has("max") ? ex("max") : number_expr(std::numeric_limits<double>::infinity(), at)};
      break;
    case DistKind::kDiscrete: {
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
      double cum = 0;
      for (std::size_t i : order) {
        cum += probs[i];
        d.table.values.push_back(values[i]);
        d.table.cumulative.push_back(cum / sum);
      }
      d.table.cumulative.back() = 1.0;
      break;
    }
    case DistKind::kEmpirical: {
      auto samples = r.numbers_of(map["samples"], fmt::format("'samples' of {}", what));
      if (samples.empty())
        fail(r.key_loc(map, "samples"),
             fmt::format("{}: 'samples' needs at least one value", what));
      std::sort(samples.begin(), samples.end());
      d.table.values = samples;
      break;
    }
    case DistKind::kPoisson:
      d.p_expr = {ex("rate")};
      break;
    case DistKind::kBinomial:
      d.p_expr = {ex("n"), ex("p")};
      break;
    case DistKind::kBernoulli:
      d.p_expr = {ex("p")};
      break;
  }
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
  if (auto msg = check_params(d.kind, d.p))
    fail(r.loc(map["dist"]), fmt::format("{} ({}): {}", what, dist_name(d.kind), *msg));
}

std::map<double, double> read_history(const Reader& r, const YAML::Node& map,
                                      const std::string& what, const TimeAxis& time) {
  std::map<double, double> h;
  YAML::Node hn = map["history"];
  if (!hn || hn.IsNull()) return h;
  r.expect_map(hn, fmt::format("'history' of {}", what));
  for (auto it = hn.begin(); it != hn.end(); ++it) {
    double year = r.number_of(it->first, fmt::format("a year in the history of {}", what));
    double v = r.number_of(it->second, fmt::format("a value in the history of {}", what));
    if (year >= time.start)
      fail(r.loc(it->first), fmt::format("history of {} must be before the start year {} (got {})",
                                         what, time.start, year));
    if (!h.emplace(year, v).second)
      fail(r.loc(it->first), fmt::format("history of {} gives year {} twice", what, year));
  }
  return h;
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
      if (!rule.series.empty() && year <= rule.series.back().first)
        fail(r.loc(it->first),
             fmt::format("years in the series of {} must increase (got {} after {})", what, year,
                         rule.series.back().first));
      rule.series.emplace_back(year, v);
    }
    if (rule.series.empty()) fail(r.loc(s), fmt::format("'series' of {} is empty", what));
  } else if (map["growth"]) {
    rule.form = LeverRule::Form::kGrowth;
    YAML::Node g = map["growth"];
    std::string gw = fmt::format("'growth' of {}", what);
    r.expect_map(g, gw);
    r.check_keys(g, {"initial", "rate"}, gw);
    rule.initial = r.get_number(g, "initial", gw);
    rule.rate = r.get_number(g, "rate", gw);
    if (rule.rate <= -1)
      fail(r.key_loc(g, "rate"), fmt::format("{}: rate must be > -1 (got {})", gw, rule.rate));
  } else if (scale_out) {
    *scale_out = r.number_of(map["scale"], fmt::format("'scale' of {}", what));
    if (*scale_out < 0)
      fail(r.loc(map["scale"]),
           fmt::format("'scale' of {} must be >= 0 (got {})", what, *scale_out));
  }
  return rule;
}

void read_common(const Reader& r, const YAML::Node& map, Node& n, const std::string& what,
                 bool source_required) {
  n.label = r.get_string(map, "label", what, true);
  n.unit = r.get_string(map, "unit", what, true);
  n.description = r.get_string(map, "description", what, true);
  n.source = r.get_string(map, "source", what, source_required);
}

void check_node_name(const Reader& r, const YAML::Node& key, const std::string& name) {
  if (!is_identifier(name))
    fail(r.loc(key), fmt::format("node name '{}' is not an identifier: use letters, digits and "
                                 "'_', starting with a letter or '_'",
                                 name));
  if (is_reserved_name(name))
    fail(r.loc(key), fmt::format("node name '{}' is reserved (a function or keyword); choose "
                                 "another name",
                                 name));
}

/// Folds constant parts of an expression bottom-up and rejects constants that are NaN
/// or infinite and constant arguments that make no sense (smooth's tau <= 0, a pulse
/// width <= 0), at check time rather than at run time.
std::optional<double> check_constants(const Expr& e) {
  if (e.kind == Expr::Kind::kNumber) return e.number;
  if (e.kind != Expr::Kind::kApply) {
    return std::nullopt;
  }
  std::vector<std::optional<double>> args;
  bool all = true;
  for (const auto& a : e.args) {
    args.push_back(check_constants(*a));
    all = all && args.back().has_value();
  }
  if (e.op == Op::kSmooth && args[1] && !(*args[1] > 0))
    fail(e.args[1]->loc, fmt::format("smooth() needs a time constant > 0 (got {})", *args[1]));
  if (e.op == Op::kPulse && args.size() > 2 && args[2] && !(*args[2] > 0))
    fail(e.args[2]->loc, fmt::format("pulse() needs a width > 0 (got {})", *args[2]));
  if (!all || e.op == Op::kLookup || e.op == Op::kSmooth || e.op == Op::kStep ||
      e.op == Op::kRamp || e.op == Op::kPulse)
    return std::nullopt;
  std::vector<double> v;
  for (const auto& a : args) v.push_back(*a);
  double r = apply_scalar(e.op, v.data(), static_cast<int>(v.size()));
  if (!std::isfinite(r))
    fail(e.loc, fmt::format("this part of the expression is always {} ({}); check the division, "
                            "logarithm or power",
                            std::isnan(r) ? "NaN"
                            : r > 0       ? "+infinity"
                                          : "-infinity",
                            op_name(e.op)));
  return r;
}

/// Checks that every name an expression uses exists (nodes and lookups).
void check_refs(const Model& m, const Expr& e, const std::string& where) {
  if (e.kind == Expr::Kind::kRef && !m.node_index.count(e.name)) {
    std::vector<std::string> names = m.node_names();
    fail(e.loc,
         fmt::format("unknown node '{}' in {}{}", e.name, where, did_you_mean(e.name, names)));
  }
  if (e.kind == Expr::Kind::kApply && e.op == Op::kLookup && !m.lookup_index.count(e.name)) {
    std::vector<std::string> names;
    for (const auto& l : m.lookups) names.push_back(l.name);
    for (const auto& b : builtin_function_names()) names.push_back(b);
    std::string hint = did_you_mean(e.name, names);
    fail(e.loc,
         fmt::format("unknown function or lookup table '{}' in {}{}", e.name, where,
                     hint.empty() ? "; functions are listed in docs/model-language.md" : hint));
  }
  for (const auto& a : e.args) check_refs(m, *a, where);
}

const Keys kTopKeys = {"model",      "description",  "time",        "levers",
                       "parameters", "shocks",       "auxiliaries", "stocks",
                       "lookups",    "correlations", "targets",     "actuals"};

Model parse_model_impl(const std::string& original, const std::string& path) {
  const std::string text = normalise_line_breaks(original);
  Reader r(text, path);
  const YAML::Node root = r.load(text);
  if (!root || root.IsNull())
    fail({path, 1, 1},
         "the file holds no YAML document; a model needs 'model', 'description', "
         "'time' and nodes");
  r.expect_map(root, "a model file");
  r.check_keys(root, kTopKeys, "the model");

  Model m;
  m.path = path;
  m.source_text = original;
  m.name = r.get_string(root, "model", "the model", true);
  for (char c : m.name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
      fail(r.loc(root["model"]), fmt::format("model name '{}' may hold only letters, digits, '_' "
                                             "and '-'",
                                             m.name));
  m.description = r.get_string(root, "description", "the model", true);

  YAML::Node tn = r.require(root, "time", "the model");
  r.expect_map(tn, "'time'");
  r.check_keys(tn, {"start", "end", "step"}, "'time'");
  m.time.start = r.get_number(tn, "start", "'time'");
  m.time.end = r.get_number(tn, "end", "'time'");
  if (tn["step"]) m.time.step = r.number_of(tn["step"], "'step' of 'time'");
  if (m.time.step <= 0)
    fail(r.loc(tn["step"]), fmt::format("'step' must be > 0 years (got {})", m.time.step));
  if (m.time.end <= m.time.start)
    fail(r.key_loc(tn, "end"),
         fmt::format("'end' ({}) must be after 'start' ({})", m.time.end, m.time.start));
  double nsteps = (m.time.end - m.time.start) / m.time.step;
  if (std::fabs(nsteps - std::round(nsteps)) > 1e-9 || nsteps > 100000)
    fail(r.key_loc(tn, "step"),
         fmt::format("'end - start' ({}) must be a whole number of steps of {} (at most 100000)",
                     m.time.end - m.time.start, m.time.step));

  // Pass 1: declare every node and lookup, so references may point forward.
  struct Pending {
    YAML::Node map;
    std::size_t index;
  };
  std::vector<Pending> pending;
  const std::pair<const char*, NodeKind> sections[] = {{"levers", NodeKind::kLever},
                                                       {"parameters", NodeKind::kParameter},
                                                       {"shocks", NodeKind::kShock},
                                                       {"auxiliaries", NodeKind::kAuxiliary},
                                                       {"stocks", NodeKind::kStock}};
  std::unordered_map<std::uint64_t, std::string> ids;
  for (const auto& [section, kind] : sections) {
    YAML::Node sec = root[section];
    if (!sec || sec.IsNull()) continue;
    r.expect_map(sec, fmt::format("'{}'", section));
    for (auto it = sec.begin(); it != sec.end(); ++it) {
      std::string name = r.string_of(it->first, "a node name");
      check_node_name(r, it->first, name);
      if (m.node_index.count(name))
        fail(r.loc(it->first), fmt::format("node '{}' is declared twice", name));
      Node n;
      n.name = name;
      n.kind = kind;
      n.loc = r.loc(it->first);
      n.id = stable_id(name);
      if (auto [pos, fresh] = ids.emplace(n.id, name); !fresh)
        fail(n.loc, fmt::format("nodes '{}' and '{}' have the same stable id; rename one",
                                pos->second, name));
      r.expect_map(it->second, fmt::format("{} '{}'", kind_name(kind), name));
      m.node_index[name] = static_cast<int>(m.nodes.size());
      pending.push_back({it->second, m.nodes.size()});
      m.nodes.push_back(std::move(n));
    }
  }
  if (m.nodes.empty())
    fail(r.loc(root),
         "the model has no nodes; declare 'levers', 'parameters', 'shocks', "
         "'auxiliaries' or 'stocks'");

  if (YAML::Node ls = root["lookups"]; ls && !ls.IsNull()) {
    r.expect_map(ls, "'lookups'");
    for (auto it = ls.begin(); it != ls.end(); ++it) {
      Lookup l;
      l.name = r.string_of(it->first, "a lookup name");
      check_node_name(r, it->first, l.name);
      if (m.node_index.count(l.name) || m.lookup_index.count(l.name))
        fail(r.loc(it->first), fmt::format("lookup '{}' reuses a name already declared", l.name));
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
      if (l.x.size() < 2 || l.x.size() != l.y.size())
        fail(r.key_loc(map, "y"),
             fmt::format("{}: 'x' and 'y' must have the same length, at least 2 (got {} and {})",
                         what, l.x.size(), l.y.size()));
      for (std::size_t i = 1; i < l.x.size(); ++i)
        if (!(l.x[i] > l.x[i - 1]))
          fail(r.loc(map["x"][i]),
               fmt::format("{}: 'x' must be strictly increasing (x[{}] = {} after {})", what, i,
                           l.x[i], l.x[i - 1]));
      m.lookup_index[l.name] = static_cast<int>(m.lookups.size());
      m.lookups.push_back(std::move(l));
    }
  }

  // Pass 2: node bodies.
  for (const auto& [map, index] : pending) {
    Node& n = m.nodes[index];
    std::string what = fmt::format("{} '{}'", kind_name(n.kind), n.name);
    Keys keys = kCommonKeys;
    if ((n.kind == NodeKind::kLever || n.kind == NodeKind::kParameter) && map["history"])
      fail(r.key_loc(map, "history"),
           fmt::format("{} cannot have 'history': a lever's rule gives its values before the "
                       "start, and a parameter has one value for the whole run",
                       what));
    switch (n.kind) {
      case NodeKind::kLever:
        keys.insert(keys.end(), {"value", "series", "growth"});
        r.check_keys(map, keys, what);
        read_common(r, map, n, what, true);
        n.lever = read_lever_rule(r, map, what, false, nullptr);
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
        // Shock parameters that are constant are checked now, not first at run time.
        {
          std::vector<double> p;
          for (const auto& e : n.dist.p_expr)
            if (auto v = fold_constant(*e)) p.push_back(*v);
          if (p.size() == n.dist.p_expr.size())
            if (auto msg = check_params(n.dist.kind, p))
              fail(r.loc(map["dist"]),
                   fmt::format("{} ({}): {}", what, dist_name(n.dist.kind), *msg));
        }
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
        n.initial =
            r.expr_of(r.require(map, "initial", what), fmt::format("'initial' of {}", what));
        n.change = r.expr_of(r.require(map, "change", what), fmt::format("'change' of {}", what));
        break;
    }
    if (map["history"] && n.source.empty())
      fail(n.loc, fmt::format("{} has history, so it needs a 'source' for it", what));
    n.history = read_history(r, map, what, m.time);
  }

  // References.
  for (const auto& n : m.nodes) {
    std::string where = fmt::format("{} '{}'", kind_name(n.kind), n.name);
    for (const auto& e : {n.formula, n.initial, n.change})
      if (e) check_refs(m, *e, where), check_constants(*e);
    for (const auto& e : n.dist.p_expr) check_refs(m, *e, where), check_constants(*e);
  }

  // Correlations.
  if (YAML::Node cs = root["correlations"]; cs && !cs.IsNull()) {
    r.expect_seq(cs, "'correlations' (a list of groups with 'parameters' and 'matrix')");
    std::set<std::string> used;
    for (const auto& g : cs) {
      std::string what = "a correlation group";
      r.expect_map(g, what);
      r.check_keys(g, {"parameters", "matrix"}, what);
      CorrelationGroup group;
      group.loc = r.loc(g);
      YAML::Node ps = r.require(g, "parameters", what);
      r.expect_seq(ps, "'parameters' of a correlation group");
      for (const auto& p : ps) {
        std::string name = r.string_of(p, "a parameter name");
        const Node* node = m.find(name);
        if (!node) {
          std::vector<std::string> names;
          for (const auto& nn : m.nodes)
            if (nn.kind == NodeKind::kParameter) names.push_back(nn.name);
          fail(r.loc(p), fmt::format("unknown parameter '{}' in correlations{}", name,
                                     did_you_mean(name, names)));
        }
        if (node->kind != NodeKind::kParameter || node->dist.fixed)
          fail(r.loc(p),
               fmt::format("'{}' is a {}; only uncertain parameters (with 'dist') can "
                           "be correlated",
                           name, node->dist.fixed ? "fixed parameter" : kind_name(node->kind)));
        if (!used.insert(name).second)
          fail(r.loc(p),
               fmt::format("parameter '{}' appears in more than one correlation group", name));
        group.parameters.push_back(name);
      }
      auto n = static_cast<Eigen::Index>(group.parameters.size());
      if (n < 2) fail(r.loc(ps), "a correlation group needs at least two parameters");
      YAML::Node mat = r.require(g, "matrix", what);
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
          double v = vals[static_cast<std::size_t>(j)];
          SourceLoc at = r.loc(row[static_cast<std::size_t>(j)]);
          if (i == j && v != 1)
            fail(at, fmt::format("the diagonal of a correlation matrix must be 1 (row {} has {})",
                                 i + 1, v));
          if (v < -1 || v > 1) fail(at, fmt::format("correlations must be in [-1, 1] (got {})", v));
          group.rank(i, j) = v;
        }
      }
      for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index j = 0; j < i; ++j)
          if (group.rank(i, j) != group.rank(j, i))
            fail(r.loc(mat[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)]),
                 fmt::format("the correlation matrix must be symmetric: entry ({}, {}) is {} but "
                             "({}, {}) is {}",
                             i + 1, j + 1, group.rank(i, j), j + 1, i + 1, group.rank(j, i)));
      // The copula uses Pearson correlations 2 sin(pi r / 6) of the normal scores.
      Eigen::MatrixXd pearson = (group.rank.array() * (std::numbers::pi / 6)).sin() * 2;
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(pearson);
      double lowest = eig.eigenvalues().minCoeff();
      if (!(lowest > 1e-10))
        fail(r.loc(mat), fmt::format("the correlation matrix is not positive definite (smallest "
                                     "eigenvalue of its normal-score matrix {:.3g}); some "
                                     "correlations contradict each other",
                                     lowest));
      m.correlations.push_back(std::move(group));
    }
  }

  // Targets.
  auto resolve_year = [&](const YAML::Node& map, const std::string& what) {
    double year =
        map["year"] ? r.number_of(map["year"], fmt::format("'year' of {}", what)) : m.time.end;
    if (!m.time.index_of(year))
      fail(map["year"] ? r.loc(map["year"]) : r.loc(map),
           fmt::format("{}: year {} is not on the time axis ({} to {} by {})", what, year,
                       m.time.start, m.time.end, m.time.step));
    return year;
  };
  auto resolve_node = [&](const YAML::Node& map, const std::string& what) {
    YAML::Node nn = r.require(map, "node", what);
    std::string name = r.string_of(nn, fmt::format("'node' of {}", what));
    if (!m.node_index.count(name))
      fail(r.loc(nn), fmt::format("{} is on unknown node '{}'{}", what, name,
                                  did_you_mean(name, m.node_names())));
    return name;
  };
  if (YAML::Node ts = root["targets"]; ts && !ts.IsNull()) {
    r.expect_seq(ts, "'targets'");
    std::set<std::string> names;
    for (const auto& t : ts) {
      std::string what = fmt::format("target {}", m.targets.size() + 1);
      r.expect_map(t, what);
      r.check_keys(t, {"name", "node", "year", "op", "threshold", "label", "source"}, what);
      Target target;
      target.loc = r.loc(t);
      target.node = resolve_node(t, what);
      target.name = t["name"] ? r.string_of(t["name"], "'name' of a target") : target.node;
      if (!is_identifier(target.name))
        fail(r.loc(t["name"]), fmt::format("target name '{}' is not an identifier", target.name));
      if (!names.insert(target.name).second)
        fail(target.loc,
             fmt::format("two targets are named '{}'; give each a distinct 'name'", target.name));
      target.year = resolve_year(t, what);
      YAML::Node op = r.require(t, "op", what);
      std::string ops = r.string_of(op, "'op' of a target");
      if (ops == ">=")
        target.op = Cmp::kGe;
      else if (ops == ">")
        target.op = Cmp::kGt;
      else if (ops == "<=")
        target.op = Cmp::kLe;
      else if (ops == "<")
        target.op = Cmp::kLt;
      else
        fail(r.loc(op),
             fmt::format("{}: unknown comparison '{}'; valid: '>=', '>', '<=', '<'", what, ops));
      target.threshold = r.get_number(t, "threshold", what);
      target.label = r.get_string(t, "label", what, true);
      target.source = r.get_string(t, "source", what, true);
      m.targets.push_back(std::move(target));
    }
  }
  if (YAML::Node as = root["actuals"]; as && !as.IsNull()) {
    r.expect_seq(as, "'actuals'");
    for (const auto& a : as) {
      std::string what = fmt::format("actual {}", m.actuals.size() + 1);
      r.expect_map(a, what);
      r.check_keys(a, {"node", "year", "value", "label", "source"}, what);
      Actual actual;
      actual.loc = r.loc(a);
      actual.node = resolve_node(a, what);
      actual.year = resolve_year(a, what);
      actual.value = r.get_number(a, "value", what);
      actual.label = r.get_string(a, "label", what, true);
      actual.source = r.get_string(a, "source", what, true);
      m.actuals.push_back(std::move(actual));
    }
  }
  return m;
}

Scenario parse_scenario_impl(const std::string& original, const std::string& path,
                             const Model& model, const IncludeRules& rules,
                             std::vector<std::string>& chain) {
  const std::string text = normalise_line_breaks(original);
  Reader r(text, path);
  const YAML::Node root = r.load(text);
  if (!root || root.IsNull())
    fail({path, 1, 1},
         "the file holds no YAML document; a scenario needs 'scenario', 'model' "
         "and 'description'");
  r.expect_map(root, "a scenario file");
  r.check_keys(root, {"scenario", "model", "description", "extends", "levers", "parameters"},
               "the scenario");
  Scenario s;
  if (YAML::Node ext = root["extends"]; ext && !ext.IsNull()) {
    std::string rel = r.string_of(ext, "'extends'");
    const std::string base = resolve_extends(path, rel, rules, r.loc(ext));
    if (std::find(chain.begin(), chain.end(), base) != chain.end())
      fail(r.loc(ext), fmt::format("scenario '{}' extends itself through '{}'", path, rel));
    if (chain.size() > 64)
      fail(r.loc(ext), "more than 64 scenarios extend one another; flatten the chain");
    chain.push_back(base);
    std::string base_text;
    try {
      base_text = read_text_file(base);
    } catch (const InputError& e) {
      fail(r.loc(ext), fmt::format("cannot read the extended scenario '{}': {}", rel, e.text()));
    }
    s = parse_scenario_impl(base_text, base, model, rules, chain);
  }
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
  auto lever_names = [&](NodeKind kind) {
    std::vector<std::string> names;
    for (const auto& n : model.nodes)
      if (n.kind == kind) names.push_back(n.name);
    return names;
  };
  auto resolve = [&](const YAML::Node& key, NodeKind kind) -> const Node& {
    std::string name = r.string_of(key, "a node name");
    const Node* n = model.find(name);
    if (!n)
      fail(r.loc(key), fmt::format("unknown {} '{}'{}", kind_name(kind), name,
                                   did_you_mean(name, lever_names(kind))));
    if (n->kind != kind)
      fail(r.loc(key), fmt::format("'{}' is {} {}, not a {}; a scenario may override only levers "
                                   "and parameters",
                                   name, n->kind == NodeKind::kAuxiliary ? "an" : "a",
                                   kind_name(n->kind), kind_name(kind)));
    return *n;
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
  return s;
}

}  // namespace

Model parse_model(const std::string& text, const std::string& path) {
  try {
    return parse_model_impl(text, path);
  } catch (const YAML::Exception& e) {
    fail({path, e.mark.line + 1, e.mark.column + 1}, fmt::format("malformed YAML: {}", e.msg));
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
    fail({path, e.mark.line + 1, e.mark.column + 1}, fmt::format("malformed YAML: {}", e.msg));
  }
}

Scenario load_scenario(const std::string& path, const Model& model, const IncludeRules& rules) {
  return parse_scenario(read_text_file(path), path, model, rules);
}

}  // namespace attain
