#!/usr/bin/env bash
# Live operations with real pg_cron (API.md section 7), in a cluster of its own with
# shared_preload_libraries = 'pg_cron':
#   1. an admin login watches links every minute; the last day of demo telemetry, with the
#      four injected root causes, is inserted now; within two runs of the job every affected
#      link has exactly one alert with the fault's pattern_type, a healthy link none, and a
#      second session LISTENing on insight_alerts receives the JSON payloads;
#   2. kill -9 of a backend whose run has scored and written everything but not committed:
#      after recovery nothing of it is there, the rows are still queued, the next run scores
#      them, and every flagged row is in exactly one alert;
#   3. two runs forced to overlap: the second waits for the first and finds nothing left, so
#      nothing is scored twice;
#   4. unwatch removes the job and the triggers; the sales scope schedules and unwatches too.
set -euo pipefail
source scripts/lib.sh

dir=$(mktemp -d /tmp/pg_insight_watch.XXXXXX)
[ "$(id -u)" -eq 0 ] && chown "$PG_RUN_USER" "$dir"
port=$(pg_free_port 55732)
listener=
trap '[ -n "$listener" ] && kill "$listener" 2>/dev/null; cluster_stop "$dir"; rm -rf "$dir"' EXIT
cluster_start "$dir" "$port" "shared_preload_libraries = 'pg_cron'" "cron.database_name = 'insight_watch'" \
  "cron.use_background_workers = on" "max_worker_processes = 16" "lc_messages = 'C'" >/dev/null
# The demo's telemetry ends at a fixed time (its values follow the time of day) and the models
# are trained without parallel workers (whose order of rows would vary the sample): the same
# rows and models every run, on any machine. The rows are still inserted now, as a loader would.
end='2026-12-07 12:00+00'
q() { psql_at "$dir" "$port" -d insight_watch -X -q -tA "$@"; }
qw() { psql_at "$dir" "$port" -d insight_watch -U watcher -X -q -tA "$@"; }
psql_at "$dir" "$port" -q -d postgres -c "CREATE DATABASE insight_watch"
q -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION pg_insight" \
  -c "CREATE ROLE watcher LOGIN IN ROLE insight_admin" -c "GRANT USAGE ON SCHEMA cron TO watcher" \
  -c "SET client_min_messages = warning" \
  -c "SELECT insight.load_demo_data(days => 4, seed => 5, end_time => '$end') IS NOT NULL" \
  -c "CREATE TABLE arriving AS SELECT * FROM insight.link_metrics WHERE ts > '$end'::timestamptz - interval '24 hours'" \
  -c "GRANT SELECT ON arriving TO watcher" \
  -c "DELETE FROM insight.link_metrics WHERE ts > '$end'::timestamptz - interval '24 hours'" \
  -c "CREATE TABLE faults AS SELECT g.kind, l AS link_id, g.started_at, g.ended_at
        FROM insight.demo_ground_truth g,
             unnest(CASE WHEN g.scope = 'link' THEN ARRAY[g.scope_id] ELSE g.affected_links END) l
       WHERE g.ended_at > '$end'::timestamptz - interval '24 hours' AND g.root_cause IS NOT NULL" >/dev/null
qw -c "SET max_parallel_workers_per_gather = 0" \
   -c "SELECT count(*) FROM insight.train_anomaly_detector('link_anomaly', 'insight.link_anomaly_features',
         ARRAY['throughput_mbps', 'utilization', 'errors', 'discards', 'uptime_pct', 'ib_packet_loss_pct',
               'ob_packet_loss_pct', 'throughput_hour_dev', 'ib_esno_dev', 'ob_esno_dev', 'latency_dev',
               'jitter_dev', 'errors_dev', 'peak_dev'], contamination => 0.01)" \
   -c "SELECT count(*) FROM insight.train_root_cause_classifier()" >/dev/null
[ "$(q -c "SELECT count(DISTINCT kind) FROM faults")" = "4" ] || { echo "the held-back day lacks one of the four root causes"; q -c "SELECT DISTINCT kind FROM faults"; exit 1; }

# 1. Watching under pg_cron. The listener asks again every second (psql prints what arrived
#    after each command) until it is stopped, once it has printed a payload for every alert.
job=$(qw -c "SELECT insight.watch('link')")
[ "$(qw -c "SELECT insight.watch('link')")" = "$job" ] || { echo "watching again made a second job"; exit 1; }
command=$(q -c "SELECT command || ' as ' || username || ' ' || schedule FROM cron.job WHERE jobid = $job")
[ "$command" = "SELECT insight._watch_run('link') as watcher * * * * *" ] || { echo "unexpected job: $command"; exit 1; }
{ echo "LISTEN insight_alerts;"; for _ in $(seq 1 900); do echo "SELECT pg_sleep(1) AS listening;"; done; } |
  psql_at "$dir" "$port" -d insight_watch -X -q -tA >"$dir/listen.out" 2>&1 &
listener=$!
# Its first pg_sleep runs after LISTEN has taken effect: only then do the rows go in.
for _ in $(seq 1 120); do
  [ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%AS listening%' AND pid <> pg_backend_pid()")" = "1" ] && break
  sleep 0.5
done
t0=$(date +%s)
qw -c "INSERT INTO insight.link_metrics SELECT * FROM arriving"
runs=0
for _ in $(seq 1 150); do
  left=$(q -c "SELECT count(*) FROM insight.watch_queue")
  runs=$(q -c "SELECT count(*) FROM insight.watch_runs WHERE queued > 0")
  [ "$left" = "0" ] && [ "$runs" -ge 1 ] && break
  sleep 1
done
[ "$left" = "0" ] || { echo "rows still queued after 150 s"; q -c "SELECT * FROM cron.job_run_details"; exit 1; }
[ "$runs" -le 2 ] || { echo "the rows took $runs runs"; exit 1; }
delay=$(($(date +%s) - t0))
report=$(q -F ' ' -c "SELECT f.kind, count(DISTINCT f.link_id), count(DISTINCT f.link_id) FILTER (WHERE a.n = 1),
                               count(DISTINCT f.link_id) FILTER (WHERE a.pattern_type = f.kind)
                          FROM faults f LEFT JOIN LATERAL (
                            SELECT count(*) OVER () AS n, al.* FROM insight.alerts al
                             WHERE al.entity_id = f.link_id AND al.opened_at < f.ended_at
                               AND coalesce(al.closed_at, 'infinity') > f.started_at) a ON true
                         GROUP BY 1 ORDER BY 1")
echo "$report" | while read -r kind links one right; do
  [ "$links" = "$one" ] && [ "$links" = "$right" ] ||
    { echo "$kind: $links links, $one with exactly one alert, $right with the right pattern"; exit 1; }
done
healthy=$(q -c "SELECT count(*) FROM insight.links l WHERE NOT EXISTS (SELECT FROM faults f WHERE f.link_id = l.link_id)
                  AND NOT EXISTS (SELECT FROM insight.alerts a WHERE a.entity_id = l.link_id)")
[ "$healthy" -ge 100 ] || { echo "only $healthy healthy links without an alert"; exit 1; }
alerts=$(q -c "SELECT count(*) FROM insight.alerts")
opened=0
for _ in $(seq 1 120); do
  opened=$(grep -c '"event": "opened"' "$dir/listen.out" || true)
  [ "$opened" -ge "$alerts" ] && break
  sleep 1
done
kill "$listener" 2>/dev/null || true
listener=
[ "$opened" = "$alerts" ] || { echo "$alerts alerts but $opened opened payloads:"; head -5 "$dir/listen.out"; exit 1; }
payload=$(grep -m1 -o '{[^}]*"event": "opened"[^}]*}' "$dir/listen.out" || true)
for key in alert_id scope entity_id status severity; do
  echo "$payload" | grep -q "\"$key\":" || { echo "payload without $key: $payload"; exit 1; }
done

# An analyst logged in as herself acknowledges as herself, and cannot sign for someone else.
q -c "CREATE ROLE opsanalyst LOGIN IN ROLE insight_analyst" >/dev/null
some=$(q -c "SELECT min(alert_id) FROM insight.alerts")
psql_at "$dir" "$port" -d insight_watch -U opsanalyst -X -q -tA -c "SELECT insight.acknowledge_alert($some, 'seen')" >/dev/null
[ "$(q -c "SELECT actor FROM insight.alert_events WHERE alert_id = $some AND event = 'acknowledged'")" = "opsanalyst" ] ||
  { echo "the acknowledgement was not recorded as opsanalyst's"; exit 1; }
err=$(psql_at "$dir" "$port" -d insight_watch -U opsanalyst -X -q -tA -v VERBOSITY=verbose \
        -c "SELECT insight._change_alert($some, 'resolved', 'not me', 'watcher')" 2>&1 || true)
echo "$err" | grep -q "42501" || { echo "an analyst signed as another role: $err"; exit 1; }

# Each flagged row is in at most one alert; rows left out are below the opening rule.
check_rows() {
  local bad
  bad=$(q -c "SELECT count(*) FROM insight.anomaly_events e LEFT JOIN insight.alerts a USING (alert_id)
               WHERE e.alert_id IS NOT NULL AND (a.entity_id <> e.entity_id OR e.ts NOT BETWEEN a.opened_at AND a.last_seen_at)")
  [ "$bad" = "0" ] || { echo "$bad flagged rows outside their alert"; exit 1; }
  bad=$(q -c "SELECT count(*) FROM insight.anomaly_events e JOIN faults f ON f.link_id = e.entity_id
               AND e.ts >= f.started_at + interval '30 minutes' AND e.ts < f.ended_at WHERE e.alert_id IS NULL
               AND e.severity IN ('high', 'critical')")
  [ "$bad" = "0" ] || { echo "$bad high or critical rows of a fault in no alert"; exit 1; }
}
check_rows

# 2. kill -9 during a run: the job is paused, the run scores and writes, then waits before
#    committing; its backend is killed.
q -c "SELECT cron.alter_job($job, active := false)" >/dev/null
q -c "DELETE FROM insight.anomaly_events" -c "DELETE FROM insight.alert_events" -c "DELETE FROM insight.alerts" \
  -c "UPDATE insight.link_metrics SET latency_ms = latency_ms WHERE ts > '$end'::timestamptz - interval '24 hours'" >/dev/null
queued=$(q -c "SELECT count(*) FROM insight.watch_queue")
(qw -c "BEGIN" -c "SELECT insight._watch_run('link')" -c "SELECT pg_sleep(600)" >/dev/null 2>&1 || true) &
victim=
for _ in $(seq 1 120); do
  victim=$(q -c "SELECT pid FROM pg_stat_activity WHERE usename = 'watcher' AND query LIKE '%pg_sleep(600)%' AND state = 'active'")
  [ -n "$victim" ] && break
  sleep 0.5
done
[ -n "$victim" ] || { echo "the run never reached its pause"; exit 1; }
kill -9 "$victim"
for _ in $(seq 1 60); do q -c "SELECT 1" >/dev/null 2>&1 && break; sleep 1; done
wait
after=$(q -c "SELECT count(*) FROM insight.watch_queue")
[ "$after" = "$queued" ] || { echo "queue had $queued rows, $after after the crash"; exit 1; }
[ "$(q -c "SELECT count(*) FROM insight.alerts")" = "0" ] || { echo "alerts of the killed run survived"; exit 1; }
qw -c "SELECT insight._watch_run('link')" >/dev/null
[ "$(q -c "SELECT count(*) FROM insight.watch_queue")" = "0" ] || { echo "rows left after recovery"; exit 1; }
recovered=$(q -c "SELECT count(*) FROM insight.alerts")
[ "$recovered" = "$alerts" ] || { echo "$alerts alerts before, $recovered after recovery"; exit 1; }
check_rows

# 3. Two overlapping runs: the first holds its transaction open after scoring until the
#    second is seen waiting for it (whatever the machine's speed), then commits; the second
#    must then find nothing.
q -c "UPDATE insight.link_metrics SET latency_ms = latency_ms WHERE ts > '$end'::timestamptz - interval '2 hours'" >/dev/null
queued=$(q -c "SELECT count(*) FROM insight.watch_queue")
(qw -c "BEGIN" -c "SELECT insight._watch_run('link')" \
    -c "DO \$\$ BEGIN
          FOR i IN 1 .. 1200 LOOP  -- at most 120 s; a fresh view of the other backends each time
            PERFORM pg_stat_clear_snapshot();
            EXIT WHEN EXISTS (SELECT FROM pg_stat_activity WHERE wait_event_type = 'Lock'
                                 AND query LIKE '%_watch_run%' AND pid <> pg_backend_pid());
            PERFORM pg_sleep(0.1);
          END LOOP;
          IF NOT EXISTS (SELECT FROM pg_stat_activity WHERE wait_event_type = 'Lock'
                            AND query LIKE '%_watch_run%' AND pid <> pg_backend_pid()) THEN
            RAISE EXCEPTION 'the second run never waited for this one';
          END IF;
        END \$\$" -c "COMMIT" >/dev/null) &
first=$!
for _ in $(seq 1 240); do
  [ -n "$(q -c "SELECT pid FROM pg_stat_activity WHERE usename = 'watcher' AND query LIKE '%never waited%'")" ] && break
  sleep 0.5
done
second=$(qw -c "SELECT insight._watch_run('link')->>'queued'")
wait "$first" || { echo "the two runs did not overlap"; exit 1; }
[ "$second" = "0" ] || { echo "the overlapping run took $second rows"; exit 1; }
scored=$(q -c "SELECT sum(scored) FROM (SELECT scored FROM insight.watch_runs ORDER BY run_id DESC LIMIT 2) r")
[ "$scored" = "$queued" ] || { echo "$queued rows queued, $scored scored by the two runs"; exit 1; }
# Scored again, a row is recorded once per model (its baseline may have moved to a new day).
dup=$(q -c "SELECT count(*) FROM (SELECT FROM insight.anomaly_events GROUP BY entity_id, ts, model_id HAVING count(*) > 1) d")
[ "$dup" = "0" ] || { echo "$dup rows recorded twice"; exit 1; }
check_rows

# 4. unwatch.
[ "$(qw -c "SELECT insight.unwatch('link')")" = "t" ] || { echo "unwatch failed"; exit 1; }
[ "$(q -c "SELECT count(*) FROM cron.job WHERE jobname = 'insight_watch_link'")" = "0" ] || { echo "job still there"; exit 1; }
[ "$(q -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'insight.link_metrics'::regclass AND NOT tgisinternal")" = "0" ] ||
  { echo "triggers still there"; exit 1; }
[ "$(qw -c "SELECT insight.unwatch('link')")" = "f" ] || { echo "second unwatch should say false"; exit 1; }
# The sales scope schedules its job and puts its triggers on insight.transactions (no model
# needed); unwatch takes them off.
[ "$(qw -c "SELECT insight.watch('sales', '1 hour') > 0")" = "t" ] || { echo "watch('sales') failed"; exit 1; }
[ "$(q -c "SELECT schedule FROM cron.job WHERE jobname = 'insight_watch_sales'")" = "0 */1 * * *" ] ||
  { echo "sales job not scheduled hourly"; exit 1; }
[ "$(q -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'insight.transactions'::regclass AND NOT tgisinternal")" = "2" ] ||
  { echo "sales triggers missing"; exit 1; }
[ "$(qw -c "SELECT insight.unwatch('sales')")" = "t" ] || { echo "unwatch('sales') failed"; exit 1; }
[ "$(q -c "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'insight.transactions'::regclass AND NOT tgisinternal")" = "0" ] ||
  { echo "sales triggers still there"; exit 1; }
echo "# watch: $(echo "$report" | awk '{printf "%s %s/%s, ", $1, $4, $2}')in $runs run(s), ${delay} s from insert to alerts; kill -9 and overlap: nothing lost or doubled"
