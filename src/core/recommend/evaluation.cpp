#include "core/recommend/evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>

#include "core/common/error.hpp"
#include "core/common/parallel.hpp"
#include "core/common/random.hpp"

namespace insight::recommend {
void EventLog::add(std::string_view user, std::string_view item, int64_t time, double weight) {
  check_weight(user, item, weight);
  events_.push_back({users_.intern(user), items_.intern(item), time, weight});
}

void check_k(int64_t k) {
  if (k < 1 || k > 1000)
    throw InvalidParameter("k must be between 1 and 1000", "k = " + std::to_string(k));
}

void validate(const SplitOptions& split) {
  if (!split.cutoff && !(split.test_fraction > 0 && split.test_fraction < 1))
    throw InvalidParameter("test_fraction must be between 0 and 1 (exclusive)",
                           "test_fraction = " + format_number(split.test_fraction));
}

void score_list(const std::vector<uint32_t>& list, const std::vector<uint32_t>& relevant, size_t k,
                double& precision, double& recall, double& ndcg, double& ap) {
  size_t hits = 0;
  double dcg = 0, sum_prec = 0;
  for (size_t r = 0; r < list.size() && r < k; ++r) {
    if (std::binary_search(relevant.begin(), relevant.end(), list[r])) {
      ++hits;
      dcg += 1.0 / std::log2(static_cast<double>(r) + 2.0);
      sum_prec += static_cast<double>(hits) / static_cast<double>(r + 1);
    }
  }
  const size_t ideal_hits = std::min(k, relevant.size());
  double idcg = 0;
  for (size_t r = 0; r < ideal_hits; ++r) idcg += 1.0 / std::log2(static_cast<double>(r) + 2.0);
  precision = static_cast<double>(hits) / static_cast<double>(k);
  recall = relevant.empty() ? 0 : static_cast<double>(hits) / static_cast<double>(relevant.size());
  ndcg = idcg > 0 ? dcg / idcg : 0;
  ap = ideal_hits > 0 ? sum_prec / static_cast<double>(ideal_hits) : 0;
}

Evaluation evaluate(const EventLog& log, const TrainOptions& options, size_t k,
                    const SplitOptions& split, const InterruptCheck& check) {
  check_k(static_cast<int64_t>(k));
  validate(split);
  validate(options);
  const auto& events = log.events();
  const size_t n_users = log.users().size();
  // Events per user, by time (ties: the order of the item ids, so the split is deterministic).
  std::vector<std::vector<uint32_t>> by_user(n_users);
  for (uint32_t e = 0; e < events.size(); ++e) by_user[events[e].user].push_back(e);
  std::vector<bool> is_test(events.size(), false);
  for (auto& list : by_user) {
    std::sort(list.begin(), list.end(), [&](uint32_t a, uint32_t b) {
      if (events[a].time != events[b].time) return events[a].time < events[b].time;
      return log.items()[events[a].item] < log.items()[events[b].item];
    });
    if (list.empty()) continue;
    int64_t cut;
    if (split.cutoff) {
      cut = *split.cutoff;
    } else {
      const auto n = static_cast<double>(list.size());
      const auto pos = static_cast<size_t>(std::floor((1.0 - split.test_fraction) * n));
      if (pos >= list.size()) continue;
      cut = events[list[pos]].time;
      if (cut <= events[list.front()].time) continue;  // nothing before the cut to learn from
    }
    for (uint32_t e : list)
      if (events[e].time >= cut) is_test[e] = true;
  }

  Evaluation out;
  InteractionBuilder train;
  for (uint32_t e = 0; e < events.size(); ++e) {
    if (is_test[e]) {
      ++out.test_events;
    } else {
      ++out.train_events;
      train.add(log.users()[events[e].user], log.items()[events[e].item], events[e].weight);
    }
  }
  if (out.train_events == 0) throw InvalidParameter("no events before the split to train on");

  // Per user: the relevant items, as names (the models index their own id tables).
  struct Target {
    std::string_view user;
    std::vector<std::string_view> relevant;
  };
  std::vector<Target> targets;
  for (uint32_t u = 0; u < n_users; ++u) {
    std::vector<uint32_t> seen, test;
    for (uint32_t e : by_user[u]) (is_test[e] ? test : seen).push_back(events[e].item);
    if (test.empty()) continue;
    std::sort(seen.begin(), seen.end());
    std::sort(test.begin(), test.end());
    test.erase(std::unique(test.begin(), test.end()), test.end());
    Target t{log.users()[u], {}};
    for (uint32_t i : test)
      if (!std::binary_search(seen.begin(), seen.end(), i)) t.relevant.push_back(log.items()[i]);
    if (!t.relevant.empty()) targets.push_back(std::move(t));
  }
  if (targets.empty())
    throw InvalidParameter("no user has an item to predict after the split",
                           "every user's test part only repeats items of their training part",
                           "lower test_fraction or move the cut-off");

  const Interactions data = train.build();
  auto run = [&](const TrainOptions& o) {
    auto model = fit_recommender(data, o, check);
    const size_t n_items = model->items().size();
    std::vector<double> sums(4 * targets.size(), 0);
    std::vector<std::vector<uint32_t>> lists(targets.size());
    constexpr size_t kBlock = 64;
    parallel_for((targets.size() + kBlock - 1) / kBlock, o.threads,
                 [&](size_t b, const InterruptCheck& poll_worker) {
                   poll(poll_worker);
                   for (size_t t = b * kBlock; t < std::min(targets.size(), (b + 1) * kBlock);
                        ++t) {
                     const Target& target = targets[t];
                     std::vector<uint32_t> relevant;
                     size_t unknown = 0;
                     for (std::string_view id : target.relevant) {
                       if (auto i = model->item_index(id))
                         relevant.push_back(*i);
                       else
                         ++unknown;
                     }
                     std::sort(relevant.begin(), relevant.end());
                     // Items unknown to the model get indices past the catalogue: relevant, never
                     // hit.
                     for (size_t x = 0; x < unknown; ++x)
                       relevant.push_back(static_cast<uint32_t>(n_items + x));
                     std::vector<uint32_t> list;
                     for (const Recommendation& r :
                          model->recommend(model->user_index(target.user), k, true))
                       list.push_back(r.item);
                     score_list(list, relevant, k, sums[4 * t], sums[4 * t + 1], sums[4 * t + 2],
                                sums[4 * t + 3]);
                     lists[t] = std::move(list);
                   }
                 },
                 check);
    RankingMetrics m;
    m.users = targets.size();
    for (size_t t = 0; t < targets.size(); ++t) {
      m.precision += sums[4 * t];
      m.recall += sums[4 * t + 1];
      m.ndcg += sums[4 * t + 2];
      m.map += sums[4 * t + 3];
    }
    const auto n = static_cast<double>(targets.size());
    m.precision /= n;
    m.recall /= n;
    m.ndcg /= n;
    m.map /= n;
    std::vector<bool> hit(n_items, false);
    size_t distinct = 0;
    for (const auto& list : lists)
      for (uint32_t i : list)
        if (!hit[i]) {
          hit[i] = true;
          ++distinct;
        }
    m.coverage = n_items == 0 ? 0 : static_cast<double>(distinct) / static_cast<double>(n_items);
    return m;
  };
  out.model = run(options);
  if (options.method == Method::Popularity) {
    out.popularity = out.model;
  } else {
    TrainOptions pop = options;
    pop.method = Method::Popularity;
    pop.similar_items = false;
    out.popularity = run(pop);
  }
  return out;
}

Evaluation holdout_evaluate(const Interactions& data, const TrainOptions& options, size_t k,
                            double test_fraction, uint64_t seed, const InterruptCheck& check) {
  // A pair's place in its user's order: splitmix64's finaliser of (user, item) and the seed,
  // as a non-negative time.
  auto order = [seed](uint64_t u, uint64_t i) {
    return static_cast<int64_t>(mix64((u << 32 | i) + seed * kSplitmixGamma) >> 1);
  };
  EventLog log;
  const Csr& m = data.by_user;
  for (uint32_t u = 0; u < m.rows; ++u) {
    if ((u & 1023) == 0) poll(check);
    for (uint32_t p = m.indptr[u]; p < m.indptr[u + 1]; ++p) {
      const uint32_t i = m.indices[p];
      log.add(data.users[u], data.items[i], order(u, i), m.values.empty() ? 1.0 : m.values[p]);
    }
  }
  SplitOptions split;
  split.test_fraction = test_fraction;
  return evaluate(log, options, k, split, check);
}

}  // namespace insight::recommend
