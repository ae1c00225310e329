#include "core/forecast/smoothing.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <string>

#include "core/common/binary_io.hpp"
#include "core/common/error.hpp"
#include "core/forecast/learners.hpp"

namespace insight::forecast {
namespace {

// Runs the recursions over the history; returns the one-step SSE and leaves the final state.
struct HwState {
  double level, trend;
  std::vector<double> seasonal;
};

// Robust to outliers (Gelper, Fried & Croux 2010): each observation enters the recursions
// "cleaned" — its one-step error clipped at kHuber robust scales — and the fit minimises the
// squared clipped errors. A bulk order or a data glitch then moves level, trend and season by at
// most a few typical errors, while a lasting level shift still gets through: the scale grows
// with every clipped error until the new level is followed.
constexpr double kHuber = 3.0;
constexpr double kScaleSmoothing = 0.1;

double run(const std::vector<double>& y, const HoltWintersParams& p, int m, HwState* out) {
  const auto sm = static_cast<size_t>(m);
  // Initial state from the first two seasons.
  const double mean1 = std::accumulate(y.begin(), y.begin() + m, 0.0) / m;
  const double mean2 = std::accumulate(y.begin() + m, y.begin() + 2 * m, 0.0) / m;
  double level = mean1;
  double trend = (mean2 - mean1) / m;
  std::vector<double> s(sm);
  for (size_t i = 0; i < sm; ++i) s[i] = y[i] - mean1;
  // Initial scale: the mean absolute seasonal difference of the first two seasons.
  double scale = 0;
  for (size_t i = sm; i < 2 * sm; ++i) scale += std::abs(y[i] - y[i - sm]);
  scale /= m;
  if (!(scale > 0)) scale = std::max(1e-9, std::abs(mean1) * 0.01 + 1e-9);
  double sse = 0;
  for (size_t t = sm; t < y.size(); ++t) {
    const size_t k = t % sm;
    const double predicted = level + p.phi * trend + s[k];
    const double limit = kHuber * scale;
    const double err = std::clamp(y[t] - predicted, -limit, limit);
    sse += err * err;
    scale = std::sqrt(kScaleSmoothing * err * err + (1 - kScaleSmoothing) * scale * scale);
    const double clean = predicted + err;
    const double prev_level = level;
    level = p.alpha * (clean - s[k]) + (1 - p.alpha) * (prev_level + p.phi * trend);
    trend = p.beta * (level - prev_level) + (1 - p.beta) * p.phi * trend;
    s[k] = p.gamma * (clean - prev_level - p.phi * trend) + (1 - p.gamma) * s[k];
  }
  if (out) *out = HwState{level, trend, std::move(s)};
  return sse;
}

// Parameters from an unconstrained vector: logistic squashing into their ranges.
HoltWintersParams from_unconstrained(const std::array<double, 4>& z) {
  auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  HoltWintersParams p;
  p.alpha = 0.001 + 0.998 * sig(z[0]);
  p.beta = 0.999 * sig(z[1]) * p.alpha;  // beta <= alpha keeps the trend smoother than the level
  p.gamma = 0.001 + 0.998 * sig(z[2]) * (1 - p.alpha);
  p.phi = 0.8 + 0.18 * sig(z[3]);
  return p;
}

// Nelder-Mead over 4 dimensions, enough iterations for a smooth 4-parameter SSE.
std::array<double, 4> nelder_mead(const std::function<double(const std::array<double, 4>&)>& f,
                                  std::array<double, 4> start) {
  constexpr int n = 4;
  std::array<std::array<double, 4>, n + 1> x{};
  std::array<double, n + 1> fx{};
  x[0] = start;
  for (int i = 0; i < n; ++i) {
    x[i + 1] = start;
    x[i + 1][i] += 1.0;
  }
  for (int i = 0; i <= n; ++i) fx[i] = f(x[i]);
  for (int iter = 0; iter < 400; ++iter) {
    std::array<int, n + 1> order{};
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return fx[a] < fx[b]; });
    const int best = order[0], worst = order[n], second = order[n - 1];
    if (std::abs(fx[worst] - fx[best]) <= 1e-8 * (std::abs(fx[best]) + 1e-12)) break;
    std::array<double, 4> centroid{};
    for (int i = 0; i <= n; ++i)
      if (i != worst)
        for (int d = 0; d < n; ++d) centroid[d] += x[i][d] / n;
    auto along = [&](double t) {
      std::array<double, 4> p{};
      for (int d = 0; d < n; ++d) p[d] = centroid[d] + t * (x[worst][d] - centroid[d]);
      return p;
    };
    const auto reflected = along(-1.0);
    const double fr = f(reflected);
    if (fr < fx[best]) {
      const auto expanded = along(-2.0);
      const double fe = f(expanded);
      if (fe < fr) {
        x[worst] = expanded;
        fx[worst] = fe;
      } else {
        x[worst] = reflected;
        fx[worst] = fr;
      }
    } else if (fr < fx[second]) {
      x[worst] = reflected;
      fx[worst] = fr;
    } else {
      const auto contracted = along(fr < fx[worst] ? -0.5 : 0.5);
      const double fc = f(contracted);
      if (fc < std::min(fr, fx[worst])) {
        x[worst] = contracted;
        fx[worst] = fc;
      } else {  // shrink towards the best point
        for (int i = 0; i <= n; ++i) {
          if (i == best) continue;
          for (int d = 0; d < n; ++d) x[i][d] = x[best][d] + 0.5 * (x[i][d] - x[best][d]);
          fx[i] = f(x[i]);
        }
      }
    }
  }
  return x[static_cast<size_t>(std::min_element(fx.begin(), fx.end()) - fx.begin())];
}

}  // namespace

void SeasonalNaive::fit(const std::vector<double>& history, int season) {
  require_history(history, static_cast<size_t>(season), "seasonal_naive");
  last_season_.assign(history.end() - season, history.end());
}

std::vector<double> SeasonalNaive::forecast(int horizon) const {
  std::vector<double> out(static_cast<size_t>(std::max(horizon, 0)));
  for (size_t h = 0; h < out.size(); ++h) out[h] = last_season_[h % last_season_.size()];
  return out;
}

double HoltWinters::one_step_sse(const std::vector<double>& history, const HoltWintersParams& p,
                                 int season) {
  return run(history, p, season, nullptr);
}

void HoltWinters::fit_with(const std::vector<double>& history, const HoltWintersParams& params,
                           int season) {
  require_history(history, 2 * static_cast<size_t>(season), "holt_winters");
  params_ = params;
  season_ = season;
  HwState state;
  run(history, params, season, &state);
  level_ = state.level;
  trend_ = state.trend;
  seasonal_ = std::move(state.seasonal);
  n_ = history.size();
}

void HoltWinters::fit(const std::vector<double>& history, int season) {
  require_history(history, 2 * static_cast<size_t>(season), "holt_winters");
  auto objective = [&](const std::array<double, 4>& z) {
    const double sse = run(history, from_unconstrained(z), season, nullptr);
    return std::isfinite(sse) ? sse : std::numeric_limits<double>::max();
  };
  const auto z = nelder_mead(objective, {-1.0, -2.0, -2.0, 1.0});
  fit_with(history, from_unconstrained(z), season);
}

std::vector<double> HoltWinters::forecast(int horizon) const {
  std::vector<double> out(static_cast<size_t>(std::max(horizon, 0)));
  double damp = 0, phi_h = 1;
  for (size_t h = 1; h <= out.size(); ++h) {
    phi_h *= params_.phi;
    damp += phi_h;
    out[h - 1] = level_ + damp * trend_ + seasonal_[(n_ + h - 1) % static_cast<size_t>(season_)];
  }
  return out;
}

Explanation SeasonalNaive::explain(int horizon) const {
  const std::vector<double> f = forecast(horizon);
  const double level = std::accumulate(last_season_.begin(), last_season_.end(), 0.0) /
                       static_cast<double>(last_season_.size());
  std::vector<double> seasonality(f.size());
  for (size_t h = 0; h < f.size(); ++h) seasonality[h] = f[h] - level;
  return {{"level", std::vector<double>(f.size(), level)}, {"seasonality", seasonality}};
}

Explanation HoltWinters::explain(int horizon) const {
  const size_t n = static_cast<size_t>(std::max(horizon, 0));
  std::vector<double> trend(n), seasonality(n);
  double damp = 0, phi_h = 1;
  for (size_t h = 1; h <= n; ++h) {
    phi_h *= params_.phi;
    damp += phi_h;
    trend[h - 1] = damp * trend_;
    seasonality[h - 1] = seasonal_[(n_ + h - 1) % static_cast<size_t>(season_)];
  }
  return {{"level", std::vector<double>(n, level_)}, {"trend", trend}, {"seasonality", seasonality}};
}

void SeasonalNaive::write(BinaryWriter& w) const { w.f64_array(last_season_); }

SeasonalNaive SeasonalNaive::read(BinaryReader& r, int season) {
  SeasonalNaive m;
  m.last_season_ = r.f64_array(static_cast<size_t>(season));
  if (m.last_season_.size() != static_cast<size_t>(season))
    throw CorruptPayload("seasonal_naive state does not hold one season");
  for (double v : m.last_season_)
    if (!std::isfinite(v)) throw CorruptPayload("seasonal_naive state is not finite");
  return m;
}

void HoltWinters::write(BinaryWriter& w) const {
  w.f64(params_.alpha);
  w.f64(params_.beta);
  w.f64(params_.gamma);
  w.f64(params_.phi);
  w.f64(level_);
  w.f64(trend_);
  w.f64_array(seasonal_);
  w.u64(n_);
}

HoltWinters HoltWinters::read(BinaryReader& r, int season) {
  HoltWinters m;
  m.params_.alpha = r.finite_f64();
  m.params_.beta = r.finite_f64();
  m.params_.gamma = r.finite_f64();
  m.params_.phi = r.finite_f64();
  m.level_ = r.finite_f64();
  m.trend_ = r.finite_f64();
  m.seasonal_ = r.f64_array(static_cast<size_t>(season));
  m.n_ = r.u64();
  if (m.seasonal_.size() != static_cast<size_t>(season))
    throw CorruptPayload("holt_winters seasonal state does not hold one season");
  for (double v : m.seasonal_)
    if (!std::isfinite(v)) throw CorruptPayload("holt_winters seasonal state is not finite");
  if (!(m.params_.phi >= 0 && m.params_.phi <= 1))
    throw CorruptPayload("holt_winters damping out of range");
  m.season_ = static_cast<int>(m.seasonal_.size());
  return m;
}

}  // namespace insight::forecast

namespace insight::forecast {
namespace {

// Significant autocorrelation at lag m (90 %, the M4 Theta benchmark's test).
bool seasonal_at(const std::vector<double>& y, size_t m) {
  const size_t n = y.size();
  if (m < 2 || n < 3 * m) return false;
  const double mean = std::accumulate(y.begin(), y.end(), 0.0) / static_cast<double>(n);
  double var = 0;
  for (double v : y) var += (v - mean) * (v - mean);
  if (!(var > 0)) return false;
  auto acf = [&](size_t k) {
    double s = 0;
    for (size_t t = k; t < n; ++t) s += (y[t] - mean) * (y[t - k] - mean);
    return s / var;
  };
  double sum_sq = 0;
  for (size_t k = 1; k < m; ++k) sum_sq += acf(k) * acf(k);
  const double limit = 1.645 * std::sqrt((1 + 2 * sum_sq) / static_cast<double>(n));
  return std::abs(acf(m)) > limit;
}

// Classical decomposition: the centred moving average of one season, and the mean ratio (or
// difference) of the values to it per position t mod m, normalised to mean 1 (or 0).
std::vector<double> seasonal_indices(const std::vector<double>& y, size_t m, bool ratio) {
  const size_t n = y.size();
  std::vector<double> sum(m, 0.0);
  std::vector<size_t> count(m, 0);
  const size_t half = m / 2;
  for (size_t t = half; t + half < n && t + m - half <= n; ++t) {
    double trend;
    if (m % 2 == 1) {
      trend = std::accumulate(y.begin() + static_cast<long>(t - half),
                              y.begin() + static_cast<long>(t + half + 1), 0.0) /
              static_cast<double>(m);
    } else {  // 2×m moving average
      if (t + half >= n) break;
      double s = 0.5 * y[t - half] + 0.5 * y[t + half];
      for (size_t k = t - half + 1; k < t + half; ++k) s += y[k];
      trend = s / static_cast<double>(m);
    }
    if (ratio && !(trend > 0)) continue;
    sum[t % m] += ratio ? y[t] / trend : y[t] - trend;
    ++count[t % m];
  }
  std::vector<double> idx(m, ratio ? 1.0 : 0.0);
  double mean = 0;
  for (size_t k = 0; k < m; ++k) {
    if (count[k] > 0) idx[k] = sum[k] / static_cast<double>(count[k]);
    mean += idx[k] / static_cast<double>(m);
  }
  for (double& v : idx) v = ratio ? (mean > 0 ? v / mean : 1.0) : v - mean;
  return idx;
}

// One-step SSE of simple exponential smoothing from ℓ(0) = x(0); the final level in *level.
double ses_sse(const std::vector<double>& x, double alpha, double* level) {
  double l = x[0], sse = 0;
  for (size_t t = 1; t < x.size(); ++t) {
    const double e = x[t] - l;
    sse += e * e;
    l += alpha * e;
  }
  if (level) *level = l;
  return sse;
}

}  // namespace

void Theta::fit(const std::vector<double>& history, int season) {
  require_history(history, kMinHistory, "theta");
  const size_t n = history.size(), m = static_cast<size_t>(std::max(season, 1));
  std::vector<double> x = history;
  seasonality_ = 0;
  indices_.clear();
  if (seasonal_at(history, m)) {
    const bool positive =
        std::all_of(history.begin(), history.end(), [](double v) { return v > 0; });
    indices_ = seasonal_indices(history, m, positive);
    seasonality_ = positive ? 1 : 2;
    for (size_t t = 0; t < n; ++t)
      x[t] = positive ? x[t] / indices_[t % m] : x[t] - indices_[t % m];
  }
  // Least-squares slope of x on t.
  const double tn = static_cast<double>(n), t_mean = (tn - 1) / 2;
  const double x_mean = std::accumulate(x.begin(), x.end(), 0.0) / tn;
  double sxy = 0, sxx = 0;
  for (size_t t = 0; t < n; ++t) {
    sxy += (static_cast<double>(t) - t_mean) * (x[t] - x_mean);
    sxx += (static_cast<double>(t) - t_mean) * (static_cast<double>(t) - t_mean);
  }
  slope_ = sxx > 0 ? sxy / sxx : 0;
  // α: a grid, then golden-section search around its best point.
  double best = 0.5, best_sse = std::numeric_limits<double>::infinity();
  for (int i = 1; i < 20; ++i) {
    const double a = 0.05 * i;
    const double sse = ses_sse(x, a, nullptr);
    if (sse < best_sse) best_sse = sse, best = a;
  }
  double lo = std::max(0.01, best - 0.05), hi = std::min(0.99, best + 0.05);
  const double g = (std::sqrt(5.0) - 1) / 2;
  for (int i = 0; i < 30; ++i) {
    const double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
    if (ses_sse(x, a, nullptr) < ses_sse(x, b, nullptr))
      hi = b;
    else
      lo = a;
  }
  alpha_ = (lo + hi) / 2;
  ses_sse(x, alpha_, &level_);
  n_ = n;
}

std::vector<double> Theta::forecast(int horizon) const {
  std::vector<double> out(static_cast<size_t>(std::max(horizon, 0)));
  const double decay = std::pow(1 - alpha_, static_cast<double>(n_)) / alpha_;
  for (size_t h = 1; h <= out.size(); ++h) {
    double v = level_ + slope_ / 2 * (static_cast<double>(h) - 1 + 1 / alpha_ - decay);
    if (seasonality_ != 0) {
      const double s = indices_[(n_ + h - 1) % indices_.size()];
      v = seasonality_ == 1 ? v * s : v + s;
    }
    out[h - 1] = v;
  }
  return out;
}

Explanation Theta::explain(int horizon) const {
  const std::vector<double> f = forecast(horizon);
  const double decay = std::pow(1 - alpha_, static_cast<double>(n_)) / alpha_;
  std::vector<double> trend(f.size()), seasonality(f.size());
  for (size_t h = 1; h <= f.size(); ++h) {
    trend[h - 1] = slope_ / 2 * (static_cast<double>(h) - 1 + 1 / alpha_ - decay);
    seasonality[h - 1] = f[h - 1] - level_ - trend[h - 1];
  }
  return {{"level", std::vector<double>(f.size(), level_)}, {"trend", trend},
          {"seasonality", seasonality}};
}

void Theta::write(BinaryWriter& w) const {
  w.f64(alpha_);
  w.f64(level_);
  w.f64(slope_);
  w.u64(n_);
  w.u8(seasonality_);
  w.f64_array(indices_);
}

Theta Theta::read(BinaryReader& r, int season) {
  Theta m;
  m.alpha_ = r.finite_f64();
  m.level_ = r.finite_f64();
  m.slope_ = r.finite_f64();
  m.n_ = r.u64();
  m.seasonality_ = r.u8();
  m.indices_ = r.f64_array(static_cast<size_t>(season));
  if (!(m.alpha_ > 0 && m.alpha_ < 1) || m.n_ < kMinHistory || m.seasonality_ > 2 ||
      (m.seasonality_ == 0) != m.indices_.empty() ||
      (m.seasonality_ != 0 && m.indices_.size() != static_cast<size_t>(season)))
    throw CorruptPayload("theta state is inconsistent");
  for (double v : m.indices_)
    if (!std::isfinite(v)) throw CorruptPayload("theta seasonal indices are not finite");
  return m;
}

}  // namespace insight::forecast
