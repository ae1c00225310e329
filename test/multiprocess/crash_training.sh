#!/usr/bin/env bash
# kill -9 of a backend in the middle of training: the postmaster resets every backend and runs
# crash recovery, the server accepts connections again, and the catalog is exactly as before
# the crash — the killed training left no row anywhere (models, training_runs, deployments,
# model_names), earlier models are all there, deployed as before and scoring identically, every
# deployment points at an existing version, the catalog's indexes check out with amcheck, and
# training the same names again works with the next version numbers. Two kills: a first
# training of a new name (train_recommender), and a retrain of an existing model.
# Runs on a cluster of its own (it takes down every session of the server it crashes).
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"

dir=$(mktemp -d /tmp/pg_insight_crash.XXXXXX)
[ "$(id -u)" -eq 0 ] && chown "$PG_RUN_USER" "$dir"
port=$(pg_free_port 56300)
client=
cleanup() {
  [ -n "$client" ] && kill "$client" 2>/dev/null || true
  cluster_stop "$dir"
  rm -rf "$dir"
}
trap cleanup EXIT
cluster_start "$dir" "$port" "lc_messages = 'C'" "restart_after_crash = on" >/dev/null
psql_at "$dir" "$port" -q -d postgres -c "CREATE DATABASE insight_crash"
q() { psql_at "$dir" "$port" -d insight_crash -X -q -tA "$@"; }
postmaster=$(as_pg head -1 "$dir/data/postmaster.pid")

q >/dev/null <<'SQL'
CREATE EXTENSION pg_insight;
CREATE EXTENSION amcheck;
CREATE TABLE points AS
  SELECT g AS id, (g % 37)::float8 AS x, ((g * 7) % 23)::float8 AS y, sin(g)::float8 AS z
    FROM generate_series(1, 3000) g;
CREATE TABLE sales AS
  SELECT d::date AS day, 100 + 10 * extract(dow FROM d) + (extract(doy FROM d)::int % 7) AS amount
    FROM generate_series('2025-01-01'::date, '2025-06-30'::date, '1 day') d;
-- A large purchase table for the training that gets killed, and a small one (grown later).
CREATE TABLE big_purchases AS
  SELECT 'c' || c AS customer, 'p' || ((c * 7 + k * 13) % 2000) AS item
    FROM generate_series(1, 20000) c, generate_series(1, 10) k;
CREATE TABLE small_purchases AS
  SELECT 'c' || c AS customer, 'p' || ((c * 7 + k * 13) % 200) AS item
    FROM generate_series(1, 300) c, generate_series(1, 5) k;
SELECT insight.train_anomaly_detector('keep_anomaly', 'points', ARRAY['x', 'y', 'z'], seed => 1);
SELECT insight.train_anomaly_detector('keep_anomaly', 'points', ARRAY['x', 'y', 'z'], seed => 2);
SELECT insight.rollback('keep_anomaly');
SELECT insight.train_forecaster('keep_forecast', 'sales', 'day', 'amount', horizon => 7);
SELECT insight.train_recommender('keep_rec', 'small_purchases', 'customer', 'item', factors => 32, iterations => 400);
SELECT insight.register_model('keep_external', 'forecast', '\x01'::bytea);
SQL

# Everything the crash must not change: every catalog row (sequences aside) and what the
# deployed models answer.
catalog="SELECT md5((SELECT string_agg(concat_ws('|', model_id, name, version, task, algorithm, features, source, params, metrics, trained_rows, trained_at, md5(payload)), ',' ORDER BY model_id) FROM insight.models))
  || md5((SELECT string_agg(concat_ws('|', deployment_id, name, model_id, action, previous_deployment_id, version, deployed_at), ',' ORDER BY deployment_id) FROM insight.deployments))
  || md5((SELECT string_agg(concat_ws('|', run_id, name, status, rows, message, model_id, started_at, finished_at), ',' ORDER BY run_id) FROM insight.training_runs))
  || md5((SELECT string_agg(concat_ws('|', name, last_version, changed_at), ',' ORDER BY name) FROM insight.model_names))"
answers="SELECT md5((SELECT string_agg(insight.anomaly_score('keep_anomaly', p)::text || insight.is_anomaly('keep_anomaly', p), ',' ORDER BY id) FROM points p))
  || md5((SELECT string_agg(concat_ws('|', forecast_time, forecast_value, lower_bound, upper_bound), ',' ORDER BY forecast_time) FROM insight.forecast('keep_forecast', 7)))
  || md5((SELECT string_agg(item_id || ':' || score, ',' ORDER BY score DESC, item_id) FROM insight.recommend('keep_rec', 'c1', 10)))
  || (SELECT string_agg(n || '=' || (insight.describe_model(n)->>'version'), ',' ORDER BY n) FROM unnest(ARRAY['keep_anomaly', 'keep_forecast', 'keep_rec', 'keep_external']) n)"
consistent="SELECT (SELECT count(*) FROM insight.deployments d LEFT JOIN insight.models m USING (model_id) WHERE m.model_id IS NULL OR m.name <> d.name OR m.version <> d.version)
  + (SELECT count(*) FROM insight.training_runs r LEFT JOIN insight.models m USING (model_id) WHERE r.status <> 'succeeded' OR m.model_id IS NULL OR m.name <> r.name)
  + (SELECT count(*) FROM (SELECT name, max(version) AS v FROM insight.models GROUP BY name) m FULL JOIN insight.model_names n USING (name) WHERE n.last_version IS DISTINCT FROM m.v)
  + (SELECT count(*) FROM (SELECT DISTINCT name FROM insight.models) m WHERE insight.live_model_id(m.name) IS NULL)"
amcheck="SELECT bt_index_parent_check(c.oid, true) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree' AND c.relnamespace = 'insight'::regnamespace"
cat0=$(q -c "$catalog")
ans0=$(q -c "$answers")
echo "$ans0" | grep -q "keep_anomaly=1,keep_external=1,keep_forecast=1,keep_rec=1$" ||
  { echo "unexpected live versions before the crash: $ans0"; exit 1; }

# crash APP SQL: runs SQL in a background session named APP, waits until it is active and has
# been training for 2 s, kills its backend with SIGKILL and waits for the server to accept
# connections again. Sets recovery_ms.
crash() {
  local app=$1 sql=$2 pid='' still t0 t1 rc=0
  psql_at "$dir" "$port" -d insight_crash -X -c "SET application_name = '$app'" -c "$sql" >"$dir/$app.out" 2>&1 &
  client=$!
  for _ in $(seq 1 100); do
    pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$app' AND state = 'active' AND query LIKE '%train%'")
    [ -n "$pid" ] && break
    sleep 0.1
  done
  [ -n "$pid" ] || { echo "$app: the training never started"; cat "$dir/$app.out"; exit 1; }
  sleep 2
  still=$(q -c "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid AND state = 'active' AND query LIKE '%train%'")
  [ "$still" = "1" ] || { echo "$app: the training finished before it could be killed"; cat "$dir/$app.out"; exit 1; }
  kill -9 "$pid"
  t0=$(date +%s%N)
  wait "$client" || rc=$?
  client=
  [ "$rc" -ne 0 ] || { echo "$app: the killed session's client exited 0:"; cat "$dir/$app.out"; exit 1; }
  grep -q "server closed the connection unexpectedly" "$dir/$app.out" ||
    { echo "$app: the client did not lose its connection:"; cat "$dir/$app.out"; exit 1; }
  # The postmaster notices the death (and from then on refuses connections until recovery
  # is done) before a new connection can tell whether the server is back.
  for _ in $(seq 1 200); do
    grep -q "server process (PID $pid) was terminated by signal 9" "$dir/server.log" && break
    sleep 0.05
  done
  grep -q "server process (PID $pid) was terminated by signal 9" "$dir/server.log" ||
    { echo "$app: server.log does not show backend $pid killed by signal 9"; tail -30 "$dir/server.log"; exit 1; }
  for _ in $(seq 1 600); do
    q -c "SELECT 1" >/dev/null 2>&1 && break
    sleep 0.05
  done
  t1=$(date +%s%N)
  q -c "SELECT 1" >/dev/null 2>&1 || { echo "$app: the server did not come back within 30 s"; tail -30 "$dir/server.log"; exit 1; }
  recovery_ms=$(((t1 - t0) / 1000000))
  [ "$(as_pg head -1 "$dir/data/postmaster.pid")" = "$postmaster" ] ||
    { echo "$app: the postmaster was replaced instead of resetting its backends"; exit 1; }
  killed_pid=$pid
}

# The catalog after a crash: as before it, consistent, the indexes sound, the answers unchanged.
check_after() {
  local what=$1 cat1 ans1 bad
  cat1=$(q -c "$catalog")
  [ "$cat1" = "$cat0" ] || { echo "$what: the catalog changed across the crash"; q -c "TABLE insight.training_runs" -c "TABLE insight.model_names"; exit 1; }
  bad=$(q -c "$consistent")
  [ "$bad" = "0" ] || { echo "$what: $bad inconsistent catalog rows"; exit 1; }
  q -c "$amcheck" >/dev/null || { echo "$what: amcheck found a damaged catalog index"; exit 1; }
  ans1=$(q -c "$answers")
  [ "$ans1" = "$ans0" ] || { echo "$what: the deployed models answer differently after the crash ($ans0 / $ans1)"; exit 1; }
}

# 1. A first training of a new name (about 75 s to the end), killed after 2 s.
crash crash_new "SELECT insight.train_recommender('crash_rec', 'big_purchases', 'customer', 'item', factors => 64, iterations => 500)"
rec1=$recovery_ms
pid1=$killed_pid
left=$(q -c "SELECT (SELECT count(*) FROM insight.models WHERE name = 'crash_rec') + (SELECT count(*) FROM insight.training_runs WHERE name = 'crash_rec')
               + (SELECT count(*) FROM insight.deployments WHERE name = 'crash_rec') + (SELECT count(*) FROM insight.model_names WHERE name = 'crash_rec')")
[ "$left" = "0" ] || { echo "the killed training of crash_rec left $left catalog rows"; exit 1; }
check_after "after killing a first training"

# 2. A retrain of keep_rec after its source grew a hundredfold (about 25 s), killed after 2 s.
q -c "INSERT INTO small_purchases SELECT 'x' || c, 'q' || ((c * 7 + k * 13) % 2000) FROM generate_series(1, 20000) c, generate_series(1, 10) k"
crash crash_retrain "SELECT insight.retrain('keep_rec')"
rec2=$recovery_ms
pid2=$killed_pid
check_after "after killing a retrain"

# The server log: each kill, then crash recovery and the server back.
for pid in "$pid1" "$pid2"; do
  sed -n "/server process (PID $pid) was terminated by signal 9/,\$p" "$dir/server.log" >"$dir/after.log"
  for line in "terminating any other active server processes" "all server processes terminated; reinitializing" \
    "database system was not properly shut down; automatic recovery in progress" "database system is ready to accept connections"; do
    grep -q "$line" "$dir/after.log" || { echo "server.log lacks \"$line\" after backend $pid was killed"; tail -40 "$dir/server.log"; exit 1; }
  done
done

# Training again works and numbers versions on from what committed: crash_rec starts at 1,
# keep_rec's retrain (its source shrunk back) is version 2 and reproduces version 1 exactly.
q -c "DELETE FROM small_purchases WHERE customer LIKE 'x%'"
v_new=$(q -c "SELECT version FROM insight.train_recommender('crash_rec', 'big_purchases', 'customer', 'item', factors => 8, iterations => 2)")
[ "$v_new" = "1" ] || { echo "training crash_rec after the crash gave version $v_new, expected 1"; exit 1; }
v_re=$(q -c "SELECT version FROM insight.retrain('keep_rec')")
[ "$v_re" = "2" ] || { echo "retraining keep_rec after the crash gave version $v_re, expected 2"; exit 1; }
same=$(q -c "SELECT count(DISTINCT md5(payload)) FROM insight.models WHERE name = 'keep_rec'")
[ "$same" = "1" ] || { echo "keep_rec version 2 (retrained on the same data) differs from version 1"; exit 1; }
live=$(q -c "SELECT insight.describe_model('crash_rec')->>'version', insight.describe_model('keep_rec')->>'version'" -F,)
[ "$live" = "1,2" ] || { echo "live versions after retraining: $live, expected 1,2"; exit 1; }
[ "$(q -c "$consistent")" = "0" ] || { echo "catalog inconsistent after training again"; exit 1; }

echo "# kill -9 of train_recommender('crash_rec') after 2 s: server accepting connections again after $rec1 ms; no crash_rec rows left"
echo "# kill -9 of retrain('keep_rec') after 2 s: back after $rec2 ms; catalog byte-identical, amcheck clean, 4 models answer identically"
echo "# training again: crash_rec version 1, keep_rec version 2 (payload identical to version 1)"
