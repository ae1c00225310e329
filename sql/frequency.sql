-- Time series at any frequency (issue 16, item 1; API.md section 6): hourly, 6-hourly,
-- weekly and monthly series, what 'auto' infers, forecasts by period, evaluation and seasonal
-- anomaly detection at each frequency, and the bad frequencies with their SQLSTATE.
\set SHOW_CONTEXT never
\i sql/include/expect_errors.psql
SET TimeZone = 'UTC';
-- Hourly link throughput for three weeks: a daily shape, quieter weekends, a deterministic
-- wiggle; link "b" at twice the level. Every hour of the day has rows: an hourly grid.
CREATE TABLE link_hourly AS
SELECT l.link, h AS ts,
       round((l.scale * (100 + 60 * sin(2 * pi() * (extract(hour FROM h) - 6) / 24)
              - 25 * (extract(isodow FROM h) >= 6)::int
              + 4 * sin(extract(epoch FROM h) / 3600 * 1.7)))::numeric, 3) AS mbps
  FROM (VALUES ('a', 1), ('b', 2)) l(link, scale),
       generate_series(timestamptz '2026-05-01 00:00+00', '2026-05-21 23:00+00', interval '1 hour') h;
-- A spike on link "a" at 2026-05-21 15:00 (for the detector below).
UPDATE link_hourly SET mbps = mbps + 400 WHERE link = 'a' AND ts = '2026-05-21 15:00+00';
-- Weekly sales (Mondays, a date column) for three years, with a yearly wave; monthly sales
-- (first of the month) for six years, with a yearly season.
CREATE TABLE weekly_sales AS
SELECT w::date AS week_start,
       round((500 + 80 * sin(2 * pi() * extract(doy FROM w) / 365.25) + (w::date - date '2023-01-02') * 0.2
              + 10 * sin((w::date - date '2023-01-02') * 0.37))::numeric, 2) AS amount
  FROM generate_series(date '2023-01-02', date '2026-05-25', interval '1 week') w;
CREATE TABLE monthly_sales AS
SELECT m::date AS month_start,
       round((1000 + 200 * (extract(month FROM m) = 12)::int + 50 * cos(2 * pi() * extract(month FROM m) / 12)
              + 3 * extract(year FROM m))::numeric, 2) AS amount
  FROM generate_series(date '2020-01-01', date '2026-04-01', interval '1 month') m;

-- 'auto' infers each grid and records it; forecasts continue it period by period.
SELECT name, rows_used, metrics->>'frequency' AS frequency, (metrics->>'series')::int AS series
  FROM insight.train_forecaster('links_hourly', 'link_hourly', 'ts', 'mbps', group_column => 'link', horizon => 48);
SELECT group_key, count(*) AS hours, min(forecast_time) AS first_hour, max(forecast_time) AS last_hour,
       bool_and(lower_bound <= forecast_value AND forecast_value <= upper_bound) AS inside,
       -- the daily shape is learnt: the afternoon peak is above the small hours
       avg(forecast_value) FILTER (WHERE extract(hour FROM forecast_time) BETWEEN 11 AND 13)
         > 1.5 * avg(forecast_value) FILTER (WHERE extract(hour FROM forecast_time) BETWEEN 0 AND 2) AS daily_shape
  FROM insight.forecast('links_hourly', 48) GROUP BY 1 ORDER BY 1;
SELECT count(DISTINCT forecast_time) = count(*) AS one_row_per_hour,
       bool_and(forecast_time = date_trunc('hour', forecast_time)) AS on_the_hour
  FROM insight.forecast('links_hourly', 30, 'b');
SELECT info->'metadata'->>'frequency' AS frequency, info->'metadata'->>'last_day' AS last_period
  FROM insight.payload_info((SELECT payload FROM insight.models WHERE name = 'links_hourly')) info;
SELECT metrics->>'frequency' AS frequency, (metrics->>'horizon')::int AS horizon
  FROM insight.train_forecaster('sales_weekly', 'weekly_sales', 'week_start', 'amount', horizon => 13);
SELECT count(*) AS weeks, min(forecast_time), bool_and(extract(isodow FROM forecast_time) = 1) AS mondays,
       bool_and(forecast_value BETWEEN 300 AND 900) AS plausible
  FROM insight.forecast('sales_weekly', 13);
SELECT metrics->>'frequency' AS frequency
  FROM insight.train_forecaster('sales_monthly', 'monthly_sales', 'month_start', 'amount', horizon => 12);
SELECT count(*) AS months, min(forecast_time), max(forecast_time),
       bool_and(extract(day FROM forecast_time) = 1) AS firsts,
       -- December's +200 is learnt from the yearly season
       (SELECT forecast_value FROM insight.forecast('sales_monthly', 12) WHERE extract(month FROM forecast_time) = 12)
         > 150 + avg(forecast_value) FILTER (WHERE extract(month FROM forecast_time) <> 12) AS december_peak
  FROM insight.forecast('sales_monthly', 12);

-- explain_forecast (item 3): per period, components that add up to the forecast, for the
-- grouped hourly model (a best pair of each link's two best learners) and the monthly one.
SELECT count(DISTINCT (e.group_key, e.forecast_time)) AS periods,
       bool_and(abs(e.total - f.forecast_value) <= 1e-6 * greatest(1, abs(f.forecast_value))) AS components_sum_to_the_forecast
  FROM (SELECT group_key, forecast_time, sum(value) AS total
          FROM insight.explain_forecast('links_hourly', 48) GROUP BY 1, 2) e
  JOIN insight.forecast('links_hourly', 48) f USING (group_key, forecast_time);
SELECT array_agg(DISTINCT component ORDER BY component) && ARRAY['level'] AS has_a_level,
       count(DISTINCT forecast_time) AS months,
       bool_and(group_key IS NULL) AS ungrouped
  FROM insight.explain_forecast('sales_monthly', 12);
SELECT count(*) FILTER (WHERE component = 'level') AS level_rows, count(DISTINCT group_key) AS groups
  FROM insight.explain_forecast('links_hourly', 5, 'b');
CALL pg_temp.expect_errors(
  $$SELECT count(*) FROM insight.explain_forecast('no_such_model')$$,
  $$SELECT count(*) FROM insight.explain_forecast('links_hourly', 0)$$,
  $$SELECT count(*) FROM insight.explain_forecast('links_hourly', 5, 'zz')$$,
  $$SELECT count(*) FROM insight.explain_forecast('sales_monthly', 5, 'a')$$,
  $$SELECT count(*) FROM insight.explain_forecast(NULL)$$);

-- An explicit frequency: hourly rows summed per day, or per 6 hours.
SELECT metrics->>'frequency' AS frequency, rows_used
  FROM insight.train_forecaster('links_daily', 'link_hourly', 'ts', 'mbps', group_column => 'link',
                                horizon => 7, frequency => 'day');
SELECT group_key, min(forecast_time), bool_and(forecast_value > 1000) AS daily_sums
  FROM insight.forecast('links_daily', 7) GROUP BY 1 ORDER BY 1;
SELECT metrics->>'frequency' AS frequency
  FROM insight.train_forecaster('links_6h', 'link_hourly', 'ts', 'mbps', group_column => 'link',
                                horizon => 8, frequency => '6 hours');
SELECT array_agg(DISTINCT extract(hour FROM forecast_time) ORDER BY extract(hour FROM forecast_time)) AS hours
  FROM insight.forecast('links_6h', 8, 'a');
-- retrain reads the options it was trained with: 'auto' infers the hourly grid again.
SELECT (insight.retrain('links_hourly')).metrics->>'frequency' AS retrained;

-- evaluate_forecaster by period: 2 folds of a day of hours; 'auto' beside every candidate.
SELECT algorithm, round(value::numeric, 2) < 1 AS beats_naive_scale
  FROM insight.evaluate_forecaster('link_hourly', 'ts', 'mbps', 'link', horizon => 24, folds => 2,
                                   frequency => 'hour')
 WHERE metric = 'mase' AND algorithm IN ('auto', 'seasonal_naive') ORDER BY 1;

-- detect_series_anomalies judges each hour of the last day against the hours before it.
SELECT group_key, count(*) AS hours, min(ts), max(ts),
       array_agg(ts ORDER BY ts) FILTER (WHERE is_anomaly) AS flagged
  FROM insight.detect_series_anomalies('link_hourly', 'ts', 'mbps', 'link', since => '1 day')
 GROUP BY 1 ORDER BY 1;
SELECT count(*) AS weeks, bool_and(extract(isodow FROM ts) = 1) AS mondays
  FROM insight.detect_series_anomalies('weekly_sales', 'week_start', 'amount', since => '28 days');

-- Bad frequencies: 22023 naming the argument, before any row is read; nothing written.
CALL pg_temp.expect_errors(
  $$SELECT insight.train_forecaster('bad', 'weekly_sales', 'week_start', 'amount', frequency => 'hour')$$,
  $$SELECT insight.train_forecaster('bad', 'weekly_sales', 'week_start', 'amount', frequency => 'day')$$,
  $$SELECT insight.train_forecaster('bad', 'monthly_sales', 'month_start', 'amount', frequency => 'week')$$,
  $$SELECT insight.train_forecaster('bad', 'link_hourly', 'ts', 'mbps', frequency => '15 minutes')$$,
  $$SELECT insight.train_forecaster('bad', 'link_hourly', 'ts', 'mbps', frequency => 'fortnight')$$,
  $$SELECT insight.train_forecaster('bad', 'link_hourly', 'ts', 'mbps', frequency => '7 minutes')$$,
  $$SELECT insight.train_forecaster('bad', 'link_hourly', 'ts', 'mbps', frequency => '3 days')$$,
  $$SELECT insight.train_forecaster('bad', 'link_hourly', 'ts', 'mbps', frequency => NULL)$$,
  $$SELECT insight.train_forecaster('bad', 'weekly_sales', 'week_start', 'amount', horizon => 52, algorithm => 'holt_winters')$$,
  $$SELECT count(*) FROM insight.evaluate_forecaster('weekly_sales', 'week_start', 'amount', frequency => 'hour')$$,
  $$SELECT count(*) FROM insight.detect_series_anomalies('link_hourly', 'ts', 'mbps', frequency => '15 minutes', since => '1 hour')$$,
  $$SELECT count(*) FROM insight.detect_series_anomalies('link_hourly', 'ts', 'mbps', since => '30 days')$$);
SELECT count(*) AS bad_models FROM insight.models WHERE name = 'bad';

SELECT insight.drop_model(name) FROM insight.model_names
 WHERE name IN ('links_hourly', 'sales_weekly', 'sales_monthly', 'links_daily', 'links_6h')
 ORDER BY name;
DROP TABLE link_hourly, weekly_sales, monthly_sales;
