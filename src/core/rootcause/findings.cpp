// Findings: each episode's winning pattern (the detectors' scores, with a classifier's
// probabilities when one is trained), where its root cause sits, a sentence, what to do about
// it, and the evidence behind it.
#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/rootcause/detector.hpp"
#include "core/rootcause/detector_detail.hpp"

namespace insight::rootcause {
namespace {

using namespace detail;

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
