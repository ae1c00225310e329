-------------------------------------------------------------------------------------------
-- Privileges (API.md section 5): nothing for PUBLIC. Each area's file grants its own objects
-- to insight_analyst (scoring, inspection, domain and evaluation functions) and
-- insight_admin (training, lifecycle, demo data); this last file takes PUBLIC's defaults
-- away from every object of the extension: at CREATE EXTENSION, and again at the end of each
-- update script, where it reaches the functions the update added and nothing a user created.
-------------------------------------------------------------------------------------------
DO $privileges$
DECLARE
  o record;
BEGIN
  FOR o IN
    SELECT CASE WHEN d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                THEN 'FUNCTION ' || d.objid::pg_catalog.regprocedure::text
                WHEN c.relkind = 'S' THEN 'SEQUENCE ' || c.oid::pg_catalog.regclass::text
                ELSE 'TABLE ' || c.oid::pg_catalog.regclass::text END AS object
      FROM pg_catalog.pg_depend d
      LEFT JOIN pg_catalog.pg_class c
        ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND c.oid = d.objid
     WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
       AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'pg_insight')
       AND d.deptype = 'e'
       AND (d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
            OR c.relkind IN ('r', 'p', 'v', 'm', 'S'))
  LOOP
    EXECUTE 'REVOKE ALL ON ' || o.object || ' FROM PUBLIC';
  END LOOP;
END
$privileges$;
