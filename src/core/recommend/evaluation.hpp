// Offline evaluation of a recommender by a time-based split: train on the past, recommend
// top-k with the items seen in training excluded, and score the lists against what each user
// interacted with afterwards.
//
// Split: per user (default), the user's events sorted by time are cut at the event at
// position ⌊(1 − test_fraction)·n⌋; that event's time and every later one are the test part
// (a basket bought at one instant stays whole). A user whose cut falls on their first
// timestamp has no past to learn from and stays in training only. With a global cut-off
// instead, events at or after it are the test part, and users new after it are scored too
// (they get the cold-start list).
// Relevant items of a user: the distinct test items not already seen in their training part
// (items never seen in training included: no learner can recommend them, and they count).
// Metrics, averaged over users with at least one relevant item: precision@k = hits / k,
// recall@k = hits / |relevant|, ndcg@k (binary gains, ideal = min(k, |relevant|) hits first),
// map@k = Σ over hit ranks r of precision@r / min(k, |relevant|); coverage = distinct items
// recommended to anyone / items in the training data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/interrupt.hpp"
#include "core/recommend/recommender.hpp"

namespace insight::recommend {

class EventLog {
 public:
  // weight: finite and ≥ 0 (InvalidParameter otherwise), as for training.
  void add(std::string_view user, std::string_view item, int64_t time, double weight);
  size_t size() const noexcept { return events_.size(); }

  struct Event {
    uint32_t user, item;
    int64_t time;
    double weight;
  };
  const std::vector<Event>& events() const noexcept { return events_; }
  const std::vector<std::string>& users() const noexcept { return users_.ids; }
  const std::vector<std::string>& items() const noexcept { return items_.ids; }

 private:
  IdTable users_, items_;
  std::vector<Event> events_;
};

struct SplitOptions {
  double test_fraction = 0.2;     // (0, 1), per-user split
  std::optional<int64_t> cutoff;  // a global split instead
};

// InvalidParameter unless 1 ≤ k ≤ 1000, or, without a cut-off, 0 < test_fraction < 1: checked
// by evaluate(), and by callers that want to fail before reading any data.
void check_k(int64_t k);
void validate(const SplitOptions& split);

struct RankingMetrics {
  double precision = 0, recall = 0, ndcg = 0, map = 0, coverage = 0;
  size_t users = 0;  // users scored
};

struct Evaluation {
  RankingMetrics model, popularity;
  size_t train_events = 0, test_events = 0;
};

// Ranking metrics of one user's list (item indices in rank order) against the relevant set
// (sorted ascending).
void score_list(const std::vector<uint32_t>& list, const std::vector<uint32_t>& relevant, size_t k,
                double& precision, double& recall, double& ndcg, double& ap);

// InvalidParameter for k outside 1..1000, test_fraction outside (0, 1), or no user left
// with a test part.
Evaluation evaluate(const EventLog& log, const TrainOptions& options, size_t k,
                    const SplitOptions& split, const InterruptCheck& check = {});

// Validation on data without timestamps (what train_recommender records as its validation
// metric): per user, the pairs are ordered by a hash of (user, item, seed) and the last
// test_fraction of them held out, as evaluate() would cut by time; a user with a single pair
// stays in training only. Deterministic for the same data, options and seed.
Evaluation holdout_evaluate(const Interactions& data, const TrainOptions& options, size_t k,
                            double test_fraction, uint64_t seed, const InterruptCheck& check = {});

}  // namespace insight::recommend
