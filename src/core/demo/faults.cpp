// Fault scheduling: the root-cause faults (equipment failure, antenna alignment, satellite
// interference, antenna misalignment) and isolated metric spikes of the demo period, placed so
// that they never overlap on an entity, each turned into a labelled Fault and the Effects the
// telemetry generators apply.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/demo/world.hpp"

namespace insight::demo::detail {
namespace {

enum class Kind : uint8_t { kEquipment, kAlignment, kInterference, kMisalignment, kSpike };

// By Kind, in enum order.
constexpr std::array<const char*, 5> kKindNames = {"equipment_failure", "antenna_alignment",
                                                   "satellite_interference", "antenna_misalignment",
                                                   "metric_spike"};

// A metric spike by Metric, in enum order: the column it shows in, the range its size is drawn
// from (a factor, an addition or a value, as the telemetry generators apply it) and how the
// fault's notes put that size.
struct SpikeSize {
  const char* column;
  double lo, hi;
  const char *before, *after;
};
constexpr std::array<SpikeSize, 9> kSpikeSizes = {{
    {"", 0.0, 0.0, "", ""},
    {"throughput_mbps", 3.0, 5.0, "about ", "x normal"},
    {"latency_ms", 700.0, 900.0, "+", " ms"},
    {"errors", 30.0, 60.0, "+", " errors per sample"},
    {"jitter_ms", 4.0, 6.0, "about ", "x normal"},
    {"cpu_pct", 97.0, 99.0, "up to ", "%"},
    {"response_time_ms", 3.0, 5.0, "about ", "x normal"},
    {"memory_pct", 96.0, 99.0, "up to ", "%"},
    {"connections", 3.0, 5.0, "about ", "x normal"},
}};
static_assert(static_cast<size_t>(Metric::kConnections) + 1 == kSpikeSizes.size());

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
    f.kind = kKindNames[static_cast<size_t>(p.kind)];
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
        const SpikeSize& size = kSpikeSizes[static_cast<size_t>(p.metric)];
        f.metric = size.column;
        Effect e = base;
        e.type = FxType::kSpike;
        e.metric = p.metric;
        std::string what;
        if (p.metric != Metric::kNone) {
          e.a = rng_.uniform(size.lo, size.hi);
          what = size.before + std::to_string(std::llround(e.a)) + size.after;
        }
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

void schedule_faults(const DemoConfig& config, int64_t start, int64_t end, WorldData& w,
                     const std::vector<Network>& networks, const std::vector<Site>& sites,
                     const std::vector<HubAntenna>& antennas, const std::vector<Link>& links,
                     std::vector<Fault>& out) {
  FaultScheduler(config, start, end, w, networks, sites, antennas, links, out).run(config.days);
}

}  // namespace insight::demo::detail
