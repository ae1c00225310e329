// The demo shop: a catalog of kCategories × kProductsPerCategory products, users with one to
// three favourite categories and heavy-tailed activity, promotions on one category every nine
// days or so, labelled sales anomalies of the whole shop every three to four weeks (a day of a
// sudden drop, a day of a spike, alternating), and transactions with weekly and daily rhythms
// and a first-year growth trend.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/demo/world.hpp"

namespace insight::demo {
namespace detail {
namespace {

constexpr int kUsers = 1000;
constexpr double kBaseDailyTransactions = 450.0;
constexpr double kTrendPerDay = 0.008;
constexpr double kPromoVolume = 2.5;
constexpr double kPromoDiscount = 0.20;
constexpr double kFavouriteShare = 0.75;
// The sales anomalies: a day at 35 % of its transactions (a checkout outage), or at 230 % (a
// bot buying up the shop).
constexpr double kSalesDrop = 0.35;
constexpr double kSalesSpike = 2.3;

const std::array<double, kCategories> kCategoryMedianPrice = {120.0, 16.0, 40.0, 30.0,
                                                              22.0,  45.0, 18.0, 6.0};
const std::array<std::array<const char*, 5>, kCategories> kAdjectives = {{
    {"Wireless", "Smart", "Portable", "Compact", "Pro"},
    {"Complete", "Illustrated", "Pocket", "Modern", "Essential"},
    {"Cozy", "Ceramic", "Linen", "Bamboo", "Classic"},
    {"Heavy-Duty", "Folding", "Solar", "Cedar", "Ergonomic"},
    {"Wooden", "Magnetic", "Deluxe", "Mini", "Rainbow"},
    {"Lightweight", "Adjustable", "Trail", "Foldable", "Insulated"},
    {"Hydrating", "Organic", "Gentle", "Revitalizing", "Soothing"},
    {"Fair-Trade", "Roasted", "Artisan", "Wildflower", "Smoked"},
}};
const std::array<std::array<const char*, 5>, kCategories> kNouns = {{
    {"Headphones", "Speaker", "Charger", "Keyboard", "Webcam"},
    {"Cookbook", "Atlas", "Novel", "Field Guide", "Handbook"},
    {"Throw Blanket", "Table Lamp", "Vase", "Cushion", "Serving Tray"},
    {"Trowel", "Planter", "Hose Reel", "Lantern", "Pruner"},
    {"Puzzle", "Building Set", "Train Set", "Plush Bear", "Kite"},
    {"Yoga Mat", "Dumbbell Set", "Water Bottle", "Jump Rope", "Backpack"},
    {"Face Cream", "Shampoo", "Lip Balm", "Serum", "Body Lotion"},
    {"Coffee Beans", "Almonds", "Olive Oil", "Honey", "Sea Salt"},
}};
// Monday .. Sunday.
const std::array<double, 7> kWeekdayFactor = {0.85, 0.9, 0.95, 1.0, 1.1, 1.3, 1.2};
// Relative shopping activity per UTC hour: peaks at 12:00 and 20:00, quiet at night.
const std::array<double, 24> kHourWeight = {0.25, 0.15, 0.10, 0.08, 0.08, 0.12, 0.30, 0.55,
                                            0.80, 0.95, 1.10, 1.45, 1.70, 1.50, 1.15, 1.00,
                                            1.00, 1.10, 1.35, 1.70, 1.90, 1.60, 1.05, 0.55};

}  // namespace

void build_commerce(const DemoConfig& config, int64_t start, int64_t end,
                    std::vector<Product>& products, WorldData& w) {
  const uint64_t seed = config.seed;
  // ---- catalog ----
  products.reserve(kCategories * kProductsPerCategory);
  for (int c = 0; c < kCategories; ++c) {
    for (int k = 0; k < kProductsPerCategory; ++k) {
      Product p{};
      p.product_id = "P" + pad(c * kProductsPerCategory + k + 1, 4);
      p.name = std::string(kAdjectives[static_cast<size_t>(c)][static_cast<size_t>(k / 5)]) + " " +
               kNouns[static_cast<size_t>(c)][static_cast<size_t>(k % 5)];
      p.category = kCategoryNames[static_cast<size_t>(c)];
      Rng rng(seed, fnv1a(p.product_id), kTagProduct);
      p.price = std::max(0.99, round2(kCategoryMedianPrice[static_cast<size_t>(c)] *
                                      det_exp(0.45 * rng.normal())));
      products.push_back(std::move(p));
    }
  }
  {
    // Popularity within a category: a Zipf-like weight over a random product ranking.
    Rng rng(seed, fnv1a("catalog"), kTagCatalog);
    for (size_t c = 0; c < kCategories; ++c) {
      std::array<size_t, kProductsPerCategory> rank{};
      for (size_t k = 0; k < rank.size(); ++k) rank[k] = k;
      for (size_t i = rank.size(); i > 1; --i) std::swap(rank[i - 1], rank[rng.index(i)]);
      double acc = 0;
      for (size_t k = 0; k < rank.size(); ++k) {
        acc += 1.0 / det_pow(static_cast<double>(rank[k]) + 2.0, 0.8);
        w.product_cum[c][k] = acc;
      }
    }
  }

  // ---- users ----
  w.user_ids.reserve(kUsers);
  w.users.reserve(kUsers);
  w.user_cum.reserve(kUsers);
  double activity_total = 0;
  std::array<double, kCategories> cat_mass{};
  for (int u = 0; u < kUsers; ++u) {
    const std::string id = "U" + pad(u + 1, 4);
    Rng rng(seed, fnv1a(id), kTagUser);
    UserProfile up{};
    const double r = rng.uniform();
    up.nfav = r < 0.45 ? 1 : (r < 0.8 ? 2 : 3);
    static constexpr std::array<std::array<double, 3>, 3> kFavWeights = {
        {{1.0, 0.0, 0.0}, {0.65, 0.35, 0.0}, {0.55, 0.30, 0.15}}};
    std::array<int, kCategories> order{};
    for (int c = 0; c < kCategories; ++c) order[static_cast<size_t>(c)] = c;
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.index(i)]);
    double acc = 0;
    for (int k = 0; k < up.nfav; ++k) {
      const auto ks = static_cast<size_t>(k);
      up.fav[ks] = order[ks];
      up.is_fav[static_cast<size_t>(order[ks])] = true;
      acc += kFavWeights[static_cast<size_t>(up.nfav - 1)][ks];
      up.fav_cum[ks] = acc;
    }
    // Heavy-tailed activity (Pareto, alpha 1.5, capped).
    const double activity = std::min(60.0, det_pow(1.0 - rng.uniform(), -1.0 / 1.5));
    activity_total += activity;
    for (int c = 0; c < kCategories; ++c) {
      const auto cs = static_cast<size_t>(c);
      double pc = 0;
      if (up.is_fav[cs]) {
        for (int k = 0; k < up.nfav; ++k) {
          if (up.fav[static_cast<size_t>(k)] == c) {
            pc = kFavouriteShare *
                 kFavWeights[static_cast<size_t>(up.nfav - 1)][static_cast<size_t>(k)];
          }
        }
      } else {
        pc = (1.0 - kFavouriteShare) / (kCategories - up.nfav);
      }
      cat_mass[cs] += activity * pc;
    }
    w.user_ids.push_back(id);
    w.users.push_back(up);
    w.user_cum.push_back(activity_total);
  }
  for (size_t c = 0; c < kCategories; ++c) w.category_share[c] = cat_mass[c] / activity_total;

  // ---- promotions: calendar days, roughly every 9 days ----
  {
    Rng rng(seed, fnv1a("promotions"), kTagPromo);
    int64_t day = floor_div(start, kDay) + rng.range(2, 8);
    int last_cat = -1;
    while (day * kDay < end) {
      const int64_t len = rng.range(1, 2);
      int cat = static_cast<int>(rng.range(0, kCategories - 1));
      if (cat == last_cat) cat = (cat + 1) % kCategories;
      last_cat = cat;
      const int64_t s = std::max(day * kDay, start);
      const int64_t e = std::min((day + len) * kDay, end);
      if (s < e) w.promos.push_back(Promo{s, e, cat});
      day += len + rng.range(6, 9);
    }
  }
  // ---- sales anomalies: one day every 20 to 30 days, drops and spikes alternating, never on
  //      or beside a promotion's day (its volume is labelled already) ----
  {
    Rng rng(seed, fnv1a("sales_events"), kTagSalesEvents);
    int64_t day = floor_div(start, kDay) + rng.range(18, 26);
    bool drop = rng.uniform() < 0.5;
    while ((day + 1) * kDay <= end) {
      const int64_t s = day * kDay, e = s + kDay;
      const bool near_promo = std::any_of(w.promos.begin(), w.promos.end(), [&](const Promo& p) {
        return p.start < e + kDay && p.end > s - kDay;
      });
      if (near_promo) {
        ++day;
        continue;
      }
      if (s >= start) w.sales_events.push_back(SalesEvent{s, e, drop ? kSalesDrop : kSalesSpike});
      drop = !drop;
      day += rng.range(20, 30);
    }
  }
}

void add_commerce_faults(const WorldData& w, std::vector<Fault>& faults) {
  for (const SalesEvent& ev : w.sales_events) {
    Fault f{};
    const bool drop = ev.factor < 1;
    f.kind = drop ? "sales_drop" : "sales_spike";
    f.scope = "shop";
    f.scope_id = "all";
    f.started_at = ev.start;
    f.ended_at = ev.end;
    f.notes = drop ? "A checkout outage: the day's transactions fell to 35% of the usual"
                   : "A bot buying up the shop: the day's transactions rose to 230% of the usual";
    faults.push_back(std::move(f));
  }
  for (const Promo& p : w.promos) {
    Fault f{};
    f.kind = "promotion";
    f.scope = "category";
    f.scope_id = kCategoryNames[static_cast<size_t>(p.category)];
    f.started_at = p.start;
    f.ended_at = p.end;
    f.notes = "Promotion on " + f.scope_id + ": 20% off, about 2.5x the usual volume";
    faults.push_back(std::move(f));
  }
}

}  // namespace detail

using namespace detail;

void DemoWorld::transactions(const std::function<void(const TransactionRow&)>& emit,
                             const InterruptCheck& check) const {
  const Impl& w = *impl_;
  struct Txn {
    int64_t ts;
    uint32_t seq;
    uint16_t user, product;
    int quantity;
    double amount;
  };
  std::vector<Txn> day_rows;
  day_rows.reserve(4096);
  std::array<double, 24> hour_cum{};
  double acc = 0;
  for (size_t h = 0; h < 24; ++h) hour_cum[h] = acc += kHourWeight[h];
  const double hour_total = acc;
  const uint64_t txn_entity = fnv1a("transactions");
  TransactionRow row{};
  RowPoller poller(check);

  const int64_t first_day = floor_div(start_, kDay);
  const int64_t last_day = floor_div(end_ - 1, kDay);
  for (int64_t day = first_day; day <= last_day; ++day) {
    const int64_t day_start = day * kDay;
    Rng rng(config_.seed, txn_entity, kTagTxnDay ^ (static_cast<uint64_t>(day) << 8));
    // Growth of +0.8%/day for the first year, flat afterwards: long histories stay a
    // realistic size (at most ~3.9x the first day's volume).
    const double trend =
        1.0 +
        kTrendPerDay * std::min(365.0, static_cast<double>(day_start + kDay / 2 - start_) / kDay);
    const double noise = rng.uniform(-0.08, 0.08);
    double event = 1.0;
    for (const SalesEvent& ev : w.sales_events)
      if (ev.start == day_start) event = ev.factor;
    const int64_t n_base = std::llround(kBaseDailyTransactions *
                                        kWeekdayFactor[static_cast<size_t>(weekday_of_day(day))] *
                                        trend * (1.0 + noise) * event);
    const Promo* promo = nullptr;
    for (const Promo& p : w.promos) {
      if (p.start < day_start + kDay && p.end > day_start) promo = &p;
    }
    const int64_t n_extra =
        promo == nullptr ? 0
                         : std::llround(static_cast<double>(n_base) * (kPromoVolume - 1.0) *
                                        w.category_share[static_cast<size_t>(promo->category)]);
    day_rows.clear();
    for (int64_t i = 0; i < n_base + n_extra; ++i) {
      const bool extra = i >= n_base;
      // Timestamp: hour from the diurnal profile, uniform second within it.
      const double hu = rng.uniform() * hour_total;
      size_t hour = 0;
      while (hour < 23 && hour_cum[hour] <= hu) ++hour;
      const int64_t ts = day_start + static_cast<int64_t>(hour) * kHour + rng.range(0, kHour - 1);
      // Buyer by activity.
      const double au = rng.uniform() * w.user_cum.back();
      const size_t user = std::min<size_t>(
          w.users.size() - 1,
          static_cast<size_t>(std::upper_bound(w.user_cum.begin(), w.user_cum.end(), au) -
                              w.user_cum.begin()));
      const UserProfile& up = w.users[user];
      int cat = 0;
      if (extra) {
        cat = promo->category;
      } else if (rng.uniform() < kFavouriteShare) {
        const double fu = rng.uniform() * up.fav_cum[static_cast<size_t>(up.nfav - 1)];
        int k = 0;
        while (k < up.nfav - 1 && up.fav_cum[static_cast<size_t>(k)] <= fu) ++k;
        cat = up.fav[static_cast<size_t>(k)];
      } else {
        int pick = static_cast<int>(rng.range(0, kCategories - up.nfav - 1));
        for (cat = 0; cat < kCategories; ++cat) {
          if (up.is_fav[static_cast<size_t>(cat)]) continue;
          if (pick-- == 0) break;
        }
      }
      const auto& pc = w.product_cum[static_cast<size_t>(cat)];
      const double pu = rng.uniform() * pc.back();
      size_t k = 0;
      while (k + 1 < pc.size() && pc[k] <= pu) ++k;
      const size_t product = static_cast<size_t>(cat) * kProductsPerCategory + k;
      int quantity = 1;
      while (quantity < 5 && rng.uniform() < 0.42) ++quantity;
      if (ts < start_ || ts >= end_) continue;
      if (extra && (ts < promo->start || ts >= promo->end)) continue;
      const bool discounted =
          promo != nullptr && promo->category == cat && ts >= promo->start && ts < promo->end;
      const double amount =
          round2(quantity * products_[product].price * (1.0 - (discounted ? kPromoDiscount : 0.0)));
      day_rows.push_back(Txn{ts, static_cast<uint32_t>(i), static_cast<uint16_t>(user),
                             static_cast<uint16_t>(product), quantity, amount});
    }
    std::sort(day_rows.begin(), day_rows.end(), [](const Txn& a, const Txn& b) {
      return a.ts != b.ts ? a.ts < b.ts : a.seq < b.seq;
    });
    for (const Txn& t : day_rows) {
      poller.row();
      row.ts = t.ts;
      row.user_id = w.user_ids[t.user];
      row.product_id = products_[t.product].product_id;
      row.quantity = t.quantity;
      row.total_amount = t.amount;
      emit(row);
    }
  }
}

}  // namespace insight::demo
