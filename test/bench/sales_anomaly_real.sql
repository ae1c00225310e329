-- Issue 16, item 4: the daily-sales anomaly check on real history — Online Retail's daily
-- revenue (../shared/data/online_retail/daily_sales_I.csv, 2010-12-01 .. 2011-12-09, 305 trading
-- days), its last 90 calendar days judged by detect_series_anomalies (confidence 0.99) beside
-- the rule a monitoring service typically runs, a rolling z-score (each day against the mean
-- and standard deviation of the 28 calendar days before it, zero-filled like the series, |z|
-- above 2.576, the same 99 %). No labels exist: the output lists what each flags, for a reader
-- to judge. Run: psql -X -v csv=<path to daily_sales_I.csv> -f test/bench/sales_anomaly_real.sql
\set QUIET on
SET client_min_messages = warning;
SET TimeZone = 'UTC';
CREATE TEMP TABLE retail_daily (date date, n_invoices int, n_lines int, units int, revenue numeric);
-- \copy takes no variables: the command is built in one.
\set load '\\copy retail_daily FROM ' :'csv' ' CSV HEADER'
:load
CREATE TEMP TABLE judged AS
SELECT ts::date AS day, value, expected, lower_bound, upper_bound, anomaly_score, is_anomaly
  FROM insight.detect_series_anomalies('retail_daily', 'date', 'revenue', since => '90 days');
CREATE TEMP TABLE zscore AS
WITH grid AS (
  SELECT d::date AS day, coalesce(r.revenue, 0)::float8 AS v
    FROM generate_series((SELECT min(date) FROM retail_daily), (SELECT max(date) FROM retail_daily),
                         interval '1 day') d
    LEFT JOIN retail_daily r ON r.date = d::date),
w AS (
  SELECT day, v, avg(v) OVER p AS m, stddev_samp(v) OVER p AS sd
    FROM grid WINDOW p AS (ORDER BY day ROWS BETWEEN 28 PRECEDING AND 1 PRECEDING))
SELECT day, v, m, sd, (v - m) / nullif(sd, 0) AS z FROM w;
\set QUIET off
SELECT count(*) AS days_judged,
       count(*) FILTER (WHERE j.is_anomaly) AS flagged_by_detect_series_anomalies,
       count(*) FILTER (WHERE abs(z.z) > 2.576) AS flagged_by_rolling_zscore,
       count(*) FILTER (WHERE j.is_anomaly AND abs(z.z) > 2.576) AS flagged_by_both
  FROM judged j JOIN zscore z USING (day);
SELECT j.day, to_char(j.day, 'Dy') AS weekday, round(j.value) AS revenue, round(j.expected) AS expected,
       round(j.lower_bound) AS lower, round(j.upper_bound) AS upper, round(j.anomaly_score::numeric, 2) AS score,
       j.is_anomaly AS detect_flags, round(z.z::numeric, 2) AS z, abs(z.z) > 2.576 AS zscore_flags
  FROM judged j JOIN zscore z USING (day)
 WHERE j.is_anomaly OR abs(z.z) > 2.576
 ORDER BY j.day;
