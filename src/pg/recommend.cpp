// SQL side of recommendations (src/core/recommend): the interaction builder over a caller's
// relation, train_recommender, recommend, similar_items and evaluate_recommender.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.hpp"
#include "core/model/payload.hpp"
#include "core/recommend/evaluation.hpp"
#include "core/recommend/recommender.hpp"

#include "pg/catalog_writer.hpp"
#include "pg/model_store.hpp"
#include "pg/source.hpp"
#include "pg/values.hpp"

namespace {

using insight::InvalidParameter;
using insight::pg::guard;
using insight::recommend::Method;

const insight::InterruptCheck kCheck = [] { insight::pg::check_interrupts(); };
constexpr int kFetchRows = 10000;

Method method_arg(FunctionCallInfo fcinfo, int n) {
  const std::string a = insight::pg::text_arg(fcinfo, n, "algorithm");
  if (auto m = insight::recommend::method_from_name(a)) return *m;
  throw InvalidParameter("unknown recommendation algorithm \"" + a + "\"",
                         "algorithm must be one of: " + insight::recommend::method_names() + ".");
}

size_t k_arg(FunctionCallInfo fcinfo, int n) {
  const int32_t k = insight::pg::int4_arg(fcinfo, n, "k");
  insight::recommend::check_k(k);
  return static_cast<size_t>(k);
}

uint32_t positive_arg(FunctionCallInfo fcinfo, int n, const char* what) {
  const int32_t v = insight::pg::int4_arg(fcinfo, n, what);
  if (v < 1) throw InvalidParameter(std::string(what) + " must be at least 1");
  return static_cast<uint32_t>(v);
}

// The learner options train_recommender and evaluate_recommender share: factors at argument
// `first`, then iterations, regularization, alpha and neighbors at `second` onwards (NULL
// neighbors = the algorithm's default). Validated before any data is read.
insight::recommend::TrainOptions learner_options(FunctionCallInfo fcinfo, Method method, int first,
                                                 int second) {
  insight::recommend::TrainOptions o;
  o.method = method;
  o.factors = static_cast<uint32_t>(std::max(0, insight::pg::int4_arg(fcinfo, first, "factors")));
  o.iterations = positive_arg(fcinfo, second, "iterations");
  o.regularization = insight::pg::float8_arg(fcinfo, second + 1, "regularization");
  o.alpha = insight::pg::float8_arg(fcinfo, second + 2, "alpha");
  if (!insight::pg::arg_is_null(fcinfo, second + 3))
    o.neighbors = positive_arg(fcinfo, second + 3, "neighbors");
  o.threads = insight::pg::training_threads();
  insight::recommend::validate(o);
  return o;
}

// A text column of the current SPI row, viewed in place (nullopt for NULL): valid until the
// batch holding the row is freed.
std::optional<std::string_view> spi_text(HeapTuple tup, TupleDesc desc, int col) {
  const char* data = nullptr;
  size_t len = 0;
  const bool isnull = guard([tup, desc, col, &data, &len] {
    bool null = false;
    Datum d = SPI_getbinval(tup, desc, col, &null);
    if (!null) {
      text* t = DatumGetTextPP(d);
      data = VARDATA_ANY(t);
      len = VARSIZE_ANY_EXHDR(t);
    }
    return null;
  });
  if (isnull) return std::nullopt;
  return std::string_view(data, len);
}

std::optional<double> spi_float8(HeapTuple tup, TupleDesc desc, int col) {
  bool null = false;
  const double v = guard([tup, desc, col, &null] {
    Datum d = SPI_getbinval(tup, desc, col, &null);
    return null ? 0.0 : DatumGetFloat8(d);
  });
  if (null) return std::nullopt;
  return v;
}

// Runs a read-only query through a cursor and calls row(tuple, desc) for every row, a batch of
// kFetchRows at a time, so memory stays bounded whatever the relation's size. SPI must be
// connected.
template <class F>
void for_each_row(const std::string& sql, F&& row) {
  const char* q = sql.c_str();
  Portal portal = guard([q] {
    SPIPlanPtr plan = SPI_prepare(q, 0, nullptr);
    if (plan == nullptr)
      elog(ERROR, "pg_insight: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    return SPI_cursor_open(nullptr, plan, nullptr, nullptr, true);
  });
  for (;;) {
    const uint64_t n = guard([portal] {
      SPI_cursor_fetch(portal, true, kFetchRows);
      return static_cast<uint64_t>(SPI_processed);
    });
    if (n == 0) break;
    SPITupleTable* table = SPI_tuptable;
    for (uint64_t i = 0; i < n; ++i) row(table->vals[i], table->tupdesc);
    guard([table] {
      SPI_freetuptable(table);
      return 0;
    });
    insight::pg::check_interrupts();
  }
  guard([portal] {
    SPI_cursor_close(portal);
    return 0;
  });
}

struct InteractionSpec {
  insight::pg::SourceRelation source;
  std::string user_column, item_column;
  std::optional<std::string> weight_column, time_column;
};

// Checks privileges and column types; returns the SQL text of the weight expression.
std::string check_columns(const InteractionSpec& s) {
  std::vector<std::string> columns{s.user_column, s.item_column};
  if (s.weight_column) columns.push_back(*s.weight_column);
  if (s.time_column) columns.push_back(*s.time_column);
  insight::pg::check_select(s.source, columns);
  insight::pg::column_type(s.source, s.user_column, "user_column");
  insight::pg::column_type(s.source, s.item_column, "item_column");
  if (s.time_column) {
    const Oid t = insight::pg::column_type(s.source, *s.time_column, "time_column");
    if (t != DATEOID && t != TIMESTAMPOID && t != TIMESTAMPTZOID)
      throw InvalidParameter("time column \"" + *s.time_column + "\" is not a date or time",
                             "time_column must be of type date, timestamp or timestamptz.");
  }
  if (!s.weight_column) return "1::pg_catalog.float8";
  const Oid w = insight::pg::column_type(s.source, *s.weight_column, "weight_column");
  if (!insight::pg::is_numeric_type(w))
    throw InvalidParameter(
        "weight column \"" + *s.weight_column + "\" is not numeric",
        std::string("weight_column must be ") + insight::pg::kNumericTypes + ".");
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
  for_each_row(sql, [&](HeapTuple tup, TupleDesc desc) {
    const auto user = spi_text(tup, desc, 1);
    const auto item = spi_text(tup, desc, 2);
    const auto weight = spi_float8(tup, desc, 3);
    if (!user || !item || !weight) {
      ++out.rows_skipped_null;
      return;
    }
    check_weight(spec, *user, *item, *weight);
    builder.add(*user, *item, *weight);
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
  return insight::pg::model_as<insight::recommend::RecommendModel>(m, name, "recommender",
                                                                   "insight.train_recommender");
}

insight::pg::LiveModelSlot* live_slot(FunctionCallInfo fcinfo) {
  auto* slot = static_cast<insight::pg::LiveModelSlot*>(fcinfo->flinfo->fn_extra);
  if (slot == nullptr) {
    slot = insight::pg::new_live_model_slot(fcinfo->flinfo->fn_mcxt);
    fcinfo->flinfo->fn_extra = slot;
  }
  return slot;
}

}  // namespace

// train_recommender(name, source, user_column, item_column, weight_column, algorithm, factors,
//                   deploy, iterations, regularization, alpha, neighbors,
//                   min_user_interactions, min_item_interactions, seed) → training_result
INSIGHT_FUNCTION(insight_train_recommender) {
  const auto started = std::chrono::steady_clock::now();
  const TimestampTz started_at = guard([] { return GetCurrentTimestamp(); });
  const std::string name = insight::pg::text_arg(fcinfo, 0, "name");
  insight::pg::check_model_name(name);
  InteractionSpec spec;
  spec.source = insight::pg::source_relation(fcinfo, 1);
  spec.user_column = insight::pg::text_arg(fcinfo, 2, "user_column");
  spec.item_column = insight::pg::text_arg(fcinfo, 3, "item_column");
  if (!insight::pg::arg_is_null(fcinfo, 4))
    spec.weight_column = insight::pg::text_arg(fcinfo, 4, "weight_column");
  insight::recommend::TrainOptions o = learner_options(fcinfo, method_arg(fcinfo, 5), 6, 8);
  const bool deploy = insight::pg::arg_is_null(fcinfo, 7) || PG_GETARG_BOOL(7);
  const uint32_t min_user = positive_arg(fcinfo, 12, "min_user_interactions");
  const uint32_t min_item = positive_arg(fcinfo, 13, "min_item_interactions");
  o.seed = static_cast<uint64_t>(static_cast<uint32_t>(insight::pg::int4_arg(fcinfo, 14, "seed")));
  // validate: an argument since 0.2.0 (0.1.0's SQL declares 15).
  const bool validate =
      PG_NARGS() > 15 && !insight::pg::arg_is_null(fcinfo, 15) && PG_GETARG_BOOL(15);

  Built built = build_interactions(spec, min_user, min_item);
  if (built.data.by_user.nnz() == 0 && built.rows_read > 0 && (min_user > 1 || min_item > 1))
    throw InvalidParameter("no interactions are left after the minimum counts",
                           std::to_string(built.rows_read) +
                               " rows were read; no (user, item) pair is left with " +
                               "min_user_interactions = " + std::to_string(min_user) +
                               " and min_item_interactions = " + std::to_string(min_item) + ".",
                           "Lower min_user_interactions or min_item_interactions.");
  if (built.data.by_user.nnz() == 0) throw InvalidParameter(no_interactions(spec));
  const int64_t rows_used = static_cast<int64_t>(built.data.rows_used);
  const int64_t rows_skipped =
      built.rows_skipped_null + static_cast<int64_t>(built.data.rows_dropped);
  const size_t users = built.data.users.size(), items = built.data.items.size(),
               pairs = built.data.by_user.nnz();
  // The validation metric (for promote => 'if_better'): a held-out fifth of each user's
  // items, ranked by the same learner trained on the rest.
  // Data too small to hold anything out give no metric (and a note why), not an error.
  std::optional<insight::recommend::Evaluation> validation;
  std::string validation_skipped;
  if (validate) {
    try {
      validation = insight::recommend::holdout_evaluate(built.data, o, kValidationK,
                                                        kValidationFraction, o.seed, kCheck);
    } catch (const InvalidParameter& e) {
      validation_skipped = e.what();
    }
  }
  auto model = insight::recommend::fit_recommender(std::move(built.data), o, kCheck);
  insight::Payload payload = insight::recommend::recommend_payload(*model);
  model.reset();

  nlohmann::json params = {
      {"user_column", spec.user_column},
      {"item_column", spec.item_column},
      {"weight_column",
       spec.weight_column ? nlohmann::json(*spec.weight_column) : nlohmann::json(nullptr)},
      {"algorithm", std::string(insight::recommend::method_name(o.method))},
      {"factors", o.factors},
      {"iterations", o.iterations},
      {"regularization", o.regularization},
      {"alpha", o.alpha},
      {"neighbors", o.neighbors > 0 ? nlohmann::json(o.neighbors) : nlohmann::json(nullptr)},
      {"min_user_interactions", min_user},
      {"min_item_interactions", min_item},
      {"seed", o.seed},
      {"validate", validate}};
  nlohmann::json metrics = {{"users", users},
                            {"items", items},
                            {"interactions", pairs},
                            {"density", static_cast<double>(pairs) / (static_cast<double>(users) *
                                                                      static_cast<double>(items))}};
  payload.meta["source"] = spec.source.qualified;
  payload.meta["params"] = params;
  insight::pg::StoreRequest request;
  request.name = name;
  request.payload = insight::encode_payload(payload);
  metrics["payload_bytes"] = request.payload.size();
  if (validation) {
    metrics["validation_ndcg_at_10"] = validation->model.ndcg;
    metrics["validation_recall_at_10"] = validation->model.recall;
    metrics["validation_popularity_ndcg_at_10"] = validation->popularity.ndcg;
    metrics["validation_users"] = validation->model.users;
  } else if (validate) {
    metrics["validation_skipped"] = validation_skipped;
  }
  request.features = {spec.user_column, spec.item_column};
  if (spec.weight_column) request.features.push_back(*spec.weight_column);
  request.source = spec.source.qualified;
  request.params_json = params.dump();
  request.metrics_json = metrics.dump();
  request.rows_used = rows_used;
  request.rows_skipped = rows_skipped;
  request.started_at = started_at;
  request.deploy = deploy;
  request.training_ms = static_cast<double>(insight::pg::elapsed_us(started)) / 1000.0;
  return insight::pg::store_model(request);
}

// recommend(name, user_id, k, exclude_seen) → TABLE(item_id text, score float8, reason text)
INSIGHT_FUNCTION(insight_recommend) {
  if (insight::pg::arg_is_null(fcinfo, 0)) throw InvalidParameter("name must not be NULL");
  const size_t k = k_arg(fcinfo, 2);
  const bool exclude_seen = insight::pg::arg_is_null(fcinfo, 3) || PG_GETARG_BOOL(3);
  const insight::Model& m = insight::pg::live_model(live_slot(fcinfo), PG_GETARG_DATUM(0));
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
  return static_cast<Datum>(0);
}

// similar_items(name, item_id, k) → TABLE(item_id text, score float8)
INSIGHT_FUNCTION(insight_similar_items) {
  if (insight::pg::arg_is_null(fcinfo, 0)) throw InvalidParameter("name must not be NULL");
  const std::string item = insight::pg::text_arg(fcinfo, 1, "item_id");
  const size_t k = k_arg(fcinfo, 2);
  const insight::Model& m = insight::pg::live_model(live_slot(fcinfo), PG_GETARG_DATUM(0));
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
    return static_cast<Datum>(0);
  }
  for (const auto& s : model.similar(*index, k)) {
    Datum v[2] = {insight::pg::text_datum(model.items()[s.item]), Float8GetDatum(s.score)};
    bool nulls[2] = {false, false};
    sink.put(v, nulls);
  }
  return static_cast<Datum>(0);
}

// evaluate_recommender(source, user_column, item_column, time_column, algorithm, k,
//                      test_fraction, weight_column, factors, cutoff, iterations,
//                      regularization, alpha, neighbors)
//   → TABLE(algorithm text, metric text, value float8)
INSIGHT_FUNCTION(insight_evaluate_recommender) {
  InteractionSpec spec;
  spec.source = insight::pg::source_relation(fcinfo, 0);
  spec.user_column = insight::pg::text_arg(fcinfo, 1, "user_column");
  spec.item_column = insight::pg::text_arg(fcinfo, 2, "item_column");
  spec.time_column = insight::pg::text_arg(fcinfo, 3, "time_column");
  const Method method = method_arg(fcinfo, 4);
  const size_t k = k_arg(fcinfo, 5);
  insight::recommend::SplitOptions split;
  split.test_fraction = insight::pg::float8_arg(fcinfo, 6, "test_fraction");
  if (!insight::pg::arg_is_null(fcinfo, 7))
    spec.weight_column = insight::pg::text_arg(fcinfo, 7, "weight_column");
  insight::recommend::TrainOptions o = learner_options(fcinfo, method, 8, 10);
  o.similar_items = false;
  if (!insight::pg::arg_is_null(fcinfo, 9)) split.cutoff = PG_GETARG_TIMESTAMPTZ(9);
  insight::recommend::validate(split);  // before reading anything

  const std::string w = check_columns(spec);
  const std::string sql = "SELECT (" + insight::pg::quoted(spec.user_column) +
                          ")::pg_catalog.text, (" + insight::pg::quoted(spec.item_column) +
                          ")::pg_catalog.text, (" + insight::pg::quoted(*spec.time_column) +
                          ")::pg_catalog.timestamptz, " + w + " FROM " + spec.source.qualified;
  insight::recommend::EventLog log;
  insight::pg::spi_connect();
  for_each_row(sql, [&](HeapTuple tup, TupleDesc desc) {
    const auto user = spi_text(tup, desc, 1);
    const auto item = spi_text(tup, desc, 2);
    const auto weight = spi_float8(tup, desc, 4);
    bool time_null = false;
    const int64_t time = guard([tup, desc, &time_null] {
      Datum d = SPI_getbinval(tup, desc, 3, &time_null);
      return time_null ? int64_t{0} : static_cast<int64_t>(DatumGetTimestampTz(d));
    });
    if (!user || !item || !weight || time_null) return;  // skipped, as in training
    check_weight(spec, *user, *item, *weight);
    log.add(*user, *item, time, *weight);
  });
  insight::pg::spi_finish();
  if (log.size() == 0) throw InvalidParameter(no_interactions(spec));

  const insight::recommend::Evaluation e = insight::recommend::evaluate(log, o, k, split, kCheck);
  insight::pg::RowSink sink(fcinfo);
  auto put = [&sink](std::string_view algorithm, const insight::recommend::RankingMetrics& m) {
    const std::pair<const char*, double> rows[] = {
        {"precision_at_k", m.precision}, {"recall_at_k", m.recall},
        {"ndcg_at_k", m.ndcg},           {"map_at_k", m.map},
        {"coverage", m.coverage},        {"users", static_cast<double>(m.users)}};
    for (const auto& [metric, value] : rows) {
      Datum v[3] = {insight::pg::text_datum(std::string(algorithm)),
                    insight::pg::text_datum(metric), Float8GetDatum(value)};
      bool nulls[3] = {false, false, false};
      sink.put(v, nulls);
    }
  };
  put(insight::recommend::method_name(o.method), e.model);
  if (o.method != Method::Popularity) put("popularity", e.popularity);
  return static_cast<Datum>(0);
}
