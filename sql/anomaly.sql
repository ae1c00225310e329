-- Anomaly detection: the isolation_forest_fit aggregate, training into the catalog, scoring by
-- payload, name and row, evaluation, and every bad input of the issue with its SQLSTATE.
\set SHOW_CONTEXT never
\i sql/include/expect_errors.psql
-- A deterministic table: 2,000 normal rows on a grid-like pattern and 20 far-away anomalies.
CREATE TABLE readings AS
SELECT g AS id, 'dev-' || (g % 4) AS device,
       10 + 2 * sin(g / 7.0) + (g % 5) * 0.1 AS temperature,
       50 + 5 * cos(g / 11.0) + (g % 3) * 0.2 AS load,
       (g % 97 = 0) AS incident
  FROM generate_series(1, 2000) g;
UPDATE readings SET temperature = temperature + 25, load = load - 30 WHERE incident;
ANALYZE readings;

-- Two-step aggregate: parallel plans share the scan (Partial Aggregate under Gather).
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF)
SELECT insight.isolation_forest_fit(ARRAY[temperature, load], 100, 256) FROM readings;
-- ... and it runs in parallel to a valid model.
SELECT insight.payload_info(insight.isolation_forest_fit(ARRAY[temperature, load], 100, 256))->>'algorithm' AS algorithm
  FROM readings;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;

-- GROUP BY gives one model per group.
CREATE TEMP TABLE per_device AS
SELECT device, insight.isolation_forest_fit(ARRAY[temperature, load], 50, 64, 7) AS model
  FROM readings GROUP BY device;
SELECT count(*) AS models, count(DISTINCT md5(model)) AS distinct_models FROM per_device;
-- Each device's anomalies score above its normal rows.
SELECT p.device,
       avg(insight.anomaly_score(p.model, ARRAY[r.temperature, r.load])) FILTER (WHERE r.incident)
     > avg(insight.anomaly_score(p.model, ARRAY[r.temperature, r.load])) FILTER (WHERE NOT r.incident) + 0.15
       AS anomalies_score_higher
  FROM readings r JOIN per_device p USING (device) GROUP BY p.device ORDER BY p.device;

-- Seeded: the same seed gives the same model, byte for byte (serial plan).
SELECT a = b AS same_model FROM
  (SELECT insight.isolation_forest_fit(ARRAY[temperature, load], 30, 64, 5) AS a FROM readings) x,
  (SELECT insight.isolation_forest_fit(ARRAY[temperature, load], 30, 64, 5) AS b FROM readings) y;
-- Scores are in (0, 1]; an empty table gives no model.
WITH m AS (SELECT insight.isolation_forest_fit(ARRAY[temperature, load], 100, 256) AS model FROM readings)
SELECT bool_and(s > 0 AND s <= 1) AS in_range
  FROM (SELECT insight.anomaly_score(m.model, ARRAY[r.temperature, r.load]) s FROM readings r, m) q;
SELECT insight.isolation_forest_fit(ARRAY[temperature, load], 10, 16) IS NULL AS no_rows_no_model
  FROM readings WHERE false;

-- Training writes a catalog version with features, threshold, scaler and metrics.
SELECT name, version, task, algorithm, rows_used, rows_skipped, training_ms > 0 AS timed
  FROM insight.train_anomaly_detector('sensors', 'readings', ARRAY['temperature', 'load'],
                                      contamination => 0.01);
SELECT features, source, params->>'contamination' AS contamination, params->>'n_trees' AS n_trees,
       (metrics->>'threshold')::float8 BETWEEN 0.5 AND 1 AS threshold_ok
  FROM insight.models WHERE name = 'sensors';
SELECT d->'metadata'->'features' AS features, d->'metadata'->'scaler' IS NOT NULL AS has_scaler
  FROM insight.describe_model('sensors') d;
SELECT metric_name FROM insight.model_metrics WHERE name = 'sensors' ORDER BY 1;

-- Scoring by name: a float8[] in the model's feature order, or a row bound by column name.
SELECT count(*) FILTER (WHERE insight.is_anomaly('sensors', r)) AS flagged,
       count(*) FILTER (WHERE insight.is_anomaly('sensors', r) AND incident) AS flagged_incidents,
       count(*) FILTER (WHERE incident) AS incidents
  FROM readings r;
-- The name is resolved once per statement and call site, not once per row (2,000 rows here).
SELECT (insight.model_cache_stats()->>'name_lookups')::int AS lookups_before \gset
SELECT count(insight.anomaly_score('sensors', r)) AS rows_scored FROM readings r;
SELECT (insight.model_cache_stats()->>'name_lookups')::int - :lookups_before AS name_lookups_for_2000_rows;
SELECT abs(insight.anomaly_score('sensors', r) - insight.anomaly_score('sensors', ARRAY[r.temperature, r.load])) < 1e-12 AS row_equals_array
  FROM readings r WHERE id = 97;
-- Columns are found by name, in any order and among other columns; integers and numerics work.
SELECT abs(insight.anomaly_score('sensors', x) - insight.anomaly_score('sensors', ARRAY[12.5, 48]::float8[])) < 1e-12 AS bound_by_name
  FROM (SELECT 'x'::text AS note, 48::int AS load, 12.5::numeric AS temperature) x;
-- Literal and integer arrays (numeric[], int[], bigint[]) score as their float8[] values.
SELECT insight.anomaly_score('sensors', ARRAY[12.5, 48]) = insight.anomaly_score('sensors', ARRAY[12.5, 48]::float8[]) AS numeric_array,
       insight.anomaly_score('sensors', ARRAY[12, 48]) = insight.anomaly_score('sensors', ARRAY[12, 48]::float8[]) AS int_array,
       insight.anomaly_score('sensors', ARRAY[12::bigint, 48]) = insight.anomaly_score('sensors', ARRAY[12, 48]::float8[]) AS bigint_array,
       insight.is_anomaly('sensors', ARRAY[95.5, 3]) = insight.is_anomaly('sensors', ARRAY[95.5, 3]::float8[]) AS is_anomaly_numeric,
       insight.is_anomaly('sensors', ARRAY[95, 3]) = insight.is_anomaly('sensors', ARRAY[95, 3]::float8[]) AS is_anomaly_int,
       insight.anomaly_score('sensors', ARRAY[NULL, 48.0]) IS NULL AS null_numeric_element;
-- So do untyped array literals (they were "not unique" between the array and row forms).
SELECT insight.anomaly_score('sensors', '{12.5, 48}') = insight.anomaly_score('sensors', ARRAY[12.5, 48]::float8[]) AS literal,
       insight.is_anomaly('sensors', '{95.5, 3}') = insight.is_anomaly('sensors', ARRAY[95.5, 3]::float8[]) AS is_anomaly_literal;
CALL pg_temp.expect_errors(
  $$SELECT insight.anomaly_score('sensors', '{12.5, forty}')$$);
-- A NULL feature gives a NULL score; so does a NULL array.
SELECT insight.anomaly_score('sensors', ARRAY[NULL, 48]::float8[]) IS NULL AS null_array_element,
       insight.anomaly_score('sensors', x) IS NULL AS null_column
  FROM (SELECT NULL::float8 AS temperature, 48::float8 AS load) x;

-- The row binding follows the row type: after ALTER TABLE in the same transaction the
-- columns are found again.
CREATE TABLE altering (temperature float8, load float8);
INSERT INTO altering VALUES (12.5, 48);
DO $$
DECLARE
  a float8;
  b float8;
BEGIN
  SELECT insight.anomaly_score('sensors', t) INTO a FROM altering t;
  ALTER TABLE altering ADD COLUMN note text, ALTER COLUMN load TYPE numeric;
  SELECT insight.anomaly_score('sensors', t) INTO b FROM altering t;
  RAISE NOTICE 'same score after ALTER TABLE: %', abs(a - b) < 1e-12;
END
$$;

-- evaluate_anomaly_detector against a label column.
SELECT metric, round(value::numeric, 3) AS value
  FROM insight.evaluate_anomaly_detector('sensors', 'readings', 'incident')
 WHERE metric IN ('roc_auc', 'pr_auc', 'recall', 'rows', 'anomalies') ORDER BY metric;

-- ---- bad input ----
-- Unknown feature column: 42703.
CALL pg_temp.expect_errors(
  $$SELECT insight.train_anomaly_detector('bad', 'readings', ARRAY['temperature', 'humidity'])$$,
  -- Non-numeric column: 22023.
  $$SELECT insight.train_anomaly_detector('bad', 'readings', ARRAY['device'])$$,
  -- contamination outside (0, 0.5], n_trees < 1, sample_size < 2, no features: 22023.
  $$SELECT insight.train_anomaly_detector('bad', 'readings', ARRAY['load'], contamination => 0.6)$$,
  $$SELECT insight.train_anomaly_detector('bad', 'readings', ARRAY['load'], contamination => 0)$$,
  $$SELECT insight.train_anomaly_detector('bad', 'readings', ARRAY['load'], n_trees => 0)$$,
  $$SELECT insight.train_anomaly_detector('bad', 'readings', ARRAY['load'], sample_size => 1)$$,
  $$SELECT insight.train_anomaly_detector('bad', 'readings', ARRAY[]::text[])$$,
  $$SELECT insight.isolation_forest_fit(ARRAY[load], 0, 256) FROM readings$$,
  -- Options must be the same for every row of a group (states of different sizes cannot merge).
  $$SELECT insight.isolation_forest_fit(ARRAY[load], CASE WHEN id < 1000 THEN 10 ELSE 20 END, 64) FROM readings$$);
-- Finite values of any magnitude score normally (scaling never overflows to infinity).
SELECT s > 0 AND s <= 1 AS extreme_but_finite
  FROM insight.anomaly_score('sensors', ARRAY[1.7e308, -1.7e308]::float8[]) s;
-- Too few rows: says how many were found and how many are needed.
CREATE TABLE tiny AS SELECT 1.0::float8 AS load UNION ALL SELECT NULL;
CALL pg_temp.expect_errors(
  $$SELECT insight.train_anomaly_detector('bad', 'tiny', ARRAY['load'])$$);
SELECT insight.train_anomaly_detector('bad', 'tiny', ARRAY['load']) FROM tiny WHERE false;
DELETE FROM tiny;
CALL pg_temp.expect_errors(
  $$SELECT insight.train_anomaly_detector('bad', 'tiny', ARRAY['load'])$$);
-- NaN and infinity are rejected in training and in scoring.
CREATE TABLE with_nan AS SELECT x::float8 AS v FROM generate_series(1, 10) x UNION ALL SELECT 'NaN';
CALL pg_temp.expect_errors(
  $$SELECT insight.train_anomaly_detector('bad', 'with_nan', ARRAY['v'])$$,
  $$SELECT insight.anomaly_score('sensors', ARRAY['Infinity', 1]::float8[])$$,
  -- A row whose arity differs from the model's: 22023.
  $$SELECT insight.anomaly_score('sensors', ARRAY[1, 2, 3]::float8[])$$,
  $$SELECT insight.anomaly_score(model, ARRAY[1]::float8[]) FROM per_device LIMIT 1$$,
  -- A row without a feature column: 42703; something that is not a row: 22023.
  $$SELECT insight.anomaly_score('sensors', x) FROM (SELECT 1.0 AS temperature) x$$,
  $$SELECT insight.is_anomaly('sensors', 42)$$);
-- A payload of another task: 22023; a corrupt payload: XX001.
SELECT name FROM insight.register_model('not_anomaly', 'forecast', '\x00'::bytea);
CALL pg_temp.expect_errors(
  $$SELECT insight.anomaly_score('not_anomaly', ARRAY[1, 2]::float8[])$$,
  $$SELECT insight.anomaly_score(insight.export_model('not_anomaly'), ARRAY[1, 2]::float8[])$$,
  $$SELECT insight.anomaly_score(set_byte(model, 40, get_byte(model, 40) # 1), ARRAY[1, 2]::float8[])
    FROM per_device LIMIT 1$$,
  -- Unknown model: 42704.
  $$SELECT insight.anomaly_score('nope', ARRAY[1, 2]::float8[])$$);
-- A model trained from arrays has no feature names to bind a row with: 22023.
SELECT name FROM insight.import_model('array_model', (SELECT model FROM per_device ORDER BY device LIMIT 1));
CALL pg_temp.expect_errors(
  $$SELECT insight.anomaly_score('array_model', r) FROM readings r LIMIT 1$$,
  -- evaluate: unknown label column 42703; labels of one class only 22023.
  $$SELECT * FROM insight.evaluate_anomaly_detector('sensors', 'readings', 'no_such_label')$$);
CREATE VIEW readings_normal AS SELECT * FROM readings WHERE NOT incident;
CALL pg_temp.expect_errors(
  $$SELECT * FROM insight.evaluate_anomaly_detector('sensors', 'readings_normal', 'incident')$$);

-- Privileges: the analyst scores but may not train (42501); an admin without SELECT on the
-- source may not train on it (42501, checked before any work).
CREATE ROLE anomaly_analyst NOLOGIN IN ROLE insight_analyst;
CREATE ROLE anomaly_admin NOLOGIN IN ROLE insight_admin;
GRANT SELECT ON readings TO anomaly_analyst;
SET ROLE anomaly_analyst;
SELECT count(*) FILTER (WHERE insight.is_anomaly('sensors', r)) > 0 AS analyst_scores FROM readings r;
CALL pg_temp.expect_errors(
  $$SELECT insight.train_anomaly_detector('x', 'readings', ARRAY['load'])$$);
RESET ROLE;
SET ROLE anomaly_admin;
CALL pg_temp.expect_errors(
  $$SELECT insight.train_anomaly_detector('x', 'readings', ARRAY['load'])$$);
RESET ROLE;
GRANT SELECT (load) ON readings TO anomaly_admin;
SET ROLE anomaly_admin;
-- Column privilege on the feature is enough; the version records the admin as its author.
SELECT name, version FROM insight.train_anomaly_detector('by_admin', 'readings', ARRAY['load']);
SELECT trained_by FROM insight.models WHERE name = 'by_admin';
RESET ROLE;

-- Identifiers are quoted, never pasted: a column name with quotes and a semicolon works as a
-- name, and an injection attempt is just an unknown column.
CREATE TABLE "odd table" ("we""ird; DROP TABLE readings --" float8);
INSERT INTO "odd table" SELECT g FROM generate_series(1, 50) g;
SELECT name, rows_used FROM insight.train_anomaly_detector('odd', '"odd table"', ARRAY['we"ird; DROP TABLE readings --']);
CALL pg_temp.expect_errors(
  $$SELECT insight.train_anomaly_detector('odd', '"odd table"', ARRAY['x"; DROP TABLE readings; --'])$$);
SELECT count(*) AS readings_still_there FROM readings;

-- Cancelling a training (statement_timeout during the scan of a slow view) leaves the catalog
-- untouched.
-- (pg_sleep in WHERE runs once per row: 2,000 rows take 2 s, the timeout fires during the scan)
CREATE VIEW slow_readings AS SELECT load FROM readings WHERE pg_sleep(0.001)::text = '';
\set training 'SELECT insight.train_anomaly_detector(''cancelled'', ''slow_readings'', ARRAY[''load''])'
\set name cancelled
\set timeout 300ms
\i sql/include/cancelled_training.psql

SELECT insight.drop_model(name) FROM (VALUES ('sensors'), ('not_anomaly'), ('array_model'), ('by_admin'), ('odd')) v(name);
REVOKE ALL ON readings FROM anomaly_analyst, anomaly_admin;
DROP ROLE anomaly_analyst, anomaly_admin;
