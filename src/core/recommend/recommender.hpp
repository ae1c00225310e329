// A trained recommender as stored in the catalog, and the one scoring path every SQL function
// uses. Every model keeps the users' seen items (to exclude them, and to score the
// neighbourhood methods) and the items' popularity (the cold start: a user the model has never
// seen gets the most popular items, reason 'popularity'), plus its algorithm's state:
//   als, svd      user and item factors (float32); score = xᵤ·yᵢ
//   item_knn      each item's top neighbours; score(u, j) = Σ_{i seen by u} sim(i, j)
//   user_knn      each user's top neighbours; score(u, j) = Σ_{v near u, v has j} sim(u, v)
//   popularity    distinct users per item, normalised to the most popular item's
// Neighbourhood methods can leave fewer than k items with a score: the rest of the list is
// filled with popular items (reason 'popularity'), so a list is short only when the user has
// seen nearly every item.
//
// Payload body (after the common header; metadata JSON holds the options and counts):
//   u8 method, u64 users + str each (ascending), u64 items + str each (ascending),
//   seen: u32_array indptr (users + 1), u32_array indices (ascending per user),
//   als/svd: u32 factors, f32_array users × factors, f32_array items × factors;
//   item_knn, user_knn, popularity: item neighbours (u32_array indptr, u32_array indices,
//   f32_array sims); user_knn also user neighbours, the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/binary_io_fwd.hpp"
#include "core/common/interrupt.hpp"
#include "core/model/model.hpp"
#include "core/recommend/factors.hpp"
#include "core/recommend/interactions.hpp"
#include "core/recommend/neighbors.hpp"

namespace insight::recommend {

// Stored in payloads: append only.
enum class Method : uint8_t { Als = 0, ItemKnn = 1, UserKnn = 2, Svd = 3, Popularity = 4 };

std::string_view method_name(Method m) noexcept;
std::optional<Method> method_from_name(std::string_view name) noexcept;
Algorithm method_algorithm(Method m) noexcept;
// "als, item_knn, user_knn, svd, popularity" for error messages.
std::string method_names();

struct TrainOptions {
  Method method = Method::Als;
  uint32_t factors = 64;        // als, svd: 1..512
  uint32_t iterations = 15;     // als
  double regularization = 0.3;  // als: λ per interaction of the row (weighted-λ)
  double alpha = 1.0;           // als: confidence 1 + alpha·weight
  uint32_t neighbors = 0;       // item_knn, user_knn: neighbours kept; 0 = the method's default
  uint64_t seed = 42;
  unsigned threads = 0;
  // user_knn and popularity compute item neighbours only for similar_items(); an evaluation
  // that never asks for them skips the work.
  bool similar_items = true;
};

// Throws InvalidParameter for an option out of range (each names its allowed values).
void validate(const TrainOptions& o);
// Neighbours kept when TrainOptions::neighbors is 0: item_knn 20, user_knn 100 (the best on
// a validation split of Online Retail, docs/benchmarks.md); item neighbours for similar_items
// of user_knn and popularity models: 20.
uint32_t default_neighbors(Method m) noexcept;

struct Recommendation {
  uint32_t item;
  double score;
  bool popular;  // filled from popularity (the cold start, or too few scored items)
};

struct SimilarItem {
  uint32_t item;
  double score;
};

class RecommendModel final : public Model {
 public:
  RecommendModel(nlohmann::json meta, Method method, Interactions data, Factors factors,
                 Neighbors item_neighbors, Neighbors user_neighbors);

  Method method() const noexcept { return method_; }
  const std::vector<std::string>& users() const noexcept { return users_; }
  const std::vector<std::string>& items() const noexcept { return items_; }
  const Csr& seen() const noexcept { return seen_; }
  // nullopt when the id is unknown.
  std::optional<uint32_t> user_index(std::string_view id) const noexcept;
  std::optional<uint32_t> item_index(std::string_view id) const noexcept;

  // The top k items for a user index, or the popular items when user is nullopt.
  std::vector<Recommendation> recommend(std::optional<uint32_t> user, size_t k,
                                        bool exclude_seen) const;
  // The k items most like `item`: factor cosine (als, svd) or co-occurrence neighbours.
  std::vector<SimilarItem> similar(uint32_t item, size_t k) const;
  // An item's popularity score in [0, 1].
  double popularity(uint32_t item) const noexcept { return popularity_[item]; }

  size_t memory_bytes() const override;
  void write_body(BinaryWriter& w) const;

 private:
  void score_all(uint32_t user, std::vector<float>& scores) const;
  Method method_;
  std::vector<std::string> users_, items_;
  Csr seen_;  // pattern only
  Factors factors_;
  std::vector<float> item_norms_;  // als, svd
  Neighbors item_neighbors_, user_neighbors_;
  std::vector<float> popularity_;        // per item
  std::vector<uint32_t> by_popularity_;  // items, most popular first (ties: ascending index)
};

// Trains a model on `data` (built by InteractionBuilder). InvalidParameter when there is
// nothing to learn from (no interactions) or svd has fewer users/items than factors.
std::shared_ptr<RecommendModel> fit_recommender(Interactions data, const TrainOptions& options,
                                                const InterruptCheck& check = {});
Payload recommend_payload(const RecommendModel& model);
// Loader for load_model(); CorruptPayload for anything inconsistent.
ModelPtr load_recommend_model(Payload&& payload);

}  // namespace insight::recommend
