#include "core/rootcause/telemetry.hpp"

#include <algorithm>

#include "core/common/error.hpp"

namespace insight::rootcause {

const char* metric_column(size_t metric) noexcept {
  static constexpr std::array<const char*, kMetricCount> kColumns = {
      "throughput_mbps",    "utilization",        "errors",     "uptime_pct",
      "ib_esno_db",         "ob_esno_db",         "ib_grade",   "ob_grade",
      "ib_packet_loss_pct", "ob_packet_loss_pct", "latency_ms", "jitter_ms"};
  return metric < kMetricCount ? kColumns[metric] : "";
}

namespace {
size_t intern(const std::string& id, std::unordered_map<std::string, size_t>& index,
              std::vector<std::string>& ids) {
  const auto [it, added] = index.emplace(id, ids.size());
  if (added) ids.push_back(id);
  return it->second;
}
}  // namespace

Topology::Topology(std::vector<LinkInfo> links) : links_(std::move(links)) {
  // Sorted by link id, so every numbering below is independent of the input order.
  std::sort(links_.begin(), links_.end(),
            [](const LinkInfo& a, const LinkInfo& b) { return a.link_id < b.link_id; });
  std::unordered_map<std::string, size_t> hub_index;
  for (size_t l = 0; l < links_.size(); ++l) {
    const LinkInfo& k = links_[l];
    if (!link_index_.emplace(k.link_id, l).second)
      throw InvalidParameter("link id " + k.link_id + " appears twice in the topology");
    antenna_.push_back(intern(k.antenna_id, antenna_index_, antenna_ids_));
    satellite_.push_back(intern(k.satellite, satellite_index_, satellite_ids_));
    network_.push_back(intern(k.network_id, network_index_, network_ids_));
    hub_.push_back(intern(k.hub_site_id, hub_index, hub_ids_));
  }
  antenna_links_.resize(antenna_ids_.size());
  satellite_links_.resize(satellite_ids_.size());
  network_links_.resize(network_ids_.size());
  for (size_t l = 0; l < links_.size(); ++l) {
    antenna_links_[antenna_[l]].push_back(l);
    satellite_links_[satellite_[l]].push_back(l);
    network_links_[network_[l]].push_back(l);
  }
}

std::optional<size_t> Topology::find_link(const std::string& link_id) const {
  const auto it = link_index_.find(link_id);
  if (it == link_index_.end()) return std::nullopt;
  return it->second;
}

namespace {
std::vector<size_t> members(const std::unordered_map<std::string, size_t>& index,
                            const std::vector<std::vector<size_t>>& groups, const std::string& id) {
  const auto it = index.find(id);
  return it == index.end() ? std::vector<size_t>{} : groups[it->second];
}
}  // namespace

std::vector<size_t> Topology::links_of_antenna(const std::string& antenna_id) const {
  return members(antenna_index_, antenna_links_, antenna_id);
}
std::vector<size_t> Topology::links_of_satellite(const std::string& satellite) const {
  return members(satellite_index_, satellite_links_, satellite);
}
std::vector<size_t> Topology::links_of_network(const std::string& network_id) const {
  return members(network_index_, network_links_, network_id);
}

}  // namespace insight::rootcause
