-- Upgrades: version 0.1.0 installed, models of each kind trained and scored,
-- ALTER EXTENSION pg_insight UPDATE, and the old models score exactly as before; the update
-- and a new installation end in the same objects. In databases of their own.
\set SHOW_CONTEXT never
\set regress_db :DBNAME
CREATE DATABASE insight_upgrade_new;
\c insight_upgrade_new
SET client_min_messages = warning;
CREATE EXTENSION pg_insight;
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'pg_insight';
\i sql/include/members.psql
\set new_md5 :members_md5
\c :regress_db
DROP DATABASE insight_upgrade_new;

CREATE DATABASE insight_upgrade;
\c insight_upgrade
SET client_min_messages = warning;
CREATE EXTENSION pg_insight VERSION '0.1.0';
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'pg_insight';
-- The 0.1.0 install script is built from today's sources and the way back to 0.1.0
-- (src/sql/back_to_0.1.0.sql): it creates exactly the objects of the released script, whose
-- digest (PostgreSQL 15's rendering of them) is recorded here.
\i sql/include/members.psql
SELECT :'members_md5' = '89b3e71441bbe205938153fe31f2333c' AS objects_of_released_0_1_0;
SET TimeZone = 'UTC';
\i sql/include/small_sources.psql
CREATE TABLE purchases AS
SELECT 'u' || u AS customer, 'i' || ((u * 7 + k * 13) % 60) AS item
  FROM generate_series(1, 300) u, generate_series(1, 6) k;
SELECT name, version, task FROM insight.train_anomaly_detector('up_anomaly', 'points', ARRAY['x', 'y']);
SELECT name, version, task FROM insight.train_forecaster('up_sales', 'sales', 'sold_at', 'amount', horizon => 7);
SELECT name, version, task FROM insight.train_recommender('up_rec', 'purchases', 'customer', 'item', factors => 8);
SELECT name, version, task FROM insight.train_recommender('up_knn', 'purchases', 'customer', 'item', algorithm => 'item_knn');
CREATE TABLE fitted AS
SELECT x::int % 4 AS g, insight.isolation_forest_fit(ARRAY[x, y], 50, 64, 7) AS model
  FROM points GROUP BY 1;
-- Every score the old models give, as one text per kind.
\set scores 'SELECT ''anomaly'' AS what, string_agg(insight.anomaly_score(''up_anomaly'', ARRAY[x, y])::text || insight.is_anomaly(''up_anomaly'', ARRAY[x, y])::text, '','' ORDER BY x) AS v FROM points UNION ALL SELECT ''aggregate'', string_agg(insight.anomaly_score(f.model, ARRAY[p.x, p.y])::text, '','' ORDER BY f.g, p.x) FROM fitted f, points p UNION ALL SELECT ''forecast'', string_agg(forecast_time || '' '' || forecast_value || '' '' || lower_bound || '' '' || upper_bound, '','' ORDER BY forecast_time) FROM insight.forecast(''up_sales'', 7) UNION ALL SELECT ''recommend'', string_agg(r.item_id || '':'' || r.score, '','' ORDER BY u, r.score DESC, r.item_id) FROM generate_series(1, 20) u, insight.recommend(''up_rec'', ''u'' || u, 5) r UNION ALL SELECT ''similar'', string_agg(s.item_id || '':'' || s.score, '','' ORDER BY s.score DESC, s.item_id) FROM insight.similar_items(''up_knn'', ''i1'', 5) s'
CREATE TABLE scores_before AS :scores;
-- The evaluations of 0.1.0 (C functions reading their arguments by position) and of the
-- current version (SQL wrappers of insight._evaluate) give the same figures.
\set evaluations 'SELECT ''forecast'' AS what, string_agg(algorithm || '' '' || metric || '' '' || value, '','' ORDER BY algorithm, metric) AS v FROM insight.evaluate_forecaster(''sales'', ''sold_at'', ''amount'', horizon => 7, folds => 2, confidence => 0.8) UNION ALL SELECT ''recommend'', string_agg(algorithm || '' '' || metric || '' '' || value, '','' ORDER BY algorithm, metric) FROM insight.evaluate_recommender(''purchases'', ''customer'', ''item'', ''bought_at'', k => 5, factors => 8, cutoff => ''2026-01-20 00:00+00'')'
ALTER TABLE purchases ADD COLUMN bought_at timestamptz;
UPDATE purchases SET bought_at = timestamptz '2026-01-01 00:00+00' + (abs(hashtext(customer || item)) % 30) * interval '1 day';
CREATE TABLE evaluations_before AS :evaluations;
SELECT what, length(v) > 0 AS evaluated FROM evaluations_before ORDER BY what;
SELECT what, length(v) > 0 AS scored FROM scores_before ORDER BY what;
-- 0.1.0 has no promote policy.
SELECT insight.retrain('up_sales', promote => 'if_better');
\echo :LAST_ERROR_SQLSTATE

ALTER EXTENSION pg_insight UPDATE;
SELECT extversion, extversion = insight.version() AS library_matches FROM pg_extension WHERE extname = 'pg_insight';
-- The old models score exactly as before.
SELECT b.what, a.v = b.v AS same_scores FROM scores_before b JOIN (:scores) a USING (what) ORDER BY b.what;
SELECT b.what, a.v = b.v AS same_evaluation FROM evaluations_before b JOIN (:evaluations) a USING (what) ORDER BY b.what;
SELECT count(*) AS models, count(DISTINCT name) AS names FROM insight.models;
SELECT count(*) AS runs, count(promoted) AS with_policy FROM insight.training_runs;
-- The same objects as a new installation.
\i sql/include/members.psql
SELECT :'members_md5' = :'new_md5' AS same_objects_as_new_installation;
-- The old versions retrain under the new policy: the same data give the same mase, so the
-- new version is not worse and goes live.
SET client_min_messages = warning;
SELECT name, version FROM insight.retrain('up_sales', promote => 'if_better');
RESET client_min_messages;
SELECT r.promoted, m.version AS live_version
  FROM insight.training_runs r, insight.models m
 WHERE r.run_id = (SELECT max(run_id) FROM insight.training_runs)
   AND m.model_id = insight.live_model_id('up_sales');
-- Versions of 0.1.0 retrain through 0.3.0's one training path: their stored params are the
-- options (an anomaly detector's features come from models.features), and the new version
-- is trained exactly as the old one was: the same scores.
SELECT name, version FROM insight.retrain('up_anomaly');
SELECT name, version FROM insight.retrain('up_rec');
SELECT o.params || jsonb_build_object('features', o.features) = n.params AS same_options,
       o.payload = n.payload AS same_payload
  FROM insight.models o, insight.models n
 WHERE o.name = 'up_anomaly' AND o.version = 1 AND n.name = 'up_anomaly' AND n.version = 2;
SELECT o.params - 'validate' = n.params - 'validate' AS same_options
  FROM insight.models o, insight.models n
 WHERE o.name = 'up_rec' AND o.version = 1 AND n.name = 'up_rec' AND n.version = 2;
-- The retrained versions are live now and answer as the 0.1.0 versions did.
SELECT b.what, a.v = b.v AS same_scores FROM scores_before b JOIN (:scores) a USING (what) ORDER BY b.what;

\c :regress_db
DROP DATABASE insight_upgrade;
