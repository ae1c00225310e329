#include "core/demo/demo_data.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/common/error.hpp"

namespace insight::demo {
namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kEnd = 1717200000;  // 2024-06-01 00:00:00 UTC, a Saturday midnight

DemoConfig config(int days, uint64_t seed = 42, int step = 300, int64_t end = kEnd) {
  DemoConfig c;
  c.days = days;
  c.seed = seed;
  c.step_seconds = step;
  c.end_epoch = end;
  return c;
}

uint64_t fnv_bytes(uint64_t h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001B3ULL;
  }
  return h;
}

template <typename T>
uint64_t fnv_value(uint64_t h, const T& v) {
  return fnv_bytes(h, &v, sizeof v);
}

uint64_t link_rows_hash(const DemoWorld& w) {
  uint64_t h = 0xCBF29CE484222325ULL;
  w.link_metrics([&](size_t link, const LinkMetricsRow& r) {
    h = fnv_value(h, link);
    for (double v : {r.throughput_mbps, r.utilization, r.errors, r.discards, r.uptime_pct,
                     r.ib_esno_db, r.ob_esno_db, r.ib_grade, r.ob_grade, r.ib_packet_loss_pct,
                     r.ob_packet_loss_pct, r.latency_ms, r.jitter_ms}) {
      h = fnv_value(h, v);
    }
    h = fnv_value(h, r.ts);
  });
  return h;
}

uint64_t other_rows_hash(const DemoWorld& w) {
  uint64_t h = 0xCBF29CE484222325ULL;
  w.transactions([&](const TransactionRow& r) {
    h = fnv_value(h, r.ts);
    h = fnv_bytes(h, r.user_id.data(), r.user_id.size());
    h = fnv_bytes(h, r.product_id.data(), r.product_id.size());
    h = fnv_value(h, r.quantity);
    h = fnv_value(h, r.total_amount);
  });
  w.site_metrics([&](size_t s, const SiteMetricsRow& r) {
    h = fnv_value(h, s);
    for (double v : {r.response_time_ms, r.error_rate, r.uptime_pct, r.cpu_pct, r.memory_pct}) {
      h = fnv_value(h, v);
    }
  });
  w.network_metrics([&](size_t n, const NetworkMetricsRow& r) {
    h = fnv_value(h, n);
    for (double v :
         {r.bandwidth_mbps, r.packet_loss_pct, r.latency_ms, r.error_rate, r.connections}) {
      h = fnv_value(h, v);
    }
  });
  for (const Fault& f : w.faults()) {
    h = fnv_value(h, f.fault_id);
    h = fnv_value(h, f.started_at);
    h = fnv_value(h, f.ended_at);
    h = fnv_bytes(h, f.scope_id.data(), f.scope_id.size());
    h = fnv_bytes(h, f.notes.data(), f.notes.size());
  }
  return h;
}

bool is_root_cause(const Fault& f) {
  return f.kind == "equipment_failure" || f.kind == "antenna_alignment" ||
         f.kind == "satellite_interference" || f.kind == "antenna_misalignment";
}

bool overlaps(const Fault& f, int64_t s, int64_t e) { return f.started_at < e && s < f.ended_at; }

bool fault_touches_link(const Fault& f, const std::string& link_id) {
  return std::find(f.affected_links.begin(), f.affected_links.end(), link_id) !=
         f.affected_links.end();
}

size_t link_index(const DemoWorld& w, const std::string& id) {
  for (size_t i = 0; i < w.links().size(); ++i) {
    if (w.links()[i].link_id == id) return i;
  }
  return SIZE_MAX;
}

// The 7-day world most tests share, built once.
const DemoWorld& week() {
  static const DemoWorld w(config(7));
  return w;
}

TEST(DemoData, DeterministicAndSeedSensitive) {
  const DemoWorld a(config(2)), b(config(2)), c(config(2, 43));
  const uint64_t ha = link_rows_hash(a);
  EXPECT_EQ(ha, link_rows_hash(a)) << "generating twice from one world must repeat";
  EXPECT_EQ(ha, link_rows_hash(b));
  EXPECT_NE(ha, link_rows_hash(c));
  EXPECT_EQ(other_rows_hash(a), other_rows_hash(b));
  EXPECT_NE(other_rows_hash(a), other_rows_hash(c));
  ASSERT_EQ(a.faults().size(), b.faults().size());
  for (size_t i = 0; i < a.faults().size(); ++i) {
    EXPECT_EQ(a.faults()[i].notes, b.faults()[i].notes);
    EXPECT_EQ(a.faults()[i].affected_links, b.faults()[i].affected_links);
  }
  for (size_t i = 0; i < a.products().size(); ++i) {
    EXPECT_EQ(a.products()[i].price, b.products()[i].price);
  }
}

TEST(DemoData, GeneratorsAreIndependentOfCallOrder) {
  const DemoWorld a(config(1)), b(config(1));
  uint64_t h_site_first = 0;
  b.site_metrics([&](size_t s, const SiteMetricsRow& r) {
    h_site_first = fnv_value(fnv_value(h_site_first, s), r.cpu_pct);
  });
  EXPECT_EQ(link_rows_hash(a), link_rows_hash(b));
  uint64_t h_site_second = 0;
  a.site_metrics([&](size_t s, const SiteMetricsRow& r) {
    h_site_second = fnv_value(fnv_value(h_site_second, s), r.cpu_pct);
  });
  EXPECT_EQ(h_site_first, h_site_second);
}

TEST(DemoData, TopologyAndRowCounts) {
  const DemoWorld w(config(1));
  EXPECT_EQ(w.products().size(), 200u);
  EXPECT_EQ(w.networks().size(), 4u);
  EXPECT_EQ(w.satellites().size(), 4u);
  EXPECT_EQ(w.sites().size(), 228u);
  EXPECT_EQ(w.hub_antennas().size(), 24u);
  EXPECT_EQ(w.links().size(), 220u);
  EXPECT_EQ(w.products().front().product_id, "P0001");
  EXPECT_EQ(w.products().back().product_id, "P0200");
  EXPECT_EQ(w.end_epoch(), kEnd);
  EXPECT_EQ(w.start_epoch(), kEnd - kDay);

  std::set<std::string> categories, ids;
  for (const Product& p : w.products()) {
    categories.insert(p.category);
    ids.insert(p.product_id);
    EXPECT_GT(p.price, 0.0);
    EXPECT_NE(p.name.find(' '), std::string::npos);
  }
  EXPECT_EQ(categories.size(), 8u);
  EXPECT_EQ(ids.size(), 200u);

  size_t hubs = 0;
  for (const Site& s : w.sites()) hubs += s.site_type == "hub" ? 1 : 0;
  EXPECT_EQ(hubs, 8u);
  // Every satellite is served from several hubs of several networks.
  std::map<std::string, std::set<std::string>> sat_hubs, sat_nets;
  for (const HubAntenna& a : w.hub_antennas()) {
    sat_hubs[a.satellite_name].insert(a.site_id);
    sat_nets[a.satellite_name].insert(a.site_id.substr(4, 2));
  }
  for (const Satellite& s : w.satellites()) {
    EXPECT_GE(sat_hubs[s.satellite_name].size(), 3u);
    EXPECT_GE(sat_nets[s.satellite_name].size(), 3u);
  }
  std::map<std::string, std::string> antenna_sat;
  for (const HubAntenna& a : w.hub_antennas()) antenna_sat[a.antenna_id] = a.satellite_name;
  for (const Link& l : w.links()) EXPECT_EQ(antenna_sat.at(l.hub_antenna_id), l.satellite_name);

  // Row counts: one row per entity per sample, in (entity, ts) order on the step grid.
  for (int step : {300, 60}) {
    const DemoWorld ws(config(1, 42, step, kEnd + 17));  // end is aligned down to the step
    EXPECT_EQ(ws.end_epoch(), kEnd);
    const int64_t per_entity = kDay / step;
    int64_t rows = 0;
    size_t last_link = 0;
    int64_t expect_ts = ws.start_epoch();
    bool ordered = true;
    ws.link_metrics([&](size_t link, const LinkMetricsRow& r) {
      if (link != last_link) {
        ordered = ordered && link == last_link + 1 && expect_ts == ws.end_epoch();
        last_link = link;
        expect_ts = ws.start_epoch();
      }
      ordered = ordered && r.ts == expect_ts;
      expect_ts += step;
      ++rows;
    });
    EXPECT_TRUE(ordered);
    EXPECT_EQ(rows, 220 * per_entity);
    int64_t site_rows = 0, net_rows = 0;
    ws.site_metrics([&](size_t, const SiteMetricsRow&) { ++site_rows; });
    ws.network_metrics([&](size_t, const NetworkMetricsRow&) { ++net_rows; });
    EXPECT_EQ(site_rows, 228 * per_entity);
    EXPECT_EQ(net_rows, 4 * per_entity);
  }
}

TEST(DemoData, ValuesArePhysicallySane) {
  const DemoWorld& w = week();
  bool ok = true;
  double grade_sum = 0;
  int64_t n = 0;
  w.link_metrics([&](size_t, const LinkMetricsRow& r) {
    ok = ok && r.utilization >= 0 && r.utilization <= 1 && r.throughput_mbps >= 0 &&
         r.throughput_mbps <= 50 && r.errors >= 0 && r.discards >= 0 && r.uptime_pct >= 0 &&
         r.uptime_pct <= 100 && r.ib_grade >= 0 && r.ib_grade <= 10 && r.ob_grade >= 0 &&
         r.ob_grade <= 10 && r.ib_packet_loss_pct >= 0 && r.ib_packet_loss_pct <= 100 &&
         r.ob_packet_loss_pct >= 0 && r.ob_packet_loss_pct <= 100 && r.latency_ms > 400 &&
         r.jitter_ms > 0;
    grade_sum += r.ib_grade;
    ++n;
  });
  EXPECT_TRUE(ok);
  EXPECT_GT(grade_sum / static_cast<double>(n), 8.0);
  w.site_metrics([&](size_t, const SiteMetricsRow& r) {
    ok = ok && r.response_time_ms > 0 && r.error_rate >= 0 && r.error_rate <= 100 &&
         r.uptime_pct <= 100 && r.cpu_pct >= 0 && r.cpu_pct <= 100 && r.memory_pct >= 0 &&
         r.memory_pct <= 100;
  });
  EXPECT_TRUE(ok);
  w.network_metrics([&](size_t, const NetworkMetricsRow& r) {
    ok = ok && r.bandwidth_mbps >= 0 && r.packet_loss_pct >= 0 && r.packet_loss_pct <= 100 &&
         r.latency_ms > 0 && r.error_rate >= 0 && r.connections >= 0;
  });
  EXPECT_TRUE(ok);
}

TEST(DemoData, FaultKindsCountsAndLastDay) {
  for (int days : {1, 7, 12}) {
    SCOPED_TRACE("days=" + std::to_string(days));
    const DemoWorld w(config(days));
    const int64_t last_day = w.end_epoch() - kDay;
    std::map<std::string, int> total, recent;
    int64_t prev_start = INT64_MIN, expect_id = 1;
    for (const Fault& f : w.faults()) {
      EXPECT_EQ(f.fault_id, expect_id++);
      EXPECT_GE(f.started_at, prev_start);
      prev_start = f.started_at;
      EXPECT_LT(f.started_at, f.ended_at);
      EXPECT_GE(f.started_at, w.start_epoch());
      EXPECT_LE(f.ended_at, w.end_epoch());
      EXPECT_FALSE(f.notes.empty());
      ++total[f.kind];
      if (f.started_at >= last_day && f.ended_at < w.end_epoch()) ++recent[f.kind];
      if (is_root_cause(f)) {
        EXPECT_EQ(f.root_cause, f.kind);
        EXPECT_TRUE(f.metric.empty());
        EXPECT_FALSE(f.affected_links.empty());
      } else {
        EXPECT_TRUE(f.root_cause.empty());
      }
      if (f.kind == "metric_spike") {
        EXPECT_FALSE(f.metric.empty());
        EXPECT_LE(f.ended_at - f.started_at, 3 * 300);
      }
    }
    const int per_kind = std::max(2, days / 5);
    for (const char* k : {"equipment_failure", "antenna_alignment", "satellite_interference",
                          "antenna_misalignment"}) {
      EXPECT_EQ(total[k], per_kind) << k;
      EXPECT_GE(recent[k], 1) << k;
    }
    EXPECT_EQ(total["metric_spike"], 4 * days);
    EXPECT_GE(recent["metric_spike"], 3);
    if (days >= 3) {
      // The rest are spread over the earlier period.
      int earlier = 0;
      for (const Fault& f : w.faults()) {
        if (is_root_cause(f) && f.ended_at <= last_day) ++earlier;
      }
      EXPECT_EQ(earlier, 4 * (per_kind - 1));
    }
  }
}

TEST(DemoData, FaultsReferToTopologyAndDoNotOverlap) {
  const DemoWorld w(config(12));
  std::set<std::string> networks, antennas, sats, links, sites, categories;
  for (const auto& n : w.networks()) networks.insert(n.network_id);
  for (const auto& a : w.hub_antennas()) antennas.insert(a.antenna_id);
  for (const auto& s : w.satellites()) sats.insert(s.satellite_name);
  for (const auto& l : w.links()) links.insert(l.link_id);
  for (const auto& s : w.sites()) sites.insert(s.site_id);
  for (const auto& p : w.products()) categories.insert(p.category);
  const std::map<std::string, const std::set<std::string>*> scope_sets = {
      {"network", &networks}, {"hub_antenna", &antennas}, {"satellite", &sats},
      {"link", &links},       {"site", &sites},           {"category", &categories}};
  for (const Fault& f : w.faults()) {
    ASSERT_TRUE(scope_sets.count(f.scope)) << f.scope;
    EXPECT_TRUE(scope_sets.at(f.scope)->count(f.scope_id)) << f.scope << " " << f.scope_id;
    for (const auto& l : f.affected_links) EXPECT_TRUE(links.count(l)) << l;
    for (const auto& s : f.affected_sites) EXPECT_TRUE(sites.count(s)) << s;
  }
  // No two faults overlap on the same link.
  for (size_t i = 0; i < w.faults().size(); ++i) {
    for (size_t j = i + 1; j < w.faults().size(); ++j) {
      const Fault& a = w.faults()[i];
      const Fault& b = w.faults()[j];
      if (!overlaps(a, b.started_at, b.ended_at)) continue;
      for (const auto& l : a.affected_links) {
        EXPECT_FALSE(fault_touches_link(b, l)) << l;
      }
      if (a.scope == b.scope && a.scope != "category") {
        EXPECT_NE(a.scope_id, b.scope_id);
      }
    }
  }
  // Equipment failures touch every antenna of their network and fill affected sites.
  for (const Fault& f : w.faults()) {
    if (f.kind != "equipment_failure") continue;
    std::set<std::string> ants;
    for (const auto& l : f.affected_links) {
      const Link& lk = w.links()[link_index(w, l)];
      EXPECT_EQ(lk.network_id, f.scope_id);
      ants.insert(lk.hub_antenna_id);
    }
    EXPECT_EQ(ants.size(), 6u);
    EXPECT_GE(f.affected_links.size(), 33u);
    EXPECT_LE(f.affected_links.size(), 50u);
    EXPECT_GT(f.affected_sites.size(), f.affected_links.size());
  }
}

// Mean of one link column over [s, e) and outside it.
struct Split {
  double in_sum = 0, out_sum = 0;
  int64_t in_n = 0, out_n = 0;
  double in() const { return in_sum / static_cast<double>(in_n); }
  double out() const { return out_sum / static_cast<double>(out_n); }
  void add(bool inside, double v) {
    if (inside) {
      in_sum += v;
      ++in_n;
    } else {
      out_sum += v;
      ++out_n;
    }
  }
};

TEST(DemoData, AntennaMisalignmentHitsOnlyItsLink) {
  const DemoWorld& w = week();
  const Fault* mis = nullptr;
  for (const Fault& f : w.faults()) {
    if (f.kind == "antenna_misalignment") mis = &f;
  }
  ASSERT_NE(mis, nullptr);
  ASSERT_EQ(mis->affected_links.size(), 1u);
  const size_t target = link_index(w, mis->scope_id);
  ASSERT_NE(target, SIZE_MAX);
  // A neighbour on the same hub antenna that no fault touches during the window.
  size_t neighbour = SIZE_MAX;
  for (size_t i = 0; i < w.links().size() && neighbour == SIZE_MAX; ++i) {
    if (i == target || w.links()[i].hub_antenna_id != w.links()[target].hub_antenna_id) continue;
    bool clean = true;
    for (const Fault& f : w.faults()) {
      if (overlaps(f, mis->started_at, mis->ended_at) &&
          fault_touches_link(f, w.links()[i].link_id)) {
        clean = false;
      }
    }
    if (clean) neighbour = i;
  }
  ASSERT_NE(neighbour, SIZE_MAX);
  Split t_ib, t_ob, nb_ib;
  w.link_metrics([&](size_t link, const LinkMetricsRow& r) {
    const bool inside = r.ts >= mis->started_at && r.ts < mis->ended_at;
    if (link == target) {
      t_ib.add(inside, r.ib_grade);
      t_ob.add(inside, r.ob_grade);
    } else if (link == neighbour) {
      nb_ib.add(inside, r.ib_grade);
    }
  });
  EXPECT_LT(t_ib.in(), 7.0);
  EXPECT_LT(t_ob.in(), 7.0);
  EXPECT_GT(t_ib.out(), 8.0);
  EXPECT_GT(nb_ib.in(), 8.0);
}

TEST(DemoData, SatelliteInterferenceSpansAntennasAndDegradesGrades) {
  const DemoWorld& w = week();
  int checked = 0;
  for (const Fault& f : w.faults()) {
    if (f.kind != "satellite_interference") continue;
    std::set<std::string> ants, hubs;
    std::set<size_t> idx;
    for (const auto& id : f.affected_links) {
      const Link& l = w.links()[link_index(w, id)];
      EXPECT_EQ(l.satellite_name, f.scope_id);
      ants.insert(l.hub_antenna_id);
      hubs.insert(l.hub_antenna_id.substr(0, 8));
      idx.insert(link_index(w, id));
    }
    EXPECT_GE(ants.size(), 2u);
    EXPECT_GE(hubs.size(), 2u);
    Split ib, ob;
    w.link_metrics([&](size_t link, const LinkMetricsRow& r) {
      if (!idx.count(link)) return;
      const bool inside = r.ts >= f.started_at && r.ts < f.ended_at;
      ib.add(inside, r.ib_grade);
      ob.add(inside, r.ob_grade);
    });
    EXPECT_LT(ib.in(), 7.0);
    EXPECT_LT(ob.in(), 7.0);
    EXPECT_GT(ib.out(), 8.0);
    ++checked;
  }
  EXPECT_GE(checked, 2);
}

TEST(DemoData, AntennaAlignmentOscillatesAndEquipmentFailureRaisesErrors) {
  const DemoWorld& w = week();
  const Fault* align = nullptr;
  const Fault* equip = nullptr;
  for (const Fault& f : w.faults()) {
    if (f.kind == "antenna_alignment") align = &f;
    if (f.kind == "equipment_failure") equip = &f;
  }
  ASSERT_NE(align, nullptr);
  ASSERT_NE(equip, nullptr);
  const size_t a_link = link_index(w, align->affected_links.front());
  const size_t e_link = link_index(w, equip->affected_links.front());
  int crossings = 0;
  bool below = false;
  Split errors, esno;
  w.link_metrics([&](size_t link, const LinkMetricsRow& r) {
    if (link == a_link && r.ts >= align->started_at && r.ts < align->ended_at) {
      const bool now_below = r.ib_grade < 7.0;
      if (now_below && !below) ++crossings;
      below = now_below;
    }
    if (link == e_link) {
      const bool inside = r.ts >= equip->started_at && r.ts < equip->ended_at;
      errors.add(inside, r.errors);
      esno.add(inside, r.ib_esno_db);
    }
  });
  EXPECT_GE(crossings, 3);
  EXPECT_GT(errors.in(), 10.0 * errors.out());
  EXPECT_NEAR(esno.in(), esno.out(), 0.6);  // Es/No is not what fails
}

struct DailyCounts {
  std::map<int64_t, int64_t> per_day;  // UTC day number -> transactions
};

DailyCounts count_days(const DemoWorld& w) {
  DailyCounts d;
  w.transactions([&](const TransactionRow& r) { ++d.per_day[r.ts / kDay]; });
  return d;
}

TEST(DemoData, TransactionsFollowWeekAndTrend) {
  // Four whole weeks ending on a Saturday midnight (transactions only: cheap).
  const DemoWorld w(config(28));
  int64_t rows = 0, last_ts = INT64_MIN;
  bool ordered = true, in_range = true, amounts_ok = true;
  std::map<std::string, double> price;
  for (const Product& p : w.products()) price[p.product_id] = p.price;
  w.transactions([&](const TransactionRow& r) {
    ordered = ordered && r.ts >= last_ts;
    last_ts = r.ts;
    in_range = in_range && r.ts >= w.start_epoch() && r.ts < w.end_epoch();
    const double full = r.quantity * price.at(r.product_id);
    amounts_ok = amounts_ok && r.quantity >= 1 && r.quantity <= 5 &&
                 r.total_amount <= full + 0.006 && r.total_amount >= 0.8 * full - 0.006;
    ++rows;
  });
  EXPECT_TRUE(ordered);
  EXPECT_TRUE(in_range);
  EXPECT_TRUE(amounts_ok);
  EXPECT_GT(rows, 28 * 400);
  EXPECT_LT(rows, 28 * 700);

  const DailyCounts d = count_days(w);
  ASSERT_EQ(d.per_day.size(), 28u);
  double weekend = 0, weekday = 0;
  int n_weekend = 0, n_weekday = 0;
  int64_t first_week = 0, last_week = 0, i = 0;
  for (const auto& [day, n] : d.per_day) {
    const int dow = static_cast<int>((day + 3) % 7);  // Monday = 0
    if (dow >= 5) {
      weekend += static_cast<double>(n);
      ++n_weekend;
    } else {
      weekday += static_cast<double>(n);
      ++n_weekday;
    }
    if (i < 7) first_week += n;
    if (i >= 21) last_week += n;
    ++i;
  }
  EXPECT_GT(weekend / n_weekend, 1.1 * weekday / n_weekday);
  EXPECT_GT(static_cast<double>(last_week), 1.08 * static_cast<double>(first_week));

  // Promotions: labelled, on a category, and that category sells more while they run.
  int promos = 0;
  for (const Fault& f : w.faults()) {
    if (f.kind != "promotion") continue;
    ++promos;
    EXPECT_EQ(f.scope, "category");
    EXPECT_TRUE(f.root_cause.empty());
  }
  EXPECT_GE(promos, 2);
  EXPECT_LE(promos, 5);
}

// Issue 16, item 4: labelled sales anomalies of the whole shop beside the promotions — a day
// of a sudden drop and a day of a spike, alternating, never on or beside a promotion, each
// visibly off the same weekday a week before and after.
TEST(DemoData, SalesAnomaliesAreLabelledAndMoveTheirDay) {
  const DemoWorld w(config(90));
  std::vector<const Fault*> events, promos;
  for (const Fault& f : w.faults()) {
    if (f.kind == "sales_drop" || f.kind == "sales_spike") events.push_back(&f);
    if (f.kind == "promotion") promos.push_back(&f);
  }
  ASSERT_GE(events.size(), 3u);
  const DailyCounts d = count_days(w);
  for (size_t i = 0; i < events.size(); ++i) {
    const Fault& f = *events[i];
    EXPECT_EQ(f.scope, "shop");
    EXPECT_EQ(f.ended_at - f.started_at, kDay);
    EXPECT_EQ(f.started_at % kDay, 0);
    if (i > 0) {
      EXPECT_NE(f.kind, events[i - 1]->kind) << "drops and spikes alternate";
    }
    for (const Fault* p : promos)
      EXPECT_TRUE(p->ended_at <= f.started_at - kDay || p->started_at >= f.ended_at + kDay)
          << f.kind << " beside a promotion";
    const int64_t day = f.started_at / kDay;
    if (!d.per_day.count(day - 7) || !d.per_day.count(day + 7)) continue;
    const double around = 0.5 * static_cast<double>(d.per_day.at(day - 7) + d.per_day.at(day + 7));
    const double ratio = static_cast<double>(d.per_day.at(day)) / around;
    if (f.kind == "sales_drop")
      EXPECT_LT(ratio, 0.5) << f.notes;
    else
      EXPECT_GT(ratio, 1.8) << f.notes;
  }
}

TEST(DemoData, PromotionBoostsCategoryAndDiscounts) {
  const DemoWorld w(config(28));
  std::map<std::string, std::string> category;
  std::map<std::string, double> price;
  for (const Product& p : w.products()) {
    category[p.product_id] = p.category;
    price[p.product_id] = p.price;
  }
  const Fault* promo = nullptr;
  for (const Fault& f : w.faults()) {
    if (f.kind == "promotion" && promo == nullptr) promo = &f;
  }
  ASSERT_NE(promo, nullptr);
  double in_share_n = 0, in_n = 0, out_share_n = 0, out_n = 0;
  bool discounted = true;
  w.transactions([&](const TransactionRow& r) {
    const bool inside = r.ts >= promo->started_at && r.ts < promo->ended_at;
    const bool cat = category[r.product_id] == promo->scope_id;
    (inside ? in_n : out_n) += 1;
    if (cat) (inside ? in_share_n : out_share_n) += 1;
    if (inside && cat) {
      const double expect = std::round(r.quantity * price[r.product_id] * 0.8 * 100.0) / 100.0;
      discounted = discounted && std::fabs(expect - r.total_amount) < 0.006;
    }
  });
  EXPECT_TRUE(discounted);
  const double share_in = in_share_n / in_n, share_out = out_share_n / out_n;
  EXPECT_GT(share_in, 1.6 * share_out) << share_in << " vs " << share_out;
}

TEST(DemoData, UsersBuyMostlyInFavouriteCategories) {
  const DemoWorld w(config(28));
  std::map<std::string, std::string> category;
  for (const Product& p : w.products()) category[p.product_id] = p.category;
  std::map<std::string, std::map<std::string, int>> per_user;
  w.transactions([&](const TransactionRow& r) { ++per_user[r.user_id][category[r.product_id]]; });
  EXPECT_GT(per_user.size(), 700u);
  double share_sum = 0;
  int users = 0;
  for (const auto& [user, cats] : per_user) {
    int total = 0, top = 0;
    for (const auto& [c, n] : cats) {
      total += n;
      top = std::max(top, n);
    }
    if (total < 5) continue;
    share_sum += static_cast<double>(top) / total;
    ++users;
  }
  ASSERT_GT(users, 300);
  EXPECT_GT(share_sum / users, 0.5);
}

TEST(DemoData, InterruptCheckIsPolledAndPropagates) {
  const DemoWorld w(config(1));
  int calls = 0;
  const InterruptCheck count = [&] { ++calls; };
  w.link_metrics([](size_t, const LinkMetricsRow&) {}, count);
  EXPECT_GE(calls, 63360 / 4096);
  for (int which = 0; which < 4; ++which) {
    calls = 0;
    switch (which) {
      case 0:
        w.transactions([](const TransactionRow&) {}, count);
        break;
      case 1:
        w.site_metrics([](size_t, const SiteMetricsRow&) {}, count);
        break;
      case 2:
        w.network_metrics([](size_t, const NetworkMetricsRow&) {}, count);
        break;
      default:
        w.link_metrics([](size_t, const LinkMetricsRow&) {}, count);
        break;
    }
    EXPECT_GE(calls, 1) << which;
  }

  struct Cancelled {};
  int64_t rows = 0;
  int polls = 0;
  const InterruptCheck cancel = [&] {
    if (++polls == 3) throw Cancelled{};
  };
  EXPECT_THROW(w.link_metrics([&](size_t, const LinkMetricsRow&) { ++rows; }, cancel), Cancelled);
  EXPECT_LT(rows, 63360);
  polls = 0;
  EXPECT_THROW(w.site_metrics([](size_t, const SiteMetricsRow&) {}, cancel), Cancelled);
  polls = 2;
  EXPECT_THROW(w.transactions([](const TransactionRow&) {}, cancel), Cancelled);
  polls = 2;
  EXPECT_THROW(w.network_metrics([](size_t, const NetworkMetricsRow&) {}, cancel), Cancelled);
}

TEST(DemoData, BadConfigsThrowInvalidParameter) {
  EXPECT_THROW(DemoWorld{config(0)}, InvalidParameter);
  EXPECT_THROW(DemoWorld{config(3651)}, InvalidParameter);
  EXPECT_THROW(DemoWorld{config(-3)}, InvalidParameter);
  EXPECT_THROW(DemoWorld{config(7, 42, 120)}, InvalidParameter);
  EXPECT_THROW(DemoWorld{config(7, 42, 0)}, InvalidParameter);
  EXPECT_THROW(DemoWorld{config(7, 42, 300, 0)}, InvalidParameter);
  EXPECT_THROW(DemoWorld{config(7, 42, 300, -86400)}, InvalidParameter);
  try {
    DemoWorld bad(config(7, 42, 61));
    FAIL() << "expected InvalidParameter";
  } catch (const InvalidParameter& e) {
    EXPECT_STREQ(e.sqlstate(), "22023");
    EXPECT_FALSE(e.detail().empty());
    EXPECT_FALSE(e.hint().empty());
  }
  EXPECT_NO_THROW(DemoWorld{config(1, 0, 60, 1)});  // tiny epoch: start is before 1970
}

}  // namespace
}  // namespace insight::demo
