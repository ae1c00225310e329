#!/usr/bin/env bash
# Scale-out with PostgreSQL's own machinery: two shard clusters of our own hold the telemetry,
# the harness's database (insight_mp) is the coordinator with a hash-partitioned link_metrics
# whose partitions are postgres_fdw foreign tables. With enable_partitionwise_aggregate the
# per-link training (insight.isolation_forest_fit ... GROUP BY link_id) is pushed down to the
# shards (EXPLAIN: one Foreign Scan per partition, Remote SQL with the aggregate and GROUP BY),
# runs there, and gives one model per link, byte-identical to training the same rows serially
# on one node. Also: without the server's `extensions` option or without partitionwise
# aggregation nothing is pushed down; a model passed as a parameter scores on the shards.
# Reports training times (median of FDW_RUNS, default 1 in make test; docs/scaling.md has
# medians of 3 from FDW_RUNS=3; 1 run where marked): 2 shards (concurrent; one after the
# other and without pushdown, 1 run each) against one node (serial, 2 parallel workers, 4 local
# partitions), and one model of the whole table serial vs parallel. docs/scaling.md explains.
set -Eeuo pipefail
source scripts/lib.sh

DAYS=10 REMOTES=30 END_TIME='2026-11-01 00:00+00' # 4 × 30 = 120 links × 2,880 rows = 345,600
FEATURES="ARRAY[throughput_mbps, utilization, errors, ib_esno_db, ob_esno_db, ib_packet_loss_pct, latency_ms, jitter_ms]"
FIT="insight.isolation_forest_fit($FEATURES, 100, 256, 42)"
RUNS=${FDW_RUNS:-1}

die() {
  echo "FAIL: $1"
  shift
  for extra in "$@"; do printf '%s\n' "$extra" | sed 's/^/  | /'; done
  exit 1
}
# Coordinator: the harness's cluster (PGHOST, PGPORT, PGDATABASE, PGUSER exported).
[ -n "${PGHOST:-}" ] && [ -n "${PGDATABASE:-}" ] ||
  die "run through scripts/run-multiprocess (PGHOST/PGPORT/PGDATABASE of the coordinator)"
coord() { psql -X -q -v ON_ERROR_STOP=1 -tA "$@"; }

base=$(mktemp -d /tmp/pg_insight_fdw.XXXXXX)
chmod 0755 "$base"
shard_dir=("$base/s1" "$base/s2")
shard_port=()
drop_coordinator_objects() {
  coord -c "SET client_min_messages = warning" -c "DROP SCHEMA IF EXISTS fdw_scaleout CASCADE" \
    -c "DROP SERVER IF EXISTS fdw_scaleout_shard1, fdw_scaleout_shard2 CASCADE"
}
created_fdw=false
cleanup() {
  trap - ERR
  drop_coordinator_objects >/dev/null 2>&1 || true
  if $created_fdw; then coord -c "DROP EXTENSION IF EXISTS postgres_fdw CASCADE" >/dev/null 2>&1 || true; fi
  for d in "${shard_dir[@]}"; do cluster_stop "$d"; done
  rm -rf "$base"
}
trap cleanup EXIT
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND"' ERR

# ---- two shard clusters, each with pg_insight and an empty shard table (started side by side) ----
start_shard() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown "$PG_RUN_USER" "$dir"
  cluster_start "$dir" "$port" "lc_messages = 'C'" "synchronize_seqscans = off" &&
    psql_at "$dir" "$port" -q -d postgres -c "CREATE DATABASE insight_shard" &&
    psql_at "$dir" "$port" -q -d insight_shard -c "CREATE EXTENSION pg_insight" \
      -c "CREATE TABLE public.link_metrics_shard (LIKE insight.link_metrics)"
}
shard_port[0]=$(pg_free_port 56300)
shard_port[1]=$(pg_free_port $((shard_port[0] + 1)))
pids=()
for i in 0 1; do
  start_shard "${shard_dir[$i]}" "${shard_port[$i]}" >"$base/start$i.log" 2>&1 &
  pids+=($!)
done
for i in 0 1; do
  wait "${pids[$i]}" || die "shard $((i + 1)) did not start on port ${shard_port[$i]}" "$(cat "$base/start$i.log")"
done
shard() { psql_at "${shard_dir[$1]}" "${shard_port[$1]}" -d insight_shard -q -tA "$@"; }
load=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- coordinator: the single-node table, the servers and the partitioned table ----
drop_coordinator_objects # leftovers of an interrupted run
if [ "$(coord -c "SELECT count(*) FROM pg_extension WHERE extname = 'postgres_fdw'")" = 0 ]; then
  coord -c "CREATE EXTENSION postgres_fdw"
  created_fdw=true
fi
coord -c "CREATE SCHEMA fdw_scaleout" \
  -c "CREATE TABLE fdw_scaleout.link_metrics_local (LIKE insight.link_metrics)" \
  -c "INSERT INTO fdw_scaleout.link_metrics_local
        SELECT * FROM insight._demo_rows(NULL::insight.link_metrics, $DAYS, 42, '$END_TIME', 300, $REMOTES) ORDER BY link_id, ts" \
  -c "ANALYZE fdw_scaleout.link_metrics_local" \
  -c "CREATE TABLE fdw_scaleout.link_metrics (LIKE insight.link_metrics) PARTITION BY HASH (link_id)" \
  -c "CREATE TABLE fdw_scaleout.link_metrics_part (LIKE insight.link_metrics) PARTITION BY HASH (link_id)"
# The single-node alternative: the same rows in 4 local hash partitions.
for r in 0 1 2 3; do
  coord -c "CREATE TABLE fdw_scaleout.link_metrics_part$r PARTITION OF fdw_scaleout.link_metrics_part
              FOR VALUES WITH (MODULUS 4, REMAINDER $r)"
done
coord -c "INSERT INTO fdw_scaleout.link_metrics_part SELECT * FROM fdw_scaleout.link_metrics_local ORDER BY link_id, ts" \
  -c "ANALYZE fdw_scaleout.link_metrics_part"
for i in 0 1; do
  n=$((i + 1))
  coord -c "CREATE SERVER fdw_scaleout_shard$n FOREIGN DATA WRAPPER postgres_fdw
              OPTIONS (host '${shard_dir[$i]}/socket', port '${shard_port[$i]}', dbname 'insight_shard',
                       extensions 'pg_insight', async_capable 'true', fetch_size '10000')" \
    -c "CREATE USER MAPPING FOR CURRENT_USER SERVER fdw_scaleout_shard$n OPTIONS (user '$PG_SUPERUSER')" \
    -c "CREATE FOREIGN TABLE fdw_scaleout.link_metrics_p$n PARTITION OF fdw_scaleout.link_metrics
          FOR VALUES WITH (MODULUS 2, REMAINDER $i) SERVER fdw_scaleout_shard$n
          OPTIONS (schema_name 'public', table_name 'link_metrics_shard')"
  # Each shard gets its partition's links, every link's rows in ts order (as in the local table).
  coord -c "COPY (SELECT * FROM fdw_scaleout.link_metrics_local
                   WHERE link_id IN (SELECT link_id FROM (SELECT DISTINCT link_id FROM fdw_scaleout.link_metrics_local) l
                                      WHERE satisfies_hash_partition('fdw_scaleout.link_metrics'::regclass, 2, $i, link_id))
                   ORDER BY link_id, ts) TO STDOUT (FORMAT binary)" |
    shard "$i" -c "COPY public.link_metrics_shard FROM STDIN (FORMAT binary)" \
      -c "ANALYZE public.link_metrics_shard" || die "copying rows to shard $n failed"
done
coord -c "ANALYZE fdw_scaleout.link_metrics"
setup_s=$SECONDS

rows_local=$(coord -c "SELECT count(*) FROM fdw_scaleout.link_metrics_local")
links_local=$(coord -c "SELECT count(DISTINCT link_id) FROM fdw_scaleout.link_metrics_local")
rows_s1=$(shard 0 -c "SELECT count(*) || ' rows, ' || count(DISTINCT link_id) || ' links' FROM link_metrics_shard")
rows_s2=$(shard 1 -c "SELECT count(*) || ' rows, ' || count(DISTINCT link_id) || ' links' FROM link_metrics_shard")
rows_dist=$(coord -c "SELECT count(*) FROM fdw_scaleout.link_metrics")
[ "$rows_dist" = "$rows_local" ] && [ "$links_local" -ge 100 ] ||
  die "the partitioned table holds $rows_dist rows, the local one $rows_local ($links_local links)"
[[ "$rows_s1" != 0\ * && "$rows_s2" != 0\ * ]] || die "a shard is empty: shard 1 $rows_s1, shard 2 $rows_s2"

TRAIN_DIST="SELECT link_id, $FIT AS model FROM fdw_scaleout.link_metrics GROUP BY link_id"
TRAIN_LOCAL="SELECT link_id, $FIT AS model FROM fdw_scaleout.link_metrics_local GROUP BY link_id"
TRAIN_PART="SELECT link_id, $FIT AS model FROM fdw_scaleout.link_metrics_part GROUP BY link_id"
TRAIN_ONE="SELECT 'all'::text AS link_id, $FIT AS model FROM fdw_scaleout.link_metrics_local"
explain() { coord -c "SET synchronize_seqscans = off; $1" -c "EXPLAIN (VERBOSE, COSTS OFF) $2"; }

# ---- the plan: training pushed down to both shards ----
plan=$(explain "SET enable_partitionwise_aggregate = on;" "$TRAIN_DIST")
pushed=$(grep -c "Remote SQL: SELECT link_id, insight.isolation_forest_fit(ARRAY\[.*\], 100, 256, 42) FROM public.link_metrics_shard GROUP BY 1" <<<"$plan" || true)
[ "$pushed" -eq 2 ] || die "expected the aggregate in the Remote SQL of both partitions, found $pushed" "$plan"
[ "$(grep -c "Relations: Aggregate on" <<<"$plan" || true)" -eq 2 ] || die "expected 2 pushed-down aggregates" "$plan"
[ "$(grep -c "Async Foreign Scan" <<<"$plan" || true)" -eq 2 ] || die "expected 2 Async Foreign Scans" "$plan"
! grep -Eq "HashAggregate|GroupAggregate|Partial" <<<"$plan" || die "the coordinator still aggregates" "$plan"
remote_sql=$(grep -m1 -o "Remote SQL: .*" <<<"$plan")

# Without partitionwise aggregation the rows travel and the coordinator trains.
plan_off=$(explain "SET enable_partitionwise_aggregate = off;" "$TRAIN_DIST")
! grep -q "Remote SQL: .*isolation_forest_fit" <<<"$plan_off" && grep -q "HashAggregate\|GroupAggregate" <<<"$plan_off" ||
  die "with enable_partitionwise_aggregate = off the aggregate should run on the coordinator" "$plan_off"
# Without the `extensions` option postgres_fdw does not ship pg_insight's aggregate.
coord -c "ALTER SERVER fdw_scaleout_shard1 OPTIONS (DROP extensions)"
plan_noext=$(explain "SET enable_partitionwise_aggregate = on;" "$TRAIN_DIST")
coord -c "ALTER SERVER fdw_scaleout_shard1 OPTIONS (ADD extensions 'pg_insight')"
[ "$(grep -c "Remote SQL: .*isolation_forest_fit" <<<"$plan_noext" || true)" -eq 1 ] ||
  die "without extensions 'pg_insight' on shard 1 only shard 2 should train remotely" "$plan_noext"
# Single node: serial, and Partial Aggregate under Gather with parallel workers.
plan_par=$(explain "SET max_parallel_workers_per_gather = 2;" "$TRAIN_LOCAL")
grep -q "Partial HashAggregate\|Partial GroupAggregate" <<<"$plan_par" && grep -q "Gather" <<<"$plan_par" ||
  die "expected a Partial Aggregate under Gather for the single-node parallel plan" "$plan_par"
plan_one=$(explain "SET max_parallel_workers_per_gather = 2;" "$TRAIN_ONE")
grep -q "Partial Aggregate" <<<"$plan_one" && grep -q "Gather" <<<"$plan_one" ||
  die "expected a Partial Aggregate under Gather for one model over the whole table" "$plan_one"
# Local partitions, partitionwise: whole groups aggregated in parallel workers (Parallel Append).
plan_part=$(explain "SET enable_partitionwise_aggregate = on; SET max_parallel_workers_per_gather = 2;" "$TRAIN_PART")
[ "$(grep -c "HashAggregate" <<<"$plan_part" || true)" -eq 4 ] && grep -q "Parallel Append" <<<"$plan_part" &&
  ! grep -q "Partial" <<<"$plan_part" ||
  die "expected one full HashAggregate per local partition under Parallel Append" "$plan_part"

# ---- timings: median of $RUNS. Each run trains every model and keeps its md5 and size (the
# payloads themselves, 24 MB, would add the same TOAST write to every variant) ----
timed() { # timed TABLE "SETs" QUERY: CREATE TABLE fdw_scaleout.TABLE of (link_id, md5, bytes); ms in LAST_MS
  local out
  coord -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS fdw_scaleout.$1"
  out=$(psql -X -q -v ON_ERROR_STOP=1 -c "SET synchronize_seqscans = off; $2" -c '\timing on' \
    -c "CREATE TABLE fdw_scaleout.$1 AS SELECT link_id, md5(model) AS md5, length(model) AS bytes FROM ($3) t" 2>&1) ||
    die "training into $1 failed" "$out"
  LAST_MS=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | tail -n1)
  [ -n "$LAST_MS" ] || die "no timing for $1" "$out"
}
median() { # median TABLE "SETs" QUERY [RUNS]: median ms of RUNS runs in MEDIAN (the last run's table is kept)
  local t=() runs=${4:-$RUNS}
  for _ in $(seq 1 "$runs"); do
    timed "$1" "$2" "$3"
    t+=("$LAST_MS")
  done
  MEDIAN=$(printf '%s\n' "${t[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p" | awk '{printf "%.0f", $1}')
}
median hashes_serial "SET max_parallel_workers_per_gather = 0;" "$TRAIN_LOCAL"
t_serial=$MEDIAN
median hashes_parallel "SET max_parallel_workers_per_gather = 2;" "$TRAIN_LOCAL"
t_par=$MEDIAN
median hashes_part "SET enable_partitionwise_aggregate = on; SET max_parallel_workers_per_gather = 2;" "$TRAIN_PART"
t_part=$MEDIAN
median hashes_dist "SET enable_partitionwise_aggregate = on;" "$TRAIN_DIST"
t_dist=$MEDIAN
median hashes_nopw "SET enable_partitionwise_aggregate = off;" "$TRAIN_DIST" 1
t_nopw=$MEDIAN
median hash_one_serial "SET max_parallel_workers_per_gather = 0;" "$TRAIN_ONE"
t_one_serial=$MEDIAN
median hash_one_parallel "SET max_parallel_workers_per_gather = 2;" "$TRAIN_ONE"
t_one_par=$MEDIAN
coord -c "ALTER SERVER fdw_scaleout_shard1 OPTIONS (SET async_capable 'false')" \
  -c "ALTER SERVER fdw_scaleout_shard2 OPTIONS (SET async_capable 'false')"
plan_sync=$(explain "SET enable_partitionwise_aggregate = on;" "$TRAIN_DIST")
! grep -q "Async" <<<"$plan_sync" || die "async_capable 'false' should give synchronous Foreign Scans" "$plan_sync"
median hashes_sync "SET enable_partitionwise_aggregate = on;" "$TRAIN_DIST" 1
t_sync=$MEDIAN

# ---- end to end: one model per link, every model scores, same bytes as one node ----
coord -c "ALTER SERVER fdw_scaleout_shard1 OPTIONS (SET async_capable 'true')" \
  -c "ALTER SERVER fdw_scaleout_shard2 OPTIONS (SET async_capable 'true')" \
  -c "SET synchronize_seqscans = off" -c "SET enable_partitionwise_aggregate = on" \
  -c "CREATE TABLE fdw_scaleout.models_dist AS $TRAIN_DIST" \
  -c "SET max_parallel_workers_per_gather = 2" -c "CREATE TABLE fdw_scaleout.models_parallel AS $TRAIN_LOCAL"
check=$(coord -F ' ' -c "
  SELECT count(*), count(DISTINCT link_id), count(model),
         count(*) FILTER (WHERE insight.payload_info(model)->>'algorithm' = 'isolation_forest'
                            AND (insight.payload_info(model)->'metadata'->'metrics'->>'rows_seen')::bigint = n.rows)
    FROM fdw_scaleout.models_dist d
    JOIN (SELECT link_id, count(*) AS rows FROM fdw_scaleout.link_metrics_local GROUP BY link_id) n USING (link_id)")
[ "$check" = "$links_local $links_local $links_local $links_local" ] ||
  die "expected $links_local models (one per link, each having seen all of its link's rows); count, links, non-null, rows_seen right: $check"
probe="SELECT link_id, $FEATURES AS f FROM fdw_scaleout.link_metrics_local WHERE ts >= timestamptz '$END_TIME' - interval '1 day'"
scores=$(coord -F ' ' -c "
  SELECT count(*), count(DISTINCT link_id), count(*) FILTER (WHERE s > 0 AND s <= 1)
    FROM (SELECT link_id, insight.anomaly_score(d.model, p.f) AS s
            FROM fdw_scaleout.models_dist d JOIN ($probe) p USING (link_id)) x")
read -r n_scored links_scored in_range <<<"$scores"
[ "$n_scored" -gt 0 ] && [ "$links_scored" = "$links_local" ] && [ "$in_range" = "$n_scored" ] ||
  die "every model should score its link's last day in (0, 1]: scored, links, in range: $scores"

same() { # how many links' models in fdw_scaleout.$1 (md5) equal the shard-trained ones
  coord -c "SELECT count(*) FROM fdw_scaleout.models_dist d JOIN fdw_scaleout.$1 h USING (link_id) WHERE md5(d.model) = h.md5"
}
same_serial=$(same hashes_serial)
[ "$same_serial" = "$links_local" ] ||
  die "shard-trained models should equal serial single-node models byte for byte: $same_serial of $links_local do"
same_dist=$(same hashes_dist)
[ "$same_dist" = "$links_local" ] || die "two shard trainings differ: $same_dist of $links_local equal"
same_nopw=$(same hashes_nopw)
[ "$same_nopw" = "$links_local" ] || die "coordinator-trained (no pushdown) models differ: $same_nopw of $links_local equal"
same_part=$(same hashes_part)
[ "$same_part" = "$links_local" ] || die "models from local partitions differ: $same_part of $links_local equal"
same_sync=$(same hashes_sync)
[ "$same_sync" = "$links_local" ] || die "synchronous-scan models differ: $same_sync of $links_local equal"
# The parallel plan merges worker reservoirs: same rows, other order, so other per-tree samples.
same_par=$(coord -c "SELECT count(*) FROM fdw_scaleout.models_dist d JOIN fdw_scaleout.models_parallel q USING (link_id) WHERE d.model = q.model")
par=$(coord -F ' ' -c "
  SELECT round(max(abs(a - b))::numeric, 4), round(avg(abs(a - b))::numeric, 4), round(corr(a, b)::numeric, 4)
    FROM (SELECT insight.anomaly_score(d.model, p.f) AS a, insight.anomaly_score(q.model, p.f) AS b
            FROM fdw_scaleout.models_dist d JOIN fdw_scaleout.models_parallel q USING (link_id)
            JOIN ($probe) p USING (link_id)) x")
read -r par_max par_mean par_corr <<<"$par"
awk -v c="$par_corr" 'BEGIN { exit !(c > 0.9) }' ||
  die "scores of parallel-plan models should track the serial ones (corr > 0.9): max |d|, mean |d|, corr: $par"

# A shard-trained model goes into the catalog like any other and scores by name.
link=$(coord -c "SELECT min(link_id) FROM fdw_scaleout.models_dist")
coord -c "SELECT version FROM insight.import_model('fdw_scaleout_link',
            (SELECT model FROM fdw_scaleout.models_dist WHERE link_id = '$link'))" >/dev/null
by_name=$(coord -c "
  SELECT count(*) FILTER (WHERE insight.anomaly_score('fdw_scaleout_link', p.f) = insight.anomaly_score(d.model, p.f))
         || ' ' || count(*)
    FROM ($probe) p JOIN fdw_scaleout.models_dist d USING (link_id) WHERE link_id = '$link'")
read -r by_name_equal by_name_rows <<<"$by_name"
[ "$by_name_equal" = "$by_name_rows" ] && [ "$by_name_rows" -gt 0 ] ||
  die "the imported model should score as its payload: $by_name_equal of $by_name_rows probe rows equal"

# Scoring ships too: a model passed as a parameter is evaluated on the shards.
score_q="PREPARE s(bytea) AS SELECT count(*) FROM fdw_scaleout.link_metrics
          WHERE insight.anomaly_score(\$1, $FEATURES) > 0.6"
plan_score=$(coord -c "SET plan_cache_mode = force_generic_plan" -c "$score_q" -c "EXPLAIN (VERBOSE, COSTS OFF) EXECUTE s(NULL)")
[ "$(grep -c 'Remote SQL: .*insight.anomaly_score(\$1::bytea' <<<"$plan_score" || true)" -eq 2 ] ||
  die "anomaly_score with a model parameter should be pushed to both shards" "$plan_score"
remote_n=$(coord <<SQL
SET plan_cache_mode = force_generic_plan;
$score_q;
SELECT model AS m FROM fdw_scaleout.models_dist WHERE link_id = '$link' \gset
EXECUTE s(:'m');
SQL
)
local_n=$(coord -c "SELECT count(*) FROM fdw_scaleout.link_metrics_local
                     WHERE insight.anomaly_score((SELECT model FROM fdw_scaleout.models_dist WHERE link_id = '$link'), $FEATURES) > 0.6")
[ "$remote_n" = "$local_n" ] || die "scoring on the shards counted $remote_n rows above 0.6, locally $local_n"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "# $rows_local rows, $links_local links; shard 1 $rows_s1, shard 2 $rows_s2; 2 cores shared by the coordinator and both shards; load average at start $load; set-up (2 clusters, data generated and copied) $setup_s s, whole test $SECONDS s"
echo "# pushed down to each shard: $remote_sql"
echo "# train $links_local models (100 trees, 256 samples, seed 42), median of $RUNS (CREATE TABLE AS of each model's md5):"
echo "#   1 node, serial:                                  $t_serial ms"
echo "#   1 node, 2 parallel workers (Partial Aggregate):  $t_par ms ($(ratio "$t_serial" "$t_par")x serial)"
echo "#   1 node, 4 local partitions, partitionwise:       $t_part ms ($(ratio "$t_serial" "$t_part")x serial)"
echo "#   2 shards, pushed down, concurrent (async):       $t_dist ms ($(ratio "$t_serial" "$t_dist")x serial, $(ratio "$t_par" "$t_dist")x parallel)"
echo "#   2 shards, pushed down, one after the other:      $t_sync ms (1 run; $(ratio "$t_serial" "$t_sync")x serial)"
echo "#   2 shards, rows to the coordinator (no pushdown): $t_nopw ms (1 run; $(ratio "$t_serial" "$t_nopw")x serial)"
echo "# one model over all $rows_local rows (no GROUP BY), median of $RUNS: serial $t_one_serial ms, 2 parallel workers $t_one_par ms ($(ratio "$t_one_serial" "$t_one_par")x)"
echo "# models: $links_local of $links_local byte-identical to 1 node serial (so are those of the last timed run of: shards, local partitions, no pushdown, synchronous scans); parallel plan: $same_par identical, scores on $n_scored probe rows max |d| $par_max, mean |d| $par_mean, corr $par_corr"
echo "# scoring pushed down with the model as a parameter: $remote_n rows above 0.6 on the shards = $local_n locally; imported shard model scores by name as its payload ($by_name_equal of $by_name_rows rows)"
