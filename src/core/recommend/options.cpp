#include "core/recommend/options.hpp"

#include <algorithm>
#include <string>

#include "core/common/error.hpp"
#include "core/common/options.hpp"
#include "core/recommend/evaluation.hpp"

namespace insight::recommend {

namespace {

uint32_t at_least_one(int32_t v, const char* what) {
  if (v < 1) throw InvalidParameter(std::string(what) + " must be at least 1");
  return static_cast<uint32_t>(v);
}

}  // namespace

TrainOptions read_learner_options(OptionReader& r) {
  TrainOptions o;
  const std::string algorithm = r.text("algorithm", "als");
  const auto method = method_from_name(algorithm);
  if (!method)
    throw InvalidParameter("unknown recommendation algorithm " + echo(algorithm),
                           "algorithm must be one of: " + method_names() + ".");
  o.method = *method;
  o.factors = static_cast<uint32_t>(std::max(0, r.int4("factors", 64)));
  o.iterations = at_least_one(r.int4("iterations", 15), "iterations");
  o.regularization = r.float8("regularization", 0.3);
  o.alpha = r.float8("alpha", 1.0);
  if (const auto n = r.optional_int4("neighbors")) o.neighbors = at_least_one(*n, "neighbors");
  validate(o);
  return o;
}

void write_learner_options(const TrainOptions& o, nlohmann::json& out) {
  out["algorithm"] = std::string(method_name(o.method));
  out["factors"] = o.factors;
  out["iterations"] = o.iterations;
  out["regularization"] = o.regularization;
  out["alpha"] = o.alpha;
  out["neighbors"] = o.neighbors > 0 ? nlohmann::json(o.neighbors) : nlohmann::json();
}

RecommenderOptions RecommenderOptions::from_json(const nlohmann::json& options) {
  OptionReader r(options, "recommender options");
  RecommenderOptions o;
  o.user_column = r.text("user_column");
  o.item_column = r.text("item_column");
  o.weight_column = r.optional_text("weight_column");
  o.model = read_learner_options(r);
  o.min_user_interactions =
      at_least_one(r.int4("min_user_interactions", 1), "min_user_interactions");
  o.min_item_interactions =
      at_least_one(r.int4("min_item_interactions", 1), "min_item_interactions");
  o.model.seed = r.seed("seed", 42);
  o.validate = r.boolean("validate", false);
  r.finish();
  return o;
}

RecommenderEvaluationOptions RecommenderEvaluationOptions::from_json(
    const nlohmann::json& options) {
  OptionReader r(options, "recommender evaluation options");
  RecommenderEvaluationOptions o;
  o.user_column = r.text("user_column");
  o.item_column = r.text("item_column");
  o.time_column = r.text("time_column");
  o.weight_column = r.optional_text("weight_column");
  o.model = read_learner_options(r);
  const int32_t k = r.int4("k", 10);
  check_k(k);
  o.k = static_cast<uint32_t>(k);
  o.test_fraction = r.float8("test_fraction", 0.2);
  o.cutoff = r.optional_text("cutoff");
  r.finish();
  return o;
}

nlohmann::json RecommenderOptions::to_json() const {
  nlohmann::json j = {
      {"user_column", user_column},
      {"item_column", item_column},
      {"weight_column", weight_column ? nlohmann::json(*weight_column) : nlohmann::json()},
      {"min_user_interactions", min_user_interactions},
      {"min_item_interactions", min_item_interactions},
      {"seed", model.seed},
      {"validate", validate}};
  write_learner_options(model, j);
  return j;
}

}  // namespace insight::recommend
