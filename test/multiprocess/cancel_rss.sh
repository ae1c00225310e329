#!/usr/bin/env bash
# 120 trainings stopped by statement_timeout in one backend, 30 of each train_* function in
# turn (anomaly detector, forecaster, recommender, root-cause classifier): every one fails with
# 57014, nothing reaches the catalog, and the backend's resident memory does not grow with
# them (C++ objects of a cancelled training are freed; nothing leaks per cancel). Reports, per
# function, the time from the timeout to the error (not asserted: speed is measured, never
# asserted).
#
# The verdict must not depend on how fast the machine is: each function's timeout is at most a
# quarter of the faster of two uncancelled runs of it, measured first on this machine in this
# backend (and at most 300 ms, to keep the test short), so every cancel arrives while that
# training is running: it would have to run four times faster than its faster run to finish
# first, on a slow machine or a fast one, loaded or idle. The first run warms what a training
# warms (buffers, caches, allocator pools); a cold first run alone can be several times slower
# than the warm ones, which then finish before a quarter of it.
set -euo pipefail
rounds=30
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE TABLE rss_purchases AS
  SELECT 'c' || c AS customer, 'p' || ((c * 7 + k * 13) % 2000) AS item
    FROM generate_series(1, 20000) c, generate_series(1, 10) k;
CREATE TABLE rss_points AS
  SELECT sin(g)::float8 AS x, cos(g * 0.7)::float8 AS y, (g % 101)::float8 AS z FROM generate_series(1, 200000) g;
CREATE TABLE rss_sales AS
  SELECT 'g' || g AS grp, timestamptz '2025-01-01 00:00+00' + d * interval '1 day' AS t,
         (100 + 10 * sin(d) + g % 17 + (d * g) % 5)::float8 AS v
    FROM generate_series(1, 200) g, generate_series(0, 364) d;
SELECT insight.load_demo_data(days => 7, seed => 3);
SQL
kinds=(anomaly forecaster recommender root_cause)
# %s is the model name: rss_<kind> for the cancelled trainings, cal_<kind> for the calibration.
declare -A train=(
  [anomaly]="SELECT insight.train_anomaly_detector('%s', 'rss_points', ARRAY['x', 'y', 'z'], n_trees => 1000, sample_size => 1024);"
  [forecaster]="SELECT insight.train_forecaster('%s', 'rss_sales', 't', 'v', 'grp', algorithm => 'gradient_boosting');"
  [recommender]="SELECT insight.train_recommender('%s', 'rss_purchases', 'customer', 'item', factors => 64, iterations => 60);"
  [root_cause]="SELECT insight.train_root_cause_classifier('%s');"
)
script=$(mktemp)
out=$(mktemp)
trap 'rm -f "$script" "$out"' EXIT
rss_line="SELECT 'VmRSS ' || (regexp_match(pg_read_file('/proc/self/status'), 'VmRSS:\\s+(\\d+)'))[1];"
{
  echo "\\pset tuples_only on"
  echo "\\pset format unaligned"
  # Calibration, also the warm-up: each training twice, uncancelled.
  echo "\\timing on"
  for _ in 1 2; do for k in "${kinds[@]}"; do
    echo "\\echo @@cal $k"
    # shellcheck disable=SC2059
    printf "${train[$k]}\n" "cal_$k"
  done; done
  echo "\\timing off"
} >"$script"
psql -X -v ON_ERROR_STOP=1 -f "$script" >"$out" 2>&1 || { echo "calibration failed"; cat "$out"; exit 1; }
declare -A timeout_ms
while read -r k ms; do timeout_ms[$k]=$ms; done < <(awk '/^@@cal / { k = $2 } /^Time: / && k != "" { if (!(k in m) || $2 < m[k]) m[k] = $2; k = "" }
  END { for (k in m) { t = int(m[k] / 4); if (t > 300) t = 300; if (t < 1) t = 1; print k, t } }' "$out")
for k in "${kinds[@]}"; do
  [ -n "${timeout_ms[$k]:-}" ] || { echo "no calibration time for $k"; cat "$out"; exit 1; }
done

{
  echo "\\pset tuples_only on"
  echo "\\pset format unaligned"
  for _ in 1 2 3; do for k in "${kinds[@]}"; do # warm-up with cancels: allocator pools
    echo "SET statement_timeout = '${timeout_ms[$k]}ms';"
    # shellcheck disable=SC2059
    printf "${train[$k]}\n" "rss_$k"
  done; done
  echo "$rss_line"
  echo "\\timing on"
  for r in $(seq 1 "$rounds"); do
    if [ "$r" -eq $((rounds / 2 + 1)) ]; then
      echo "\\timing off"
      echo "$rss_line"
      echo "\\timing on"
    fi
    for k in "${kinds[@]}"; do
      echo "\\timing off"
      echo "SET statement_timeout = '${timeout_ms[$k]}ms';"
      echo "\\timing on"
      echo "\\echo @@ $k ${timeout_ms[$k]}"
      # shellcheck disable=SC2059
      printf "${train[$k]}\n" "rss_$k"
    done
  done
  echo "\\timing off"
  echo "RESET statement_timeout;"
  echo "$rss_line"
} >"$script"
psql -X -f "$script" >"$out" 2>&1 || true
total=$((${#kinds[@]} * (rounds + 3)))
cancels=$(grep -c "canceling statement due to statement timeout" "$out" || true)
[ "$cancels" -eq "$total" ] || { echo "expected $total cancels, got $cancels"; grep -v "^Time\|^@@\|statement timeout" "$out" | head -20; exit 1; }
mapfile -t rss < <(grep VmRSS "$out" | awk '{print $2}')
[ "${#rss[@]}" -eq 3 ] || { echo "could not read RSS"; cat "$out"; exit 1; }
growth_kb=$((rss[2] - rss[0]))
[ "$growth_kb" -lt 32768 ] || { echo "backend RSS grew by ${growth_kb} kB over $((total - 12)) cancelled trainings"; exit 1; }
left=$(psql -X -tAc "SELECT (SELECT count(*) FROM insight.models WHERE name LIKE 'rss\\_%') + (SELECT count(*) FROM insight.training_runs WHERE name LIKE 'rss\\_%')")
[ "$left" -eq 0 ] || { echo "a cancelled training left $left catalog rows"; exit 1; }
# Per function: each call's time beyond its timeout (the error follows the timeout by this much).
latency=$(awk '/^@@ / { k = $2; t = $3 } /^Time: / && k != "" { d = $2 - t; n[k]++; s[k] += d; if (d > m[k]) m[k] = d; k = "" }
  END { for (k in n) printf "%s %d calls, mean %.0f ms, max %.0f ms; ", k, n[k], s[k] / n[k], m[k] }' "$out")
calls=$(grep -c "^Time: " "$out" || true)
[ "$calls" -eq $((total - 12)) ] || { echo "expected $((total - 12)) timed calls, got $calls"; exit 1; }
timeouts=$(for k in "${kinds[@]}"; do printf '%s %s ms, ' "$k" "${timeout_ms[$k]}"; done)
echo "# $((total - 12)) cancelled trainings (${rounds} of each train_*): 57014 each, nothing written; backend RSS ${rss[0]} -> ${rss[1]} (half-way) -> ${rss[2]} kB (${growth_kb} kB)"
echo "# timeouts (at most a quarter of each training's faster measured run): ${timeouts%, }"
echo "# error after the statement_timeout: ${latency%; }"
