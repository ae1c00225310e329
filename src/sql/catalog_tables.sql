-------------------------------------------------------------------------------------------
-- 2. Model catalog: tables (the functions that read and write them are in catalog.sql)
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
  status      text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'skipped')),
  rows        bigint,
  message     text,
  model_id    bigint,
  -- true: the run's version was deployed by the promote-if-better policy; false: it was
  -- kept, not deployed; NULL: no policy applied (deployment as the call's deploy option said).
  promoted    bool,
  -- retrain_on_evidence: the figures its decision was made on (model_drift's statistics);
  -- status 'skipped' is a decision not to retrain.
  evidence    jsonb
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


-- Descriptions (replayed by every update script, as tables.sql's).
COMMENT ON TABLE insight.models IS 'The model catalog: every version of every model, with its payload, task, algorithm, features, source, params and metrics. Rows never change.';
COMMENT ON TABLE insight.model_names IS 'One row per model name: its last version number and the lock that serialises its writers.';
COMMENT ON TABLE insight.deployments IS 'Append-only deployment history; the newest row of a name is its live version.';
COMMENT ON VIEW insight.model_metrics IS 'Each model version''s numeric metrics, one row per metric (name, version, metric_name, metric_value, trained_at).';
COMMENT ON TABLE insight.training_runs IS 'Every training run: name, times, status, rows, message, the version written and the promote decision.';
COMMENT ON TABLE insight.anomaly_events IS 'Anomalies recorded by detect_*_anomaly(persist => true), one per entity, sample and model.';
COMMENT ON FUNCTION insight._acting_role() IS 'Internal: the role acting on the catalog (current_user outside any SECURITY DEFINER function), recorded as trained_by and deployed_by.';
COMMENT ON FUNCTION insight._models_immutable() IS 'Internal: trigger function that refuses updates of insight.models rows.';
