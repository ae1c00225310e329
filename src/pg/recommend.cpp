// SQL side of recommendations (src/core/recommend): the interaction builder over a caller's
// relation, train_recommender, recommend, similar_items and evaluate_recommender.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/options.hpp"
#include "core/model/payload.hpp"
#include "core/recommend/evaluation.hpp"
#include "core/recommend/options.hpp"
#include "core/recommend/recommender.hpp"

#include "pg/evaluation.hpp"
#include "pg/model_store.hpp"
#include "pg/source.hpp"
#include "pg/stream.hpp"
#include "pg/training.hpp"
#include "pg/usage.hpp"
#include "pg/values.hpp"

namespace {

using insight::InvalidParameter;
using insight::pg::guard;
using insight::recommend::Method;

size_t k_arg(FunctionCallInfo fcinfo, int n) {
  const int32_t k = insight::pg::int4_arg(fcinfo, n, "k");
  insight::recommend::check_k(k);
  return static_cast<size_t>(k);
}

struct InteractionSpec {
  insight::pg::SourceRelation source;
  std::string user_column, item_column;
  std::optional<std::string> weight_column, time_column;
};

std::vector<std::string> interaction_columns(const InteractionSpec& s) {
  std::vector<std::string> columns{s.user_column, s.item_column};
  if (s.weight_column) columns.push_back(*s.weight_column);
  if (s.time_column) columns.push_back(*s.time_column);
  return columns;
}

// Checks the column types (the caller has checked the privileges on interaction_columns());
// returns the SQL text of the weight expression.
std::string check_columns(const InteractionSpec& s) {
  insight::pg::column_type(s.source, s.user_column, "user_column");
  insight::pg::column_type(s.source, s.item_column, "item_column");
  if (s.time_column) {
    const Oid t = insight::pg::column_type(s.source, *s.time_column, "time_column");
    if (t != DATEOID && t != TIMESTAMPOID && t != TIMESTAMPTZOID)
      throw InvalidParameter("time column \"" + *s.time_column + "\" is not a date or time",
                             "time_column must be of type date, timestamp or timestamptz.");
  }
  if (!s.weight_column) return "1::pg_catalog.float8";
  insight::pg::numeric_column(s.source, *s.weight_column, "weight_column", "weight",
                              "weight_column");
  return "(" + insight::pg::quoted(*s.weight_column) + ")::pg_catalog.float8";
}

// A weight the learners cannot use, named by column, user and item (the core checks again,
// without the column's name).
void check_weight(const InteractionSpec& spec, std::string_view user, std::string_view item,
                  double weight) {
  const char* what = std::isnan(weight)                        ? "NaN"
                     : weight < 0                              ? "a negative value"
                     : !std::isfinite(weight)                  ? "an infinite value"
                     : weight > insight::recommend::kMaxWeight ? "a value above 1e15"
                                                               : nullptr;
  if (what == nullptr) return;
  throw InvalidParameter("weight column \"" + spec.weight_column.value_or("") + "\" has " + what,
                         "user \"" + std::string(user) + "\", item \"" + std::string(item) + "\"",
                         "Weights must be finite, not negative and at most 1e15; filter or "
                         "transform them in a view, then train on the view.");
}

// The held-out validation of validate => true.
constexpr size_t kValidationK = 10;
constexpr double kValidationFraction = 0.2;

struct Built {
  insight::recommend::Interactions data;
  int64_t rows_skipped_null = 0;
  size_t rows_read = 0;  // rows with a user, an item and a weight, before the minimum counts
};

// Reads (user, item, weight) summed per pair: the count of rows when there is no weight column.
Built build_interactions(const InteractionSpec& spec, uint32_t min_user, uint32_t min_item) {
  const std::string w = check_columns(spec);
  const std::string u = "(" + insight::pg::quoted(spec.user_column) + ")::pg_catalog.text";
  const std::string i = "(" + insight::pg::quoted(spec.item_column) + ")::pg_catalog.text";
  // The rows as they are, summed per (user, item) by the builder: cheaper than a GROUP BY on
  // text keys (which a cursor could not run in parallel anyway), and summed in a canonical
  // order, so the same rows in any order give the same model.
  const std::string sql = "SELECT " + u + ", " + i + ", " + w + " FROM " + spec.source.qualified;
  insight::recommend::InteractionBuilder builder;
  Built out;
  insight::pg::spi_connect();
  insight::pg::spi_stream(sql.c_str(), {}, [&](const Datum* v, const bool* n, int) {
    if (n[0] || n[1] || n[2]) {
      ++out.rows_skipped_null;
      return;
    }
    const std::string_view user = insight::pg::text_view(v[0]), item = insight::pg::text_view(v[1]);
    const double weight = DatumGetFloat8(v[2]);
    check_weight(spec, user, item, weight);
    builder.add(user, item, weight);
    ++out.rows_read;
  });
  insight::pg::spi_finish();
  out.data = builder.build(min_user, min_item);
  return out;
}

std::string no_interactions(const InteractionSpec& spec) {
  return "relation " + spec.source.qualified + " has no rows with \"" + spec.user_column +
         "\", \"" + spec.item_column + "\"" +
         (spec.weight_column ? " and a positive \"" + *spec.weight_column + "\"" : std::string()) +
         " set";
}

const insight::recommend::RecommendModel& as_recommender(const insight::Model& m,
                                                         const std::string& name) {
  return insight::pg::model_as<insight::recommend::RecommendModel>(m, name, "a recommender",
                                                                   "insight.train_recommender");
}

}  // namespace

namespace {

// The reader is the interaction builder: (user, item, weight) rows through a cursor, summed
// per pair into a CSR matrix (build_interactions).
class RecommendTraining final
    : public insight::pg::TrainingWith<insight::recommend::RecommenderOptions> {
 public:
  using TrainingWith::TrainingWith;
  std::vector<std::string> columns() const override { return interaction_columns(spec({})); }

  insight::pg::TrainedVersion train(const insight::pg::SourceRelation& source,
                                    const std::string& /*name*/) override {
    const InteractionSpec spec = this->spec(source);
    insight::recommend::TrainOptions o = o_.model;
    o.threads = insight::pg::training_threads();
    const uint32_t min_user = o_.min_user_interactions, min_item = o_.min_item_interactions;
    Built built = build_interactions(spec, min_user, min_item);
    if (built.data.by_user.nnz() == 0 && built.rows_read > 0 && (min_user > 1 || min_item > 1))
      throw InvalidParameter("no interactions are left after the minimum counts",
                             std::to_string(built.rows_read) +
                                 " rows were read; no (user, item) pair is left with " +
                                 "min_user_interactions = " + std::to_string(min_user) +
                                 " and min_item_interactions = " + std::to_string(min_item) + ".",
                             "Lower min_user_interactions or min_item_interactions.");
    if (built.data.by_user.nnz() == 0) throw InvalidParameter(no_interactions(spec));
    const auto rows_used = static_cast<int64_t>(built.data.rows_used);
    const int64_t rows_skipped =
        built.rows_skipped_null + static_cast<int64_t>(built.data.rows_dropped);
    const size_t users = built.data.users.size(), items = built.data.items.size(),
                 pairs = built.data.by_user.nnz();
    // The validation metric (for promote => 'if_better'): a held-out fifth of each user's
    // items, ranked by the same learner trained on the rest. Data too small to hold anything
    // out give no metric (and a note why), not an error.
    std::optional<insight::recommend::Evaluation> validation;
    std::string validation_skipped;
    if (o_.validate) {
      try {
        validation = insight::recommend::holdout_evaluate(
            built.data, o, kValidationK, kValidationFraction, o.seed, insight::pg::kInterrupts);
      } catch (const InvalidParameter& e) {
        validation_skipped = e.what();
      }
    }
    auto model =
        insight::recommend::fit_recommender(std::move(built.data), o, insight::pg::kInterrupts);
    insight::Payload payload = insight::recommend::recommend_payload(*model);
    model.reset();
    payload.meta["source"] = source.qualified;
    payload.meta["params"] = params();
    insight::pg::TrainedVersion v(payload, columns(), rows_used, rows_skipped);
    v.metrics = {{"users", users},
                 {"items", items},
                 {"interactions", pairs},
                 {"density", static_cast<double>(pairs) /
                                 (static_cast<double>(users) * static_cast<double>(items))},
                 {"payload_bytes", v.payload.size()}};
    if (validation) {
      v.metrics["validation_ndcg_at_10"] = validation->model.ndcg;
      v.metrics["validation_recall_at_10"] = validation->model.recall;
      v.metrics["validation_popularity_ndcg_at_10"] = validation->popularity.ndcg;
      v.metrics["validation_users"] = validation->model.users;
    } else if (o_.validate) {
      v.metrics["validation_skipped"] = validation_skipped;
    }
    return v;
  }

 private:
  InteractionSpec spec(const insight::pg::SourceRelation& source) const {
    return InteractionSpec{source, o_.user_column, o_.item_column, o_.weight_column, std::nullopt};
  }
};

const insight::pg::TaskRegistrationOf<RecommendTraining> kRecommendTask("recommend");

}  // namespace

// recommend(name, user_id, k, exclude_seen) → TABLE(item_id text, score float8, reason text)
INSIGHT_FUNCTION(insight_recommend) {
  if (insight::pg::arg_is_null(fcinfo, 0)) throw InvalidParameter("name must not be NULL");
  const size_t k = k_arg(fcinfo, 2);
  const bool exclude_seen = insight::pg::arg_is_null(fcinfo, 3) || PG_GETARG_BOOL(3);
  const insight::pg::UsageTimer timer = insight::pg::usage_start_always();
  insight::pg::LiveModelSlot* slot = insight::pg::live_model_slot(fcinfo);
  const insight::Model& m = insight::pg::live_model(slot, PG_GETARG_DATUM(0));
  const auto& model = as_recommender(m, insight::pg::text_arg(fcinfo, 0, "name"));
  std::optional<uint32_t> user;
  if (!insight::pg::arg_is_null(fcinfo, 1))
    user = model.user_index(insight::pg::text_arg(fcinfo, 1, "user_id"));
  const auto recs = model.recommend(user, k, exclude_seen);
  const Datum own_reason =
      insight::pg::text_datum(std::string(insight::recommend::method_name(model.method())));
  const Datum popular_reason = insight::pg::text_datum("popularity");
  insight::pg::RowSink sink(fcinfo);
  for (const auto& r : recs) {
    Datum v[3] = {insight::pg::text_datum(model.items()[r.item]), Float8GetDatum(r.score),
                  r.popular ? popular_reason : own_reason};
    bool nulls[3] = {false, false, false};
    sink.put(v, nulls);
  }
  insight::pg::usage_record(timer, insight::pg::model_usage_key(slot->ref.model_id), sink.rows());
  return static_cast<Datum>(0);
}

// similar_items(name, item_id, k) → TABLE(item_id text, score float8)
INSIGHT_FUNCTION(insight_similar_items) {
  if (insight::pg::arg_is_null(fcinfo, 0)) throw InvalidParameter("name must not be NULL");
  const std::string item = insight::pg::text_arg(fcinfo, 1, "item_id");
  const size_t k = k_arg(fcinfo, 2);
  const insight::pg::UsageTimer timer = insight::pg::usage_start_always();
  insight::pg::LiveModelSlot* slot = insight::pg::live_model_slot(fcinfo);
  const insight::Model& m = insight::pg::live_model(slot, PG_GETARG_DATUM(0));
  const std::string name = insight::pg::text_arg(fcinfo, 0, "name");
  const auto& model = as_recommender(m, name);
  insight::pg::RowSink sink(fcinfo);
  const auto index = model.item_index(item);
  if (!index) {
    guard([&item, &name] {
      ereport(NOTICE, (errmsg("model \"%s\" does not know item \"%s\"", name.c_str(), item.c_str()),
                       errhint("Items are known from the interactions the model was trained on; "
                               "retrain to include new items.")));
      return 0;
    });
  } else {
    for (const auto& s : model.similar(*index, k)) {
      Datum v[2] = {insight::pg::text_datum(model.items()[s.item]), Float8GetDatum(s.score)};
      bool nulls[2] = {false, false};
      sink.put(v, nulls);
    }
  }
  insight::pg::usage_record(timer, insight::pg::model_usage_key(slot->ref.model_id), sink.rows());
  return static_cast<Datum>(0);
}

namespace {

// Trains the learner on the interactions before a split and ranks what each user did after
// it (insight::recommend::evaluate), beside the popularity baseline.
class RecommendEvaluation final
    : public insight::pg::EvaluationWith<insight::recommend::RecommenderEvaluationOptions> {
 public:
  explicit RecommendEvaluation(const nlohmann::json& options) : EvaluationWith(options) {
    split_.test_fraction = o_.test_fraction;
    if (o_.cutoff) {
      const std::string text = *o_.cutoff;
      split_.cutoff = guard([&text] {
        return static_cast<int64_t>(DatumGetTimestampTz(
            DirectFunctionCall3(timestamptz_in, CStringGetDatum(text.c_str()),
                                ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1))));
      });
    }
    insight::recommend::validate(split_);  // before reading anything
  }
  std::vector<std::string> columns() const override { return interaction_columns(spec({})); }

  void evaluate(const insight::pg::SourceRelation& source, insight::pg::RowSink& sink) override {
    const InteractionSpec spec = this->spec(source);
    insight::recommend::TrainOptions o = o_.model;
    o.threads = insight::pg::training_threads();
    o.similar_items = false;
    const std::string w = check_columns(spec);
    const std::string sql = "SELECT (" + insight::pg::quoted(spec.user_column) +
                            ")::pg_catalog.text, (" + insight::pg::quoted(spec.item_column) +
                            ")::pg_catalog.text, (" + insight::pg::quoted(*spec.time_column) +
                            ")::pg_catalog.timestamptz, " + w + " FROM " + spec.source.qualified;
    insight::recommend::EventLog log;
    insight::pg::spi_connect();
    insight::pg::spi_stream(sql.c_str(), {}, [&](const Datum* v, const bool* n, int) {
      if (n[0] || n[1] || n[2] || n[3]) return;  // skipped, as in training
      const std::string_view user = insight::pg::text_view(v[0]),
                             item = insight::pg::text_view(v[1]);
      const double weight = DatumGetFloat8(v[3]);
      check_weight(spec, user, item, weight);
      log.add(user, item, static_cast<int64_t>(DatumGetTimestampTz(v[2])), weight);
    });
    insight::pg::spi_finish();
    if (log.size() == 0) throw InvalidParameter(no_interactions(spec));

    const insight::recommend::Evaluation e =
        insight::recommend::evaluate(log, o, o_.k, split_, insight::pg::kInterrupts);
    auto put = [&sink](std::string_view algorithm, const insight::recommend::RankingMetrics& m) {
      sink.put_metrics({{"precision_at_k", m.precision},
                        {"recall_at_k", m.recall},
                        {"ndcg_at_k", m.ndcg},
                        {"map_at_k", m.map},
                        {"coverage", m.coverage},
                        {"users", static_cast<double>(m.users)}},
                       {std::string(algorithm)});
    };
    put(insight::recommend::method_name(o.method), e.model);
    if (o.method != Method::Popularity) put("popularity", e.popularity);
  }

 private:
  InteractionSpec spec(const insight::pg::SourceRelation& source) const {
    return InteractionSpec{source, o_.user_column, o_.item_column, o_.weight_column,
                           o_.time_column};
  }
  insight::recommend::SplitOptions split_;
};

const insight::pg::EvaluationRegistrationOf<RecommendEvaluation> kRecommendEvaluation("recommend");

}  // namespace
