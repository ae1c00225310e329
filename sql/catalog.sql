-- The extension installs, with the catalog and standard tables of API.md.
\set SHOW_CONTEXT never
-- A schema named insight created beforehand by another role is refused: the extension's
-- SECURITY DEFINER functions must not read tables someone else controls.
CREATE ROLE squatter NOLOGIN;
GRANT CREATE ON DATABASE insight_regress TO squatter;
SET ROLE squatter;
CREATE SCHEMA insight;
RESET ROLE;
CREATE EXTENSION pg_insight;
\echo :LAST_ERROR_SQLSTATE
DROP SCHEMA insight;
REVOKE CREATE ON DATABASE insight_regress FROM squatter;
DROP ROLE squatter;
CREATE EXTENSION pg_insight;
SELECT insight.version() ~ '^\d+\.\d+\.\d+$' AS version_ok;
SELECT extrelocatable, extnamespace::regnamespace FROM pg_extension WHERE extname = 'pg_insight';
-- Every function, aggregate, table, view and type of the extension describes itself (\df+,
-- \d+ and GUI clients show it): the objects without a description, none.
SELECT i.type, i.identity AS without_description
  FROM pg_depend e, pg_identify_object(e.classid, e.objid, 0) i
 WHERE e.refclassid = 'pg_extension'::regclass AND e.deptype = 'e'
   AND e.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_insight')
   AND i.type IN ('function', 'aggregate', 'table', 'view', 'type', 'composite type')
   AND coalesce(obj_description(e.objid, e.classid::regclass::name), '') = ''
 ORDER BY 1, 2;
SELECT count(*) AS described FROM pg_depend e
 WHERE e.refclassid = 'pg_extension'::regclass AND e.deptype = 'e'
   AND e.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_insight')
   AND obj_description(e.objid, e.classid::regclass::name) <> '';

-- Columns of API.md section 2, in order (more may follow at the end).
SELECT table_name, string_agg(column_name, ',' ORDER BY ordinal_position) AS columns
  FROM information_schema.columns
 WHERE table_schema = 'insight'
   AND table_name IN ('models', 'deployments', 'model_metrics', 'training_runs', 'anomaly_events')
 GROUP BY table_name ORDER BY table_name;

-- Standard tables of API.md section 1.
SELECT table_name, string_agg(column_name, ',' ORDER BY ordinal_position) AS columns
  FROM information_schema.columns
 WHERE table_schema = 'insight'
   AND table_name IN ('products', 'transactions', 'networks', 'satellites', 'sites',
                      'hub_antennas', 'links', 'network_metrics', 'site_metrics',
                      'link_metrics', 'incidents')
 GROUP BY table_name ORDER BY table_name;

-- training_result composite.
SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
  FROM pg_attribute WHERE attrelid = 'insight.training_result'::regclass AND attnum > 0;

-- Every table and sequence holding user data is dumped by pg_dump.
SELECT c.relname
  FROM pg_class c
 WHERE c.relnamespace = 'insight'::regnamespace AND c.relkind IN ('r', 'S')
   AND c.oid NOT IN (SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'pg_insight')
 ORDER BY 1;

-- Indexes on the telemetry and commerce tables.
SELECT tablename, indexname FROM pg_indexes
 WHERE schemaname = 'insight' AND tablename IN ('link_metrics', 'transactions', 'links')
 ORDER BY 1, 2;

-- Roles exist, cannot log in, and admin includes analyst.
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'insight\_%' ORDER BY 1;
SELECT pg_has_role('insight_admin', 'insight_analyst', 'MEMBER') AS admin_is_analyst;

-- A model row never changes once written.
SELECT name, version, task, algorithm FROM insight.register_model('imm', 'anomaly', '\x00'::bytea);
UPDATE insight.models SET metrics = '{"x": 1}' WHERE name = 'imm';
\echo :LAST_ERROR_SQLSTATE

-- model_metrics expands numeric metrics.
SELECT name, version, task FROM insight.import_model('withmetrics',
  insight._external_payload('forecast', '{"metrics": {"mae": 1.5, "rmse": 2, "label": "x"}}', ''));
SELECT name, version, metric_name, metric_value FROM insight.model_metrics ORDER BY metric_name;
SELECT insight.drop_model('imm') + insight.drop_model('withmetrics') AS dropped;
