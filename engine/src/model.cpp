// Time axis, lever rules, lookups, stable ids and scenario application.
#include "attain/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace attain {

int TimeAxis::steps() const {
  return static_cast<int>(std::llround((end - start) / step)) + 1;
}

double TimeAxis::time(int k) const {
  return start + k * step;
}

std::optional<int> TimeAxis::index_of(double t) const {
  double k = (t - start) / step;
  long long r = std::llround(k);
  if (std::fabs(k - static_cast<double>(r)) > 1e-9 || r < 0 || r >= steps()) return std::nullopt;
  return static_cast<int>(r);
}

std::string_view kind_name(NodeKind kind) {
  switch (kind) {
    case NodeKind::kLever:
      return "lever";
    case NodeKind::kParameter:
      return "parameter";
    case NodeKind::kShock:
      return "shock";
    case NodeKind::kAuxiliary:
      return "auxiliary";
    case NodeKind::kStock:
      return "stock";
  }
  return "?";
}

std::optional<Cmp> cmp_of(std::string_view text) {
  for (Cmp c : {Cmp::kGe, Cmp::kGt, Cmp::kLe, Cmp::kLt})
    if (cmp_name(c) == text) return c;
  return std::nullopt;
}

std::string_view cmp_name(Cmp c) {
  switch (c) {
    case Cmp::kGe:
      return ">=";
    case Cmp::kGt:
      return ">";
    case Cmp::kLe:
      return "<=";
    case Cmp::kLt:
      return "<";
  }
  return "?";
}

double LeverRule::at(double t, double start) const {
  double v = 0;
  switch (form) {
    case Form::kConstant:
      v = value;
      break;
    case Form::kGrowth:
      v = initial * std::pow(1 + rate, t - start);
      break;
    case Form::kSeries: {
      if (t <= series.front().first) {
        v = series.front().second;
      } else if (t >= series.back().first) {
        v = series.back().second;
      } else {
        auto it = std::upper_bound(series.begin(), series.end(), t,
                                   [](double x, const auto& p) { return x < p.first; });
        const auto& [x1, y1] = *it;
        const auto& [x0, y0] = *(it - 1);
        v = y0 + (y1 - y0) * (t - x0) / (x1 - x0);
      }
      break;
    }
  }
  return v * scale;
}

double Lookup::at(double v) const {
  if (!(v > x.front())) return v == v ? y.front() : v;  // NaN stays NaN
  if (v >= x.back()) return y.back();
  auto it = std::upper_bound(x.begin(), x.end(), v);
  std::size_t i = static_cast<std::size_t>(it - x.begin());
  return y[i - 1] + (y[i] - y[i - 1]) * (v - x[i - 1]) / (x[i] - x[i - 1]);
}

const Node* Model::find(std::string_view name) const {
  auto it = node_index.find(std::string(name));
  return it == node_index.end() ? nullptr : &nodes[static_cast<std::size_t>(it->second)];
}

std::vector<std::string> Model::node_names() const {
  std::vector<std::string> names;
  names.reserve(nodes.size());
  for (const auto& n : nodes) names.push_back(n.name);
  return names;
}

std::uint64_t stable_id(std::string_view name) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

Scenario default_scenario(const Model& model) {
  Scenario s;
  s.name = "default";
  s.description = "the model as written";
  s.model_name = model.name;
  return s;
}

Model apply_scenario(const Model& model, const Scenario& scenario) {
  Model m = model;
  for (const auto& [name, ov] : scenario.levers) {
    auto& node = m.nodes[static_cast<std::size_t>(m.node_index.at(name))];
    if (ov.rule) {
      node.lever = *ov.rule;
    } else {
      node.lever.scale *= ov.scale;
    }
  }
  for (const auto& [name, dist] : scenario.parameters) {
    auto& node = m.nodes[static_cast<std::size_t>(m.node_index.at(name))];
    node.dist = dist;
    if (dist.fixed) {
      // A fixed parameter leaves its correlation group; a principal submatrix of a
      // valid correlation matrix is still valid.
      for (auto& g : m.correlations) {
        auto it = std::find(g.parameters.begin(), g.parameters.end(), name);
        if (it == g.parameters.end()) continue;
        Eigen::Index drop = it - g.parameters.begin();
        g.parameters.erase(it);
        Eigen::Index n = g.rank.rows();
        Eigen::MatrixXd r(n - 1, n - 1);
        for (Eigen::Index i = 0, ii = 0; i < n; ++i) {
          if (i == drop) continue;
          for (Eigen::Index j = 0, jj = 0; j < n; ++j) {
            if (j == drop) continue;
            r(ii, jj++) = g.rank(i, j);
          }
          ++ii;
        }
        g.rank = r;
      }
      std::erase_if(m.correlations, [](const auto& g) { return g.parameters.size() < 2; });
    }
  }
  return m;
}

}  // namespace attain
