#include "core/recommend/recommender.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "core/common/binary_io.hpp"
#include "core/common/eigen.hpp"
#include "core/common/error.hpp"
#include "core/common/name_table.hpp"
#include "core/model/loader_registry.hpp"

namespace insight::recommend {
namespace {

// Each method's algorithm tag; its name (SQL's algorithm => '...') is the algorithm's.
constexpr PairTable<Method, Algorithm, 5> kMethods{{
    {Method::Als, Algorithm::Als},
    {Method::ItemKnn, Algorithm::ItemKnn},
    {Method::UserKnn, Algorithm::UserKnn},
    {Method::Svd, Algorithm::Svd},
    {Method::Popularity, Algorithm::Popularity},
}};

constexpr size_t kMaxEntities = std::numeric_limits<uint32_t>::max() - 1;
constexpr uint32_t kMaxFactors = 512;

bool uses_factors(Method m) noexcept { return m == Method::Als || m == Method::Svd; }

// (score desc, index asc): the order of every list the model returns.
struct Better {
  bool operator()(const std::pair<float, uint32_t>& a, const std::pair<float, uint32_t>& b) const {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  }
};

void write_neighbors(BinaryWriter& w, const Neighbors& n) {
  w.u32_array(n.indptr);
  w.u32_array(n.indices);
  w.f32_array(n.sims.data(), n.sims.size());
}

// indptr must start at 0, never decrease and end at `nnz`; `rows` + 1 entries.
void check_indptr(const std::vector<uint32_t>& indptr, size_t rows, size_t nnz, const char* what) {
  if (indptr.size() != rows + 1 || indptr.front() != 0 || indptr.back() != nnz)
    throw CorruptPayload(std::string("recommender payload has an invalid ") + what + " index");
  for (size_t r = 0; r < rows; ++r)
    if (indptr[r] > indptr[r + 1])
      throw CorruptPayload(std::string("recommender payload has an invalid ") + what + " index");
}

Neighbors read_neighbors(BinaryReader& r, size_t entities, const char* what) {
  Neighbors n;
  n.indptr = r.u32_array(kMaxEntities + 1);
  n.indices = r.u32_array(kMaxEntities);
  n.sims = r.finite_f32_array(kMaxEntities);
  check_indptr(n.indptr, entities, n.indices.size(), what);
  if (n.sims.size() != n.indices.size())
    throw CorruptPayload(std::string("recommender payload has invalid ") + what + " similarities");
  for (size_t e = 0; e < entities; ++e)
    for (uint32_t k = n.indptr[e]; k < n.indptr[e + 1]; ++k)
      if (n.indices[k] >= entities || n.indices[k] == e)
        throw CorruptPayload(std::string("recommender payload has an invalid ") + what);
  return n;
}

std::vector<std::string> read_ids(BinaryReader& r, const char* what) {
  const uint64_t n = r.count(kMaxEntities, 8);
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n; ++i) {
    ids.push_back(r.str());
    if (i > 0 && !(ids[i - 1] < ids[i]))
      throw CorruptPayload(std::string("recommender payload ") + what + " ids are not sorted");
  }
  return ids;
}

}  // namespace

std::string_view method_name(Method m) noexcept { return algorithm_name(method_algorithm(m)); }

std::optional<Method> method_from_name(std::string_view name) noexcept {
  const auto algorithm = algorithm_from_name(name);
  return algorithm ? value_named(kMethods, *algorithm) : std::nullopt;
}

std::string method_names() { return joined_names(kMethods, algorithm_name); }

Algorithm method_algorithm(Method m) noexcept { return name_in(kMethods, m, Algorithm::Als); }

void validate(const TrainOptions& o) {
  if (o.factors < 1 || o.factors > kMaxFactors)
    throw InvalidParameter("factors must be between 1 and 512",
                           "factors = " + std::to_string(o.factors));
  if (o.iterations < 1 || o.iterations > 1000)
    throw InvalidParameter("iterations must be between 1 and 1000");
  if (!std::isfinite(o.regularization) || o.regularization <= 0 || o.regularization > 1e6)
    throw InvalidParameter("regularization must be positive and at most 1e6",
                           "regularization = " + format_number(o.regularization));
  if (!std::isfinite(o.alpha) || o.alpha < 0 || o.alpha > 1e6)
    throw InvalidParameter("alpha must be between 0 and 1e6", "alpha = " + format_number(o.alpha));
  if (o.neighbors > 10000)
    throw InvalidParameter("neighbors must be between 1 and 10000",
                           "neighbors = " + std::to_string(o.neighbors));
}

uint32_t default_neighbors(Method m) noexcept { return m == Method::UserKnn ? 100 : 20; }

RecommendModel::RecommendModel(nlohmann::json meta, Method method, Interactions data,
                               Factors factors, Neighbors item_neighbors, Neighbors user_neighbors)
    : Model(method_algorithm(method), Task::Recommend, std::move(meta)),
      method_(method),
      users_(std::move(data.users)),
      items_(std::move(data.items)),
      seen_(std::move(data.by_user)),
      factors_(std::move(factors)),
      item_neighbors_(std::move(item_neighbors)),
      user_neighbors_(std::move(user_neighbors)) {
  seen_.values.clear();
  seen_.values.shrink_to_fit();
  const size_t n_items = items_.size();
  std::vector<uint32_t> support(n_items, 0);
  for (uint32_t i : seen_.indices) ++support[i];
  const uint32_t top = support.empty() ? 0 : *std::max_element(support.begin(), support.end());
  popularity_.resize(n_items);
  for (size_t i = 0; i < n_items; ++i)
    popularity_[i] = top == 0 ? 0.0f : static_cast<float>(support[i]) / static_cast<float>(top);
  by_popularity_.resize(n_items);
  for (uint32_t i = 0; i < n_items; ++i) by_popularity_[i] = i;
  std::stable_sort(by_popularity_.begin(), by_popularity_.end(),
                   [&](uint32_t a, uint32_t b) { return support[a] > support[b]; });
  if (uses_factors(method_)) {
    item_norms_.resize(n_items);
    for (uint32_t i = 0; i < n_items; ++i) {
      const float* y = factors_.item(i);
      double s = 0;
      for (uint32_t f = 0; f < factors_.factors; ++f) s += double{y[f]} * y[f];
      item_norms_[i] = static_cast<float>(std::sqrt(s));
    }
  }
}

std::optional<uint32_t> RecommendModel::user_index(std::string_view id) const noexcept {
  const uint32_t u = find_id(users_, id);
  if (u == users_.size()) return std::nullopt;
  return u;
}

std::optional<uint32_t> RecommendModel::item_index(std::string_view id) const noexcept {
  const uint32_t i = find_id(items_, id);
  if (i == items_.size()) return std::nullopt;
  return i;
}

void RecommendModel::score_all(uint32_t u, std::vector<float>& scores) const {
  const size_t n_items = items_.size();
  scores.assign(n_items, 0.0f);
  switch (method_) {
    case Method::Als:
    case Method::Svd: {
      using Rows = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
      const auto f = static_cast<Eigen::Index>(factors_.factors);
      Eigen::Map<const Rows> Y(factors_.items.data(), static_cast<Eigen::Index>(n_items), f);
      Eigen::Map<const Eigen::VectorXf> x(factors_.user(u), f);
      Eigen::Map<Eigen::VectorXf> out(scores.data(), static_cast<Eigen::Index>(n_items));
      out.noalias() = Y * x;
      break;
    }
    case Method::ItemKnn:
      for (uint32_t k = seen_.indptr[u]; k < seen_.indptr[u + 1]; ++k) {
        const uint32_t i = seen_.indices[k];
        for (uint32_t n = item_neighbors_.indptr[i]; n < item_neighbors_.indptr[i + 1]; ++n)
          scores[item_neighbors_.indices[n]] += item_neighbors_.sims[n];
      }
      break;
    case Method::UserKnn:
      for (uint32_t n = user_neighbors_.indptr[u]; n < user_neighbors_.indptr[u + 1]; ++n) {
        const uint32_t v = user_neighbors_.indices[n];
        const float s = user_neighbors_.sims[n];
        for (uint32_t k = seen_.indptr[v]; k < seen_.indptr[v + 1]; ++k)
          scores[seen_.indices[k]] += s;
      }
      break;
    case Method::Popularity:
      for (size_t i = 0; i < n_items; ++i) scores[i] = popularity_[i];
      break;
  }
}

std::vector<Recommendation> RecommendModel::recommend(std::optional<uint32_t> user, size_t k,
                                                      bool exclude_seen) const {
  std::vector<Recommendation> out;
  const size_t n_items = items_.size();
  k = std::min(k, n_items);
  std::vector<bool> taken(n_items, false);
  if (user && method_ != Method::Popularity) {
    std::vector<float> scores;
    score_all(*user, scores);
    if (exclude_seen)
      for (uint32_t j = seen_.indptr[*user]; j < seen_.indptr[*user + 1]; ++j)
        taken[seen_.indices[j]] = true;
    // Neighbourhood scores are sums of positive similarities: 0 means "no evidence".
    const bool need_positive = !uses_factors(method_);
    std::vector<std::pair<float, uint32_t>> cand;
    cand.reserve(n_items);
    for (uint32_t i = 0; i < n_items; ++i)
      if (!taken[i] && (!need_positive || scores[i] > 0)) cand.emplace_back(scores[i], i);
    const size_t top = std::min(k, cand.size());
    std::partial_sort(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(top), cand.end(),
                      Better{});
    for (size_t r = 0; r < top; ++r) {
      out.push_back({cand[r].second, cand[r].first, false});
      taken[cand[r].second] = true;
    }
  } else if (user && exclude_seen) {
    for (uint32_t j = seen_.indptr[*user]; j < seen_.indptr[*user + 1]; ++j)
      taken[seen_.indices[j]] = true;
  }
  for (uint32_t i : by_popularity_) {
    if (out.size() >= k) break;
    if (taken[i]) continue;
    out.push_back({i, popularity_[i], true});
  }
  return out;
}

std::vector<SimilarItem> RecommendModel::similar(uint32_t item, size_t k) const {
  std::vector<SimilarItem> out;
  if (uses_factors(method_)) {
    const uint32_t f = factors_.factors;
    const float* y = factors_.item(item);
    const float ny = item_norms_[item];
    std::vector<std::pair<float, uint32_t>> cand;
    cand.reserve(items_.size());
    for (uint32_t j = 0; j < items_.size(); ++j) {
      if (j == item) continue;
      const float* z = factors_.item(j);
      double dot = 0;
      for (uint32_t c = 0; c < f; ++c) dot += double{y[c]} * z[c];
      const double denom = double{ny} * item_norms_[j];
      cand.emplace_back(denom > 0 ? static_cast<float>(dot / denom) : 0.0f, j);
    }
    const size_t top = std::min(k, cand.size());
    std::partial_sort(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(top), cand.end(),
                      Better{});
    for (size_t r = 0; r < top; ++r) out.push_back({cand[r].second, cand[r].first});
    return out;
  }
  for (uint32_t n = item_neighbors_.indptr[item];
       n < item_neighbors_.indptr[item + 1] && out.size() < k; ++n)
    out.push_back({item_neighbors_.indices[n], item_neighbors_.sims[n]});
  return out;
}

size_t RecommendModel::memory_bytes() const {
  size_t total = sizeof(*this) + json_memory_bytes(meta()) + seen_.memory_bytes() +
                 item_neighbors_.memory_bytes() + user_neighbors_.memory_bytes() +
                 (factors_.users.capacity() + factors_.items.capacity() + item_norms_.capacity() +
                  popularity_.capacity() + by_popularity_.capacity()) *
                     4;
  for (const auto& s : users_) total += sizeof(s) + s.capacity();
  for (const auto& s : items_) total += sizeof(s) + s.capacity();
  return total;
}

void RecommendModel::write_body(BinaryWriter& w) const {
  w.u8(static_cast<uint8_t>(method_));
  w.u64(users_.size());
  for (const auto& s : users_) w.str(s);
  w.u64(items_.size());
  for (const auto& s : items_) w.str(s);
  w.u32_array(seen_.indptr);
  w.u32_array(seen_.indices);
  if (uses_factors(method_)) {
    w.u32(factors_.factors);
    w.f32_array(factors_.users.data(), factors_.users.size());
    w.f32_array(factors_.items.data(), factors_.items.size());
  } else {
    write_neighbors(w, item_neighbors_);
    if (method_ == Method::UserKnn) write_neighbors(w, user_neighbors_);
  }
}

std::shared_ptr<RecommendModel> fit_recommender(Interactions data, const TrainOptions& o,
                                                const InterruptCheck& check) {
  validate(o);
  if (data.by_user.nnz() == 0)
    throw InvalidParameter(
        "no interactions to learn from",
        "found 0 (user, item) pairs with a positive weight; at least 1 is needed");
  const Csr by_item = data.by_user.transpose();
  Factors factors;
  Neighbors item_nb, user_nb;
  const uint32_t neighbors = o.neighbors > 0 ? o.neighbors : default_neighbors(o.method);
  const NeighborOptions nb{neighbors, 10.0, o.threads};
  // Item neighbours of a user_knn model serve similar_items only.
  const NeighborOptions item_nb_options{o.method == Method::UserKnn && o.neighbors == 0
                                            ? default_neighbors(Method::ItemKnn)
                                            : neighbors,
                                        10.0, o.threads};
  switch (o.method) {
    case Method::Als: {
      AlsOptions a;
      a.factors = o.factors;
      a.iterations = o.iterations;
      a.regularization = o.regularization;
      a.alpha = o.alpha;
      a.seed = o.seed;
      a.threads = o.threads;
      factors = train_als(data.by_user, by_item, a, check);
      break;
    }
    case Method::Svd: {
      SvdOptions s;
      s.factors = o.factors;
      s.seed = o.seed;
      factors = train_svd(data.by_user, s, check);
      break;
    }
    case Method::UserKnn:
      user_nb = cosine_neighbors(data.by_user, by_item, nb, check);
      [[fallthrough]];
    case Method::ItemKnn:
    case Method::Popularity:
      if (o.method == Method::ItemKnn || o.similar_items)
        item_nb = cosine_neighbors(by_item, data.by_user, item_nb_options, check);
      else
        item_nb.indptr.assign(size_t{by_item.rows} + 1, 0);  // none kept
      break;
  }
  nlohmann::json meta = {
      {"method", std::string(method_name(o.method))},
      {"users", data.users.size()},
      {"items", data.items.size()},
      {"interactions", data.by_user.nnz()},
      {"rows_used", data.rows_used},
      {"rows_dropped", data.rows_dropped},
  };
  if (uses_factors(o.method)) meta["factors"] = o.factors;
  if (o.method == Method::Als) {
    meta["iterations"] = o.iterations;
    meta["regularization"] = o.regularization;
    meta["alpha"] = o.alpha;
    meta["seed"] = o.seed;
  }
  if (o.method == Method::Svd) meta["seed"] = o.seed;
  if (!uses_factors(o.method)) meta["neighbors"] = neighbors;
  return std::make_shared<RecommendModel>(std::move(meta), o.method, std::move(data),
                                          std::move(factors), std::move(item_nb),
                                          std::move(user_nb));
}

Payload recommend_payload(const RecommendModel& model) {
  Payload p;
  p.algorithm = model.algorithm();
  p.task = Task::Recommend;
  p.meta = model.meta();
  BinaryWriter w;
  model.write_body(w);
  p.body = w.take();
  return p;
}

ModelPtr load_recommend_model(Payload&& p) {
  if (p.task != Task::Recommend) throw CorruptPayload("recommender payload with a wrong task");
  BinaryReader r(p.body.data(), p.body.size());
  const uint8_t tag = r.u8();
  if (tag > static_cast<uint8_t>(Method::Popularity))
    throw CorruptPayload("recommender payload has an unknown method");
  const auto method = static_cast<Method>(tag);
  if (method_algorithm(method) != p.algorithm)
    throw CorruptPayload("recommender payload method does not match its algorithm tag");
  Interactions data;
  data.users = read_ids(r, "user");
  data.items = read_ids(r, "item");
  Csr& seen = data.by_user;
  seen.rows = static_cast<uint32_t>(data.users.size());
  seen.cols = static_cast<uint32_t>(data.items.size());
  seen.indptr = r.u32_array(kMaxEntities + 1);
  seen.indices = r.u32_array(kMaxEntities);
  check_indptr(seen.indptr, seen.rows, seen.indices.size(), "seen-items");
  for (uint32_t u = 0; u < seen.rows; ++u)
    for (uint32_t k = seen.indptr[u]; k < seen.indptr[u + 1]; ++k)
      if (seen.indices[k] >= seen.cols ||
          (k > seen.indptr[u] && seen.indices[k - 1] >= seen.indices[k]))
        throw CorruptPayload("recommender payload has an invalid seen item");
  Factors factors;
  Neighbors item_nb, user_nb;
  if (uses_factors(method)) {
    factors.factors = r.u32();
    if (factors.factors < 1 || factors.factors > kMaxFactors)
      throw CorruptPayload("recommender payload has an invalid number of factors");
    factors.users = r.finite_f32_array(kMaxEntities);
    factors.items = r.finite_f32_array(kMaxEntities);
    if (factors.users.size() != size_t{seen.rows} * factors.factors ||
        factors.items.size() != size_t{seen.cols} * factors.factors)
      throw CorruptPayload("recommender payload factor sizes do not match");
  } else {
    item_nb = read_neighbors(r, seen.cols, "item neighbour");
    if (method == Method::UserKnn) user_nb = read_neighbors(r, seen.rows, "user neighbour");
  }
  r.expect_end();
  return std::make_shared<RecommendModel>(std::move(p.meta), method, std::move(data),
                                          std::move(factors), std::move(item_nb),
                                          std::move(user_nb));
}

namespace {
// This area's payload tags, for load_model() (the loader checks the task itself).
const PayloadLoaderRegistration kLoaders({Algorithm::Als, Algorithm::ItemKnn, Algorithm::UserKnn,
                                          Algorithm::Svd, Algorithm::Popularity},
                                         load_recommend_model);
}  // namespace

}  // namespace insight::recommend
