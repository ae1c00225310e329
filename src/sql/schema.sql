-- pg_insight — install script, assembled by the Makefile from the files in src/sql/: the
-- objects that hold state (schema, tables, catalog_tables, types), then the code (catalog,
-- lifecycle, anomaly, detect, forecast, recommend, rootcause, demo, privileges), which update
-- scripts replay too: edit those. The SQL contract is API.md (../shared/API.md);
-- docs/reference.md documents every function. Objects live in the fixed schema insight.

\echo Use "CREATE EXTENSION pg_insight" to load this file. \quit

-- The SECURITY DEFINER functions below run as the installing superuser and read tables in
-- schema insight; a schema created beforehand by someone else could hold their triggers.
DO $owner$
BEGIN
  IF (SELECT nspowner FROM pg_catalog.pg_namespace WHERE nspname = 'insight')
     <> (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION 'schema insight already exists and is owned by another role'
      USING ERRCODE = '42501',
            HINT = 'Drop or rename that schema, or have its owner install pg_insight.';
  END IF;
END
$owner$;

-------------------------------------------------------------------------------------------
-- Roles (cluster-wide, created if absent; DROP EXTENSION leaves them).
-- insight_admin: train, deploy, roll back, drop, schedule, load demo data.
-- insight_analyst: score, domain and evaluation functions, read the catalog.
-------------------------------------------------------------------------------------------
DO $roles$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'insight_analyst') THEN
    CREATE ROLE insight_analyst NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'insight_admin') THEN
    CREATE ROLE insight_admin NOLOGIN;
  END IF;
  IF NOT pg_catalog.pg_has_role('insight_admin', 'insight_analyst', 'MEMBER') THEN
    GRANT insight_analyst TO insight_admin;
  END IF;
END
$roles$;

GRANT USAGE ON SCHEMA insight TO insight_admin, insight_analyst;
