// DemoWorld's construction: the configuration checked, then the shop (commerce.cpp), the
// satellite network's topology (here), its telemetry parameters (telemetry.cpp) and the faults
// (faults.cpp). The row generators live beside the state they read: transactions in
// commerce.cpp, link, site and network metrics in telemetry.cpp.
#include "core/demo/demo_data.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/common/error.hpp"
#include "core/demo/world.hpp"

namespace insight::demo {
namespace {

using namespace detail;

constexpr int64_t kMaxEndEpoch = 253402300799;  // 9999-12-31 23:59:59 UTC

const std::array<const char*, kNetworks> kNetworkNames = {"Enterprise Americas", "Maritime Fleet",
                                                          "Energy & Mining", "Rural Broadband"};
const std::array<const char*, kNetworks> kRemoteNoun = {"Branch Office", "Vessel", "Well Site",
                                                        "Village Hub"};
const std::array<const char*, kNetworks* kHubsPerNetwork> kHubNames = {
    "Denver Teleport",  "Atlanta Teleport", "Rotterdam Teleport", "Singapore Teleport",
    "Houston Teleport", "Perth Teleport",   "Nairobi Teleport",   "Lima Teleport"};

}  // namespace

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

  build_commerce(config, start_, end_, products_, w);

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
  draw_telemetry_params(seed, sites_, networks_, w);

  // ---- faults ----
  w.link_fx.resize(links_.size());
  w.site_fx.resize(sites_.size());
  w.net_fx.resize(networks_.size());
  schedule_faults(config, start_, end_, w, networks_, sites_, hub_antennas_, links_, faults_);
  add_commerce_faults(w, faults_);
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

}  // namespace insight::demo
