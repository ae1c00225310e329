#include "core/rootcause/detector.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "core/common/error.hpp"
#include "core/common/name_table.hpp"
#include "core/common/parallel.hpp"
#include "core/common/stats.hpp"

namespace insight::rootcause {

namespace {
constexpr NameTable<Pattern, kClassCount> kPatterns{{
    {Pattern::EquipmentFailure, "equipment_failure"},
    {Pattern::AntennaAlignment, "antenna_alignment"},
    {Pattern::SatelliteInterference, "satellite_interference"},
    {Pattern::AntennaMisalignment, "antenna_misalignment"},
    {Pattern::None, "none"},
}};
constexpr NameTable<ScopeKind, 4> kScopes{{
    {ScopeKind::Link, "link"},
    {ScopeKind::HubAntenna, "hub_antenna"},
    {ScopeKind::Satellite, "satellite"},
    {ScopeKind::Network, "network"},
}};
}  // namespace

std::string_view pattern_name(Pattern p) noexcept { return name_in(kPatterns, p, "none"); }

std::optional<Pattern> pattern_from_name(std::string_view name) noexcept {
  return value_named(kPatterns, name);
}

std::string_view scope_name(ScopeKind s) noexcept { return name_in(kScopes, s, ""); }

std::optional<ScopeKind> scope_from_name(std::string_view name) noexcept {
  return value_named(kScopes, name);
}

const std::array<const char*, kFeatureCount>& feature_names() noexcept {
  static constexpr std::array<const char*, kFeatureCount> kNames = {"ib_esno_drop_db",
                                                                    "ob_esno_drop_db",
                                                                    "ib_grade",
                                                                    "ob_grade",
                                                                    "throughput_ratio",
                                                                    "utilization_ratio",
                                                                    "ib_loss_excess_pct",
                                                                    "ob_loss_excess_pct",
                                                                    "latency_excess_ms",
                                                                    "jitter_ratio",
                                                                    "uptime_drop_pct",
                                                                    "errors_excess",
                                                                    "share_links_affected",
                                                                    "simultaneity",
                                                                    "oscillations_per_hour",
                                                                    "degraded_fraction",
                                                                    "rf_fraction",
                                                                    "both_directions_fraction",
                                                                    "links",
                                                                    "antennas",
                                                                    "hubs",
                                                                    "satellites",
                                                                    "networks",
                                                                    "antenna_share",
                                                                    "antenna_peer_share",
                                                                    "satellite_peer_share",
                                                                    "duration_hours"};
  return kNames;
}

namespace {

enum F : size_t {
  kIbDrop = 0,
  kObDrop,
  kIbGradeF,
  kObGradeF,
  kThroughputRatio,
  kUtilizationRatio,
  kIbLossExcess,
  kObLossExcess,
  kLatencyExcess,
  kJitterRatio,
  kUptimeDrop,
  kErrorsExcess,
  kShareAffected,
  kSimultaneity,
  kOscillation,
  kDegradedFraction,
  kRfFraction,
  kBothFraction,
  kLinks,
  kAntennas,
  kHubs,
  kSatellites,
  kNetworks,
  kAntennaShare,
  kAntennaPeerShare,
  kSatellitePeerShare,
  kDurationHours
};
static_assert(kDurationHours + 1 == kFeatureCount);

constexpr uint8_t kIbBad = 1, kObBad = 2, kTrafficBad = 4;
constexpr size_t kMinHealthySamples = 12;
// Windows with fewer samples are analysed on the calling thread alone.
constexpr size_t kParallelSamples = 50000;

double ramp(double x, double lo, double hi) {
  if (!(x > lo)) return 0.0;
  if (x >= hi) return 1.0;
  return (x - lo) / (hi - lo);
}

double clamp01(double x) { return std::isfinite(x) ? std::clamp(x, 0.0, 1.0) : 0.0; }

// Baselines are quantiles of at most this many evenly spaced samples: a day of one-minute
// samples costs the same as a day of five-minute ones, and a quantile of 512 samples is as
// good a baseline as one of 1,440.
constexpr size_t kBaselineSamples = 512;

// The stride that picks at most kBaselineSamples of n samples.
size_t baseline_stride(size_t n) {
  return n <= kBaselineSamples ? 1 : (n + kBaselineSamples - 1) / kBaselineSamples;
}

bool rf_metric(size_t m) { return m == kIbEsno || m == kObEsno || m == kIbGrade || m == kObGrade; }

bool compatible(Signature a, Signature b) {
  return (a == Signature::Traffic) == (b == Signature::Traffic);
}

std::string iso_utc(int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

double round_to(double x, double scale) { return std::round(x * scale) / scale; }

std::string fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Per link: flags, runs, baselines.
// ---------------------------------------------------------------------------------------

Analysis::Analysis(const Topology& topology, ScopeKind scope, const Window& window,
                   size_t scope_size, const DetectorOptions& options)
    : topology_(topology),
      scope_(scope),
      window_(window),
      scope_size_(scope_size),
      options_(options) {
  if (window.series.size() != window.links.size() || scope_size > window.links.size())
    throw InvalidParameter("telemetry window does not match its links");
  if (window.end <= window.start) throw InvalidParameter("empty analysis window");
  for (const size_t l : window.links) {
    if (l >= topology.size()) throw InvalidParameter("telemetry of a link outside the topology");
  }
  for (const Series& s : window.series) {
    if (s.ts.size() != s.values.size() || !std::is_sorted(s.ts.begin(), s.ts.end()))
      throw InvalidParameter("a link's telemetry is not one value row per time, in time order");
  }
  const size_t n = window.links.size();
  links_.resize(n);
  runs_of_member_.resize(n);
  size_t total = 0;
  for (const Series& s : window.series) total += s.size();
  // Links are analysed side by side (each writes its own state and runs), then the runs are
  // numbered in member order: the same result for any thread count.
  std::vector<std::vector<Run>> member_runs(n);
  for_each_member(n, total, [&](size_t m) { analyse_link(m, member_runs[m]); });
  double covered = 0;
  for (size_t m = 0; m < n; ++m) {
    for (Run& r : member_runs[m]) {
      runs_of_member_[m].push_back(runs_.size());
      runs_.push_back(r);
    }
    if (m < scope_size) {
      covered += links_[m].coverage;
      samples_ += window.series[m].size();
    }
  }
  coverage_ = scope_size ? covered / static_cast<double>(scope_size) : 0.0;
  build_episodes(total);
}

void Analysis::for_each_member(size_t n, size_t samples, const std::function<void(size_t)>& f) {
  if (samples < kParallelSamples || n < 2) {
    for (size_t m = 0; m < n; ++m) f(m);
    return;
  }
  parallel_for(n, 0, [&](size_t m, const InterruptCheck&) { f(m); }, {});
}

void Analysis::analyse_link(size_t member, std::vector<Run>& runs) {
  const Series& s = window_.series[member];
  LinkState& st = links_[member];
  const size_t n = s.size();
  st.flags.assign(n, 0);
  if (n == 0) return;
  std::vector<double> scratch;
  scratch.reserve(n);
  const size_t stride = baseline_stride(n);
  if (n >= 2) {
    for (size_t i = 1; i < n; i += stride)
      scratch.push_back(static_cast<double>(s.ts[i] - s.ts[i - 1]));
    st.step = std::max<int64_t>(1, static_cast<int64_t>(quantile_nearest(scratch, 0.5)));
  }
  st.coverage = clamp01(static_cast<double>(n) * static_cast<double>(st.step) /
                        static_cast<double>(window_.end - window_.start));

  auto window_quantile = [&](size_t metric, double q) {
    scratch.clear();
    for (size_t i = 0; i < n; i += stride) {
      if (std::isfinite(s.values[i][metric])) scratch.push_back(s.values[i][metric]);
    }
    return quantile_nearest(scratch, q);
  };
  // First-pass baselines over the whole window: what "degraded" is measured against.
  const double ib = window_quantile(kIbEsno, 0.9), ob = window_quantile(kObEsno, 0.9);
  const double ib_loss = window_quantile(kIbLoss, 0.5), ob_loss = window_quantile(kObLoss, 0.5);
  const double latency = window_quantile(kLatency, 0.5);
  const DetectorOptions& o = options_;
  for (size_t i = 0; i < n; ++i) {
    const auto& v = s.values[i];
    uint8_t f = 0;
    if (v[kIbGrade] < o.critical_grade || v[kIbEsno] < ib - o.esno_drop_db) f |= kIbBad;
    if (v[kObGrade] < o.critical_grade || v[kObEsno] < ob - o.esno_drop_db) f |= kObBad;
    if (v[kIbLoss] - ib_loss > o.loss_excess_pct || v[kObLoss] - ob_loss > o.loss_excess_pct ||
        v[kUptime] < o.uptime_floor_pct || v[kLatency] - latency > o.latency_excess_ms) {
      f |= kTrafficBad;
    }
    st.flags[i] = f;
  }

  // Runs: degraded samples joined across short gaps.
  auto close = [&](size_t first, size_t last) {
    Run r;
    r.member = member;
    r.first = first;
    r.last = last;
    r.start = s.ts[first];
    r.end = s.ts[last] + st.step;
    size_t bad = 0, rf = 0, both = 0, transitions = 0;
    for (size_t i = first; i <= last; ++i) {
      const uint8_t f = st.flags[i];
      if (f == 0) continue;
      ++bad;
      if (f & (kIbBad | kObBad)) ++rf;
      if ((f & kIbBad) && (f & kObBad)) ++both;
      if (i > first && st.flags[i - 1] == 0) ++transitions;
    }
    if (r.end - r.start < o.min_duration_s || bad < 3) return;
    const double hours = static_cast<double>(r.end - r.start) / 3600.0;
    r.bad_fraction = static_cast<double>(bad) / static_cast<double>(last - first + 1);
    r.rf_fraction = static_cast<double>(rf) / static_cast<double>(bad);
    r.both_fraction = static_cast<double>(both) / static_cast<double>(bad);
    r.transitions_per_hour = static_cast<double>(transitions) / hours;
    if (r.rf_fraction < 0.3) {
      r.signature = Signature::Traffic;
    } else if (r.transitions_per_hour >= 0.75 && r.bad_fraction < 0.9) {
      r.signature = Signature::RfOscillating;
    } else {
      r.signature = Signature::RfSustained;
    }
    runs.push_back(r);
  };
  bool open = false;
  size_t first = 0, last = 0;
  for (size_t i = 0; i < n; ++i) {
    if (st.flags[i] == 0) continue;
    if (open && s.ts[i] - s.ts[last] <= o.merge_gap_s) {
      last = i;
      continue;
    }
    if (open) close(first, last);
    open = true;
    first = last = i;
  }
  if (open) close(first, last);
}

void Analysis::compute_baseline(size_t member) {
  const Series& s = window_.series[member];
  LinkState& st = links_[member];
  std::vector<uint8_t> in_run(s.size(), 0);
  size_t healthy = s.size();
  for (const size_t r : runs_of_member_[member]) {
    for (size_t i = runs_[r].first; i <= runs_[r].last; ++i) {
      in_run[i] = 1;
      --healthy;
    }
  }
  const bool use_all = healthy < kMinHealthySamples;
  // The samples the baselines use: healthy ones (or all), at most kBaselineSamples of them.
  std::vector<size_t> picked;
  picked.reserve(std::min(s.size(), 2 * kBaselineSamples));
  const size_t stride = baseline_stride(use_all ? s.size() : healthy);
  size_t k = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!use_all && in_run[i]) continue;
    if (k++ % stride == 0) picked.push_back(i);
  }
  std::vector<double> scratch;
  scratch.reserve(picked.size());
  for (size_t m = 0; m < kMetricCount; ++m) {
    scratch.clear();
    for (const size_t i : picked) {
      if (std::isfinite(s.values[i][m])) scratch.push_back(s.values[i][m]);
    }
    st.base[m] = quantile_nearest(scratch, rf_metric(m) ? 0.9 : 0.5);
  }
}

// Tolerances for "started and ended together": a quarter of an hour at the start, half an
// hour or a tenth of the duration at the end (an oscillating link's last degraded half-period
// can end before its fault does), never less than two samples.
namespace {
bool together(int64_t start_a, int64_t end_a, int64_t start_b, int64_t end_b, int64_t step) {
  const int64_t tol_start = std::max<int64_t>(900, 2 * step);
  const int64_t tol_end = std::max<int64_t>({1800, (end_b - start_b) / 10, 2 * step});
  return std::llabs(start_a - start_b) <= tol_start && std::llabs(end_a - end_b) <= tol_end;
}
}  // namespace

void Analysis::build_episodes(size_t samples) {
  std::vector<size_t> order;
  for (size_t r = 0; r < runs_.size(); ++r) {
    if (runs_[r].member < scope_size_) order.push_back(r);
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const Run &x = runs_[a], &y = runs_[b];
    if (x.start != y.start) return x.start < y.start;
    return x.member < y.member;
  });
  struct Seed {
    int64_t start, end, step;
  };
  std::vector<Seed> seeds;
  for (const size_t r : order) {
    const Run& run = runs_[r];
    const int64_t step = links_[run.member].step;
    bool placed = false;
    for (size_t e = 0; e < episodes_.size() && !placed; ++e) {
      Episode& ep = episodes_[e];
      const Seed& sd = seeds[e];
      if (!compatible(ep.signature, run.signature)) continue;
      if (ep.signature != Signature::Traffic && ep.signature != run.signature) continue;
      if (!together(run.start, run.end, sd.start, sd.end, std::max(step, sd.step))) continue;
      if (std::find(ep.members.begin(), ep.members.end(), run.member) != ep.members.end()) continue;
      ep.runs.push_back(r);
      ep.members.push_back(run.member);
      placed = true;
    }
    if (!placed) {
      Episode ep;
      ep.signature = run.signature;
      ep.runs.push_back(r);
      ep.members.push_back(run.member);
      episodes_.push_back(std::move(ep));
      seeds.push_back(Seed{run.start, run.end, step});
    }
  }
  std::vector<uint8_t> needs_baseline(window_.links.size(), 0);
  for (Episode& ep : episodes_) {
    std::sort(ep.members.begin(), ep.members.end());
    ep.start = std::numeric_limits<int64_t>::max();
    ep.end = std::numeric_limits<int64_t>::min();
    for (const size_t r : ep.runs) {
      ep.start = std::min(ep.start, runs_[r].start);
      ep.end = std::max(ep.end, runs_[r].end);
    }
    for (const size_t m : ep.members) needs_baseline[m] = 1;
  }
  for_each_member(needs_baseline.size(), samples, [&](size_t m) {
    if (needs_baseline[m]) compute_baseline(m);
  });
}

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

namespace {
// Per-member sums over the samples of an episode's interval.
struct MemberMeans {
  std::array<double, kMetricCount> mean{};
  double rf_depth_db = 0;    // mean over degraded samples of the larger Es/No drop
  double traffic_depth = 0;  // mean over degraded samples of the traffic excess, 0..1
  double coverage = 0;
  bool any = false;
};
}  // namespace

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

// ---------------------------------------------------------------------------------------
// Findings.
// ---------------------------------------------------------------------------------------

std::vector<std::string> pattern_recommendations(Pattern p, const Finding& f) {
  const std::string n = std::to_string(f.affected.size());
  const std::string links = n + (f.affected.size() == 1 ? " link" : " links");
  switch (p) {
    case Pattern::EquipmentFailure:
      return {"Check the shared network equipment of network " + f.entity_id +
                  " (hub routers, switches, modems, power) and fail over to standby units: " +
                  links + " lost packets and uptime together while their RF stayed normal",
              "Compare with the hub and remote sites' error rates and response times from the same "
              "hour to find the failed element",
              "Open a priority ticket for the field team and watch packet loss return to baseline "
              "after the repair"};
    case Pattern::AntennaAlignment:
      return {"Re-peak hub antenna " + f.entity_id +
                  ": check its pointing, tracking system and feed; inbound Es/No oscillates on " +
                  links,
              "Review the antenna's tracking and motor logs and the wind load for the period",
              "Until it is fixed, give the affected links more link margin (lower MODCOD / ACM)"};
    case Pattern::SatelliteInterference:
      return {"Report interference on " + f.entity_id +
                  " to the satellite operator with the affected carriers and times (" + links +
                  " across hub antennas)",
              "Run a spectrum analysis on the affected transponder to locate the interferer",
              "Move critical traffic to another transponder or satellite until it is cleared"};
    case Pattern::AntennaMisalignment:
      return {"Dispatch a technician to re-point the remote antenna of link " + f.entity_id +
                  ": inbound and outbound Es/No dropped together while its antenna peers stayed "
                  "normal",
              "Check the remote's mount, cabling, LNB and BUC for damage or water ingress",
              "Verify cross-polarisation isolation and Es/No against the link's baseline after "
              "re-pointing"};
    case Pattern::None:
      break;
  }
  return {};
}

namespace {

template <typename T>
size_t most_common(const std::vector<T>& v) {
  std::map<T, size_t> count;
  for (const T& x : v) ++count[x];
  size_t best = 0, best_n = 0;
  for (const auto& [x, c] : count) {
    if (c > best_n) {
      best = x;
      best_n = c;
    }
  }
  return best;
}

std::string signature_name(Signature s) {
  switch (s) {
    case Signature::Traffic:
      return "traffic";
    case Signature::RfSustained:
      return "rf_sustained";
    case Signature::RfOscillating:
      return "rf_oscillating";
  }
  return "";
}

}  // namespace

std::vector<Finding> correlate(const Analysis& a, const Classifier* classifier,
                               const std::string& classifier_name) {
  std::vector<Finding> out;
  const double min_score = a.options().min_score;
  const Topology& topo = a.topology();
  const Window& w = a.window();
  for (size_t e = 0; e < a.episodes().size(); ++e) {
    const Episode& ep = a.episodes()[e];
    const auto f = a.features(e);
    const auto s = a.scores(f);
    Pattern pattern = Pattern::None;
    double best = -1;
    std::optional<ClassProbabilities> probs;
    std::array<double, kPatternCount> combined = s;
    if (classifier) {
      probs = classifier->predict(f);
      for (size_t c = 0; c < kPatternCount; ++c) combined[c] = 0.5 * s[c] + 0.5 * (*probs)[c];
    }
    for (size_t c = 0; c < kPatternCount; ++c) {
      if (combined[c] > best) {
        best = combined[c];
        pattern = static_cast<Pattern>(c);
      }
    }
    const size_t pi = static_cast<size_t>(pattern);
    // Too weak to report; or the classifier calls it none of the four and the detectors
    // are not sure either.
    if (best < min_score) continue;
    if (probs && (*probs)[static_cast<size_t>(Pattern::None)] >= 0.5 && s[pi] < 0.5) continue;
    const auto sev = a.severity(e, pattern, f);
    const auto conf = a.confidence(e, s[pi], f);

    Finding out_f;
    out_f.pattern = pattern;
    out_f.start = ep.start;
    out_f.end = ep.end;
    out_f.features = f;
    out_f.severity = sev.value;
    out_f.confidence = probs ? clamp01(0.5 * conf.value + 0.5 * (*probs)[pi])
                             : clamp01(kUnclassifiedConfidence * conf.value);
    std::vector<size_t> nets, ants, sats;
    for (const size_t m : ep.members) {
      const size_t l = w.links[m];
      out_f.affected.push_back(topo.link(l).link_id);
      nets.push_back(topo.network_of(l));
      ants.push_back(topo.antenna_of(l));
      sats.push_back(topo.satellite_of(l));
    }
    std::sort(out_f.affected.begin(), out_f.affected.end());
    const std::string n_links =
        std::to_string(out_f.affected.size()) + (out_f.affected.size() == 1 ? " link" : " links");
    const std::string span = " from " + iso_utc(ep.start) + " to " + iso_utc(ep.end);
    switch (pattern) {
      case Pattern::EquipmentFailure:
        out_f.entity_type = "network";
        out_f.entity_id = topo.network_id(most_common(nets));
        out_f.root_cause = "Network equipment failure in " + out_f.entity_id + ": " + n_links +
                           " lost packets (+" +
                           fixed(std::max(f[kIbLossExcess], f[kObLossExcess]), 1) +
                           " points) with normal RF" + span;
        break;
      case Pattern::AntennaAlignment:
        out_f.entity_type = "hub_antenna";
        out_f.entity_id = topo.antenna_id(most_common(ants));
        out_f.root_cause =
            "Hub antenna " + out_f.entity_id + " out of alignment: inbound Es/No on " + n_links +
            " oscillating about " + fixed(f[kOscillation], 1) + " times an hour" + span;
        break;
      case Pattern::SatelliteInterference:
        out_f.entity_type = "satellite";
        out_f.entity_id = topo.satellite_name(most_common(sats));
        out_f.root_cause = "Interference on satellite " + out_f.entity_id +
                           ": inbound and outbound Es/No down " +
                           fixed(0.5 * (f[kIbDrop] + f[kObDrop]), 1) + " dB on " + n_links +
                           " across " + fixed(f[kAntennas], 0) +
                           (f[kAntennas] == 1.0 ? " hub antenna" : " hub antennas") + span;
        break;
      case Pattern::AntennaMisalignment:
      case Pattern::None:
        out_f.entity_type = "link";
        out_f.entity_id = out_f.affected.front();
        out_f.root_cause = "Remote antenna of link " + out_f.entity_id + " (site " +
                           topo.link(w.links[ep.members.front()]).remote_site_id +
                           ") misaligned: inbound and outbound Es/No down " +
                           fixed(0.5 * (f[kIbDrop] + f[kObDrop]), 1) + " dB" + span;
        break;
    }
    out_f.recommendations = pattern_recommendations(pattern, out_f);

    nlohmann::json ev;
    ev["scope"] = std::string(scope_name(a.scope()));
    ev["window"] = {{"start", iso_utc(w.start)}, {"end", iso_utc(w.end)}};
    ev["started_at"] = iso_utc(ep.start);
    ev["ended_at"] = iso_utc(ep.end);
    ev["entity"] = {{"type", out_f.entity_type}, {"id", out_f.entity_id}};
    ev["signature"] = signature_name(ep.signature);
    ev["links_in_scope"] = a.scope_size();
    nlohmann::json feats = nlohmann::json::object();
    for (size_t k = 0; k < kFeatureCount; ++k) feats[feature_names()[k]] = round_to(f[k], 1e4);
    ev["features"] = feats;
    nlohmann::json det = nlohmann::json::object();
    for (size_t c = 0; c < kPatternCount; ++c)
      det[std::string(pattern_name(static_cast<Pattern>(c)))] = round_to(s[c], 1e4);
    ev["detector_scores"] = det;
    if (probs) {
      nlohmann::json p = nlohmann::json::object();
      for (size_t c = 0; c < kClassCount; ++c)
        p[std::string(pattern_name(static_cast<Pattern>(c)))] = round_to((*probs)[c], 1e4);
      ev["classifier"] = {{"model", classifier_name}, {"probabilities", p}};
    } else {
      ev["classifier"] = {{"model", nullptr},
                          {"note",
                           "no root-cause classifier is trained: detectors only, confidence "
                           "scaled by 0.75"}};
    }
    ev["severity"] = {{"depth", round_to(sev.depth, 1e4)},
                      {"frequency", round_to(sev.frequency, 1e4)},
                      {"share", round_to(sev.share, 1e4)}};
    ev["confidence"] = {{"detector", round_to(conf.value, 1e4)},
                        {"consistency", round_to(conf.consistency, 1e4)},
                        {"correlation", round_to(conf.correlation, 1e4)},
                        {"coverage", round_to(conf.coverage, 1e4)}};
    out_f.evidence = std::move(ev);
    out.push_back(std::move(out_f));
  }
  std::stable_sort(out.begin(), out.end(), [](const Finding& x, const Finding& y) {
    const double kx = x.severity * x.confidence, ky = y.severity * y.confidence;
    if (kx != ky) return kx > ky;
    return x.start < y.start;
  });
  return out;
}

}  // namespace insight::rootcause
