// SQL side of insight.load_demo_data(): insight._demo_rows(NULL::insight.<table>, ...), one
// set-returning function for every standard table, streams that table's rows of the pure C++
// generator (src/core/demo) into a tuplestore, typed as the table's row. The generator polls
// check_interrupts(), so a cancel or statement_timeout stops a load within milliseconds.
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/common/error.hpp"
#include "core/demo/demo_data.hpp"

#include "pg/demo.hpp"
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

// The generator's arguments from `first` on: (days int, seed bigint, end_time timestamptz,
// step int [, remotes int]).
insight::demo::DemoWorld world_from_args(FunctionCallInfo fcinfo, int first) {
  for (int i = first; i < first + 4; ++i)
    if (insight::pg::arg_is_null(fcinfo, i))
      throw insight::InvalidParameter("demo data arguments must not be NULL");
  insight::demo::DemoConfig config;
  config.days = PG_GETARG_INT32(first);
  config.seed = static_cast<uint64_t>(PG_GETARG_INT64(first + 1));
  config.end_epoch = unix_seconds(PG_GETARG_TIMESTAMPTZ(first + 2));
  config.step_seconds = PG_GETARG_INT32(first + 3);
  if (!insight::pg::arg_is_null(fcinfo, first + 4))
    config.remotes_per_network = PG_GETARG_INT32(first + 4);
  return insight::demo::DemoWorld(config);
}

// Rows of a topology table whose columns are all text: one column per member.
template <typename Entity>
void text_rows(FunctionCallInfo fcinfo, const std::vector<Entity>& entities,
               std::initializer_list<std::string Entity::*> columns) {
  RowSink sink(fcinfo);
  std::vector<Datum> v(columns.size());
  const std::unique_ptr<bool[]> nulls(new bool[columns.size()]());
  for (const Entity& e : entities) {
    size_t i = 0;
    for (auto member : columns) v[i++] = insight::pg::text_datum(e.*member);
    sink.put(v.data(), nulls.get());
  }
}

// Text datums of every entity's id, made once per load instead of once per row.
template <typename Entity>
std::vector<Datum> id_datums(const std::vector<Entity>& entities, std::string Entity::*id) {
  std::vector<Datum> out;
  out.reserve(entities.size());
  for (const Entity& e : entities) out.push_back(insight::pg::text_datum(e.*id));
  return out;
}

// Rows of a telemetry table: (entity id, ts, the row's float8 metrics in column order), from
// the world's generator of that table.
template <typename Row, typename Entity>
void metrics_rows(
    FunctionCallInfo fcinfo, const insight::demo::DemoWorld& world,
    const std::vector<Entity>& entities, std::string Entity::*id,
    void (insight::demo::DemoWorld::*generate)(const std::function<void(size_t, const Row&)>&,
                                               const insight::InterruptCheck&) const) {
  constexpr size_t kMetrics = std::tuple_size_v<decltype(std::declval<Row>().values())>;
  RowSink sink(fcinfo);
  const std::vector<Datum> ids = id_datums(entities, id);
  std::array<Datum, kMetrics + 2> values{};
  std::array<bool, kMetrics + 2> nulls{};
  (world.*generate)(
      [&](size_t entity, const Row& r) {
        values[0] = ids[entity];
        values[1] = ts_datum(r.ts);
        const auto metrics = r.values();
        for (size_t i = 0; i < kMetrics; ++i) values[2 + i] = Float8GetDatum(metrics[i]);
        sink.put(values.data(), nulls.data());
      },
      insight::pg::kInterrupts);
}

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

}  // namespace

namespace {

// One emitter per standard table: its rows, in the table's column order.
using Emitter = void (*)(FunctionCallInfo, const insight::demo::DemoWorld&);

void products(FunctionCallInfo fcinfo, const insight::demo::DemoWorld& world) {
  RowSink sink(fcinfo);
  for (const auto& p : world.products()) {
    Datum v[4] = {insight::pg::text_datum(p.product_id), insight::pg::text_datum(p.name),
                  insight::pg::text_datum(p.category), numeric_datum(p.price)};
    bool n[4] = {false, false, false, false};
    sink.put(v, n);
  }
}

// insight.transactions' row; transaction_id (an identity) stays NULL for the INSERT to fill.
// The 0.1.0 function returned the row without it: its result has five columns.
void transactions(FunctionCallInfo fcinfo, const insight::demo::DemoWorld& world) {
  RowSink sink(fcinfo);
  const int skip = sink.columns() == 5 ? 1 : 0;  // the 0.1.0 result has no transaction_id
  MemoryContext row_cxt = guard([] {
    return AllocSetContextCreate(CurrentMemoryContext, "pg_insight demo rows",
                                 ALLOCSET_DEFAULT_SIZES);
  });
  world.transactions(
      [&](const insight::demo::TransactionRow& r) {
        {
          ScopedMemoryContext in_row(row_cxt);
          Datum v[6] = {static_cast<Datum>(0),
                        ts_datum(r.ts),
                        insight::pg::text_datum(r.user_id),
                        insight::pg::text_datum(r.product_id),
                        Int32GetDatum(r.quantity),
                        numeric_datum(r.total_amount)};
          bool n[6] = {true, false, false, false, false, false};
          sink.put(v + skip, n + skip);
        }
        guard([row_cxt] { MemoryContextReset(row_cxt); });
      },
      insight::pg::kInterrupts);
}

void networks(FunctionCallInfo fcinfo, const insight::demo::DemoWorld& world) {
  text_rows(fcinfo, world.networks(),
            {&insight::demo::Network::network_id, &insight::demo::Network::name});
}

void satellites(FunctionCallInfo fcinfo, const insight::demo::DemoWorld& world) {
  text_rows(fcinfo, world.satellites(), {&insight::demo::Satellite::satellite_name});
}

void sites(FunctionCallInfo fcinfo, const insight::demo::DemoWorld& world) {
  text_rows(fcinfo, world.sites(),
            {&insight::demo::Site::site_id, &insight::demo::Site::network_id,
             &insight::demo::Site::site_type, &insight::demo::Site::name});
}

void hub_antennas(FunctionCallInfo fcinfo, const insight::demo::DemoWorld& world) {
  text_rows(fcinfo, world.hub_antennas(),
            {&insight::demo::HubAntenna::antenna_id, &insight::demo::HubAntenna::site_id,
             &insight::demo::HubAntenna::satellite_name});
}

void links(FunctionCallInfo fcinfo, const insight::demo::DemoWorld& world) {
  text_rows(fcinfo, world.links(),
            {&insight::demo::Link::link_id, &insight::demo::Link::network_id,
             &insight::demo::Link::hub_antenna_id, &insight::demo::Link::remote_site_id,
             &insight::demo::Link::satellite_name});
}

void link_metrics(FunctionCallInfo fcinfo, const insight::demo::DemoWorld& world) {
  metrics_rows(fcinfo, world, world.links(), &insight::demo::Link::link_id,
               &insight::demo::DemoWorld::link_metrics);
}

void site_metrics(FunctionCallInfo fcinfo, const insight::demo::DemoWorld& world) {
  metrics_rows(fcinfo, world, world.sites(), &insight::demo::Site::site_id,
               &insight::demo::DemoWorld::site_metrics);
}

void network_metrics(FunctionCallInfo fcinfo, const insight::demo::DemoWorld& world) {
  metrics_rows(fcinfo, world, world.networks(), &insight::demo::Network::network_id,
               &insight::demo::DemoWorld::network_metrics);
}

void demo_ground_truth(FunctionCallInfo fcinfo, const insight::demo::DemoWorld& world) {
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
}

const std::map<std::string, Emitter> kTables = {
    {"products", products},
    {"transactions", transactions},
    {"networks", networks},
    {"satellites", satellites},
    {"sites", sites},
    {"hub_antennas", hub_antennas},
    {"links", links},
    {"link_metrics", link_metrics},
    {"site_metrics", site_metrics},
    {"network_metrics", network_metrics},
    {"demo_ground_truth", demo_ground_truth},
};

}  // namespace

namespace insight::pg {

Datum demo_rows(FunctionCallInfo fcinfo, const std::string& table, int first_arg) {
  const auto it = kTables.find(table);
  if (it == kTables.end())
    throw InvalidParameter("the demo generator has no rows for \"" + table + "\"",
                           "It fills the standard tables of schema insight.");
  it->second(fcinfo, world_from_args(fcinfo, first_arg));
  return static_cast<Datum>(0);
}

}  // namespace insight::pg

// _demo_rows(tbl anyelement, days, seed, end_time, step, remotes) → SETOF anyelement: the
// rows of the standard table whose row type tbl has (NULL::insight.products, ...).
INSIGHT_FUNCTION(insight_demo_rows) {
  FmgrInfo* flinfo = fcinfo->flinfo;
  const char* table = guard([flinfo] {
    const Oid relid = typeidTypeRelid(get_fn_expr_argtype(flinfo, 0));
    const bool ours =
        relid != InvalidOid && get_rel_namespace(relid) == get_namespace_oid("insight", true);
    return ours ? static_cast<const char*>(get_rel_name(relid)) : nullptr;
  });
  if (table == nullptr)
    throw insight::InvalidParameter("tbl must be a row of a standard table of schema insight", "",
                                    "Pass e.g. NULL::insight.products.");
  return insight::pg::demo_rows(fcinfo, table, 1);
}
