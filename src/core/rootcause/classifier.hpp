// The root-cause classifier: gradient-boosted trees (XGBoost multi:softprob) over the
// detectors' episode features, five classes (the four root causes and None), trained from
// labelled incidents. The trees are copied into one validated TreeEnsemble per class, so the
// payload holds plain arrays the reader checks index by index.
//
// Training data (make_training_set): every incident is looked at through the scopes the
// correlate_* functions offer — its own, and the link / hub antenna / satellite / network
// views that contain it — so the classifier learns each pattern as every scope sees it. In
// each view the episode that matches the incident (its links inside the incident's scope,
// overlapping it in time) gets the incident's root cause; episodes that overlap no incident
// get None.
//
// Payload body: u32 classes (5), u32 features (kFeatureCount), then each class's TreeEnsemble.
// The metadata holds feature and class names, the class counts and training metrics.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/common/interrupt.hpp"
#include "core/common/tree_ensemble.hpp"
#include "core/model/model.hpp"
#include "core/rootcause/detector.hpp"

namespace insight::rootcause {

struct Incident {
  ScopeKind scope = ScopeKind::Link;
  std::string scope_id;
  int64_t start = 0, end = 0;  // Unix seconds
  Pattern root_cause = Pattern::None;
};

// A scope to analyse: its kind and id, its links (topology indexes) and the context links
// read beside them (peers for a narrow scope).
struct View {
  ScopeKind scope = ScopeKind::Link;
  std::string scope_id;
  std::vector<size_t> links;
  std::vector<size_t> context;
};

// The links of a scope; empty when the id is unknown to the topology.
std::vector<size_t> scope_links(const Topology& t, ScopeKind scope, const std::string& id);
// The view correlate_* analyses for a scope: a link is compared with the other links of its
// hub antenna, a hub antenna with up to kAntennaContext links of the satellite's other
// antennas; satellites and networks hold their own peers.
constexpr size_t kAntennaContext = 24;
View make_view(const Topology& t, ScopeKind scope, const std::string& id);
// The incident's own view, then the views of the other kinds that contain it (or, for a
// wider incident, its first link, antenna, satellite or network by id).
std::vector<View> training_views(const Topology& t, const Incident& incident);
// The analysis window for an incident: padded on both sides so each link has a baseline.
std::pair<int64_t, int64_t> training_window(const Incident& incident);

struct TrainingRow {
  std::array<double, kFeatureCount> features{};
  Pattern label = Pattern::None;
  // The incident the row was labelled from: cross-validation keeps a group in one fold.
  size_t group = 0;
};
// Labels the episodes of one view of `incident`: the episode matching it gets its root
// cause, episodes overlapping no incident of `all` get None, the rest are left out.
// `matched` says whether an episode matched the incident.
std::vector<TrainingRow> label_episodes(const Analysis& analysis, const Incident& incident,
                                        const std::vector<Incident>& all, bool& matched);

struct ClassifierOptions {
  int rounds = 60;
  int max_depth = 4;
  double eta = 0.3;
  double min_child_weight = 1;
  uint64_t seed = 0;
  // Folds of the cross-validated accuracy recorded in the metadata (cv_accuracy); 0 or 1:
  // none.
  int cv_folds = 5;
};

class RootCauseModel final : public Model, public Classifier {
 public:
  RootCauseModel(std::vector<TreeEnsemble> classes, nlohmann::json meta);

  // Throws InvalidParameter when there are fewer than kMinRows rows or fewer than two of
  // the four root causes among the labels.
  static constexpr size_t kMinRows = 8;
  static std::shared_ptr<RootCauseModel> train(const std::vector<TrainingRow>& rows,
                                               const ClassifierOptions& options,
                                               nlohmann::json meta,
                                               const InterruptCheck& check = {});
  // The share of rows whose top class is their label when predicted by a classifier
  // trained on the other folds. Rows go to folds by group (group % folds), so the views
  // of one incident are never on both sides. Folds whose complement cannot be trained
  // (too few rows or causes) are left out; nullopt when no fold is left.
  static std::optional<double> cross_validated_accuracy(const std::vector<TrainingRow>& rows,
                                                        const ClassifierOptions& options, int folds,
                                                        const InterruptCheck& check = {});

  ClassProbabilities predict(const std::array<double, kFeatureCount>& features) const override;
  size_t memory_bytes() const override;
  Payload to_payload() const;

 private:
  std::vector<TreeEnsemble> classes_;
};

ModelPtr load_root_cause_model(Payload&& p);

}  // namespace insight::rootcause
