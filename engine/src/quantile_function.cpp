// QuantileFunction: tabulated inverse CDFs of beta, PERT and gamma distributions
// (quintic Hermite cells with tail tables and Newton polishing).
#include <algorithm>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <limits>

#include "attain/distributions.hpp"
#include "distribution_math.hpp"

namespace attain {
namespace {

using namespace detail;  // NOLINT(google-build-using-namespace)

}  // namespace

double QuantileFunction::tail_node(std::size_t n) {
  // kTailPerOctave nodes per octave from 2^kTailBottom up: 2^e (1 + j / kTailPerOctave).
  const int e = kTailBottom + static_cast<int>(n / kTailPerOctave);
  const double j = static_cast<double>(n % kTailPerOctave);
  return std::ldexp(1.0 + j / kTailPerOctave, e);
}

QuantileFunction::QuantileFunction(DistKind kind, std::vector<double> p, const DistTable* table)
    : kind_(kind), p_(std::move(p)), table_(table) {
  if (!params_ok(kind_, p_) || !set_shape()) return;
  build_nodes();
  tabulated_ = build_cells();
  if (!tabulated_) return;
  build_tail(lower_, false);
  build_tail(upper_, true);
  interpolated_ = tabulated_share();
}

bool QuantileFunction::set_shape() {
  switch (kind_) {
    case DistKind::kPert: {
      const double width = p_[2] - p_[0];
      if (!(width > 0)) return false;
      a_ = 1.0 + p_[3] * (p_[1] - p_[0]) / width;
      b_ = 1.0 + p_[3] * (p_[2] - p_[1]) / width;
      lo_ = p_[0], scale_ = width;
      break;
    }
    case DistKind::kBeta:
      a_ = p_[0], b_ = p_[1], lo_ = p_[2], scale_ = p_[3] - p_[2];
      break;
    case DistKind::kGamma:
      a_ = p_[0], scale_ = p_[1], gamma_ = true;
      break;
    default:
      return false;
  }
  return true;
}

// Nodes: Newton from the previous nodes' second-order extrapolation (usually one or two
// steps), the solver where that fails. d_ holds h dx/du = h / f(x), the slope per cell,
// and dd_ h^2 d2x/du2 = -(f'/f)(x) (h dx/du)^2, its curvature per cell.
void QuantileFunction::build_nodes() {
  const std::size_t cells = kCells;
  const double h = 1.0 / static_cast<double>(cells);
  x_.assign(cells + 1, 0.0);
  d_.assign(cells + 1, 0.0);
  dd_.assign(cells + 1, 0.0);
  x_.back() = gamma_ ? kInf : 1.0;
  for (std::size_t i = 1; i < cells; ++i) {
    const double u = static_cast<double>(i) * h;
    double x = extrapolated_node(i, u);
    if (std::isnan(x)) x = standard(u);
    x_[i] = x;
    d_[i] = h / pdf(x);
    dd_[i] = -log_density_slope(x) * d_[i] * d_[i];
  }
}

double QuantileFunction::extrapolated_node(std::size_t i, double u) const {
  const double prev = x_[i - 1];
  double x = kNaN;
  if (i > 2 && std::isfinite(d_[i - 1]) && d_[i - 1] > 0 && std::isfinite(d_[i - 2])) {
    double lo = prev, hi = x_.back();
    x = std::clamp(prev + d_[i - 1] + 0.5 * (d_[i - 1] - d_[i - 2]), lo, hi);
    x = bracketed_newton(x, lo, hi, u, false);
  }
  return x;
}

bool QuantileFunction::build_cells() {
  const std::size_t cells = kCells;
  // Quintic Hermite cells: exact values, slopes and curvatures at both ends. A cell's
  // interpolation error is estimated from the interpolant over the doubled cells around
  // each node, whose error at the middle node is about 64 times larger; cells where that
  // estimate exceeds 1e-13 relative (near singular ends) are marked for Newton polishing.
  std::vector<double> coarse_error(cells + 1, kInf);
  for (std::size_t m = 2; m + 2 <= cells; ++m) {
    const auto c = quintic(x_[m - 1], x_[m + 1], 2.0 * d_[m - 1], 2.0 * d_[m + 1], 4.0 * dd_[m - 1],
                           4.0 * dd_[m + 1]);
    const double mid =
        c[0] + 0.5 * (c[1] + 0.5 * (c[2] + 0.5 * (c[3] + 0.5 * (c[4] + 0.5 * c[5]))));
    coarse_error[m] = std::fabs(mid - x_[m]) / 64.0;
  }
  cells_.assign(cells, Cell{{0.0, 0.0, 0.0, 0.0, 0.0, kNaN}});
  bool finite = true;
  for (std::size_t i = 1; i + 1 < cells; ++i) {
    const double x0 = x_[i], x1 = x_[i + 1];
    finite = finite && std::isfinite(x0) && std::isfinite(x1);
    const double error =
        std::max(i > 1 ? coarse_error[i] : 0.0, i + 2 < cells ? coarse_error[i + 1] : 0.0);
    const bool ok = std::isfinite(d_[i]) && std::isfinite(d_[i + 1]) && d_[i] > 0 &&
                    d_[i + 1] > 0 && std::isfinite(dd_[i]) && std::isfinite(dd_[i + 1]) &&
                    error <= 1e-13 * std::min(std::fabs(x0), std::fabs(x1));
    if (!ok) continue;
    const auto c = quintic(x0, x1, d_[i], d_[i + 1], dd_[i], dd_[i + 1]);
    cells_[i] = Cell{{c[0], c[1], c[2], c[3], c[4], c[5]}};
  }
  return finite;
}

double QuantileFunction::tabulated_share() const {
  const std::size_t cells = kCells;
  const double h = 1.0 / static_cast<double>(cells);
  // Share of (0, 1) served by interpolation: the main cells between the tails' reaches,
  // and the tails' cells inside their reaches.
  double share = 0;
  for (std::size_t i = lower_.reach; i + upper_.reach < cells; ++i)
    if (i >= 1 && i + 1 < cells && !std::isnan(cells_[i].c[5])) share += h;
  for (const Tail* tail : {&lower_, &upper_}) {
    const double end = static_cast<double>(tail->reach) * h;
    for (std::size_t n = 0; n < tail->cells.size(); ++n) {
      const double w0 = tail_node(n), w1 = std::min(tail_node(n + 1), end);
      if (w0 < end && !std::isnan(tail->cells[n].c[5])) share += w1 - w0;
    }
  }
  return share;
}

void QuantileFunction::build_tail(Tail& tail, bool upper) {
  // The main cells this tail takes over: those from its end of (0, 1) up to the first
  // interpolated one, as far as 2^kTailTop.
  const std::size_t most = kCells >> -kTailTop;
  std::size_t reach = 1;
  while (reach < most) {
    const std::size_t i = upper ? kCells - 1 - reach : reach;
    if (!std::isnan(cells_[i].c[5])) break;
    ++reach;
  }
  const std::size_t nodes = kTailNodes + 1;
  tail.x.assign(nodes, kNaN);
  tail.dx.assign(nodes, kNaN);
  tail.ddx.assign(nodes, kNaN);
  const double sign = upper ? -1.0 : 1.0;
  const double end = static_cast<double>(reach) / static_cast<double>(kCells);
  for (std::size_t n = 0; n < nodes; ++n) {
    const double w = tail_node(n);
    if (w > end) break;
    double x = kNaN;
    if (n > 0 && std::isfinite(tail.x[n - 1]) && std::isfinite(tail.dx[n - 1])) {
      // Newton on the tail probability from the previous node's tangent, kept between the
      // previous node and the end of the support.
      double lo = upper ? 0.0 : tail.x[n - 1];
      double hi = upper ? tail.x[n - 1] : (gamma_ ? kInf : 1.0);
      x = std::clamp(tail.x[n - 1] + (w - tail_node(n - 1)) * tail.dx[n - 1], lo, hi);
      x = bracketed_newton(x, lo, hi, w, upper);
    }
    if (std::isnan(x)) x = exact_tail(w, upper);
    // The node where the tail meets the main table takes the main table's value, so the
    // two join without a step.
    if (w == end) x = x_[upper ? kCells - reach : reach];
    const double f = pdf(x);
    tail.x[n] = x;
    tail.dx[n] = sign / f;
    tail.ddx[n] = -log_density_slope(x) * tail.dx[n] * tail.dx[n];
  }
  // Cells as in the main table: quintic Hermite, marked for polishing where the estimate
  // from doubled cells exceeds 1e-13 relative.
  std::vector<double> error(nodes, kInf);
  for (std::size_t m = 1; m + 1 < nodes; ++m) {
    const double w0 = tail_node(m - 1), w1 = tail_node(m + 1), width = w1 - w0;
    const auto c =
        quintic(tail.x[m - 1], tail.x[m + 1], width * tail.dx[m - 1], width * tail.dx[m + 1],
                width * width * tail.ddx[m - 1], width * width * tail.ddx[m + 1]);
    const double s = (tail_node(m) - w0) / width;
    const double mid = c[0] + s * (c[1] + s * (c[2] + s * (c[3] + s * (c[4] + s * c[5]))));
    error[m] = std::fabs(mid - tail.x[m]) / 64.0;
  }
  tail.cells.assign(kTailNodes, Cell{{0.0, 0.0, 0.0, 0.0, 0.0, kNaN}});
  for (std::size_t n = 0; n < kTailNodes; ++n) {
    const double x0 = tail.x[n], x1 = tail.x[n + 1];
    const double width = tail_node(n + 1) - tail_node(n);
    const double e = std::max(n > 0 ? error[n] : 0.0, n + 2 < nodes ? error[n + 1] : 0.0);
    const bool ok = std::isfinite(x0) && std::isfinite(x1) && std::isfinite(tail.dx[n]) &&
                    std::isfinite(tail.dx[n + 1]) && std::isfinite(tail.ddx[n]) &&
                    std::isfinite(tail.ddx[n + 1]) &&
                    e <= 1e-13 * std::min(std::fabs(x0), std::fabs(x1));
    if (!ok) continue;
    const auto c = quintic(x0, x1, width * tail.dx[n], width * tail.dx[n + 1],
                           width * width * tail.ddx[n], width * width * tail.ddx[n + 1]);
    tail.cells[n] = Cell{{c[0], c[1], c[2], c[3], c[4], c[5]}};
  }
  tail.reach = reach;
}

double QuantileFunction::tail_value(const Tail& tail, bool upper, double w) const {
  std::size_t n;
  double s;
  if (!tail_index(w, n, s) || n >= tail.cells.size()) return kNaN;
  const Cell& c = tail.cells[n];
  if (!std::isnan(c.c[5]))
    return c.c[0] + s * (c.c[1] + s * (c.c[2] + s * (c.c[3] + s * (c.c[4] + s * c.c[5]))));
  // Newton on the exact tail probability inside the cell's nodes.
  const double x0 = tail.x[n], x1 = tail.x[n + 1];
  if (!std::isfinite(x0) || !std::isfinite(x1)) return kNaN;
  return newton_in_cell(x0 + s * (x1 - x0), x0, x1, w, upper);
}

double QuantileFunction::bracketed_newton(double x, double lo, double hi, double target,
                                          bool upper) const {
  const double sign = upper ? -1.0 : 1.0;
  for (int step = 0;; ++step) {
    const double c = cdf(x, upper), f = pdf(x);
    if (step == 12 || !std::isfinite(c) || !(f > 0) || !std::isfinite(f)) return kNaN;
    ((c < target) != upper ? lo : hi) = x;
    const double delta = sign * (c - target) / f;
    const double next = x - delta;
    if (!(next >= lo && next <= hi)) return kNaN;
    x = next;
    if (newton_done(x, delta)) return x;
  }
}

double QuantileFunction::newton_in_cell(double x, double x0, double x1, double target,
                                        bool upper) const {
  // The true quantile lies between the cell's nodes, so every step is kept there.
  const double lo = std::min(x0, x1), hi = std::max(x0, x1);
  x = std::clamp(x, lo, hi);
  for (int step = 0; step < 8; ++step) {
    const double c = cdf(x, upper), f = pdf(x);
    if (!std::isfinite(c) || !(f > 0) || !std::isfinite(f)) return kNaN;
    const double delta = (upper ? -1.0 : 1.0) * (c - target) / f;
    const double next = std::clamp(x - delta, lo, hi);
    const bool done = newton_done(next, delta);
    x = next;
    if (done) break;
  }
  return x;
}

double QuantileFunction::cdf(double x, bool upper) const {
  return no_throw([&] {
    if (gamma_)
      return upper ? boost::math::gamma_q(a_, x, Policy()) : boost::math::gamma_p(a_, x, Policy());
    return upper ? boost::math::ibetac(a_, b_, x, Policy())
                 : boost::math::ibeta(a_, b_, x, Policy());
  });
}

double QuantileFunction::exact_tail(double w, bool upper) const {
  if (!upper) return standard(w);
  const double x = no_throw([&] {
    return gamma_ ? boost::math::gamma_q_inv(a_, w, Policy())
                  : boost::math::ibetac_inv(a_, b_, w, Policy());
  });
  return std::isnan(x) ? standard(1.0 - w) : x;
}

std::array<double, 6> QuantileFunction::quintic(double x0, double x1, double m0, double m1,
                                                double a0, double a1) {
  // p(s) = sum c_k s^k on [0, 1] with p, p', p'' equal to (x0, m0, a0) at 0 and (x1, m1,
  // a1) at 1.
  const double r0 = x1 - x0 - m0 - 0.5 * a0, r1 = m1 - m0 - a0, r2 = a1 - a0;
  return {x0,
          m0,
          0.5 * a0,
          10.0 * r0 - 4.0 * r1 + 0.5 * r2,
          -15.0 * r0 + 7.0 * r1 - r2,
          6.0 * r0 - 3.0 * r1 + 0.5 * r2};
}

double QuantileFunction::log_density_slope(double x) const {
  return gamma_ ? (a_ - 1.0) / x - 1.0 : (a_ - 1.0) / x - (b_ - 1.0) / (1.0 - x);
}

double QuantileFunction::standard(double u) const {
  return gamma_ ? gamma_inv(a_, u) : beta_inv(a_, b_, u);
}

double QuantileFunction::pdf(double x) const {
  return no_throw([&] {
    return gamma_ ? boost::math::gamma_p_derivative(a_, x, Policy())
                  : boost::math::ibeta_derivative(a_, b_, x, Policy());
  });
}

double QuantileFunction::polish(double u, std::size_t i, double s) const {
  // Newton on the exact CDF from the Hermite value.
  const double x0 = x_[i], x1 = x_[i + 1];
  const auto c = quintic(x0, x1, d_[i], d_[i + 1], dd_[i], dd_[i + 1]);
  double x = c[0] + s * (c[1] + s * (c[2] + s * (c[3] + s * (c[4] + s * c[5]))));
  if (!std::isfinite(x)) x = x0 + s * (x1 - x0);
  x = newton_in_cell(x, x0, x1, u, false);
  return std::isnan(x) ? standard(u) : x;
}

bool QuantileFunction::newton_done(double x, double delta) const {
  // A Newton step's own error is about |g| / 2 * delta^2, g = f'(x) / f(x) the
  // log-derivative of the density: once that is below rounding the step was the last one.
  const double g = log_density_slope(x);
  return std::fabs(g) * delta * delta <= 2e-16 * std::fabs(x) ||
         std::fabs(delta) <= 1e-15 * std::fabs(x);
}

double QuantileFunction::slow(double u) const {
  if (!tabulated_) return quantile(kind_, p_, table_, u);
  const double t = u * static_cast<double>(kCells);
  double x = kNaN;
  if (u > 0 && u < 1) {
    // Near an end: the tail's octave cells (u >= 1/2 makes 1 - u exact).
    const auto i = static_cast<std::size_t>(t);
    if (i < lower_.reach) x = tail_value(lower_, false, u);
    if (i + upper_.reach >= kCells) x = tail_value(upper_, true, 1.0 - u);
  }
  if (!std::isnan(x)) {
    // served by a tail
  } else if (!(u > 0 && u < 1) || !(t >= 1.0 && t < static_cast<double>(kCells - 1))) {
    x = standard(u);  // the ends beyond the tails' cells: the solver
  } else {
    const auto i = static_cast<std::size_t>(t);
    const double s = t - static_cast<double>(i);
    const Cell& c = cells_[i];
    if (std::isnan(c.c[5])) {
      x = polish(u, i, s);
    } else {
      x = c.c[0] + s * (c.c[1] + s * (c.c[2] + s * (c.c[3] + s * (c.c[4] + s * c.c[5]))));
    }
  }
  if (gamma_) return x * scale_;
  return std::clamp(lo_ + scale_ * x, lo_, lo_ + scale_);
}

}  // namespace attain
