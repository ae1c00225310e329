// Seasonal anomaly detection on series: the last `window` periods of each series are judged
// against what the periods before them predict. The window is cut into blocks of at most
// `block` periods (default_block(): a week of days, a day of hours); each block is forecast by
// the forecasting procedure (JudgeOptions::learner: 'auto', the best pair of the backtested
// learners, backtest.hpp, or one learner) trained on every period before the block, with its conformal interval at `confidence`, widened where
// needed to the normal band of the backtest residuals' root mean square (a few dozen residuals
// cannot place a 99 % level by themselves). A point outside its interval is an anomaly; a
// point is never judged against a forecast made more than `block` periods ahead of it, nor
// against a model that saw it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/common/interrupt.hpp"
#include "core/forecast/forecast_model.hpp"

namespace insight::forecast {

struct JudgedPoint {
  int64_t period;  // of the options' frequency
  double value, expected, lower, upper;
  double score;  // anomaly_score() of the point
  bool anomaly;  // value outside [lower, upper]
};

struct JudgedSeries {
  std::string key;
  std::vector<JudgedPoint> points;
};

struct Judgement {
  std::vector<JudgedSeries> series;  // in the input's order; series too short are left out
  size_t skipped = 0;  // series with fewer than min_fallback_history() periods before the window
};

// The block a frequency's points are forecast in: a week of days, a day of steps (at most
// 366), 4 weeks, 3 months.
int default_block(const Frequency& f) noexcept;

struct JudgeOptions {
  Frequency frequency;   // of every series
  bool grouped = false;  // errors name the group ("group \"k\"") rather than "the series"
  int window = 7;       // periods judged at the end of each series (1..366)
  int block = 7;        // periods forecast from one origin (1..366)
  double confidence = 0.99;
  unsigned threads = 0;  // 0 = one per core
  // The forecasting procedure: empty = 'auto' (every learner backtested, the best pair); a
  // learner = that one alone, much cheaper ('theta': a few hundredths of 'auto''s time), where
  // the history before a block is long enough to backtest it ('auto' elsewhere).
  std::optional<Learner> learner;
};

// How far a value lies from the expected value, in units of the distance from the expected
// value to the interval's bound on the value's side: 0 at the expected value, 1 on the bound,
// above 1 outside the interval. A bound at the expected value itself counts as a distance of
// 1e-9 of the value's scale (at least 1e-9).
double anomaly_score(double value, double expected, double lower, double upper) noexcept;

// Judges the last options.window periods of every series. InvalidParameter for a window, block
// or confidence out of range, or when every series is too short (the message says how long
// they are and how long they must be). `check` runs on the calling thread only.
Judgement judge_recent(const std::vector<SeriesData>& series, const JudgeOptions& options,
                       const InterruptCheck& check = {});

}  // namespace insight::forecast
