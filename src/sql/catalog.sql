-------------------------------------------------------------------------------------------
-- 2. Model catalog
-------------------------------------------------------------------------------------------
-- The role acting on the catalog: current_user outside any SECURITY DEFINER function, so
-- SET ROLE is honoured. Recorded as trained_by / deployed_by.
CREATE FUNCTION insight._acting_role() RETURNS name
  AS 'MODULE_PATHNAME', 'insight_acting_role' LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE SEQUENCE insight.models_model_id_seq;
CREATE TABLE insight.models (
  model_id     bigint PRIMARY KEY DEFAULT nextval('insight.models_model_id_seq'),
  name         text NOT NULL CHECK (name ~ '^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,62}$'),
  version      int NOT NULL CHECK (version >= 1),
  task         text NOT NULL CHECK (task IN ('anomaly', 'forecast', 'recommend', 'root_cause')),
  algorithm    text NOT NULL,
  features     text[],
  source       text,
  params       jsonb NOT NULL DEFAULT '{}',
  metrics      jsonb NOT NULL DEFAULT '{}',
  trained_rows bigint,
  skipped_rows bigint,
  training_ms  float8,
  trained_at   timestamptz NOT NULL DEFAULT now(),
  trained_by   name NOT NULL DEFAULT insight._acting_role(),
  payload      bytea NOT NULL,
  UNIQUE (name, version)
);
ALTER SEQUENCE insight.models_model_id_seq OWNED BY insight.models.model_id;
-- Payloads are mostly float arrays that pglz barely shrinks, at the cost of compressing
-- megabytes on every training: stored out of line, uncompressed.
ALTER TABLE insight.models ALTER COLUMN payload SET STORAGE EXTERNAL;

-- A model row never changes once written: versions are immutable, which is what lets every
-- backend cache deserialized models by model_id without invalidation.
CREATE FUNCTION insight._models_immutable() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RAISE EXCEPTION 'rows of insight.models never change once written'
    USING ERRCODE = '55000',
          HINT = 'Train or import a new version instead, or remove one with insight.drop_model().';
END
$$;
CREATE TRIGGER models_immutable BEFORE UPDATE ON insight.models
  FOR EACH ROW EXECUTE FUNCTION insight._models_immutable();

-- One row per model name: the version high-water mark (versions are never reused, even after
-- drop_model), and the row every catalog write of that name updates first. That update
-- serialises concurrent writers of one name, and under REPEATABLE READ or SERIALIZABLE it
-- raises 40001 instead of letting a stale snapshot record a wrong history.
CREATE TABLE insight.model_names (
  name         text PRIMARY KEY,
  last_version int NOT NULL DEFAULT 0,
  changed_at   timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE insight.deployments_deployment_id_seq;
CREATE TABLE insight.deployments (
  name                   text NOT NULL,
  -- NULL once the version was dropped: the deployment history stays intact.
  model_id               bigint REFERENCES insight.models ON DELETE SET NULL,
  deployed_at            timestamptz NOT NULL DEFAULT now(),
  deployed_by            name NOT NULL DEFAULT insight._acting_role(),
  -- added after API.md's columns: the log order, and the rollback stack
  deployment_id          bigint PRIMARY KEY DEFAULT nextval('insight.deployments_deployment_id_seq'),
  action                 text NOT NULL DEFAULT 'deploy' CHECK (action IN ('deploy', 'rollback')),
  previous_deployment_id bigint,
  version                int
);
ALTER SEQUENCE insight.deployments_deployment_id_seq OWNED BY insight.deployments.deployment_id;
CREATE INDEX deployments_name_idx ON insight.deployments (name, deployment_id DESC);
CREATE INDEX deployments_model_idx ON insight.deployments (model_id);

CREATE VIEW insight.model_metrics AS
  SELECT m.name, m.version, e.key AS metric_name, (e.value #>> '{}')::float8 AS metric_value,
         m.trained_at
    FROM insight.models m, jsonb_each(m.metrics) e
   WHERE jsonb_typeof(e.value) = 'number';

CREATE SEQUENCE insight.training_runs_run_id_seq;
CREATE TABLE insight.training_runs (
  run_id      bigint PRIMARY KEY DEFAULT nextval('insight.training_runs_run_id_seq'),
  name        text NOT NULL,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz,
  status      text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
  rows        bigint,
  message     text,
  model_id    bigint,
  -- true: the run's version was deployed by the promote-if-better policy; false: it was
  -- kept, not deployed; NULL: no policy applied (deployment as the call's deploy option said).
  promoted    bool
);
ALTER SEQUENCE insight.training_runs_run_id_seq OWNED BY insight.training_runs.run_id;
CREATE INDEX training_runs_name_idx ON insight.training_runs (name, started_at DESC);

CREATE SEQUENCE insight.anomaly_events_event_id_seq;
CREATE TABLE insight.anomaly_events (
  event_id      bigint PRIMARY KEY DEFAULT nextval('insight.anomaly_events_event_id_seq'),
  detected_at   timestamptz NOT NULL DEFAULT now(),
  scope         text NOT NULL CHECK (scope IN ('link', 'site', 'network')),
  entity_id     text NOT NULL,
  ts            timestamptz NOT NULL,
  anomaly_score float8,
  severity      text CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  model_id      bigint,
  features      jsonb
);
ALTER SEQUENCE insight.anomaly_events_event_id_seq OWNED BY insight.anomaly_events.event_id;
-- One event per entity, sample and model: persisting an overlapping window again adds nothing.
CREATE UNIQUE INDEX anomaly_events_entity_idx ON insight.anomaly_events (scope, entity_id, ts, model_id);

CREATE TYPE insight.training_result AS (
  name         text,
  version      int,
  model_id     bigint,
  task         text,
  algorithm    text,
  rows_used    bigint,
  rows_skipped bigint,
  training_ms  float8,
  metrics      jsonb
);

-- pg_dump keeps the catalog's data: every model, deployment and run.
SELECT pg_catalog.pg_extension_config_dump('insight.models', '');
SELECT pg_catalog.pg_extension_config_dump('insight.models_model_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('insight.model_names', '');
SELECT pg_catalog.pg_extension_config_dump('insight.deployments', '');
SELECT pg_catalog.pg_extension_config_dump('insight.deployments_deployment_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('insight.training_runs', '');
SELECT pg_catalog.pg_extension_config_dump('insight.training_runs_run_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('insight.anomaly_events', '');
SELECT pg_catalog.pg_extension_config_dump('insight.anomaly_events_event_id_seq', '');

-------------------------------------------------------------------------------------------
-- C functions
-------------------------------------------------------------------------------------------
CREATE FUNCTION insight.version() RETURNS text
  AS 'MODULE_PATHNAME', 'insight_version' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION insight.payload_info(payload bytea) RETURNS jsonb
  AS 'MODULE_PATHNAME', 'insight_payload_info' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION insight._external_payload(task text, metadata jsonb, body bytea) RETURNS bytea
  AS 'MODULE_PATHNAME', 'insight_external_payload' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION insight.describe_model(name text, version int DEFAULT NULL) RETURNS jsonb
  AS 'MODULE_PATHNAME', 'insight_describe_model' LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION insight.live_model_id(name text) RETURNS bigint
  AS 'MODULE_PATHNAME', 'insight_live_model_id' LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION insight.model_cache_stats() RETURNS jsonb
  AS 'MODULE_PATHNAME', 'insight_model_cache_stats' LANGUAGE C VOLATILE PARALLEL RESTRICTED;

CREATE FUNCTION insight.model_cache_reset() RETURNS void
  AS 'MODULE_PATHNAME', 'insight_model_cache_reset' LANGUAGE C VOLATILE PARALLEL RESTRICTED;

-------------------------------------------------------------------------------------------
-- Catalog writes: SECURITY DEFINER with a pinned search_path; EXECUTE only for insight_admin.
-------------------------------------------------------------------------------------------

-- Raises 42704 for a name with no versions at all.
CREATE FUNCTION insight._require_model(p_name text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF p_name IS NULL THEN
    RAISE EXCEPTION 'model name must not be NULL' USING ERRCODE = '22023';
  END IF;
  IF NOT EXISTS (SELECT FROM insight.models WHERE name = p_name) THEN
    RAISE EXCEPTION 'model "%" does not exist', p_name
      USING ERRCODE = '42704',
            DETAIL = 'insight.models has no version of it.',
            HINT = 'Train it with one of the insight.train_* functions, or list the models with SELECT name, version FROM insight.models.';
  END IF;
END
$$;

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

-- Takes the name's row lock before any read of its history (see insight.model_names).
CREATE FUNCTION insight._lock_name(p_name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  UPDATE insight.model_names SET changed_at = clock_timestamp() WHERE name = p_name;
END
$$;

CREATE FUNCTION insight._deploy_model_id(p_name text, p_model_id bigint, p_action text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  prev bigint;
BEGIN
  PERFORM insight._lock_name(p_name);
  SELECT deployment_id INTO prev FROM insight.deployments
   WHERE name = p_name ORDER BY deployment_id DESC LIMIT 1;
  INSERT INTO insight.deployments (name, model_id, action, previous_deployment_id, version)
  VALUES (p_name, p_model_id, p_action, prev,
          (SELECT version FROM insight.models WHERE model_id = p_model_id));
  RETURN p_model_id;
END
$$;

-- Privileges (API.md section 5).
-- The catalog is read by both roles and written only through the functions above.
GRANT SELECT ON insight.models, insight.model_names, insight.deployments, insight.model_metrics,
                insight.training_runs, insight.anomaly_events TO insight_analyst, insight_admin;
GRANT EXECUTE ON FUNCTION insight.version(), insight.payload_info(bytea),
    insight.describe_model(text, int), insight.live_model_id(text),
    insight.model_cache_stats(), insight.model_cache_reset(),
    insight._require_model(text), insight._acting_role(), insight._check_model_name(text)
  TO insight_analyst, insight_admin;
GRANT EXECUTE ON FUNCTION insight._train(text, text, regclass, jsonb, bool) TO insight_admin;
GRANT EXECUTE ON FUNCTION insight._external_payload(text, jsonb, bytea) TO insight_admin;
-- Persisting detections (persist => true) writes insight.anomaly_events: admins only.
GRANT INSERT ON insight.anomaly_events TO insight_admin;
GRANT USAGE ON SEQUENCE insight.anomaly_events_event_id_seq TO insight_admin;
