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

-- Drift: a detector trained on seven days of demo telemetry (raw link metrics) against the
-- three days after them, as they are, then with the inbound Es/No of one link in five (by a
-- hash of its id) recalibrated by +3 dB (five standard deviations of that metric).
SELECT insight.load_demo_data(days => 10, seed => 5, end_time => '2026-04-01 00:00+00', replace => true) IS NOT NULL AS loaded;
CREATE VIEW drift_train AS SELECT * FROM insight.link_metrics WHERE ts < '2026-03-29';
CREATE VIEW drift_recent AS SELECT * FROM insight.link_metrics WHERE ts >= '2026-03-29';
CREATE VIEW drift_shifted AS
  SELECT link_id, ts, ib_esno_db + CASE WHEN abs(hashtext(link_id)) % 5 = 0 THEN 3 ELSE 0 END AS ib_esno_db,
         ob_esno_db, latency_ms, jitter_ms, throughput_mbps, utilization
    FROM drift_recent;
SELECT version FROM insight.train_anomaly_detector('drift_m', 'drift_train',
  ARRAY['ib_esno_db', 'ob_esno_db', 'latency_ms', 'jitter_ms', 'throughput_mbps', 'utilization']);
-- One psi and one out_of_range row per feature, the scores' psi, and the rows compared.
SELECT statistic, count(*), min(threshold) AS threshold FROM insight.model_drift('drift_m', 'drift_recent', NULL)
 GROUP BY statistic ORDER BY statistic;
SELECT value AS rows FROM insight.model_drift('drift_m', 'drift_recent', NULL) WHERE statistic = 'rows';
-- Unshifted: nothing drifted, every statistic far below its threshold.
SELECT count(*) FILTER (WHERE drifted) AS drifted, bool_and(value < threshold / 4) AS far_below
  FROM insight.model_drift('drift_m', 'drift_recent', NULL) WHERE statistic <> 'rows';
-- Shifted: exactly the recalibrated feature, by both statistics.
SELECT feature, statistic, drifted FROM insight.model_drift('drift_m', 'drift_shifted', NULL)
 WHERE drifted ORDER BY feature, statistic;
SELECT round(value::numeric, 2) AS out_of_range FROM insight.model_drift('drift_m', 'drift_shifted', NULL)
 WHERE feature = 'ib_esno_db' AND statistic = 'out_of_range';

-- `since` applies to the time column the model was trained with (ts), counted back from now();
-- the default source is the model's own. Its rows are a minute apart, the newest a minute old.
-- One transaction, so that now() is the same for the table and every check: the counts below
-- do not depend on how long the statements take.
BEGIN;
CREATE TABLE drift_live AS
  SELECT now() - (g + 1) * interval '1 minute' AS ts, 10 + (g % 7)::float8 AS x FROM generate_series(0, 2999) g;
SELECT version FROM insight.train_anomaly_detector('drift_live_m', 'drift_live', ARRAY['x']);
SELECT value AS rows_last_hour FROM insight.model_drift('drift_live_m', since => '1 hour')
 WHERE statistic = 'rows';
SELECT value AS rows_all FROM insight.model_drift('drift_live_m', since => NULL) WHERE statistic = 'rows';
-- Below 500 rows there is a value but no verdict.
SELECT feature, statistic, value IS NOT NULL AS has_value, drifted
  FROM insight.model_drift('drift_live_m', since => '1 hour') ORDER BY feature, statistic;
-- No rows at all: neither.
SELECT feature, statistic, value, drifted FROM insight.model_drift('drift_live_m', since => '30 seconds')
 ORDER BY feature, statistic;

-- Bad input. A payload as pg_insight 0.2.0 wrote it (no profile), imported.
SELECT version FROM insight.import_model('drift_old', '\x5047494e5347485401000a0000000000a9010000ec00000000000000646b7b607b22636f6e74616d696e6174696f6e223a302e30352c226665617475726573223a5b2278225d2c226d657472696373223a7b22726f77735f73616d706c6564223a382c22726f77735f7365656e223a382c22726f77735f736b6970706564223a302c2273636f72655f6d6178223a302e353730333437393730363637313031392c2273636f72655f703530223a302e34333236323232373839313333343430342c2273636f72655f703939223a302e353730333437393730363637313031392c227468726573686f6c64223a302e353730333437393730363637313031392c227468726573686f6c645f636170223a302e353730333437393730363637313031397d2c226e5f6665617475726573223a312c226e5f7472656573223a322c2273616d706c655f73697a65223a342c227363616c6572223a7b22697172223a5b332e355d2c226d656469616e223a5b332e355d7d2c2273656564223a34322c22736f75726365223a227075626c69632e706f696e7473222c227374616e64617264697a65223a747275652c227468726573686f6c64223a302e353730333437393730363637313031397d01000000000000000400000030bcc9f161a0fd3f020000000000000000000000050000000c00000000000000545e404c6943e1bf0000000001000000000000000000f03fffffffff0000000094e45b804c3f9d3f00000000030000000000000000000040ffffffff000000000000000000000840ffffffff00000000c0ae293bd4e6c43f0000000006000000c0758fe7ab90eabf000000000a000000409da941e7a9dd3f00000000080000000000000000000040ffffffff000000000000000000000040ffffffff000000000000000000000040ffffffff000000000000000000000040ffffffff00000000'::bytea);
CREATE TABLE drift_no_features AS SELECT 1::float8 AS y, now() AS ts;
CALL pg_temp.expect_errors(
  $$SELECT * FROM insight.model_drift('no_such_model')$$,
  $$SELECT * FROM insight.model_drift('drift_m', 'drift_no_features')$$,
  $$SELECT * FROM insight.model_drift('drift_old', 'drift_live')$$,
  $$SELECT * FROM insight.model_drift('use_f')$$,
  $$SELECT * FROM insight.model_drift(NULL)$$,
  $$SELECT * FROM insight.model_drift('drift_m', since => '-1 hour')$$,
  $$SELECT * FROM insight.model_drift('drift_m', 'drift_recent', '0')$$);

-- Retraining on evidence: drift_live_m's own source, the last day, as it was trained: no drift,
-- so no new version, and the decision is a 'skipped' run with its figures.
SELECT version FROM insight.retrain_on_evidence('drift_live_m', 'drift', since => '1 day');
SELECT status, message, evidence->>'when' AS "when", jsonb_array_length(evidence->'statistics') AS statistics,
       (SELECT max(version) FROM insight.models WHERE name = 'drift_live_m') AS versions
  FROM insight.training_runs WHERE name = 'drift_live_m' ORDER BY run_id DESC LIMIT 1;
-- The last day's x recalibrated: a new version, whose run says why.
UPDATE drift_live SET x = x + 100 WHERE ts > now() - interval '1 day';
SELECT version FROM insight.retrain_on_evidence('drift_live_m', 'drift', since => '1 day');
SELECT status, message, (evidence->>'model_id')::bigint < model_id AS judged_the_previous_version,
       (SELECT count(*) FROM jsonb_array_elements(evidence->'statistics') e WHERE (e->>'drifted')::bool) AS drifted
  FROM insight.training_runs WHERE name = 'drift_live_m' ORDER BY run_id DESC LIMIT 1;
-- 'always' retrains without looking.
SELECT version FROM insight.retrain_on_evidence('drift_live_m', 'always');
COMMIT;
CALL pg_temp.expect_errors(
  $$SELECT insight.retrain_on_evidence('drift_live_m', 'accuracy')$$,
  $$SELECT insight.retrain_on_evidence('drift_live_m', 'sometimes')$$,
  $$SELECT insight.retrain_on_evidence('use_f', 'drift')$$,
  $$SELECT insight.retrain_on_evidence('drift_old', 'drift')$$,
  $$SELECT insight.schedule_retraining('drift_live_m', '0 * * * *', 'always', 'accuracy')$$,
  $$SELECT insight.schedule_retraining('drift_live_m', '0 * * * *', "when" => 'drift', since => '0')$$,
  $$SELECT insight.schedule_retraining('drift_live_m', '0 * * * *', "when" => 'drift')$$);

-- Analysts read the view; a role without the extension's grants cannot.
CREATE ROLE use_analyst NOLOGIN IN ROLE insight_analyst;
CREATE ROLE use_nobody NOLOGIN;
GRANT USAGE ON SCHEMA insight TO use_nobody;
SET ROLE use_analyst;
SELECT count(*) > 0 AS sees FROM insight.model_usage;
-- model_drift reads the source with the caller's own privileges.
CALL pg_temp.expect_errors($$SELECT * FROM insight.model_drift('drift_m', 'drift_recent', NULL)$$);
RESET ROLE;
GRANT SELECT ON drift_recent TO use_analyst;
SET ROLE use_analyst;
SELECT count(*) FILTER (WHERE drifted) AS drifted FROM insight.model_drift('drift_m', 'drift_recent', NULL);
RESET ROLE;
REVOKE SELECT ON drift_recent FROM use_analyst;
SET ROLE use_nobody;
CALL pg_temp.expect_errors('SELECT count(*) FROM insight.model_usage');
RESET ROLE;
REVOKE USAGE ON SCHEMA insight FROM use_nobody;
DROP ROLE use_analyst, use_nobody;
