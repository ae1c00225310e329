-- pg_insight 0.2.0 → 0.3.0 — update script (ALTER EXTENSION pg_insight UPDATE).
-- A new installation of 0.3.0 runs the install script assembled from src/sql/; this file
-- brings a 0.2.0 installation to the same objects (sql/upgrade.sql checks it).
--
-- 0.3.0:
--   One training path: the train_* functions are SQL wrappers that pass their arguments as
--   jsonb options to insight._train(task, name, source, options, deploy); retrain replays a
--   version's stored params through it. insight._store_model takes the task and algorithm
--   from its callers instead of decoding the payload again; the model-name rule is one C
--   function (insight._check_model_name) for SQL and C++ alike.
--   The install script is built from per-area sources (src/sql/); the standard tables'
--   pg_dump registrations moved next to the tables (nothing changed).
\echo Use "ALTER EXTENSION pg_insight UPDATE TO '0.3.0'" to load this file. \quit

DROP FUNCTION insight._store_model(text, bytea, text[], text, jsonb, jsonb, bigint, bigint,
                                   float8, timestamptz, bool);

-- The model-name rule (1 to 63 of [A-Za-z0-9_.:-], not starting with . : or -): 22023
-- otherwise. The C++ training path checks the same rule before any work.
CREATE FUNCTION insight._check_model_name(name text) RETURNS void
  AS 'MODULE_PATHNAME', 'insight_check_model_name' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Writes one new version of a model and, if asked, deploys it; records the training run.
-- Every training (insight._train), register_model and import_model ends here; each hands
-- over the task and algorithm of a payload it built or validated.
CREATE FUNCTION insight._store_model(
    p_name text, p_task text, p_algorithm text, p_payload bytea, p_features text[],
    p_source text, p_params jsonb, p_metrics jsonb, p_rows_used bigint, p_rows_skipped bigint,
    p_training_ms float8, p_started_at timestamptz, p_deploy bool)
RETURNS insight.training_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v int;
  id bigint;
  r insight.training_result;
BEGIN
  PERFORM insight._check_model_name(p_name);
  -- The next version from the name's high-water mark; the row lock serialises writers.
  INSERT INTO insight.model_names AS n (name, last_version) VALUES (p_name, 1)
  ON CONFLICT (name) DO UPDATE SET last_version = n.last_version + 1, changed_at = clock_timestamp()
  RETURNING n.last_version INTO v;
  INSERT INTO insight.models (name, version, task, algorithm, features, source, params, metrics,
                              trained_rows, skipped_rows, training_ms, payload)
  VALUES (p_name, v, p_task, p_algorithm, p_features, p_source,
          coalesce(p_params, '{}'), coalesce(p_metrics, '{}'), p_rows_used, p_rows_skipped,
          p_training_ms, p_payload)
  RETURNING model_id INTO id;
  INSERT INTO insight.training_runs (name, started_at, finished_at, status, rows, message, model_id)
  VALUES (p_name, coalesce(p_started_at, clock_timestamp()), clock_timestamp(), 'succeeded',
          p_rows_used, format('version %s written', v), id);
  IF coalesce(p_deploy, true) THEN
    PERFORM insight._deploy_model_id(p_name, id, 'deploy');
  END IF;
  r := (p_name, v, id, p_task, p_algorithm, p_rows_used, p_rows_skipped,
        p_training_ms, coalesce(p_metrics, '{}'));
  RETURN r;
END
$$;

-- The one training path (src/pg/training.hpp): every train_* function and retrain call it
-- with the task's options as jsonb (the keys its options type reads, src/core/<area>/
-- options.hpp). Reads source with the caller's privileges, writes the catalog as its owner.
CREATE FUNCTION insight._train(task text, name text, source regclass, options jsonb,
    deploy bool DEFAULT true)
  RETURNS insight.training_result
  AS 'MODULE_PATHNAME', 'insight_train' LANGUAGE C VOLATILE;

-- The train_* functions become wrappers of insight._train (same signatures and defaults).
-- Reads source with the caller's privileges, writes the catalog as its owner.
CREATE OR REPLACE FUNCTION insight.train_anomaly_detector(name text, source regclass, features text[],
    contamination float8 DEFAULT 0.05, n_trees int DEFAULT 100, sample_size int DEFAULT 256,
    deploy bool DEFAULT true, seed int DEFAULT 42, standardize bool DEFAULT true)
RETURNS insight.training_result LANGUAGE sql VOLATILE
RETURN insight._train('anomaly', name, source,
  jsonb_build_object('features', features, 'contamination', contamination, 'n_trees', n_trees,
                     'sample_size', sample_size, 'seed', seed, 'standardize', standardize),
  deploy);

-------------------------------------------------------------------------------------------
-- Forecasting (src/core/forecast, src/pg/forecast.cpp)
-------------------------------------------------------------------------------------------
-- Reads source with the caller's privileges (daily sums of value_column per calendar day of
-- time_column, in the session's TimeZone; days without rows count as 0), writes the catalog
-- as its owner. With group_column, one series per group, all in one model version.
CREATE OR REPLACE FUNCTION insight.train_forecaster(name text, source regclass, time_column text,
    value_column text, group_column text DEFAULT NULL, algorithm text DEFAULT 'auto',
    horizon int DEFAULT 14, deploy bool DEFAULT true)
RETURNS insight.training_result LANGUAGE sql VOLATILE
RETURN insight._train('forecast', name, source,
  jsonb_build_object('time_column', time_column, 'value_column', value_column,
                     'group_column', group_column, 'algorithm', algorithm, 'horizon', horizon),
  deploy);

-------------------------------------------------------------------------------------------
-- Recommendations (src/core/recommend, src/pg/recommend.cpp)
-------------------------------------------------------------------------------------------
-- Reads source with the caller's privileges: per (user, item) pair the sum of weight_column,
-- or the number of rows without one; writes the catalog as its owner.
-- validate => true: the learner is also trained on four fifths of each user's items and
-- ranks the held-out fifth; models.metrics gets validation_ndcg_at_10 (and recall, the
-- popularity baseline's ndcg, the users scored). Training takes about twice as long.
CREATE OR REPLACE FUNCTION insight.train_recommender(name text, source regclass, user_column text,
    item_column text, weight_column text DEFAULT NULL, algorithm text DEFAULT 'als',
    factors int DEFAULT 64, deploy bool DEFAULT true, iterations int DEFAULT 15,
    regularization float8 DEFAULT 0.3, alpha float8 DEFAULT 1, neighbors int DEFAULT NULL,
    min_user_interactions int DEFAULT 1, min_item_interactions int DEFAULT 1, seed int DEFAULT 42,
    validate bool DEFAULT false)
RETURNS insight.training_result LANGUAGE sql VOLATILE
RETURN insight._train('recommend', name, source,
  jsonb_build_object('user_column', user_column, 'item_column', item_column,
                     'weight_column', weight_column, 'algorithm', algorithm, 'factors', factors,
                     'iterations', iterations, 'regularization', regularization, 'alpha', alpha,
                     'neighbors', neighbors, 'min_user_interactions', min_user_interactions,
                     'min_item_interactions', min_item_interactions, 'seed', seed,
                     'validate', validate),
  deploy);

-- Reads source (insight.incidents' columns scope, scope_id, started_at, ended_at, root_cause)
-- with the caller's privileges and telemetry around each incident; writes the catalog.
-- No JIT: the per-incident telemetry reads are cheap plans that JIT compiling only slows.
CREATE OR REPLACE FUNCTION insight.train_root_cause_classifier(name text DEFAULT 'root_cause',
    source regclass DEFAULT 'insight.incidents', deploy bool DEFAULT true)
RETURNS insight.training_result LANGUAGE sql VOLATILE SET jit = off
RETURN insight._train('root_cause', name, source, '{}', deploy);

-- Registers a model trained outside pg_insight as an opaque, versioned artifact
-- (algorithm 'external'): deployable, exportable, auditable; pg_insight cannot score it.
CREATE OR REPLACE FUNCTION insight.register_model(name text, task text, body bytea,
    metadata jsonb DEFAULT '{}', features text[] DEFAULT NULL, source text DEFAULT NULL,
    deploy bool DEFAULT true)
RETURNS insight.training_result
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  -- features travel inside the payload too, so export_model → import_model keeps them.
  SELECT insight._store_model(name, p.info->>'task', p.info->>'algorithm', p.payload, features,
                              source, '{}'::jsonb, '{}'::jsonb, NULL, NULL, NULL, NULL, deploy)
    FROM (SELECT e.payload, insight.payload_info(e.payload) AS info
            FROM (SELECT insight._external_payload(task,
                    CASE WHEN features IS NULL THEN metadata
                         ELSE coalesce(metadata, '{}') || jsonb_build_object('features', to_jsonb(features)) END,
                    body) AS payload) e) p;
$$;

-- Stores an exported payload as a new version of `name` (validated: XX001 when corrupt);
-- task, algorithm, features and numeric metrics come from the payload's metadata.
CREATE OR REPLACE FUNCTION insight.import_model(name text, payload bytea, deploy bool DEFAULT true)
RETURNS insight.training_result
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT insight._store_model(
      name, i.info->>'task', i.info->>'algorithm', payload,
      (SELECT array_agg(f ORDER BY o)
         FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(i.info->'metadata'->'features') = 'array'
                                             THEN i.info->'metadata'->'features' END)
              WITH ORDINALITY AS t(f, o)),
      'import', '{}'::jsonb,
      CASE WHEN jsonb_typeof(i.info->'metadata'->'metrics') = 'object' THEN i.info->'metadata'->'metrics' END,
      NULL, NULL, NULL, NULL, deploy)
    FROM (SELECT insight.payload_info(payload) AS info) i;
$$;

-- Trains a new version of name with the live version's training source and options, as the
-- caller (who needs SELECT on the source). promote => 'always' deploys it; 'if_better'
-- deploys it only if its validation metric is not worse than the live version's
-- (insight._promote_if_better). Models registered or imported as opaque artifacts
-- (algorithm 'external') have nothing to re-run: 22023.
CREATE OR REPLACE FUNCTION insight.retrain(name text, promote text DEFAULT 'always')
RETURNS insight.training_result
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  m record;
  p jsonb;
  src regclass;
  dep bool;
  r insight.training_result;
BEGIN
  SELECT * INTO m FROM insight._live_training(name, 're-run');
  PERFORM insight._check_promote(promote, name, m.task);
  dep := promote = 'always';
  src := m.source::regclass;  -- 42P01 when the source relation is gone
  p := m.params;
  -- Versions trained before 0.3.0 kept an anomaly detector's features in models.features only.
  IF m.task = 'anomaly' AND NOT p ? 'features' THEN
    p := p || jsonb_build_object('features', m.features);
  END IF;
  -- Recommenders are compared by their held-out metric, which validate => true measures.
  IF m.task = 'recommend' AND promote = 'if_better' THEN
    p := p || '{"validate": true}';
  END IF;
  r := insight._train(m.task, name, src, p, dep);
  IF NOT dep THEN
    PERFORM insight._promote_if_better(r.model_id);
  END IF;
  RETURN r;
END
$$;

REVOKE EXECUTE ON FUNCTION insight._check_model_name(text), insight._train(text, text, regclass, jsonb, bool),
    insight._store_model(text, text, text, bytea, text[], text, jsonb, jsonb, bigint, bigint,
                         float8, timestamptz, bool)
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION insight._check_model_name(text) TO insight_analyst, insight_admin;
GRANT EXECUTE ON FUNCTION insight._train(text, text, regclass, jsonb, bool) TO insight_admin;
