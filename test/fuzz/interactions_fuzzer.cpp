// libFuzzer target for the recommendation interaction builder and what consumes its output
// (scripts/run-fuzz runs it in `make test`).
//
// The input decodes (fuzz_rows.hpp) into options and a sequence of (user, item, weight, time)
// rows, each column possibly NULL, which take the path of src/pg/recommend.cpp:
//   train_recommender:    options validated first; per row, NULL user/item/weight skipped and
//                         counted, the SQL layer's weight check, InteractionBuilder::add; then
//                         build(min_user, min_item), the "nothing left" checks, and a small
//                         fit_recommender() (factors ≤ 4, iterations ≤ 3, few neighbours),
//                         recommend/similar, recommend_payload and load_model back;
//   evaluate_recommender: rows with a NULL in any of the four columns skipped, weight check,
//                         EventLog::add with the timestamptz, then evaluate() with a per-user
//                         or a global (cut-off) split.
// Without a weight column the SQL layer reads 1::float8 for every row, as here.
// insight::InvalidParameter is the expected outcome of bad data or options and is caught.
// Everything else — another exception (InternalError and CorruptPayload included), a crash,
// an ASan/UBSan report, a broken invariant below — aborts, and libFuzzer saves the input.
//
// Invariants checked:
//   builder  — the matrix equals an independent re-computation from the rows (pairs summed in
//              ascending weight order, the min-count filters, float clamping), field by field
//              and bit for bit; CSR shape: rows/cols = id counts, indptr starts at 0, never
//              decreases, ends at nnz; columns strictly ascending and in range; values finite
//              and > 0; every user has ≥ min_user items and every item ≥ 1 user; ids sorted
//              and unique; find_id() round-trips every id and misses every dropped one;
//              rows used + dropped = rows added; the same rows in reverse order build the same
//              matrix bit for bit; transpose() is a valid CSR whose transpose is the original;
//              IdTable and EventLog interning round-trip;
//   model    — its ids and seen matrix are the builder's; recommend() lists have exactly
//              min(k, items − seen) distinct valid items, none seen when excluded, popularity
//              scores where flagged; similar() never returns the item itself; the payload
//              encodes and loads back (a freshly trained model must never be "corrupt"), and
//              the loaded model gives the same lists, bit for bit; optionally, training on two
//              threads gives the same payload as on one;
//   evaluate — train + test events = events; every metric finite and in [0, 1].
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "core/common/error.hpp"
#include "core/model/model.hpp"
#include "core/model/payload.hpp"
#include "core/recommend/evaluation.hpp"
#include "core/recommend/interactions.hpp"
#include "core/recommend/recommender.hpp"
#include "fuzz_rows.hpp"
#include "fuzz_run.hpp"

namespace {

using insight::recommend::Csr;
using insight::recommend::Interactions;
using insight::recommend::Method;

struct Options {
  insight::recommend::TrainOptions train;
  uint32_t min_user = 1, min_item = 1;
  bool evaluate = false, two_threads = false, exclude_seen = true, has_weight = true;
  size_t k = 5;
  insight::recommend::SplitOptions split;
};

struct Row {
  bool user_null, item_null, weight_null, time_null;
  std::string user, item;
  double weight;
  fuzzrows::Time time;
};

Options decode_options(fuzzrows::Reader& r) {
  Options o;
  o.train.method = static_cast<Method>(r.u8() % 5);
  const uint8_t a = r.u8();
  o.train.factors = 1 + a % 4;
  o.train.iterations = 1 + (a >> 2) % 3;
  const uint8_t b = r.u8();
  o.min_user = 1 + b % 3;
  o.min_item = 1 + (b >> 2) % 3;
  o.train.neighbors = (b >> 4) == 0 ? 0 : (b >> 4);  // 0: the method's default
  const uint8_t f = r.u8();
  o.evaluate = f & 1;
  o.two_threads = f & 2;
  o.exclude_seen = !(f & 4);
  o.has_weight = !(f & 8);
  // alpha and regularization, the edges of their ranges included
  static constexpr double kAlphaReg[8][2] = {{1.0, 0.3}, {40.0, 0.1}, {1e6, 1e-6}, {0.0, 1e6},
                                             {1e6, 1e6}, {0.5, 1e-3}, {1e3, 0.01}, {1.0, 1.0}};
  o.train.alpha = kAlphaReg[(f >> 5) & 7][0];
  o.train.regularization = kAlphaReg[(f >> 5) & 7][1];
  o.k = 1 + r.u8() % 12;
  o.train.seed = r.u8();
  o.train.threads = 1;
  o.split.test_fraction = (1.0 + r.u8()) / 257.0;
  if (f & 16) o.split.cutoff = r.time().micros;  // any timestamptz, ±infinity included
  return o;
}

std::vector<Row> decode_rows(fuzzrows::Reader& r, bool has_weight) {
  return fuzzrows::read_rows<Row>(r, [&](Row& row, uint8_t flags) {
    row.user = r.str();
    row.item = r.str();
    row.weight = r.f64();
    row.time = r.time();
    row.user_null = flags & 1;
    row.item_null = flags & 2;
    row.weight_null = has_weight && (flags & 4);
    if (!has_weight) row.weight = 1.0;  // "1::pg_catalog.float8"
    row.time_null = flags & 8;
  });
}

// The SQL layer's own weight check (src/pg/recommend.cpp), before the core's.
void sql_check_weight(const Row& row) {
  const double w = row.weight;
  if (std::isnan(w) || w < 0 || !std::isfinite(w))
    throw insight::InvalidParameter("weight column \"w\" has a bad value");
}

bool same_float(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void check_csr(const Csr& m, const char* what) {
  FUZZ_CHECK(m.indptr.size() == size_t{m.rows} + 1, "%s: indptr size %zu, rows %u", what,
             m.indptr.size(), m.rows);
  FUZZ_CHECK(m.indptr.front() == 0 && m.indptr.back() == m.nnz(),
             "%s: indptr ends %u .. %u, nnz %zu", what, m.indptr.front(), m.indptr.back(), m.nnz());
  FUZZ_CHECK(m.values.empty() || m.values.size() == m.nnz(), "%s: %zu values, nnz %zu", what,
             m.values.size(), m.nnz());
  for (uint32_t r = 0; r < m.rows; ++r) {
    FUZZ_CHECK(m.indptr[r] <= m.indptr[r + 1], "%s: indptr decreases at row %u", what, r);
    for (uint32_t k = m.indptr[r]; k < m.indptr[r + 1]; ++k) {
      FUZZ_CHECK(m.indices[k] < m.cols, "%s: column %u out of %u", what, m.indices[k], m.cols);
      FUZZ_CHECK(k == m.indptr[r] || m.indices[k - 1] < m.indices[k],
                 "%s: row %u columns not strictly ascending", what, r);
      FUZZ_CHECK(m.contains(r, m.indices[k]), "%s: contains() misses an entry", what);
    }
  }
}

bool same_csr(const Csr& a, const Csr& b) {
  if (a.rows != b.rows || a.cols != b.cols || a.indptr != b.indptr || a.indices != b.indices ||
      a.values.size() != b.values.size())
    return false;
  for (size_t i = 0; i < a.values.size(); ++i)
    if (!same_float(a.values[i], b.values[i])) return false;
  return true;
}

bool same_interactions(const Interactions& a, const Interactions& b) {
  return a.users == b.users && a.items == b.items && same_csr(a.by_user, b.by_user) &&
         a.rows_used == b.rows_used && a.rows_dropped == b.rows_dropped;
}

// The builder's contract, computed the plain way from the accepted rows.
Interactions reference_build(const std::vector<const Row*>& rows, uint32_t min_user,
                             uint32_t min_item) {
  struct PairAcc {
    std::vector<double> weights;
    size_t rows = 0;
    double sum = 0;
  };
  std::map<std::pair<std::string, std::string>, PairAcc> pairs;
  for (const Row* r : rows) {
    PairAcc& p = pairs[{r->user, r->item}];
    p.weights.push_back(r->weight);
    ++p.rows;
  }
  std::map<std::string, uint32_t> item_users, user_items;
  for (auto& [key, p] : pairs) {
    std::sort(p.weights.begin(), p.weights.end());
    p.sum = p.weights[0];
    for (size_t i = 1; i < p.weights.size(); ++i) p.sum += p.weights[i];
    // A sum that is 0 as the stored float counts as a zero weight.
    if (!(static_cast<float>(p.sum) > 0)) p.sum = 0;
    if (p.sum > 0) ++item_users[key.second];
  }
  auto item_kept = [&](const std::string& i) {
    auto it = item_users.find(i);
    return it != item_users.end() && it->second >= min_item;
  };
  for (const auto& [key, p] : pairs)
    if (p.sum > 0 && item_kept(key.second)) ++user_items[key.first];
  auto user_kept = [&](const std::string& u) {
    auto it = user_items.find(u);
    return it != user_items.end() && it->second >= min_user;
  };
  std::set<std::string> users, items;
  for (const auto& [key, p] : pairs)
    if (p.sum > 0 && item_kept(key.second) && user_kept(key.first)) {
      users.insert(key.first);
      items.insert(key.second);
    }
  Interactions out;
  out.users.assign(users.begin(), users.end());
  out.items.assign(items.begin(), items.end());
  Csr& m = out.by_user;
  m.rows = static_cast<uint32_t>(out.users.size());
  m.cols = static_cast<uint32_t>(out.items.size());
  m.indptr.assign(size_t{m.rows} + 1, 0);
  // pairs iterate by (user, item) ascending: rows and columns come out in order
  for (const auto& [key, p] : pairs) {
    if (!(p.sum > 0) || !users.count(key.first) || !items.count(key.second)) continue;
    const auto u = static_cast<uint32_t>(
        std::lower_bound(out.users.begin(), out.users.end(), key.first) - out.users.begin());
    const auto i = static_cast<uint32_t>(
        std::lower_bound(out.items.begin(), out.items.end(), key.second) - out.items.begin());
    ++m.indptr[u + 1];
    m.indices.push_back(i);
    m.values.push_back(static_cast<float>(p.sum));
    out.rows_used += p.rows;
  }
  for (uint32_t u = 0; u < m.rows; ++u) m.indptr[u + 1] += m.indptr[u];
  out.rows_dropped = rows.size() - out.rows_used;
  return out;
}

void check_interactions(const Interactions& d, const std::vector<const Row*>& accepted,
                        const Options& o) {
  const Csr& m = d.by_user;
  FUZZ_CHECK(m.rows == d.users.size() && m.cols == d.items.size(), "shape %ux%u, ids %zux%zu",
             m.rows, m.cols, d.users.size(), d.items.size());
  check_csr(m, "by_user");
  FUZZ_CHECK(m.values.size() == m.nnz(), "weights missing");
  for (float v : m.values) {
    // All > 0 (interactions.hpp): a sum below float's smallest denormal (a row weight of
    // 1e-300, say) was once kept and stored as 0; such pairs are now dropped.
    FUZZ_CHECK(std::isfinite(v) && v > 0, "stored weight %g", v);
  }
  FUZZ_CHECK(
      std::adjacent_find(d.users.begin(), d.users.end(), std::greater_equal<>()) == d.users.end(),
      "user ids not sorted and unique");
  FUZZ_CHECK(
      std::adjacent_find(d.items.begin(), d.items.end(), std::greater_equal<>()) == d.items.end(),
      "item ids not sorted and unique");
  for (uint32_t u = 0; u < m.rows; ++u) {
    FUZZ_CHECK(m.row_size(u) >= o.min_user, "user %u has %u items, minimum %u", u, m.row_size(u),
               o.min_user);
    FUZZ_CHECK(insight::recommend::find_id(d.users, d.users[u]) == u, "find_id(user %u)", u);
  }
  std::vector<uint32_t> item_count(m.cols, 0);
  for (uint32_t i : m.indices) ++item_count[i];
  for (uint32_t i = 0; i < m.cols; ++i) {
    FUZZ_CHECK(item_count[i] >= 1, "item %u has no user", i);
    FUZZ_CHECK(insight::recommend::find_id(d.items, d.items[i]) == i, "find_id(item %u)", i);
  }
  FUZZ_CHECK(d.rows_used + d.rows_dropped == accepted.size(), "used %zu + dropped %zu != %zu rows",
             d.rows_used, d.rows_dropped, accepted.size());
  for (const Row* r : accepted) {  // every row's ids: found and in the matrix, or dropped
    const uint32_t u = insight::recommend::find_id(d.users, r->user);
    const uint32_t i = insight::recommend::find_id(d.items, r->item);
    FUZZ_CHECK(u == d.users.size() || d.users[u] == r->user, "find_id returned another user");
    FUZZ_CHECK(i == d.items.size() || d.items[i] == r->item, "find_id returned another item");
  }
  const Interactions ref = reference_build(accepted, o.min_user, o.min_item);
  FUZZ_CHECK(d.users == ref.users, "users differ from the reference (%zu vs %zu)", d.users.size(),
             ref.users.size());
  FUZZ_CHECK(d.items == ref.items, "items differ from the reference (%zu vs %zu)", d.items.size(),
             ref.items.size());
  FUZZ_CHECK(same_csr(m, ref.by_user), "matrix differs from the reference (nnz %zu vs %zu)",
             m.nnz(), ref.by_user.nnz());
  FUZZ_CHECK(d.rows_used == ref.rows_used, "rows used %zu, reference %zu", d.rows_used,
             ref.rows_used);

  const Csr t = m.transpose();
  FUZZ_CHECK(t.rows == m.cols && t.cols == m.rows && t.nnz() == m.nnz(), "transpose shape");
  check_csr(t, "transpose");
  FUZZ_CHECK(same_csr(t.transpose(), m), "transpose of the transpose differs");
}

// train_recommender, then what recommend() and similar_items() do with the model.
void check_lists(const insight::recommend::RecommendModel& m,
                 const insight::recommend::RecommendModel* other, const Options& o) {
  const size_t n_items = m.items().size();
  std::vector<std::optional<uint32_t>> users{std::nullopt};
  for (uint32_t u = 0; u < m.users().size() && u < 3; ++u) users.emplace_back(u);
  if (m.users().size() > 3) users.emplace_back(static_cast<uint32_t>(m.users().size() - 1));
  for (const auto& u : users) {
    const auto recs = m.recommend(u, o.k, o.exclude_seen);
    const size_t seen = u && o.exclude_seen ? m.seen().row_size(*u) : 0;
    FUZZ_CHECK(recs.size() == std::min(o.k, n_items - seen),
               "%zu recommendations, k %zu, %zu items, %zu seen", recs.size(), o.k, n_items, seen);
    std::vector<bool> listed(n_items, false);
    for (const auto& r : recs) {
      FUZZ_CHECK(r.item < n_items, "recommended item %u of %zu", r.item, n_items);
      FUZZ_CHECK(!listed[r.item], "item %u recommended twice", r.item);
      listed[r.item] = true;
      if (u && o.exclude_seen)
        FUZZ_CHECK(!m.seen().contains(*u, r.item), "a seen item was recommended");
      if (r.popular) FUZZ_CHECK(r.score == m.popularity(r.item), "popular item scored %g", r.score);
    }
    if (other) {
      const auto again = other->recommend(u, o.k, o.exclude_seen);
      FUZZ_CHECK(again.size() == recs.size(), "loaded model: %zu recommendations, trained %zu",
                 again.size(), recs.size());
      for (size_t i = 0; i < recs.size(); ++i)
        FUZZ_CHECK(again[i].item == recs[i].item && again[i].popular == recs[i].popular &&
                       (again[i].score == recs[i].score ||
                        (std::isnan(again[i].score) && std::isnan(recs[i].score))),
                   "loaded model recommends differently at rank %zu", i);
    }
  }
  for (uint32_t i = 0; i < n_items && i < 3; ++i) {
    const auto sim = m.similar(i, o.k);
    FUZZ_CHECK(sim.size() <= std::min(o.k, n_items - 1), "%zu similar items", sim.size());
    std::vector<bool> listed(n_items, false);
    for (const auto& s : sim) {
      FUZZ_CHECK(s.item < n_items && s.item != i && !listed[s.item], "bad similar item %u", s.item);
      listed[s.item] = true;
    }
    if (other) {
      const auto again = other->similar(i, o.k);
      FUZZ_CHECK(again.size() == sim.size(), "loaded model: %zu similar items, trained %zu",
                 again.size(), sim.size());
      for (size_t j = 0; j < sim.size(); ++j)
        FUZZ_CHECK(again[j].item == sim[j].item &&
                       (again[j].score == sim[j].score ||
                        (std::isnan(again[j].score) && std::isnan(sim[j].score))),
                   "loaded model finds other similar items");
    }
  }
}

void train(const std::vector<Row>& rows, const Options& o) {
  insight::recommend::validate(o.train);  // the SQL layer validates before reading
  insight::recommend::InteractionBuilder builder, reversed;
  std::vector<const Row*> accepted;
  int64_t skipped_null = 0;
  for (const Row& row : rows) {
    if (row.user_null || row.item_null || row.weight_null) {
      ++skipped_null;
      continue;
    }
    sql_check_weight(row);
    builder.add(row.user, row.item, row.weight);
    accepted.push_back(&row);
  }
  FUZZ_CHECK(builder.entries() == accepted.size(), "%zu entries, %zu rows added", builder.entries(),
             accepted.size());
  FUZZ_CHECK(accepted.size() + static_cast<size_t>(skipped_null) == rows.size(), "row counts");
  // Interning round-trips (the builder's tables are private: a table of our own).
  insight::recommend::IdTable table;
  for (const Row* r : accepted) {
    const uint32_t u = table.intern(r->user);
    FUZZ_CHECK(u < table.ids.size() && table.ids[u] == r->user && table.intern(r->user) == u,
               "IdTable does not round-trip");
  }
  FUZZ_CHECK(table.index.size() == table.ids.size(), "IdTable index and ids disagree");

  Interactions data = builder.build(o.min_user, o.min_item);
  check_interactions(data, accepted, o);
  for (auto it = accepted.rbegin(); it != accepted.rend(); ++it)
    reversed.add((*it)->user, (*it)->item, (*it)->weight);
  FUZZ_CHECK(same_interactions(reversed.build(o.min_user, o.min_item), data),
             "the same rows in another order build another matrix");

  if (data.by_user.nnz() == 0) return;  // the SQL layer's "no interactions" errors
  std::shared_ptr<insight::recommend::RecommendModel> model;
  try {
    model = insight::recommend::fit_recommender(data, o.train);
  } catch (const insight::InvalidParameter&) {
    return;  // svd with fewer users/items than factors; a diverged ALS
  }
  FUZZ_CHECK(model->method() == o.train.method, "model method");
  FUZZ_CHECK(model->users() == data.users && model->items() == data.items, "model ids differ");
  FUZZ_CHECK(
      model->seen().indptr == data.by_user.indptr && model->seen().indices == data.by_user.indices,
      "model's seen items differ from the matrix");
  const std::vector<uint8_t> bytes =
      insight::encode_payload(insight::recommend::recommend_payload(*model));
  insight::ModelPtr loaded;
  try {
    loaded = insight::load_model(bytes.data(), bytes.size());
  } catch (const insight::Error& e) {
    // Known: factors are checked for finiteness as doubles, then stored as floats; weights
    // near the float limit (sums are clamped to 3e38) give svd user factors U·Σ beyond
    // FLT_MAX, stored as ±inf, which the loader refuses: every recommend() of the new model
    // fails with XX001 "non-finite number in body".
    FUZZ_KNOWN("factor-overflow", std::string(e.what()).find("non-finite") == std::string::npos,
               "a freshly trained %s recommender does not load: %s",
               std::string(insight::recommend::method_name(o.train.method)).c_str(), e.what());
    FUZZ_CHECK(false, "a freshly trained %s recommender does not load: %s",
               std::string(insight::recommend::method_name(o.train.method)).c_str(), e.what());
  }
  const auto* back = dynamic_cast<const insight::recommend::RecommendModel*>(loaded.get());
  FUZZ_CHECK(back != nullptr, "loaded model is not a recommender");
  FUZZ_CHECK(back->users() == model->users() && back->items() == model->items(),
             "loaded model ids differ");
  check_lists(*model, back, o);
  if (o.two_threads) {
    auto t = o.train;
    t.threads = 2;
    const std::vector<uint8_t> other = insight::encode_payload(
        insight::recommend::recommend_payload(*insight::recommend::fit_recommender(data, t)));
    FUZZ_CHECK(other == bytes, "two threads trained a different model");
  }
}

void evaluate(const std::vector<Row>& rows, const Options& o) {
  auto train = o.train;
  train.similar_items = false;
  insight::recommend::check_k(static_cast<int64_t>(o.k));
  insight::recommend::validate(o.split);  // before reading anything
  insight::recommend::validate(train);
  insight::recommend::EventLog log;
  for (const Row& row : rows) {
    if (row.user_null || row.item_null || row.weight_null || row.time_null) continue;
    sql_check_weight(row);
    const size_t before = log.size();
    log.add(row.user, row.item, row.time.micros, row.weight);
    FUZZ_CHECK(log.size() == before + 1, "event not added");
    const auto& e = log.events().back();
    FUZZ_CHECK(e.user < log.users().size() && log.users()[e.user] == row.user &&
                   e.item < log.items().size() && log.items()[e.item] == row.item &&
                   e.time == row.time.micros,
               "EventLog interning does not round-trip");
  }
  if (log.size() == 0) return;  // "relation ... has no rows ..."
  const insight::recommend::Evaluation e = insight::recommend::evaluate(log, train, o.k, o.split);
  FUZZ_CHECK(e.train_events + e.test_events == log.size(), "train %zu + test %zu != %zu events",
             e.train_events, e.test_events, log.size());
  FUZZ_CHECK(e.train_events > 0 && e.model.users > 0, "scored nothing");
  for (const auto* m : {&e.model, &e.popularity}) {
    for (double v : {m->precision, m->recall, m->ndcg, m->map, m->coverage})
      FUZZ_CHECK(std::isfinite(v) && v >= 0 && v <= 1 + 1e-12,
                 "metric %g (precision %g recall %g ndcg %g map %g coverage %g)", v, m->precision,
                 m->recall, m->ndcg, m->map, m->coverage);
  }
  FUZZ_CHECK(e.model.users == e.popularity.users, "scored users differ");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzzrows::Reader r(data, size);
  const Options o = decode_options(r);
  const std::vector<Row> rows = decode_rows(r, o.has_weight);
  fuzzrows::run_checked(
      [&] {
        if (o.evaluate)
          evaluate(rows, o);
        else
          train(rows, o);
      },
      true);
  return 0;
}
