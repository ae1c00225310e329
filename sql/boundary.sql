-- The C++/PostgreSQL boundary: PostgreSQL errors raised deep inside SPI reach the client with
-- their own SQLSTATE, message, detail and hint; C++ exceptions reach it with the mapped
-- SQLSTATE; the backend survives both.
\set SHOW_CONTEXT never
SELECT pg_backend_pid() AS pid \gset

-- 1. PostgreSQL error inside SPI, under C++ frames: describe_model → SPI →
--    insight._require_model() raises 42704 with DETAIL and HINT.
SELECT insight.describe_model('no_such_model');
\echo :LAST_ERROR_SQLSTATE

-- 2. Permission error raised by the executor inside SPI (42501, its own message).
CREATE ROLE boundary_no_catalog NOLOGIN;
GRANT USAGE ON SCHEMA insight TO boundary_no_catalog;
GRANT EXECUTE ON FUNCTION insight.live_model_id(text) TO boundary_no_catalog;
SET ROLE boundary_no_catalog;
SELECT insight.live_model_id('anything');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- 3. C++ exceptions, mapped: CorruptPayload → XX001, InvalidParameter → 22023,
--    UndefinedObject (thrown in C++) → 42704.
SELECT insight.payload_info('\x0102'::bytea);
\echo :LAST_ERROR_SQLSTATE
SELECT insight._external_payload('regression', '{}', '\x00');
\echo :LAST_ERROR_SQLSTATE
SELECT name, version FROM insight.register_model('bnd', 'anomaly', '\x00'::bytea);
SELECT insight.describe_model('bnd', 99);
\echo :LAST_ERROR_SQLSTATE

-- 4. Cancellation inside a C++ loop (the demo generator polls for interrupts): 57014.
SET statement_timeout = '50ms';
SELECT count(*) FROM insight._demo_rows(NULL::insight.link_metrics, 365, 1, '2026-01-01 00:00+00', 60);
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;

-- The same backend answered every statement, and still works.
SELECT pg_backend_pid() = :pid AS same_backend, 1 + 1 AS still_works;
-- An error inside an explicit transaction leaves it aborted, then it rolls back cleanly.
BEGIN;
SELECT insight.payload_info('\xdeadbeef'::bytea);
SELECT 1;
ROLLBACK;
SELECT insight.drop_model('bnd');
DROP OWNED BY boundary_no_catalog;
DROP ROLE boundary_no_catalog;
