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
#include "core/rootcause/detector_detail.hpp"

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

using namespace detail;

constexpr size_t kMinHealthySamples = 12;
// Windows with fewer samples are analysed on the calling thread alone.
constexpr size_t kParallelSamples = 50000;

// Baselines are quantiles of at most this many evenly spaced samples: a day of one-minute
// samples costs the same as a day of five-minute ones, and a quantile of 512 samples is as
// good a baseline as one of 1,440.
constexpr size_t kBaselineSamples = 512;

// The stride that picks at most kBaselineSamples of n samples.
size_t baseline_stride(size_t n) {
  return n <= kBaselineSamples ? 1 : (n + kBaselineSamples - 1) / kBaselineSamples;
}

bool rf_metric(size_t m) { return m == kIbEsno || m == kObEsno || m == kIbGrade || m == kObGrade; }

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

}  // namespace insight::rootcause
