#include "core/anomaly/anomaly_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/common/error.hpp"
#include "core/common/parallel.hpp"
#include "core/common/stats.hpp"
#include "core/model/loader_registry.hpp"
#include "core/model/profile.hpp"

namespace insight::anomaly {
namespace {

// (x − median) / scale, clamped to the finite range: values near ±DBL_MAX must not become
// infinite (the forest refuses non-finite input).
double scale_value(double x, double median, double scale) {
  const double v = (x - median) / scale;
  return std::clamp(v, -std::numeric_limits<double>::max(), std::numeric_limits<double>::max());
}

[[noreturn]] void corrupt(const std::string& what) {
  throw CorruptPayload("isolation forest model is corrupt: " + what);
}

}  // namespace

void check_contamination(double contamination) {
  if (!(contamination > 0.0 && contamination <= 0.5))
    throw InvalidParameter("contamination must be in (0, 0.5]",
                           "got " + format_number(contamination) +
                               "; it is the expected share of anomalies in the training data");
}

RobustScaler RobustScaler::fit(const Reservoir& sample) {
  RobustScaler s;
  const size_t d = sample.dimension(), n = sample.size();
  s.median.resize(d);
  s.scale.resize(d);
  std::vector<double> column(n);
  for (size_t j = 0; j < d; ++j) {
    for (size_t i = 0; i < n; ++i) column[i] = sample.row(i)[j];
    s.median[j] = quantile_linear(column, 0.5);
    const double iqr = quantile_linear(column, 0.75) - quantile_linear(column, 0.25);
    s.scale[j] = iqr > 0 && std::isfinite(iqr) ? iqr : 1.0;
  }
  return s;
}

AnomalyModel::AnomalyModel(nlohmann::json meta, IsolationForest forest, RobustScaler scaler,
                           double threshold)
    : Model(Algorithm::IsolationForest, Task::Anomaly, std::move(meta)),
      forest_(std::move(forest)),
      scaler_(std::move(scaler)),
      threshold_(threshold) {
  names_.assign(forest_.n_features(), std::string());
  const auto& f = this->meta().find("features");
  if (f != this->meta().end() && f->is_array() && f->size() == names_.size())
    for (size_t i = 0; i < names_.size(); ++i)
      if ((*f)[i].is_string()) names_[i] = (*f)[i].get<std::string>();
  // Checked here, at load, so that a damaged profile is a corrupt payload like any other.
  if (this->meta().contains("profile"))
    profile_ = profile::AnomalyProfile::from_json(this->meta()["profile"], forest_.n_features());
}

double AnomalyModel::score(const double* x, double* contributions) const {
  const size_t d = n_features();
  const double* input = x;
  double small[64];
  std::vector<double> large;  // only for models with more than 64 features
  if (!scaler_.empty()) {
    double* scaled = small;
    if (d > 64) {
      large.resize(d);
      scaled = large.data();
    }
    for (size_t j = 0; j < d; ++j)
      scaled[j] = scale_value(x[j], scaler_.median[j], scaler_.scale[j]);
    input = scaled;
  }
  return contributions ? forest_.score_explained(input, contributions) : forest_.score(input);
}

size_t AnomalyModel::memory_bytes() const {
  return sizeof(*this) + forest_.memory_bytes() + json_memory_bytes(meta()) +
         (scaler_.median.capacity() + scaler_.scale.capacity()) * sizeof(double);
}

profile::AnomalyProfile training_profile(const Reservoir& sample,
                                         const std::vector<double>& scores) {
  profile::AnomalyProfile p;
  const size_t n = sample.size(), d = sample.dimension();
  std::vector<double> column(n);
  for (size_t j = 0; j < d; ++j) {
    for (size_t i = 0; i < n; ++i) column[i] = sample.row(i)[j];
    p.features.push_back(profile::Distribution::of(column));
  }
  p.scores = profile::Distribution::of(scores);
  return p;
}

Payload train_anomaly_payload(const Reservoir& sample, const TrainOptions& options,
                              const std::vector<std::string>& feature_names,
                              const InterruptCheck& check) {
  check_contamination(options.contamination);
  const size_t n = sample.size(), d = sample.dimension();
  if (n < 2)
    throw InvalidParameter("too few rows to train an anomaly detector",
                           std::to_string(n) + " usable rows found (" +
                               std::to_string(sample.skipped()) +
                               " skipped for NULL features), at least 2 are needed");
  if (!feature_names.empty() && feature_names.size() != d)
    throw InvalidParameter(
        "feature names do not match the rows",
        std::to_string(feature_names.size()) + " names for " + std::to_string(d) + " features");

  RobustScaler scaler;
  std::vector<double> rows(sample.row(0), sample.row(0) + n * d);
  if (options.standardize) {
    scaler = RobustScaler::fit(sample);
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < d; ++j)
        rows[i * d + j] = scale_value(rows[i * d + j], scaler.median[j], scaler.scale[j]);
  }
  IsolationForest forest = IsolationForest::fit(rows.data(), n, d, options.forest, check);

  // Threshold: the (1 - contamination) quantile of the training sample's scores, as
  // scikit-learn sets offset_ from the training data.
  // Blocks of rows on the training threads (each score depends on its row alone, so the
  // result does not depend on the threads); a block is kPollEvery * 16 tree walks (a few ms),
  // and the workers poll between blocks.
  std::vector<double> scores(n);
  const size_t block = std::max<size_t>(1, kPollEvery * 16 / static_cast<size_t>(forest.n_trees()));
  parallel_for((n + block - 1) / block, options.threads,
               [&](size_t b, const InterruptCheck& poll_worker) {
                 poll(poll_worker);
                 for (size_t i = b * block; i < std::min(n, (b + 1) * block); ++i)
                   scores[i] = forest.score(&rows[i * d]);
               },
               check);
  const double threshold = quantile_linear(scores, 1.0 - options.contamination);
  // The highest threshold the operators' labels may choose (labels.hpp): half the
  // contamination stays flagged.
  const double threshold_cap = quantile_linear(scores, 1.0 - options.contamination / 2);

  Payload p;
  p.algorithm = Algorithm::IsolationForest;
  p.task = Task::Anomaly;
  p.meta = {
      {"features", feature_names},
      {"n_features", d},
      {"threshold", threshold},
      {"contamination", options.contamination},
      {"n_trees", options.forest.n_trees},
      {"sample_size", options.forest.sample_size},
      {"seed", options.forest.seed},
      {"standardize", options.standardize},
      {"metrics",
       {{"rows_seen", sample.seen()},
        {"rows_skipped", sample.skipped()},
        {"rows_sampled", n},
        {"threshold", threshold},
        {"threshold_cap", threshold_cap},
        {"score_p50", quantile_linear(scores, 0.5)},
        {"score_p99", quantile_linear(scores, 0.99)},
        {"score_max", *std::max_element(scores.begin(), scores.end())}}},
  };
  if (options.standardize) p.meta["scaler"] = {{"median", scaler.median}, {"iqr", scaler.scale}};
  p.meta["profile"] = training_profile(sample, scores).to_json();
  BinaryWriter w;
  forest.serialize(w);
  p.body = w.take();
  return p;
}

ModelPtr load_anomaly_model(Payload&& payload) {
  BinaryReader r(payload.body.data(), payload.body.size());
  IsolationForest forest = IsolationForest::deserialize(r);
  r.expect_end();
  const auto& meta = payload.meta;
  const size_t d = forest.n_features();
  auto number = [&](const char* key) {
    const auto it = meta.find(key);
    if (it == meta.end() || !it->is_number()) corrupt(std::string("metadata lacks ") + key);
    const double v = it->get<double>();
    if (!std::isfinite(v)) corrupt(std::string("metadata ") + key + " is not finite");
    return v;
  };
  const double threshold = number("threshold");
  if (number("n_features") != static_cast<double>(d))
    corrupt("n_features does not match the forest");
  RobustScaler scaler;
  const auto s = meta.find("scaler");
  if (s != meta.end()) {
    try {
      scaler.median = s->at("median").get<std::vector<double>>();
      scaler.scale = s->at("iqr").get<std::vector<double>>();
    } catch (const nlohmann::json::exception&) {
      corrupt("scaler is malformed");
    }
    if (scaler.median.size() != d || scaler.scale.size() != d) corrupt("scaler size mismatch");
    for (size_t j = 0; j < d; ++j)
      if (!std::isfinite(scaler.median[j]) || !(scaler.scale[j] > 0) ||
          !std::isfinite(scaler.scale[j]))
        corrupt("scaler values out of range");
  }
  const auto f = meta.find("features");
  if (f != meta.end() && !(f->is_array() && (f->empty() || f->size() == d)))
    corrupt("feature names do not match the forest");
  return std::make_shared<AnomalyModel>(std::move(payload.meta), std::move(forest),
                                        std::move(scaler), threshold);
}

namespace {
// This area's payload tags, for load_model().
const PayloadLoaderRegistration kLoaders({Algorithm::IsolationForest}, load_anomaly_model,
                                         Task::Anomaly,
                                         "isolation forest payload with a wrong task");
}  // namespace

}  // namespace insight::anomaly
