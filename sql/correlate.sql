-- Root-cause correlation: the four correlate_* functions on the demo's injected incidents,
-- with and without the classifier, train_root_cause_classifier, correlation_report,
-- recommend_actions, fault-free windows, privileges, cancel, and every bad input of the issue
-- with its SQLSTATE. Severities and confidences are checked as properties, not exact values.
\set SHOW_CONTEXT never
\i sql/include/expect_errors.psql
SET TimeZone = 'UTC';
SELECT insight.load_demo_data(days => 10, seed => 5, end_time => '2026-04-01 00:00+00', replace => true) IS NOT NULL AS loaded;
CREATE ROLE cor_admin NOLOGIN IN ROLE insight_admin;
CREATE ROLE cor_analyst NOLOGIN IN ROLE insight_analyst;
CREATE ROLE cor_nobody NOLOGIN;
GRANT USAGE ON SCHEMA insight TO cor_nobody;
GRANT SELECT ON insight.links, insight.hub_antennas, insight.networks, insight.satellites
   TO cor_nobody;  -- the topology, but not link_metrics
GRANT EXECUTE ON FUNCTION insight._correlate(text, text, int, timestamptz, text),
   insight.correlate_network(text, int, timestamptz, text) TO cor_nobody;
SELECT count(*) AS incidents, count(DISTINCT root_cause) AS causes FROM insight.incidents;
-- No classifier yet (train_default_models in an earlier test may have trained one).
SELECT count(*) >= 0 AS cleared
  FROM (SELECT insight.drop_model(n.name) FROM (SELECT DISTINCT name FROM insight.models
                                                 WHERE name = 'root_cause') n) d;

-- Before any classifier is trained the detectors answer alone; the confidence says so.
SET ROLE cor_analyst;
SELECT i.root_cause, f.pattern_type, f.confidence > 0 AND f.confidence <= 0.75 AS capped,
       f.evidence->'classifier'->>'model' IS NULL AS no_model,
       f.evidence->'classifier'->>'note' LIKE 'no root-cause classifier is trained%' AS says_so
  FROM insight.incidents i,
       LATERAL insight._correlate(i.scope, i.scope_id, 24, '2026-04-01 00:00+00', 'root_cause') f
 WHERE i.started_at >= '2026-03-31 00:00+00'
   AND (f.evidence->>'started_at')::timestamptz < i.ended_at
   AND (f.evidence->>'ended_at')::timestamptz > i.started_at
   AND f.affected && (SELECT array_agg(l.link_id) FROM insight.links l
                       WHERE i.scope_id IN (l.link_id, l.hub_antenna_id, l.satellite_name, l.network_id))
 ORDER BY i.started_at;
RESET ROLE;

-- Training: every incident found in its own scope and in the scopes around it.
SET ROLE cor_admin;
SELECT name, version > 0 AS versioned, task, algorithm, rows_used, rows_skipped,
       (metrics->>'incidents')::int AS incidents,
       (metrics->>'incidents_found_in_own_scope')::int AS found_in_own_scope,
       (metrics->>'training_accuracy')::float8 >= 0.95 AS fits,
       (metrics->>'cv_folds')::int AS cv_folds,
       (metrics->>'cv_accuracy')::float8 BETWEEN 0 AND 1 AS validated,
       metrics->'class_counts' ? 'none' AS has_none_class
  FROM insight.train_root_cause_classifier();
SELECT m.features[1:3] AS first_features, cardinality(m.features) AS n_features, m.source
  FROM insight.models m WHERE m.name = 'root_cause';
-- The same incidents and telemetry give the same model, byte for byte.
SELECT max(version) AS first_version FROM insight.models WHERE name = 'root_cause' \gset
SELECT version = :first_version + 1 AS next_version FROM insight.train_root_cause_classifier(deploy => false);
SELECT md5(insight.export_model('root_cause', :first_version)) =
       md5(insight.export_model('root_cause', :first_version + 1)) AS deterministic;
-- Retrained with promote => 'if_better' on the same data: the same cross-validated accuracy
-- is not worse, so the new version goes live.
SET client_min_messages = warning;
SELECT version = :first_version + 2 AS next_version FROM insight.retrain('root_cause', promote => 'if_better');
RESET client_min_messages;
SELECT r.promoted, r.message LIKE '%promoted: cv_accuracy % against % of live version % (higher is better)' AS says_why,
       m.version = :first_version + 2 AS live
  FROM insight.training_runs r, insight.models m
 WHERE r.model_id = (SELECT max(model_id) FROM insight.models WHERE name = 'root_cause')
   AND m.model_id = insight.live_model_id('root_cause');
RESET ROLE;

-- The last day's four incidents through the function of their scope, with the classifier.
SET ROLE cor_analyst;
SELECT pattern_type, severity > 0 AND severity <= 1 AS severity_ok, confidence > 0.75 AND confidence <= 1 AS confident,
       root_cause LIKE 'Network equipment failure in net-%' AS says_why, cardinality(affected) > 10 AS many_links,
       cardinality(recommendations) AS actions, evidence->'classifier'->>'model' AS model,
       evidence->'entity'->>'type' AS entity
  FROM insight.correlate_network((SELECT scope_id FROM insight.incidents WHERE started_at >= '2026-03-31'
                                    AND root_cause = 'equipment_failure'), 24, '2026-04-01 00:00+00')
 WHERE pattern_type = 'equipment_failure';
SELECT pattern_type, severity > 0 AND severity <= 1 AS severity_ok, confidence > 0.75 AS confident,
       affected = (SELECT array_agg(link_id ORDER BY link_id) FROM insight.links
                    WHERE hub_antenna_id = evidence->'entity'->>'id') AS all_antenna_links,
       (evidence->'features'->>'oscillations_per_hour')::float8 > 1 AS oscillating
  FROM insight.correlate_hub_antenna((SELECT scope_id FROM insight.incidents WHERE started_at >= '2026-03-31'
                                        AND root_cause = 'antenna_alignment'), until => '2026-04-01 00:00+00')
 ORDER BY pattern_type;
SELECT pattern_type, confidence > 0.75 AS confident, (evidence->'features'->>'antennas')::float8 > 1 AS across_antennas,
       (evidence->'features'->>'hubs')::float8 > 1 AS across_hubs,
       evidence->'entity'->>'id' = (SELECT scope_id FROM insight.incidents WHERE started_at >= '2026-03-31'
                                      AND root_cause = 'satellite_interference') AS right_satellite
  FROM insight.correlate_satellite((SELECT scope_id FROM insight.incidents WHERE started_at >= '2026-03-31'
                                      AND root_cause = 'satellite_interference'), 24, '2026-04-01 00:00+00')
 WHERE (evidence->>'started_at')::timestamptz >= '2026-03-31';
SELECT pattern_type, affected = ARRAY[(SELECT scope_id FROM insight.incidents WHERE started_at >= '2026-03-31'
                                         AND root_cause = 'antenna_misalignment')] AS the_link,
       (evidence->'features'->>'both_directions_fraction')::float8 > 0.9 AS both_directions,
       (evidence->'features'->>'antenna_peer_share')::float8 = 0 AS peers_fine,
       recommendations[1] LIKE 'Dispatch a technician to re-point%' AS first_action
  FROM insight.correlate_link_bidirectional((SELECT scope_id FROM insight.incidents WHERE started_at >= '2026-03-31'
                                               AND root_cause = 'antenna_misalignment'), 24, '2026-04-01 00:00+00');

-- Every incident of the 10 days, through its own scope, with a window around it.
SELECT count(*) AS incidents, count(*) FILTER (WHERE right_cause) AS right_cause
  FROM (SELECT i.incident_id,
               bool_or(f.pattern_type = i.root_cause) AS right_cause
          FROM insight.incidents i
          LEFT JOIN LATERAL insight._correlate(i.scope, i.scope_id,
                 ceil(extract(epoch FROM i.ended_at - i.started_at) / 3600)::int + 12,
                 i.ended_at + interval '6 hours', 'root_cause') f
            ON (f.evidence->>'started_at')::timestamptz < i.ended_at
           AND (f.evidence->>'ended_at')::timestamptz > i.started_at
         GROUP BY i.incident_id) r;

-- Fault-free windows: 12 hours of a network with no injected fault on its links or itself
-- (metric spikes included) within an hour give no finding.
SELECT count(*) >= 5 AS windows_checked, sum(n) AS findings
  FROM (SELECT w.net, w.t0,
               (SELECT count(*) FROM insight.correlate_network(w.net, 12, w.t0 + interval '12 hours')) AS n
          FROM (SELECT n.network_id AS net, t0
                  FROM insight.networks n,
                       generate_series(timestamptz '2026-03-22 00:00+00', '2026-03-31 12:00+00', '12 hours') t0) w
         WHERE NOT EXISTS (
                 SELECT FROM insight.demo_ground_truth g
                  WHERE g.scope <> 'site' AND g.scope <> 'category'
                    AND g.started_at < w.t0 + interval '13 hours' AND g.ended_at > w.t0 - interval '1 hour'
                    AND (g.scope_id = w.net OR g.affected_links && (SELECT array_agg(link_id) FROM insight.links
                                                                      WHERE network_id = w.net)))) c;

-- The five-minute rollup (load_demo_data refreshed it): wide scopes of dense telemetry read
-- it instead of the raw rows, and find the same patterns.
SELECT count(*) = (SELECT count(*) FROM insight.link_metrics) AS one_bucket_per_sample,
       bool_and(samples = 1) AS five_minute_samples
  FROM insight.link_metrics_5m;
SELECT refreshed_until = (SELECT max(ts) FROM insight.link_metrics) AS covers_all FROM insight.rollup_state;
SELECT array_agg(pattern_type ORDER BY pattern_type) AS raw_patterns,
       bool_and(evidence->'telemetry'->>'scope' = 'raw') AS read_raw
  FROM insight.correlate_network('net-01', 24, '2026-04-01 00:00+00');
SET insight.correlate_raw_rows = 0;
SELECT array_agg(pattern_type ORDER BY pattern_type) AS rollup_patterns,
       bool_and(evidence->'telemetry'->>'scope' = '5-minute rollup') AS read_rollup
  FROM insight.correlate_network('net-01', 24, '2026-04-01 00:00+00');
-- Buckets after the rollup's end are read from the raw rows as five-minute means.
SELECT array_agg(pattern_type ORDER BY pattern_type) AS rollup_and_raw_patterns,
       sum((evidence->'telemetry'->>'rows_read')::int) / count(*) AS rows_read
  FROM insight.correlate_network('net-01', 48, '2026-04-02 00:00+00');
RESET insight.correlate_raw_rows;
-- A narrow scope's peers come from the rollup.
SELECT DISTINCT evidence->'telemetry'->>'scope' AS scope, evidence->'telemetry'->>'context' AS context
  FROM insight.correlate_hub_antenna((SELECT scope_id FROM insight.incidents WHERE started_at >= '2026-03-31'
                                        AND root_cause = 'antenna_alignment'), 24, '2026-04-01 00:00+00');
RESET ROLE;
SET ROLE cor_admin;
SELECT insight.refresh_link_rollup() AS buckets_recomputed;
SELECT insight.refresh_link_rollup(since => '2026-03-31 23:00+00') AS buckets_since;
RESET ROLE;
SET ROLE cor_analyst;
CALL pg_temp.expect_errors(
  $$SELECT insight.refresh_link_rollup()$$);

-- The detectors alone (classifier => NULL) still find the misalignment.
SELECT pattern_type, confidence <= 0.75 AS capped
  FROM insight.correlate_link_bidirectional((SELECT scope_id FROM insight.incidents WHERE started_at >= '2026-03-31'
                                               AND root_cause = 'antenna_misalignment'), 24, '2026-04-01 00:00+00', NULL);

-- correlation_report: the JSON shape of API.md.
SELECT r->>'status' AS status, r->'analysis'->>'scope' AS scope,
       (r->'analysis'->>'analysis_id')::uuid IS NOT NULL AS has_id,
       jsonb_array_length(r->'analysis'->'patterns_found') =
         (SELECT count(*) FROM insight.correlate_network('net-01', 24, '2026-04-01 00:00+00')) AS all_patterns,
       (SELECT bool_and(p ?& ARRAY['pattern_type', 'severity', 'confidence', 'root_cause'])
          FROM jsonb_array_elements(r->'analysis'->'patterns_found') p) AS pattern_keys,
       (r->'analysis'->>'correlation_score')::float8 BETWEEN 0 AND 1 AS score_ok,
       jsonb_array_length(r->'analysis'->'recommendations') > 0 AS has_recommendations,
       r->'analysis'->>'classifier' AS classifier
  FROM insight.correlation_report('network', 'net-01', 24, '2026-04-01 00:00+00') r;
SELECT (insight.correlation_report('network', 'net-01', 24, '2026-04-01 00:00+00')->'analysis'->>'analysis_id') <>
       (insight.correlation_report('network', 'net-01', 24, '2026-04-01 00:00+00')->'analysis'->>'analysis_id') AS new_id_each_time;
SELECT r->'analysis'->'patterns_found' AS patterns, r->'analysis'->'correlation_score' AS score
  FROM insight.correlation_report('link', 'lk-01-001', 1, '2026-03-25 03:00+00') r;

-- recommend_actions: prioritised, ranked, pattern-specific; a quiet entity needs nothing.
SELECT priority, action LIKE 'Dispatch a technician%' AS dispatch, rationale LIKE 'Remote antenna of link%' AS why,
       rank_score > 0.3 AS ranked_high
  FROM insight.recommend_actions('link', (SELECT scope_id FROM insight.incidents WHERE started_at >= '2026-03-31'
                                            AND root_cause = 'antenna_misalignment'), '24 hours', '2026-04-01 00:00+00')
 LIMIT 1;
SELECT bool_and(rank_score <= prev) AS best_first, bool_and(priority IN ('high', 'medium', 'low')) AS priorities
  FROM (SELECT rank_score, priority, lag(rank_score) OVER (ORDER BY ord) AS prev
          FROM insight.recommend_actions('satellite', (SELECT scope_id FROM insight.incidents WHERE started_at >= '2026-03-31'
                                                         AND root_cause = 'satellite_interference'),
                                         '24 hours', '2026-04-01 00:00+00') WITH ORDINALITY t(priority, action, rationale, rank_score, ord)) s
 WHERE prev IS NOT NULL;
SELECT * FROM insight.recommend_actions('hub_antenna', 'ant-01-a-1', '1 hour', '2026-03-25 03:00+00');
SELECT * FROM insight.recommend_actions('site', 'hub-01-a', '1 hour', '2026-03-25 03:00+00');

-- Bad input, each with its SQLSTATE.
CALL pg_temp.expect_errors(
  $$SELECT count(*) FROM insight.correlate_hub_antenna('ant-none')$$,
  $$SELECT count(*) FROM insight.correlate_network('net-none')$$,
  $$SELECT count(*) FROM insight.correlate_satellite('SAT-NONE')$$,
  $$SELECT count(*) FROM insight.correlate_link_bidirectional('lk-none')$$,
  $$SELECT count(*) FROM insight.correlate_network('net-01', 0)$$,
  $$SELECT count(*) FROM insight.correlate_network('net-01', 721)$$,
  $$SELECT count(*) FROM insight.correlate_network(NULL)$$,
  $$SELECT count(*) FROM insight.correlate_network('net-01', NULL)$$,
  $$SELECT insight.correlation_report('galaxy', 'x')$$,
  $$SELECT count(*) FROM insight.recommend_actions('galaxy', 'x')$$,
  $$SELECT count(*) FROM insight.recommend_actions('site', 'site-none')$$,
  $$SELECT count(*) FROM insight.recommend_actions('link', 'lk-01-001', '10 minutes')$$);
-- A window with no telemetry: an empty result and a NOTICE, not an error.
SELECT count(*) FROM insight.correlate_network('net-01', 24, '2020-01-01 00:00+00');
SELECT count(*) FROM insight.correlate_link_bidirectional('lk-01-001', 720, '2020-01-01 00:00+00');
RESET ROLE;
-- An entity that exists with no links: an empty result and a NOTICE.
INSERT INTO insight.hub_antennas VALUES ('ant-spare', 'hub-01-a', 'SAT-ALPHA');
SELECT count(*) FROM insight.correlate_hub_antenna('ant-spare', 24, '2026-04-01 00:00+00');
DELETE FROM insight.hub_antennas WHERE antenna_id = 'ant-spare';

-- A classifier name that is no deployed model: 42704 (the default name 'root_cause' before one
-- is trained means the detectors alone).
CALL pg_temp.expect_errors(
  $$SELECT count(*) FROM insight.correlate_network('net-01', 24, '2026-04-01 00:00+00', 'nope')$$);
-- Another kind of model as the classifier: 22023. A corrupt payload is refused on import.
SET ROLE cor_admin;
CREATE TEMP TABLE tiny AS SELECT g::float8 AS x FROM generate_series(1, 300) g;
SELECT insight.train_anomaly_detector('not_a_classifier', 'tiny', ARRAY['x']) IS NOT NULL AS trained;
SELECT count(*) FROM insight.correlate_network('net-01', 24, '2026-04-01 00:00+00', 'not_a_classifier');
\echo :LAST_ERROR_SQLSTATE
CALL pg_temp.expect_errors(
  $$SELECT insight.import_model('corrupt_rc', overlay(insight.export_model('root_cause') placing '\x00'::bytea from 300 for 1))$$);
-- Too few labelled incidents: 22023 with the counts; unreadable or odd sources.
CREATE TEMP TABLE one_incident AS SELECT * FROM insight.incidents ORDER BY incident_id LIMIT 1;
CALL pg_temp.expect_errors(
  $$SELECT insight.train_root_cause_classifier('few', 'one_incident')$$);
CREATE TEMP TABLE no_cause AS SELECT scope, scope_id, started_at, ended_at FROM insight.incidents;
CALL pg_temp.expect_errors(
  $$SELECT insight.train_root_cause_classifier('bad', 'no_cause')$$,
  $$SELECT insight.train_root_cause_classifier('bad name!')$$);
RESET ROLE;

-- Cancel: statement_timeout during training leaves the catalog untouched.
SET ROLE cor_admin;
\set calibration 'SELECT (insight.train_root_cause_classifier(''calibration'')).version IS NOT NULL AS calibrated'
\set training 'SELECT insight.train_root_cause_classifier(''too_slow'')'
\set name too_slow
\i sql/include/cancelled_training.psql
RESET ROLE;

-- Privileges: analysts correlate but do not train; telemetry is read with the caller's rights.
SET ROLE cor_analyst;
CALL pg_temp.expect_errors(
  $$SELECT insight.train_root_cause_classifier('by_analyst')$$);
RESET ROLE;
SET ROLE cor_nobody;
SELECT count(*) FROM insight.correlate_network('net-01', 24, '2026-04-01 00:00+00', NULL);
\echo :LAST_ERROR_SQLSTATE
CALL pg_temp.expect_errors(
  $$SELECT count(*) FROM insight.correlation_report('network', 'net-01')$$);
RESET ROLE;
CREATE TABLE secret_incidents AS SELECT * FROM insight.incidents;
SET ROLE cor_admin;
CALL pg_temp.expect_errors(
  $$SELECT insight.train_root_cause_classifier('no_read', 'secret_incidents')$$);
RESET ROLE;
DROP TABLE secret_incidents;

DROP OWNED BY cor_admin, cor_analyst, cor_nobody;
DROP ROLE cor_admin, cor_analyst, cor_nobody;
