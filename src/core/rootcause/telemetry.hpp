// What the root-cause detectors read: the satellite network's topology (insight.links with
// each link's hub antenna, hub site, satellite and network) and each link's samples of
// insight.link_metrics over an analysis window. Pure data; src/pg/rootcause.cpp fills it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace insight::rootcause {

// The link_metrics columns the detectors use, in the order Series stores them.
enum Metric : uint8_t {
  kThroughput = 0,
  kUtilization,
  kErrors,
  kUptime,
  kIbEsno,
  kObEsno,
  kIbGrade,
  kObGrade,
  kIbLoss,
  kObLoss,
  kLatency,
  kJitter,
  kMetricCount
};
// The column name of insight.link_metrics for each Metric.
const char* metric_column(size_t metric) noexcept;

struct LinkInfo {
  std::string link_id, network_id, antenna_id, hub_site_id, remote_site_id, satellite;
};

// The links of the network and their groupings, each entity numbered densely.
class Topology {
 public:
  Topology() = default;
  explicit Topology(std::vector<LinkInfo> links);  // links in any order; ids must be unique

  size_t size() const noexcept { return links_.size(); }
  const LinkInfo& link(size_t l) const { return links_[l]; }
  std::optional<size_t> find_link(const std::string& link_id) const;

  size_t antenna_of(size_t l) const { return antenna_[l]; }
  size_t satellite_of(size_t l) const { return satellite_[l]; }
  size_t network_of(size_t l) const { return network_[l]; }
  size_t hub_of(size_t l) const { return hub_[l]; }

  // Links of each grouping, ascending; empty when the id is unknown.
  std::vector<size_t> links_of_antenna(const std::string& antenna_id) const;
  std::vector<size_t> links_of_satellite(const std::string& satellite) const;
  std::vector<size_t> links_of_network(const std::string& network_id) const;
  size_t antenna_size(size_t antenna) const { return antenna_links_[antenna].size(); }
  const std::vector<size_t>& antenna_links(size_t antenna) const { return antenna_links_[antenna]; }
  const std::vector<size_t>& satellite_links(size_t s) const { return satellite_links_[s]; }
  const std::string& antenna_id(size_t a) const { return antenna_ids_[a]; }
  const std::string& satellite_name(size_t s) const { return satellite_ids_[s]; }
  const std::string& network_id(size_t n) const { return network_ids_[n]; }

 private:
  std::vector<LinkInfo> links_;
  std::unordered_map<std::string, size_t> link_index_;
  std::vector<size_t> antenna_, satellite_, network_, hub_;
  std::vector<std::string> antenna_ids_, satellite_ids_, network_ids_, hub_ids_;
  std::unordered_map<std::string, size_t> antenna_index_, satellite_index_, network_index_;
  std::vector<std::vector<size_t>> antenna_links_, satellite_links_, network_links_;
};

// One link's samples in time order; a NULL metric is NaN.
struct Series {
  std::vector<int64_t> ts;  // Unix seconds
  std::vector<std::array<float, kMetricCount>> values;
  size_t size() const noexcept { return ts.size(); }
};

// Telemetry of a set of links over [start, end): series[i] belongs to links[i].
struct Window {
  int64_t start = 0, end = 0;  // Unix seconds
  std::vector<size_t> links;   // topology indexes
  std::vector<Series> series;
};

}  // namespace insight::rootcause
