-- pg_insight 0.2.0 → 0.3.0 — update script (ALTER EXTENSION pg_insight UPDATE).
-- A new installation of 0.3.0 runs the install script assembled from src/sql/; this file
-- brings a 0.2.0 installation to the same objects (sql/upgrade.sql checks it).
--
-- 0.3.0: the install script is built from per-area sources.
\echo Use "ALTER EXTENSION pg_insight UPDATE TO '0.3.0'" to load this file. \quit

-- The standard tables' pg_dump registrations moved next to the tables; the catalog's
-- definitions are unchanged.
