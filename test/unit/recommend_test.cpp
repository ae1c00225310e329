#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/common/eigen.hpp"
#include "core/common/error.hpp"
#include "core/common/random.hpp"
#include "core/model/model.hpp"
#include "core/model/payload.hpp"
#include "core/recommend/evaluation.hpp"
#include "core/recommend/factors.hpp"
#include "core/recommend/interactions.hpp"
#include "core/recommend/neighbors.hpp"
#include "core/recommend/recommender.hpp"

namespace insight::recommend {
namespace {

// (user, item) pairs of weight 1 each.
void add_pairs(InteractionBuilder& b,
               std::initializer_list<std::pair<const char*, const char*>> pairs) {
  for (const auto& [user, item] : pairs) b.add(user, item, 1);
}

std::string id(char prefix, int n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%c%03d", prefix, n);
  return buf;
}

// Two communities: users 0..29 buy from items 0..19, users 30..59 from items 20..39, each user
// a random 40 % of their community's items.
Interactions planted(uint64_t seed = 7, std::vector<std::tuple<int, int>>* held_out = nullptr) {
  Rng rng(seed);
  InteractionBuilder b;
  for (int u = 0; u < 60; ++u) {
    const int base = u < 30 ? 0 : 20;
    for (int i = base; i < base + 20; ++i) {
      if (rng.uniform() < 0.4) {
        if (held_out && rng.uniform() < 0.2) {
          held_out->emplace_back(u, i);
          continue;
        }
        b.add(id('u', u), id('i', i), 1 + static_cast<double>(rng.below(3)));
      }
    }
  }
  return b.build();
}

std::shared_ptr<const RecommendModel> reload(const RecommendModel& m) {
  const auto bytes = encode_payload(recommend_payload(m));
  auto loaded =
      std::dynamic_pointer_cast<const RecommendModel>(load_model(bytes.data(), bytes.size()));
  if (!loaded) throw std::runtime_error("not a recommender");
  return loaded;
}

TEST(Interactions, SumsDuplicatesSortsIdsAndIgnoresRowOrder) {
  InteractionBuilder a, b;
  const std::vector<std::tuple<std::string, std::string, double>> rows{{"bob", "pear", 1},
                                                                       {"alice", "apple", 2},
                                                                       {"bob", "apple", 1},
                                                                       {"alice", "apple", 3},
                                                                       {"carol", "fig", 0}};
  for (const auto& [u, i, w] : rows) a.add(u, i, w);
  for (auto it = rows.rbegin(); it != rows.rend(); ++it)
    b.add(std::get<0>(*it), std::get<1>(*it), std::get<2>(*it));
  const Interactions x = a.build(), y = b.build();
  // carol's only pair has weight 0: no preference, so carol and fig are gone.
  EXPECT_EQ(x.users, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(x.items, (std::vector<std::string>{"apple", "pear"}));
  EXPECT_EQ(x.by_user.indptr, (std::vector<uint32_t>{0, 1, 3}));
  EXPECT_EQ(x.by_user.indices, (std::vector<uint32_t>{0, 0, 1}));
  EXPECT_EQ(x.by_user.values, (std::vector<float>{5, 1, 1}));
  EXPECT_EQ(x.rows_used, 4u);
  EXPECT_EQ(x.rows_dropped, 1u);
  EXPECT_EQ(y.users, x.users);
  EXPECT_EQ(y.by_user.indices, x.by_user.indices);
  EXPECT_EQ(y.by_user.values, x.by_user.values);
}

TEST(Interactions, MinimumCountsDropRareItemsThenUsers) {
  InteractionBuilder b;
  add_pairs(b, {{"u1", "common"},
                {"u2", "common"},
                {"u2", "rare"},
                {"u3", "common"},
                {"u3", "other"},
                {"u4", "other"}});
  const Interactions x = b.build(/*min_user_items=*/2, /*min_item_users=*/2);
  // "rare" (1 user) goes; then u2 has 1 item left and goes; u3 keeps common+other.
  EXPECT_EQ(x.items, (std::vector<std::string>{"common", "other"}));
  EXPECT_EQ(x.users, (std::vector<std::string>{"u3"}));
  EXPECT_EQ(x.rows_used, 2u);
  EXPECT_EQ(x.rows_dropped, 4u);
}

TEST(Interactions, RejectsNegativeAndNonFiniteWeights) {
  InteractionBuilder b;
  EXPECT_THROW(b.add("u", "i", -1), InvalidParameter);
  EXPECT_THROW(b.add("u", "i", std::nan("")), InvalidParameter);
  EXPECT_THROW(b.add("u", "i", INFINITY), InvalidParameter);
  EXPECT_THROW(b.add("u", "i", 1.1e15), InvalidParameter);  // factors overflowed float
  EXPECT_EQ(b.entries(), 0u);
  // A sum that is 0 as the stored float is a zero weight: the pair is dropped, not stored
  // as 0 (found by the interactions fuzzer).
  b.add("u", "i", 4.9e-324);
  b.add("u", "j", 1e15);
  const Interactions d = b.build();
  ASSERT_EQ(d.by_user.nnz(), 1u);
  EXPECT_EQ(d.items, std::vector<std::string>{"j"});
  EXPECT_GT(d.by_user.values[0], 0.0f);
  EXPECT_EQ(d.rows_dropped, 1u);
}

TEST(Interactions, TransposeIsTheSameMatrixByColumn) {
  const Interactions x = planted();
  const Csr t = x.by_user.transpose();
  ASSERT_EQ(t.nnz(), x.by_user.nnz());
  const Csr back = t.transpose();
  EXPECT_EQ(back.indptr, x.by_user.indptr);
  EXPECT_EQ(back.indices, x.by_user.indices);
  EXPECT_EQ(back.values, x.by_user.values);
  for (uint32_t i = 0; i < t.rows; ++i)
    for (uint32_t k = t.indptr[i]; k < t.indptr[i + 1]; ++k)
      EXPECT_TRUE(x.by_user.contains(t.indices[k], i));
}

TEST(Neighbors, CosineOfBinaryCoOccurrenceWithShrinkage) {
  InteractionBuilder b;
  // a: u1 u2 u3; b: u1 u2; c: u3; d: u4 only.
  for (const char* u : {"u1", "u2", "u3"}) b.add(u, "a", 5);
  for (const char* u : {"u1", "u2"}) b.add(u, "b", 1);
  b.add("u3", "c", 1);
  b.add("u4", "d", 1);
  const Interactions x = b.build();
  const Csr by_item = x.by_user.transpose();
  const Neighbors n = cosine_neighbors(by_item, x.by_user, {10, 1.0, 1});
  // Item a (index 0): b shares 2 users: 2 / (sqrt(3·2) + 1); c shares 1: 1 / (sqrt(3) + 1).
  ASSERT_EQ(n.indptr[1] - n.indptr[0], 2u);
  EXPECT_EQ(n.indices[0], 1u);
  EXPECT_NEAR(n.sims[0], 2 / (std::sqrt(6.0) + 1), 1e-6);
  EXPECT_EQ(n.indices[1], 2u);
  EXPECT_NEAR(n.sims[1], 1 / (std::sqrt(3.0) + 1), 1e-6);
  // d has no neighbour; nobody lists itself.
  EXPECT_EQ(n.indptr[4] - n.indptr[3], 0u);
  for (uint32_t e = 0; e < 4; ++e)
    for (uint32_t k = n.indptr[e]; k < n.indptr[e + 1]; ++k) EXPECT_NE(n.indices[k], e);
  // keep = 1 keeps only the best.
  const Neighbors one = cosine_neighbors(by_item, x.by_user, {1, 1.0, 2});
  EXPECT_EQ(one.indptr[1] - one.indptr[0], 1u);
  EXPECT_EQ(one.indices[0], 1u);
}

TEST(Svd, MatchesTheExactTruncatedSvd) {
  const Interactions x = planted(3);
  const Csr& m = x.by_user;
  Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(m.rows, m.cols);
  for (uint32_t u = 0; u < m.rows; ++u)
    for (uint32_t k = m.indptr[u]; k < m.indptr[u + 1]; ++k) dense(u, m.indices[k]) = m.values[k];
  Eigen::JacobiSVD<Eigen::MatrixXd> exact(dense, Eigen::ComputeThinU | Eigen::ComputeThinV);
  SvdOptions o;
  o.factors = 4;
  const Factors f = train_svd(m, o);
  // The best rank-4 approximation's error (Eckart–Young) against the randomised one's: the
  // range finder must come within 1 % of it.
  const auto& s = exact.singularValues();
  Eigen::MatrixXd best = exact.matrixU().leftCols(4) * s.head(4).asDiagonal() *
                         exact.matrixV().leftCols(4).transpose();
  Eigen::MatrixXd ours(m.rows, m.cols);
  for (uint32_t u = 0; u < m.rows; ++u)
    for (uint32_t i = 0; i < m.cols; ++i) {
      double v = 0;
      for (uint32_t c = 0; c < 4; ++c) v += double{f.user(u)[c]} * f.item(i)[c];
      ours(u, i) = v;
    }
  const double optimal = (dense - best).norm(), achieved = (dense - ours).norm();
  EXPECT_GE(achieved, optimal * (1 - 1e-9));
  EXPECT_LE(achieved, optimal * 1.01);
  // The two leading components (the communities, well separated) match element by element.
  Eigen::MatrixXd best2 = exact.matrixU().leftCols(2) * s.head(2).asDiagonal() *
                          exact.matrixV().leftCols(2).transpose();
  double max_err = 0;
  for (uint32_t u = 0; u < m.rows; ++u)
    for (uint32_t i = 0; i < m.cols; ++i) {
      double v = 0;
      for (uint32_t c = 0; c < 2; ++c) v += double{f.user(u)[c]} * f.item(i)[c];
      max_err = std::max(max_err, std::abs(v - best2(u, i)));
    }
  EXPECT_LT(max_err, 1e-4 * s(0));
  SvdOptions too_many;
  too_many.factors = 40;
  EXPECT_THROW(train_svd(m, too_many), InvalidParameter);
}

// planted() with its item-major copy, for the ALS trainer.
struct PlantedAls {
  Interactions x = planted();
  Csr by_item = x.by_user.transpose();
  Factors train(const AlsOptions& o) const { return train_als(x.by_user, by_item, o); }
};

TEST(Als, ConjugateGradientConvergesToTheExactLeastSquaresSolution) {
  // With as many CG steps as factors, one half-step solves each user's normal equations
  // exactly; check user 0's against a direct solve with the item factors training left.
  const PlantedAls p;
  const Interactions& x = p.x;
  const Csr& by_item = p.by_item;
  AlsOptions o;
  o.factors = 8;
  o.iterations = 3;
  o.cg_steps = 8;
  o.alpha = 4;
  o.regularization = 0.5;
  const Factors f = p.train(o);
  // The last half-step solved items given users; solve item 0 directly from the user factors.
  const uint32_t item = 0;
  Eigen::MatrixXd X(x.by_user.rows, o.factors);
  for (uint32_t u = 0; u < x.by_user.rows; ++u)
    for (uint32_t c = 0; c < o.factors; ++c) X(u, c) = f.user(u)[c];
  Eigen::MatrixXd A = X.transpose() * X;
  A.diagonal().array() += o.regularization * by_item.row_size(item);  // weighted λ
  Eigen::VectorXd rhs = Eigen::VectorXd::Zero(o.factors);
  for (uint32_t k = by_item.indptr[item]; k < by_item.indptr[item + 1]; ++k) {
    const double c = 1 + o.alpha * by_item.values[k];
    const Eigen::VectorXd xu = X.row(by_item.indices[k]).transpose();
    A += (c - 1) * xu * xu.transpose();
    rhs += c * xu;
  }
  const Eigen::VectorXd exact = A.ldlt().solve(rhs);
  for (uint32_t c = 0; c < o.factors; ++c) EXPECT_NEAR(f.item(item)[c], exact(c), 1e-3);
}

TEST(Als, SameFactorsOnOneOrTwoThreads) {
  const PlantedAls p;
  AlsOptions o;
  o.factors = 6;
  o.threads = 1;
  const Factors a = p.train(o);
  o.threads = 2;
  const Factors b = p.train(o);
  EXPECT_EQ(a.users, b.users);
  EXPECT_EQ(a.items, b.items);
}

// Every learner but popularity should find the held-out items of a user's own community.
class EveryMethod : public ::testing::TestWithParam<Method> {};

TEST_P(EveryMethod, RecommendsTheUsersOwnCommunityAndNothingSeen) {
  std::vector<std::tuple<int, int>> held;
  Interactions x = planted(11, &held);
  TrainOptions o;
  o.method = GetParam();
  o.factors = 4;
  o.neighbors = 20;
  const auto model = fit_recommender(x, o);
  const auto loaded = reload(*model);
  size_t in_community = 0, total = 0;
  for (uint32_t u = 0; u < model->users().size(); ++u) {
    const auto recs = loaded->recommend(u, 5, true);
    const auto again = model->recommend(u, 5, true);
    ASSERT_EQ(recs.size(), again.size());
    for (size_t r = 0; r < recs.size(); ++r) {
      EXPECT_EQ(recs[r].item, again[r].item);
      EXPECT_FLOAT_EQ(static_cast<float>(recs[r].score), static_cast<float>(again[r].score));
      EXPECT_FALSE(model->seen().contains(u, recs[r].item)) << "seen item recommended";
      if (r > 0) {
        EXPECT_GE(recs[r - 1].score, recs[r].score);
      }
    }
    const bool first_half = model->users()[u] < id('u', 30);
    for (const auto& r : recs) {
      ++total;
      if ((model->items()[r.item] < id('i', 20)) == first_half) ++in_community;
    }
  }
  const double share = static_cast<double>(in_community) / static_cast<double>(total);
  if (GetParam() == Method::Popularity) {
    EXPECT_LT(share, 0.8);  // popularity ignores communities
  } else {
    EXPECT_GT(share, 0.95) << method_name(GetParam());
  }
}

TEST_P(EveryMethod, UnknownUserGetsThePopularItems) {
  TrainOptions o;
  o.method = GetParam();
  o.factors = 4;
  const auto model = fit_recommender(planted(), o);
  const auto recs = model->recommend(std::nullopt, 3, true);
  ASSERT_EQ(recs.size(), 3u);
  for (size_t r = 0; r < 3; ++r) {
    EXPECT_TRUE(recs[r].popular);
    if (r > 0) {
      EXPECT_GE(recs[r - 1].score, recs[r].score);
    }
  }
  EXPECT_DOUBLE_EQ(recs[0].score, 1.0);  // the most popular item
}

TEST_P(EveryMethod, KeepsSeenItemsWhenAskedAndNeverReturnsMoreThanTheCatalogue) {
  TrainOptions o;
  o.method = GetParam();
  o.factors = 4;
  const auto model = fit_recommender(planted(), o);
  const auto all = model->recommend(0u, 1000, false);
  EXPECT_EQ(all.size(), model->items().size());
  const auto unseen = model->recommend(0u, 1000, true);
  EXPECT_EQ(unseen.size(), model->items().size() - model->seen().row_size(0));
}

TEST_P(EveryMethod, SimilarItemsExcludeTheItemAndStayInItsCommunity) {
  TrainOptions o;
  o.method = GetParam();
  o.factors = 4;
  const auto model = reload(*fit_recommender(planted(), o));
  const uint32_t item = *model->item_index(id('i', 3));
  const auto sim = model->similar(item, 5);
  ASSERT_EQ(sim.size(), 5u);
  for (size_t r = 0; r < sim.size(); ++r) {
    EXPECT_NE(sim[r].item, item);
    EXPECT_LT(model->items()[sim[r].item], id('i', 20));
    if (r > 0) {
      EXPECT_GE(sim[r - 1].score, sim[r].score);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Recommend, EveryMethod,
                         ::testing::Values(Method::Als, Method::ItemKnn, Method::UserKnn,
                                           Method::Svd, Method::Popularity),
                         [](const auto& info) { return std::string(method_name(info.param)); });

TEST(Recommend, NeighbourhoodListsAreFilledWithPopularItems) {
  // u1 only bought x, which nobody else bought: item_knn has no evidence for anything.
  InteractionBuilder b;
  b.add("u1", "x", 1);
  for (const char* u : {"u2", "u3", "u4"}) b.add(u, "top", 1);
  b.add("u2", "second", 1);
  b.add("u3", "second", 1);
  TrainOptions o;
  o.method = Method::ItemKnn;
  const auto model = fit_recommender(b.build(), o);
  const auto recs = model->recommend(model->user_index("u1"), 2, true);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(model->items()[recs[0].item], "top");
  EXPECT_EQ(model->items()[recs[1].item], "second");
  EXPECT_TRUE(recs[0].popular && recs[1].popular);
}

TEST(Recommend, OptionsOutOfRangeAreRejected) {
  const Interactions x = planted();
  TrainOptions o;
  o.factors = 0;
  EXPECT_THROW(fit_recommender(x, o), InvalidParameter);
  o.factors = 513;
  EXPECT_THROW(fit_recommender(x, o), InvalidParameter);
  o = {};
  o.regularization = std::nan("");
  EXPECT_THROW(fit_recommender(x, o), InvalidParameter);
  o = {};
  o.alpha = -1;
  EXPECT_THROW(fit_recommender(x, o), InvalidParameter);
  EXPECT_THROW(fit_recommender(Interactions{}, TrainOptions{}), InvalidParameter);
}

TEST(Recommend, CorruptPayloadsAreRejectedNeverCrash) {
  for (Method m : {Method::Als, Method::UserKnn}) {
    InteractionBuilder b;
    add_pairs(b, {{"u1", "a"}, {"u1", "b"}, {"u2", "b"}, {"u2", "c"}, {"u3", "c"}});
    TrainOptions o;
    o.method = m;
    o.factors = 1;
    Payload p = recommend_payload(*fit_recommender(b.build(), o));
    const std::vector<uint8_t> body = p.body;
    // Every single-byte change of the body (re-encoded with a valid checksum) either decodes
    // to a model that answers, or throws CorruptPayload.
    for (size_t pos = 0; pos < body.size(); ++pos) {
      for (uint8_t delta : {uint8_t{1}, uint8_t{0x80}}) {
        p.body = body;
        p.body[pos] = static_cast<uint8_t>(p.body[pos] ^ delta);
        const auto bytes = encode_payload(p);
        try {
          auto model = std::dynamic_pointer_cast<const RecommendModel>(
              load_model(bytes.data(), bytes.size()));
          ASSERT_TRUE(model);
          for (uint32_t u = 0; u < model->users().size(); ++u) model->recommend(u, 3, true);
          for (uint32_t i = 0; i < model->items().size(); ++i) model->similar(i, 3);
        } catch (const CorruptPayload&) {
        }
      }
    }
    for (size_t len = 0; len < body.size(); ++len) {
      p.body.assign(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(len));
      const auto bytes = encode_payload(p);
      EXPECT_THROW(load_model(bytes.data(), bytes.size()), CorruptPayload) << len;
    }
  }
}

TEST(Evaluation, RankingMetricsOfAHandMadeList) {
  double p, r, ndcg, ap;
  // Relevant {2, 5, 9}; list 5, 1, 9, 4 at k = 4: hits at ranks 1 and 3.
  score_list({5, 1, 9, 4}, {2, 5, 9}, 4, p, r, ndcg, ap);
  EXPECT_DOUBLE_EQ(p, 0.5);
  EXPECT_DOUBLE_EQ(r, 2.0 / 3.0);
  const double dcg = 1.0 + 1.0 / std::log2(4.0);
  const double idcg = 1.0 + 1.0 / std::log2(3.0) + 1.0 / std::log2(4.0);
  EXPECT_DOUBLE_EQ(ndcg, dcg / idcg);
  EXPECT_DOUBLE_EQ(ap, (1.0 + 2.0 / 3.0) / 3.0);
  score_list({1, 3}, {2}, 2, p, r, ndcg, ap);
  EXPECT_EQ(p + r + ndcg + ap, 0.0);
}

EventLog planted_log() {
  // Each user buys community items on days 1..10; the last day's basket is the future.
  Rng rng(5);
  EventLog log;
  for (int u = 0; u < 60; ++u) {
    const int base = u < 30 ? 0 : 20;
    for (int day = 1; day <= 10; ++day)
      for (int i = base; i < base + 20; ++i)
        if (rng.uniform() < 0.06) log.add(id('u', u), id('i', i), day, 1);
    log.add(id('u', u), id('i', 45), 1, 1);  // an item everyone has: the popular one
  }
  return log;
}

TEST(Evaluation, AlsBeatsPopularityOnCommunities) {
  const EventLog log = planted_log();
  TrainOptions o;
  o.method = Method::Als;
  o.factors = 4;
  const Evaluation e = evaluate(log, o, 5, {});
  EXPECT_GT(e.model.users, 40u);
  EXPECT_EQ(e.model.users, e.popularity.users);
  EXPECT_GT(e.model.ndcg, 1.5 * e.popularity.ndcg);
  EXPECT_GT(e.model.recall, e.popularity.recall);
  EXPECT_GT(e.model.coverage, e.popularity.coverage);
  EXPECT_EQ(e.train_events + e.test_events, log.size());
  for (double v : {e.model.precision, e.model.recall, e.model.ndcg, e.model.map, e.model.coverage})
    EXPECT_TRUE(v >= 0 && v <= 1);
}

// Without timestamps (train_recommender's validate): a seeded fifth of each user's pairs is
// held out; the learner still beats popularity on the communities, the same seed gives the
// same figures, another seed another split.
TEST(Evaluation, HoldoutWithoutTimestampsIsSeededAndSeparatesLearners) {
  const Interactions data = planted();
  TrainOptions o;
  o.method = Method::Als;
  o.factors = 4;
  const Evaluation a = holdout_evaluate(data, o, 5, 0.2, 1);
  EXPECT_EQ(a.train_events + a.test_events, data.by_user.nnz());
  const double share = static_cast<double>(a.test_events) / static_cast<double>(data.by_user.nnz());
  EXPECT_GT(share, 0.1);
  EXPECT_LT(share, 0.3);
  EXPECT_GT(a.model.users, 40u);
  EXPECT_GT(a.model.ndcg, 1.5 * a.popularity.ndcg);
  const Evaluation same = holdout_evaluate(data, o, 5, 0.2, 1);
  EXPECT_EQ(same.model.ndcg, a.model.ndcg);
  EXPECT_EQ(same.test_events, a.test_events);
  const Evaluation other = holdout_evaluate(data, o, 5, 0.2, 2);
  EXPECT_NE(other.model.ndcg, a.model.ndcg);
  // One pair per user leaves nothing to learn from: no user to score.
  InteractionBuilder b;
  for (int u = 0; u < 10; ++u) b.add(id('u', u), id('i', u), 1);
  EXPECT_THROW(holdout_evaluate(b.build(), o, 5, 0.2, 1), InvalidParameter);
}

TEST(Evaluation, PerUserSplitKeepsBasketsWholeAndGlobalCutoffScoresNewUsers) {
  EventLog log;
  // u1: day 1 {a}, day 2 {b, c}: the cut (position ⌊0.5·3⌋ = 1) is day 2, both b and c held out.
  log.add("u1", "a", 1, 1);
  log.add("u1", "b", 2, 1);
  log.add("u1", "c", 2, 1);
  // u2: one basket only: nothing to learn from, training only.
  log.add("u2", "b", 1, 1);
  log.add("u2", "c", 1, 1);
  TrainOptions o;
  o.method = Method::Popularity;
  const Evaluation e = evaluate(log, o, 2, {0.5, std::nullopt});
  EXPECT_EQ(e.test_events, 2u);
  EXPECT_EQ(e.model.users, 1u);
  EXPECT_DOUBLE_EQ(e.model.recall, 1.0);  // b and c are the popular unseen items
  // A global cut-off at day 2: u3, new on day 2, is scored with the cold-start list.
  log.add("u3", "a", 2, 1);
  const Evaluation g = evaluate(log, o, 2, {0.2, int64_t{2}});
  EXPECT_EQ(g.model.users, 2u);
  EXPECT_THROW(evaluate(log, o, 0, {}), InvalidParameter);
  EXPECT_THROW(evaluate(log, o, 1001, {}), InvalidParameter);
  EXPECT_THROW(evaluate(log, o, 5, {1.0, std::nullopt}), InvalidParameter);
  EXPECT_THROW(evaluate(log, o, 5, {0.0, std::nullopt}), InvalidParameter);
}

}  // namespace
}  // namespace insight::recommend
