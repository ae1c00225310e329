-------------------------------------------------------------------------------------------
-- pg_insight 0.1.0 as the current sources plus the way back: the Makefile builds
-- pg_insight--0.1.0.sql from src/sql's state and code files, then this file, then
-- privileges.sql. Version 0.1.0 is released; its install script only serves to create a 0.1.0
-- database for the upgrade test (users at 0.1.0 upgrade with the update scripts), so it is kept
-- as this reverse delta instead of a second copy of every function that has not changed since
-- (the approach of RCS: the newest revision in full, older ones as reverse edits).
--
-- sql/upgrade.sql compares what this script creates with the released 0.1.0 script's objects
-- (a digest of every member's definition, columns, constraints, indexes, privileges and
-- comments, recorded from the released file, which `git show 4837c4b:control/pg_insight--0.1.0.sql`
-- prints). When that check fails, a change since 0.1.0 needs its way back here:
--   - an object 0.1.0 did not have: drop it below (functions, types) or at the end (tables);
--   - a changed function that existed in 0.1.0: add an edit to insight._back_to_0_1_0 calls
--     (regular expressions from today's definition, as pg_get_functiondef prints it, to 0.1.0's;
--     a pattern that no longer matches stops CREATE EXTENSION with the function's name);
--   - a changed table: ALTER it back at the end.
-------------------------------------------------------------------------------------------

-- Re-creates function fn as 0.1.0 had it: its definition today (or, with symbol, a C function
-- of today's arguments and result calling symbol, with attributes), with each (pattern,
-- replacement) pair of edits applied by regexp_replace. A new signature or result drops
-- today's function first; the roles granted EXECUTE on it are granted it again.
CREATE FUNCTION insight._back_to_0_1_0(fn regprocedure, edits text[] DEFAULT '{}',
    symbol text DEFAULT NULL, attributes text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  today text := CASE WHEN symbol IS NULL THEN pg_get_functiondef(fn) ELSE
    format(E'CREATE OR REPLACE FUNCTION %s(%s)\n RETURNS %s\n LANGUAGE c\n %s\nAS %L, %L', fn::regproc,
           pg_get_function_arguments(fn), pg_get_function_result(fn), attributes,
           'MODULE_PATHNAME', symbol) END;
  then_ text := today;
  acl aclitem[] := (SELECT p.proacl FROM pg_proc p WHERE p.oid = fn);
  name text := fn::regproc::text;
  grantee regrole;
BEGIN
  FOR i IN 1 .. coalesce(array_length(edits, 1), 0) / 2 LOOP
    IF then_ !~ edits[2 * i - 1] THEN
      RAISE EXCEPTION 'the way back to 0.1.0 of % no longer applies: % is not in its definition',
                      fn, edits[2 * i - 1]
        USING HINT = 'src/sql/back_to_0.1.0.sql says how to update it.';
    END IF;
    then_ := regexp_replace(then_, edits[2 * i - 1], edits[2 * i], 'g');
  END LOOP;
  IF split_part(today, E'\n LANGUAGE', 1) = split_part(then_, E'\n LANGUAGE', 1) THEN
    EXECUTE then_;
    RETURN;
  END IF;
  EXECUTE format('DROP FUNCTION %s', fn);
  EXECUTE then_;
  -- The name has one function again (to_regproc is NULL for an overloaded name).
  IF to_regproc(name) IS NULL THEN
    RAISE EXCEPTION 'the way back to 0.1.0 of % cannot carry its grants: % is overloaded', fn, name;
  END IF;
  FOR grantee IN SELECT a.grantee FROM aclexplode(acl) a
                  WHERE a.privilege_type = 'EXECUTE' AND a.grantee NOT IN (0, a.grantor) LOOP
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', to_regproc(name)::oid::regprocedure, grantee);
  END LOOP;
END
$$;

-- The admin functions had no check of their own: EXECUTE, for insight_admin only, was the
-- whole check. The SECURITY DEFINER bodies were the functions users called (an entry goes,
-- its body takes its name), and the others did not call insight._require_admin.
DO $admin$
DECLARE
  f record;
BEGIN
  FOR f IN SELECT e.oid::regprocedure AS entry, b.oid::regprocedure AS body, e.proname::text AS name
             FROM pg_proc e JOIN pg_proc b ON b.pronamespace = e.pronamespace AND b.proname = '_' || e.proname
            WHERE e.pronamespace = 'insight'::regnamespace AND e.prokind = 'f' AND b.prosecdef
              AND pg_get_functiondef(e.oid) ~ '_require_admin\(' LOOP
    EXECUTE regexp_replace(regexp_replace(pg_get_functiondef(f.body), 'insight\._' || f.name || '\(',
                                          'insight.' || f.name || '('),
                           '\m_' || f.name || '\.', f.name || '.', 'g');
    EXECUTE format('DROP FUNCTION %s', f.body);
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM insight_analyst', f.entry);
  END LOOP;
  FOR f IN SELECT p.oid::regprocedure AS entry FROM pg_proc p
            WHERE p.pronamespace = 'insight'::regnamespace AND p.prokind = 'f'
              AND p.proname NOT IN ('_require_admin', '_admin_entry')
              AND pg_get_functiondef(p.oid) ~ '_require_admin\(' LOOP
    EXECUTE regexp_replace(pg_get_functiondef(f.entry), E'\n  PERFORM insight\\._require_admin\\([^)]*\\);', '');
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM insight_analyst', f.entry);
  END LOOP;
END
$admin$;

-- Training and evaluation were C functions reading their arguments by position
-- (src/pg/training_compat.cpp keeps their entry points).
SELECT insight._back_to_0_1_0(f::regprocedure, e, s, a) FROM (VALUES
  ('insight.train_anomaly_detector(text, regclass, text[], float8, int, int, bool, int, bool)',
   '{}'::text[], 'insight_train_anomaly_detector', 'VOLATILE'),
  ('insight.train_forecaster(text, regclass, text, text, text, text, int, bool, text, text[], text)',
   $${", frequency text DEFAULT 'auto'::text, regressors text\\[\\] DEFAULT NULL::text\\[\\], holidays text DEFAULT NULL::text", ""}$$,
   'insight_train_forecaster', 'VOLATILE'),
  ('insight.train_recommender(text, regclass, text, text, text, text, int, bool, int, float8,
    float8, int, int, int, int, bool)', '{", validate boolean DEFAULT false", ""}',
   'insight_train_recommender', 'VOLATILE'),
  ('insight.train_root_cause_classifier(text, regclass, bool)', '{}',
   'insight_train_root_cause_classifier', 'VOLATILE SET jit = off'),
  ('insight.evaluate_forecaster(regclass, text, text, text, text, int, int, float8, text, text[], text)',
   $${", frequency text DEFAULT 'auto'::text, regressors text\\[\\] DEFAULT NULL::text\\[\\], holidays text DEFAULT NULL::text", ""}$$,
   'insight_evaluate_forecaster',
   'STABLE PARALLEL RESTRICTED'),
  ('insight.evaluate_recommender(regclass, text, text, text, text, int, float8, text, int,
    timestamptz, int, float8, float8, int)', '{}', 'insight_evaluate_recommender',
   'STABLE PARALLEL RESTRICTED')) v(f, e, s, a);

-- The catalog write decoded task and algorithm from the payload, and checked the model name
-- with a regular expression of its own.
SELECT insight._back_to_0_1_0('insight._store_model(text, text, text, bytea, text[], text, jsonb,
    jsonb, bigint, bigint, float8, timestamptz, bool)', ARRAY[
  'p_task text, p_algorithm text, ', '',
  E'\nDECLARE\n', E'\nDECLARE\n  info jsonb;\n',
  'PERFORM insight._check_model_name\(p_name\);', $then$IF p_name IS NULL OR p_name !~ '^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,62}$' THEN
    RAISE EXCEPTION 'invalid model name "%"', p_name
      USING ERRCODE = '22023',
            DETAIL = 'A model name is 1 to 63 characters: letters, digits, and _ . : - (not first).';
  END IF;
  info := insight.payload_info(p_payload);
  -- Without explicit features, use the ones the payload's metadata names.
  IF p_features IS NULL AND jsonb_typeof(info->'metadata'->'features') = 'array' THEN
    SELECT array_agg(f ORDER BY o) INTO p_features
      FROM jsonb_array_elements_text(info->'metadata'->'features') WITH ORDINALITY AS t(f, o);
  END IF;$then$,
  'p_task, p_algorithm', $then$info->>'task', info->>'algorithm'$then$]);
SELECT insight._back_to_0_1_0('insight.register_model(text, text, bytea, jsonb, text[], text, bool)',
  ARRAY['_store_model\(name, .* e\) p;', $then$_store_model(name,
           insight._external_payload(task,
             CASE WHEN features IS NULL THEN metadata
                  ELSE coalesce(metadata, '{}') || jsonb_build_object('features', to_jsonb(features)) END,
             body),
           features,
                              source, '{}'::jsonb, '{}'::jsonb, NULL, NULL, NULL, NULL, deploy);$then$]);
SELECT insight._back_to_0_1_0('insight.import_model(text, bytea, bool)',
  ARRAY['name, i\.info.* i;', $then$name, payload, NULL, 'import', '{}'::jsonb,
      CASE WHEN jsonb_typeof(i.meta->'metrics') = 'object' THEN i.meta->'metrics' END,
      NULL, NULL, NULL, NULL, deploy)
    FROM (SELECT insight.payload_info(payload)->'metadata' AS meta) i;$then$]);

-- Unknown model names were echoed whole.
SELECT insight._back_to_0_1_0('insight._require_model(text)', ARRAY[
  '''model % does not exist'', insight\._echo\(p_name\)', '''model "%" does not exist'', p_name']);

-- A missing version was raised in place (drop_model and export_model without a HINT).
SELECT insight._back_to_0_1_0('insight.deploy(text, int)', ARRAY[
  'PERFORM insight\._no_version\(deploy\.name, deploy\.version\);', $then$RAISE EXCEPTION 'model "%" has no version %', deploy.name, deploy.version
      USING ERRCODE = '42704',
            HINT = format('Versions of %s: %s.', deploy.name,
                          (SELECT string_agg(m.version::text, ', ' ORDER BY m.version)
                             FROM insight.models m WHERE m.name = deploy.name));$then$]);
SELECT insight._back_to_0_1_0('insight.drop_model(text, int)', ARRAY[
  'PERFORM insight\._no_version\(drop_model\.name, drop_model\.version\);', $then$RAISE EXCEPTION 'model "%" has no version %', drop_model.name, drop_model.version
      USING ERRCODE = '42704';$then$]);
SELECT insight._back_to_0_1_0('insight.export_model(text, int)', ARRAY[
  'PERFORM insight\._no_version\(export_model\.name, export_model\.version\);', $then$RAISE EXCEPTION 'model "%" has no version %', export_model.name, export_model.version
        USING ERRCODE = '42704';$then$]);

-- Deploying the live version added a history row.
SELECT insight._back_to_0_1_0('insight.deploy(text, int)', ARRAY[
  E'  -- Deploying the live version changes nothing: .*?RETURN id;\n  END IF;\n', '']);

-- Detection did not check the entity (an unknown one gave no rows), said nothing of what it
-- scored (nor had p_report), used JIT, scored rows up to three times and read the link baseline twice.
SELECT insight._back_to_0_1_0('insight._detect(text, text, text, interval, timestamptz, interval, bool, bool, bool)',
  ARRAY[$p$ SET jit TO 'off'\n$p$, '',
        $p$,\n? *p_report boolean DEFAULT true\)$p$, ')',
        $p$  v_until timestamptz;\n$p$, '',
        $p$  v_asked timestamptz;\n.*?  v_returned bigint;\n$p$, '',
        $p$  v_known bool;\n$p$, '',
        $p$  -- The window's rows are sorted for the join .*?32MB', true\);\n  END IF;\n$p$, '',
        $p$  -- An unknown entity is a mistake, .*?\n    END IF;\n  END IF;\n$p$, '',
        $p$(  IF NOT EXISTS \(SELECT FROM insight\.deployments)$p$, $r$  v_from := coalesce(p_until, now()) - p_since;
\1$r$,
        $p$  v_until := coalesce\(p_until, now\(\)\);\n.*?\n  END IF;\n(  v_sql := format)$p$, $r$\1$r$,
        $p$, model_id,\n +features, top_features\)$p$, ', model_id, features)',
        $p$''ts'',\n +insight\.top_features\(\$5, f, 3\)\n$p$, $r$''ts''
$r$,
        $p$(          flagged AS \()$p$, $r$          f AS (SELECT * FROM insight.%I($1, $2, $3, $4)),
          s AS (SELECT f.%I AS entity_id, f.ts, insight.anomaly_score($5, f) AS score, f FROM f),
\1$r$,
        $p$              FROM \(SELECT f\.%I AS entity_id.*?OFFSET 0\) s, m\n             WHERE s\.score IS NOT NULL\)',\n    p_scope \|\| '_id', '_' \|\| p_scope \|\| '_features'\);$p$,
        $r$              FROM s, m WHERE s.score IS NOT NULL)',
    '_' || p_scope || '_features', p_scope || '_id');$r$,
        $p$    USING v_from, v_until, v_baseline_from, p_entity, p_model, coalesce\(p_only_anomalies, true\);\n.*?ELSE '' END;\n$p$,
        $r$    USING v_from, coalesce(p_until, now()), v_from - p_baseline, p_entity, p_model,
          coalesce(p_only_anomalies, true);
$r$]);
DROP STATISTICS insight.link_metrics_hour_of_day;
SELECT insight._back_to_0_1_0('insight.recommend_actions(text, text, interval, timestamptz)',
  ARRAY['''7 days'', true, false, false\) d', '''7 days'', true, false) d']);

-- forecast had no regressors_source or reconcile.
SELECT insight._back_to_0_1_0('insight.forecast(text, int, text, float8, regclass, bool)',
  '{", regressors_source regclass DEFAULT NULL::regclass, reconcile boolean DEFAULT false", ""}');

-- Unknown products: forecast_daily_sales gave no HINT, similar_products no error.
SELECT insight._back_to_0_1_0('insight.forecast_daily_sales(int, text, float8)',
  ARRAY[E',\n            HINT = ''Known ids are in insight.products.'';', ';']);
SELECT insight._back_to_0_1_0('insight.similar_products(text, int)',
  ARRAY[E'  -- A product that does not exist is a mistake, .*?insight\\.products\\.'';\n  END IF;\n', '']);

-- Retraining had no promote policy, and called the train_* functions by position.
SELECT insight._back_to_0_1_0('insight.retrain(text, text)', ARRAY[
  ', promote text DEFAULT ''always''::text', '',
  E'  dep bool;\n', '',
  E'  PERFORM insight._check_promote\\(promote, name, m.task\\);\n  dep := promote = ''always'';\n', '',
  '  -- Versions trained before 0.3.0.*_promote_if_better\(r.model_id\);\n  END IF;', $then$  CASE m.task
    WHEN 'anomaly' THEN
      r := insight.train_anomaly_detector(name, src, m.features, (p->>'contamination')::float8,
             (p->>'n_trees')::int, (p->>'sample_size')::int, true, (p->>'seed')::int,
             coalesce((p->>'standardize')::bool, true));
    WHEN 'forecast' THEN
      r := insight.train_forecaster(name, src, p->>'time_column', p->>'value_column',
             p->>'group_column', p->>'algorithm', (p->>'horizon')::int, true);
    WHEN 'recommend' THEN
      r := insight.train_recommender(name, src, p->>'user_column', p->>'item_column',
             p->>'weight_column', p->>'algorithm', (p->>'factors')::int, true,
             (p->>'iterations')::int, (p->>'regularization')::float8, (p->>'alpha')::float8,
             (p->>'neighbors')::int, (p->>'min_user_interactions')::int,
             (p->>'min_item_interactions')::int, (p->>'seed')::int);
    WHEN 'root_cause' THEN
      r := insight.train_root_cause_classifier(name, src, true);
  END CASE;$then$]);
SELECT insight._back_to_0_1_0('insight.retrain_all(text)', ARRAY[
  'promote text DEFAULT ''always''::text', '',
  E'  PERFORM insight._check_promote\\(promote, NULL, NULL\\);\n', '',
  'insight.retrain\(n, promote\)', 'insight.retrain(n)']);
SELECT insight._back_to_0_1_0('insight.schedule_retraining(text, text, text, text, interval)', ARRAY[
  ', promote text DEFAULT ''always''::text', '',
  ', "when" text DEFAULT ''always''::text', '',
  ', since interval DEFAULT ''[^'']*''::interval', '',
  E'  m record;\n', '',
  E'SELECT \\* INTO m FROM (insight._live_training\\(name, ''schedule''\\));\n  PERFORM insight._check_promote\\(promote, name, m.task\\);', 'PERFORM \1;',
  E'  PERFORM insight._check_when\\("when", name, since\\);\n', '',
  E'schedule,\n +CASE WHEN .* END;', $then$schedule, format('SELECT insight.retrain(%L)', name);$then$]);

-- The detectors' features spelt the deviation out instead of calling insight._deviation, had
-- no peak_dev (nor errors_dev for links), read no watch's keys, and the link features read
-- their baseline twice: 0.1.0's definitions, as released. The training views over them go
-- and come back with them.
DROP VIEW insight.link_anomaly_features, insight.site_anomaly_features, insight.network_anomaly_features;
DROP FUNCTION insight._link_features(timestamptz, timestamptz, timestamptz, text, text[], timestamptz[]),
  insight._site_features(timestamptz, timestamptz, timestamptz, text, text[], timestamptz[]),
  insight._network_features(timestamptz, timestamptz, timestamptz, text, text[], timestamptz[]),
  insight._link_baseline(timestamptz, timestamptz, text), insight._site_baseline(timestamptz, timestamptz, text),
  insight._network_baseline(timestamptz, timestamptz, text);
CREATE FUNCTION insight._link_features(p_from timestamptz, p_until timestamptz,
    p_baseline_from timestamptz, p_link text)
RETURNS TABLE(link_id text, ts timestamptz, throughput_mbps float8, utilization float8,
    errors float8, discards float8, uptime_pct float8, ib_packet_loss_pct float8,
    ob_packet_loss_pct float8, throughput_hour_dev float8, ib_esno_dev float8, ob_esno_dev float8,
    latency_dev float8, jitter_dev float8)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH h AS (
    SELECT m.link_id, extract(hour FROM m.ts AT TIME ZONE 'UTC') AS hour,
           avg(m.throughput_mbps) AS t_avg, stddev_pop(m.throughput_mbps) AS t_sd
      FROM insight.link_metrics m
     WHERE (p_from IS NULL OR (m.ts >= p_baseline_from AND m.ts < p_from))
       AND (p_link IS NULL OR m.link_id = p_link)
     GROUP BY 1, 2),
  b AS (
    SELECT m.link_id,
           avg(m.ib_esno_db) AS i_avg, stddev_pop(m.ib_esno_db) AS i_sd,
           avg(m.ob_esno_db) AS o_avg, stddev_pop(m.ob_esno_db) AS o_sd,
           avg(m.latency_ms) AS l_avg, stddev_pop(m.latency_ms) AS l_sd,
           avg(m.jitter_ms) AS j_avg, stddev_pop(m.jitter_ms) AS j_sd
      FROM insight.link_metrics m
     WHERE (p_from IS NULL OR (m.ts >= p_baseline_from AND m.ts < p_from))
       AND (p_link IS NULL OR m.link_id = p_link)
     GROUP BY m.link_id)
  SELECT m.link_id, m.ts, m.throughput_mbps, m.utilization, m.errors, m.discards, m.uptime_pct,
         m.ib_packet_loss_pct, m.ob_packet_loss_pct,
         (m.throughput_mbps - h.t_avg) / greatest(h.t_sd, 1e-3 + 0.01 * abs(h.t_avg)),
         (m.ib_esno_db - b.i_avg) / greatest(b.i_sd, 1e-3 + 0.01 * abs(b.i_avg)),
         (m.ob_esno_db - b.o_avg) / greatest(b.o_sd, 1e-3 + 0.01 * abs(b.o_avg)),
         (m.latency_ms - b.l_avg) / greatest(b.l_sd, 1e-3 + 0.01 * abs(b.l_avg)),
         (m.jitter_ms - b.j_avg) / greatest(b.j_sd, 1e-3 + 0.01 * abs(b.j_avg))
    FROM insight.link_metrics m JOIN b ON b.link_id = m.link_id
    JOIN h ON h.link_id = m.link_id AND h.hour = extract(hour FROM m.ts AT TIME ZONE 'UTC')
   WHERE (p_from IS NULL OR (m.ts >= p_from AND m.ts < p_until))
     AND (p_link IS NULL OR m.link_id = p_link)
$$;
CREATE FUNCTION insight._site_features(p_from timestamptz, p_until timestamptz,
    p_baseline_from timestamptz, p_site text)
RETURNS TABLE(site_id text, ts timestamptz, response_time_ms float8, error_rate float8,
    uptime_pct float8, cpu_pct float8, memory_pct float8, response_time_dev float8,
    error_rate_dev float8, cpu_dev float8, memory_dev float8)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH b AS (
    SELECT m.site_id,
           avg(m.response_time_ms) AS r_avg, stddev_pop(m.response_time_ms) AS r_sd,
           avg(m.error_rate) AS e_avg, stddev_pop(m.error_rate) AS e_sd,
           avg(m.cpu_pct) AS c_avg, stddev_pop(m.cpu_pct) AS c_sd,
           avg(m.memory_pct) AS m_avg, stddev_pop(m.memory_pct) AS m_sd
      FROM insight.site_metrics m
     WHERE (p_from IS NULL OR (m.ts >= p_baseline_from AND m.ts < p_from))
       AND (p_site IS NULL OR m.site_id = p_site)
     GROUP BY m.site_id)
  SELECT m.site_id, m.ts, m.response_time_ms, m.error_rate, m.uptime_pct, m.cpu_pct, m.memory_pct,
         (m.response_time_ms - b.r_avg) / greatest(b.r_sd, 1e-3 + 0.01 * abs(b.r_avg)),
         (m.error_rate - b.e_avg) / greatest(b.e_sd, 1e-3 + 0.01 * abs(b.e_avg)),
         (m.cpu_pct - b.c_avg) / greatest(b.c_sd, 1e-3 + 0.01 * abs(b.c_avg)),
         (m.memory_pct - b.m_avg) / greatest(b.m_sd, 1e-3 + 0.01 * abs(b.m_avg))
    FROM insight.site_metrics m JOIN b ON b.site_id = m.site_id
   WHERE (p_from IS NULL OR (m.ts >= p_from AND m.ts < p_until))
     AND (p_site IS NULL OR m.site_id = p_site)
$$;
CREATE FUNCTION insight._network_features(p_from timestamptz, p_until timestamptz,
    p_baseline_from timestamptz, p_network text)
RETURNS TABLE(network_id text, ts timestamptz, bandwidth_mbps float8, packet_loss_pct float8,
    latency_ms float8, error_rate float8, connections float8, bandwidth_dev float8,
    packet_loss_dev float8, latency_dev float8, error_rate_dev float8, connections_dev float8)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH b AS (
    SELECT m.network_id,
           avg(m.bandwidth_mbps) AS b_avg, stddev_pop(m.bandwidth_mbps) AS b_sd,
           avg(m.packet_loss_pct) AS p_avg, stddev_pop(m.packet_loss_pct) AS p_sd,
           avg(m.latency_ms) AS l_avg, stddev_pop(m.latency_ms) AS l_sd,
           avg(m.error_rate) AS e_avg, stddev_pop(m.error_rate) AS e_sd,
           avg(m.connections) AS c_avg, stddev_pop(m.connections) AS c_sd
      FROM insight.network_metrics m
     WHERE (p_from IS NULL OR (m.ts >= p_baseline_from AND m.ts < p_from))
       AND (p_network IS NULL OR m.network_id = p_network)
     GROUP BY m.network_id)
  SELECT m.network_id, m.ts, m.bandwidth_mbps, m.packet_loss_pct, m.latency_ms, m.error_rate,
         m.connections,
         (m.bandwidth_mbps - b.b_avg) / greatest(b.b_sd, 1e-3 + 0.01 * abs(b.b_avg)),
         (m.packet_loss_pct - b.p_avg) / greatest(b.p_sd, 1e-3 + 0.01 * abs(b.p_avg)),
         (m.latency_ms - b.l_avg) / greatest(b.l_sd, 1e-3 + 0.01 * abs(b.l_avg)),
         (m.error_rate - b.e_avg) / greatest(b.e_sd, 1e-3 + 0.01 * abs(b.e_avg)),
         (m.connections - b.c_avg) / greatest(b.c_sd, 1e-3 + 0.01 * abs(b.c_avg))
    FROM insight.network_metrics m JOIN b ON b.network_id = m.network_id
   WHERE (p_from IS NULL OR (m.ts >= p_from AND m.ts < p_until))
     AND (p_network IS NULL OR m.network_id = p_network)
$$;
GRANT EXECUTE ON FUNCTION insight._link_features(timestamptz, timestamptz, timestamptz, text),
    insight._site_features(timestamptz, timestamptz, timestamptz, text),
    insight._network_features(timestamptz, timestamptz, timestamptz, text)
  TO insight_analyst, insight_admin;
CREATE VIEW insight.link_anomaly_features AS SELECT * FROM insight._link_features(NULL, NULL, NULL, NULL);
CREATE VIEW insight.site_anomaly_features AS SELECT * FROM insight._site_features(NULL, NULL, NULL, NULL);
CREATE VIEW insight.network_anomaly_features AS SELECT * FROM insight._network_features(NULL, NULL, NULL, NULL);
GRANT SELECT ON insight.link_anomaly_features, insight.site_anomaly_features,
                insight.network_anomaly_features TO insight_analyst, insight_admin;
-- train_default_models trained on them without the peaks.
SELECT insight._back_to_0_1_0('insight.train_default_models()', ARRAY[
  E',\n +''errors_dev'', ''peak_dev''\]', ']', ', ''peak_dev''\]', ']']);

-- The correlate_* functions spelt insight.correlation_finding's columns out.
SELECT insight._back_to_0_1_0(p.oid::regprocedure, ARRAY[
    'RETURNS SETOF insight\.correlation_finding', 'RETURNS TABLE(pattern_type text, severity '
    'double precision, confidence double precision, root_cause text, affected text[], '
    'recommendations text[], evidence jsonb)'] || CASE WHEN p.prolang <> (SELECT l.oid FROM pg_language l WHERE l.lanname = 'c') THEN
  ARRAY[' (SELECT \* FROM insight\._correlate\([^)]*\)) ', E'\n  \\1\n'] ELSE '{}' END)
  FROM pg_proc p WHERE p.prorettype = 'insight.correlation_finding'::regtype;
DROP TYPE insight.correlation_finding;

-- One demo generator per table, and load_demo_data calling them.
DO $demo$
DECLARE
  t text;
  f text;
BEGIN
  FOREACH t IN ARRAY '{products, transactions, networks, satellites, sites, hub_antennas, links,
                       link_metrics, site_metrics, network_metrics, demo_ground_truth}'::text[] LOOP
    f := '_demo_' || regexp_replace(t, '^demo_', '');
    EXECUTE format('CREATE FUNCTION insight.%I(days int, seed bigint, end_time timestamptz, step int,
    remotes int DEFAULT 55) RETURNS %s AS %L, %L LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE',
      f, CASE t WHEN 'transactions' THEN 'TABLE(ts timestamptz, user_id text, '
        'product_id text, quantity int, total_amount numeric)' ELSE 'SETOF insight.' || t END,
      'MODULE_PATHNAME', 'insight' || f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION insight.%I(int, bigint, timestamptz, int, int) TO insight_admin', f);
  END LOOP;
END
$demo$;
SELECT insight._back_to_0_1_0('insight.load_demo_data(int, int, timestamptz, bool, int, int, int)', ARRAY[
  -- the ground truth of the shop's sales anomalies, labelled over the sales' window (issue 16)
  $re$ g\n +WHERE g\.kind NOT IN .*?WHERE g\.kind IN \('sales_drop', 'sales_spike'\);$re$, ';',
  E'SELECT ts, user_id, product_id, quantity, total_amount\n +FROM insight\\._demo_rows\\(NULL::insight\\.transactions, ',
  'SELECT * FROM insight._demo_transactions(',
  'insight\._demo_rows\(NULL::insight\.(demo_)?(\w+), ', 'insight._demo_\2(']);

-- What came after 0.1.0.
DROP FUNCTION insight._train(text, text, regclass, jsonb, bool), insight._evaluate(text, regclass, jsonb),
  insight._check_model_name(text), insight._echo(text), insight._no_version(text, int), insight._check_promote(text, text, text),
  insight._require_admin(text), insight._admin_entry(regprocedure, text),
  insight._detect_series(regclass, text, text, text, interval, text, float8, text, text),
  insight.detect_series_anomalies(regclass, text, text, text, interval, text, float8, text),
  insight.detect_sales_anomaly(int, text, float8), insight.explain_forecast(text, int, text, regclass),
  insight._promote_if_better(bigint), insight._validation_metric(text, jsonb),
  insight._demo_rows(anyelement, int, bigint, timestamptz, int, int),
  insight._deviation(float8, float8, float8),
  insight.anomaly_score(text, numeric[]), insight.anomaly_score(text, int[]),
  insight.anomaly_score(text, bigint[]), insight.is_anomaly(text, numeric[]),
  insight.is_anomaly(text, int[]), insight.is_anomaly(text, bigint[]),
  insight.anomaly_score(text, text), insight.is_anomaly(text, text);
ALTER TABLE insight.training_runs DROP COLUMN promoted, DROP COLUMN evidence,
  DROP CONSTRAINT training_runs_status_check,
  ADD CONSTRAINT training_runs_status_check CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled'));
-- unschedule_retraining removed its job itself (insight._cron_unschedule serves unwatch too).
SELECT insight._back_to_0_1_0('insight.unschedule_retraining(text)', ARRAY[
  E'\\$function\\$\nBEGIN\n', E'$function$\nDECLARE\n  found bool;\nBEGIN\n',
  $re$  RETURN insight\._cron_unschedule\('insight_retrain_' \|\| name\);\n$re$,
  $then$  EXECUTE 'SELECT EXISTS (SELECT FROM cron.job WHERE jobname = $1)' INTO found
    USING 'insight_retrain_' || name;
  IF found THEN
    EXECUTE 'SELECT cron.unschedule($1::name)' USING 'insight_retrain_' || name;
  END IF;
  RETURN found;
$then$]);
-- Model monitoring (monitoring.sql).
DROP VIEW insight.model_usage;
DROP FUNCTION insight._usage_counts(regclass), insight.model_drift(text, regclass, interval),
  insight._require_profile(text, interval),
  insight.retrain_on_evidence(text, text, text, interval), insight._check_when(text, text, interval),
  insight._record_decision(text, timestamptz, text, jsonb, bigint);
-- Live operations (watch_tables.sql, watch.sql).
DROP VIEW insight.alert_labels;
DROP FUNCTION insight.watch(text, interval, interval, int, interval, float8), insight.unwatch(text),
  insight._watch_run(text), insight._watch_root_causes(text, bigint[], timestamptz),
  insight._watch_sales_causes(bigint[]),
  insight._watch_triggers(text, bool), insight._cron_every(interval), insight._check_watch_scope(text),
  insight._cron_unschedule(text),
  insight.acknowledge_alert(bigint, text), insight.resolve_alert(bigint, text, text),
  insight._alert_changed(insight.alerts, text, text, name), insight._change_alert(bigint, text, text, name);
DELETE FROM insight.anomaly_events WHERE scope = 'sales';
ALTER TABLE insight.anomaly_events DROP COLUMN top_features, DROP COLUMN alert_id,
  DROP CONSTRAINT anomaly_events_scope_check,
  ADD CONSTRAINT anomaly_events_scope_check CHECK (scope IN ('link', 'site', 'network'));
DROP TABLE insight.alert_events, insight.alerts, insight.watches, insight.watch_queue,
  insight.watch_runs, insight.link_baselines, insight.site_baselines, insight.network_baselines;
DROP FUNCTION insight._watch_queue_link(), insight._watch_queue_site(), insight._watch_queue_network(),
  insight._watch_queue_sales();

-- 0.1.0 declared every scoring function at COST 100 (0.3.0 measured 50-60: docs/benchmarks.md).
ALTER FUNCTION insight.anomaly_score(bytea, float8[]) COST 100;
ALTER FUNCTION insight.anomaly_score(text, float8[]) COST 100;
ALTER FUNCTION insight.anomaly_score(text, anyelement) COST 100;
ALTER FUNCTION insight.is_anomaly(text, anyelement) COST 100;
ALTER FUNCTION insight.is_anomaly(text, float8[]) COST 100;

-- 0.1.0's objects had no descriptions.
DO $descriptions$
DECLARE
  o record;
BEGIN
  FOR o IN SELECT i.type, i.identity
             FROM pg_depend e, pg_identify_object(e.classid, e.objid, 0) i
            WHERE e.refclassid = 'pg_extension'::regclass AND e.deptype = 'e'
              AND e.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_insight')
              AND obj_description(e.objid, e.classid::regclass::name) IS NOT NULL LOOP
    EXECUTE format('COMMENT ON %s %s IS NULL', upper(replace(o.type, 'composite ', '')), o.identity);
  END LOOP;
END
$descriptions$;
DROP FUNCTION insight._back_to_0_1_0(regprocedure, text[], text, text);
