// The demo world's private state, shared by the files of src/core/demo: the fixed topology
// sizes and names, per-entity telemetry parameters, the effects of scheduled faults, and the
// commerce model (user tastes, product popularity, promotions). Built once by DemoWorld's
// constructor (demo_data.cpp, commerce.cpp, faults.cpp), read by the row generators.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/demo/demo_data.hpp"
#include "core/demo/deterministic.hpp"

namespace insight::demo::detail {

constexpr int kCategories = 8;
constexpr int kProductsPerCategory = 25;
constexpr int kNetworks = 4;
constexpr int kSatellites = 4;
constexpr int kHubsPerNetwork = 2;

inline constexpr std::array<const char*, kCategories> kCategoryNames = {
    "electronics", "books", "home", "garden", "toys", "sports", "beauty", "grocery"};
inline constexpr std::array<const char*, kSatellites> kSatelliteNames = {
    "SAT-ALPHA", "SAT-BRAVO", "SAT-CHARLIE", "SAT-DELTA"};

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
// A labelled sales anomaly of the whole shop: one calendar day whose transactions are scaled
// by `factor` (a checkout outage: fewer; a bot or reseller buying up the shop: more).
struct SalesEvent {
  int64_t start = 0, end = 0;
  double factor = 1.0;
};

struct WorldData {
  // commerce
  std::vector<std::string> user_ids;
  std::vector<UserProfile> users;
  std::vector<double> user_cum;  // cumulative activity
  std::array<std::array<double, kProductsPerCategory>, kCategories> product_cum{};
  std::array<double, kCategories> category_share{};
  std::vector<Promo> promos;
  std::vector<SalesEvent> sales_events;
  // topology indexes
  std::vector<std::vector<size_t>> net_links, antenna_links, sat_links, net_hubs;
  std::vector<size_t> antenna_sat, antenna_hub;
  // telemetry parameters and fault effects
  std::vector<LinkParams> links;
  std::vector<SiteParams> sites;
  std::vector<NetParams> nets;
  std::vector<std::vector<Effect>> link_fx, site_fx, net_fx;
};

inline const Effect* active_effect(const std::vector<Effect>& fx, size_t& cursor, int64_t ts) {
  while (cursor < fx.size() && fx[cursor].end <= ts) ++cursor;
  if (cursor < fx.size() && fx[cursor].start <= ts) return &fx[cursor];
  return nullptr;
}

// Commerce (commerce.cpp): the catalog into `products`, users, product popularity, the
// promotions and the sales anomalies into `w`; then each of them as a Fault.
void build_commerce(const DemoConfig& config, int64_t start, int64_t end,
                    std::vector<Product>& products, WorldData& w);
void add_commerce_faults(const WorldData& w, std::vector<Fault>& faults);

// Telemetry (telemetry.cpp): each link's, site's and network's parameters into `w` (the
// links' hashes are set; the sites' and networks' are set here).
void draw_telemetry_params(uint64_t seed, const std::vector<Site>& sites,
                           const std::vector<Network>& networks, WorldData& w);

// Faults (faults.cpp): the root-cause faults and metric spikes of [start, end), as Faults in
// `out` and as Effects on the links, sites and networks they touch.
void schedule_faults(const DemoConfig& config, int64_t start, int64_t end, WorldData& w,
                     const std::vector<Network>& networks, const std::vector<Site>& sites,
                     const std::vector<HubAntenna>& antennas, const std::vector<Link>& links,
                     std::vector<Fault>& out);

}  // namespace insight::demo::detail

namespace insight::demo {
struct DemoWorld::Impl : detail::WorldData {};
}  // namespace insight::demo
