-- Issue 16's training speed goal: train_forecaster over 1,000 hourly series × 90 days
-- (2,160,000 rows) within 60 s on a 2-core machine, beside the plain scan of the same rows.
-- Each series: a level, a daily shape, weekends, a slow wiggle and deterministic noise. Then, in
-- one session: count(*) (the floor), the read alone (the GROUP BY of exact sums per series and
-- hour the trainer runs), and train_forecaster(..., 'series', horizon => 24) with the default
-- 'auto' ('hour' inferred; every series backtested with every learner, then its best pair
-- fitted). Called as SELECT ... FROM (a composite call in the select list, (f()).*, would run
-- the training once per column).
-- Run: psql -X -d <database with pg_insight> -f test/bench/hourly_training_speed.sql
\set QUIET on
SET client_min_messages = warning;
SET TimeZone = 'UTC';
DROP TABLE IF EXISTS bench_h1000;
CREATE TABLE bench_h1000 AS
SELECT 's' || s AS series, ts,
       (50 + s % 40 + 20 * sin(2 * pi() * extract(hour FROM ts) / 24 + s % 7)
        - 8 * (extract(isodow FROM ts) >= 6)::int
        + 5 * sin(extract(epoch FROM ts) / 86400 / 9 + s)
        + (hashint4(s * 100000 + (extract(epoch FROM ts) / 3600)::int) % 100) / 25.0)::float8 AS v
  FROM generate_series(1, 1000) s,
       generate_series(timestamptz '2026-08-01', timestamptz '2026-10-29 23:00', interval '1 hour') ts;
ANALYZE bench_h1000;
\set tbl bench_h1000
\set tcol ts
\set unit hour
\ir scan_and_read.psql
SELECT rows_used, round(training_ms) AS training_ms, metrics->>'frequency' AS frequency,
       metrics->'chosen' AS chosen, round((metrics->>'mase')::numeric, 3) AS backtest_mase
  FROM insight.train_forecaster('bench_h1000', 'bench_h1000', 'ts', 'v', 'series', horizon => 24);
\timing off
SELECT insight.drop_model('bench_h1000') IS NOT NULL AS dropped;
DROP TABLE bench_h1000;
