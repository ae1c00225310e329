-- Regressors and holidays (issue 16, item 2; API.md section 6): effects estimated per regressor
-- and per holiday name, future regressor values from regressors_source, explanations with a
-- component each, retrain with the same calendar, evaluation with and without; reconciled
-- group forecasts (item 5); bad input with its SQLSTATE and nothing written.
\set SHOW_CONTEXT never
\i sql/include/expect_errors.psql
SET TimeZone = 'UTC';
-- Two shops' daily sales over 400 days from 2025-06-01: a weekly shape, +40 on promotion days
-- (two days in ten, a boolean), a price that moves now and then, shop closings (−90) every 30
-- days, and a deterministic wiggle. Shop B sells at twice A's level.
CREATE TABLE shop_sales AS
SELECT s.shop, date '2025-06-01' + i AS day,
       round((s.scale * (200 + 30 * (extract(isodow FROM date '2025-06-01' + i) >= 6)::int
              + 40 * (i % 10 IN (3, 4))::int - 90 * (i % 30 = 17)::int
              - 2 * ((i / 50) % 3) + 3 * sin(i * 1.3)))::numeric, 2) AS amount,
       i % 10 IN (3, 4) AS promo,
       (10 + (i / 50) % 3)::numeric AS price
  FROM (VALUES ('A', 1), ('B', 2)) s(shop, scale), generate_series(0, 399) i;
-- The calendar lives in a schema of its own: retrain must find it without the search_path.
CREATE SCHEMA cal;
CREATE TABLE cal.closings AS
SELECT date '2025-06-01' + i AS day, 'Closing'::text AS name
  FROM generate_series(0, 460) i WHERE i % 30 = 17
UNION ALL SELECT date '2027-01-01', 'New Year';  -- a name never seen in the history
-- The future: promotions and prices of the 30 days after the history, for both shops.
CREATE TABLE shop_plan AS
SELECT s.shop, date '2025-06-01' + i AS day, i % 10 IN (3, 4) AS promo, 10::numeric AS price
  FROM (VALUES ('A'), ('B')) s(shop), generate_series(400, 429) i;

SET search_path = public, cal;
-- The effects in metrics are the means over the shops: promo +40 and +80, closing −90 and −180;
-- "New Year", never seen, gets what holidays share.
SELECT name, rows_used, round((metrics->'regressor_effects'->>'promo')::numeric, -1) AS promo,
       round((metrics->'holiday_effects'->>'Closing')::numeric, -1) AS closing,
       round((metrics->'holiday_effects'->>'New Year')::numeric, -1) AS never_seen,
       (metrics->>'holiday_days')::int AS holiday_days
  FROM insight.train_forecaster('shop_sales_plan', 'shop_sales', 'day', 'amount', 'shop', horizon => 14,
                                regressors => ARRAY['promo', 'price'], holidays => 'closings');
SELECT params->>'holidays' AS holidays_pinned, params->'regressors' AS regressors
  FROM insight.models WHERE name = 'shop_sales_plan';
RESET search_path;
-- Day 403 (2026-07-09) is a promotion day, day 407 (2026-07-13) a closing; 2026-07-08 is an
-- ordinary weekday before both.
SELECT group_key, count(*) AS days,
       (max(forecast_value) FILTER (WHERE forecast_time = '2026-07-09')
          - max(forecast_value) FILTER (WHERE forecast_time = '2026-07-08'))
         / CASE group_key WHEN 'A' THEN 1 ELSE 2 END BETWEEN 30 AND 50 AS promotion_lifts,
       (max(forecast_value) FILTER (WHERE forecast_time = '2026-07-08')
          - max(forecast_value) FILTER (WHERE forecast_time = '2026-07-13'))
         / CASE group_key WHEN 'A' THEN 1 ELSE 2 END BETWEEN 70 AND 110 AS closing_drops,
       bool_and(lower_bound <= forecast_value AND forecast_value <= upper_bound) AS inside
  FROM insight.forecast('shop_sales_plan', 20, regressors_source => 'shop_plan')
 GROUP BY 1 ORDER BY 1;
-- The explanation: a component per regressor and one for the holidays, summing to the forecast.
SELECT e.forecast_time::date AS day,
       string_agg(e.component, ', ' ORDER BY e.component) AS components,
       abs(sum(e.value) - f.forecast_value) < 1e-6 * greatest(1, abs(f.forecast_value)) AS sums,
       round(max(e.value) FILTER (WHERE e.component = 'promo')::numeric) AS promo,
       round(max(e.value) FILTER (WHERE e.component = 'holiday')::numeric, -1) AS holiday
  FROM insight.explain_forecast('shop_sales_plan', 20, 'A', regressors_source => 'shop_plan') e
  JOIN insight.forecast('shop_sales_plan', 20, 'A', regressors_source => 'shop_plan') f USING (group_key, forecast_time)
 WHERE e.forecast_time::date IN ('2026-07-08', '2026-07-09', '2026-07-13')
 GROUP BY 1, f.forecast_value ORDER BY 1;
-- Retrain replays the regressors and the pinned calendar, whatever the search_path.
SELECT version, round((metrics->'holiday_effects'->>'Closing')::numeric, -1) AS closing
  FROM insight.retrain('shop_sales_plan');
-- Holidays alone need no regressors_source; the model knows the calendar ahead.
SELECT metrics ? 'regressor_effects' AS has_regressors, metrics->'holiday_effects' ? 'Closing' AS knows_closing
  FROM insight.train_forecaster('shop_sales_holidays', 'shop_sales', 'day', 'amount', 'shop',
                                holidays => 'cal.closings');
SELECT count(*) AS days FROM insight.forecast('shop_sales_holidays', 20, 'A');
-- Evaluation with the covariates and without, on the same folds: knowing the promotions and
-- closings ahead is worth it for every learner.
WITH w AS (SELECT algorithm, value FROM insight.evaluate_forecaster('shop_sales', 'day', 'amount', 'shop',
             horizon => 14, regressors => ARRAY['promo', 'price'], holidays => 'cal.closings') WHERE metric = 'mase'),
     wo AS (SELECT algorithm, value FROM insight.evaluate_forecaster('shop_sales', 'day', 'amount', 'shop',
             horizon => 14) WHERE metric = 'mase')
SELECT w.algorithm, w.value < 0.5 * wo.value AS halves_mase FROM w JOIN wo USING (algorithm) ORDER BY 1;

-- Reconciliation (item 5): the grouped model also fitted the total of its shops; with
-- reconcile => true the shops' forecasts add up to a total between their own sum and the
-- total's forecast (WLS) or to their own sum (bottom-up), as measured at training. The total's
-- forecast is, to 0.1 %, what an ungrouped model of the same sums (promotion: the shops' mean)
-- forecasts: the model adds the shops' float8 sums, the view sums numerics, and the trees'
-- splits see the difference.
CREATE VIEW shop_total AS
SELECT day, sum(amount) AS amount, avg(promo::int) AS promo, avg(price) AS price
  FROM shop_sales GROUP BY day;
CREATE VIEW shop_total_plan AS
SELECT day, avg(promo::int) AS promo, avg(price) AS price FROM shop_plan GROUP BY day;
SELECT metrics->'reconciliation'->>'method' IN ('wls', 'bottom_up') AS method_known,
       (metrics->'reconciliation'->>'measured')::bool AS measured,
       metrics->'reconciliation' ? 'wls' AND metrics->'reconciliation' ? 'bottom_up' AS both_scored
  FROM insight.models WHERE name = 'shop_sales_plan' AND version = 2;
SELECT count(*) AS versions FROM insight.train_forecaster('shop_total_plan', 'shop_total', 'day', 'amount',
    horizon => 14, regressors => ARRAY['promo', 'price'], holidays => 'cal.closings');
WITH base AS (SELECT forecast_time, sum(forecast_value) AS v
                FROM insight.forecast('shop_sales_plan', 20, regressors_source => 'shop_plan') GROUP BY 1),
     rec AS (SELECT forecast_time, sum(forecast_value) AS v, count(*) AS shops,
                    bool_and(lower_bound <= forecast_value AND forecast_value <= upper_bound) AS inside
               FROM insight.forecast('shop_sales_plan', 20, regressors_source => 'shop_plan', reconcile => true) GROUP BY 1),
     total AS (SELECT forecast_time, forecast_value AS v
                 FROM insight.forecast('shop_total_plan', 20, regressors_source => 'shop_total_plan'))
SELECT count(*) AS days, min(rec.shops) AS shops, bool_and(rec.inside) AS inside,
       bool_and(rec.v BETWEEN least(base.v, total.v) * 0.999 AND greatest(base.v, total.v) * 1.001) AS between_sum_and_total,
       bool_and(CASE (SELECT metrics->'reconciliation'->>'method' FROM insight.models
                       WHERE name = 'shop_sales_plan' AND version = 2)
                  WHEN 'bottom_up' THEN abs(rec.v - base.v) < 1e-6
                  ELSE abs(rec.v - base.v) > 1e-9 OR abs(base.v - total.v) < 1e-6 END) AS as_chosen
  FROM rec JOIN base USING (forecast_time) JOIN total USING (forecast_time);
-- One group's reconciled forecast is its row of the whole reconciliation.
SELECT bool_and(a.forecast_value = b.forecast_value) AS same_rows, count(*) AS days
  FROM insight.forecast('shop_sales_plan', 20, 'B', regressors_source => 'shop_plan', reconcile => true) a
  JOIN insight.forecast('shop_sales_plan', 20, regressors_source => 'shop_plan', reconcile => true) b
 USING (group_key, forecast_time);

-- Bad input: the SQLSTATE and the argument named; nothing written.
CREATE TABLE bad_holidays (day text, name text);
INSERT INTO bad_holidays VALUES ('2025-06-18', 'Closing');
CREATE TABLE nameless_holidays (day date, label text);
CREATE TABLE notes AS SELECT shop, day, amount, 'x'::text AS note FROM shop_sales;
CREATE TABLE plan_short AS SELECT * FROM shop_plan WHERE day < date '2026-07-15';
CREATE TABLE plan_null AS SELECT shop, day, CASE WHEN day = '2026-07-10' AND shop = 'B' THEN NULL ELSE promo END AS promo, price FROM shop_plan;
CREATE TABLE plan_no_price AS SELECT shop, day, promo FROM shop_plan;
CREATE TABLE silent_price AS SELECT shop, day, amount, promo, CASE WHEN shop = 'B' THEN NULL ELSE price END AS price FROM shop_sales;
SELECT count(*) AS versions_before FROM insight.models \gset
CALL pg_temp.expect_errors(
  $$SELECT insight.train_forecaster('bad', 'notes', 'day', 'amount', 'shop', regressors => ARRAY['note'])$$,
  $$SELECT insight.train_forecaster('bad', 'shop_sales', 'day', 'amount', 'shop', regressors => ARRAY['discount'])$$,
  $$SELECT insight.train_forecaster('bad', 'shop_sales', 'day', 'amount', 'shop', regressors => ARRAY['amount'])$$,
  $$SELECT insight.train_forecaster('bad', 'shop_sales', 'day', 'amount', 'shop', regressors => ARRAY['promo', 'promo'])$$,
  $$SELECT insight.train_forecaster('bad', 'shop_sales', 'day', 'amount', 'shop', regressors => ARRAY['promo', NULL])$$,
  $$SELECT insight.train_forecaster('bad', 'silent_price', 'day', 'amount', 'shop', regressors => ARRAY['price'])$$,
  $$SELECT insight.train_forecaster('bad', 'shop_sales', 'day', 'amount', 'shop', holidays => 'no_such_calendar')$$,
  $$SELECT insight.train_forecaster('bad', 'shop_sales', 'day', 'amount', 'shop', holidays => 'nameless_holidays')$$,
  $$SELECT insight.train_forecaster('bad', 'shop_sales', 'day', 'amount', 'shop', holidays => 'bad_holidays')$$,
  $$SELECT insight.evaluate_forecaster('shop_sales', 'day', 'amount', 'shop', holidays => 'bad_holidays')$$,
  $$SELECT * FROM insight.forecast('shop_sales_plan', 14)$$,
  $$SELECT * FROM insight.forecast('shop_sales_plan', 20, regressors_source => 'plan_short')$$,
  $$SELECT * FROM insight.forecast('shop_sales_plan', 14, regressors_source => 'plan_null')$$,
  $$SELECT * FROM insight.forecast('shop_sales_plan', 14, regressors_source => 'plan_no_price')$$,
  $$SELECT * FROM insight.explain_forecast('shop_sales_plan', 14, 'A')$$,
  $$SELECT * FROM insight.forecast('shop_sales_holidays', 14, regressors_source => 'shop_plan')$$,
  $$SELECT * FROM insight.forecast('shop_total_plan', 14, regressors_source => 'shop_total_plan', reconcile => true)$$,
  $$SELECT * FROM insight.forecast('shop_sales_plan', 14, reconcile => true)$$);
-- Privileges: regressors_source and the holidays relation are read with the caller's own.
CREATE ROLE reg_analyst NOLOGIN IN ROLE insight_analyst;
CREATE ROLE reg_admin NOLOGIN IN ROLE insight_admin;
GRANT SELECT ON shop_sales TO reg_admin;
GRANT USAGE ON SCHEMA cal TO reg_admin;
SET ROLE reg_analyst;
CALL pg_temp.expect_errors(
  $$SELECT count(*) FROM insight.forecast('shop_sales_plan', 14, regressors_source => 'shop_plan')$$);
SET ROLE reg_admin;
CALL pg_temp.expect_errors(
  $$SELECT insight.train_forecaster('bad', 'shop_sales', 'day', 'amount', 'shop', holidays => 'cal.closings')$$);
RESET ROLE;
SELECT count(*) = :versions_before AS nothing_written FROM insight.models;
