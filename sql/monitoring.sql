-- Model monitoring (API.md section 8): insight.model_usage counts every scoring path per model
-- version — by name (row, array, is_anomaly, top_features), by payload (under the catalog
-- version whose payload it is, or a row of its own), forecast, recommend, similar_items — in
-- parallel workers, up to an error, and not while insight.track_usage is off. This suite's
-- cluster preloads pg_insight (test/regress.conf); test/multiprocess/usage.sh covers restarts,
-- kill -9 and a cluster that does not preload it.
\set SHOW_CONTEXT never
\i sql/include/expect_errors.psql
SET TimeZone = 'UTC';
CREATE TABLE use_points AS
SELECT g::float8 AS x, (abs(hashtext(g::text)) % 100)::float8 AS y FROM generate_series(1, 1000) g;
SELECT version FROM insight.train_anomaly_detector('use_m', 'use_points', ARRAY['x', 'y']);
CREATE VIEW use_m AS
  SELECT version, calls, rows_scored, mean_ms > 0 AS timed,
         last_used BETWEEN now() - interval '1 hour' AND clock_timestamp() AS recent
    FROM insight.model_usage WHERE name = 'use_m' ORDER BY version;

-- Nothing before the first call.
SELECT * FROM use_m;
-- By row, by array, is_anomaly, top_features: 1,000 rows each, one call a row.
SELECT count(s) FROM (SELECT insight.anomaly_score('use_m', p) s FROM use_points p) q;
SELECT count(s) FROM (SELECT insight.anomaly_score('use_m', ARRAY[x, y]) s FROM use_points) q;
SELECT count(s) FROM (SELECT insight.is_anomaly('use_m', p) s FROM use_points p) q;
SELECT count(s) FROM (SELECT insight.top_features('use_m', p, 1) s FROM use_points p WHERE x <= 10) q;
SELECT * FROM use_m;
-- A call the planner removes (its result unused) scores nothing and counts nothing.
SELECT count(*) FROM (SELECT insight.anomaly_score('use_m', p) s FROM use_points p) q;
SELECT calls FROM use_m;

-- The catalog version's payload scored as bytes counts under that version.
SELECT count(s) FROM (
  SELECT insight.anomaly_score((SELECT payload FROM insight.models WHERE name = 'use_m'), ARRAY[x, y]) s
    FROM use_points WHERE x <= 100) q;
SELECT calls, rows_scored FROM use_m;
-- A payload that is in no catalog row: a row of its own, name and version NULL.
CREATE TABLE use_fit AS
  SELECT insight.isolation_forest_fit(ARRAY[x, y], 50, 128, 7) AS model FROM use_points;
SELECT count(s) FROM (SELECT insight.anomaly_score(f.model, ARRAY[x, y]) s FROM use_points, use_fit f WHERE x <= 5) q;
SELECT count(*) AS uncatalogued_rows, sum(calls) >= 5 AS counted FROM insight.model_usage WHERE name IS NULL;
-- (earlier tests of this database scored payloads of their own: this one's counts alone)
SELECT u.calls, u.rows_scored FROM insight._usage_counts('insight.models') u, use_fit f
 WHERE u.payload_crc = substring(f.model FROM 29 FOR 4);

-- Parallel workers count their rows too: exactly the rows scored.
CREATE TABLE use_many AS SELECT (g % 1000)::float8 AS x, (g % 97)::float8 AS y FROM generate_series(1, 200000) g;
ANALYZE use_many;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
DO $$
DECLARE
  line text;
  launched int := 0;
BEGIN
  FOR line IN EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
      SELECT count(s) FROM (SELECT insight.anomaly_score('use_m', ARRAY[x, y]) s FROM use_many) q LOOP
    launched := launched + coalesce(substring(line FROM 'Workers Launched: (\d+)')::int, 0);
  END LOOP;
  RAISE NOTICE 'workers launched: %', launched > 0;
END
$$;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SELECT calls, rows_scored FROM use_m;

-- A statement that fails part-way: the rows scored before the error are counted.
SELECT count(s) FROM (SELECT insight.anomaly_score('use_m', ARRAY[x, 1 / (x - 501)]) s FROM use_points) q;
SELECT calls, rows_scored FROM use_m;

-- Counting off: nothing added, and the view says so.
SET insight.track_usage = off;
SELECT count(s) FROM (SELECT insight.anomaly_score('use_m', ARRAY[x, y]) s FROM use_points) q;
SELECT calls, rows_scored FROM use_m;
RESET insight.track_usage;

-- A new version is counted apart; a dropped one leaves the view.
SELECT version FROM insight.train_anomaly_detector('use_m', 'use_points', ARRAY['x', 'y'], n_trees => 20);
SELECT count(s) FROM (SELECT insight.anomaly_score('use_m', ARRAY[x, y]) s FROM use_points WHERE x <= 10) q;
SELECT version, calls, rows_scored, timed, recent FROM use_m;
SELECT insight.drop_model('use_m', 1);
SELECT version, calls FROM use_m;

-- Forecasts, recommendations and similar items: one call each, the rows it returned.
CREATE TABLE use_sales AS
SELECT timestamptz '2026-01-01 12:00+00' + d * interval '1 day' AS sold_at,
       (100 + 20 * ((d % 7) = 5)::int + abs(hashtext(d::text)) % 10)::float8 AS amount
  FROM generate_series(0, 89) d;
SELECT version FROM insight.train_forecaster('use_f', 'use_sales', 'sold_at', 'amount', algorithm => 'seasonal_naive');
SELECT count(*) FROM insight.forecast('use_f', 7);
SELECT count(*) FROM insight.forecast('use_f', 3);
SELECT count(*) FROM insight.explain_forecast('use_f', 2);
CREATE TABLE use_buys AS
SELECT 'u' || (g % 30) AS customer, 'i' || ((g * 7) % 20) AS item FROM generate_series(1, 600) g;
SELECT version FROM insight.train_recommender('use_r', 'use_buys', 'customer', 'item', algorithm => 'item_knn');
SELECT count(*) FROM insight.recommend('use_r', 'u1', 3);
SELECT count(*) FROM insight.similar_items('use_r', 'i3', 2);
SELECT count(*) FROM insight.similar_items('use_r', 'no such item', 2);
SELECT name, version, calls, rows_scored, mean_ms > 0 AS timed FROM insight.model_usage
 WHERE name IN ('use_f', 'use_r') ORDER BY name;

-- Analysts read the view; a role without the extension's grants cannot.
CREATE ROLE use_analyst NOLOGIN IN ROLE insight_analyst;
CREATE ROLE use_nobody NOLOGIN;
GRANT USAGE ON SCHEMA insight TO use_nobody;
SET ROLE use_analyst;
SELECT count(*) > 0 AS sees FROM insight.model_usage;
RESET ROLE;
SET ROLE use_nobody;
CALL pg_temp.expect_errors('SELECT count(*) FROM insight.model_usage');
RESET ROLE;
REVOKE USAGE ON SCHEMA insight FROM use_nobody;
DROP ROLE use_analyst, use_nobody;
