-------------------------------------------------------------------------------------------
-- 2. Model catalog: C functions (the tables are in catalog_tables.sql)
-------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION insight.version() RETURNS text
  AS 'MODULE_PATHNAME', 'insight_version' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OR REPLACE FUNCTION insight.payload_info(payload bytea) RETURNS jsonb
  AS 'MODULE_PATHNAME', 'insight_payload_info' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OR REPLACE FUNCTION insight._external_payload(task text, metadata jsonb, body bytea) RETURNS bytea
  AS 'MODULE_PATHNAME', 'insight_external_payload' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION insight.describe_model(name text, version int DEFAULT NULL) RETURNS jsonb
  AS 'MODULE_PATHNAME', 'insight_describe_model' LANGUAGE C STABLE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION insight.live_model_id(name text) RETURNS bigint
  AS 'MODULE_PATHNAME', 'insight_live_model_id' LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE OR REPLACE FUNCTION insight.model_cache_stats() RETURNS jsonb
  AS 'MODULE_PATHNAME', 'insight_model_cache_stats' LANGUAGE C VOLATILE PARALLEL RESTRICTED;

CREATE OR REPLACE FUNCTION insight.model_cache_reset() RETURNS void
  AS 'MODULE_PATHNAME', 'insight_model_cache_reset' LANGUAGE C VOLATILE PARALLEL RESTRICTED;

-------------------------------------------------------------------------------------------
-- Catalog writes: SECURITY DEFINER with a pinned search_path; EXECUTE only for insight_admin.
-------------------------------------------------------------------------------------------

-- Raises 42704 for a name with no versions at all.
CREATE OR REPLACE FUNCTION insight._require_model(p_name text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF p_name IS NULL THEN
    RAISE EXCEPTION 'model name must not be NULL' USING ERRCODE = '22023';
  END IF;
  IF NOT EXISTS (SELECT FROM insight.models WHERE name = p_name) THEN
    RAISE EXCEPTION 'model % does not exist', insight._echo(p_name)
      USING ERRCODE = '42704',
            DETAIL = 'insight.models has no version of it.',
            HINT = 'Train it with one of the insight.train_* functions, or list the models with SELECT name, version FROM insight.models.';
  END IF;
END
$$;

-- Raises 42704 for a version a model does not have; the HINT lists the versions it has.
CREATE OR REPLACE FUNCTION insight._no_version(p_name text, p_version int) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RAISE EXCEPTION 'model % has no version %', insight._echo(p_name), p_version
    USING ERRCODE = '42704',
          HINT = format('Versions of %s: %s.', insight._echo(p_name),
                        coalesce((SELECT string_agg(m.version::text, ', ' ORDER BY m.version)
                                    FROM insight.models m WHERE m.name = p_name), 'none'));
END
$$;

-- The model-name rule (1 to 63 of [A-Za-z0-9_.:-], not starting with . : or -): 22023
-- otherwise. The C++ training path checks the same rule before any work.
CREATE OR REPLACE FUNCTION insight._check_model_name(name text) RETURNS void
  AS 'MODULE_PATHNAME', 'insight_check_model_name' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- A value the user gave, quoted for a message and cut after 100 characters (with its length),
-- as the C++ code echoes values.
CREATE OR REPLACE FUNCTION insight._echo(value text) RETURNS text
  AS 'MODULE_PATHNAME', 'insight_echo' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Writes one new version of a model and, if asked, deploys it; records the training run.
-- Every training (insight._train), register_model and import_model ends here; each hands
-- over the task and algorithm of a payload it built or validated.
CREATE OR REPLACE FUNCTION insight._store_model(
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
CREATE OR REPLACE FUNCTION insight._train(task text, name text, source regclass, options jsonb,
    deploy bool DEFAULT true)
  RETURNS insight.training_result
  AS 'MODULE_PATHNAME', 'insight_train' LANGUAGE C VOLATILE;

-- The one evaluation path (src/pg/evaluation.hpp): evaluate_forecaster and
-- evaluate_recommender call it with their options as jsonb. Reads source with the caller's
-- privileges; writes nothing.
CREATE OR REPLACE FUNCTION insight._evaluate(task text, source regclass, options jsonb)
  RETURNS TABLE(algorithm text, metric text, value float8)
  AS 'MODULE_PATHNAME', 'insight_evaluate' LANGUAGE C STABLE PARALLEL RESTRICTED;

-- Takes the name's row lock before any read of its history (see insight.model_names).
CREATE OR REPLACE FUNCTION insight._lock_name(p_name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  UPDATE insight.model_names SET changed_at = clock_timestamp() WHERE name = p_name;
END
$$;

CREATE OR REPLACE FUNCTION insight._deploy_model_id(p_name text, p_model_id bigint, p_action text)
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

-- The admin functions users call (train_*, deploy, rollback, drop_model, retrain, ...) are
-- executable by insight_analyst too and check their caller first: a role that is not a
-- member of insight_admin gets 42501 naming the GRANT that would let it, instead of
-- PostgreSQL's bare "permission denied for function". The check is on current_user, the
-- role PostgreSQL checks EXECUTE for, so it lets exactly the roles a GRANT would
-- (src/pg/catalog_writer.hpp).
CREATE OR REPLACE FUNCTION insight._require_admin(function text) RETURNS void
  AS 'MODULE_PATHNAME', 'insight_require_admin' LANGUAGE C STABLE PARALLEL SAFE;

-- An admin function whose body must run as the catalog's owner has two parts: the body,
-- insight._<entry>, SECURITY DEFINER and executable by insight_admin only; and the entry
-- users call, insight.<entry>, created here with the body's arguments (defaults included)
-- and result: it runs with the caller's rights, so insight._require_admin checks the
-- caller's role, then calls the body.
CREATE OR REPLACE FUNCTION insight._admin_entry(body regprocedure, entry text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  entry_fn text := format('insight.%I(%s)', entry, pg_get_function_identity_arguments(body));
BEGIN
  EXECUTE format(E'CREATE OR REPLACE FUNCTION insight.%I(%s) RETURNS %s\n'
                 'LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS %L',
    entry, pg_get_function_arguments(body), pg_get_function_result(body),
    format(E'\n  SELECT insight._require_admin(%L);\n  SELECT %s(%s);\n', entry, body::regproc,
           (SELECT string_agg('$' || i, ', ' ORDER BY i)
              FROM generate_series(1, (SELECT pronargs FROM pg_proc WHERE oid = body)) i)));
  -- The same privileges, in the same order, after CREATE EXTENSION and after an update.
  EXECUTE format('REVOKE ALL ON FUNCTION %s FROM insight_analyst, insight_admin', entry_fn);
  EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO insight_analyst, insight_admin', entry_fn);
  EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', body);
  EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO insight_admin', body);
END
$$;

-- Privileges (API.md section 5).
-- The catalog is read by both roles and written only through the functions above.
GRANT SELECT ON insight.models, insight.model_names, insight.deployments, insight.model_metrics,
                insight.training_runs, insight.anomaly_events TO insight_analyst, insight_admin;
GRANT EXECUTE ON FUNCTION insight.version(), insight.payload_info(bytea),
    insight.describe_model(text, int), insight.live_model_id(text),
    insight.model_cache_stats(), insight.model_cache_reset(),
    insight._require_model(text), insight._no_version(text, int), insight._acting_role(),
    insight._check_model_name(text),
    insight._echo(text), insight._require_admin(text),
    insight._evaluate(text, regclass, jsonb)
  TO insight_analyst, insight_admin;
GRANT EXECUTE ON FUNCTION insight._train(text, text, regclass, jsonb, bool) TO insight_admin;
GRANT EXECUTE ON FUNCTION insight._external_payload(text, jsonb, bytea) TO insight_admin;
-- Persisting detections (persist => true) writes insight.anomaly_events: admins only.
GRANT INSERT ON insight.anomaly_events TO insight_admin;
GRANT USAGE ON SEQUENCE insight.anomaly_events_event_id_seq TO insight_admin;

-- Descriptions (\df+ and GUI clients show them; sql/catalog.sql checks every object has one).
COMMENT ON FUNCTION insight.version() IS 'The pg_insight library version (it must equal the installed extension version).';
COMMENT ON FUNCTION insight.payload_info(bytea) IS 'Reads a model payload''s header and metadata (format, task, algorithm, sizes) without loading the model; XX001 when corrupt.';
COMMENT ON FUNCTION insight._external_payload(text, jsonb, bytea) IS 'Internal: wraps a body trained outside pg_insight in a payload of the given task (register_model).';
COMMENT ON FUNCTION insight.describe_model(text, int) IS 'A model version (the live one by default) as JSON: task, algorithm, metadata, metrics, and whether it can be scored.';
COMMENT ON FUNCTION insight.live_model_id(text) IS 'The model_id of the live (last deployed) version of a model; 42704 when none is deployed.';
COMMENT ON FUNCTION insight.model_cache_stats() IS 'This backend''s model cache: entries, bytes, hits, misses and name lookups.';
COMMENT ON FUNCTION insight.model_cache_reset() IS 'Empties this backend''s model cache and its counters.';
COMMENT ON FUNCTION insight._echo(text) IS 'Internal: a value the user gave, quoted for a message and cut after 100 characters.';
COMMENT ON FUNCTION insight._no_version(text, int) IS 'Internal: 42704 for a version a model does not have, with a HINT listing those it has.';
COMMENT ON FUNCTION insight._require_admin(text) IS 'Internal: 42501 with a HINT naming the GRANT unless current_user is a member of insight_admin; the admin functions call it first.';
COMMENT ON FUNCTION insight._admin_entry(regprocedure, text) IS 'Internal: creates insight.<entry>, which checks its caller with _require_admin and then calls a SECURITY DEFINER body (at installation).';
COMMENT ON FUNCTION insight._require_model(text) IS 'Internal: 42704 (with a HINT) unless the model name has a version.';
COMMENT ON FUNCTION insight._check_model_name(text) IS 'Internal: 22023 unless the name is a valid model name (1 to 63 letters, digits, _ . : -).';
COMMENT ON FUNCTION insight._store_model(text, text, text, bytea, text[], text, jsonb, jsonb, bigint, bigint, float8, timestamptz, bool) IS 'Internal: writes a new model version and its training run to the catalog, and deploys it when asked.';
COMMENT ON FUNCTION insight._train(text, text, regclass, jsonb, bool) IS 'Internal: the one training path behind every train_* function and retrain (task, name, source, options as jsonb).';
COMMENT ON FUNCTION insight._evaluate(text, regclass, jsonb) IS 'Internal: the one evaluation path behind evaluate_forecaster and evaluate_recommender.';
COMMENT ON FUNCTION insight._lock_name(text) IS 'Internal: takes the model name''s row lock, serialising writers of one name.';
COMMENT ON FUNCTION insight._deploy_model_id(text, bigint, text) IS 'Internal: appends a deployment (deploy or rollback) of a model_id to the history.';
