// SQL side of insight.load_demo_data(): one set-returning function per standard table, each
// streaming rows of the pure C++ generator (src/core/demo) into a tuplestore. The generator
// polls check_interrupts(), so a cancel or statement_timeout stops a load within milliseconds.
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "core/common/error.hpp"
#include "core/demo/demo_data.hpp"

#include "pg/values.hpp"

namespace {

using insight::pg::guard;
using insight::pg::RowSink;
using insight::pg::text_array_datum;

using insight::pg::unix_seconds;

Datum ts_datum(int64_t unix) {
  return TimestampTzGetDatum(insight::pg::timestamptz_from_unix(unix));
}

Datum numeric_datum(double v) {
  return guard([v] { return DirectFunctionCall1(float8_numeric, Float8GetDatum(v)); });
}

// Arguments common to every generator: (days int, seed bigint, end_time timestamptz, step int,
// remotes int).
insight::demo::DemoWorld world_from_args(FunctionCallInfo fcinfo) {
  for (int i = 0; i < 4; ++i)
    if (PG_ARGISNULL(i)) throw insight::InvalidParameter("demo data arguments must not be NULL");
  insight::demo::DemoConfig config;
  config.days = PG_GETARG_INT32(0);
  config.seed = static_cast<uint64_t>(PG_GETARG_INT64(1));
  config.end_epoch = unix_seconds(PG_GETARG_TIMESTAMPTZ(2));
  config.step_seconds = PG_GETARG_INT32(3);
  if (PG_NARGS() > 4 && !PG_ARGISNULL(4)) config.remotes_per_network = PG_GETARG_INT32(4);
  return insight::demo::DemoWorld(config);
}

// Text datums of every entity's id, made once per load instead of once per row.
template <typename Entity>
std::vector<Datum> id_datums(const std::vector<Entity>& entities, std::string Entity::*id) {
  std::vector<Datum> out;
  out.reserve(entities.size());
  for (const Entity& e : entities) out.push_back(insight::pg::text_datum(e.*id));
  return out;
}

// Rows of a telemetry table: (entity id, ts, N float8 metrics).
template <size_t N>
class MetricsSink {
 public:
  MetricsSink(FunctionCallInfo fcinfo, std::vector<Datum> ids)
      : sink_(fcinfo), ids_(std::move(ids)) {}
  void put(size_t entity, int64_t ts, const std::array<double, N>& metrics) {
    values_[0] = ids_[entity];
    values_[1] = ts_datum(ts);
    for (size_t i = 0; i < N; ++i) values_[2 + i] = Float8GetDatum(metrics[i]);
    sink_.put(values_.data(), nulls_.data());
  }

 private:
  RowSink sink_;
  std::vector<Datum> ids_;
  std::array<Datum, N + 2> values_{};
  std::array<bool, N + 2> nulls_{};
};

// Switches CurrentMemoryContext for a scope. MemoryContextSwitchTo is an inline assignment
// that cannot raise, so it is safe in a destructor that may run during unwinding.
class ScopedMemoryContext {
 public:
  explicit ScopedMemoryContext(MemoryContext cxt) noexcept : old_(MemoryContextSwitchTo(cxt)) {}
  ~ScopedMemoryContext() { MemoryContextSwitchTo(old_); }
  ScopedMemoryContext(const ScopedMemoryContext&) = delete;
  ScopedMemoryContext& operator=(const ScopedMemoryContext&) = delete;

 private:
  MemoryContext old_;
};

const insight::InterruptCheck kCheck = [] { insight::pg::check_interrupts(); };

}  // namespace

INSIGHT_FUNCTION(insight_demo_products) {
  const auto world = world_from_args(fcinfo);
  RowSink sink(fcinfo);
  for (const auto& p : world.products()) {
    Datum v[4] = {insight::pg::text_datum(p.product_id), insight::pg::text_datum(p.name),
                  insight::pg::text_datum(p.category), numeric_datum(p.price)};
    bool n[4] = {false, false, false, false};
    sink.put(v, n);
  }
  return static_cast<Datum>(0);
}

// Columns after the identity transaction_id: (ts, user_id, product_id, quantity, total_amount)
INSIGHT_FUNCTION(insight_demo_transactions) {
  const auto world = world_from_args(fcinfo);
  RowSink sink(fcinfo);
  MemoryContext row_cxt = guard([] {
    return AllocSetContextCreate(CurrentMemoryContext, "pg_insight demo rows",
                                 ALLOCSET_DEFAULT_SIZES);
  });
  world.transactions(
      [&](const insight::demo::TransactionRow& r) {
        {
          ScopedMemoryContext in_row(row_cxt);
          Datum v[5] = {ts_datum(r.ts), insight::pg::text_datum(r.user_id),
                        insight::pg::text_datum(r.product_id), Int32GetDatum(r.quantity),
                        numeric_datum(r.total_amount)};
          bool n[5] = {false, false, false, false, false};
          sink.put(v, n);
        }
        guard([row_cxt] { MemoryContextReset(row_cxt); });
      },
      kCheck);
  return static_cast<Datum>(0);
}

INSIGHT_FUNCTION(insight_demo_networks) {
  const auto world = world_from_args(fcinfo);
  RowSink sink(fcinfo);
  for (const auto& x : world.networks()) {
    Datum v[2] = {insight::pg::text_datum(x.network_id), insight::pg::text_datum(x.name)};
    bool n[2] = {false, false};
    sink.put(v, n);
  }
  return static_cast<Datum>(0);
}

INSIGHT_FUNCTION(insight_demo_satellites) {
  const auto world = world_from_args(fcinfo);
  RowSink sink(fcinfo);
  for (const auto& x : world.satellites()) {
    Datum v[1] = {insight::pg::text_datum(x.satellite_name)};
    bool n[1] = {false};
    sink.put(v, n);
  }
  return static_cast<Datum>(0);
}

INSIGHT_FUNCTION(insight_demo_sites) {
  const auto world = world_from_args(fcinfo);
  RowSink sink(fcinfo);
  for (const auto& x : world.sites()) {
    Datum v[4] = {insight::pg::text_datum(x.site_id), insight::pg::text_datum(x.network_id),
                  insight::pg::text_datum(x.site_type), insight::pg::text_datum(x.name)};
    bool n[4] = {false, false, false, false};
    sink.put(v, n);
  }
  return static_cast<Datum>(0);
}

INSIGHT_FUNCTION(insight_demo_hub_antennas) {
  const auto world = world_from_args(fcinfo);
  RowSink sink(fcinfo);
  for (const auto& x : world.hub_antennas()) {
    Datum v[3] = {insight::pg::text_datum(x.antenna_id), insight::pg::text_datum(x.site_id),
                  insight::pg::text_datum(x.satellite_name)};
    bool n[3] = {false, false, false};
    sink.put(v, n);
  }
  return static_cast<Datum>(0);
}

INSIGHT_FUNCTION(insight_demo_links) {
  const auto world = world_from_args(fcinfo);
  RowSink sink(fcinfo);
  for (const auto& x : world.links()) {
    Datum v[5] = {insight::pg::text_datum(x.link_id), insight::pg::text_datum(x.network_id),
                  insight::pg::text_datum(x.hub_antenna_id),
                  insight::pg::text_datum(x.remote_site_id),
                  insight::pg::text_datum(x.satellite_name)};
    bool n[5] = {false, false, false, false, false};
    sink.put(v, n);
  }
  return static_cast<Datum>(0);
}

INSIGHT_FUNCTION(insight_demo_link_metrics) {
  const auto world = world_from_args(fcinfo);
  MetricsSink<13> out(fcinfo, id_datums(world.links(), &insight::demo::Link::link_id));
  world.link_metrics(
      [&](size_t link, const insight::demo::LinkMetricsRow& r) {
        out.put(link, r.ts,
                {r.throughput_mbps, r.utilization, r.errors, r.discards, r.uptime_pct, r.ib_esno_db,
                 r.ob_esno_db, r.ib_grade, r.ob_grade, r.ib_packet_loss_pct, r.ob_packet_loss_pct,
                 r.latency_ms, r.jitter_ms});
      },
      kCheck);
  return static_cast<Datum>(0);
}

INSIGHT_FUNCTION(insight_demo_site_metrics) {
  const auto world = world_from_args(fcinfo);
  MetricsSink<5> out(fcinfo, id_datums(world.sites(), &insight::demo::Site::site_id));
  world.site_metrics(
      [&](size_t site, const insight::demo::SiteMetricsRow& r) {
        out.put(site, r.ts,
                {r.response_time_ms, r.error_rate, r.uptime_pct, r.cpu_pct, r.memory_pct});
      },
      kCheck);
  return static_cast<Datum>(0);
}

INSIGHT_FUNCTION(insight_demo_network_metrics) {
  const auto world = world_from_args(fcinfo);
  MetricsSink<5> out(fcinfo, id_datums(world.networks(), &insight::demo::Network::network_id));
  world.network_metrics(
      [&](size_t net, const insight::demo::NetworkMetricsRow& r) {
        out.put(net, r.ts,
                {r.bandwidth_mbps, r.packet_loss_pct, r.latency_ms, r.error_rate, r.connections});
      },
      kCheck);
  return static_cast<Datum>(0);
}

INSIGHT_FUNCTION(insight_demo_ground_truth) {
  const auto world = world_from_args(fcinfo);
  RowSink sink(fcinfo);
  for (const auto& f : world.faults()) {
    Datum v[11] = {
        Int64GetDatum(f.fault_id),
        insight::pg::text_datum(f.kind),
        insight::pg::text_datum(f.scope),
        insight::pg::text_datum(f.scope_id),
        ts_datum(f.started_at),
        ts_datum(f.ended_at),
        f.root_cause.empty() ? static_cast<Datum>(0) : insight::pg::text_datum(f.root_cause),
        f.metric.empty() ? static_cast<Datum>(0) : insight::pg::text_datum(f.metric),
        text_array_datum(f.affected_links),
        text_array_datum(f.affected_sites),
        insight::pg::text_datum(f.notes)};
    bool n[11] = {false, false, false, false, false, false, f.root_cause.empty(), f.metric.empty(),
                  false, false, false};
    sink.put(v, n);
  }
  return static_cast<Datum>(0);
}
