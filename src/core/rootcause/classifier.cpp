#include "core/rootcause/classifier.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "core/common/binary_io.hpp"
#include "core/common/error.hpp"
#include "core/common/parallel.hpp"
#include "core/common/xgboost.hpp"
#include "core/model/loader_registry.hpp"
#include "core/rootcause/options.hpp"

namespace insight::rootcause {

// ---------------------------------------------------------------------------------------
// Views and training rows.
// ---------------------------------------------------------------------------------------

std::vector<size_t> scope_links(const Topology& t, ScopeKind scope, const std::string& id) {
  switch (scope) {
    case ScopeKind::Link: {
      const auto l = t.find_link(id);
      return l ? std::vector<size_t>{*l} : std::vector<size_t>{};
    }
    case ScopeKind::HubAntenna:
      return t.links_of_antenna(id);
    case ScopeKind::Satellite:
      return t.links_of_satellite(id);
    case ScopeKind::Network:
      return t.links_of_network(id);
  }
  return {};
}

View make_view(const Topology& t, ScopeKind scope, const std::string& id) {
  View v;
  v.scope = scope;
  v.scope_id = id;
  v.links = scope_links(t, scope, id);
  if (v.links.empty()) return v;
  if (scope == ScopeKind::Link) {
    for (const size_t l : t.antenna_links(t.antenna_of(v.links[0]))) {
      if (l != v.links[0]) v.context.push_back(l);
    }
  } else if (scope == ScopeKind::HubAntenna) {
    // Round-robin over the satellite's other antennas, so the sample spans them all.
    const size_t antenna = t.antenna_of(v.links[0]);
    std::vector<std::vector<size_t>> per_antenna;
    std::vector<size_t> seen_antennas;
    for (const size_t l : t.satellite_links(t.satellite_of(v.links[0]))) {
      const size_t a = t.antenna_of(l);
      if (a == antenna) continue;
      const auto it = std::find(seen_antennas.begin(), seen_antennas.end(), a);
      if (it == seen_antennas.end()) {
        seen_antennas.push_back(a);
        per_antenna.push_back({l});
      } else {
        per_antenna[static_cast<size_t>(it - seen_antennas.begin())].push_back(l);
      }
    }
    for (size_t k = 0; v.context.size() < kAntennaContext; ++k) {
      bool any = false;
      for (const auto& links : per_antenna) {
        if (k < links.size() && v.context.size() < kAntennaContext) {
          v.context.push_back(links[k]);
          any = true;
        }
      }
      if (!any) break;
    }
    std::sort(v.context.begin(), v.context.end());
  }
  return v;
}

std::vector<View> training_views(const Topology& t, const Incident& incident) {
  std::vector<View> views;
  const auto links = scope_links(t, incident.scope, incident.scope_id);
  if (links.empty()) return views;
  const size_t first = links.front();
  views.push_back(make_view(t, incident.scope, incident.scope_id));
  for (uint8_t k = 0; k < 4; ++k) {
    const auto kind = static_cast<ScopeKind>(k);
    if (kind == incident.scope) continue;
    std::string id;
    switch (kind) {
      case ScopeKind::Link:
        id = t.link(first).link_id;
        break;
      case ScopeKind::HubAntenna:
        id = t.antenna_id(t.antenna_of(first));
        break;
      case ScopeKind::Satellite:
        id = t.satellite_name(t.satellite_of(first));
        break;
      case ScopeKind::Network:
        id = t.network_id(t.network_of(first));
        break;
    }
    views.push_back(make_view(t, kind, id));
  }
  return views;
}

std::pair<int64_t, int64_t> training_window(const Incident& incident) {
  const int64_t duration = std::max<int64_t>(incident.end - incident.start, 3600);
  const int64_t pad = std::max<int64_t>(6 * 3600, duration);
  return {incident.start - pad, incident.end + pad};
}

std::vector<TrainingRow> label_episodes(const Analysis& a, const Incident& incident,
                                        const std::vector<Incident>& all, bool& matched) {
  matched = false;
  const auto target = scope_links(a.topology(), incident.scope, incident.scope_id);
  std::vector<TrainingRow> rows;
  size_t best = a.episodes().size();
  double best_overlap = 0;
  for (size_t e = 0; e < a.episodes().size(); ++e) {
    const Episode& ep = a.episodes()[e];
    size_t inside = 0;
    for (const size_t m : ep.members) {
      inside += std::binary_search(target.begin(), target.end(), a.window().links[m]) ? 1 : 0;
    }
    const int64_t overlap = std::min(ep.end, incident.end) - std::max(ep.start, incident.start);
    const double share = static_cast<double>(overlap) / static_cast<double>(ep.end - ep.start);
    if (2 * inside >= ep.members.size() && share >= 0.5 && share > best_overlap) {
      best = e;
      best_overlap = share;
    }
  }
  constexpr int64_t kMargin = 3600;
  for (size_t e = 0; e < a.episodes().size(); ++e) {
    const Episode& ep = a.episodes()[e];
    TrainingRow row;
    if (e == best) {
      row.label = incident.root_cause;
      matched = true;
    } else {
      const bool near_incident = std::any_of(all.begin(), all.end(), [&](const Incident& i) {
        return ep.start < i.end + kMargin && i.start - kMargin < ep.end;
      });
      if (near_incident) continue;
      row.label = Pattern::None;
    }
    row.features = a.features(e);
    rows.push_back(row);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------
// The model.
// ---------------------------------------------------------------------------------------

RootCauseModel::RootCauseModel(std::vector<TreeEnsemble> classes, nlohmann::json meta)
    : Model(Algorithm::RootCauseBoosting, Task::RootCause, std::move(meta)),
      classes_(std::move(classes)) {
  if (classes_.size() != kClassCount) throw CorruptPayload("root-cause model needs 5 classes");
  for (const auto& c : classes_) {
    if (c.feature_count() != kFeatureCount)
      throw CorruptPayload("root-cause model has a wrong feature count");
  }
}

std::shared_ptr<RootCauseModel> RootCauseModel::train(const std::vector<TrainingRow>& rows,
                                                      const ClassifierOptions& o,
                                                      nlohmann::json meta,
                                                      const InterruptCheck& check) {
  std::array<size_t, kClassCount> counts{};
  for (const auto& r : rows) ++counts[static_cast<size_t>(r.label)];
  size_t causes = 0;
  for (size_t c = 0; c < kPatternCount; ++c) causes += counts[c] > 0 ? 1 : 0;
  if (rows.size() < kMinRows || causes < 2) {
    throw InvalidParameter(
        "too few labelled episodes to train a root-cause classifier",
        std::to_string(rows.size()) + " labelled episodes found, of " + std::to_string(causes) +
            (causes == 1 ? " root cause" : " root causes") + "; at least " +
            std::to_string(kMinRows) + " episodes of 2 or more root causes are needed",
        "Add incidents with their root_cause to the source table, over periods that still have "
        "telemetry in insight.link_metrics.");
  }
  if (o.rounds < 1 || o.rounds > 1000 || o.max_depth < 1 || o.max_depth > 12)
    throw InvalidParameter("classifier options out of range");
  const size_t n = rows.size();
  std::vector<float> X(n * kFeatureCount), y(n);
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < kFeatureCount; ++k)
      X[i * kFeatureCount + k] = to_float(rows[i].features[k]);
    y[i] = static_cast<float>(rows[i].label);
  }
  std::string json;
  // XGBoost runs on a worker thread with signals blocked; this thread polls for a cancel.
  parallel_for(
      1, 1,
      [&](size_t, const InterruptCheck& poll_worker) {
        json = xgb::boost(X, y, kFeatureCount,
                          {{"objective", "multi:softprob"},
                           {"num_class", std::to_string(kClassCount)},
                           {"nthread", "1"},
                           {"seed", std::to_string(o.seed)},
                           {"verbosity", "0"},
                           {"tree_method", "exact"},
                           {"max_depth", std::to_string(o.max_depth)},
                           {"eta", format_number(o.eta)},
                           {"min_child_weight", format_number(o.min_child_weight)}},
                          o.rounds, 1, poll_worker)
                   .json;
      },
      check);
  std::vector<TreeEnsemble> classes =
      TreeEnsemble::from_xgboost_json_groups(json, kFeatureCount, static_cast<int>(kClassCount));
  nlohmann::json counts_json = nlohmann::json::object();
  for (size_t c = 0; c < kClassCount; ++c)
    counts_json[std::string(pattern_name(static_cast<Pattern>(c)))] = counts[c];
  meta["class_counts"] = counts_json;
  nlohmann::json names = nlohmann::json::array();
  for (const char* f : feature_names()) names.push_back(f);
  meta["features"] = names;
  nlohmann::json class_names = nlohmann::json::array();
  for (size_t c = 0; c < kClassCount; ++c)
    class_names.push_back(std::string(pattern_name(static_cast<Pattern>(c))));
  meta["classes"] = class_names;
  meta["options"] = to_json(o);
  // Training accuracy: what the classes predict on the rows they were grown from.
  const RootCauseModel probe(classes, meta);
  size_t correct = 0;
  for (const auto& r : rows) {
    const auto p = probe.predict(r.features);
    const auto top = static_cast<size_t>(std::max_element(p.begin(), p.end()) - p.begin());
    correct += top == static_cast<size_t>(r.label) ? 1 : 0;
  }
  meta["training_accuracy"] = static_cast<double>(correct) / static_cast<double>(n);
  if (o.cv_folds > 1) {
    const auto cv = cross_validated_accuracy(rows, o, o.cv_folds, check);
    meta["cv_folds"] = o.cv_folds;
    meta["cv_accuracy"] = cv ? nlohmann::json(*cv) : nlohmann::json(nullptr);
  }
  return std::make_shared<RootCauseModel>(std::move(classes), std::move(meta));
}

std::optional<double> RootCauseModel::cross_validated_accuracy(const std::vector<TrainingRow>& rows,
                                                               const ClassifierOptions& options,
                                                               int folds,
                                                               const InterruptCheck& check) {
  if (folds < 2) throw InvalidParameter("cross-validation needs at least 2 folds");
  ClassifierOptions inner = options;
  inner.cv_folds = 0;
  const auto k = static_cast<size_t>(folds);
  size_t correct = 0, scored = 0;
  for (size_t fold = 0; fold < k; ++fold) {
    std::vector<TrainingRow> fit, held;
    for (const auto& r : rows) (r.group % k == fold ? held : fit).push_back(r);
    if (held.empty()) continue;
    std::shared_ptr<RootCauseModel> model;
    try {
      model = train(fit, inner, nlohmann::json::object(), check);
    } catch (const InvalidParameter&) {
      continue;  // the other folds hold too few rows or causes
    }
    for (const auto& r : held) {
      const auto p = model->predict(r.features);
      const auto top = static_cast<size_t>(std::max_element(p.begin(), p.end()) - p.begin());
      correct += top == static_cast<size_t>(r.label) ? 1 : 0;
    }
    scored += held.size();
  }
  if (scored == 0) return std::nullopt;
  return static_cast<double>(correct) / static_cast<double>(scored);
}

ClassProbabilities RootCauseModel::predict(const std::array<double, kFeatureCount>& f) const {
  ClassProbabilities p{};
  double top = -std::numeric_limits<double>::infinity();
  for (size_t c = 0; c < kClassCount; ++c) {
    p[c] = classes_[c].predict(f.data());
    top = std::max(top, p[c]);
  }
  double sum = 0;
  for (double& v : p) {
    v = std::exp(v - top);
    sum += v;
  }
  for (double& v : p) v /= sum;
  return p;
}

size_t RootCauseModel::memory_bytes() const {
  size_t total = sizeof(*this) + json_memory_bytes(meta());
  for (const auto& c : classes_) total += c.node_count() * sizeof(TreeNode) + c.tree_count() * 4;
  return total;
}

Payload RootCauseModel::to_payload() const {
  Payload p;
  p.algorithm = Algorithm::RootCauseBoosting;
  p.task = Task::RootCause;
  p.meta = meta();
  BinaryWriter w;
  w.u32(static_cast<uint32_t>(kClassCount));
  w.u32(static_cast<uint32_t>(kFeatureCount));
  for (const auto& c : classes_) c.write(w);
  p.body = w.take();
  return p;
}

ModelPtr load_root_cause_model(Payload&& p) {
  if (p.task != Task::RootCause) throw CorruptPayload("root-cause payload with a wrong task");
  BinaryReader r(p.body.data(), p.body.size());
  if (r.u32() != kClassCount) throw CorruptPayload("root-cause payload has a wrong class count");
  if (r.u32() != kFeatureCount)
    throw CorruptPayload("root-cause payload has a wrong feature count");
  std::vector<TreeEnsemble> classes;
  for (size_t c = 0; c < kClassCount; ++c) classes.push_back(TreeEnsemble::read(r, kFeatureCount));
  r.expect_end();
  return std::make_shared<RootCauseModel>(std::move(classes), std::move(p.meta));
}

namespace {
// This area's payload tags, for load_model() (the loader checks the task itself).
const PayloadLoaderRegistration kLoaders({Algorithm::RootCauseBoosting}, load_root_cause_model);
}  // namespace

}  // namespace insight::rootcause
