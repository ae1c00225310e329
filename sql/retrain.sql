-- Retraining: retrain(name) re-runs the live version's training with its stored source and
-- options; retrain_all() retrains every deployed model, one failure not stopping the others,
-- each failure recorded in insight.training_runs. In a database of its own, so that
-- retrain_all() sees only this test's models.
\set SHOW_CONTEXT never
\set regress_db :DBNAME
CREATE DATABASE insight_retrain;
\c insight_retrain
\i sql/include/expect_errors.psql
SET client_min_messages = warning;
CREATE EXTENSION pg_insight;
RESET client_min_messages;
SET TimeZone = 'UTC';
CREATE ROLE ret_admin NOLOGIN IN ROLE insight_admin;
CREATE ROLE ret_analyst NOLOGIN IN ROLE insight_analyst;
\i sql/include/small_sources.psql
CREATE TABLE doomed AS SELECT g::float8 AS x FROM generate_series(1, 300) g;
GRANT SELECT ON points, sales, doomed TO ret_admin;
SET ROLE ret_admin;
SELECT name, version FROM insight.train_anomaly_detector('ret_anomaly', 'points', ARRAY['x', 'y'], seed => 7);
SELECT name, version FROM insight.train_forecaster('ret_sales', 'sales', 'sold_at', 'amount', algorithm => 'seasonal_naive', horizon => 7);
SELECT name, version FROM insight.train_anomaly_detector('ret_doomed', 'doomed', ARRAY['x']);
SELECT name, version, algorithm FROM insight.register_model('ret_external', 'anomaly', '\x00'::bytea);

-- retrain: a new, deployed version with the same source, features and options; the same data
-- give the same payload.
SELECT name, version, task, algorithm, rows_used FROM insight.retrain('ret_anomaly');
SELECT a.source = b.source AND a.features = b.features AND a.params = b.params AS same_training,
       a.payload = b.payload AS same_payload, insight.live_model_id('ret_anomaly') = b.model_id AS deployed
  FROM insight.models a, insight.models b
 WHERE a.name = 'ret_anomaly' AND a.version = 1 AND b.name = 'ret_anomaly' AND b.version = 2;
RESET ROLE;
INSERT INTO points SELECT g, g % 13 FROM generate_series(401, 600) g;
SET ROLE ret_admin;
SELECT version, rows_used FROM insight.retrain('ret_anomaly');
SELECT version, algorithm, rows_used FROM insight.retrain('ret_sales');
SELECT params->>'algorithm' AS algorithm, params->>'horizon' AS horizon FROM insight.models
 WHERE model_id = insight.live_model_id('ret_sales');

-- retrain_all: every deployed model trained here, in name order; the model whose source is
-- gone fails with a WARNING and a failed run, the others go on; the external one is skipped.
RESET ROLE;
DROP TABLE doomed;
SET ROLE ret_admin;
SELECT name, version, task FROM insight.retrain_all();
SELECT name, status, rows IS NULL AS no_rows, message, finished_at >= started_at AS timed
  FROM insight.training_runs WHERE status = 'failed';
SELECT name, count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
       count(*) FILTER (WHERE status = 'failed') AS failed
  FROM insight.training_runs GROUP BY name ORDER BY name;

-- Bad input.
CALL pg_temp.expect_errors(
  $$SELECT insight.retrain('ret_external')$$,
  $$SELECT insight.retrain('no_such_model')$$,
  $$SELECT insight.retrain(NULL)$$,
  $$SELECT insight.retrain('ret_doomed')$$);

-- promote => 'if_better': the new version is written, and deployed only if its validation
-- metric (a forecaster's backtest mase, lower is better) is not worse than the live
-- version's; training_runs.promoted and message record the decision.
SELECT version AS sales_live FROM insight.models WHERE model_id = insight.live_model_id('ret_sales') \gset
SELECT version FROM insight.retrain('ret_sales', promote => 'if_better');
SELECT version - :sales_live AS newer_versions_live FROM insight.models WHERE model_id = insight.live_model_id('ret_sales');
RESET ROLE;
-- A month of erratic sales: the weekly pattern no longer predicts them.
INSERT INTO sales SELECT timestamptz '2026-01-01 12:00+00' + d * interval '1 day', 100 + abs(hashtext(d::text)) % 200
  FROM generate_series(90, 119) d;
SET ROLE ret_admin;
SELECT version FROM insight.retrain('ret_sales', promote => 'if_better');
SELECT version - :sales_live AS newer_versions_live FROM insight.models WHERE model_id = insight.live_model_id('ret_sales');
SELECT m.version - :sales_live AS version, r.status, r.promoted,
       regexp_replace(r.message, '[0-9]+\.[0-9]+', 'x', 'g') AS message
  FROM insight.training_runs r JOIN insight.models m USING (model_id)
 WHERE r.name = 'ret_sales' AND m.version > :sales_live ORDER BY r.run_id;
-- Deployed versions and the metrics the decisions read.
SELECT m.version - :sales_live AS version, (m.metrics->>'mase')::float8 > 2 AS erratic,
       EXISTS (SELECT FROM insight.deployments d WHERE d.model_id = m.model_id) AS deployed
  FROM insight.models m WHERE m.name = 'ret_sales' AND m.version > :sales_live ORDER BY m.version;
-- Anomaly detectors have no validation metric; bad policies. Nothing is written.
SELECT count(*) AS versions_before FROM insight.models \gset
CALL pg_temp.expect_errors(
  $$SELECT insight.retrain('ret_anomaly', promote => 'if_better')$$,
  $$SELECT insight.retrain('ret_sales', promote => 'sometimes')$$,
  $$SELECT insight.retrain('ret_sales', promote => NULL)$$,
  $$SELECT count(*) FROM insight.retrain_all(promote => 'best')$$,
  $$SELECT insight.schedule_retraining('ret_sales', '0 3 * * *', promote => 'best')$$,
  $$SELECT insight.schedule_retraining('ret_anomaly', '0 3 * * *', promote => 'if_better')$$);
SELECT count(*) = :versions_before AS nothing_written FROM insight.models;

-- Recommenders are compared by a held-out ndcg@10: retrain(promote => 'if_better') trains
-- with validate => true (the live version, trained without it, has no metric to compare, so
-- the first validated version goes live; the same data then give the same metric, not worse).
RESET ROLE;
CREATE TABLE baskets AS
SELECT 'u' || u AS customer, 'i' || ((u * 7 + k * 13 + (u * k) % 11) % 60) AS item
  FROM generate_series(1, 300) u, generate_series(1, 8) k;
CREATE TABLE two_rows AS SELECT * FROM (VALUES ('u1', 'i1'), ('u2', 'i2')) t(customer, item);
GRANT SELECT ON baskets, two_rows TO ret_admin;
SET ROLE ret_admin;
SET client_min_messages = warning;
SELECT version, metrics ? 'validation_ndcg_at_10' AS validated
  FROM insight.train_recommender('ret_rec', 'baskets', 'customer', 'item', factors => 8);
SELECT version, (metrics->>'validation_ndcg_at_10')::float8 BETWEEN 0 AND 1 AS validated,
       (metrics->>'validation_users')::int AS users, (metrics ? 'validation_popularity_ndcg_at_10') AS baseline
  FROM insight.retrain('ret_rec', promote => 'if_better');
SELECT version FROM insight.retrain('ret_rec', promote => 'if_better');
-- Too little data to hold anything out: trained, but without a metric, and so not promoted.
SELECT version, metrics->>'validation_skipped' AS skipped
  FROM insight.train_recommender('ret_tiny', 'two_rows', 'customer', 'item', algorithm => 'popularity', validate => true);
SELECT version FROM insight.retrain('ret_tiny', promote => 'if_better');
RESET client_min_messages;
SELECT m.name, m.version, r.promoted, regexp_replace(r.message, '[0-9]+\.[0-9]+', 'x', 'g') AS message,
       m.model_id = insight.live_model_id(m.name) AS live
  FROM insight.training_runs r JOIN insight.models m USING (model_id)
 WHERE m.name IN ('ret_rec', 'ret_tiny') ORDER BY r.run_id;
-- retrain(promote => 'always') keeps validating a model trained with validate => true.
SELECT version, metrics ? 'validation_ndcg_at_10' AS validated FROM insight.retrain('ret_rec');

-- Scheduling needs pg_cron in this database (the multi-process test pg_cron runs it for real).
CALL pg_temp.expect_errors(
  $$SELECT insight.schedule_retraining('ret_anomaly', '0 3 * * *')$$,
  $$SELECT insight.unschedule_retraining('ret_anomaly')$$,
  $$SELECT insight.schedule_retraining('ret_external')$$,
  $$SELECT insight.schedule_retraining('no_such_model')$$,
  $$SELECT insight.schedule_retraining('ret_anomaly', NULL)$$);

-- A cancel during retrain_all writes nothing: no version and no run of that call.
SELECT count(*) AS versions_before FROM insight.models \gset
SELECT count(*) AS runs_before FROM insight.training_runs \gset
SET statement_timeout = '1ms';
SELECT count(*) FROM insight.retrain_all();
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT (SELECT count(*) FROM insight.models) = :versions_before AS no_new_version,
       (SELECT count(*) FROM insight.training_runs) = :runs_before AS no_new_run;
RESET ROLE;

-- Privileges: analysts may not retrain, nor write runs.
SET ROLE ret_analyst;
CALL pg_temp.expect_errors(
  $$SELECT insight.retrain('ret_anomaly')$$,
  $$SELECT count(*) FROM insight.retrain_all()$$,
  $$SELECT insight._record_failed_run('ret_anomaly', now(), 'forged')$$,
  $$SELECT insight.retrain('ret_sales', promote => 'if_better')$$,
  $$SELECT insight._promote_if_better(insight.live_model_id('ret_sales'))$$,
  $$SELECT insight.schedule_retraining('ret_anomaly')$$);
RESET ROLE;

\c :regress_db
DROP DATABASE insight_retrain;
DROP ROLE ret_admin, ret_analyst;
