// The detectors' judgement of an episode: its features (the classifier's inputs), the four
// pattern scores, and the severity and confidence of a finding.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "core/common/stats.hpp"
#include "core/rootcause/detector.hpp"
#include "core/rootcause/detector_detail.hpp"

namespace insight::rootcause {
namespace {

using namespace detail;

double ramp(double x, double lo, double hi) {
  if (!(x > lo)) return 0.0;
  if (x >= hi) return 1.0;
  return (x - lo) / (hi - lo);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Episode features, scores, severity, confidence.
// ---------------------------------------------------------------------------------------

bool Analysis::same_event(const Run& r, const Episode& e) const {
  return compatible(r.signature, e.signature) &&
         together(r.start, r.end, e.start, e.end, links_[r.member].step);
}

double Analysis::peer_share(const Episode& e, bool same_antenna) const {
  std::set<size_t> antennas, satellites;
  for (const size_t m : e.members) {
    antennas.insert(topology_.antenna_of(window_.links[m]));
    satellites.insert(topology_.satellite_of(window_.links[m]));
  }
  size_t observed = 0, matched = 0;
  for (size_t m = 0; m < window_.links.size(); ++m) {
    if (std::binary_search(e.members.begin(), e.members.end(), m)) continue;
    if (window_.series[m].size() == 0) continue;
    const size_t l = window_.links[m];
    const bool on_antenna = antennas.count(topology_.antenna_of(l)) > 0;
    const bool peer = same_antenna
                          ? on_antenna
                          : (!on_antenna && satellites.count(topology_.satellite_of(l)) > 0);
    if (!peer) continue;
    ++observed;
    matched += degraded_alike(m, e) ? 1 : 0;
  }
  return observed ? static_cast<double>(matched) / static_cast<double>(observed) : -1.0;
}

bool Analysis::degraded_alike(size_t member, const Episode& e) const {
  if (std::binary_search(e.members.begin(), e.members.end(), member)) return true;
  return std::any_of(runs_of_member_[member].begin(), runs_of_member_[member].end(),
                     [&](size_t r) { return same_event(runs_[r], e); });
}

// Links observed in the episode's networks (by_network) or satellites, and how many of them,
// the episode's own included, are degraded alike.
size_t Analysis::matching_peers(const Episode& e, bool by_network, size_t& observed) const {
  std::set<size_t> groups;
  auto group_of = [&](size_t l) {
    return by_network ? topology_.network_of(l) : topology_.satellite_of(l);
  };
  for (const size_t m : e.members) groups.insert(group_of(window_.links[m]));
  observed = 0;
  size_t matched = 0;
  for (size_t m = 0; m < window_.links.size(); ++m) {
    if (window_.series[m].size() == 0 || !groups.count(group_of(window_.links[m]))) continue;
    ++observed;
    matched += degraded_alike(m, e) ? 1 : 0;
  }
  return matched;
}

std::array<double, kFeatureCount> Analysis::features(size_t episode) const {
  const Episode& e = episodes_.at(episode);
  std::array<double, kFeatureCount> f{};
  std::array<double, kMetricCount> sum_delta{};
  double thr_ratio = 0, util_ratio = 0, jitter_ratio = 0;
  size_t counted = 0;
  for (const size_t m : e.members) {
    const Series& s = window_.series[m];
    const LinkState& st = links_[m];
    std::array<double, kMetricCount> sum{};
    std::array<size_t, kMetricCount> cnt{};
    for (size_t i = 0; i < s.size(); ++i) {
      if (s.ts[i] < e.start || s.ts[i] >= e.end) continue;
      for (size_t k = 0; k < kMetricCount; ++k) {
        if (std::isfinite(s.values[i][k])) {
          sum[k] += s.values[i][k];
          ++cnt[k];
        }
      }
    }
    if (cnt[kIbEsno] == 0) continue;
    ++counted;
    auto mean = [&](size_t k) {
      return cnt[k] ? sum[k] / static_cast<double>(cnt[k]) : st.base[k];
    };
    auto base = [&](size_t k) { return std::isfinite(st.base[k]) ? st.base[k] : mean(k); };
    auto ratio = [&](size_t k) { return base(k) > 0 ? mean(k) / base(k) : 1.0; };
    sum_delta[kIbEsno] += base(kIbEsno) - mean(kIbEsno);
    sum_delta[kObEsno] += base(kObEsno) - mean(kObEsno);
    sum_delta[kIbGrade] += mean(kIbGrade);
    sum_delta[kObGrade] += mean(kObGrade);
    sum_delta[kIbLoss] += mean(kIbLoss) - base(kIbLoss);
    sum_delta[kObLoss] += mean(kObLoss) - base(kObLoss);
    sum_delta[kLatency] += mean(kLatency) - base(kLatency);
    sum_delta[kUptime] += base(kUptime) - mean(kUptime);
    sum_delta[kErrors] += mean(kErrors) - base(kErrors);
    thr_ratio += ratio(kThroughput);
    util_ratio += ratio(kUtilization);
    jitter_ratio += ratio(kJitter);
  }
  const double k = counted ? static_cast<double>(counted) : 1.0;
  f[kIbDrop] = sum_delta[kIbEsno] / k;
  f[kObDrop] = sum_delta[kObEsno] / k;
  f[kIbGradeF] = sum_delta[kIbGrade] / k;
  f[kObGradeF] = sum_delta[kObGrade] / k;
  f[kThroughputRatio] = counted ? thr_ratio / k : 1.0;
  f[kUtilizationRatio] = counted ? util_ratio / k : 1.0;
  f[kIbLossExcess] = sum_delta[kIbLoss] / k;
  f[kObLossExcess] = sum_delta[kObLoss] / k;
  f[kLatencyExcess] = sum_delta[kLatency] / k;
  f[kJitterRatio] = counted ? jitter_ratio / k : 1.0;
  f[kUptimeDrop] = sum_delta[kUptime] / k;
  f[kErrorsExcess] = sum_delta[kErrors] / k;
  f[kShareAffected] =
      static_cast<double>(e.members.size()) / static_cast<double>(std::max<size_t>(1, scope_size_));

  std::vector<double> starts;
  double osc = 0, degraded = 0, rf = 0, both = 0;
  int64_t step = 60;
  for (const size_t r : e.runs) {
    const Run& run = runs_[r];
    starts.push_back(static_cast<double>(run.start));
    osc += run.transitions_per_hour;
    degraded += run.bad_fraction;
    rf += run.rf_fraction;
    both += run.both_fraction;
    step = std::max(step, links_[run.member].step);
  }
  const double nr = static_cast<double>(e.runs.size());
  const double median_start = quantile_nearest(starts, 0.5);
  size_t together = 0;
  for (const size_t r : e.runs) {
    if (std::fabs(static_cast<double>(runs_[r].start) - median_start) <=
        static_cast<double>(std::max<int64_t>(600, 2 * step))) {
      ++together;
    }
  }
  f[kSimultaneity] = static_cast<double>(together) / nr;
  f[kOscillation] = osc / nr;
  f[kDegradedFraction] = degraded / nr;
  f[kRfFraction] = rf / nr;
  f[kBothFraction] = both / nr;

  std::map<size_t, size_t> per_antenna;
  std::set<size_t> hubs, sats, nets;
  for (const size_t m : e.members) {
    const size_t l = window_.links[m];
    ++per_antenna[topology_.antenna_of(l)];
    hubs.insert(topology_.hub_of(l));
    sats.insert(topology_.satellite_of(l));
    nets.insert(topology_.network_of(l));
  }
  double antenna_share = 0;
  for (const auto& [a, c] : per_antenna) {
    antenna_share = std::max(
        antenna_share, static_cast<double>(c) / static_cast<double>(topology_.antenna_size(a)));
  }
  f[kLinks] = static_cast<double>(e.members.size());
  f[kAntennas] = static_cast<double>(per_antenna.size());
  f[kHubs] = static_cast<double>(hubs.size());
  f[kSatellites] = static_cast<double>(sats.size());
  f[kNetworks] = static_cast<double>(nets.size());
  f[kAntennaShare] = antenna_share;
  f[kAntennaPeerShare] = peer_share(e, true);
  f[kSatellitePeerShare] = peer_share(e, false);
  f[kDurationHours] = static_cast<double>(e.end - e.start) / 3600.0;
  for (double& v : f) {
    if (!std::isfinite(v)) v = 0.0;
  }
  return f;
}

std::array<double, kPatternCount> Analysis::scores(
    const std::array<double, kFeatureCount>& f) const {
  const double rf = clamp01(f[kRfFraction]);
  const double traffic = 1.0 - rf;
  const double osc = ramp(f[kOscillation], 0.3, 1.0);
  const double both = ramp(f[kBothFraction], 0.3, 0.7);
  const double multi = ramp(f[kLinks], 1.0, 3.0);
  const double spread = std::max(ramp(f[kAntennas], 1.0, 2.0), ramp(f[kSatellites], 1.0, 2.0));
  const double ant_peers = f[kAntennaPeerShare] >= 0 ? ramp(f[kAntennaPeerShare], 0.1, 0.4) : 0.0;
  const double sat_peers =
      f[kSatellitePeerShare] >= 0 ? ramp(f[kSatellitePeerShare], 0.1, 0.4) : 0.0;
  const double one_antenna = f[kAntennas] <= 1.0 ? 1.0 : 0.2;
  const double one_satellite = f[kSatellites] <= 1.0 ? 1.0 : 0.2;
  const double company = std::max({multi, ant_peers, sat_peers});
  std::array<double, kPatternCount> s{};
  s[static_cast<size_t>(Pattern::EquipmentFailure)] =
      traffic * (0.5 + 0.5 * std::max({multi * spread, ant_peers, multi}));
  s[static_cast<size_t>(Pattern::AntennaAlignment)] =
      rf * osc * one_antenna * (0.5 + 0.5 * std::max(multi, ant_peers));
  s[static_cast<size_t>(Pattern::SatelliteInterference)] =
      rf * (1.0 - osc) * one_satellite * company;
  s[static_cast<size_t>(Pattern::AntennaMisalignment)] = rf * (1.0 - osc) * both * (1.0 - company);
  return s;
}

Analysis::Severity Analysis::severity(size_t episode, Pattern p,
                                      const std::array<double, kFeatureCount>& f) const {
  const Episode& e = episodes_.at(episode);
  // Depth over the degraded samples only: how bad it is while it is bad.
  double rf_depth = 0, traffic_depth = 0;
  for (const size_t r : e.runs) {
    const Run& run = runs_[r];
    const Series& s = window_.series[run.member];
    const LinkState& st = links_[run.member];
    double rf_sum = 0, tr_sum = 0;
    size_t bad = 0;
    for (size_t i = run.first; i <= run.last; ++i) {
      if (st.flags[i] == 0) continue;
      ++bad;
      const auto& v = s.values[i];
      const double drop = std::max(st.base[kIbEsno] - v[kIbEsno], st.base[kObEsno] - v[kObEsno]);
      if (std::isfinite(drop)) rf_sum += std::max(0.0, drop);
      const double loss = std::max(v[kIbLoss] - st.base[kIbLoss], v[kObLoss] - st.base[kObLoss]);
      const double excess =
          std::max({std::isfinite(loss) ? loss / 20.0 : 0.0,
                    std::isfinite(v[kUptime]) ? (st.base[kUptime] - v[kUptime]) / 25.0 : 0.0,
                    std::isfinite(v[kLatency]) ? (v[kLatency] - st.base[kLatency]) / 500.0 : 0.0});
      tr_sum += clamp01(excess);
    }
    if (bad) {
      rf_depth += rf_sum / static_cast<double>(bad);
      traffic_depth += tr_sum / static_cast<double>(bad);
    }
  }
  const double nr = static_cast<double>(std::max<size_t>(1, e.runs.size()));
  Severity sev{};
  sev.frequency = clamp01(f[kDegradedFraction]);
  size_t observed = 0;
  switch (p) {
    case Pattern::EquipmentFailure: {
      sev.depth = clamp01(traffic_depth / nr);
      const size_t matched = matching_peers(e, true, observed);
      sev.share = observed ? static_cast<double>(matched) / static_cast<double>(observed) : 0.0;
      break;
    }
    case Pattern::AntennaAlignment:
      sev.depth = clamp01(rf_depth / nr / 8.0);
      sev.share = clamp01(f[kAntennaShare]);
      break;
    case Pattern::SatelliteInterference: {
      sev.depth = clamp01(rf_depth / nr / 8.0);
      const size_t matched = matching_peers(e, false, observed);
      sev.share = observed ? static_cast<double>(matched) / static_cast<double>(observed) : 0.0;
      break;
    }
    case Pattern::AntennaMisalignment:
    case Pattern::None:
      sev.depth = clamp01(rf_depth / nr / 8.0);
      sev.share = 0.5 + 0.5 * clamp01(f[kBothFraction]);  // one or both directions
      break;
  }
  sev.value = clamp01(sev.depth * sev.frequency * sev.share);
  return sev;
}

Analysis::Confidence Analysis::confidence(size_t episode, double score,
                                          const std::array<double, kFeatureCount>& f) const {
  const Episode& e = episodes_.at(episode);
  Confidence c{};
  // Coverage: samples present in the episode's interval for its links.
  double cov = 0;
  for (const size_t m : e.members) {
    const Series& s = window_.series[m];
    size_t in = 0;
    for (const int64_t t : s.ts) in += (t >= e.start && t < e.end) ? 1 : 0;
    cov += clamp01(static_cast<double>(in) * static_cast<double>(links_[m].step) /
                   static_cast<double>(e.end - e.start));
  }
  c.coverage = cov / static_cast<double>(std::max<size_t>(1, e.members.size()));
  // Consistency: do the links degrade alike (coefficient of variation of the degraded share)?
  if (e.runs.size() >= 2) {
    double mean = 0, sq = 0;
    for (const size_t r : e.runs) mean += runs_[r].bad_fraction;
    mean /= static_cast<double>(e.runs.size());
    for (const size_t r : e.runs) sq += std::pow(runs_[r].bad_fraction - mean, 2);
    const double sd = std::sqrt(sq / static_cast<double>(e.runs.size()));
    c.consistency = mean > 0 ? clamp01(1.0 - sd / mean) : 0.0;
    c.correlation = clamp01(f[kSimultaneity]);
  } else {
    c.consistency = 1.0;
    // One link: inbound and outbound together, or the peers' agreement when there are peers.
    const double peers = std::max(f[kAntennaPeerShare], f[kSatellitePeerShare]);
    c.correlation = clamp01(std::max(f[kBothFraction], peers >= 0 ? 1.0 - peers : 0.0));
  }
  c.value = clamp01(score * c.coverage * (0.5 + 0.25 * c.consistency + 0.25 * c.correlation));
  return c;
}

}  // namespace insight::rootcause
