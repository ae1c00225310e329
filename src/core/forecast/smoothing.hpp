// Statistical forecasters of one season (a week of days for daily sales; the frequency's
// season() in general):
//  * SeasonalNaive: the next period is the same period of the last season.
//  * HoltWinters: additive level, damped trend and additive season (Gardner &
//    McKenzie's damped trend), with alpha, beta, gamma and phi chosen by minimising the
//    one-step-ahead squared error over the history (Nelder-Mead).
// Both forecast recursively from the end of the history and never look at later values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/common/binary_io_fwd.hpp"
#include "core/forecast/learners.hpp"

namespace insight::forecast {

constexpr int kWeek = 7;

class SeasonalNaive {
 public:
  // Needs at least one season of history.
  void fit(const std::vector<double>& history, int season = kWeek);
  std::vector<double> forecast(int horizon) const;
  Explanation explain(int horizon) const;  // level, seasonality
  // The fitted state, for a model payload; read() throws CorruptPayload if it is inconsistent.
  void write(BinaryWriter& w) const;
  static SeasonalNaive read(BinaryReader& r, int season);

 private:
  std::vector<double> last_season_;
};

struct HoltWintersParams {
  double alpha = 0.3;  // level
  double beta = 0.05;  // trend
  double gamma = 0.1;  // season
  double phi = 0.95;   // trend damping, in [0.8, 0.98]
};

class HoltWinters {
 public:
  // Needs at least two seasons of history; fits the parameters unless given.
  void fit(const std::vector<double>& history, int season = kWeek);
  void fit_with(const std::vector<double>& history, const HoltWintersParams& params,
                int season = kWeek);
  std::vector<double> forecast(int horizon) const;
  Explanation explain(int horizon) const;  // level, trend, seasonality
  const HoltWintersParams& params() const { return params_; }
  void write(BinaryWriter& w) const;
  static HoltWinters read(BinaryReader& r, int season);
  // Sum of squared one-step-ahead errors over the history for these parameters.
  static double one_step_sse(const std::vector<double>& history, const HoltWintersParams& p,
                             int season);

 private:
  HoltWintersParams params_;
  int season_ = kWeek;
  double level_ = 0, trend_ = 0;
  std::vector<double> seasonal_;  // indexed by (t mod season)
  size_t n_ = 0;                  // length of the history
};

// The Theta method with θ = 2 (the form of Hyndman & Billah 2003): on x, the series divided
// (or, when it is not positive, reduced) by its seasonal indices when the autocorrelation at
// the season is significant at 90 % (the M4 benchmark's test), simple exponential smoothing
// with α minimising the one-step squared error, plus half the least-squares slope b of x:
//   x̂(n + h) = ℓ(n) + b/2 · (h − 1 + 1/α − (1 − α)^n / α),
// then the season put back.
class Theta {
 public:
  static constexpr size_t kMinHistory = 8;
  void fit(const std::vector<double>& history, int season);
  std::vector<double> forecast(int horizon) const;
  Explanation explain(int horizon) const;  // level, trend, seasonality
  void write(BinaryWriter& w) const;
  static Theta read(BinaryReader& r, int season);

 private:
  double alpha_ = 0.5, level_ = 0, slope_ = 0;
  uint64_t n_ = 0;
  uint8_t seasonality_ = 0;     // 0 none, 1 multiplicative, 2 additive
  std::vector<double> indices_;  // per position t mod season (empty without seasonality)
};

}  // namespace insight::forecast
