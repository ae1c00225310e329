-- pg_insight 0.2.0 → 0.3.0 — update script (ALTER EXTENSION pg_insight UPDATE).
-- A new installation of 0.3.0 runs the install script assembled from src/sql/; this file
-- brings a 0.2.0 installation to the same objects (sql/upgrade.sql checks it).
--
-- 0.3.0:
--   One training path: the train_* functions are SQL wrappers that pass their arguments as
--   jsonb options to insight._train(task, name, source, options, deploy); retrain replays a
--   version's stored params through it. insight._store_model takes the task and algorithm
--   from its callers instead of decoding the payload again; the model-name rule is one C
--   function (insight._check_model_name) for SQL and C++ alike.
--   The install script is built from per-area sources (src/sql/); the standard tables'
--   pg_dump registrations moved next to the tables (nothing changed).
\echo Use "ALTER EXTENSION pg_insight UPDATE TO '0.3.0'" to load this file. \quit

DROP FUNCTION insight._store_model(text, bytea, text[], text, jsonb, jsonb, bigint, bigint,
                                   float8, timestamptz, bool);

-- The model-name rule (1 to 63 of [A-Za-z0-9_.:-], not starting with . : or -): 22023
-- otherwise. The C++ training path checks the same rule before any work.
CREATE FUNCTION insight._check_model_name(name text) RETURNS void
  AS 'MODULE_PATHNAME', 'insight_check_model_name' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Writes one new version of a model and, if asked, deploys it; records the training run.
-- Every training (insight._train), register_model and import_model ends here; each hands
-- over the task and algorithm of a payload it built or validated.
CREATE FUNCTION insight._store_model(
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
CREATE FUNCTION insight._train(task text, name text, source regclass, options jsonb,
    deploy bool DEFAULT true)
  RETURNS insight.training_result
  AS 'MODULE_PATHNAME', 'insight_train' LANGUAGE C VOLATILE;

-- The train_* functions become wrappers of insight._train (same signatures and defaults).
-- Reads source with the caller's privileges, writes the catalog as its owner.
CREATE OR REPLACE FUNCTION insight.train_anomaly_detector(name text, source regclass, features text[],
    contamination float8 DEFAULT 0.05, n_trees int DEFAULT 100, sample_size int DEFAULT 256,
    deploy bool DEFAULT true, seed int DEFAULT 42, standardize bool DEFAULT true)
RETURNS insight.training_result LANGUAGE sql VOLATILE
RETURN insight._train('anomaly', name, source,
  jsonb_build_object('features', features, 'contamination', contamination, 'n_trees', n_trees,
                     'sample_size', sample_size, 'seed', seed, 'standardize', standardize),
  deploy);

-------------------------------------------------------------------------------------------
-- Forecasting (src/core/forecast, src/pg/forecast.cpp)
-------------------------------------------------------------------------------------------
-- Reads source with the caller's privileges (daily sums of value_column per calendar day of
-- time_column, in the session's TimeZone; days without rows count as 0), writes the catalog
-- as its owner. With group_column, one series per group, all in one model version.
CREATE OR REPLACE FUNCTION insight.train_forecaster(name text, source regclass, time_column text,
    value_column text, group_column text DEFAULT NULL, algorithm text DEFAULT 'auto',
    horizon int DEFAULT 14, deploy bool DEFAULT true)
RETURNS insight.training_result LANGUAGE sql VOLATILE
RETURN insight._train('forecast', name, source,
  jsonb_build_object('time_column', time_column, 'value_column', value_column,
                     'group_column', group_column, 'algorithm', algorithm, 'horizon', horizon),
  deploy);

-------------------------------------------------------------------------------------------
-- Recommendations (src/core/recommend, src/pg/recommend.cpp)
-------------------------------------------------------------------------------------------
-- Reads source with the caller's privileges: per (user, item) pair the sum of weight_column,
-- or the number of rows without one; writes the catalog as its owner.
-- validate => true: the learner is also trained on four fifths of each user's items and
-- ranks the held-out fifth; models.metrics gets validation_ndcg_at_10 (and recall, the
-- popularity baseline's ndcg, the users scored). Training takes about twice as long.
CREATE OR REPLACE FUNCTION insight.train_recommender(name text, source regclass, user_column text,
    item_column text, weight_column text DEFAULT NULL, algorithm text DEFAULT 'als',
    factors int DEFAULT 64, deploy bool DEFAULT true, iterations int DEFAULT 15,
    regularization float8 DEFAULT 0.3, alpha float8 DEFAULT 1, neighbors int DEFAULT NULL,
    min_user_interactions int DEFAULT 1, min_item_interactions int DEFAULT 1, seed int DEFAULT 42,
    validate bool DEFAULT false)
RETURNS insight.training_result LANGUAGE sql VOLATILE
RETURN insight._train('recommend', name, source,
  jsonb_build_object('user_column', user_column, 'item_column', item_column,
                     'weight_column', weight_column, 'algorithm', algorithm, 'factors', factors,
                     'iterations', iterations, 'regularization', regularization, 'alpha', alpha,
                     'neighbors', neighbors, 'min_user_interactions', min_user_interactions,
                     'min_item_interactions', min_item_interactions, 'seed', seed,
                     'validate', validate),
  deploy);

-- Reads source (insight.incidents' columns scope, scope_id, started_at, ended_at, root_cause)
-- with the caller's privileges and telemetry around each incident; writes the catalog.
-- No JIT: the per-incident telemetry reads are cheap plans that JIT compiling only slows.
CREATE OR REPLACE FUNCTION insight.train_root_cause_classifier(name text DEFAULT 'root_cause',
    source regclass DEFAULT 'insight.incidents', deploy bool DEFAULT true)
RETURNS insight.training_result LANGUAGE sql VOLATILE SET jit = off
RETURN insight._train('root_cause', name, source, '{}', deploy);

-- Registers a model trained outside pg_insight as an opaque, versioned artifact
-- (algorithm 'external'): deployable, exportable, auditable; pg_insight cannot score it.
CREATE OR REPLACE FUNCTION insight.register_model(name text, task text, body bytea,
    metadata jsonb DEFAULT '{}', features text[] DEFAULT NULL, source text DEFAULT NULL,
    deploy bool DEFAULT true)
RETURNS insight.training_result
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  -- features travel inside the payload too, so export_model → import_model keeps them.
  SELECT insight._store_model(name, p.info->>'task', p.info->>'algorithm', p.payload, features,
                              source, '{}'::jsonb, '{}'::jsonb, NULL, NULL, NULL, NULL, deploy)
    FROM (SELECT e.payload, insight.payload_info(e.payload) AS info
            FROM (SELECT insight._external_payload(task,
                    CASE WHEN features IS NULL THEN metadata
                         ELSE coalesce(metadata, '{}') || jsonb_build_object('features', to_jsonb(features)) END,
                    body) AS payload) e) p;
$$;

-- Stores an exported payload as a new version of `name` (validated: XX001 when corrupt);
-- task, algorithm, features and numeric metrics come from the payload's metadata.
CREATE OR REPLACE FUNCTION insight.import_model(name text, payload bytea, deploy bool DEFAULT true)
RETURNS insight.training_result
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT insight._store_model(
      name, i.info->>'task', i.info->>'algorithm', payload,
      (SELECT array_agg(f ORDER BY o)
         FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(i.info->'metadata'->'features') = 'array'
                                             THEN i.info->'metadata'->'features' END)
              WITH ORDINALITY AS t(f, o)),
      'import', '{}'::jsonb,
      CASE WHEN jsonb_typeof(i.info->'metadata'->'metrics') = 'object' THEN i.info->'metadata'->'metrics' END,
      NULL, NULL, NULL, NULL, deploy)
    FROM (SELECT insight.payload_info(payload) AS info) i;
$$;

-- Trains a new version of name with the live version's training source and options, as the
-- caller (who needs SELECT on the source). promote => 'always' deploys it; 'if_better'
-- deploys it only if its validation metric is not worse than the live version's
-- (insight._promote_if_better). Models registered or imported as opaque artifacts
-- (algorithm 'external') have nothing to re-run: 22023.
CREATE OR REPLACE FUNCTION insight.retrain(name text, promote text DEFAULT 'always')
RETURNS insight.training_result
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  m record;
  p jsonb;
  src regclass;
  dep bool;
  r insight.training_result;
BEGIN
  SELECT * INTO m FROM insight._live_training(name, 're-run');
  PERFORM insight._check_promote(promote, name, m.task);
  dep := promote = 'always';
  src := m.source::regclass;  -- 42P01 when the source relation is gone
  p := m.params;
  -- Versions trained before 0.3.0 kept an anomaly detector's features in models.features only.
  IF m.task = 'anomaly' AND NOT p ? 'features' THEN
    p := p || jsonb_build_object('features', m.features);
  END IF;
  -- Recommenders are compared by their held-out metric, which validate => true measures.
  IF m.task = 'recommend' AND promote = 'if_better' THEN
    p := p || '{"validate": true}';
  END IF;
  r := insight._train(m.task, name, src, p, dep);
  IF NOT dep THEN
    PERFORM insight._promote_if_better(r.model_id);
  END IF;
  RETURN r;
END
$$;

-- The demo generator: one set-returning function, _demo_rows(NULL::insight.<table>, ...),
-- instead of one per table.
-------------------------------------------------------------------------------------------
-- Demo data
-------------------------------------------------------------------------------------------
-- The demo generator's rows of one standard table, typed as that table's row: tbl is a row of
-- it, e.g. NULL::insight.products (transactions come with a NULL transaction_id for the
-- identity to fill). Not STRICT: tbl is NULL by design.
CREATE FUNCTION insight._demo_rows(tbl anyelement, days int, seed bigint, end_time timestamptz,
    step int, remotes int DEFAULT 55)
  RETURNS SETOF anyelement AS 'MODULE_PATHNAME', 'insight_demo_rows'
  LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Fills the standard tables with deterministic demo data: the same (days, seed, end_time,
-- step_seconds) always gives the same rows. end_time defaults to now, rounded down to the
-- sample step. Refuses to touch tables that already hold rows unless replace => true.
-- SECURITY DEFINER (executable by insight_admin only): TRUNCATE ... RESTART IDENTITY and
-- ANALYZE need the tables' owner.
CREATE OR REPLACE FUNCTION insight.load_demo_data(days int DEFAULT 30, seed int DEFAULT 42,
    end_time timestamptz DEFAULT NULL, replace bool DEFAULT false, step_seconds int DEFAULT 300,
    sales_days int DEFAULT 120, remotes_per_network int DEFAULT 55)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  tables constant text[] := ARRAY['products', 'transactions', 'networks', 'satellites', 'sites',
      'hub_antennas', 'links', 'network_metrics', 'site_metrics', 'link_metrics', 'incidents',
      'demo_ground_truth'];
  t_end timestamptz;
  nonempty text;
  has_rows bool;
  counts jsonb := '{}';
  n bigint;
  tbl text;
BEGIN
  IF days IS NULL OR days < 1 OR days > 3650 THEN
    RAISE EXCEPTION 'days must be between 1 and 3650, got %', days USING ERRCODE = '22023';
  END IF;
  IF seed IS NULL THEN
    RAISE EXCEPTION 'seed must not be NULL' USING ERRCODE = '22023';
  END IF;
  IF sales_days IS NULL OR sales_days < 1 OR sales_days > 3650 THEN
    RAISE EXCEPTION 'sales_days must be between 1 and 3650, got %', sales_days USING ERRCODE = '22023';
  END IF;
  IF remotes_per_network IS NULL OR remotes_per_network < 1 OR remotes_per_network > 2500 THEN
    RAISE EXCEPTION 'remotes_per_network must be between 1 and 2500, got %', remotes_per_network
      USING ERRCODE = '22023';
  END IF;
  IF step_seconds IS NULL OR step_seconds NOT IN (60, 300) THEN
    RAISE EXCEPTION 'step_seconds must be 60 or 300, got %', step_seconds USING ERRCODE = '22023';
  END IF;
  t_end := coalesce(end_time,
                    to_timestamp(floor(extract(epoch FROM now()) / step_seconds) * step_seconds));

  -- Every table the load truncates is checked: nothing is deleted without replace => true.
  FOREACH tbl IN ARRAY tables LOOP
    EXECUTE format('SELECT EXISTS (SELECT FROM insight.%I)', tbl) INTO has_rows;
    IF has_rows THEN
      nonempty := concat_ws(', ', nonempty, tbl);
    END IF;
  END LOOP;
  IF nonempty IS NOT NULL AND NOT coalesce(replace, false) THEN
    RAISE EXCEPTION 'the standard tables already hold data (%)', nonempty
      USING ERRCODE = '55000',
            HINT = 'Call insight.load_demo_data(..., replace => true) to delete those rows first.';
  END IF;

  TRUNCATE insight.transactions, insight.products, insight.link_metrics, insight.site_metrics,
           insight.network_metrics, insight.links, insight.hub_antennas, insight.sites,
           insight.satellites, insight.networks, insight.incidents, insight.demo_ground_truth
           RESTART IDENTITY;

  INSERT INTO insight.products SELECT * FROM insight._demo_rows(NULL::insight.products, days, seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.transactions (ts, user_id, product_id, quantity, total_amount)
    SELECT ts, user_id, product_id, quantity, total_amount
      FROM insight._demo_rows(NULL::insight.transactions, greatest(days, sales_days), seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.networks SELECT * FROM insight._demo_rows(NULL::insight.networks, days, seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.satellites SELECT * FROM insight._demo_rows(NULL::insight.satellites, days, seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.sites SELECT * FROM insight._demo_rows(NULL::insight.sites, days, seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.hub_antennas SELECT * FROM insight._demo_rows(NULL::insight.hub_antennas, days, seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.links SELECT * FROM insight._demo_rows(NULL::insight.links, days, seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.network_metrics SELECT * FROM insight._demo_rows(NULL::insight.network_metrics, days, seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.site_metrics SELECT * FROM insight._demo_rows(NULL::insight.site_metrics, days, seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.link_metrics SELECT * FROM insight._demo_rows(NULL::insight.link_metrics, days, seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.demo_ground_truth SELECT * FROM insight._demo_rows(NULL::insight.demo_ground_truth, days, seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.incidents (scope, scope_id, started_at, ended_at, root_cause, notes)
    SELECT scope, scope_id, started_at, ended_at, root_cause, notes
      FROM insight.demo_ground_truth WHERE root_cause IS NOT NULL ORDER BY fault_id;
  TRUNCATE insight.link_metrics_5m;
  DELETE FROM insight.rollup_state WHERE name = 'link_metrics_5m';
  PERFORM insight.refresh_link_rollup();

  FOREACH tbl IN ARRAY tables LOOP
    EXECUTE format('SELECT count(*) FROM insight.%I', tbl) INTO n;
    counts := counts || jsonb_build_object(tbl, n);
  END LOOP;
  ANALYZE insight.transactions, insight.link_metrics, insight.site_metrics, insight.network_metrics;
  RETURN counts;
END
$$;

DROP FUNCTION insight._demo_products(int, bigint, timestamptz, int, int),
    insight._demo_transactions(int, bigint, timestamptz, int, int),
    insight._demo_networks(int, bigint, timestamptz, int, int),
    insight._demo_satellites(int, bigint, timestamptz, int, int),
    insight._demo_sites(int, bigint, timestamptz, int, int),
    insight._demo_hub_antennas(int, bigint, timestamptz, int, int),
    insight._demo_links(int, bigint, timestamptz, int, int),
    insight._demo_link_metrics(int, bigint, timestamptz, int, int),
    insight._demo_site_metrics(int, bigint, timestamptz, int, int),
    insight._demo_network_metrics(int, bigint, timestamptz, int, int),
    insight._demo_ground_truth(int, bigint, timestamptz, int, int);

-- The correlate_* functions return one composite type instead of five copies of its columns.
DROP FUNCTION insight.correlate_hub_antenna(text, int, timestamptz, text),
    insight.correlate_network(text, int, timestamptz, text),
    insight.correlate_satellite(text, int, timestamptz, text),
    insight.correlate_link_bidirectional(text, int, timestamptz, text),
    insight._correlate(text, text, int, timestamptz, text);

-- A finding of the root-cause detectors: the columns of API.md section 4 that every
-- correlate_* function returns.
CREATE TYPE insight.correlation_finding AS (pattern_type text, severity float8,
    confidence float8, root_cause text, affected text[], recommendations text[], evidence jsonb);

-- The detectors over one scope's telemetry window [until - hours, until), with the live
-- classifier of that name when one is deployed (NULL or absent: the detectors alone). Reads
-- insight.links, hub_antennas and link_metrics with the caller's privileges.
CREATE FUNCTION insight._correlate(scope text, scope_id text, hours int, until timestamptz,
    classifier text)
  RETURNS SETOF insight.correlation_finding
  AS 'MODULE_PATHNAME', 'insight_correlate' LANGUAGE C STABLE
  SET search_path = pg_catalog, pg_temp SET jit = off;

-- _correlate for each scope, as API.md names them.
CREATE FUNCTION insight.correlate_hub_antenna(antenna_id text, hours int DEFAULT 24,
    until timestamptz DEFAULT NULL, classifier text DEFAULT 'root_cause')
RETURNS SETOF insight.correlation_finding LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM insight._correlate('hub_antenna', antenna_id, hours, until, classifier) $$;

CREATE FUNCTION insight.correlate_network(network_id text, hours int DEFAULT 24,
    until timestamptz DEFAULT NULL, classifier text DEFAULT 'root_cause')
RETURNS SETOF insight.correlation_finding LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM insight._correlate('network', network_id, hours, until, classifier) $$;

CREATE FUNCTION insight.correlate_satellite(satellite_name text, hours int DEFAULT 72,
    until timestamptz DEFAULT NULL, classifier text DEFAULT 'root_cause')
RETURNS SETOF insight.correlation_finding LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM insight._correlate('satellite', satellite_name, hours, until, classifier) $$;

CREATE FUNCTION insight.correlate_link_bidirectional(link_id text, hours int DEFAULT 24,
    until timestamptz DEFAULT NULL, classifier text DEFAULT 'root_cause')
RETURNS SETOF insight.correlation_finding LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM insight._correlate('link', link_id, hours, until, classifier) $$;

REVOKE EXECUTE ON FUNCTION insight._check_model_name(text), insight._train(text, text, regclass, jsonb, bool),
    insight._demo_rows(anyelement, int, bigint, timestamptz, int, int),
    insight._correlate(text, text, int, timestamptz, text),
    insight.correlate_hub_antenna(text, int, timestamptz, text),
    insight.correlate_network(text, int, timestamptz, text),
    insight.correlate_satellite(text, int, timestamptz, text),
    insight.correlate_link_bidirectional(text, int, timestamptz, text),
    insight._store_model(text, text, text, bytea, text[], text, jsonb, jsonb, bigint, bigint,
                         float8, timestamptz, bool)
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION insight._check_model_name(text) TO insight_analyst, insight_admin;
GRANT EXECUTE ON FUNCTION insight._train(text, text, regclass, jsonb, bool) TO insight_admin;
GRANT EXECUTE ON FUNCTION insight._demo_rows(anyelement, int, bigint, timestamptz, int, int)
  TO insight_admin;
GRANT EXECUTE ON FUNCTION
    insight._correlate(text, text, int, timestamptz, text),
    insight.correlate_hub_antenna(text, int, timestamptz, text),
    insight.correlate_network(text, int, timestamptz, text),
    insight.correlate_satellite(text, int, timestamptz, text),
    insight.correlate_link_bidirectional(text, int, timestamptz, text)
  TO insight_analyst, insight_admin;
