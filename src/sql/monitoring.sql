-------------------------------------------------------------------------------------------
-- 8. Model monitoring (API.md section 8): usage and drift
-------------------------------------------------------------------------------------------
-- (Not named _model_usage: that is the name of the view's array type, and a call with a
-- literal argument would parse as a cast to it.)
-- This database's counts from shared memory (src/pg/usage.cpp): catalog models of the
-- extension whose insight.models is `catalog`, and payloads scored as bytes (model_id NULL,
-- payload_crc the checksum bytes 29..32 of the payload). A NOTICE says when nothing is counted.
CREATE OR REPLACE FUNCTION insight._usage_counts(catalog regclass)
  RETURNS TABLE(model_id bigint, payload_crc bytea, calls bigint, rows_scored bigint,
                total_ms float8, last_used timestamptz)
  AS 'MODULE_PATHNAME', 'insight_usage_counts' LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

-- Per model version: a payload scored as bytes is counted under the catalog version whose
-- payload it is (the first by model_id when several are byte-identical), else under a row with
-- name and version NULL. Dropped versions are not shown.
CREATE OR REPLACE VIEW insight.model_usage AS
  WITH u AS (SELECT * FROM insight._usage_counts('insight.models'::regclass)),
  named AS (
    SELECT m.name, m.version, u.calls, u.rows_scored, u.total_ms, u.last_used
      FROM u JOIN insight.models m ON m.model_id = u.model_id
     WHERE u.payload_crc IS NULL
    UNION ALL
    SELECT p.name, p.version, u.calls, u.rows_scored, u.total_ms, u.last_used
      FROM u LEFT JOIN LATERAL (
             SELECT m.name, m.version FROM insight.models m
              WHERE substring(m.payload FROM 29 FOR 4) = u.payload_crc
              ORDER BY m.model_id LIMIT 1) p ON true
     WHERE u.payload_crc IS NOT NULL)
  SELECT name, version, sum(calls)::bigint AS calls, sum(rows_scored)::bigint AS rows_scored,
         sum(total_ms) / nullif(sum(calls), 0) AS mean_ms, max(last_used) AS last_used
    FROM named
   GROUP BY name, version;

-- Drift (API.md section 8): the live model's training profile against recent rows of source
-- (its own by default); `since` filters on the time column the model was trained with, where
-- source has it. STABLE: reads the catalog and source through the statement's snapshot.
CREATE OR REPLACE FUNCTION insight.model_drift(name text, source regclass DEFAULT NULL,
    since interval DEFAULT '24 hours')
  RETURNS TABLE(feature text, statistic text, value float8, threshold float8, drifted boolean)
  AS 'MODULE_PATHNAME', 'insight_model_drift' LANGUAGE C STABLE PARALLEL RESTRICTED;

-- What model_drift(name, since => since) raises before it reads a row: 55000 / 0A000 for a
-- model it cannot judge, 22023 for a since that is not positive.
CREATE OR REPLACE FUNCTION insight._require_profile(name text, since interval DEFAULT NULL) RETURNS void
  AS 'MODULE_PATHNAME', 'insight_require_profile' LANGUAGE C STABLE PARALLEL RESTRICTED;

GRANT SELECT ON insight.model_usage TO insight_analyst, insight_admin;
GRANT EXECUTE ON FUNCTION insight.model_drift(text, regclass, interval), insight._require_profile(text, interval)
  TO insight_analyst, insight_admin;
GRANT EXECUTE ON FUNCTION insight._usage_counts(regclass) TO insight_analyst, insight_admin;

COMMENT ON FUNCTION insight._usage_counts(regclass) IS 'Internal: this database''s model usage counts from shared memory (insight.model_usage reads it); a NOTICE when counting is off.';
COMMENT ON FUNCTION insight.model_drift(text, regclass, interval) IS 'Per feature of the live model, recent rows of source against its training profile: population stability index, share outside the training range, and the anomaly scores'' shift, each with its threshold and a drifted flag.';
COMMENT ON FUNCTION insight._require_profile(text, interval) IS 'Internal: what model_drift raises before it reads a row (55000 or 0A000 for a model it cannot judge, 22023 for since); reads no rows.';
COMMENT ON VIEW insight.model_usage IS 'Per model version: calls, rows scored, mean time per call and last use, by every scoring path (needs pg_insight in shared_preload_libraries).';
