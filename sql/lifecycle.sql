-- Versions, deploy, rollback, drop, export/import, describe and the caches.
\set SHOW_CONTEXT never
SELECT name, version, task, algorithm, rows_used, metrics
  FROM insight.register_model('churn', 'anomaly', '\x0102'::bytea, '{"threshold": 0.7}',
                              ARRAY['a', 'b'], 'public.t');
SELECT name, version FROM insight.register_model('churn', 'anomaly', '\x03'::bytea, '{"threshold": 0.8}');
SELECT name, version FROM insight.register_model('churn', 'anomaly', '\x04'::bytea, '{}', deploy => false);
SELECT version, task, algorithm, features, source, trained_by = session_user AS by_me
  FROM insight.models WHERE name = 'churn' ORDER BY version;
SELECT name, status, rows FROM insight.training_runs WHERE name = 'churn' ORDER BY run_id;

-- Live model: the newest deployment (version 2; version 3 was not deployed).
SELECT m.version FROM insight.models m WHERE m.model_id = insight.live_model_id('churn');
SELECT d->>'version' AS version, d->>'algorithm' AS algorithm, d->'metadata' AS metadata,
       d->>'scorable' AS scorable
  FROM insight.describe_model('churn') d;
SELECT d->>'version' AS version, d->'metadata' AS metadata FROM insight.describe_model('churn', 1) d;

-- deploy / rollback walk a stack. Deployed so far: 1, 2. Deploy 3 then 1, and roll back
-- step by step: 3, 2, 1 (the first deployment), then nothing further back.
SELECT insight.deploy('churn', 3) = (SELECT model_id FROM insight.models WHERE name = 'churn' AND version = 3) AS deployed_3;
SELECT insight.deploy('churn', 1) = (SELECT model_id FROM insight.models WHERE name = 'churn' AND version = 1) AS deployed_1;
SELECT m.version AS after_rollback FROM insight.rollback('churn') r JOIN insight.models m ON m.model_id = r;
SELECT m.version AS after_second_rollback FROM insight.rollback('churn') r JOIN insight.models m ON m.model_id = r;
SELECT m.version AS after_third_rollback FROM insight.rollback('churn') r JOIN insight.models m ON m.model_id = r;
SELECT insight.rollback('churn');
\echo :LAST_ERROR_SQLSTATE
SELECT m.version AS live FROM insight.models m WHERE m.model_id = insight.live_model_id('churn');
SELECT m.version, d.action FROM insight.deployments d JOIN insight.models m USING (model_id)
 WHERE d.name = 'churn' ORDER BY d.deployment_id;
-- A new deploy starts a new step: rolling back from it returns to 1.
SELECT insight.deploy('churn', 2) IS NOT NULL AS deployed_2;
SELECT m.version AS back_to FROM insight.rollback('churn') r JOIN insight.models m ON m.model_id = r;
-- Deploying the live version changes nothing (a NOTICE, no history row): rolling back still
-- returns to the version live before it.
SELECT insight.deploy('churn', 2) IS NOT NULL AS deployed_2;
SELECT count(*) AS deployments_before FROM insight.deployments WHERE name = 'churn' \gset
SELECT insight.deploy('churn', 2) = (SELECT model_id FROM insight.models WHERE name = 'churn' AND version = 2) AS still_2;
SELECT count(*) = :deployments_before AS no_history_row FROM insight.deployments WHERE name = 'churn';
SELECT m.version AS rolled_back_to FROM insight.rollback('churn') r JOIN insight.models m ON m.model_id = r;

-- The name is resolved once per statement, not once per row.
SELECT insight.model_cache_reset();
SELECT (insight.model_cache_stats()->>'name_lookups')::int AS before_lookups \gset
SELECT count(*), count(DISTINCT insight.live_model_id('churn')) FROM generate_series(1, 1000);
SELECT (insight.model_cache_stats()->>'name_lookups')::int - :before_lookups AS lookups_for_1000_rows;

-- Deserialized models are cached per backend by model_id.
SELECT insight.describe_model('churn') IS NOT NULL AS loaded;
SELECT insight.describe_model('churn') IS NOT NULL AS loaded_again;
SELECT s->>'entries' AS entries, s->>'hits' AS hits, s->>'misses' AS misses
  FROM insight.model_cache_stats() s;

-- export → import elsewhere keeps the payload byte for byte.
SELECT name, version, task, algorithm FROM insight.import_model('churn_copy', insight.export_model('churn', 1));
SELECT (SELECT payload FROM insight.models WHERE name = 'churn_copy')
     = (SELECT payload FROM insight.models WHERE name = 'churn' AND version = 1) AS same_bytes;
SELECT features FROM insight.models WHERE name = 'churn_copy';
SELECT insight.export_model('churn') = (SELECT payload FROM insight.models WHERE model_id = insight.live_model_id('churn')) AS exports_live;

-- payload_info reads the header and metadata.
SELECT p->>'format_version' AS format, p->>'algorithm' AS algorithm, p->>'task' AS task,
       p->>'body_bytes' AS body_bytes, p->'metadata' AS metadata
  FROM insight.payload_info(insight.export_model('churn', 1)) p;

-- drop_model: one version (not the live one, 1), then all.
SELECT insight.drop_model('churn', 3) AS dropped_v3;
SELECT version FROM insight.models WHERE name = 'churn' ORDER BY version;
SELECT insight.drop_model('churn', 1);
\echo :LAST_ERROR_SQLSTATE
-- Deployments of a dropped version go with it: with 2 and 3 gone, the live 1 has no other
-- version to roll back to.
SELECT insight.drop_model('churn', 2) AS dropped_v2;
SELECT insight.rollback('churn');
\echo :LAST_ERROR_SQLSTATE
SELECT insight.drop_model('churn') AS dropped_all;
SELECT count(*) AS deployments_left FROM insight.deployments WHERE name = 'churn';
SELECT insight.drop_model('churn_copy');
-- Version numbers are never reused, even after dropping every version.
SELECT name, version FROM insight.register_model('churn', 'anomaly', '\x05'::bytea);
SELECT insight.drop_model('churn');

-- Rolling back walks past a dropped version: deploy 1, 2, 3; drop 2; roll back → 1.
SELECT version FROM insight.register_model('stack', 'forecast', '\x01'::bytea);
SELECT version FROM insight.register_model('stack', 'forecast', '\x02'::bytea);
SELECT version FROM insight.register_model('stack', 'forecast', '\x03'::bytea);
SELECT insight.drop_model('stack', 2) AS dropped_v2;
SELECT m.version AS rolled_back_to FROM insight.rollback('stack') r JOIN insight.models m ON m.model_id = r;
SELECT d.version, d.model_id IS NULL AS dropped, d.action
  FROM insight.deployments d WHERE d.name = 'stack' ORDER BY d.deployment_id;

-- PL/pgSQL keeps a simple expression's state for the whole transaction: the live model is
-- still resolved again once the catalog changed (here by the loop's own deploy).
CREATE TEMP TABLE seen (iteration int, version int);
DO $$
DECLARE
  id bigint;
BEGIN
  FOR i IN 1..2 LOOP
    id := insight.live_model_id('stack');
    INSERT INTO seen SELECT i, m.version FROM insight.models m WHERE m.model_id = id;
    PERFORM insight.deploy('stack', 3);
  END LOOP;
END
$$;
SELECT * FROM seen ORDER BY iteration;
SELECT insight.drop_model('stack');

-- Dropping and creating the extension again in this session restarts model_ids; the
-- backend's model cache must not hand back the old model for a reused id.
DROP EXTENSION pg_insight;
CREATE EXTENSION pg_insight;
SELECT model_id, version FROM insight.register_model('first', 'anomaly', '\x01'::bytea, '{"incarnation": 1}');
SELECT insight.describe_model('first')->'metadata' AS cached_metadata;
DROP EXTENSION pg_insight;
CREATE EXTENSION pg_insight;
SELECT model_id, version FROM insight.register_model('second', 'recommend', '\x02'::bytea, '{"incarnation": 2}');
SELECT d->>'task' AS task, d->'metadata' AS metadata FROM insight.describe_model('second') d;
SELECT insight.drop_model('second');
