#!/usr/bin/env bash
# Scheduled retraining with real pg_cron: a cluster of its own with
# shared_preload_libraries = 'pg_cron', a retrain scheduled every minute, and a new deployed
# version and a training_runs row seen to appear; then the job is removed. Beside it a job with
# "when" => 'drift' that skips on stable data and retrains after a shift. Also: scheduling
# where pg_cron is not installed fails with 55000 and the set-up steps.
set -euo pipefail
source scripts/lib.sh

psql -X -q -v ON_ERROR_STOP=1 -c "CREATE TABLE IF NOT EXISTS cron_points AS SELECT g::float8 AS x FROM generate_series(1, 300) g" \
  -c "SELECT insight.train_anomaly_detector('no_cron', 'cron_points', ARRAY['x'])" >/dev/null
err=$(psql -X -v VERBOSITY=verbose -c "SELECT insight.schedule_retraining('no_cron', '* * * * *')" 2>&1 || true)
echo "$err" | grep -q "55000" || { echo "expected 55000 without pg_cron, got: $err"; exit 1; }
echo "$err" | grep -q "shared_preload_libraries" || { echo "expected the set-up HINT, got: $err"; exit 1; }

dir=$(mktemp -d /tmp/pg_insight_cron.XXXXXX)
[ "$(id -u)" -eq 0 ] && chown "$PG_RUN_USER" "$dir"
port=$(pg_free_port 55632)
trap 'cluster_stop "$dir"; rm -rf "$dir"' EXIT
cluster_start "$dir" "$port" "shared_preload_libraries = 'pg_cron'" "cron.database_name = 'insight_cron'" \
  "cron.use_background_workers = on" "max_worker_processes = 16" "lc_messages = 'C'" >/dev/null
q() { psql_at "$dir" "$port" -d insight_cron -X -q -tA "$@"; }
# poll SECONDS MIN SQL: runs SQL (a count or a version) once a second until it gives at least
# MIN, or SECONDS have passed; prints the last value. pg_cron starts jobs at the top of a minute.
poll() {
  local value=0
  for _ in $(seq 1 "$1"); do
    value=$(q -c "$3")
    [ "${value:-0}" -ge "$2" ] && break
    sleep 1
  done
  echo "${value:-0}"
}
psql_at "$dir" "$port" -q -d postgres -c "CREATE DATABASE insight_cron"
q -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION pg_insight" \
  -c "CREATE TABLE points AS SELECT g::float8 AS x, (g % 17)::float8 AS y FROM generate_series(1, 400) g" \
  -c "SELECT insight.train_anomaly_detector('cron_model', 'points', ARRAY['x', 'y'])" >/dev/null
job=$(q -c "SELECT insight.schedule_retraining('cron_model', '* * * * *')")
again=$(q -c "SELECT insight.schedule_retraining('cron_model', '* * * * *')")
[ "$job" = "$again" ] || { echo "rescheduling made a second job ($job, $again)"; exit 1; }
command=$(q -c "SELECT command FROM cron.job WHERE jobid = $job")
[ "$command" = "SELECT insight.retrain('cron_model')" ] || { echo "unexpected job command: $command"; exit 1; }

# Beside it, a detector retrained on evidence ("when" => 'drift'): two days of one sample a
# minute, the newest a minute old; its own source and the last 24 hours are what the job checks.
q -c "CREATE TABLE tele AS SELECT now() - (g + 1) * interval '1 minute' AS ts, 10 + (g % 7)::float8 AS x FROM generate_series(0, 2879) g" \
  -c "SELECT insight.train_anomaly_detector('cron_drift', 'tele', ARRAY['x'])" >/dev/null
drift_job=$(q -c "SELECT insight.schedule_retraining('cron_drift', '* * * * *', \"when\" => 'drift')")
command=$(q -c "SELECT command FROM cron.job WHERE jobid = $drift_job")
[ "$command" = "SELECT insight.retrain_on_evidence('cron_drift', 'drift', 'always', '24:00:00')" ] || { echo "unexpected drift job command: $command"; exit 1; }

# pg_cron starts jobs at the top of each minute: wait up to 150 s for a run.
t0=$(date +%s)
version=$(poll 150 2 "SELECT max(version) FROM insight.models WHERE name = 'cron_model'")
[ "$version" -ge 2 ] || { echo "no new version after 150 s"; q -c "SELECT * FROM cron.job_run_details"; exit 1; }
live=$(q -c "SELECT version FROM insight.models WHERE model_id = insight.live_model_id('cron_model')")
runs=$(q -c "SELECT count(*) FROM insight.training_runs WHERE name = 'cron_model' AND status = 'succeeded'")
[ "$live" -ge 2 ] && [ "$runs" -ge 2 ] || { echo "new version not live or not recorded (live $live, runs $runs)"; exit 1; }
cron_ok=$(q -c "SELECT count(*) FROM cron.job_run_details WHERE jobid = $job AND status = 'succeeded'")
[ "$cron_ok" -ge 1 ] || { echo "pg_cron recorded no successful run"; exit 1; }

# On stable data the drift job decides not to retrain, and says so in training_runs.
skipped=$(poll 90 1 "SELECT count(*) FROM insight.training_runs WHERE name = 'cron_drift' AND status = 'skipped'")
[ "$skipped" -ge 1 ] || { echo "the drift job recorded no decision"; q -c "SELECT * FROM cron.job_run_details WHERE jobid = $drift_job"; exit 1; }
[ "$(q -c "SELECT max(version) FROM insight.models WHERE name = 'cron_drift'")" = "1" ] || { echo "retrained on stable data"; exit 1; }
message=$(q -c "SELECT message FROM insight.training_runs WHERE name = 'cron_drift' AND status = 'skipped' LIMIT 1")
# (how many of the 2,880 rows are within 24 hours depends on when the job ran: about 1,440)
echo "$message" | grep -Eq "^no drift over 14[0-9][0-9] rows since " || { echo "unexpected decision: $message"; exit 1; }
# The last day recalibrated: the next run retrains, and its run says why.
q -c "UPDATE tele SET x = x + 100 WHERE ts > now() - interval '1 day'" >/dev/null
drifted=$(poll 90 2 "SELECT max(version) FROM insight.models WHERE name = 'cron_drift'")
[ "$drifted" -ge 2 ] || { echo "no retraining after the shift"; q -c "SELECT * FROM cron.job_run_details WHERE jobid = $drift_job"; exit 1; }
message=$(q -c "SELECT message FROM insight.training_runs t JOIN insight.models m USING (model_id) WHERE m.name = 'cron_drift' AND m.version = 2")
echo "$message" | grep -q "^retrained on drift: .*x psi" || { echo "unexpected retraining message: $message"; exit 1; }
[ "$(q -c "SELECT insight.unschedule_retraining('cron_drift')")" = "t" ] || { echo "unschedule failed"; exit 1; }
echo "# \"when\" => 'drift': no retraining on stable data ($skipped skipped runs), version 2 after the shift"

# promote => 'if_better' goes into the job's command.
q -c "CREATE TABLE sales AS SELECT now() - d * interval '1 day' AS sold_at, (100 + d % 7)::float8 AS amount FROM generate_series(1, 60) d" \
  -c "SELECT insight.train_forecaster('cron_sales', 'sales', 'sold_at', 'amount', horizon => 7)" >/dev/null
job2=$(q -c "SELECT insight.schedule_retraining('cron_sales', '0 3 * * *', promote => 'if_better')")
command=$(q -c "SELECT command FROM cron.job WHERE jobid = $job2")
[ "$command" = "SELECT insight.retrain('cron_sales', promote => 'if_better')" ] || { echo "unexpected job command: $command"; exit 1; }
[ "$(q -c "SELECT insight.unschedule_retraining('cron_sales')")" = "t" ] || { echo "unschedule failed"; exit 1; }

[ "$(q -c "SELECT insight.unschedule_retraining('cron_model')")" = "t" ] || { echo "unschedule failed"; exit 1; }
[ "$(q -c "SELECT count(*) FROM cron.job WHERE jobname = 'insight_retrain_cron_model'")" = "0" ] || { echo "job still there"; exit 1; }
[ "$(q -c "SELECT insight.unschedule_retraining('cron_model')")" = "f" ] || { echo "second unschedule should say false"; exit 1; }
echo "# pg_cron ran insight.retrain('cron_model') every minute: version $version live after $(($(date +%s) - t0)) s, $runs runs recorded; unscheduled"
