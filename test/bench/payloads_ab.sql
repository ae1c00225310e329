-- Payload identity across builds: trains one model of each learner family on fixed data and
-- prints each payload's md5. Run it in a fresh database with the extension created, once per
-- build (make install between), and diff the outputs: docs/benchmarks.md, issue 14.
--   psql -X -qtA -d <db> -f test/bench/payloads_ab.sql
SET max_parallel_workers_per_gather = 0;
CREATE TABLE ab_points AS SELECT sin(g)::float8 AS x, cos(g * 0.7)::float8 AS y, (g % 101)::float8 AS z FROM generate_series(1, 20000) g;
CREATE TABLE ab_sales AS SELECT 'g' || g AS grp, timestamptz '2025-01-01 00:00+00' + d * interval '1 day' AS t,
         (100 + 10 * sin(d) + g % 17 + (d * g) % 5)::float8 AS v FROM generate_series(1, 20) g, generate_series(0, 364) d;
CREATE TABLE ab_purchases AS SELECT 'c' || c AS customer, 'p' || ((c * 7 + k * 13) % 500) AS item
    FROM generate_series(1, 4000) c, generate_series(1, 10) k;
SELECT insight.load_demo_data(days => 7, seed => 3, end_time => '2026-03-01 00:00+00') IS NOT NULL;
SELECT (insight.train_anomaly_detector('a', 'ab_points', ARRAY['x','y','z'])).version;
SELECT (insight.train_forecaster('f_gb', 'ab_sales', 't', 'v', 'grp', algorithm => 'gradient_boosting')).version;
SELECT (insight.train_forecaster('f_auto', 'ab_sales', 't', 'v', 'grp')).version;
SELECT (insight.train_forecaster('f_comb', 'ab_sales', 't', 'v', 'grp', algorithm => 'combination')).version;
SELECT (insight.train_recommender('r', 'ab_purchases', 'customer', 'item', factors => 16)).version;
SELECT (insight.train_recommender('r_knn', 'ab_purchases', 'customer', 'item', algorithm => 'item_knn')).version;
SELECT (insight.train_root_cause_classifier('rc')).version;
SELECT name, algorithm, length(payload), md5(payload), md5(params::text) FROM insight.models ORDER BY name;
