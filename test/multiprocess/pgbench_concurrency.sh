#!/usr/bin/env bash
# 16 pgbench clients score one anomaly model by name while another session retrains, deploys
# and rolls back that same model in 20 rounds, one every ~2 s: no client gets an error, and
# every score comes from a complete model version — the one the statement resolved as live.
# pgbench runs in 5-second pieces until the writer's last round is done, so every round
# overlaps the scoring however long a round takes on this machine.
#
# How a score is checked: versions 1..K are trained with seeds 1..K (different trees), so a
# fixed probe row scores differently under each; pb_expected holds those K scores. A retrain
# repeats the live version's training (same source, same seed) and so must reproduce its
# score exactly. Each pgbench statement scores the probe through the array and the row form
# together with insight.live_model_id('pb') and passes all three to pb_check(), which raises
# (an error, counted by pgbench) unless both scores equal the known score of that model's seed.
set -euo pipefail
K=4
clients=16
rounds_wanted=${PGBENCH_ROUNDS:-20}

psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE TABLE pb_points AS
  SELECT g AS id, (g % 37)::float8 AS x, ((g * 7) % 23)::float8 AS y, sin(g)::float8 AS z
    FROM generate_series(1, 4000) g;
CREATE TABLE pb_probe AS SELECT 0.5::float8 AS z, 30::float8 AS x, 2::float8 AS y;
SELECT insight.train_anomaly_detector('pb', 'pb_points', ARRAY['x', 'y', 'z'], n_trees => 150, seed => s)
  FROM generate_series(1, $K) s ORDER BY s;
CREATE TABLE pb_expected AS
  SELECT (params->>'seed')::int AS seed, insight.anomaly_score(payload, ARRAY[30, 2, 0.5]::float8[]) AS score
    FROM insight.models WHERE name = 'pb';
SELECT format('CREATE SEQUENCE pb_seen_%s', s) FROM generate_series(1, $K) s \\gexec
-- Volatile only to count, per seed, the scores it saw (sequences: no row writes).
CREATE FUNCTION pb_check(live bigint, by_array float8, by_row float8) RETURNS int
LANGUAGE plpgsql VOLATILE AS \$\$
DECLARE
  v int;
  s int;
  want float8;
BEGIN
  SELECT m.version, (m.params->>'seed')::int INTO v, s FROM insight.models m WHERE m.model_id = live;
  SELECT e.score INTO want FROM pb_expected e WHERE e.seed = s;
  IF want IS NULL OR by_array IS DISTINCT FROM want OR by_row IS DISTINCT FROM want THEN
    RAISE EXCEPTION 'score mismatch: live model_id % (version %, seed %) should score %, got % (array form) and % (row form); known scores: %',
      live, v, s, want, by_array, by_row, (SELECT string_agg(seed || '=' || score, ', ' ORDER BY seed) FROM pb_expected);
  END IF;
  PERFORM nextval(format('pb_seen_%s', s));
  RETURN v;
END
\$\$;
SQL

distinct=$(psql -X -tAc "SELECT count(DISTINCT score) FROM pb_expected WHERE score IS NOT NULL")
[ "$distinct" -eq "$K" ] || { echo "the $K seeds give only $distinct distinct probe scores: the check could not tell versions apart"; exit 1; }
live=$(psql -X -tAc "SELECT pb_check(insight.live_model_id('pb'), insight.anomaly_score('pb', ARRAY[30, 2, 0.5]::float8[]), insight.anomaly_score('pb', p)) FROM pb_probe p")
[ "$live" = "$K" ] || { echo "before the run: live version $live, expected $K"; exit 1; }
before_deploys=$(psql -X -tAc "SELECT count(*) FROM insight.deployments WHERE name = 'pb'")
before_versions=$(psql -X -tAc "SELECT max(version) FROM insight.models WHERE name = 'pb'")

work=$(mktemp -d)
chmod 0755 "$work"
loop_pid=
cleanup() {
  [ -n "$loop_pid" ] && kill "$loop_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cat >"$work/score.sql" <<'SQL'
SELECT pb_check(insight.live_model_id('pb'), insight.anomaly_score('pb', ARRAY[30, 2, 0.5]::float8[]), insight.anomaly_score('pb', p)) FROM pb_probe p;
SELECT insight.is_anomaly('pb', ARRAY[30, 2, 0.5]::float8[]) IS NOT NULL AS ok;
SQL

# The writer: every ~2 s deploy a known version, retrain it (a new version with the same
# seed), and every third round roll back one step. Each call is its own transaction. The stop
# file ends the scoring, also when a round fails.
(
  set -uo pipefail
  trap 'touch "$work/stop"' EXIT
  for ((i = 0; i < rounds_wanted; i++)); do
    v=$((1 + i % K))
    calls=(-c "SELECT insight.deploy('pb', $v)" -c "SELECT version FROM insight.retrain('pb')")
    [ $((i % 3)) -eq 2 ] && calls+=(-c "SELECT insight.rollback('pb')")
    psql -X -q -tA -v ON_ERROR_STOP=1 "${calls[@]}" >>"$work/writer.out" 2>&1 ||
      { echo "writer round $i failed" >>"$work/writer.out"; exit 1; }
    echo "$((i + 1))" >"$work/rounds"
    sleep 2
  done
) &
loop_pid=$!

bench_rc=0
pieces=0
t_start=$(date +%s%N)
while [ ! -e "$work/stop" ]; do
  pieces=$((pieces + 1))
  pgbench -n -c "$clients" -j 2 -T 5 -f "$work/score.sql" >"$work/pgbench.$pieces.out" 2>&1 || { bench_rc=$?; break; }
done
seconds=$((($(date +%s%N) - t_start) / 1000000000))
touch "$work/stop"
cat "$work"/pgbench.*.out >"$work/pgbench.out"
loop_rc=0
wait "$loop_pid" || loop_rc=$?
loop_pid=

[ "$bench_rc" -eq 0 ] || { echo "pgbench exited with $bench_rc:"; grep -v '^pgbench (' "$work/pgbench.out" | head -8; exit 1; }
[ "$loop_rc" -eq 0 ] || { echo "the retrain/deploy session failed:"; tail -20 "$work/writer.out"; exit 1; }
if grep -Eiq "error|aborted" "$work/pgbench.out"; then
  echo "pgbench reported errors:"; grep -Ei "error|aborted" "$work/pgbench.out" | head -20; exit 1
fi
# Totals over the pieces: transactions and failures add up, latency is their weighted mean.
sum_field() { sed -n "s/^$1[ =:]*\([0-9.]*\).*/\1/p" "$work/pgbench.out" | awk '{ s += $1 } END { print s + 0 }'; }
txns=$(sum_field "number of transactions actually processed")
failed=$(sum_field "number of failed transactions")
reports=$(grep -c "^latency average" "$work/pgbench.out" || true)
[ "$reports" -eq "$pieces" ] || { echo "could not parse the pgbench output ($reports reports for $pieces runs):"; cat "$work/pgbench.out"; exit 1; }
latency=$(paste <(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/pgbench.out") \
                <(sed -n 's/^latency average = \([0-9.]*\).*/\1/p' "$work/pgbench.out") |
  awk '{ n += $1; s += $1 * $2 } END { if (n > 0) printf "%.3f", s / n }')
tps=$(awk -v n="$txns" -v s="$seconds" 'BEGIN { if (s > 0) printf "%.0f", n / s }')
[ "$failed" -eq 0 ] || { echo "$failed failed transactions"; cat "$work/pgbench.out"; exit 1; }
[ "$txns" -gt 0 ] || { echo "no transactions were processed"; cat "$work/pgbench.out"; exit 1; }

rounds=$(cat "$work/rounds" 2>/dev/null || echo 0)
deploys=$(($(psql -X -tAc "SELECT count(*) FROM insight.deployments WHERE name = 'pb'") - before_deploys))
retrains=$(($(psql -X -tAc "SELECT max(version) FROM insight.models WHERE name = 'pb'") - before_versions))
[ "$rounds" -eq "$rounds_wanted" ] && [ "$retrains" -eq "$rounds" ] ||
  { echo "expected $rounds_wanted writer rounds each making one version: $rounds rounds, $retrains new versions"; exit 1; }
want_deploys=$((2 * rounds + rounds / 3))
[ "$deploys" -ge "$want_deploys" ] ||
  { echo "expected at least $want_deploys new deployments over $rounds rounds, found $deploys"; exit 1; }

# After the run: every version written (the retrained ones included) scores as its seed says,
# every deployment points at an existing version, and the live model still scores.
bad=$(psql -X -tAc "SELECT count(*) FROM insight.models m LEFT JOIN pb_expected e ON e.seed = (m.params->>'seed')::int
                     WHERE m.name = 'pb' AND insight.anomaly_score(m.payload, ARRAY[30, 2, 0.5]::float8[]) IS DISTINCT FROM e.score")
[ "$bad" -eq 0 ] || { echo "$bad retrained versions do not reproduce their seed's score"; exit 1; }
dangling=$(psql -X -tAc "SELECT count(*) FROM insight.deployments d LEFT JOIN insight.models m USING (model_id)
                          WHERE d.name = 'pb' AND (m.model_id IS NULL OR m.version <> d.version)")
[ "$dangling" -eq 0 ] || { echo "$dangling deployments point at no model or the wrong version"; exit 1; }
final=$(psql -X -tAc "SELECT pb_check(insight.live_model_id('pb'), insight.anomaly_score('pb', ARRAY[30, 2, 0.5]::float8[]), insight.anomaly_score('pb', p)) FROM pb_probe p")
[ -n "$final" ] || { echo "the live model does not score after the run"; exit 1; }

# Every known version served scores during the run, and each transaction's score was checked.
seen=$(psql -X -tAc "SELECT string_agg(s || '=' || coalesce(pg_sequence_last_value(format('pb_seen_%s', s)::regclass), 0), ' ' ORDER BY s) FROM generate_series(1, $K) s")
checked=0
for kv in $seen; do
  n=${kv#*=}
  [ -n "$n" ] && [ "$n" -gt 0 ] || { echo "no score came from seed ${kv%=*}'s versions ($seen)"; exit 1; }
  checked=$((checked + n))
done
[ "$checked" -ge "$txns" ] || { echo "$checked scores checked for $txns transactions"; exit 1; }

echo "# pgbench $clients clients × ${seconds} s ($pieces runs of 5 s) scoring 'pb' by name: $txns transactions, tps $tps, latency average $latency ms, $failed failed, 0 errors"
echo "# writer: $rounds rounds every ~2 s: $retrains retrained versions, $deploys deployments (deploy, retrain, rollback); every score matched the live version's known score; scores per seed: $seen"
