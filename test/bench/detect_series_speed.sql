-- Issue 16's detection speed goal: detect_series_anomalies over 1,000 daily series, their last
-- 7 days judged, beside the plain scan of the same rows. 1,000 series × 120 days (120,000 rows:
-- a level per series, weekends, a wave and deterministic noise), then in one session:
-- count(*) (the floor), the read alone (the GROUP BY of exact sums the detector runs), and
-- detect_series_anomalies with algorithm 'seasonal_naive', the default ('theta') and 'auto'.
-- Run: psql -X -d <database with pg_insight> -f test/bench/detect_series_speed.sql
\set QUIET on
SET client_min_messages = warning;
SET TimeZone = 'UTC';
DROP TABLE IF EXISTS bench_d1000;
CREATE TABLE bench_d1000 AS
SELECT 's' || s AS series, d::date AS day,
       (100 + s % 50 + 20 * (extract(isodow FROM d) >= 6)::int + 10 * sin(d::date - date '2024-01-01' + s)
        + (hashint4(s * 10000 + (d::date - date '2024-01-01')) % 100) / 10.0)::float8 AS v
  FROM generate_series(1, 1000) s, generate_series(date '2026-08-03', date '2026-11-30', interval '1 day') d;
ANALYZE bench_d1000;
\set tbl bench_d1000
\set tcol day
\set unit day
\ir scan_and_read.psql
SELECT count(*) AS judged, count(*) FILTER (WHERE is_anomaly) AS flagged
  FROM insight.detect_series_anomalies('bench_d1000', 'day', 'v', 'series', since => '7 days',
                                       algorithm => 'seasonal_naive');
SELECT count(*) AS judged, count(*) FILTER (WHERE is_anomaly) AS flagged
  FROM insight.detect_series_anomalies('bench_d1000', 'day', 'v', 'series', since => '7 days');
SELECT count(*) AS judged, count(*) FILTER (WHERE is_anomaly) AS flagged
  FROM insight.detect_series_anomalies('bench_d1000', 'day', 'v', 'series', since => '7 days',
                                       algorithm => 'auto');
\timing off
DROP TABLE bench_d1000;
