// The training options types: defaults, round trips through to_json (what retrain replays),
// and the errors a bad value gives, each naming the option.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/anomaly/options.hpp"
#include "core/common/error.hpp"
#include "core/common/options.hpp"
#include "core/forecast/options.hpp"
#include "core/recommend/options.hpp"
#include "core/rootcause/options.hpp"

namespace insight {
namespace {

using nlohmann::json;

// The message of the InvalidParameter that f throws ("" when it throws nothing).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InvalidParameter& e) {
    return e.what();
  }
  return "";
}

TEST(OptionReader, NullMissingAndUnknownKeys) {
  const json j = {{"a", nullptr}, {"b", 3}, {"c", "x"}, {"d", 4294967295u}, {"e", "NaN"}};
  OptionReader r(j, "test options");
  EXPECT_EQ(error_of([&] { r.int4("a"); }), "a must not be NULL");
  EXPECT_EQ(error_of([&] { r.int4("a", 7); }), "a must not be NULL");  // NULL is not "missing"
  EXPECT_EQ(r.int4("missing", 7), 7);
  EXPECT_EQ(r.int4("b"), 3);
  EXPECT_EQ(error_of([&] { r.int4("c"); }), "c must be an integer");
  EXPECT_EQ(r.seed("d", 1), 4294967295u);
  EXPECT_TRUE(std::isnan(r.float8("e")));
  EXPECT_FALSE(r.optional_text("a").has_value());
  EXPECT_TRUE(r.boolean("a", true));
  EXPECT_EQ(error_of([&] { r.finish(); }), "");
  const json extra = {{"known", 1}, {"typo", 2}};
  OptionReader r2(extra, "test options");
  r2.int4("known");
  EXPECT_EQ(error_of([&] { r2.finish(); }), "unknown option \"typo\" in the test options");
  EXPECT_EQ(error_of([&] { OptionReader bad(json::array(), "test options"); }),
            "test options must be a JSON object");
}

TEST(DetectorOptions, DefaultsRoundTripAndErrors) {
  const auto o = anomaly::DetectorOptions::from_json({{"features", {"x", "y"}}});
  EXPECT_EQ(o.model.forest.n_trees, 100);
  EXPECT_EQ(o.model.forest.sample_size, 256);
  EXPECT_EQ(o.model.forest.seed, 42u);
  EXPECT_DOUBLE_EQ(o.model.contamination, 0.05);
  EXPECT_TRUE(o.model.standardize);
  const json written = o.to_json();
  EXPECT_EQ(anomaly::DetectorOptions::from_json(written).to_json(), written);
  const json negative_seed = {{"features", {"x"}}, {"seed", -1}};
  EXPECT_EQ(anomaly::DetectorOptions::from_json(negative_seed).to_json()["seed"], -1);
  EXPECT_EQ(error_of([] {
              anomaly::DetectorOptions::from_json({{"features", nullptr}});
            }),
            "features must not be NULL");
  EXPECT_EQ(error_of([] {
              anomaly::DetectorOptions::from_json({{"features", json::array()}});
            }),
            "features must name at least one column");
  EXPECT_EQ(error_of([] {
              anomaly::DetectorOptions::from_json({{"features", {"x", "x"}}});
            }),
            "feature \"x\" is named twice");
  EXPECT_EQ(error_of([] {
              anomaly::DetectorOptions::from_json({{"features", {"x"}}, {"n_trees", 0}});
            }),
            "n_trees must be between 1 and 10000");
  EXPECT_EQ(error_of([] {
              anomaly::DetectorOptions::from_json({{"features", {"x"}}, {"contamination", "NaN"}});
            }).rfind("contamination", 0),
            0u);
}

TEST(ForecasterOptions, DefaultsRoundTripAndErrors) {
  const auto o = forecast::ForecasterOptions::from_json(
      {{"time_column", "t"}, {"value_column", "v"}, {"group_column", nullptr}});
  EXPECT_FALSE(o.model.learner.has_value());
  EXPECT_EQ(o.model.horizon, 14);
  EXPECT_EQ(o.model.folds, 3);
  EXPECT_FALSE(o.group_column.has_value());
  const json written = o.to_json();
  EXPECT_EQ(written["algorithm"], "auto");
  EXPECT_EQ(forecast::ForecasterOptions::from_json(written).to_json(), written);
  EXPECT_EQ(error_of([] {
              forecast::ForecasterOptions::from_json(
                  {{"time_column", "t"}, {"value_column", "v"}, {"algorithm", "prophet"}});
            }),
            "unknown forecasting algorithm \"prophet\"");
  EXPECT_EQ(error_of([] {
              forecast::ForecasterOptions::from_json({{"value_column", "v"}});
            }),
            "time_column must not be NULL");
}

TEST(RecommenderOptions, DefaultsRoundTripAndErrors) {
  const auto o = recommend::RecommenderOptions::from_json(
      {{"user_column", "u"}, {"item_column", "i"}, {"neighbors", nullptr}});
  EXPECT_EQ(o.model.method, recommend::Method::Als);
  EXPECT_EQ(o.model.factors, 64u);
  EXPECT_EQ(o.model.iterations, 15u);
  EXPECT_EQ(o.model.neighbors, 0u);
  EXPECT_EQ(o.model.seed, 42u);
  EXPECT_FALSE(o.validate);
  const json written = o.to_json();
  EXPECT_TRUE(written["neighbors"].is_null());
  EXPECT_EQ(recommend::RecommenderOptions::from_json(written).to_json(), written);
  EXPECT_EQ(error_of([] {
              recommend::RecommenderOptions::from_json(
                  {{"user_column", "u"}, {"item_column", "i"}, {"iterations", 0}});
            }),
            "iterations must be at least 1");
  EXPECT_EQ(error_of([] {
              recommend::RecommenderOptions::from_json(
                  {{"user_column", "u"}, {"item_column", "i"}, {"min_item_interactions", 0}});
            }),
            "min_item_interactions must be at least 1");
}

TEST(ForecastEvaluationOptions, TheForecastersOptionsAndAConfidence) {
  const auto o = forecast::ForecastEvaluationOptions::from_json(
      {{"time_column", "t"}, {"value_column", "v"}, {"algorithm", "linear"}, {"folds", 2}});
  EXPECT_EQ(o.forecaster.time_column, "t");
  EXPECT_EQ(o.forecaster.model.learner, forecast::Learner::Linear);
  EXPECT_EQ(o.forecaster.model.folds, 2);
  EXPECT_DOUBLE_EQ(o.confidence, 0.9);
  EXPECT_EQ(error_of([] {
              forecast::ForecastEvaluationOptions::from_json(
                  {{"time_column", "t"}, {"value_column", "v"}, {"confidence", 1.5}});
            }).rfind("confidence", 0),
            0u);
  // A training's options are not an evaluation's: no stray key is taken silently.
  EXPECT_NE(error_of([] {
              forecast::ForecastEvaluationOptions::from_json(
                  {{"time_column", "t"}, {"value_column", "v"}, {"k", 10}});
            }),
            "");
}

TEST(RecommenderEvaluationOptions, DefaultsAndErrors) {
  const auto o = recommend::RecommenderEvaluationOptions::from_json(
      {{"user_column", "u"}, {"item_column", "i"}, {"time_column", "t"}, {"cutoff", nullptr}});
  EXPECT_EQ(o.model.method, recommend::Method::Als);
  EXPECT_EQ(o.k, 10u);
  EXPECT_DOUBLE_EQ(o.test_fraction, 0.2);
  EXPECT_FALSE(o.cutoff.has_value());
  EXPECT_FALSE(o.weight_column.has_value());
  const auto c = recommend::RecommenderEvaluationOptions::from_json(
      {{"user_column", "u"},
       {"item_column", "i"},
       {"time_column", "t"},
       {"algorithm", "item_knn"},
       {"cutoff", "2026-03-01 00:00:00+00"}});
  EXPECT_EQ(c.model.method, recommend::Method::ItemKnn);
  EXPECT_EQ(c.cutoff.value_or(""), "2026-03-01 00:00:00+00");
  EXPECT_EQ(error_of([] {
              recommend::RecommenderEvaluationOptions::from_json(
                  {{"user_column", "u"}, {"item_column", "i"}});
            }),
            "time_column must not be NULL");
  EXPECT_NE(error_of([] {
              recommend::RecommenderEvaluationOptions::from_json(
                  {{"user_column", "u"}, {"item_column", "i"}, {"time_column", "t"}, {"k", 0}});
            }),
            "");
  EXPECT_NE(error_of([] {
              recommend::RecommenderEvaluationOptions::from_json({{"user_column", "u"},
                                                                  {"item_column", "i"},
                                                                  {"time_column", "t"},
                                                                  {"validate", true}});
            }),
            "");
}

TEST(ClassifierOptions, DefaultsRoundTripAndErrors) {
  using rootcause::ClassifierTrainingOptions;
  const auto o = ClassifierTrainingOptions::from_json(json::object());
  const json written = o.to_json();
  EXPECT_EQ(written, ClassifierTrainingOptions{}.to_json());
  EXPECT_EQ(ClassifierTrainingOptions::from_json(written).to_json(), written);
  EXPECT_EQ(error_of([] {
              ClassifierTrainingOptions::from_json({{"rounds", 0}});
            }),
            "rounds must be between 1 and 10000");
  EXPECT_EQ(error_of([] {
              ClassifierTrainingOptions::from_json({{"depth", 3}});
            }),
            "unknown option \"depth\" in the root-cause classifier options");
}

}  // namespace
}  // namespace insight
