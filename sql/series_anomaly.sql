-- Seasonal anomaly detection (API.md section 6): detect_series_anomalies judges each series'
-- last days against what the days before them predict (a learner, 'theta' unless `algorithm`
-- says otherwise, trained on the days before each block of at most 7 days, its interval at
-- `confidence`), here on daily sums (other frequencies: frequency.sql). Numbers are checked as
-- properties: exact values differ across platforms in the last bits. (detect_sales_anomaly, on
-- the demo's shop, is in detect.sql.)
\set SHOW_CONTEXT never
\i sql/include/expect_errors.psql
SET TimeZone = 'UTC';
-- Stores' daily sales to 2026-05-30: a weekly pattern and noise (±5, from an md5 of store and
-- day: the same on every platform); store A has a spike on 05-27 and a drop on 05-29, store B
-- is ordinary, store C has 10 days only.
CREATE TABLE daily AS
SELECT s.store, d::date AS day,
       round((CASE s.store WHEN 'B' THEN 500 ELSE 100 END + 40 * (extract(isodow FROM d) >= 6)::int
              + 10 * (('x' || substr(md5(s.store || to_char(d, 'YYYYMMDD')), 1, 4))::bit(16)::int / 65535.0 - 0.5)
              + CASE WHEN s.store = 'A' AND d::date = '2026-05-27' THEN 80
                     WHEN s.store = 'A' AND d::date = '2026-05-29' THEN -70 ELSE 0 END)::numeric, 2) AS amount,
       'n/a'::text AS note
  FROM (VALUES ('A', date '2026-01-01'), ('B', date '2026-01-01'), ('C', date '2026-05-21')) s(store, first),
       generate_series(s.first, date '2026-05-30', interval '1 day') d;
CREATE VIEW daily_a AS SELECT * FROM daily WHERE store = 'A';
CREATE VIEW daily_c AS SELECT * FROM daily WHERE store = 'C';
-- Sums beyond what the learners' arithmetic takes (±1e15): refused before any learner runs.
CREATE VIEW daily_huge AS SELECT store, day, amount * 1e300 AS amount FROM daily;
CREATE ROLE sa_analyst NOLOGIN IN ROLE insight_analyst;
CREATE ROLE sa_other NOLOGIN IN ROLE insight_analyst;
GRANT SELECT ON daily, daily_a, daily_c, daily_huge TO sa_analyst;
SET ROLE sa_analyst;

-- Every store's last 7 days, one row a day; store C is too short to be judged (the NOTICE says
-- so). The spike and the drop are flagged, nothing else; the score is above 1 exactly outside
-- the bounds, and the expected value lies between them.
SELECT group_key, ts::date AS day, is_anomaly, (anomaly_score > 1) = is_anomaly AS score_agrees,
       (value < lower_bound OR value > upper_bound) = is_anomaly AS outside_is_anomaly,
       lower_bound <= expected AND expected <= upper_bound AS expected_inside
  FROM insight.detect_series_anomalies('daily', 'day', 'amount', 'store')
 ORDER BY 1, 2;
-- The value is the day's sum as the forecasters read it.
SELECT bool_and(j.value = d.amount::float8) AS values_are_the_daily_sums
  FROM insight.detect_series_anomalies('daily', 'day', 'amount', 'store') j
  JOIN daily d ON d.store = j.group_key AND d.day = j.ts::date;
-- Without a group column: one series, group_key NULL; `since` is rounded up to whole days;
-- frequency 'day' is what 'auto' reads.
SELECT count(*) AS days, count(group_key) AS group_keys, count(*) FILTER (WHERE is_anomaly) AS anomalies,
       min(ts)::date AS first_day
  FROM insight.detect_series_anomalies('daily_a', 'day', 'amount', since => '60 hours', frequency => 'day');
-- The ordinary store over 120 days: few days flagged, as a confidence of 0.99 expects about
-- one ordinary day in a hundred to be.
SELECT count(*) AS days, count(*) FILTER (WHERE is_anomaly) <= 3 AS few_flagged
  FROM insight.detect_series_anomalies('daily', 'day', 'amount', 'store', since => '120 days')
 WHERE group_key = 'B';
-- A window longer than a block is forecast from origins inside it (at most 7 days ahead).
SELECT count(*) AS days, count(*) FILTER (WHERE is_anomaly AND ts::date IN ('2026-05-27', '2026-05-29')) AS found
  FROM insight.detect_series_anomalies('daily_a', 'day', 'amount', since => '30 days');
-- The default is 'theta': the same rows as naming it.
SELECT count(*) AS rows_differing FROM (
  (SELECT * FROM insight.detect_series_anomalies('daily', 'day', 'amount', 'store', since => '30 days')
   EXCEPT SELECT * FROM insight.detect_series_anomalies('daily', 'day', 'amount', 'store', since => '30 days',
                                                        algorithm => 'theta'))
  UNION ALL
  (SELECT * FROM insight.detect_series_anomalies('daily', 'day', 'amount', 'store', since => '30 days',
                                                 algorithm => 'theta')
   EXCEPT SELECT * FROM insight.detect_series_anomalies('daily', 'day', 'amount', 'store', since => '30 days'))) d;
-- algorithm => 'auto': every learner backtested, the best pair judges (what training chooses;
-- many times the default 'theta''s cost); the spike and the drop are still the days flagged,
-- and the ordinary store's 120 days keep at most two flags (about one is what a 0.99 band
-- expects). (Choosing the single lowest backtest MASE among eight candidates flagged three: the
-- winner's errors looked smaller than they were. The best pair hedges against that.)
SELECT group_key, string_agg(ts::date::text, ', ' ORDER BY ts) FILTER (WHERE is_anomaly) AS flagged
  FROM insight.detect_series_anomalies('daily', 'day', 'amount', 'store', algorithm => 'auto')
 GROUP BY 1 ORDER BY 1;
SELECT count(*) AS days, count(*) FILTER (WHERE is_anomaly) <= 2 AS at_most_two_flagged
  FROM insight.detect_series_anomalies('daily', 'day', 'amount', 'store', since => '120 days',
                                       algorithm => 'auto')
 WHERE group_key = 'B';

-- Bad input: 22023 naming the argument, 42703 for a missing column; series too short.
CALL pg_temp.expect_errors(
  $$SELECT count(*) FROM insight.detect_series_anomalies(NULL, 'day', 'amount')$$,
  $$SELECT count(*) FROM insight.detect_series_anomalies('daily', NULL, 'amount')$$,
  $$SELECT count(*) FROM insight.detect_series_anomalies('daily', 'day', 'amount', since => NULL)$$,
  $$SELECT count(*) FROM insight.detect_series_anomalies('daily', 'day', 'amount', since => '0 days')$$,
  $$SELECT count(*) FROM insight.detect_series_anomalies('daily', 'day', 'amount', since => '-1 day')$$,
  $$SELECT count(*) FROM insight.detect_series_anomalies('daily', 'day', 'amount', since => '367 days')$$,
  $$SELECT count(*) FROM insight.detect_series_anomalies('daily', 'day', 'amount', frequency => 'hour')$$,
  $$SELECT count(*) FROM insight.detect_series_anomalies('daily', 'day', 'amount', frequency => 'fortnight')$$,
  $$SELECT count(*) FROM insight.detect_series_anomalies('daily', 'day', 'amount', frequency => NULL)$$,
  $$SELECT count(*) FROM insight.detect_series_anomalies('daily', 'day', 'amount', confidence => 1)$$,
  $$SELECT count(*) FROM insight.detect_series_anomalies('daily', 'day', 'amount', algorithm => 'prophet')$$,
  $$SELECT count(*) FROM insight.detect_series_anomalies('daily', 'day', 'amount', algorithm => NULL)$$,
  $$SELECT count(*) FROM insight.detect_series_anomalies('daily', 'day', 'note')$$,
  $$SELECT count(*) FROM insight.detect_series_anomalies('daily', 'day', 'nope')$$,
  $$SELECT count(*) FROM insight.detect_series_anomalies('daily', 'note', 'amount')$$,
  $$SELECT count(*) FROM insight.detect_series_anomalies('daily', 'day', 'amount', 'nope')$$,
  $$SELECT count(*) FROM insight.detect_series_anomalies('daily_c', 'day', 'amount')$$,
  $$SELECT count(*) FROM insight.detect_series_anomalies('daily', 'day', 'amount', since => '300 days')$$,
  $$SELECT count(*) FROM insight.detect_series_anomalies('daily_huge', 'day', 'amount', 'store')$$);
RESET ROLE;
-- A caller who may not read the source gets 42501 naming the GRANT; nothing is read.
SET ROLE sa_other;
CALL pg_temp.expect_errors(
  $$SELECT count(*) FROM insight.detect_series_anomalies('daily', 'day', 'amount')$$);
RESET ROLE;
DROP TABLE daily CASCADE;
DROP ROLE sa_analyst, sa_other;
