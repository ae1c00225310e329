-- Roles and privileges of API.md section 5: PUBLIC gets nothing, insight_analyst reads and
-- scores, insight_admin also trains and deploys; the catalog is written only through
-- SECURITY DEFINER functions with a pinned search_path.
\set SHOW_CONTEXT never
\i sql/include/expect_errors.psql
CREATE ROLE sec_analyst NOLOGIN IN ROLE insight_analyst;
CREATE ROLE sec_admin NOLOGIN IN ROLE insight_admin;
CREATE ROLE sec_nobody NOLOGIN;
SELECT name, version FROM insight.register_model('sec_model', 'forecast', '\x01'::bytea);
SELECT name, version FROM insight.register_model('sec_model', 'forecast', '\x02'::bytea);

-- PUBLIC: no function of the extension is executable, no table readable.
SELECT count(*) AS functions_public_can_execute
  FROM pg_proc WHERE pronamespace = 'insight'::regnamespace
   AND has_function_privilege('sec_nobody', oid, 'EXECUTE');
SELECT count(*) AS tables_public_can_read
  FROM pg_class WHERE relnamespace = 'insight'::regnamespace AND relkind IN ('r', 'v')
   AND has_table_privilege('sec_nobody', oid, 'SELECT');
SET ROLE sec_nobody;
CALL pg_temp.expect_errors(
  $$SELECT insight.version()$$);
RESET ROLE;

-- Who may execute what.
SELECT p.oid::regprocedure AS function,
       has_function_privilege('insight_analyst', p.oid, 'EXECUTE') AS analyst,
       has_function_privilege('insight_admin', p.oid, 'EXECUTE') AS admin
  FROM pg_proc p
 WHERE p.pronamespace = 'insight'::regnamespace AND p.proname NOT LIKE '\_%'
 ORDER BY p.proname, 1::text;

-- Every SECURITY DEFINER function pins search_path.
SELECT p.proname, p.proconfig
  FROM pg_proc p
 WHERE p.pronamespace = 'insight'::regnamespace AND p.prosecdef
 ORDER BY 1;

-- The catalog in one view: the write privileges any role holds on its tables (only
-- admins' INSERT on anomaly_events, which detect_*(persist => true) writes as the caller),
-- on its sequences, and which SECURITY DEFINER functions (the only way to write the rest)
-- each role may run: analysts none, admins the lifecycle ones; the internal writers
-- (_store_model, _deploy_model_id, _lock_name) only the functions that call them.
SELECT c.relname, r.role, pr.priv
  FROM pg_class c, (VALUES ('insight_analyst'), ('insight_admin'), ('sec_nobody')) r(role),
       (VALUES ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE')) pr(priv)
 WHERE c.relnamespace = 'insight'::regnamespace AND c.relkind = 'r'
   AND c.relname IN ('models', 'model_names', 'deployments', 'training_runs', 'anomaly_events')
   AND has_table_privilege(r.role, c.oid, pr.priv)
 ORDER BY 1, 2, 3;
SELECT c.relname, has_sequence_privilege('insight_admin', c.oid, 'USAGE') AS admin,
       has_sequence_privilege('insight_analyst', c.oid, 'USAGE') AS analyst
  FROM pg_class c WHERE c.relnamespace = 'insight'::regnamespace AND c.relkind = 'S' ORDER BY 1;
SELECT p.oid::regprocedure AS definer_function,
       has_function_privilege('insight_analyst', p.oid, 'EXECUTE') AS analyst,
       has_function_privilege('insight_admin', p.oid, 'EXECUTE') AS admin
  FROM pg_proc p WHERE p.pronamespace = 'insight'::regnamespace AND p.prosecdef ORDER BY 1::text;

-- The analyst reads and inspects, but may not train, deploy, roll back, drop or import.
SET ROLE sec_analyst;
SELECT count(*) AS versions FROM insight.models WHERE name = 'sec_model';
SELECT (insight.describe_model('sec_model')->>'version') AS live_version;
CALL pg_temp.expect_errors(
  $$SELECT insight.deploy('sec_model', 1)$$,
  $$SELECT insight.rollback('sec_model')$$,
  $$SELECT insight.drop_model('sec_model')$$,
  $$SELECT insight.register_model('sec_x', 'forecast', '\x01'::bytea)$$,
  $$SELECT insight.import_model('sec_x', insight.export_model('sec_model'))$$,
  $$SELECT insight._store_model('sec_x', 'anomaly', 'isolation_forest', insight.export_model('sec_model'), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, true)$$,
  $$SELECT insight._train('anomaly', 'sec_x', 'insight.link_metrics', '{"features": ["errors"]}', true)$$,
  $$SELECT insight.load_demo_data(days => 1)$$);
INSERT INTO insight.deployments (name, model_id) SELECT 'sec_model', min(model_id) FROM insight.models;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM insight.models;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- The admin trains, deploys and rolls back through the functions, but cannot write the
-- catalog tables directly either.
SET ROLE sec_admin;
SELECT name, version FROM insight.register_model('sec_model', 'forecast', '\x03'::bytea);
SELECT m.version AS deployed FROM insight.deploy('sec_model', 1) r JOIN insight.models m ON m.model_id = r;
SELECT m.version AS rolled_back_to FROM insight.rollback('sec_model') r JOIN insight.models m ON m.model_id = r;
INSERT INTO insight.models (name, version, task, algorithm, payload)
  VALUES ('forged', 1, 'anomaly', 'external', '\x00');
\echo :LAST_ERROR_SQLSTATE
UPDATE insight.deployments SET model_id = model_id;
\echo :LAST_ERROR_SQLSTATE
-- The acting role (not the login, not the functions' owner) is recorded.
SELECT m.version, m.trained_by FROM insight.models m WHERE m.name = 'sec_model' ORDER BY m.version;
SELECT m.version, d.action, d.deployed_by FROM insight.deployments d JOIN insight.models m USING (model_id)
 WHERE d.name = 'sec_model' ORDER BY d.deployment_id;
RESET ROLE;

-- The admin functions an analyst may call (PostgreSQL lets them) refuse with 42501 and the
-- GRANT that fixes it: each checks its caller first. The check is on the role PostgreSQL
-- checks EXECUTE for, current_user: an admin's SECURITY DEFINER function lets an analyst
-- deploy (the acting role is recorded), as it did when EXECUTE was the whole check.
SELECT p.oid::regprocedure AS checks_its_caller, p.prosecdef AS definer
  FROM pg_proc p
 WHERE p.pronamespace = 'insight'::regnamespace AND p.prokind = 'f'
   AND has_function_privilege('insight_analyst', p.oid, 'EXECUTE')
   AND p.proname <> '_require_admin' AND pg_get_functiondef(p.oid) ~ '_require_admin\('
 ORDER BY 1::text;
CREATE FUNCTION public.sec_deploy(n text, v int) RETURNS bigint
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$ SELECT insight.deploy(n, v) $$;
ALTER FUNCTION public.sec_deploy(text, int) OWNER TO sec_admin;
REVOKE ALL ON FUNCTION public.sec_deploy(text, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.sec_deploy(text, int) TO sec_analyst;
SET ROLE sec_analyst;
SELECT m.version AS deployed_through_admins_function
  FROM public.sec_deploy('sec_model', 2) r JOIN insight.models m ON m.model_id = r;
SELECT d.version AS live_version, d.action, d.deployed_by FROM insight.deployments d
 WHERE d.name = 'sec_model' ORDER BY d.deployment_id DESC LIMIT 1;
CALL pg_temp.expect_errors(
  $$SELECT insight.deploy('sec_model', 3)$$);
RESET ROLE;
DROP FUNCTION public.sec_deploy(text, int);
SET ROLE sec_admin;
SELECT insight.drop_model('sec_model') AS dropped;
RESET ROLE;

-- A role without SELECT on a source relation can neither train on it nor read it through an
-- evaluation function or a retrain (42501), and nothing is written.
CREATE TABLE sec_secret AS
SELECT g::float8 AS x, 'u' || (g % 10) AS u, 'i' || (g % 7) AS i,
       timestamptz '2026-01-01 00:00+00' + g * interval '1 day' AS t, g % 17 = 0 AS label
  FROM generate_series(1, 200) g;
CREATE TABLE sec_secret_incidents AS SELECT * FROM insight.incidents;
SELECT name, version FROM insight.train_anomaly_detector('sec_secret_model', 'sec_secret', ARRAY['x']);
SELECT count(*) AS versions_before FROM insight.models \gset
SET ROLE sec_admin;
CALL pg_temp.expect_errors(
  $$SELECT insight.train_anomaly_detector('sec_s1', 'sec_secret', ARRAY['x'])$$,
  $$SELECT insight.train_forecaster('sec_s2', 'sec_secret', 't', 'x')$$,
  $$SELECT insight.train_recommender('sec_s3', 'sec_secret', 'u', 'i')$$,
  $$SELECT insight.train_root_cause_classifier('sec_s4', 'sec_secret_incidents')$$,
  $$SELECT insight._train('anomaly', 'sec_s5', 'sec_secret', '{"features": ["x"]}')$$,
  $$SELECT insight.retrain('sec_secret_model')$$,
  $$SELECT count(*) FROM insight.evaluate_anomaly_detector('sec_secret_model', 'sec_secret', 'label')$$,
  $$SELECT count(*) FROM insight.evaluate_forecaster('sec_secret', 't', 'x')$$,
  $$SELECT count(*) FROM insight.evaluate_recommender('sec_secret', 'u', 'i', 't')$$);
RESET ROLE;
SET ROLE sec_analyst;
CALL pg_temp.expect_errors(
  $$SELECT count(*) FROM insight.evaluate_anomaly_detector('sec_secret_model', 'sec_secret', 'label')$$);
RESET ROLE;
SELECT count(*) = :versions_before AS nothing_written FROM insight.models;
SELECT insight.drop_model('sec_secret_model') AS dropped;
DROP TABLE sec_secret, sec_secret_incidents;

-- Hostile identifiers: relation and column names with quotes, semicolons and comments are
-- resolved through the catalog and quoted, never pasted into SQL text; the canary survives.
CREATE TABLE canary (ok int);
CREATE TABLE "evil""; DROP TABLE canary; --" (
  "x""; DROP TABLE canary; --" float8, "u /*c*/ '" text, "i;--" text, "t" timestamptz);
INSERT INTO "evil""; DROP TABLE canary; --"
SELECT g % 97, 'u' || (g % 20), 'i' || (g % 15), timestamptz '2026-01-01 00:00+00' + g * interval '1 hour'
  FROM generate_series(1, 1440) g;
SELECT name, rows_used
  FROM insight.train_anomaly_detector('evil_anomaly', '"evil""; DROP TABLE canary; --"',
                                      ARRAY['x"; DROP TABLE canary; --']);
SELECT name, rows_used
  FROM insight.train_recommender('evil_rec', '"evil""; DROP TABLE canary; --"', 'u /*c*/ ''', 'i;--',
                                 algorithm => 'popularity');
SELECT name, rows_used
  FROM insight.train_forecaster('evil_sales', '"evil""; DROP TABLE canary; --"', 't',
                                'x"; DROP TABLE canary; --', algorithm => 'seasonal_naive', horizon => 3);
SELECT name, version FROM insight.retrain('evil_anomaly');
SELECT source FROM insight.models WHERE name = 'evil_anomaly' ORDER BY version;
SELECT to_regclass('canary') IS NOT NULL AS canary_alive, count(*) AS canary_rows FROM canary;
-- A crafted column name that does not exist is just that: 42703. A relation argument is a
-- regclass: text with SQL in it is not a relation name (42602).
CALL pg_temp.expect_errors(
  $$SELECT insight.train_anomaly_detector('evil2', '"evil""; DROP TABLE canary; --"', ARRAY['x) FROM pg_authid; --'])$$,
  $$SELECT insight.train_anomaly_detector('evil2', 'canary; DROP TABLE canary', ARRAY['ok'])$$,
  $$SELECT insight.train_recommender('evil2', 'canary', 'ok', 'ok) t; DROP TABLE canary; --')$$);
SELECT to_regclass('canary') IS NOT NULL AS canary_alive;
SELECT insight.drop_model(n) FROM unnest(ARRAY['evil_anomaly', 'evil_rec', 'evil_sales']) n;
DROP TABLE "evil""; DROP TABLE canary; --", canary;

-- Crafted payloads (of the 3-tree model 'small' below). A forger who knows the format can
-- recompute the checksum, so the checks behind it must hold alone: claimed sizes far beyond
-- the bytes at hand, huge counts and indices written anywhere in the body, child indices
-- pointing back at the root (self-referential trees), metadata nested 100,000 deep. Each payload is rejected with
-- XX001 or is a valid model that scores (a tree walk that looped would never return: the
-- statement_timeout would turn that into a failure here), and the backend's memory stays put.
SET statement_timeout = '120s';
CREATE FUNCTION pg_temp.crc32c(b bytea) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  crc bigint := 4294967295;
BEGIN
  FOR i IN 0 .. length(b) - 1 LOOP
    crc := crc # get_byte(b, i);
    FOR k IN 1 .. 8 LOOP
      crc := CASE WHEN crc & 1 = 1 THEN (crc >> 1) # 2197175160 ELSE crc >> 1 END;
    END LOOP;
  END LOOP;
  RETURN crc # 4294967295;
END $$;
CREATE FUNCTION pg_temp.le(v bigint, n int) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT string_agg(set_byte('\x00'::bytea, 0, ((v >> (8 * i)) & 255)::int), ''::bytea ORDER BY i)
    FROM generate_series(0, n - 1) i $$;
-- The payload with its checksum recomputed: what a forger with the format in hand sends.
CREATE FUNCTION pg_temp.seal(p bytea) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT substr(p, 1, 28) || pg_temp.le(pg_temp.crc32c(substr(p, 1, 28) || substr(p, 33)), 4) || substr(p, 33) $$;
-- What loading and scoring a payload gives: scored, or the SQLSTATE it was rejected with.
CREATE FUNCTION pg_temp.outcome(p bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM insight.anomaly_score(p, ARRAY[1, 2]::float8[]);
  RETURN 'scored';
EXCEPTION WHEN data_corrupted OR invalid_parameter_value THEN
  RETURN SQLSTATE;
END $$;
SELECT insight.isolation_forest_fit(ARRAY[x::float8, (x % 7)::float8], 3, 8, 1) AS small
  FROM generate_series(1, 50) x \gset
SELECT pg_temp.seal(:'small'::bytea) = :'small'::bytea AS resealing_is_exact;
SELECT pg_temp.outcome(pg_temp.seal(:'small'::bytea)) AS sealed;
SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmRSS:\s+(\d+)'))[1]::bigint AS rss_before \gset
-- Huge: the header claims 2 GB of metadata or 2^62 bytes of body.
SELECT pg_temp.outcome(pg_temp.seal(overlay(:'small'::bytea placing pg_temp.le(2147483647, 4) from 17))) AS huge_metadata,
       pg_temp.outcome(pg_temp.seal(overlay(:'small'::bytea placing pg_temp.le(4611686018427387904, 8) from 21))) AS huge_body;
-- At every body offset: a 64-bit count of 2^62, a 32-bit -1, a 32-bit 0 (a child index of the root).
SELECT sum(get_byte(:'small'::bytea, 16 + i)::bigint << (8 * i)) AS meta_len FROM generate_series(0, 3) i \gset
SELECT pg_temp.outcome(f) AS outcome, count(*)
  FROM generate_series(32 + :meta_len, length(:'small'::bytea) - 8) o,
       LATERAL (VALUES (pg_temp.seal(overlay(:'small'::bytea placing pg_temp.le(4611686018427387904, 8) from o + 1))),
                       (pg_temp.seal(overlay(:'small'::bytea placing '\xffffffff'::bytea from o + 1))),
                       (pg_temp.seal(overlay(:'small'::bytea placing '\x00000000'::bytea from o + 1)))) v(f)
 GROUP BY 1 ORDER BY 1;
-- Metadata nested 100,000 deep (the reader allows 64): rejected, no stack overflow.
SELECT sum(get_byte(:'small'::bytea, 20 + i)::bigint << (8 * i)) AS body_len FROM generate_series(0, 7) i \gset
SELECT pg_temp.outcome(pg_temp.seal(substr(:'small'::bytea, 1, 16) || pg_temp.le(200000, 4) || pg_temp.le(:body_len, 8)
         || '\x00000000'::bytea || convert_to(repeat('[', 100000) || repeat(']', 100000), 'UTF8')
         || substr(:'small'::bytea, 33 + :meta_len))) AS deep_metadata;
SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmRSS:\s+(\d+)'))[1]::bigint - :rss_before < 65536 AS memory_bounded;
RESET statement_timeout;

DROP ROLE sec_analyst, sec_admin, sec_nobody;
