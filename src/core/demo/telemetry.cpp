// Telemetry of the demo network: per-entity parameters, then one row per link, site and
// network per sample, with diurnal and weekly load, rain fades on links, and the effects of
// the scheduled faults. Each entity has its own random streams, so its rows do not depend on
// the others'.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/demo/world.hpp"

namespace insight::demo {
namespace detail {
namespace {

// A parameter drawn uniformly from [lo, hi].
template <typename P>
struct Draw {
  double P::*field;
  double lo, hi;
};

// Draws the parameters in table order from the entity's own stream.
template <typename P, size_t N>
void draw(P& p, uint64_t seed, uint64_t tag, const std::array<Draw<P>, N>& table) {
  Rng rng(seed, p.hash, tag);
  for (const Draw<P>& d : table) p.*d.field = rng.uniform(d.lo, d.hi);
}

// Es/No bases narrower than "9-13 / 10-14 dB" so that every link's baseline grade is above 8
// and a 3-5 dB fade takes it below 7 (grade = 2 + 0.6 * Es/No).
constexpr std::array<Draw<LinkParams>, 8> kLinkDraws{{{&LinkParams::capacity, 10.0, 50.0},
                                                      {&LinkParams::util_night, 0.10, 0.20},
                                                      {&LinkParams::util_peak, 0.50, 0.70},
                                                      {&LinkParams::ib_base, 10.8, 12.2},
                                                      {&LinkParams::ob_base, 11.0, 12.5},
                                                      {&LinkParams::latency_base, 560.0, 620.0},
                                                      {&LinkParams::jitter_base, 3.0, 12.0},
                                                      {&LinkParams::loss_base, 0.03, 0.07}}};
constexpr std::array<Draw<SiteParams>, 5> kSiteDraws{{{&SiteParams::rt_base, 40.0, 75.0},
                                                      {&SiteParams::err_base, 0.2, 0.8},
                                                      {&SiteParams::cpu_low, 18.0, 30.0},
                                                      {&SiteParams::cpu_high, 45.0, 60.0},
                                                      {&SiteParams::mem_mean, 46.0, 64.0}}};
constexpr std::array<Draw<NetParams>, 5> kNetDraws{{{&NetParams::loss_base, 0.06, 0.14},
                                                    {&NetParams::latency_base, 590.0, 610.0},
                                                    {&NetParams::err_base, 0.35, 0.65},
                                                    {&NetParams::conn_low, 180.0, 240.0},
                                                    {&NetParams::conn_high, 700.0, 820.0}}};

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

// One sample of an entity: its time, the diurnal shape of its slot of the day, the weekend
// factor, and the fault effect active then (null when none is).
struct Sample {
  int64_t ts;
  double shape, week;
  const Effect* effect;
};

// Every entity's samples in (entity, ts) order, `check` polled every kPollEvery rows.
// start(entity) returns the entity's sample function, which holds its random streams and state.
template <typename Start>
void each_sample(const Grid& g, const std::vector<std::vector<Effect>>& effects,
                 const InterruptCheck& check, const Start& start) {
  RowPoller poller(check);
  for (size_t k = 0; k < effects.size(); ++k) {
    auto sample = start(k);
    size_t cursor = 0;
    int64_t slot = g.slot0;
    int dow = g.dow0;
    for (int64_t i = 0; i < g.n; ++i) {
      poller.row();
      const int64_t ts = g.start + i * g.step;
      sample(Sample{ts, g.shape[static_cast<size_t>(slot)], dow >= 5 ? 0.85 : 1.0,
                    active_effect(effects[k], cursor, ts)});
      if (++slot == g.samples_per_day) {
        slot = 0;
        dow = (dow + 1) % 7;
      }
    }
  }
}

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

void draw_telemetry_params(uint64_t seed, const std::vector<Site>& sites,
                           const std::vector<Network>& networks, WorldData& w) {
  for (LinkParams& lp : w.links) draw(lp, seed, kTagLinkParams, kLinkDraws);
  w.sites.resize(sites.size());
  for (size_t s = 0; s < sites.size(); ++s) {
    w.sites[s].hash = fnv1a(sites[s].site_id);
    draw(w.sites[s], seed, kTagSiteParams, kSiteDraws);
  }
  w.nets.resize(networks.size());
  for (size_t n = 0; n < networks.size(); ++n) {
    NetParams& np = w.nets[n];
    np.hash = fnv1a(networks[n].network_id);
    draw(np, seed, kTagNetParams, kNetDraws);
    for (const size_t l : w.net_links[n]) {
      const LinkParams& lp = w.links[l];
      np.bw_night += lp.capacity * lp.util_night;
      np.bw_swing += lp.capacity * (lp.util_peak - lp.util_night);
    }
  }
}

}  // namespace detail

using namespace detail;

void DemoWorld::link_metrics(const std::function<void(size_t link, const LinkMetricsRow&)>& emit,
                             const InterruptCheck& check) const {
  const Impl& w = *impl_;
  const Grid g(start_, end_, config_.step_seconds);
  constexpr double kRainMeanGap = 3.0 * kDay;
  const double exp_neg_errors = det_exp(-2.0), exp_neg_discards = det_exp(-1.0);
  LinkMetricsRow row{};
  each_sample(g, w.link_fx, check, [&](size_t l) {
    const LinkParams& p = w.links[l];
    Rng rain(config_.seed, p.hash, kTagLinkRain);
    int64_t rain_start =
        start_ + static_cast<int64_t>(-det_log(1.0 - rain.uniform()) * kRainMeanGap);
    int64_t rain_len = rain.range(1800, 7200);
    double rain_depth = rain.uniform(0.4, 1.2);
    return [&, l, &p = p, rng = Rng(config_.seed, p.hash, kTagLinkMetrics), rain, rain_start,
            rain_len, rain_depth](const Sample& s) mutable {
      const int64_t ts = s.ts;
      double util = (p.util_night + (p.util_peak - p.util_night) * s.shape) * s.week *
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
      const Effect* e = s.effect;
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
    };
  });
}

void DemoWorld::site_metrics(const std::function<void(size_t site, const SiteMetricsRow&)>& emit,
                             const InterruptCheck& check) const {
  const Impl& w = *impl_;
  const Grid g(start_, end_, config_.step_seconds);
  // Memory: AR(1) around the site's mean with a 6-hour memory and a stationary sd of 4 points.
  const double phi = det_exp(-static_cast<double>(g.step) / (6.0 * kHour));
  const double mem_sd = 4.0 * std::sqrt(1.0 - phi * phi);
  SiteMetricsRow row{};
  each_sample(g, w.site_fx, check, [&](size_t site) {
    const SiteParams& p = w.sites[site];
    Rng rng(config_.seed, p.hash, kTagSiteMetrics);
    const double mem = p.mem_mean + 4.0 * rng.normal();
    return [&, site, &p = p, rng, mem = mem](const Sample& s) mutable {
      const double load = s.shape * s.week;
      double rt = p.rt_base * (1.0 + 0.6 * load) * (1.0 + 0.08 * rng.normal());
      double err = p.err_base * (1.0 + 0.25 * rng.normal());
      double cpu = p.cpu_low + (p.cpu_high - p.cpu_low) * load + 2.5 * rng.normal();
      mem = p.mem_mean + phi * (mem - p.mem_mean) + mem_sd * rng.normal();
      double memory = clampd(mem, 40.0, 70.0);
      double uptime = 100.0;
      const double up_u = rng.uniform();
      if (up_u < 0.0003) uptime = 99.0 + round2(up_u * 3000.0);
      const Effect* e = s.effect;
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
      row.ts = s.ts;
      row.response_time_ms = round_to(std::max(1.0, rt), 10.0);
      row.error_rate = round_to(clampd(err, 0.0, 100.0), 1000.0);
      row.uptime_pct = round2(uptime);
      row.cpu_pct = round_to(clampd(cpu, 1.0, 100.0), 10.0);
      row.memory_pct = round_to(clampd(memory, 0.0, 100.0), 10.0);
      emit(site, row);
    };
  });
}

void DemoWorld::network_metrics(
    const std::function<void(size_t network, const NetworkMetricsRow&)>& emit,
    const InterruptCheck& check) const {
  const Impl& w = *impl_;
  const Grid g(start_, end_, config_.step_seconds);
  NetworkMetricsRow row{};
  each_sample(g, w.net_fx, check, [&](size_t n) {
    const NetParams& p = w.nets[n];
    return
        [&, n, &p = p, rng = Rng(config_.seed, p.hash, kTagNetMetrics)](const Sample& s) mutable {
          double bw = (p.bw_night + p.bw_swing * s.shape) * s.week * (1.0 + 0.03 * rng.normal());
          double loss = clampd(p.loss_base * (1.0 + 0.25 * rng.normal()), 0.03, 0.3);
          double latency = p.latency_base + 4.0 * rng.normal();
          double err = clampd(p.err_base * (1.0 + 0.2 * rng.normal()), 0.05, 2.0);
          double conn = (p.conn_low + (p.conn_high - p.conn_low) * s.shape) * s.week *
                        (1.0 + 0.05 * rng.normal());
          const Effect* e = s.effect;
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
          row.ts = s.ts;
          row.bandwidth_mbps = round_to(std::max(0.0, bw), 1000.0);
          row.packet_loss_pct = round_to(clampd(loss, 0.0, 100.0), 1000.0);
          row.latency_ms = round_to(std::max(0.0, latency), 10.0);
          row.error_rate = round_to(clampd(err, 0.0, 100.0), 1000.0);
          row.connections = std::max(0.0, std::round(conn));
          emit(n, row);
        };
  });
}

}  // namespace insight::demo
