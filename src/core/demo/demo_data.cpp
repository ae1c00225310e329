#include "core/demo/demo_data.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/random.hpp"

namespace insight::demo {
namespace {

// ===================================================================================
// Deterministic primitives: splitmix64, xoshiro256**, FNV-1a, Box-Muller, Knuth Poisson.
// ===================================================================================

constexpr double kPi = 3.14159265358979323846;
constexpr int64_t kDay = 86400;
constexpr int64_t kHour = 3600;
constexpr int64_t kMaxEndEpoch = 253402300799;  // 9999-12-31 23:59:59 UTC
constexpr uint64_t kPollMask = 4095;            // poll every 4096 rows

// Stream tags: one per table (or per kind of per-entity parameter draw).
constexpr uint64_t kTagProduct = 1;
constexpr uint64_t kTagUser = 2;
constexpr uint64_t kTagCatalog = 3;
constexpr uint64_t kTagPromo = 4;
constexpr uint64_t kTagTxnDay = 5;
constexpr uint64_t kTagLinkParams = 6;
constexpr uint64_t kTagLinkMetrics = 7;
constexpr uint64_t kTagLinkRain = 8;
constexpr uint64_t kTagSiteParams = 9;
constexpr uint64_t kTagSiteMetrics = 10;
constexpr uint64_t kTagNetParams = 11;
constexpr uint64_t kTagNetMetrics = 12;
constexpr uint64_t kTagFaults = 13;

// ---- portable math ----
// Built from +, -, *, / only (each correctly rounded by IEEE 754) plus exact helpers (floor,
// frexp, ldexp), so the values do not depend on the platform's libm, which is free to differ
// in the last bit (glibc even picks FMA variants by CPU). Accuracy is a few ulp: plenty here.

constexpr double kLn2Hi = 6.93147180369123816490e-01;  // fdlibm split of ln 2
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kInvLn2 = 1.44269504088896338700e+00;
constexpr double kSqrtHalf = 0.70710678118654752440;
constexpr double kTwoOverPi = 6.36619772367581382433e-01;
constexpr double kPio2_1 = 1.57079632673412561417e+00;  // fdlibm three-part pi/2
constexpr double kPio2_2 = 6.07710050630396597660e-11;
constexpr double kPio2_3 = 2.02226624879595063154e-21;

constexpr std::array<double, 18> make_inverse_factorials() {
  std::array<double, 18> f{};
  double v = 1.0;
  for (size_t n = 0; n < f.size(); ++n) {
    if (n > 0) v /= static_cast<double>(n);
    f[n] = v;
  }
  return f;
}
constexpr auto kInvFact = make_inverse_factorials();

constexpr std::array<double, 26> make_inverses() {
  std::array<double, 26> f{};
  for (size_t n = 1; n < f.size(); ++n) f[n] = 1.0 / static_cast<double>(n);
  return f;
}
constexpr auto kInv = make_inverses();

double det_exp(double x) {
  if (x < -700.0) return 0.0;
  if (x > 700.0) x = 700.0;
  const double k = std::floor(x * kInvLn2 + 0.5);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;  // |r| <= ln2 / 2
  double p = kInvFact[14];
  for (int n = 13; n >= 0; --n) p = p * r + kInvFact[static_cast<size_t>(n)];
  return std::ldexp(p, static_cast<int>(k));
}

// x > 0 and finite.
double det_log(double x) {
  int e = 0;
  double m = std::frexp(x, &e);  // x = m * 2^e, m in [0.5, 1)
  if (m < kSqrtHalf) {
    m *= 2.0;
    --e;
  }
  const double s = (m - 1.0) / (m + 1.0);  // |s| <= 0.1716
  const double z = s * s;
  double p = kInv[25];
  for (int n = 23; n >= 1; n -= 2) p = p * z + kInv[static_cast<size_t>(n)];
  const double de = e;
  return de * kLn2Hi + (de * kLn2Lo + 2.0 * s * p);
}

double det_pow(double x, double y) { return det_exp(y * det_log(x)); }

// For moderate |x| (the generator only needs [-pi, 2 pi]).
void det_sincos(double x, double& sin_out, double& cos_out) {
  const double q = std::floor(x * kTwoOverPi + 0.5);
  const double r = ((x - q * kPio2_1) - q * kPio2_2) - q * kPio2_3;  // |r| <= pi / 4
  const double z = r * r;
  double sp = kInvFact[17];  // sin: r - r^3/3! + ... + r^17/17!
  double cp = kInvFact[16];  // cos: 1 - r^2/2! + ... + r^16/16!
  for (int n = 15; n >= 1; n -= 2) sp = kInvFact[static_cast<size_t>(n)] - z * sp;
  for (int n = 14; n >= 0; n -= 2) cp = kInvFact[static_cast<size_t>(n)] - z * cp;
  const double sr = r * sp, cr = cp;
  switch (static_cast<int64_t>(q) & 3) {
    case 0:
      sin_out = sr;
      cos_out = cr;
      break;
    case 1:
      sin_out = cr;
      cos_out = -sr;
      break;
    case 2:
      sin_out = -sr;
      cos_out = -cr;
      break;
    default:
      sin_out = -cr;
      cos_out = sr;
      break;
  }
}

double det_cos(double x) {
  double s = 0, c = 0;
  det_sincos(x, s, c);
  return c;
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (const char c : s) {
    h ^= static_cast<uint64_t>(static_cast<unsigned char>(c));
    h *= 0x100000001B3ULL;
  }
  return h;
}

// xoshiro256** seeded through splitmix64 from (seed, entity hash, table tag).
class Rng {
 public:
  Rng(uint64_t seed, uint64_t entity, uint64_t tag) : core_(derive(seed, entity, tag)) {}

  uint64_t next() { return core_.next(); }

  // [0, 1) with 53 random bits.
  double uniform() { return core_.uniform(); }
  double uniform(double a, double b) { return a + (b - a) * uniform(); }
  // Integer in [lo, hi] (inclusive) by modulo, not insight::Rng::below (another mapping of the
  // same stream: the tables would change); the bias is negligible for the small ranges used.
  int64_t range(int64_t lo, int64_t hi) {
    const uint64_t n = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(next() % n);
  }
  size_t index(size_t n) { return static_cast<size_t>(next() % static_cast<uint64_t>(n)); }

  // Standard normal by Box-Muller; the second value of each pair is kept for the next call.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * det_log(u1));
    double s = 0, c = 0;
    det_sincos(2.0 * kPi * u2, s, c);
    spare_ = r * s;
    has_spare_ = true;
    return r * c;
  }

  // Knuth's multiplication method for small lambda, a rounded normal approximation above 30.
  double poisson(double lambda) {
    if (!(lambda > 0.0)) return 0.0;
    if (lambda < 30.0) return knuth_poisson(det_exp(-lambda));
    return std::max(0.0, std::round(lambda + std::sqrt(lambda) * normal()));
  }
  // Knuth's method with exp(-lambda) precomputed by the caller (hot loops).
  double knuth_poisson(double exp_neg_lambda) {
    int k = 0;
    double p = uniform();
    while (p > exp_neg_lambda) {
      ++k;
      p *= uniform();
    }
    return k;
  }

 private:
  static insight::Rng derive(uint64_t seed, uint64_t entity, uint64_t tag) {
    uint64_t x = seed;
    x = insight::Rng::splitmix64(x) ^ entity;
    x = insight::Rng::splitmix64(x) ^ (tag * 0xD1B54A32D192ED03ULL);
    const uint64_t s0 = insight::Rng::splitmix64(x), s1 = insight::Rng::splitmix64(x),
                   s2 = insight::Rng::splitmix64(x), s3 = insight::Rng::splitmix64(x);
    return insight::Rng(s0, s1, s2, s3);
  }

  insight::Rng core_;  // the shared xoshiro256** step (core/common/random.hpp)
  double spare_ = 0.0;
  bool has_spare_ = false;
};

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }
int64_t align_down(int64_t t, int64_t step) { return floor_div(t, step) * step; }
int64_t align_up(int64_t t, int64_t step) { return -floor_div(-t, step) * step; }

double round_to(double x, double scale) { return std::round(x * scale) / scale; }
double round2(double x) { return round_to(x, 100.0); }
double clampd(double x, double lo, double hi) { return std::min(hi, std::max(lo, x)); }

std::string pad(int64_t n, int width) {
  std::string s = std::to_string(n);
  if (static_cast<int>(s.size()) < width) s.insert(0, static_cast<size_t>(width) - s.size(), '0');
  return s;
}

// Monday = 0 ... Sunday = 6 for a UTC day number (1970-01-01 was a Thursday).
int weekday_of_day(int64_t day) { return static_cast<int>(floor_mod(day + 3, 7)); }

// 0 at 03:00 UTC, 1 at 15:00 UTC: the diurnal load shape of the network and its sites.
double diurnal_shape(int64_t second_of_day) {
  const double h = static_cast<double>(second_of_day) / static_cast<double>(kHour);
  return 0.5 - 0.5 * det_cos(2.0 * kPi * (h - 3.0) / 24.0);
}

// ===================================================================================
// Static content.
// ===================================================================================

constexpr int kCategories = 8;
constexpr int kProductsPerCategory = 25;
constexpr int kUsers = 1000;
constexpr int kNetworks = 4;
constexpr int kSatellites = 4;
constexpr int kHubsPerNetwork = 2;

constexpr double kBaseDailyTransactions = 450.0;
constexpr double kTrendPerDay = 0.008;
constexpr double kPromoVolume = 2.5;
constexpr double kPromoDiscount = 0.20;
constexpr double kFavouriteShare = 0.75;

const std::array<const char*, kCategories> kCategoryNames = {
    "electronics", "books", "home", "garden", "toys", "sports", "beauty", "grocery"};
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

const std::array<const char*, kNetworks> kNetworkNames = {"Enterprise Americas", "Maritime Fleet",
                                                          "Energy & Mining", "Rural Broadband"};
const std::array<const char*, kNetworks> kRemoteNoun = {"Branch Office", "Vessel", "Well Site",
                                                        "Village Hub"};
const std::array<const char*, kNetworks* kHubsPerNetwork> kHubNames = {
    "Denver Teleport",  "Atlanta Teleport", "Rotterdam Teleport", "Singapore Teleport",
    "Houston Teleport", "Perth Teleport",   "Nairobi Teleport",   "Lima Teleport"};
const std::array<const char*, kSatellites> kSatelliteNames = {"SAT-ALPHA", "SAT-BRAVO",
                                                              "SAT-CHARLIE", "SAT-DELTA"};

// ===================================================================================
// Private world state.
// ===================================================================================

enum class FxType : uint8_t { kEquipment, kAlignment, kInterference, kMisalignment, kSpike };
enum class Metric : uint8_t {
  kNone,
  kThroughput,
  kLatency,
  kErrors,
  kJitter,
  kCpu,
  kResponseTime,
  kMemory,
  kConnections
};

// One fault's effect on one entity. Faults never overlap on an entity, so at most one Effect
// is active per entity at any time.
struct Effect {
  int64_t start = 0, end = 0;
  FxType type = FxType::kSpike;
  Metric metric = Metric::kNone;
  double a = 0, b = 0, c = 0, d = 0;
  int64_t period = 0;
};

struct LinkParams {
  uint64_t hash = 0;
  size_t network = 0, antenna = 0, remote_site = 0, satellite = 0;
  double capacity = 0, util_night = 0, util_peak = 0;
  double ib_base = 0, ob_base = 0, latency_base = 0, jitter_base = 0, loss_base = 0;
};
struct SiteParams {
  uint64_t hash = 0;
  double rt_base = 0, err_base = 0, cpu_low = 0, cpu_high = 0, mem_mean = 0;
};
struct NetParams {
  uint64_t hash = 0;
  double loss_base = 0, latency_base = 0, err_base = 0, conn_low = 0, conn_high = 0;
  double bw_night = 0, bw_swing = 0;  // sums over the network's links of capacity x utilization
};
struct UserProfile {
  int nfav = 1;
  std::array<int, 3> fav{};
  std::array<double, 3> fav_cum{};  // cumulative weights over fav[0..nfav)
  std::array<bool, kCategories> is_fav{};
};
struct Promo {
  int64_t start = 0, end = 0;
  int category = 0;
};

struct WorldData {
  // commerce
  std::vector<std::string> user_ids;
  std::vector<UserProfile> users;
  std::vector<double> user_cum;  // cumulative activity
  std::array<std::array<double, kProductsPerCategory>, kCategories> product_cum{};
  std::array<double, kCategories> category_share{};
  std::vector<Promo> promos;
  // topology indexes
  std::vector<std::vector<size_t>> net_links, antenna_links, sat_links, net_hubs;
  std::vector<size_t> antenna_sat, antenna_hub;
  // telemetry parameters and fault effects
  std::vector<LinkParams> links;
  std::vector<SiteParams> sites;
  std::vector<NetParams> nets;
  std::vector<std::vector<Effect>> link_fx, site_fx, net_fx;
};

const Effect* active_effect(const std::vector<Effect>& fx, size_t& cursor, int64_t ts) {
  while (cursor < fx.size() && fx[cursor].end <= ts) ++cursor;
  if (cursor < fx.size() && fx[cursor].start <= ts) return &fx[cursor];
  return nullptr;
}

// ===================================================================================
// Fault scheduling.
// ===================================================================================

enum class Kind : uint8_t { kEquipment, kAlignment, kInterference, kMisalignment, kSpike };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kEquipment:
      return "equipment_failure";
    case Kind::kAlignment:
      return "antenna_alignment";
    case Kind::kInterference:
      return "satellite_interference";
    case Kind::kMisalignment:
      return "antenna_misalignment";
    case Kind::kSpike:
      break;
  }
  return "metric_spike";
}

const char* metric_name(Metric m) {
  switch (m) {
    case Metric::kThroughput:
      return "throughput_mbps";
    case Metric::kLatency:
      return "latency_ms";
    case Metric::kErrors:
      return "errors";
    case Metric::kJitter:
      return "jitter_ms";
    case Metric::kCpu:
      return "cpu_pct";
    case Metric::kResponseTime:
      return "response_time_ms";
    case Metric::kMemory:
      return "memory_pct";
    case Metric::kConnections:
      return "connections";
    case Metric::kNone:
      break;
  }
  return "";
}

constexpr int kSiteKeyBase = 100000;
constexpr int kNetKeyBase = 200000;

// A chosen fault before it is turned into a Fault and Effects.
struct Plan {
  Kind kind = Kind::kSpike;
  char spike_scope = 'l';  // 'l'ink, 's'ite, 'n'etwork for metric spikes
  Metric metric = Metric::kNone;
  size_t entity = 0;
  int64_t start = 0, end = 0;
  std::vector<size_t> links, sites;
  std::vector<int> keys;  // sorted entity keys, for the overlap check
};

// Which entities are busy when; bucketed by day so the check stays cheap for 10 years.
class Occupancy {
 public:
  Occupancy(int64_t origin, int64_t end, int64_t gap)
      : origin_(origin - gap - kDay),
        gap_(gap),
        buckets_(static_cast<size_t>(floor_div(end + gap + kDay - origin_, kDay) + 1)) {}

  bool is_free(int64_t s, int64_t e, const std::vector<int>& keys) const {
    const auto [b0, b1] = bucket_range(s, e);
    for (size_t b = b0; b <= b1; ++b) {
      for (const size_t idx : buckets_[b]) {
        const Item& it = items_[idx];
        if (it.s < e + gap_ && s - gap_ < it.e && intersects(it.keys, keys)) return false;
      }
    }
    return true;
  }

  void add(int64_t s, int64_t e, std::vector<int> keys) {
    const auto [b0, b1] = bucket_range(s, e);
    for (size_t b = b0; b <= b1; ++b) buckets_[b].push_back(items_.size());
    items_.push_back(Item{s, e, std::move(keys)});
  }

 private:
  struct Item {
    int64_t s, e;
    std::vector<int> keys;
  };

  std::pair<size_t, size_t> bucket_range(int64_t s, int64_t e) const {
    const int64_t last = static_cast<int64_t>(buckets_.size()) - 1;
    const int64_t b0 = std::clamp<int64_t>(floor_div(s - gap_ - origin_, kDay), 0, last);
    const int64_t b1 = std::clamp<int64_t>(floor_div(e + gap_ - origin_, kDay), 0, last);
    return {static_cast<size_t>(b0), static_cast<size_t>(b1)};
  }

  static bool intersects(const std::vector<int>& a, const std::vector<int>& b) {
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
      if (a[i] == b[j]) return true;
      if (a[i] < b[j]) {
        ++i;
      } else {
        ++j;
      }
    }
    return false;
  }

  int64_t origin_, gap_;
  std::vector<std::vector<size_t>> buckets_;
  std::vector<Item> items_;
};

class FaultScheduler {
 public:
  FaultScheduler(const DemoConfig& cfg, int64_t start, int64_t end, WorldData& w,
                 const std::vector<Network>& networks, const std::vector<Site>& sites,
                 const std::vector<HubAntenna>& antennas, const std::vector<Link>& links,
                 std::vector<Fault>& out)
      : step_(cfg.step_seconds),
        start_(start),
        end_(end),
        rng_(cfg.seed, fnv1a("faults"), kTagFaults),
        occ_(start, end, kHour),
        w_(w),
        networks_(networks),
        sites_(sites),
        antennas_(antennas),
        links_(links),
        out_(out) {}

  void run(int days) {
    const int per_kind = std::max(2, days / 5);
    const int64_t spikes_total = 4 * static_cast<int64_t>(days);
    const int64_t last_lo = std::max(start_, end_ - kDay);
    const int64_t last_hi = end_ - step_;  // faults in the last day end before end_epoch
    const bool has_earlier = last_lo > start_;
    const int64_t early_lo = start_, early_hi = has_earlier ? last_lo : last_hi;
    const std::array<Kind, 4> kinds = {Kind::kEquipment, Kind::kInterference, Kind::kAlignment,
                                       Kind::kMisalignment};
    // The last 24 hours: one of each root cause and four spikes.
    for (const Kind k : kinds) place(k, last_lo, last_hi, last_lo, last_hi);
    const int64_t last_spikes = std::min<int64_t>(4, spikes_total);
    for (int64_t i = 0; i < last_spikes; ++i)
      place(Kind::kSpike, last_lo, last_hi, last_lo, last_hi);
    // The rest spread evenly over the earlier period (the same day when days == 1).
    const int64_t span = early_hi - early_lo;
    for (const Kind k : kinds) {
      const int n = per_kind - 1;
      for (int j = 0; j < n; ++j) {
        const int64_t lo = align_up(early_lo + span * j / n, step_);
        const int64_t hi = align_down(early_lo + span * (j + 1) / n, step_);
        place(k, lo, hi, early_lo, early_hi);
      }
    }
    const int64_t n_spikes = spikes_total - last_spikes;
    for (int64_t j = 0; j < n_spikes; ++j) {
      const int64_t lo = align_up(early_lo + span * j / n_spikes, step_);
      const int64_t hi = align_down(early_lo + span * (j + 1) / n_spikes, step_);
      place(Kind::kSpike, lo, hi, early_lo, early_hi);
    }
  }

 private:
  int64_t duration(double lo_s, double hi_s, int64_t window) {
    int64_t d = std::llround(rng_.uniform(lo_s, hi_s) / static_cast<double>(step_)) * step_;
    d = std::min(d, align_down(window * 3 / 4, step_));
    return std::max<int64_t>(d, step_);
  }

  bool pick_start(int64_t lo, int64_t hi, int64_t dur, int64_t& s) {
    const int64_t latest = hi - dur;
    if (latest < lo) return false;
    s = lo + rng_.range(0, (latest - lo) / step_) * step_;
    return true;
  }

  bool make_plan(Kind kind, int64_t lo, int64_t hi, Plan& p) {
    p = Plan{};
    p.kind = kind;
    const int64_t window = hi - lo;
    if (window < step_) return false;
    int64_t dur = 0;
    switch (kind) {
      case Kind::kEquipment: {
        dur = duration(1.0 * kHour, 3.0 * kHour, window);
        p.entity = rng_.index(networks_.size());
        const auto& nl = w_.net_links[p.entity];
        std::vector<size_t> pool = nl;
        shuffle(pool);
        const size_t want = static_cast<size_t>(
            std::llround(static_cast<double>(nl.size()) * rng_.uniform(0.6, 0.9)));
        // One link on every antenna of the network first, then random others.
        std::vector<bool> antenna_done(antennas_.size(), false);
        std::vector<bool> taken(links_.size(), false);
        for (const size_t l : pool) {
          const size_t a = w_.links[l].antenna;
          if (!antenna_done[a]) {
            antenna_done[a] = true;
            taken[l] = true;
            p.links.push_back(l);
          }
        }
        for (const size_t l : pool) {
          if (p.links.size() >= want) break;
          if (!taken[l]) {
            taken[l] = true;
            p.links.push_back(l);
          }
        }
        std::sort(p.links.begin(), p.links.end());
        p.sites = w_.net_hubs[p.entity];
        for (const size_t l : p.links) p.sites.push_back(w_.links[l].remote_site);
        std::sort(p.sites.begin(), p.sites.end());
        break;
      }
      case Kind::kAlignment:
        dur = duration(3.0 * kHour, 8.0 * kHour, window);
        p.entity = rng_.index(antennas_.size());
        p.links = w_.antenna_links[p.entity];
        break;
      case Kind::kInterference: {
        dur = duration(2.0 * kHour, 6.0 * kHour, window);
        p.entity = rng_.index(kSatellites);
        std::vector<size_t> pool = w_.sat_links[p.entity];
        shuffle(pool);
        const size_t want = static_cast<size_t>(
            std::llround(static_cast<double>(pool.size()) * rng_.uniform(0.5, 0.8)));
        p.links.assign(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(want));
        std::vector<size_t> ants, hubs;
        for (const size_t l : p.links) {
          ants.push_back(w_.links[l].antenna);
          hubs.push_back(w_.antenna_hub[w_.links[l].antenna]);
        }
        std::sort(ants.begin(), ants.end());
        std::sort(hubs.begin(), hubs.end());
        if (std::unique(ants.begin(), ants.end()) - ants.begin() < 2 ||
            std::unique(hubs.begin(), hubs.end()) - hubs.begin() < 2) {
          return false;
        }
        std::sort(p.links.begin(), p.links.end());
        break;
      }
      case Kind::kMisalignment:
        dur = duration(4.0 * kHour, 24.0 * kHour, window);
        p.entity = rng_.index(links_.size());
        p.links = {p.entity};
        break;
      case Kind::kSpike: {
        dur = std::min<int64_t>(rng_.range(1, 3), std::max<int64_t>(1, window / step_)) * step_;
        const double u = rng_.uniform();
        if (u < 0.5) {
          p.spike_scope = 'l';
          static constexpr std::array<Metric, 4> kLinkMetrics = {
              Metric::kThroughput, Metric::kLatency, Metric::kErrors, Metric::kJitter};
          p.metric = kLinkMetrics[rng_.index(kLinkMetrics.size())];
          p.entity = rng_.index(links_.size());
          p.links = {p.entity};
        } else if (u < 0.8) {
          p.spike_scope = 's';
          static constexpr std::array<Metric, 3> kSiteMetrics = {
              Metric::kCpu, Metric::kResponseTime, Metric::kMemory};
          p.metric = kSiteMetrics[rng_.index(kSiteMetrics.size())];
          p.entity = rng_.index(sites_.size());
          p.sites = {p.entity};
        } else {
          p.spike_scope = 'n';
          p.metric = rng_.uniform() < 0.5 ? Metric::kLatency : Metric::kConnections;
          p.entity = rng_.index(networks_.size());
        }
        break;
      }
    }
    if (!pick_start(lo, hi, dur, p.start)) return false;
    if (p.kind == Kind::kSpike && p.metric == Metric::kThroughput) {
      // Throughput spikes go into the quiet early-morning hours so that x3-5 stays under the
      // link capacity.
      p.start =
          floor_div(p.start, kDay) * kDay + rng_.range(kHour / step_, 5 * kHour / step_) * step_;
      if (p.start < lo || p.start + dur > hi) return false;
    }
    p.end = p.start + dur;
    for (const size_t l : p.links) p.keys.push_back(static_cast<int>(l));
    for (const size_t s : p.sites) p.keys.push_back(kSiteKeyBase + static_cast<int>(s));
    if (p.kind == Kind::kEquipment || (p.kind == Kind::kSpike && p.spike_scope == 'n')) {
      p.keys.push_back(kNetKeyBase + static_cast<int>(p.entity));
    }
    std::sort(p.keys.begin(), p.keys.end());
    return true;
  }

  void shuffle(std::vector<size_t>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng_.index(i)]);
  }

  // Tries the preferred window first, then the fallback; faults never overlap (with an hour
  // of margin) on any link, site or network they touch.
  void place(Kind kind, int64_t lo, int64_t hi, int64_t fb_lo, int64_t fb_hi) {
    Plan p;
    for (int attempt = 0; attempt < 600; ++attempt) {
      const bool preferred = attempt < 200;
      if (!make_plan(kind, preferred ? lo : fb_lo, preferred ? hi : fb_hi, p)) continue;
      if (!occ_.is_free(p.start, p.end, p.keys)) continue;
      occ_.add(p.start, p.end, p.keys);
      commit(p);
      return;
    }
  }

  std::string link_list_note(size_t n) const {
    return std::to_string(n) + (n == 1 ? " link" : " links");
  }

  void commit(const Plan& p) {
    Fault f{};
    f.kind = kind_name(p.kind);
    f.started_at = p.start;
    f.ended_at = p.end;
    for (const size_t l : p.links) f.affected_links.push_back(links_[l].link_id);
    for (const size_t s : p.sites) f.affected_sites.push_back(sites_[s].site_id);
    Effect base{};
    base.start = p.start;
    base.end = p.end;
    switch (p.kind) {
      case Kind::kEquipment: {
        const Network& net = networks_[p.entity];
        f.scope = "network";
        f.scope_id = net.network_id;
        base.type = FxType::kEquipment;
        for (const size_t l : p.links) {
          Effect e = base;
          e.a = rng_.uniform(5.0, 15.0);   // inbound packet loss, added points
          e.b = rng_.uniform(5.0, 15.0);   // outbound packet loss, added points
          e.c = rng_.uniform(75.0, 90.0);  // uptime centre
          w_.link_fx[l].push_back(e);
        }
        for (const size_t s : p.sites) {
          Effect e = base;
          e.a = rng_.uniform(4.0, 12.0);  // error rate, added points
          e.b = rng_.uniform(2.5, 4.0);   // response time factor
          w_.site_fx[s].push_back(e);
        }
        const double frac = static_cast<double>(p.links.size()) /
                            static_cast<double>(w_.net_links[p.entity].size());
        Effect e = base;
        e.a = rng_.uniform(4.0, 10.0);  // packet loss, added points
        e.b = rng_.uniform(3.0, 8.0);   // error rate, added points
        e.c = 1.0 - 0.6 * frac;         // bandwidth factor
        e.d = rng_.uniform(0.4, 0.6);   // connections factor
        w_.net_fx[p.entity].push_back(e);
        f.notes = "Equipment failure in network " + net.network_id + " (" + net.name +
                  "): " + std::to_string(p.links.size()) + " of " +
                  std::to_string(w_.net_links[p.entity].size()) +
                  " links degraded with packet loss and errors up and throughput down";
        break;
      }
      case Kind::kAlignment: {
        const HubAntenna& ant = antennas_[p.entity];
        f.scope = "hub_antenna";
        f.scope_id = ant.antenna_id;
        base.type = FxType::kAlignment;
        base.period = std::max<int64_t>(
            step_, std::llround(rng_.uniform(600.0, 1200.0) / static_cast<double>(step_)) * step_);
        for (const size_t l : p.links) {
          Effect e = base;
          e.a = clampd(w_.links[l].ib_base - rng_.uniform(5.8, 6.8), 2.0, 5.0);
          e.b = rng_.uniform(0.5, 1.5);
          w_.link_fx[l].push_back(e);
        }
        f.notes = "Hub antenna " + ant.antenna_id +
                  " out of alignment: inbound Es/No oscillating on " +
                  link_list_note(p.links.size());
        break;
      }
      case Kind::kInterference: {
        const std::string& sat = kSatelliteNames[p.entity];
        f.scope = "satellite";
        f.scope_id = sat;
        base.type = FxType::kInterference;
        std::vector<size_t> ants;
        for (const size_t l : p.links) {
          Effect e = base;
          e.a = clampd(w_.links[l].ib_base - rng_.uniform(5.5, 7.0), 3.0, 6.0);
          e.b = clampd(w_.links[l].ob_base - rng_.uniform(5.5, 7.0), 3.0, 6.0);
          e.c = rng_.uniform(0.5, 0.75);
          w_.link_fx[l].push_back(e);
          ants.push_back(w_.links[l].antenna);
        }
        std::sort(ants.begin(), ants.end());
        const auto n_ants = std::unique(ants.begin(), ants.end()) - ants.begin();
        f.notes = "Interference on satellite " + sat + ": inbound and outbound Es/No down on " +
                  link_list_note(p.links.size()) + " across " + std::to_string(n_ants) +
                  " hub antennas";
        break;
      }
      case Kind::kMisalignment: {
        const Link& lk = links_[p.entity];
        const LinkParams& lp = w_.links[p.entity];
        f.scope = "link";
        f.scope_id = lk.link_id;
        Effect e = base;
        e.type = FxType::kMisalignment;
        e.a = clampd(lp.ib_base - rng_.uniform(6.0, 7.2), 3.0, 5.0);
        e.b = clampd(lp.ob_base - rng_.uniform(6.0, 7.2), 3.0, 5.0);
        w_.link_fx[p.entity].push_back(e);
        f.notes = "Remote antenna at " + lk.remote_site_id + " misaligned: link " + lk.link_id +
                  " inbound and outbound Es/No down about " +
                  std::to_string(std::llround((e.a + e.b) / 2.0)) + " dB";
        break;
      }
      case Kind::kSpike: {
        f.metric = metric_name(p.metric);
        Effect e = base;
        e.type = FxType::kSpike;
        e.metric = p.metric;
        std::string what;
        switch (p.metric) {
          case Metric::kThroughput:
          case Metric::kResponseTime:
          case Metric::kConnections:
            e.a = rng_.uniform(3.0, 5.0);  // factor
            what = "about " + std::to_string(std::llround(e.a)) + "x normal";
            break;
          case Metric::kJitter:
            e.a = rng_.uniform(4.0, 6.0);
            what = "about " + std::to_string(std::llround(e.a)) + "x normal";
            break;
          case Metric::kLatency:
            e.a = rng_.uniform(700.0, 900.0);  // added ms
            what = "+" + std::to_string(std::llround(e.a)) + " ms";
            break;
          case Metric::kErrors:
            e.a = rng_.uniform(30.0, 60.0);  // added errors per sample
            what = "+" + std::to_string(std::llround(e.a)) + " errors per sample";
            break;
          case Metric::kCpu:
            e.a = rng_.uniform(97.0, 99.0);  // value
            what = "up to " + std::to_string(std::llround(e.a)) + "%";
            break;
          case Metric::kMemory:
            e.a = rng_.uniform(96.0, 99.0);
            what = "up to " + std::to_string(std::llround(e.a)) + "%";
            break;
          case Metric::kNone:
            break;
        }
        std::string target;
        if (p.spike_scope == 'l') {
          f.scope = "link";
          f.scope_id = links_[p.entity].link_id;
          w_.link_fx[p.entity].push_back(e);
        } else if (p.spike_scope == 's') {
          f.scope = "site";
          f.scope_id = sites_[p.entity].site_id;
          w_.site_fx[p.entity].push_back(e);
        } else {
          f.scope = "network";
          f.scope_id = networks_[p.entity].network_id;
          w_.net_fx[p.entity].push_back(e);
        }
        f.notes = "Isolated spike in " + f.metric + " on " + f.scope + " " + f.scope_id + " (" +
                  what + ")";
        break;
      }
    }
    if (p.kind != Kind::kSpike) f.root_cause = f.kind;
    out_.push_back(std::move(f));
  }

  int64_t step_, start_, end_;
  Rng rng_;
  Occupancy occ_;
  WorldData& w_;
  const std::vector<Network>& networks_;
  const std::vector<Site>& sites_;
  const std::vector<HubAntenna>& antennas_;
  const std::vector<Link>& links_;
  std::vector<Fault>& out_;
};

}  // namespace

struct DemoWorld::Impl : WorldData {};

// ===================================================================================
// Construction.
// ===================================================================================

DemoWorld::DemoWorld(const DemoConfig& config) : config_(config) {
  if (config.days < 1 || config.days > 3650) {
    throw InvalidParameter("demo days must be between 1 and 3650",
                           "days = " + std::to_string(config.days),
                           "Pass a number of days from 1 to 3650.");
  }
  if (config.step_seconds != 60 && config.step_seconds != 300) {
    throw InvalidParameter("demo step_seconds must be 60 or 300",
                           "step_seconds = " + std::to_string(config.step_seconds),
                           "Use 300 (5-minute samples) or 60 (1-minute samples).");
  }
  if (config.remotes_per_network < 1 || config.remotes_per_network > 2500) {
    throw InvalidParameter("demo remotes_per_network must be between 1 and 2500",
                           "remotes_per_network = " + std::to_string(config.remotes_per_network),
                           "The default topology has 55 remote sites per network.");
  }
  if (config.end_epoch <= 0 || config.end_epoch > kMaxEndEpoch) {
    throw InvalidParameter("demo end time must be a positive Unix timestamp",
                           "end_epoch = " + std::to_string(config.end_epoch),
                           "Pass the end of the demo period in Unix seconds (UTC), e.g. now().");
  }
  const int64_t step = config.step_seconds;
  const uint64_t seed = config.seed;
  end_ = align_down(config.end_epoch, step);
  start_ = end_ - static_cast<int64_t>(config.days) * kDay;

  auto impl = std::make_shared<Impl>();
  Impl& w = *impl;

  // ---- catalog ----
  products_.reserve(kCategories * kProductsPerCategory);
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
      products_.push_back(std::move(p));
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
    int64_t day = floor_div(start_, kDay) + rng.range(2, 8);
    int last_cat = -1;
    while (day * kDay < end_) {
      const int64_t len = rng.range(1, 2);
      int cat = static_cast<int>(rng.range(0, kCategories - 1));
      if (cat == last_cat) cat = (cat + 1) % kCategories;
      last_cat = cat;
      const int64_t s = std::max(day * kDay, start_);
      const int64_t e = std::min((day + len) * kDay, end_);
      if (s < e) w.promos.push_back(Promo{s, e, cat});
      day += len + rng.range(6, 9);
    }
  }

  // ---- topology ----
  for (int s = 0; s < kSatellites; ++s)
    satellites_.push_back(Satellite{kSatelliteNames[static_cast<size_t>(s)]});
  w.net_links.resize(kNetworks);
  w.net_hubs.resize(kNetworks);
  w.sat_links.resize(kSatellites);
  for (int n = 0; n < kNetworks; ++n) {
    const auto ns = static_cast<size_t>(n);
    const std::string nn = pad(n + 1, 2);
    networks_.push_back(Network{"net-" + nn, kNetworkNames[ns]});
    std::vector<size_t> net_antennas;
    for (int h = 0; h < kHubsPerNetwork; ++h) {
      const std::string letter(1, static_cast<char>('a' + h));
      const std::string hub_id = "hub-" + nn + "-" + letter;
      const int global_hub = n * kHubsPerNetwork + h;
      w.net_hubs[ns].push_back(sites_.size());
      sites_.push_back(Site{hub_id, networks_.back().network_id, "hub",
                            kHubNames[static_cast<size_t>(global_hub)]});
      // Each hub has kSatellites - 1 antennas: it serves all satellites but one, skipping a
      // different one per hub.
      int k = 0;
      for (int sat = 0; sat < kSatellites; ++sat) {
        if (sat == global_hub % kSatellites) continue;
        ++k;
        net_antennas.push_back(hub_antennas_.size());
        w.antenna_sat.push_back(static_cast<size_t>(sat));
        w.antenna_hub.push_back(sites_.size() - 1);
        hub_antennas_.push_back(HubAntenna{"ant-" + nn + "-" + letter + "-" + std::to_string(k),
                                           hub_id, kSatelliteNames[static_cast<size_t>(sat)]});
      }
    }
    for (int r = 0; r < config.remotes_per_network; ++r) {
      const std::string rr = pad(r + 1, 3);
      const size_t site_index = sites_.size();
      sites_.push_back(Site{"rs-" + nn + "-" + rr, networks_.back().network_id, "remote",
                            std::string(kRemoteNoun[ns]) + " " + nn + "-" + rr});
      const size_t ant = net_antennas[static_cast<size_t>(r) % net_antennas.size()];
      Link lk{"lk-" + nn + "-" + rr, networks_.back().network_id, hub_antennas_[ant].antenna_id,
              sites_.back().site_id, hub_antennas_[ant].satellite_name};
      LinkParams lp{};
      lp.hash = fnv1a(lk.link_id);
      lp.network = ns;
      lp.antenna = ant;
      lp.remote_site = site_index;
      lp.satellite = w.antenna_sat[ant];
      w.net_links[ns].push_back(links_.size());
      w.sat_links[lp.satellite].push_back(links_.size());
      links_.push_back(std::move(lk));
      w.links.push_back(lp);
    }
  }
  w.antenna_links.resize(hub_antennas_.size());
  for (size_t l = 0; l < links_.size(); ++l) w.antenna_links[w.links[l].antenna].push_back(l);

  // ---- telemetry parameters ----
  for (LinkParams& lp : w.links) {
    Rng rng(seed, lp.hash, kTagLinkParams);
    lp.capacity = rng.uniform(10.0, 50.0);
    lp.util_night = rng.uniform(0.10, 0.20);
    lp.util_peak = rng.uniform(0.50, 0.70);
    // Narrower than "9-13 / 10-14 dB" so that every link's baseline grade is above 8 and a
    // 3-5 dB fade takes it below 7 (grade = 2 + 0.6 * Es/No).
    lp.ib_base = rng.uniform(10.8, 12.2);
    lp.ob_base = rng.uniform(11.0, 12.5);
    lp.latency_base = rng.uniform(560.0, 620.0);
    lp.jitter_base = rng.uniform(3.0, 12.0);
    lp.loss_base = rng.uniform(0.03, 0.07);
  }
  w.sites.resize(sites_.size());
  for (size_t s = 0; s < sites_.size(); ++s) {
    SiteParams& sp = w.sites[s];
    sp.hash = fnv1a(sites_[s].site_id);
    Rng rng(seed, sp.hash, kTagSiteParams);
    sp.rt_base = rng.uniform(40.0, 75.0);
    sp.err_base = rng.uniform(0.2, 0.8);
    sp.cpu_low = rng.uniform(18.0, 30.0);
    sp.cpu_high = rng.uniform(45.0, 60.0);
    sp.mem_mean = rng.uniform(46.0, 64.0);
  }
  w.nets.resize(networks_.size());
  for (size_t n = 0; n < networks_.size(); ++n) {
    NetParams& np = w.nets[n];
    np.hash = fnv1a(networks_[n].network_id);
    Rng rng(seed, np.hash, kTagNetParams);
    np.loss_base = rng.uniform(0.06, 0.14);
    np.latency_base = rng.uniform(590.0, 610.0);
    np.err_base = rng.uniform(0.35, 0.65);
    np.conn_low = rng.uniform(180.0, 240.0);
    np.conn_high = rng.uniform(700.0, 820.0);
    for (const size_t l : w.net_links[n]) {
      const LinkParams& lp = w.links[l];
      np.bw_night += lp.capacity * lp.util_night;
      np.bw_swing += lp.capacity * (lp.util_peak - lp.util_night);
    }
  }

  // ---- faults ----
  w.link_fx.resize(links_.size());
  w.site_fx.resize(sites_.size());
  w.net_fx.resize(networks_.size());
  FaultScheduler(config, start_, end_, w, networks_, sites_, hub_antennas_, links_, faults_)
      .run(config.days);
  for (const Promo& p : w.promos) {
    Fault f{};
    f.kind = "promotion";
    f.scope = "category";
    f.scope_id = kCategoryNames[static_cast<size_t>(p.category)];
    f.started_at = p.start;
    f.ended_at = p.end;
    f.notes = "Promotion on " + f.scope_id + ": 20% off, about 2.5x the usual volume";
    faults_.push_back(std::move(f));
  }
  std::sort(faults_.begin(), faults_.end(), [](const Fault& a, const Fault& b) {
    if (a.started_at != b.started_at) return a.started_at < b.started_at;
    if (a.kind != b.kind) return a.kind < b.kind;
    if (a.scope_id != b.scope_id) return a.scope_id < b.scope_id;
    return a.metric < b.metric;
  });
  for (size_t i = 0; i < faults_.size(); ++i) faults_[i].fault_id = static_cast<int64_t>(i) + 1;
  auto by_start = [](const Effect& a, const Effect& b) { return a.start < b.start; };
  for (auto* fx : {&w.link_fx, &w.site_fx, &w.net_fx}) {
    for (auto& v : *fx) std::sort(v.begin(), v.end(), by_start);
  }

  impl_ = std::move(impl);
}

// ===================================================================================
// Transactions.
// ===================================================================================

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
  uint64_t counter = 0;

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
    const int64_t n_base = std::llround(kBaseDailyTransactions *
                                        kWeekdayFactor[static_cast<size_t>(weekday_of_day(day))] *
                                        trend * (1.0 + noise));
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
      if ((counter++ & kPollMask) == 0) poll(check);
      row.ts = t.ts;
      row.user_id = w.user_ids[t.user];
      row.product_id = products_[t.product].product_id;
      row.quantity = t.quantity;
      row.total_amount = t.amount;
      emit(row);
    }
  }
}

// ===================================================================================
// Telemetry.
// ===================================================================================

namespace {

struct Grid {
  int64_t start, step, n, samples_per_day, slot0;
  int dow0;
  std::vector<double> shape;  // diurnal shape per slot of the day

  Grid(int64_t start_ts, int64_t end_ts, int64_t step_s)
      : start(start_ts),
        step(step_s),
        n((end_ts - start_ts) / step_s),
        samples_per_day(kDay / step_s),
        slot0(floor_mod(start_ts, kDay) / step_s),
        dow0(weekday_of_day(floor_div(start_ts, kDay))),
        shape(static_cast<size_t>(samples_per_day)) {
    for (int64_t s = 0; s < samples_per_day; ++s)
      shape[static_cast<size_t>(s)] = diurnal_shape(s * step);
  }
};

// Packet loss (%) from how far Es/No sits below its clear-sky base.
double loss_from_esno(double base_loss, double base_esno, double esno) {
  const double excess = (base_esno - 1.0) - esno;
  double loss = base_loss;
  if (excess > 0) loss += 0.6 * (det_exp(0.8 * excess) - 1.0);
  return loss;
}

double grade_of(double esno, Rng& rng) {
  return clampd(2.0 + 0.6 * esno + 0.1 * rng.normal(), 0.0, 10.0);
}

}  // namespace

void DemoWorld::link_metrics(const std::function<void(size_t link, const LinkMetricsRow&)>& emit,
                             const InterruptCheck& check) const {
  const Impl& w = *impl_;
  const Grid g(start_, end_, config_.step_seconds);
  constexpr double kRainMeanGap = 3.0 * kDay;
  const double exp_neg_errors = det_exp(-2.0), exp_neg_discards = det_exp(-1.0);
  LinkMetricsRow row{};
  uint64_t counter = 0;
  for (size_t l = 0; l < w.links.size(); ++l) {
    const LinkParams& p = w.links[l];
    Rng rng(config_.seed, p.hash, kTagLinkMetrics);
    Rng rain(config_.seed, p.hash, kTagLinkRain);
    int64_t rain_start =
        start_ + static_cast<int64_t>(-det_log(1.0 - rain.uniform()) * kRainMeanGap);
    int64_t rain_len = rain.range(1800, 7200);
    double rain_depth = rain.uniform(0.4, 1.2);
    const std::vector<Effect>& fx = w.link_fx[l];
    size_t cursor = 0;
    int64_t slot = g.slot0;
    int dow = g.dow0;
    for (int64_t i = 0; i < g.n; ++i) {
      if ((counter++ & kPollMask) == 0) poll(check);
      const int64_t ts = g.start + i * g.step;
      const double wk = dow >= 5 ? 0.85 : 1.0;
      double util =
          (p.util_night + (p.util_peak - p.util_night) * g.shape[static_cast<size_t>(slot)]) * wk *
          (1.0 + 0.06 * rng.normal());
      util = clampd(util, 0.02, 0.95);
      double ib = p.ib_base + 0.25 * rng.normal();
      double ob = p.ob_base + 0.25 * rng.normal();
      while (ts >= rain_start + rain_len) {
        rain_start +=
            rain_len + static_cast<int64_t>(-det_log(1.0 - rain.uniform()) * kRainMeanGap);
        rain_len = rain.range(1800, 7200);
        rain_depth = rain.uniform(0.4, 1.2);
      }
      if (ts >= rain_start) {
        const double x = 2.0 * static_cast<double>(ts - rain_start) / static_cast<double>(rain_len);
        const double fade = rain_depth * (1.0 - std::fabs(x - 1.0));
        ib -= fade;
        ob -= 0.8 * fade;
      }
      double latency = p.latency_base + 3.0 * rng.normal();
      double jitter = std::max(0.5, p.jitter_base * (1.0 + 0.15 * rng.normal()));
      double errors = rng.knuth_poisson(exp_neg_errors);
      double discards = rng.knuth_poisson(exp_neg_discards);
      double uptime = 100.0;
      const double up_u = rng.uniform();
      if (up_u < 0.0005) uptime = 99.0 + round2(up_u * 1900.0);  // rare 99.0..99.95
      double thr_factor = 1.0, loss_add_ib = 0.0, loss_add_ob = 0.0;
      const Effect* e = active_effect(fx, cursor, ts);
      if (e != nullptr) {
        switch (e->type) {
          case FxType::kEquipment:
            thr_factor = 0.4;
            errors = rng.poisson(2.0 * 20.0);
            discards = rng.poisson(1.0 * 20.0);
            loss_add_ib = e->a * (1.0 + 0.1 * rng.normal());
            loss_add_ob = e->b * (1.0 + 0.1 * rng.normal());
            latency += 200.0 + 15.0 * rng.normal();
            uptime = clampd(e->c + rng.uniform(-5.0, 5.0), 70.0, 95.0);
            break;
          case FxType::kAlignment:
            if (((ts - e->start) / e->period) % 2 == 0) {
              ib -= e->a * (1.0 + 0.05 * rng.normal());
              ob -= e->b;
            }
            break;
          case FxType::kInterference:
            ib -= e->a;
            ob -= e->b;
            thr_factor = e->c;
            break;
          case FxType::kMisalignment:
            ib -= e->a;
            ob -= e->b;
            break;
          case FxType::kSpike:
            break;
        }
      }
      util *= thr_factor;
      double throughput = util * p.capacity;
      const double ib_grade = grade_of(ib, rng);
      const double ob_grade = grade_of(ob, rng);
      const double ib_loss =
          loss_from_esno(p.loss_base * (1.0 + 0.3 * rng.normal()), p.ib_base, ib) + loss_add_ib;
      const double ob_loss =
          loss_from_esno(p.loss_base * (1.0 + 0.3 * rng.normal()), p.ob_base, ob) + loss_add_ob;
      if (e != nullptr && e->type == FxType::kSpike) {
        switch (e->metric) {
          case Metric::kThroughput:
            throughput = std::min(throughput * e->a, 0.97 * p.capacity);
            break;
          case Metric::kLatency:
            latency += e->a;
            break;
          case Metric::kErrors:
            errors += std::round(e->a);
            break;
          case Metric::kJitter:
            jitter *= e->a;
            break;
          default:
            break;
        }
      }
      row.ts = ts;
      row.throughput_mbps = round_to(throughput, 1000.0);
      row.utilization = round_to(util, 10000.0);
      row.errors = errors;
      row.discards = discards;
      row.uptime_pct = round2(uptime);
      row.ib_esno_db = round2(ib);
      row.ob_esno_db = round2(ob);
      row.ib_grade = round2(ib_grade);
      row.ob_grade = round2(ob_grade);
      row.ib_packet_loss_pct = round_to(clampd(ib_loss, 0.0, 100.0), 1000.0);
      row.ob_packet_loss_pct = round_to(clampd(ob_loss, 0.0, 100.0), 1000.0);
      row.latency_ms = round_to(std::max(0.0, latency), 10.0);
      row.jitter_ms = round2(jitter);
      emit(l, row);
      if (++slot == g.samples_per_day) {
        slot = 0;
        dow = (dow + 1) % 7;
      }
    }
  }
}

void DemoWorld::site_metrics(const std::function<void(size_t site, const SiteMetricsRow&)>& emit,
                             const InterruptCheck& check) const {
  const Impl& w = *impl_;
  const Grid g(start_, end_, config_.step_seconds);
  // Memory: AR(1) around the site's mean with a 6-hour memory and a stationary sd of 4 points.
  const double phi = det_exp(-static_cast<double>(g.step) / (6.0 * kHour));
  const double mem_sd = 4.0 * std::sqrt(1.0 - phi * phi);
  SiteMetricsRow row{};
  uint64_t counter = 0;
  for (size_t s = 0; s < w.sites.size(); ++s) {
    const SiteParams& p = w.sites[s];
    Rng rng(config_.seed, p.hash, kTagSiteMetrics);
    double mem = p.mem_mean + 4.0 * rng.normal();
    const std::vector<Effect>& fx = w.site_fx[s];
    size_t cursor = 0;
    int64_t slot = g.slot0;
    int dow = g.dow0;
    for (int64_t i = 0; i < g.n; ++i) {
      if ((counter++ & kPollMask) == 0) poll(check);
      const int64_t ts = g.start + i * g.step;
      const double load = g.shape[static_cast<size_t>(slot)] * (dow >= 5 ? 0.85 : 1.0);
      double rt = p.rt_base * (1.0 + 0.6 * load) * (1.0 + 0.08 * rng.normal());
      double err = p.err_base * (1.0 + 0.25 * rng.normal());
      double cpu = p.cpu_low + (p.cpu_high - p.cpu_low) * load + 2.5 * rng.normal();
      mem = p.mem_mean + phi * (mem - p.mem_mean) + mem_sd * rng.normal();
      double memory = clampd(mem, 40.0, 70.0);
      double uptime = 100.0;
      const double up_u = rng.uniform();
      if (up_u < 0.0003) uptime = 99.0 + round2(up_u * 3000.0);
      const Effect* e = active_effect(fx, cursor, ts);
      if (e != nullptr) {
        if (e->type == FxType::kEquipment) {
          err += e->a * (1.0 + 0.1 * rng.normal());
          rt *= e->b;
        } else if (e->type == FxType::kSpike) {
          switch (e->metric) {
            case Metric::kCpu:
              cpu = e->a + rng.uniform(-0.5, 0.5);
              break;
            case Metric::kResponseTime:
              rt *= e->a;
              break;
            case Metric::kMemory:
              memory = e->a + rng.uniform(-0.5, 0.5);
              break;
            default:
              break;
          }
        }
      }
      row.ts = ts;
      row.response_time_ms = round_to(std::max(1.0, rt), 10.0);
      row.error_rate = round_to(clampd(err, 0.0, 100.0), 1000.0);
      row.uptime_pct = round2(uptime);
      row.cpu_pct = round_to(clampd(cpu, 1.0, 100.0), 10.0);
      row.memory_pct = round_to(clampd(memory, 0.0, 100.0), 10.0);
      emit(s, row);
      if (++slot == g.samples_per_day) {
        slot = 0;
        dow = (dow + 1) % 7;
      }
    }
  }
}

void DemoWorld::network_metrics(
    const std::function<void(size_t network, const NetworkMetricsRow&)>& emit,
    const InterruptCheck& check) const {
  const Impl& w = *impl_;
  const Grid g(start_, end_, config_.step_seconds);
  NetworkMetricsRow row{};
  uint64_t counter = 0;
  for (size_t n = 0; n < w.nets.size(); ++n) {
    const NetParams& p = w.nets[n];
    Rng rng(config_.seed, p.hash, kTagNetMetrics);
    const std::vector<Effect>& fx = w.net_fx[n];
    size_t cursor = 0;
    int64_t slot = g.slot0;
    int dow = g.dow0;
    for (int64_t i = 0; i < g.n; ++i) {
      if ((counter++ & kPollMask) == 0) poll(check);
      const int64_t ts = g.start + i * g.step;
      const double shape = g.shape[static_cast<size_t>(slot)];
      const double wk = dow >= 5 ? 0.85 : 1.0;
      double bw = (p.bw_night + p.bw_swing * shape) * wk * (1.0 + 0.03 * rng.normal());
      double loss = clampd(p.loss_base * (1.0 + 0.25 * rng.normal()), 0.03, 0.3);
      double latency = p.latency_base + 4.0 * rng.normal();
      double err = clampd(p.err_base * (1.0 + 0.2 * rng.normal()), 0.05, 2.0);
      double conn =
          (p.conn_low + (p.conn_high - p.conn_low) * shape) * wk * (1.0 + 0.05 * rng.normal());
      const Effect* e = active_effect(fx, cursor, ts);
      if (e != nullptr) {
        if (e->type == FxType::kEquipment) {
          loss += e->a * (1.0 + 0.1 * rng.normal());
          err += e->b * (1.0 + 0.1 * rng.normal());
          latency += 200.0 + 15.0 * rng.normal();
          bw *= e->c;
          conn *= e->d;
        } else if (e->type == FxType::kSpike) {
          if (e->metric == Metric::kLatency) latency += e->a;
          if (e->metric == Metric::kConnections) conn *= e->a;
        }
      }
      row.ts = ts;
      row.bandwidth_mbps = round_to(std::max(0.0, bw), 1000.0);
      row.packet_loss_pct = round_to(clampd(loss, 0.0, 100.0), 1000.0);
      row.latency_ms = round_to(std::max(0.0, latency), 10.0);
      row.error_rate = round_to(clampd(err, 0.0, 100.0), 1000.0);
      row.connections = std::max(0.0, std::round(conn));
      emit(n, row);
      if (++slot == g.samples_per_day) {
        slot = 0;
        dow = (dow + 1) % 7;
      }
    }
  }
}

}  // namespace insight::demo
