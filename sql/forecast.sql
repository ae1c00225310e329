-- Forecasting: the series builder, train_forecaster with every learner and 'auto', forecast
-- with intervals, evaluate_forecaster, forecast_daily_sales, privileges, cancel, and every bad
-- input of the issue with its SQLSTATE. Numbers are checked as properties: exact forecasts
-- differ across platforms in the last bits.
\set SHOW_CONTEXT never
\i sql/include/expect_errors.psql
SET TimeZone = 'UTC';
-- A shop's daily sales: weekly pattern (weekends +40), slow trend, deterministic wiggle;
-- store C is too short for anything; sales of the 3rd of each month are missing (zero-filled).
CREATE TABLE shop_sales AS
SELECT s.store, d::date AS day, (d + interval '13 hours')::timestamptz AS sold_at,
       round((CASE s.store WHEN 'A' THEN 100 ELSE 500 END
              + 40 * (extract(isodow FROM d) >= 6)::int
              + 0.2 * (d::date - date '2026-01-01')
              + 5 * sin((d::date - date '2026-01-01') * 1.7))::numeric, 2) AS amount,
       'n/a'::text AS note
  FROM (VALUES ('A', date '2026-01-01'), ('B', date '2026-02-01'), ('C', date '2026-05-20')) s(store, first),
       generate_series(s.first, date '2026-05-30', interval '1 day') d
 WHERE extract(day FROM d) <> 3;
INSERT INTO shop_sales VALUES ('A', date '2026-05-10', '2026-05-10 09:00+00', NULL, 'no amount'),
                              ('A', NULL, NULL, 10, 'no date');
CREATE VIEW shop_a AS SELECT * FROM shop_sales WHERE store = 'A';
CREATE VIEW short_a AS SELECT * FROM shop_a WHERE day > date '2026-05-10';  -- 20 days
CREATE VIEW tiny_a AS SELECT * FROM shop_a WHERE day > date '2026-05-25';   -- 5 days
CREATE VIEW empty_a AS SELECT * FROM shop_a WHERE false;
CREATE ROLE fc_admin NOLOGIN IN ROLE insight_admin;
CREATE ROLE fc_analyst NOLOGIN IN ROLE insight_analyst;
GRANT SELECT ON shop_sales, shop_a, short_a, tiny_a, empty_a TO fc_admin, fc_analyst;
SET ROLE fc_admin;

-- 'auto': every learner backtested; the forecast is the best pair (the mean of the two single
-- learners with the lowest backtest MASE); every candidate's metrics recorded.
SELECT name, version, task, algorithm, rows_used, rows_skipped,
       metrics->>'chosen' AS chosen,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(metrics->'candidates') k) AS candidates,
       -- the model's metrics are the pair's backtest, at most the mean of its members' MASE
       -- (the mean of two forecasts errs by at most the mean of their errors)
       (metrics->>'mase')::float8 = (metrics->'candidates'->'best_pair'->>'mase')::float8
         AND (metrics->>'mase')::float8 <= 1e-9 + (SELECT avg(m) FROM (
               SELECT (v->>'mase')::float8 AS m FROM jsonb_each(metrics->'candidates') c(k, v)
                WHERE k NOT IN ('combination', 'best_pair') ORDER BY 1 LIMIT 2) best) AS the_best_two,
       (metrics->>'series')::int AS series, (metrics->>'horizon')::int AS horizon
  FROM insight.train_forecaster('shop', 'shop_a', 'sold_at', 'amount');
SELECT metric_name FROM insight.model_metrics WHERE name = 'shop' AND metric_name IN ('mae', 'rmse', 'smape', 'mase') ORDER BY 1;

-- Forecasts start the day after the data, one row per day, inside their interval.
SELECT count(*) AS days, min(forecast_time) AS first_day, max(forecast_time) AS last_day,
       bool_and(group_key IS NULL) AS no_group,
       bool_and(lower_bound <= forecast_value AND forecast_value <= upper_bound) AS inside,
       bool_and(forecast_value BETWEEN 100 AND 250) AS plausible
  FROM insight.forecast('shop', 14);
-- Weekends stay above weekdays (the +40 pattern is learnt).
SELECT avg(forecast_value) FILTER (WHERE extract(isodow FROM forecast_time) >= 6)
     > avg(forecast_value) FILTER (WHERE extract(isodow FROM forecast_time) < 6) + 20 AS weekly_pattern
  FROM insight.forecast('shop', 14);
-- Intervals widen with the step and with the confidence; beyond the trained horizon too.
WITH f AS (SELECT forecast_time, upper_bound - lower_bound AS width,
                  lag(upper_bound - lower_bound) OVER (ORDER BY forecast_time) AS prev
             FROM insight.forecast('shop', 30, confidence => 0.8))
SELECT count(*) AS days, bool_and(prev IS NULL OR width >= prev - 1e-9) AS widening FROM f;
SELECT bool_and(w95.upper_bound - w95.lower_bound >= w50.upper_bound - w50.lower_bound) AS wider
  FROM insight.forecast('shop', 14, confidence => 0.95) w95
  JOIN insight.forecast('shop', 14, confidence => 0.5) w50 USING (forecast_time);
-- Training is deterministic: the same data gives the same payload, byte for byte.
SELECT (insight.train_forecaster('shop', 'shop_a', 'sold_at', 'amount', deploy => false)).version;
SELECT count(DISTINCT payload) AS distinct_payloads FROM insight.models WHERE name = 'shop';

-- Each learner by name, on a date time column this time.
SELECT a AS asked, r.algorithm, r.rows_used
  FROM unnest(ARRAY['seasonal_naive', 'holt_winters', 'linear', 'random_forest', 'gradient_boosting', 'combination']) a,
       LATERAL insight.train_forecaster('shop_' || a, 'shop_a', 'day', 'amount', algorithm => a) r;
-- (a new statement: forecast, a STABLE function, sees the models of its statement's snapshot)
SELECT a AS learner, count(*) AS days,
       bool_and(lower_bound <= forecast_value AND forecast_value <= upper_bound) AS inside
  FROM unnest(ARRAY['seasonal_naive', 'holt_winters', 'linear', 'random_forest', 'gradient_boosting', 'combination']) a,
       LATERAL insight.forecast('shop_' || a, 7) f
 GROUP BY a ORDER BY a;
-- Missing days count as zero: seasonal naive repeats last week, and the 3rd was a zero.
SELECT forecast_value FROM insight.forecast('shop_seasonal_naive', 7)
 WHERE forecast_time = '2026-06-03';

-- Grouped: one series per store in one model; too-short store C is skipped with a NOTICE.
SELECT name, algorithm, rows_used, (metrics->>'series')::int AS series,
       (metrics->>'skipped_series')::int AS skipped,
       (SELECT sum(v::int) FROM jsonb_each_text(metrics->'chosen') c(k, v)) AS chosen_total
  FROM insight.train_forecaster('shop_by_store', 'shop_sales', 'sold_at', 'amount',
                                group_column => 'store', horizon => 7);
SELECT group_key, count(*), min(forecast_time), bool_and(forecast_value > 0) AS positive
  FROM insight.forecast('shop_by_store', 5) GROUP BY 1 ORDER BY 1;
-- (sales of every 3rd were 0 in the data, so the forecast for June 3 may be low: left out)
SELECT count(*), bool_and(forecast_value > 400) FILTER (WHERE forecast_time <> '2026-06-03') AS store_b_level
  FROM insight.forecast('shop_by_store', 5, 'B');

-- evaluate_forecaster: 'auto' scored out of sample beside every candidate, same folds.
SELECT algorithm, array_agg(metric ORDER BY metric) AS metrics,
       bool_and(value >= 0) AS non_negative
  FROM insight.evaluate_forecaster('shop_a', 'day', 'amount', horizon => 7, folds => 2)
 GROUP BY 1 ORDER BY 1;
SELECT bool_and(value BETWEEN 0 AND 1) AS coverage_is_a_share
  FROM insight.evaluate_forecaster('shop_a', 'day', 'amount', horizon => 7, folds => 2)
 WHERE metric = 'coverage';
-- A learner evaluated alone gets the same figures as beside 'auto'.
SELECT abs(a.value - b.value) < 1e-9 AS same
  FROM insight.evaluate_forecaster('shop_a', 'day', 'amount', horizon => 7, folds => 2) a
  JOIN insight.evaluate_forecaster('shop_a', 'day', 'amount', algorithm => 'holt_winters',
                                   horizon => 7, folds => 2) b USING (algorithm, metric)
 WHERE metric = 'mase';
SELECT metric, value FROM insight.evaluate_forecaster('shop_sales', 'day', 'amount', 'store',
                                                     'seasonal_naive', 7, 2)
 WHERE metric = 'series';

-- Bad input, each with its SQLSTATE.
CALL pg_temp.expect_errors(
  $$SELECT insight.train_forecaster('bad', 'shop_a', 'no_such_column', 'amount')$$,
  $$SELECT insight.train_forecaster('bad', 'shop_a', 'note', 'amount')$$,
  $$SELECT insight.train_forecaster('bad', 'shop_a', 'day', 'note')$$,
  $$SELECT insight.train_forecaster('bad', 'shop_a', 'day', 'amount', group_column => 'nope')$$,
  $$SELECT insight.train_forecaster('bad', 'shop_a', 'day', 'amount', horizon => 0)$$,
  $$SELECT insight.train_forecaster('bad', 'shop_a', 'day', 'amount', horizon => 367)$$,
  $$SELECT insight.train_forecaster('bad', 'shop_a', 'day', 'amount', algorithm => 'prophet')$$,
  -- Too short for the learner asked for: the length needed is in the DETAIL.
  $$SELECT insight.train_forecaster('bad', 'shop_sales', 'day', 'amount', 'store', 'linear')$$);
-- ... while 'auto' falls back to seasonal naive for a series too short to backtest (20 days),
-- and refuses one shorter than 14 days.
SELECT algorithm, metrics->>'chosen' AS chosen, (metrics->>'fallback_series')::int AS fallback
  FROM insight.train_forecaster('shop_short', 'short_a', 'day', 'amount');
CALL pg_temp.expect_errors(
  $$SELECT insight.train_forecaster('bad', 'tiny_a', 'day', 'amount')$$,
  $$SELECT insight.train_forecaster('bad', 'empty_a', 'day', 'amount')$$,
  $$SELECT count(*) FROM insight.forecast('no_such_model')$$,
  $$SELECT count(*) FROM insight.forecast('shop', 0)$$,
  $$SELECT count(*) FROM insight.forecast('shop', 367)$$,
  $$SELECT count(*) FROM insight.forecast('shop', 7, confidence => 0)$$,
  $$SELECT count(*) FROM insight.forecast('shop', 7, confidence => 1)$$,
  $$SELECT count(*) FROM insight.forecast('shop', 7, confidence => 'NaN')$$,
  $$SELECT count(*) FROM insight.forecast('shop_by_store', 7, 'Z')$$,
  $$SELECT count(*) FROM insight.forecast('shop', 7, 'A')$$,
  $$SELECT count(*) FROM insight.evaluate_forecaster('shop_a', 'day', 'amount', folds => 0)$$,
  $$SELECT count(*) FROM insight.evaluate_forecaster('tiny_a', 'day', 'amount')$$);
-- Daily sums beyond ±1e15 would overflow the learners: refused, by training and evaluation.
CREATE TEMP VIEW huge_a AS SELECT day, CASE WHEN day = (SELECT max(day) FROM shop_a) THEN 1e300 ELSE amount END AS amount FROM shop_a;
CALL pg_temp.expect_errors(
  $$SELECT insight.train_forecaster('huge', 'huge_a', 'day', 'amount')$$,
  $$SELECT count(*) FROM insight.evaluate_forecaster('huge_a', 'day', 'amount', horizon => 7, folds => 2)$$);
-- An anomaly model is not a forecaster.
SELECT (insight.train_anomaly_detector('not_a_forecaster', 'shop_a', ARRAY['amount'])).task;
CALL pg_temp.expect_errors(
  $$SELECT count(*) FROM insight.forecast('not_a_forecaster')$$);
RESET ROLE;

-- Privileges: analysts forecast and evaluate, but cannot train; nobody reads what they may not.
SET ROLE fc_analyst;
SELECT count(*) FROM insight.forecast('shop', 3);
CALL pg_temp.expect_errors(
  $$SELECT insight.train_forecaster('nope', 'shop_a', 'day', 'amount')$$);
RESET ROLE;
CREATE TABLE secret_sales AS SELECT * FROM shop_a;
SET ROLE fc_admin;
CALL pg_temp.expect_errors(
  $$SELECT insight.train_forecaster('nope', 'secret_sales', 'day', 'amount')$$,
  $$SELECT count(*) FROM insight.evaluate_forecaster('secret_sales', 'day', 'amount')$$);
RESET ROLE;

-- A cancel (here statement_timeout) stops a long grouped training and writes nothing.
CREATE TABLE many_series AS
SELECT 'p' || p AS product, d::date AS day, (p % 7) + 10 * sin(d::date - date '2025-01-01' + p) AS units
  FROM generate_series(1, 60) p, generate_series(date '2025-01-01', date '2026-01-31', interval '1 day') d;
GRANT SELECT ON many_series TO fc_admin;
SET ROLE fc_admin;
\set calibration 'SELECT (insight.train_forecaster(''calibration'', ''many_series'', ''day'', ''units'', ''product'')).version IS NOT NULL AS calibrated'
\set training 'SELECT insight.train_forecaster(''too_slow'', ''many_series'', ''day'', ''units'', ''product'')'
\set name too_slow
\i sql/include/cancelled_training.psql
RESET ROLE;

-- forecast_daily_sales over insight.transactions (revenue = total_amount).
SET ROLE fc_admin;
\i sql/include/demo_shop.psql
SELECT name, algorithm, rows_used > 0 AS trained
  FROM insight.train_forecaster('daily_sales', 'insight.transactions', 'ts', 'total_amount');
SELECT name, algorithm, (metrics->>'series')::int > 100 AS most_products
  FROM insight.train_forecaster('daily_sales_by_product', 'insight.transactions', 'ts',
                                'total_amount', group_column => 'product_id');
SELECT count(*) AS days, min(day) AS first_day, bool_and(lower_bound <= forecast_value
       AND forecast_value <= upper_bound AND lower_bound >= 0) AS inside
  FROM insight.forecast_daily_sales(14);
SELECT count(*) AS days FROM insight.forecast_daily_sales(7, (SELECT product_id FROM insight.transactions
                                                             GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1));
CALL pg_temp.expect_errors(
  $$SELECT count(*) FROM insight.forecast_daily_sales(7, 'no-such-product')$$,
  $$SELECT count(*) FROM insight.forecast_daily_sales(0)$$);
RESET ROLE;

-- Only complete days: rows of today (the day has not ended) are left out of training and
-- evaluation, and counted in metrics; the forecasts start today. A model trained with today's
-- partial rows gives the same forecasts as one trained without them.
CREATE TABLE live_sales AS
SELECT d::timestamptz + interval '12 hours' AS t, 100 + 30 * (extract(isodow FROM d) >= 6)::int AS v
  FROM generate_series(current_date - 60, current_date - 1, interval '1 day') d
UNION ALL
SELECT current_date::timestamptz + k * interval '1 minute', 1 FROM generate_series(0, 4) k;
CREATE VIEW live_sales_complete AS SELECT * FROM live_sales WHERE t < current_date::timestamptz;
CREATE TABLE live_today AS SELECT * FROM live_sales WHERE t >= current_date::timestamptz;
SELECT rows_used, (metrics->>'incomplete_rows')::int AS incomplete_rows
  FROM insight.train_forecaster('live', 'live_sales', 't', 'v', algorithm => 'holt_winters', horizon => 7);
SELECT rows_used, (metrics->>'incomplete_rows')::int AS incomplete_rows
  FROM insight.train_forecaster('live_complete', 'live_sales_complete', 't', 'v', algorithm => 'holt_winters', horizon => 7);
SELECT min(a.forecast_time) = current_date::timestamptz AS starts_today,
       bool_and(a.forecast_value = b.forecast_value AND a.lower_bound = b.lower_bound) AS same_forecasts
  FROM insight.forecast('live', 7) a JOIN insight.forecast('live_complete', 7) b USING (forecast_time);
SELECT bool_and(a.value = b.value) AS same_evaluation, count(*) > 0 AS evaluated
  FROM insight.evaluate_forecaster('live_sales', 't', 'v', algorithm => 'holt_winters', horizon => 7, folds => 2) a
  JOIN insight.evaluate_forecaster('live_sales_complete', 't', 'v', algorithm => 'holt_winters', horizon => 7, folds => 2) b
 USING (algorithm, metric);
CALL pg_temp.expect_errors(
  $$SELECT insight.train_forecaster('live_today', 'live_today', 't', 'v')$$);
SELECT insight.drop_model('live') + insight.drop_model('live_complete') AS dropped;
DROP TABLE live_sales, live_today CASCADE;

SELECT insight.drop_model(name) FROM insight.model_names
 WHERE name IN ('shop', 'shop_seasonal_naive', 'shop_holt_winters', 'shop_linear', 'shop_random_forest',
                'shop_gradient_boosting', 'shop_combination', 'shop_by_store', 'shop_short', 'not_a_forecaster',
                'daily_sales', 'daily_sales_by_product')
 ORDER BY name;
-- Without its model, forecast_daily_sales says how to train it.
CALL pg_temp.expect_errors(
  $$SELECT count(*) FROM insight.forecast_daily_sales(7)$$);
DROP TABLE shop_sales, secret_sales, many_series CASCADE;
DROP ROLE fc_admin, fc_analyst;
