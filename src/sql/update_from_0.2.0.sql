-- pg_insight 0.2.0 → 0.3.0 — the hand-written part of the update script
-- (ALTER EXTENSION pg_insight UPDATE). The Makefile appends the current version's code files
-- (SQL_CODE: every function, aggregate, view and grant, all CREATE OR REPLACE) and its
-- privileges file, so functions are never restated here; this part only changes what
-- replaying them cannot: it drops the functions whose arguments or results changed and
-- creates the new types and tables. sql/upgrade.sql checks that 0.1.0 → 0.2.0 → 0.3.0 ends
-- in the same objects as a new installation.
--
-- 0.3.0:
--   One training path: the train_* functions are SQL wrappers that pass their arguments as
--   jsonb options to insight._train(task, name, source, options, deploy); retrain replays a
--   version's stored params through it. insight._store_model takes the task and algorithm
--   from its callers instead of decoding the payload again; the model-name rule is one C
--   function (insight._check_model_name) for SQL and C++ alike.
--   The demo generator is one function, _demo_rows(NULL::insight.<table>, ...), instead of
--   one per table; the correlate_* functions return one composite type.
--   The install script is built from per-area sources (src/sql/).
--   Detection reads the link and site baselines once, with statistics on the hour of day; the
--   detectors' features have peak_dev, the largest absolute deviation of an entity's metrics.
--   The admin functions users call check their caller (insight._require_admin) and are
--   executable by insight_analyst too, so that an analyst learns which GRANT is missing; the
--   SECURITY DEFINER ones are entries in front of their bodies (insight._deploy, ...).
--   Live operations (API.md section 7): watch, unwatch, insight.alerts and their events,
--   acknowledge_alert, resolve_alert; their tables are src/sql/watch_tables.sql, which the
--   Makefile runs after this part (UPDATE_STATE_0.2.0). The detectors' feature functions read
--   either a window or a watch run's keys: new signatures, dropped below.
\echo Use "ALTER EXTENSION pg_insight UPDATE TO '0.3.0'" to load this file. \quit

-- _store_model takes the task and algorithm as arguments now.
DROP FUNCTION insight._store_model(text, bytea, text[], text, jsonb, jsonb, bigint, bigint,
                                   float8, timestamptz, bool);

-- One demo generator, _demo_rows, instead of one function per table.
DROP FUNCTION insight._demo_products(int, bigint, timestamptz, int, int),
  insight._demo_transactions(int, bigint, timestamptz, int, int), insight._demo_networks(int,
  bigint, timestamptz, int, int), insight._demo_satellites(int, bigint, timestamptz, int, int),
  insight._demo_sites(int, bigint, timestamptz, int, int), insight._demo_hub_antennas(int,
  bigint, timestamptz, int, int), insight._demo_links(int, bigint, timestamptz, int, int),
  insight._demo_link_metrics(int, bigint, timestamptz, int, int), insight._demo_site_metrics(
  int, bigint, timestamptz, int, int), insight._demo_network_metrics(int, bigint, timestamptz,
  int, int), insight._demo_ground_truth(int, bigint, timestamptz, int, int);

-- The correlate_* functions return insight.correlation_finding (types.sql) instead of five
-- copies of its columns.
DROP FUNCTION insight.correlate_hub_antenna(text, int, timestamptz, text),
    insight.correlate_network(text, int, timestamptz, text),
    insight.correlate_satellite(text, int, timestamptz, text),
    insight.correlate_link_bidirectional(text, int, timestamptz, text),
    insight._correlate(text, text, int, timestamptz, text);
CREATE TYPE insight.correlation_finding AS (pattern_type text, severity float8,
    confidence float8, root_cause text, affected text[], recommendations text[], evidence jsonb);

-- The detectors' feature functions return peak_dev (and errors_dev for links) and take a
-- watch run's keys: their result and arguments changed, so they and the training views over
-- them are made again.
DROP VIEW insight.link_anomaly_features, insight.site_anomaly_features, insight.network_anomaly_features;
DROP FUNCTION insight._link_features(timestamptz, timestamptz, timestamptz, text),
  insight._site_features(timestamptz, timestamptz, timestamptz, text),
  insight._network_features(timestamptz, timestamptz, timestamptz, text);

-- _detect reports what it scored unless told not to (a new argument, p_report).
DROP FUNCTION insight._detect(text, text, text, interval, timestamptz, interval, bool, bool);

-- Statistics on the hour of day of link telemetry, which the link detector's baseline groups
-- by (tables.sql); the next ANALYZE fills them.
CREATE STATISTICS insight.link_metrics_hour_of_day ON (date_part('hour', ts AT TIME ZONE interval '0'))
  FROM insight.link_metrics;

-- train_forecaster and evaluate_forecaster take a frequency, regressors and holidays, forecast
-- a regressors_source (API.md section 6): new signatures.
DROP FUNCTION insight.train_forecaster(text, regclass, text, text, text, text, int, bool),
  insight.evaluate_forecaster(regclass, text, text, text, text, int, int, float8),
  insight.forecast(text, int, text, float8);

-- The admin functions are granted to insight_analyst too (each checks its caller): their
-- grants are made again, in the order a new installation makes them (the entries in front of
-- the SECURITY DEFINER bodies do that themselves, insight._admin_entry).
REVOKE EXECUTE ON FUNCTION
    insight.train_anomaly_detector(text, regclass, text[], float8, int, int, bool, int, bool),
    insight.train_recommender(text, regclass, text, text, text, text, int, bool, int, float8,
                              float8, int, int, int, int, bool),
    insight.train_root_cause_classifier(text, regclass, bool), insight.refresh_link_rollup(timestamptz),
    insight.train_default_models(), insight.retrain(text, text), insight.retrain_all(text),
    insight.schedule_retraining(text, text, text), insight.unschedule_retraining(text)
  FROM insight_admin;

-- Model monitoring: schedule_retraining takes "when" (a new signature), and a decision not to
-- retrain is a run too ('skipped'), with the figures it was made on (evidence).
DROP FUNCTION insight.schedule_retraining(text, text, text);
ALTER TABLE insight.training_runs ADD COLUMN evidence jsonb,
  DROP CONSTRAINT training_runs_status_check,
  ADD CONSTRAINT training_runs_status_check
    CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'skipped'));
