// Deterministic, realistic demo data for every standard table of API.md section 1, with
// injected and labelled faults. Pure C++: src/pg/demo.cpp streams these rows into SQL.
//
// Determinism: for the same DemoConfig (days, seed, end time, step) every value is the same
// on every platform: the generator uses its own PRNG (splitmix64/xoshiro256**), its own
// normal/Poisson draws and FNV-1a string hashing, never std:: distributions or std::hash.
// Each entity and table has its own random stream, so tables can be generated independently
// and in any order.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/common/interrupt.hpp"

namespace insight::demo {

struct DemoConfig {
  int days = 30;  // 1..3650
  uint64_t seed = 42;
  int64_t end_epoch = 0;         // end of the data, Unix seconds (UTC); aligned down to step
  int step_seconds = 300;        // telemetry sample interval: 60 or 300
  int remotes_per_network = 55;  // remote sites, one link each, per network: 1..2500
};

// ---- commerce ----
struct Product {
  std::string product_id, name, category;
  double price;
};
struct TransactionRow {
  int64_t ts;  // Unix seconds
  std::string user_id, product_id;
  int quantity;
  double total_amount;  // quantity * price, less any promotion discount, 2 decimals
};

// ---- topology ----
struct Network {
  std::string network_id, name;
};
struct Satellite {
  std::string satellite_name;
};
struct Site {
  std::string site_id, network_id, site_type, name;
};  // site_type 'hub' | 'remote'
struct HubAntenna {
  std::string antenna_id, site_id, satellite_name;
};
struct Link {
  std::string link_id, network_id, hub_antenna_id, remote_site_id, satellite_name;
};

// ---- telemetry (one row per entity per sample) ----
// values(): the metrics in the column order of their table (insight.link_metrics, ...).
struct LinkMetricsRow {
  int64_t ts;
  double throughput_mbps, utilization, errors, discards, uptime_pct;
  double ib_esno_db, ob_esno_db, ib_grade, ob_grade;
  double ib_packet_loss_pct, ob_packet_loss_pct, latency_ms, jitter_ms;
  std::array<double, 13> values() const {
    return {throughput_mbps,    utilization, errors,   discards, uptime_pct,
            ib_esno_db,         ob_esno_db,  ib_grade, ob_grade, ib_packet_loss_pct,
            ob_packet_loss_pct, latency_ms,  jitter_ms};
  }
};
struct SiteMetricsRow {
  int64_t ts;
  double response_time_ms, error_rate, uptime_pct, cpu_pct, memory_pct;
  std::array<double, 5> values() const {
    return {response_time_ms, error_rate, uptime_pct, cpu_pct, memory_pct};
  }
};
struct NetworkMetricsRow {
  int64_t ts;
  double bandwidth_mbps, packet_loss_pct, latency_ms, error_rate, connections;
  std::array<double, 5> values() const {
    return {bandwidth_mbps, packet_loss_pct, latency_ms, error_rate, connections};
  }
};

// ---- labels ----
// kind: 'equipment_failure' | 'antenna_alignment' | 'satellite_interference' |
//       'antenna_misalignment' (the four root causes, also written to insight.incidents)
//       | 'metric_spike' (an isolated single-metric anomaly on one entity; no root cause)
//       | 'promotion' (a sales promotion on one category; scope 'category')
struct Fault {
  int64_t fault_id;  // 1, 2, ... in start-time order
  std::string kind;
  std::string scope;  // 'network' | 'hub_antenna' | 'satellite' | 'link' | 'site' | 'category'
  std::string scope_id;
  int64_t started_at, ended_at;  // Unix seconds, [started_at, ended_at)
  std::string root_cause;        // = kind for the four root causes, empty otherwise
  std::string metric;            // for metric_spike: the column that spiked; else empty
  std::vector<std::string> affected_links;
  std::vector<std::string> affected_sites;
  std::string notes;  // one human sentence
};

class DemoWorld {
 public:
  explicit DemoWorld(const DemoConfig& config);  // throws InvalidParameter on a bad config

  const DemoConfig& config() const { return config_; }
  int64_t start_epoch() const { return start_; }  // first sample; end_epoch() is exclusive
  int64_t end_epoch() const { return end_; }

  const std::vector<Product>& products() const { return products_; }
  const std::vector<Network>& networks() const { return networks_; }
  const std::vector<Satellite>& satellites() const { return satellites_; }
  const std::vector<Site>& sites() const { return sites_; }
  const std::vector<HubAntenna>& hub_antennas() const { return hub_antennas_; }
  const std::vector<Link>& links() const { return links_; }
  const std::vector<Fault>& faults() const { return faults_; }

  // Streaming generators, in (entity, ts) order; `check` is polled every few thousand rows so
  // the caller can cancel. Row callbacks get the entity's index into the vectors above.
  void transactions(const std::function<void(const TransactionRow&)>& emit,
                    const InterruptCheck& check = {}) const;
  void link_metrics(const std::function<void(size_t link, const LinkMetricsRow&)>& emit,
                    const InterruptCheck& check = {}) const;
  void site_metrics(const std::function<void(size_t site, const SiteMetricsRow&)>& emit,
                    const InterruptCheck& check = {}) const;
  void network_metrics(const std::function<void(size_t network, const NetworkMetricsRow&)>& emit,
                       const InterruptCheck& check = {}) const;

 private:
  DemoConfig config_;
  int64_t start_ = 0, end_ = 0;
  std::vector<Product> products_;
  std::vector<Network> networks_;
  std::vector<Satellite> satellites_;
  std::vector<Site> sites_;
  std::vector<HubAntenna> hub_antennas_;
  std::vector<Link> links_;
  std::vector<Fault> faults_;
  // implementation-private state (user tastes, per-entity baselines, ...) may be added here
  struct Impl;  // defined in world.hpp; immutable once built
  std::shared_ptr<const Impl> impl_;
};

}  // namespace insight::demo
