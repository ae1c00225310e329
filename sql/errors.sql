-- Every row of API.md section 5's error table that exists so far, with its SQLSTATE.
\set SHOW_CONTEXT never
\i sql/include/expect_errors.psql
SELECT name, version FROM insight.register_model('err_model', 'recommend', '\x0a0b0c'::bytea);

-- 42704 undefined_object: unknown model name or version; the HINT says how to train one.
CALL pg_temp.expect_errors(
  $$SELECT insight.deploy('nope', 1)$$,
  $$SELECT insight.rollback('nope')$$,
  $$SELECT insight.drop_model('nope')$$,
  $$SELECT insight.export_model('nope')$$,
  $$SELECT insight.live_model_id('nope')$$,
  $$SELECT insight.deploy('err_model', 7)$$,
  $$SELECT insight.drop_model('err_model', 7)$$,
  $$SELECT insight.export_model('err_model', 7)$$);

-- 22023 invalid_parameter_value: bad option values name the argument and allowed values.
CALL pg_temp.expect_errors(
  $$SELECT insight.register_model('err_model', 'clustering', '\x00'::bytea)$$,
  $$SELECT insight.register_model('bad name; drop table x', 'anomaly', '\x00'::bytea)$$,
  $$SELECT insight.register_model('err_model', 'anomaly', '\x00'::bytea, '[1, 2]')$$,
  $$SELECT insight.register_model('err_model', 'anomaly', '\x00'::bytea,
    ('{"a":' || repeat('[', 70) || repeat(']', 70) || '}')::jsonb)$$,
  $$SELECT insight.register_model('err_model', 'anomaly', NULL)$$);
-- The training path itself (insight._train, behind every train_* function): an unknown task,
-- options that are not an object, a misspelt or mistyped option, each before any row is read.
CREATE TABLE err_points AS SELECT g::float8 AS x FROM generate_series(1, 50) g;
CALL pg_temp.expect_errors(
  $$SELECT insight._train('clustering', 'err_t', 'err_points', '{}')$$,
  $$SELECT insight._train('anomaly', 'err_t', 'err_points', '[1]')$$,
  $$SELECT insight._train('anomaly', 'err_t', 'err_points', '{"features": ["x"], "n_tree": 10}')$$,
  $$SELECT insight._train('anomaly', 'err_t', 'err_points', '{"features": ["x"], "n_trees": "ten"}')$$,
  $$SELECT insight._train('forecast', 'err_t', 'err_points', '{"time_column": "x"}')$$,
  $$SELECT insight._train('root_cause', 'err_t', 'err_points', '{"rounds": 0}')$$,
  $$SELECT insight._train('anomaly', 'err_t', 'err_points', '{"features": ["x"], "contamination": 1e400}')$$);
SELECT count(*) AS nothing_written FROM insight.models WHERE name = 'err_t';
-- The evaluation path (insight._evaluate, behind evaluate_forecaster and evaluate_recommender):
-- an unknown task, an option the task's evaluation does not take, a cut-off that is no time.
CALL pg_temp.expect_errors(
  $$SELECT count(*) FROM insight._evaluate('anomaly', 'err_points', '{}')$$,
  $$SELECT count(*) FROM insight._evaluate('forecast', 'err_points',
    '{"time_column": "x", "value_column": "x", "k": 10}')$$,
  $$SELECT count(*) FROM insight._evaluate('recommend', 'err_points',
    '{"user_column": "x", "item_column": "x", "time_column": "x", "cutoff": "soon"}')$$,
  $$SELECT insight.deploy('err_model', NULL)$$,
  $$SELECT insight.drop_model('err_model', 1)$$);
SELECT name, version FROM insight.register_model('never_live', 'anomaly', '\x00'::bytea, deploy => false);
CALL pg_temp.expect_errors(
  $$SELECT insight.rollback('never_live')$$,
  $$SELECT insight.live_model_id('never_live')$$,
  $$SELECT insight.load_demo_data(days => 0)$$,
  $$SELECT insight.load_demo_data(days => 1, step_seconds => 120)$$);

-- Values are echoed in messages at most 100 characters long, then cut with their length.
CALL pg_temp.expect_errors(
  $$SELECT insight.deploy(repeat('x', 5000), 1)$$,
  $$SELECT insight.register_model(repeat('n', 300), 'anomaly', '\x00'::bytea)$$,
  $$SELECT insight._train('anomaly', 'err_t', 'err_points', jsonb_build_object('features', ARRAY['x'], repeat('k', 200), 1))$$,
  $$SELECT insight._train('anomaly', 'err_t', 'err_points', jsonb_build_object('features', ARRAY['x'], 'n_trees', repeat('9', 300)))$$,
  $$SELECT count(*) FROM insight.correlate_network(repeat('n', 500))$$);

-- XX001 data_corrupted: truncated, flipped, foreign or empty payloads, never a crash.
SELECT insight.export_model('err_model') AS good \gset
SELECT insight.payload_info(substr(:'good'::bytea, 1, length(:'good'::bytea) - 1));
\echo :LAST_ERROR_SQLSTATE
SELECT insight.payload_info(set_byte(:'good'::bytea, length(:'good'::bytea) - 2, get_byte(:'good'::bytea, length(:'good'::bytea) - 2) # 1));
\echo :LAST_ERROR_SQLSTATE
SELECT insight.payload_info(:'good'::bytea || '\x00'::bytea);
\echo :LAST_ERROR_SQLSTATE
CALL pg_temp.expect_errors(
  $$SELECT insight.payload_info(''::bytea)$$,
  $$SELECT insight.payload_info('\x504b0304'::bytea)$$);
SELECT insight.import_model('err_model', set_byte(:'good'::bytea, 0, 0));
\echo :LAST_ERROR_SQLSTATE
-- Every single-byte flip of a real payload is rejected (and the backend is still here).
CREATE FUNCTION pg_temp.rejects(p bytea) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
  PERFORM insight.payload_info(p);
  RETURN false;
EXCEPTION WHEN data_corrupted THEN
  RETURN true;
END $$;
SELECT count(*) AS flips,
       count(*) FILTER (WHERE NOT pg_temp.rejects(set_byte(:'good'::bytea, i, get_byte(:'good'::bytea, i) # 255))) AS accepted
  FROM generate_series(0, length(:'good'::bytea) - 1) i;
SELECT count(*) AS truncations,
       count(*) FILTER (WHERE NOT pg_temp.rejects(substr(:'good'::bytea, 1, n))) AS accepted
  FROM generate_series(0, length(:'good'::bytea) - 1) n;

-- A payload corrupted inside the catalog (by a superuser bypassing the immutability trigger)
-- is caught when the model is loaded.
ALTER TABLE insight.models DISABLE TRIGGER models_immutable;
UPDATE insight.models SET payload = set_byte(payload, 33, get_byte(payload, 33) # 16)
 WHERE name = 'err_model';
ALTER TABLE insight.models ENABLE TRIGGER models_immutable;
SELECT insight.model_cache_reset();
CALL pg_temp.expect_errors(
  $$SELECT insight.describe_model('err_model')$$);
SELECT 'backend still alive' AS status;

SELECT insight.drop_model('err_model') + insight.drop_model('never_live') AS dropped;
