// The root-cause detectors over one scope's telemetry window (docs/reference.md, "Root-cause
// correlation"):
//
//  1. Degradation per link and sample, against the link's own baseline over the window:
//     inbound/outbound grade below 7 or Es/No more than 3 dB under the link's 90th percentile
//     (RF), packet loss, uptime or latency beyond the link's median (traffic).
//  2. Runs: a link's degraded samples joined across gaps of up to 30 minutes (so an
//     oscillating antenna gives one run), kept when they last at least 20 minutes (isolated
//     spikes are the anomaly detectors' business). Each run has a signature: traffic (loss
//     without RF degradation), RF sustained, or RF oscillating.
//  3. Episodes: runs of the scope's links with the same signature that start and end together
//     (simultaneity) are one episode.
//  4. Features of each episode (feature_names()) and four pattern scores in [0, 1]:
//       equipment_failure       traffic degradation on many links, across antennas/satellites
//       antenna_alignment       oscillating RF degradation concentrated on one hub antenna
//       satellite_interference  sustained RF degradation on several links of one satellite
//       antenna_misalignment    one link's inbound and outbound degrade, its peers are fine
//     Peers are links outside the episode that share its antenna or satellite: the scope's own
//     links, plus context links a narrow scope reads for comparison (Window::scope_size).
//  5. Severity = depth × frequency × share of entities affected; confidence from consistency,
//     correlation strength and data coverage, combined with the classifier's probability.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/rootcause/telemetry.hpp"

namespace insight::rootcause {

// The four root causes, then None (the classifier's class for a degradation that is none of
// them). Numbers are stored in payloads: never renumber.
enum class Pattern : uint8_t {
  EquipmentFailure = 0,
  AntennaAlignment = 1,
  SatelliteInterference = 2,
  AntennaMisalignment = 3,
  None = 4
};
constexpr size_t kPatternCount = 4;  // the root causes
constexpr size_t kClassCount = 5;    // and None
std::string_view pattern_name(Pattern p) noexcept;
std::optional<Pattern> pattern_from_name(std::string_view name) noexcept;

enum class ScopeKind : uint8_t { Link = 0, HubAntenna = 1, Satellite = 2, Network = 3 };
std::string_view scope_name(ScopeKind s) noexcept;
std::optional<ScopeKind> scope_from_name(std::string_view name) noexcept;

struct DetectorOptions {
  double critical_grade = 7.0;     // a grade below this is degraded
  double esno_drop_db = 3.0;       // Es/No this far under the link's baseline is degraded
  double loss_excess_pct = 2.0;    // packet loss this many points over the baseline
  double latency_excess_ms = 100;  // latency this far over the baseline
  double uptime_floor_pct = 97.0;  // uptime under this
  int64_t merge_gap_s = 1800;      // degraded samples this close belong to one run
  int64_t min_duration_s = 1200;   // shorter runs are ignored
  double min_score = 0.2;          // an episode whose best pattern scores less is not reported
};

enum class Signature : uint8_t { Traffic = 0, RfSustained = 1, RfOscillating = 2 };

struct Run {
  size_t member = 0;           // index into Window::links
  size_t first = 0, last = 0;  // sample indexes of the first and last degraded sample
  int64_t start = 0, end = 0;  // [first sample, last sample + step)
  double bad_fraction = 0;     // degraded samples / samples in the run
  double rf_fraction = 0;      // of the degraded samples: RF degraded
  double both_fraction = 0;    // of the degraded samples: inbound and outbound RF degraded
  double transitions_per_hour = 0;
  Signature signature = Signature::Traffic;
};

struct Episode {
  Signature signature = Signature::Traffic;
  int64_t start = 0, end = 0;
  std::vector<size_t> runs;     // indexes into Analysis::runs()
  std::vector<size_t> members;  // indexes into Window::links, ascending
};

// Episode features, the classifier's inputs; names as in feature_names().
constexpr size_t kFeatureCount = 27;
const std::array<const char*, kFeatureCount>& feature_names() noexcept;

class Analysis {
 public:
  // window.links[0 .. scope_size) are the scope's links, the rest context peers.
  Analysis(const Topology& topology, ScopeKind scope, const Window& window, size_t scope_size,
           const DetectorOptions& options = {});

  const std::vector<Run>& runs() const noexcept { return runs_; }
  const std::vector<Episode>& episodes() const noexcept { return episodes_; }
  // Links of the scope that had at least one sample in the window / that were expected.
  double coverage() const noexcept { return coverage_; }
  size_t samples() const noexcept { return samples_; }

  std::array<double, kFeatureCount> features(size_t episode) const;
  // The four pattern scores in [0, 1] (index = Pattern).
  std::array<double, kPatternCount> scores(const std::array<double, kFeatureCount>& f) const;

  // Severity and its three factors for one pattern of an episode.
  struct Severity {
    double value, depth, frequency, share;
  };
  // f: the episode's features().
  Severity severity(size_t episode, Pattern p, const std::array<double, kFeatureCount>& f) const;
  // Detector confidence in [0, 1] from the winning score, consistency, correlation strength
  // and data coverage.
  struct Confidence {
    double value, consistency, correlation, coverage;
  };
  Confidence confidence(size_t episode, double score,
                        const std::array<double, kFeatureCount>& f) const;

  const Topology& topology() const noexcept { return topology_; }
  const Window& window() const noexcept { return window_; }
  ScopeKind scope() const noexcept { return scope_; }
  size_t scope_size() const noexcept { return scope_size_; }
  const DetectorOptions& options() const noexcept { return options_; }

 private:
  struct LinkState {
    int64_t step = 60;
    // baselines: Es/No and grades at their 90th percentile, the rest at the median, over the
    // link's samples outside its runs (the whole window when too few are left)
    std::array<double, kMetricCount> base{};
    std::vector<uint8_t> flags;  // per sample: 1 inbound RF, 2 outbound RF, 4 traffic
    double coverage = 0;
  };
  // Flags and baselines of one link; its runs go to `runs`.
  void analyse_link(size_t member, std::vector<Run>& runs);
  void compute_baseline(size_t member);
  void build_episodes(size_t samples);
  // f(member) for every member, on several threads when the window is large.
  static void for_each_member(size_t n, size_t samples, const std::function<void(size_t)>& f);
  // Peers of the episode (not in it) sharing its antenna (or else its satellite), and the
  // share of them with a run overlapping the episode with a compatible signature; -1 if none.
  double peer_share(const Episode& e, bool same_antenna) const;
  // A run of another link that started and ended with the episode, degraded alike.
  bool same_event(const Run& r, const Episode& e) const;
  size_t matching_peers(const Episode& e, bool by_network, size_t& observed) const;
  // The member is in the episode, or has a run that is the same event.
  bool degraded_alike(size_t member, const Episode& e) const;

  const Topology& topology_;
  ScopeKind scope_;
  const Window& window_;
  size_t scope_size_;
  DetectorOptions options_;
  std::vector<LinkState> links_;
  std::vector<std::vector<size_t>> runs_of_member_;
  std::vector<Run> runs_;
  std::vector<Episode> episodes_;
  double coverage_ = 0;
  size_t samples_ = 0;
};

// A reported root-cause pattern.
struct Finding {
  Pattern pattern = Pattern::None;
  double severity = 0, confidence = 0;
  int64_t start = 0, end = 0;
  std::string entity_type, entity_id;  // where the root cause sits
  std::vector<std::string> affected;   // link ids, ascending
  std::string root_cause;              // one sentence
  std::vector<std::string> recommendations;
  nlohmann::json evidence;
  std::array<double, kFeatureCount> features{};
};

// Class probabilities (index = Pattern, None last) of a trained classifier.
using ClassProbabilities = std::array<double, kClassCount>;
class Classifier {
 public:
  virtual ~Classifier() = default;
  virtual ClassProbabilities predict(const std::array<double, kFeatureCount>& features) const = 0;
};

// The detectors' findings for every episode of the analysis, strongest first (severity ×
// confidence). Without a classifier the detectors answer alone, their confidence scaled by
// kUnclassifiedConfidence and the evidence saying so.
constexpr double kUnclassifiedConfidence = 0.75;
std::vector<Finding> correlate(const Analysis& analysis, const Classifier* classifier,
                               const std::string& classifier_name = {});

// What to do about a pattern, most urgent first.
std::vector<std::string> pattern_recommendations(Pattern p, const Finding& f);

}  // namespace insight::rootcause
