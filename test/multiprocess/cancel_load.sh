#!/usr/bin/env bash
# pg_cancel_backend() from another session stops a long insight.load_demo_data() promptly
# with 57014, and nothing is half-written: the previously loaded data is untouched.
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 -c "SELECT insight.load_demo_data(days => 2, seed => 1, end_time => '2026-01-01+00')" >/dev/null
before=$(psql -X -tAc "SELECT md5(string_agg(link_id || ts || throughput_mbps, ',' ORDER BY link_id, ts)) FROM insight.link_metrics")

out=$(mktemp)
trap 'rm -f "$out"' EXIT
psql -X -v VERBOSITY=verbose -c "SELECT set_config('application_name', 'cancel_me', false)" \
  -c "SELECT insight.load_demo_data(days => 365, seed => 2, replace => true)" >"$out" 2>&1 &
client=$!
# Wait until the load is running, then cancel it.
for _ in $(seq 1 100); do
  pid=$(psql -X -tAc "SELECT pid FROM pg_stat_activity WHERE application_name = 'cancel_me' AND query LIKE '%load_demo_data%' AND state = 'active'")
  [ -n "$pid" ] && break
  sleep 0.1
done
[ -n "$pid" ] || { echo "load never started"; cat "$out"; exit 1; }
sleep 1
t0=$(date +%s%N)
psql -X -tAc "SELECT pg_cancel_backend($pid)" >/dev/null
wait "$client" || true
t1=$(date +%s%N)
grep -q "57014" "$out" || { echo "expected SQLSTATE 57014, got:"; cat "$out"; exit 1; }
after=$(psql -X -tAc "SELECT md5(string_agg(link_id || ts || throughput_mbps, ',' ORDER BY link_id, ts)) FROM insight.link_metrics")
[ "$before" = "$after" ] || { echo "link_metrics changed by a cancelled load"; exit 1; }
echo "# cancelled load_demo_data(365 days) returned 57014 after $(((t1 - t0) / 1000000)) ms; data untouched"
