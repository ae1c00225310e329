#!/usr/bin/env bash
# insight.model_usage across processes: without shared_preload_libraries (this suite's own
# cluster) scoring works and the view says counting is off and how to turn it on; in a cluster
# of its own that preloads pg_insight, 8 concurrent clients lose no count, the counts survive a
# clean restart and a kill -9 of a backend (crash restart), and a damaged counts file is
# reported in the log and ignored.
set -euo pipefail
source scripts/lib.sh

# 1. Not preloaded.
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE TABLE use_points AS SELECT g::float8 AS x FROM generate_series(1, 300) g" \
  -c "SELECT insight.train_anomaly_detector('use_off', 'use_points', ARRAY['x'])" >/dev/null
out=$(psql -X -tA -v ON_ERROR_STOP=1 -c "SELECT count(s) FROM (SELECT insight.anomaly_score('use_off', ARRAY[x]) s FROM use_points) q" \
  -c "SELECT count(*) FROM insight.model_usage" 2>&1)
echo "$out" | grep -q "^300$" || { echo "scoring without preloading failed: $out"; exit 1; }
echo "$out" | grep -q "not in shared_preload_libraries" || { echo "expected the NOTICE, got: $out"; exit 1; }
echo "$out" | grep -q "HINT:  Add pg_insight to shared_preload_libraries" || { echo "expected the HINT, got: $out"; exit 1; }
echo "# not preloaded: scoring works, the view says counting is off and how to turn it on"

# 2. Preloaded.
dir=$(mktemp -d /tmp/pg_insight_usage.XXXXXX)
[ "$(id -u)" -eq 0 ] && chown "$PG_RUN_USER" "$dir"
port=$(pg_free_port 55732)
trap 'cluster_stop "$dir"; rm -rf "$dir"' EXIT
cluster_start "$dir" "$port" "shared_preload_libraries = 'pg_insight'" "lc_messages = 'C'" >/dev/null
q() { psql_at "$dir" "$port" -d insight_use -X -q -tA "$@"; }
psql_at "$dir" "$port" -q -d postgres -c "CREATE DATABASE insight_use"
q -c "CREATE EXTENSION pg_insight" \
  -c "CREATE TABLE pts AS SELECT g::float8 AS x, (g % 13)::float8 AS y FROM generate_series(1, 1000) g" \
  -c "SELECT insight.train_anomaly_detector('use_m', 'pts', ARRAY['x', 'y'])" >/dev/null
usage() { q -c "SELECT calls || '/' || rows_scored FROM insight.model_usage WHERE name = 'use_m'"; }

# Eight clients, 25 statements of 100 rows each: 20,000 calls, none lost.
cat >"$dir/score.sql" <<'SQL'
SELECT count(s) FROM (SELECT insight.anomaly_score('use_m', ARRAY[x, y]) s FROM pts WHERE x <= 100) q;
SQL
[ "$(id -u)" -eq 0 ] && chown "$PG_RUN_USER" "$dir/score.sql"
"$PG_BINDIR/pgbench" -n -h "$dir/socket" -p "$port" -U "$PG_SUPERUSER" -c 8 -j 4 -t 25 \
  -f "$dir/score.sql" insight_use >"$dir/pgbench.log" 2>&1 || { cat "$dir/pgbench.log"; exit 1; }
[ "$(usage)" = "20000/20000" ] || { echo "8 clients: expected 20000/20000, got $(usage)"; exit 1; }
echo "# 8 concurrent clients: 20000 calls counted, none lost"

# A clean restart keeps the counts (the postmaster writes them at shutdown).
as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w restart -l "$dir/server.log" >/dev/null
[ "$(usage)" = "20000/20000" ] || { echo "after a restart: expected 20000/20000, got $(usage)"; exit 1; }
[ -f "$dir/data/pg_stat/pg_insight_usage.stat" ] || { echo "no counts file after a restart"; exit 1; }

# kill -9 of a backend: the postmaster writes the counts before it re-creates shared memory.
q -c "SELECT count(s) FROM (SELECT insight.anomaly_score('use_m', ARRAY[x, y]) s FROM pts WHERE x <= 500) q" >/dev/null
[ "$(usage)" = "20500/20500" ] || { echo "expected 20500/20500, got $(usage)"; exit 1; }
# The victim sleeps far longer than any wait below; the waits end on what they wait for.
q -c "SELECT pg_sleep(3600)" >/dev/null 2>&1 &
sleeper=$!
victim=""
for _ in $(seq 1 600); do
  victim=$(q -c "SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(3600)'")
  [ -n "$victim" ] && break
  sleep 0.1
done
[ -n "$victim" ] || { echo "the sleeping backend did not start within 60 s"; exit 1; }
kill -9 "$victim"
wait "$sleeper" 2>/dev/null || true
for _ in $(seq 1 600); do
  q -c "SELECT 1" >/dev/null 2>&1 && break
  sleep 0.2
done
grep -q "terminated by signal 9" "$dir/server.log" || { echo "no crash restart in the log"; exit 1; }
[ "$(usage)" = "20500/20500" ] || { echo "after kill -9: expected 20500/20500, got $(usage)"; exit 1; }
echo "# counts survive a clean restart and a kill -9 crash restart (20500 calls)"

# A damaged file: reported in the log, ignored whole; the server starts with no counts.
as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
printf '\xff' | dd of="$dir/data/pg_stat/pg_insight_usage.stat" bs=1 seek=20 conv=notrunc status=none
as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" -w start -l "$dir/server.log" >/dev/null
grep -q "ignoring damaged model usage file" "$dir/server.log" || { echo "the damaged file was not reported"; exit 1; }
[ -z "$(usage)" ] || { echo "a damaged file must be ignored whole, got $(usage)"; exit 1; }
q -c "SELECT count(s) FROM (SELECT insight.anomaly_score('use_m', ARRAY[x, y]) s FROM pts WHERE x <= 7) q" >/dev/null
[ "$(usage)" = "7/7" ] || { echo "counting after a damaged file: expected 7/7, got $(usage)"; exit 1; }
echo "# a damaged counts file is reported and ignored; counting goes on"
