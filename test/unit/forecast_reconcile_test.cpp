// Coherent forecasts of grouped models (reconcile.hpp): the WLS share-out, its floor at 0,
// bottom-up, the measured choice, and a trained model's total and reconciled forecasts.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/random.hpp"
#include "core/forecast/forecast_model.hpp"
#include "core/forecast/reconcile.hpp"
#include "core/model/model.hpp"
#include "core/model/payload.hpp"
#include "forecast_testing.hpp"

namespace insight::forecast {
namespace {

TEST(Reconcile, WlsSharesTheGapByErrorVariance) {
  // Groups 10 and 20 (variances 1 and 3), a total of 36 known exactly: the gap of 6 goes 1:3.
  auto r = reconcile(Reconciliation::Wls, {{10}, {20}}, {36}, {{1}, {3}}, {0}, false);
  EXPECT_DOUBLE_EQ(r[0][0], 11.5);
  EXPECT_DOUBLE_EQ(r[1][0], 24.5);
  // A total as uncertain as the groups together meets them half-way: the sum is 33.
  r = reconcile(Reconciliation::Wls, {{10}, {20}}, {36}, {{1}, {3}}, {4}, false);
  EXPECT_DOUBLE_EQ(r[0][0] + r[1][0], 33);
  EXPECT_DOUBLE_EQ(r[0][0], 10.75);
  // Bottom-up leaves the groups as they are.
  r = reconcile(Reconciliation::BottomUp, {{10}, {20}}, {36}, {{1}, {3}}, {4}, false);
  EXPECT_EQ(r, (std::vector<std::vector<double>>{{10}, {20}}));
}

TEST(Reconcile, NeverNegativeGroupsAreHeldAtZeroAndTheRestShare) {
  // Total 5 against groups 1 and 20 of equal variance: −8 each would take the first to −7;
  // it is held at 0 and the second takes the rest.
  const auto r = reconcile(Reconciliation::Wls, {{1}, {20}}, {5}, {{1}, {1}}, {0}, true);
  EXPECT_DOUBLE_EQ(r[0][0], 0);
  EXPECT_DOUBLE_EQ(r[1][0], 5);
  const auto signed_r = reconcile(Reconciliation::Wls, {{1}, {20}}, {5}, {{1}, {1}}, {0}, false);
  EXPECT_DOUBLE_EQ(signed_r[0][0], -7);
}

TEST(Reconcile, ErrorVariancesAreMeanSquaresCarriedPastTheLastStep) {
  const auto v = error_variances({{1, -1}, {2, 2, -2}}, 4);
  EXPECT_EQ(v, (std::vector<double>{1, 4, 4, 4}));
  EXPECT_GT(error_variances({{0, 0}}, 1)[0], 0);  // floored
}

TEST(Reconcile, TheMeasuredChoiceScoresBothMethodsOnTheFolds) {
  // One fold: the groups' forecasts are biased low by 5 each, the total's is exact. WLS moves
  // the groups to the truth; bottom-up keeps their bias and a total 10 short.
  Fold a{{10, 10}, {15, 15}, 1}, b{{20, 20}, {25, 25}, 1}, t{{40, 40}, {40, 40}, 1};
  // Residuals per step (one fold): the groups erred by 1, the total by almost nothing.
  const Residuals group_errors{{1}, {1}}, total_errors{{1e-6}, {1e-6}};
  const auto scores =
      score_reconciliations({{a}, {b}}, {t}, {group_errors, group_errors}, total_errors, true);
  ASSERT_EQ(scores.size(), 2u);
  EXPECT_EQ(scores[0].method, Reconciliation::BottomUp);
  EXPECT_DOUBLE_EQ(scores[0].total_mase, 10);
  EXPECT_DOUBLE_EQ(scores[0].group_mase, 5);
  EXPECT_NEAR(scores[1].total_mase, 0, 1e-6);
  EXPECT_NEAR(scores[1].group_mase, 0, 1e-6);
}

TEST(Reconcile, EachFoldIsWeightedByTheOtherFoldsErrors) {
  // Two folds. The total erred a lot in fold 0 and not at all in fold 1; reconciling fold 1
  // with weights from fold 0's errors (not its own) leaves the groups' forecast where it was.
  Fold g0{{10}, {10}, 1}, g1{{10}, {10}, 1}, t0{{10}, {10}, 1}, t1{{30}, {10}, 1};
  const Residuals group_errors{{1e-6, 1e-6}}, total_errors{{100, 0}};
  const auto scores =
      score_reconciliations({{g0, g1}}, {t0, t1}, {group_errors}, total_errors, false);
  EXPECT_NEAR(scores[1].group_mase, 0, 1e-3);  // WLS kept the group at 10 in both folds
}

// 200 days of a product selling `level` a day, 30 % more at weekends, ±20 % noise.
SeriesData product(const std::string& key, double level, uint64_t seed) {
  return weekly_series(key, 19000, 200, seed, level, 0.3 * level, 0.4 * level);
}

TEST(ForecastModel, AGroupedModelFitsItsTotalAndReconcilesWithIt) {
  TrainOptions o;
  o.horizon = 7;
  o.threads = 2;
  TrainSummary summary;
  // "d" is too short to train: the total holds a, b and c only.
  const auto m =
      reload(train_forecast_payload({product("a", 10, 1), product("b", 50, 2), product("c", 3, 3),
                                     SeriesData{"d", 19190, std::vector<double>(5, 1000.0), {}}},
                                    true, o, {}, summary));
  ASSERT_NE(m->total(), nullptr);
  EXPECT_EQ(m->total()->periods, 200u);
  const auto& r = summary.metrics.at("reconciliation");
  EXPECT_TRUE(r.at("measured").get<bool>());
  EXPECT_TRUE(r.contains("bottom_up") && r.contains("wls"));
  const std::string method = r.at("method").get<std::string>();
  EXPECT_EQ(method, reconciliation_name(m->reconciliation()));
  const auto reconciled =
      m->forecast_reconciled(10, 0.9, std::vector<std::vector<double>>(m->series().size()));
  ASSERT_EQ(reconciled.size(), 3u);
  std::vector<double> total;
  for (const auto& p : m->forecast(*m->total(), 10, 0.9)) total.push_back(p.value);
  for (size_t h = 0; h < 10; ++h) {
    double sum = 0, base = 0;
    for (size_t g = 0; g < 3; ++g) {
      sum += reconciled[g][h].value;
      base += m->forecast(m->series()[g], 10, 0.9)[h].value;
      EXPECT_GE(reconciled[g][h].value, 0);
      EXPECT_LE(reconciled[g][h].lower, reconciled[g][h].value);
      EXPECT_GE(reconciled[g][h].upper, reconciled[g][h].value);
    }
    // WLS lands between the groups' own sum and the total's forecast; bottom-up on the sum.
    if (m->reconciliation() == Reconciliation::BottomUp) {
      EXPECT_NEAR(sum, base, 1e-9 * base);
    } else {
      EXPECT_GE(sum, std::min(base, total[h]) - 1e-9);
      EXPECT_LE(sum, std::max(base, total[h]) + 1e-9);
    }
  }
  // An ungrouped model has no total.
  const auto single = reload(train_forecast_payload({product("", 10, 4)}, false, o, {}, summary));
  EXPECT_EQ(single->total(), nullptr);
  EXPECT_THROW(single->forecast_reconciled(5, 0.9, {{}}), InvalidParameter);
}

}  // namespace
}  // namespace insight::forecast
