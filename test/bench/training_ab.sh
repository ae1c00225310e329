#!/usr/bin/env bash
# Training time of each train_* with the installed build: three runs in a fresh database "ab",
# each training's training_ms per run, and the md5 of the first versions' payloads. Run it once
# per build (make install between them) to compare builds: docs/benchmarks.md, issue 14.
# Usage: test/bench/training_ab.sh LABEL
set -euo pipefail
# Connection: the usual PG* environment (PGHOST, PGPORT, PGUSER) of a running cluster with the
# build to measure installed; creates and drops nothing but the database "ab".
label=$1
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS ab" -c "CREATE DATABASE ab"
psql -X -q -d ab -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE EXTENSION pg_insight;
CREATE TABLE ab_points AS SELECT sin(g)::float8 AS x, cos(g * 0.7)::float8 AS y, (g % 101)::float8 AS z FROM generate_series(1, 1000000) g;
CREATE TABLE ab_sales AS SELECT 'g' || g AS grp, timestamptz '2025-01-01 00:00+00' + d * interval '1 day' AS t,
         (100 + 10 * sin(d) + g % 17 + (d * g) % 5)::float8 AS v FROM generate_series(1, 200) g, generate_series(0, 364) d;
CREATE TABLE ab_purchases AS SELECT 'c' || c AS customer, 'p' || ((c * 7 + k * 13) % 2000) AS item
    FROM generate_series(1, 40000) c, generate_series(1, 10) k;
SELECT insight.load_demo_data(days => 7, seed => 3);
VACUUM ANALYZE;
SQL
for rep in 1 2 3; do
psql -X -d ab -qtA <<'SQL'
SELECT 'anomaly', (insight.train_anomaly_detector('a', 'ab_points', ARRAY['x','y','z'])).training_ms;
SELECT 'forecaster', (insight.train_forecaster('f', 'ab_sales', 't', 'v', 'grp', algorithm => 'linear')).training_ms;
SELECT 'recommender', (insight.train_recommender('r', 'ab_purchases', 'customer', 'item', factors => 32)).training_ms;
SELECT 'root_cause', (insight.train_root_cause_classifier('rc')).training_ms;
SELECT 'payloads', md5(string_agg(md5(payload), ',' ORDER BY name, version)) FROM insight.models WHERE version = 1;
SQL
done | awk -F'|' -v L="$label" '{ v[$1] = v[$1] " " $2 } END { for (k in v) print L, k, v[k] }' | sort
