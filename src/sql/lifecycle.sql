-------------------------------------------------------------------------------------------
-- Lifecycle: deploy, roll back, drop, register, export and import versions
-------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION insight._deploy(name text, version int) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  id bigint;
BEGIN
  PERFORM insight._require_model(_deploy.name);
  PERFORM insight._lock_name(_deploy.name);
  IF _deploy.version IS NULL THEN
    RAISE EXCEPTION 'version must not be NULL' USING ERRCODE = '22023',
      HINT = 'Pass the version to make live; insight.models lists them.';
  END IF;
  SELECT m.model_id INTO id FROM insight.models m
   WHERE m.name = _deploy.name AND m.version = _deploy.version;
  IF id IS NULL THEN
    PERFORM insight._no_version(_deploy.name, _deploy.version);
  END IF;
  -- Deploying the live version changes nothing: no history row (rollback still goes back to
  -- the version live before it).
  IF id = (SELECT d.model_id FROM insight.deployments d
            WHERE d.name = _deploy.name ORDER BY d.deployment_id DESC LIMIT 1) THEN
    RAISE NOTICE 'version % of model "%" is already live', _deploy.version, _deploy.name;
    RETURN id;
  END IF;
  RETURN insight._deploy_model_id(_deploy.name, id, 'deploy');
END
$$;

-- Goes back one step in the deployment history: the model that was live before the live
-- deployment was made. Repeated rollbacks walk further back; a new deploy starts a new step.
-- Deployments whose version was dropped are skipped.
CREATE OR REPLACE FUNCTION insight._rollback(name text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  cur insight.deployments;
  target insight.deployments;
  step bigint;
BEGIN
  PERFORM insight._require_model(_rollback.name);
  PERFORM insight._lock_name(_rollback.name);
  SELECT * INTO cur FROM insight.deployments d
   WHERE d.name = _rollback.name ORDER BY d.deployment_id DESC LIMIT 1;
  IF cur.deployment_id IS NULL THEN
    RAISE EXCEPTION 'model "%" has never been deployed', _rollback.name
      USING ERRCODE = '22023', HINT = 'Deploy a version with insight.deploy(name, version).';
  END IF;
  step := cur.previous_deployment_id;
  LOOP
    IF step IS NULL THEN
      RAISE EXCEPTION 'model "%" has no earlier deployment to roll back to', _rollback.name
        USING ERRCODE = '22023',
              DETAIL = format('Version %s is live and no earlier deployment of another version is left.',
                              cur.version);
    END IF;
    SELECT * INTO target FROM insight.deployments WHERE deployment_id = step;
    EXIT WHEN target.model_id IS NOT NULL AND target.model_id <> cur.model_id;
    step := target.previous_deployment_id;
  END LOOP;
  INSERT INTO insight.deployments (name, model_id, action, previous_deployment_id, version)
  VALUES (_rollback.name, target.model_id, 'rollback', target.previous_deployment_id, target.version);
  RETURN target.model_id;
END
$$;

-- Removes one version (or all, version NULL); returns how many. Deployment rows of a dropped
-- version stay in the history with model_id NULL; dropping all versions forgets the name's
-- deployments too. The live version can only go together with all others. Version numbers
-- are never reused.
CREATE OR REPLACE FUNCTION insight._drop_model(name text, version int DEFAULT NULL) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  live bigint;
  n int;
BEGIN
  PERFORM insight._require_model(_drop_model.name);
  PERFORM insight._lock_name(_drop_model.name);
  IF _drop_model.version IS NULL THEN
    DELETE FROM insight.models m WHERE m.name = _drop_model.name;
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM insight.deployments d WHERE d.name = _drop_model.name;
    RETURN n;
  END IF;
  IF NOT EXISTS (SELECT FROM insight.models m
                  WHERE m.name = _drop_model.name AND m.version = _drop_model.version) THEN
    PERFORM insight._no_version(_drop_model.name, _drop_model.version);
  END IF;
  SELECT d.model_id INTO live FROM insight.deployments d
   WHERE d.name = _drop_model.name ORDER BY d.deployment_id DESC LIMIT 1;
  IF live = (SELECT m.model_id FROM insight.models m
              WHERE m.name = _drop_model.name AND m.version = _drop_model.version) THEN
    RAISE EXCEPTION 'version % of model "%" is live', _drop_model.version, _drop_model.name
      USING ERRCODE = '22023',
            HINT = 'Deploy or roll back to another version first, or drop all versions with insight.drop_model(name).';
  END IF;
  DELETE FROM insight.models m WHERE m.name = _drop_model.name AND m.version = _drop_model.version;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;

-- Registers a model trained outside pg_insight as an opaque, versioned artifact
-- (algorithm 'external'): deployable, exportable, auditable; pg_insight cannot score it.
CREATE OR REPLACE FUNCTION insight._register_model(name text, task text, body bytea,
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
-- The payload of a version (live one when version is NULL), for insight.import_model elsewhere.
CREATE OR REPLACE FUNCTION insight.export_model(name text, version int DEFAULT NULL) RETURNS bytea
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  p bytea;
BEGIN
  PERFORM insight._require_model(export_model.name);
  IF export_model.version IS NULL THEN
    SELECT m.payload INTO p FROM insight.models m
     WHERE m.model_id = insight.live_model_id(export_model.name);
  ELSE
    SELECT m.payload INTO p FROM insight.models m
     WHERE m.name = export_model.name AND m.version = export_model.version;
    IF p IS NULL THEN
      PERFORM insight._no_version(export_model.name, export_model.version);
    END IF;
  END IF;
  RETURN p;
END
$$;

-- Stores an exported payload as a new version of `name` (validated: XX001 when corrupt);
-- task, algorithm, features and numeric metrics come from the payload's metadata.
CREATE OR REPLACE FUNCTION insight._import_model(name text, payload bytea, deploy bool DEFAULT true)
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
-------------------------------------------------------------------------------------------
-- Retraining (issue 7)
-------------------------------------------------------------------------------------------
-- A failed run of name's training, for insight.training_runs (admins cannot write the catalog
-- directly). Returns the run id.
CREATE OR REPLACE FUNCTION insight._record_failed_run(p_name text, p_started_at timestamptz, p_message text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  id bigint;
BEGIN
  INSERT INTO insight.training_runs (name, started_at, finished_at, status, message)
  VALUES (p_name, p_started_at, clock_timestamp(), 'failed', left(p_message, 2000))
  RETURNING run_id INTO id;
  RETURN id;
END
$$;

-- The live version of name and what trained it; 42704 when none is deployed, 22023 when it
-- was registered or imported as an opaque artifact (nothing to re-run). `what` names the
-- caller's purpose in the message.
CREATE OR REPLACE FUNCTION insight._live_training(name text, what text, OUT task text, OUT algorithm text,
    OUT source text, OUT features text[], OUT params jsonb)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF name IS NULL THEN
    RAISE EXCEPTION 'name must not be NULL' USING ERRCODE = '22023';
  END IF;
  SELECT mo.task, mo.algorithm, mo.source, mo.features, mo.params
    INTO task, algorithm, source, features, params
    FROM insight.models mo WHERE mo.model_id = insight.live_model_id(_live_training.name);
  IF NOT FOUND THEN
    RAISE EXCEPTION 'model "%" has no deployed version', name
      USING ERRCODE = '42704', HINT = 'Train it with one of the insight.train_* functions first.';
  END IF;
  IF algorithm = 'external' OR source IS NULL THEN
    RAISE EXCEPTION 'model "%" was not trained by pg_insight: there is no training to %', name, what
      USING ERRCODE = '22023',
            DETAIL = format('Its live version has task %s and algorithm %s.', task, algorithm),
            HINT = 'Register or import a new version instead.';
  END IF;
END
$$;

-- The validation metric of a task's models, read from models.metrics: forecasters' mean
-- rolling-origin backtest MASE (lower is better), root-cause classifiers' accuracy
-- cross-validated by incident, recommenders' held-out ndcg@10 (validate => true; higher is
-- better). Anomaly detectors, trained without labels, have none: metric is NULL. value is
-- NULL when metrics lack it.
CREATE OR REPLACE FUNCTION insight._validation_metric(task text, metrics jsonb,
    OUT metric text, OUT value float8, OUT lower_is_better bool)
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  SELECT v.metric,
         CASE WHEN jsonb_typeof(metrics -> v.metric) = 'number' THEN (metrics ->> v.metric)::float8 END,
         v.lower_is_better
    FROM (SELECT CASE task WHEN 'forecast' THEN 'mase' WHEN 'root_cause' THEN 'cv_accuracy'
                           WHEN 'recommend' THEN 'validation_ndcg_at_10' END AS metric,
                 task = 'forecast' AS lower_is_better) v
$$;

-- 22023 unless promote is a known policy; with 'if_better' and a task, also unless the
-- task has a validation metric.
CREATE OR REPLACE FUNCTION insight._check_promote(promote text, name text, task text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF promote IS NULL OR promote NOT IN ('always', 'if_better') THEN
    RAISE EXCEPTION 'promote must be ''always'' or ''if_better'', not %',
                    coalesce(quote_literal(promote), 'NULL')
      USING ERRCODE = '22023';
  END IF;
  IF promote = 'if_better' AND task IS NOT NULL AND (SELECT v.metric FROM insight._validation_metric(task, '{}') v) IS NULL THEN
    RAISE EXCEPTION 'model "%" has no validation metric to compare versions by', name
      USING ERRCODE = '22023',
            DETAIL = format('Its task is %s. Forecasters are compared by their backtest mase, '
                            'root-cause classifiers by their cross-validated accuracy, recommenders '
                            'by their held-out ndcg@10; anomaly detectors (trained without labels) '
                            'have none.', task),
            HINT = 'Use promote => ''always''.';
  END IF;
END
$$;

-- The promote-if-better decision for a version just written and not deployed: under the
-- name's lock, it is deployed when its validation metric is not worse than the live
-- version's (or nothing is live, or the live version has no metric to compare). The run that
-- wrote it records the decision (training_runs.promoted and message). Returns the decision.
CREATE OR REPLACE FUNCTION insight._promote_if_better(p_model_id bigint) RETURNS bool
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  cand insight.models;
  live insight.models;
  cv record;
  lv record;
  ok bool;
  msg text;
BEGIN
  SELECT * INTO cand FROM insight.models WHERE model_id = p_model_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no model with id %', p_model_id USING ERRCODE = '42704';
  END IF;
  PERFORM insight._check_promote('if_better', cand.name, cand.task);
  PERFORM insight._lock_name(cand.name);
  SELECT * INTO live FROM insight.models WHERE model_id = insight.live_model_id(cand.name);
  IF live.model_id = cand.model_id THEN
    RETURN true;
  END IF;
  SELECT * INTO cv FROM insight._validation_metric(cand.task, cand.metrics);
  SELECT * INTO lv FROM insight._validation_metric(live.task, live.metrics);
  IF live.model_id IS NULL THEN
    ok := true;
    msg := 'no version was live';
  ELSIF cv.value IS NULL THEN
    ok := false;
    msg := format('version %s has no %s (too little data to validate)', cand.version, cv.metric);
  ELSIF lv.value IS NULL OR lv.metric IS DISTINCT FROM cv.metric THEN
    ok := true;
    msg := format('%s %s; live version %s has no %s to compare', cv.metric, cv.value,
                  live.version, cv.metric);
  ELSE
    ok := CASE WHEN cv.lower_is_better THEN cv.value <= lv.value ELSE cv.value >= lv.value END;
    msg := format('%s %s against %s of live version %s (%s is better)', cv.metric, cv.value,
                  lv.value, live.version, CASE WHEN cv.lower_is_better THEN 'lower' ELSE 'higher' END);
  END IF;
  IF ok THEN
    PERFORM insight._deploy_model_id(cand.name, cand.model_id, 'deploy');
  END IF;
  UPDATE insight.training_runs
     SET promoted = ok,
         message = message || '; ' || CASE WHEN ok THEN 'promoted: ' ELSE 'not promoted: ' END || msg
   WHERE model_id = cand.model_id AND status = 'succeeded';
  RAISE NOTICE 'model "%" version % %', cand.name, cand.version,
               CASE WHEN ok THEN 'deployed' ELSE 'kept, not deployed' END
    USING DETAIL = msg;
  RETURN ok;
END
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
  PERFORM insight._require_admin('retrain');
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

-- Retrains every deployed model trained by pg_insight, in name order, with the promote
-- policy; a failure (logged in insight.training_runs with its error, and as a WARNING) does
-- not stop the others. With 'if_better', models without a validation metric fail that way.
-- A cancel or statement_timeout stops the whole call.
CREATE OR REPLACE FUNCTION insight.retrain_all(promote text DEFAULT 'always')
RETURNS SETOF insight.training_result
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  n text;
  started timestamptz;
  r insight.training_result;
BEGIN
  PERFORM insight._require_admin('retrain_all');
  PERFORM insight._check_promote(promote, NULL, NULL);
  FOR n IN
    SELECT d.name FROM (SELECT DISTINCT ON (dd.name) dd.name, dd.model_id
                          FROM insight.deployments dd ORDER BY dd.name, dd.deployment_id DESC) d
      JOIN insight.models mo ON mo.model_id = d.model_id
     WHERE mo.algorithm <> 'external' AND mo.source IS NOT NULL
     ORDER BY d.name
  LOOP
    started := clock_timestamp();
    BEGIN
      r := insight.retrain(n, promote);
      RETURN NEXT r;
    EXCEPTION WHEN OTHERS THEN  -- not query_canceled: a cancel stops retrain_all itself
      PERFORM insight._record_failed_run(n, started, SQLERRM);
      RAISE WARNING 'retraining model "%" failed: %', n, SQLERRM;
    END;
  END LOOP;
END
$$;

-- 55000 with the set-up steps unless pg_cron is installed in this database.
CREATE OR REPLACE FUNCTION insight._require_pg_cron() RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
    RAISE EXCEPTION 'pg_cron is not installed in database %', current_database()
      USING ERRCODE = '55000',
            HINT = format('Set shared_preload_libraries = ''pg_cron'' and cron.database_name = %L in '
                          'postgresql.conf, restart, run CREATE EXTENSION pg_cron in %s, and grant '
                          'USAGE ON SCHEMA cron to the roles that schedule (docs/operations.md).',
                          current_database(), current_database());
  END IF;
END
$$;

-- Removes the pg_cron job of that name (after _require_pg_cron); false when there was none.
CREATE OR REPLACE FUNCTION insight._cron_unschedule(jobname text) RETURNS bool
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  found bool;
BEGIN
  EXECUTE 'SELECT EXISTS (SELECT FROM cron.job j WHERE j.jobname = $1)' INTO found USING jobname;
  IF found THEN
    EXECUTE 'SELECT cron.unschedule($1::name)' USING jobname;
  END IF;
  RETURN found;
END
$$;

-- A pg_cron job named insight_retrain_<name> that runs insight.retrain(name, promote) on the
-- cron schedule, as the calling role; with "when" => 'drift' it runs
-- insight.retrain_on_evidence(name, 'drift', promote, since) instead, which retrains only when
-- the live version has drifted over the last `since`. Scheduling a name again changes its job.
-- Returns the job id. ("when" is an SQL keyword: name it in double quotes, "when" => 'drift',
-- or pass it fourth.)
CREATE OR REPLACE FUNCTION insight.schedule_retraining(name text, schedule text DEFAULT '0 3 * * *',
    promote text DEFAULT 'always', "when" text DEFAULT 'always', since interval DEFAULT '24 hours')
RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  job bigint;
  m record;
BEGIN
  PERFORM insight._require_admin('schedule_retraining');
  IF name IS NULL OR schedule IS NULL THEN
    RAISE EXCEPTION 'name and schedule must not be NULL' USING ERRCODE = '22023';
  END IF;
  SELECT * INTO m FROM insight._live_training(name, 'schedule');
  PERFORM insight._check_promote(promote, name, m.task);
  PERFORM insight._check_when("when", name, since);
  PERFORM insight._require_pg_cron();
  EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
    USING 'insight_retrain_' || name, schedule,
          CASE WHEN "when" <> 'always'
               THEN format('SELECT insight.retrain_on_evidence(%L, %L, %L, %L)', name, "when",
                           promote, since)
               WHEN promote = 'always' THEN format('SELECT insight.retrain(%L)', name)
               ELSE format('SELECT insight.retrain(%L, promote => %L)', name, promote) END;
  RETURN job;
END
$$;

-- 22023 unless "when" is 'always', 'drift' or 'accuracy'; 0A000 for 'accuracy' (live accuracy
-- is not measured yet); for 'drift', what model_drift(name, since => since) raises before it
-- reads a row (55000 without a profile, 0A000 for forecasters and recommenders, 22023 for since).
CREATE OR REPLACE FUNCTION insight._check_when("when" text, name text, since interval) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF "when" IS NULL OR "when" NOT IN ('always', 'drift', 'accuracy') THEN
    RAISE EXCEPTION 'when must be ''always'', ''drift'' or ''accuracy'', not %',
                    coalesce(quote_literal("when"), 'NULL')
      USING ERRCODE = '22023';
  END IF;
  IF "when" = 'accuracy' THEN
    RAISE EXCEPTION 'retraining on live accuracy is not available in this version'
      USING ERRCODE = '0A000',
            DETAIL = 'Live accuracy (forecasts scored against the actuals that arrive later) is not measured yet.',
            HINT = 'Use "when" => ''drift'' for anomaly detectors, or ''always''.';
  END IF;
  IF "when" = 'drift' THEN
    PERFORM insight._require_profile(name, since);
  END IF;
END
$$;

-- Records one decision of retrain_on_evidence in insight.training_runs (admins cannot write
-- the catalog themselves): a 'skipped' run of its own, or the evidence on the run that
-- retrained (run_id). Returns the run's id.
CREATE OR REPLACE FUNCTION insight._record_decision(p_name text, p_started_at timestamptz,
    p_message text, p_evidence jsonb, p_run_id bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  id bigint := p_run_id;
BEGIN
  IF id IS NULL THEN
    INSERT INTO insight.training_runs (name, started_at, finished_at, status, message, evidence)
    VALUES (p_name, p_started_at, clock_timestamp(), 'skipped', left(p_message, 2000), p_evidence)
    RETURNING run_id INTO id;
  ELSE
    UPDATE insight.training_runs
       SET evidence = p_evidence,
           message = left(concat_ws('; ', p_message, message), 2000)
     WHERE run_id = id AND name = p_name;
  END IF;
  RETURN id;
END
$$;

-- Retrains name (as insight.retrain(name, promote)) only when the evidence says so:
-- 'drift' — insight.model_drift of the live version over its own source for the last `since`
-- flags a feature or the scores; 'always' — unconditionally. Every decision is a row of
-- insight.training_runs whose evidence holds every statistic and whose message names the
-- drifted ones: a 'skipped' run when nothing drifted (or too few rows came for a verdict),
-- else the new version's own run. A failed retraining is recorded as a failed run and a
-- WARNING, like retrain_all's. Returns the new version's result, or a row of NULLs when none
-- was trained.
CREATE OR REPLACE FUNCTION insight.retrain_on_evidence(name text, "when" text DEFAULT 'drift',
    promote text DEFAULT 'always', since interval DEFAULT '24 hours')
RETURNS insight.training_result
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  started timestamptz := clock_timestamp();
  m record;
  evidence jsonb;
  drifted text;
  message text;
  run bigint;
  r insight.training_result;
BEGIN
  PERFORM insight._require_admin('retrain_on_evidence');
  SELECT * INTO m FROM insight._live_training(name, 're-run');
  PERFORM insight._check_promote(promote, name, m.task);
  PERFORM insight._check_when("when", name, since);
  IF "when" = 'drift' THEN
    SELECT jsonb_build_object('when', "when", 'since', since::text, 'model_id', insight.live_model_id(name),
                              'statistics', jsonb_agg(to_jsonb(d) ORDER BY d.feature NULLS FIRST, d.statistic)),
           string_agg(format('%s %s %s > %s', d.feature, d.statistic, round(d.value::numeric, 4), d.threshold),
                      ', ' ORDER BY d.feature, d.statistic) FILTER (WHERE d.drifted),
           'no drift over ' || (max(d.value) FILTER (WHERE d.statistic = 'rows'))::bigint || ' rows since ' || since::text ||
             CASE WHEN max(d.value) FILTER (WHERE d.statistic = 'rows') < max(d.threshold) FILTER (WHERE d.statistic = 'rows')
                  THEN ' (too few for a verdict)' ELSE '' END
      INTO evidence, drifted, message
      FROM insight.model_drift(name, NULL, since) d;
    IF drifted IS NULL THEN
      PERFORM insight._record_decision(name, started, message, evidence);
      RETURN r;
    END IF;
    message := 'retrained on drift: ' || drifted;
  ELSE
    evidence := jsonb_build_object('when', "when");
    message := 'retrained: when => always';
  END IF;
  BEGIN
    r := insight.retrain(name, promote);
  EXCEPTION WHEN OTHERS THEN  -- not query_canceled: a cancel stops the call itself
    run := insight._record_failed_run(name, started, SQLERRM);
    PERFORM insight._record_decision(name, started, message, evidence, run);
    RAISE WARNING 'retraining model "%" failed: %', name, SQLERRM;
    RETURN NULL::insight.training_result;
  END;
  SELECT t.run_id INTO run FROM insight.training_runs t WHERE t.model_id = r.model_id
   ORDER BY t.run_id DESC LIMIT 1;
  PERFORM insight._record_decision(name, started, message, evidence, run);
  RETURN r;
END
$$;

-- Removes name's retraining job; false when it had none.
CREATE OR REPLACE FUNCTION insight.unschedule_retraining(name text) RETURNS bool
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM insight._require_admin('unschedule_retraining');
  IF name IS NULL THEN
    RAISE EXCEPTION 'name must not be NULL' USING ERRCODE = '22023';
  END IF;
  PERFORM insight._require_pg_cron();
  RETURN insight._cron_unschedule('insight_retrain_' || name);
END
$$;

-- Every model the domain functions use, from the standard tables. The anomaly models keep
-- 1 % of the training rows above their threshold (the demo's faults and spikes are ~1-3 %).
CREATE OR REPLACE FUNCTION insight.train_default_models() RETURNS SETOF insight.training_result
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM insight._require_admin('train_default_models');
  RETURN NEXT insight.train_anomaly_detector('link_anomaly', 'insight.link_anomaly_features',
    ARRAY['throughput_mbps', 'utilization', 'errors', 'discards', 'uptime_pct', 'ib_packet_loss_pct',
          'ob_packet_loss_pct', 'throughput_hour_dev', 'ib_esno_dev', 'ob_esno_dev', 'latency_dev', 'jitter_dev',
          'errors_dev', 'peak_dev'],
    contamination => 0.01);
  RETURN NEXT insight.train_anomaly_detector('site_anomaly', 'insight.site_anomaly_features',
    ARRAY['response_time_ms', 'error_rate', 'uptime_pct', 'cpu_pct', 'memory_pct', 'response_time_dev',
          'error_rate_dev', 'cpu_dev', 'memory_dev', 'peak_dev'],
    contamination => 0.01);
  RETURN NEXT insight.train_anomaly_detector('network_anomaly', 'insight.network_anomaly_features',
    ARRAY['bandwidth_mbps', 'packet_loss_pct', 'latency_ms', 'error_rate', 'connections', 'bandwidth_dev',
          'packet_loss_dev', 'latency_dev', 'error_rate_dev', 'connections_dev', 'peak_dev'],
    contamination => 0.01);
  -- forecast_daily_sales: the shop's daily revenue, and each product's.
  RETURN NEXT insight.train_forecaster('daily_sales', 'insight.transactions', 'ts', 'total_amount');
  RETURN NEXT insight.train_forecaster('daily_sales_by_product', 'insight.transactions', 'ts',
    'total_amount', group_column => 'product_id');
  -- recommend_products / similar_products: implicit ALS on who bought what (purchase counts).
  RETURN NEXT insight.train_recommender('product_recommender', 'insight.transactions', 'user_id',
    'product_id');
  -- correlate_* and recommend_actions: the root-cause classifier, from the labelled incidents.
  IF EXISTS (SELECT FROM insight.incidents WHERE root_cause IS NOT NULL) THEN
    RETURN NEXT insight.train_root_cause_classifier();
  ELSE
    RAISE NOTICE 'insight.incidents has no labelled incident: the root_cause classifier is not trained'
      USING HINT = 'The correlate_* functions answer with their detectors alone until it is.';
  END IF;
END
$$;

-- Privileges (API.md section 5). The admin functions users call are executable by
-- insight_analyst too and check their caller first (insight._require_admin); the bodies that
-- run as the catalog's owner have entries that do (insight._admin_entry).
SELECT insight._admin_entry(body, entry) FROM (VALUES
    ('insight._deploy(text, int)'::regprocedure, 'deploy'),
    ('insight._rollback(text)', 'rollback'),
    ('insight._drop_model(text, int)', 'drop_model'),
    ('insight._register_model(text, text, bytea, jsonb, text[], text, bool)', 'register_model'),
    ('insight._import_model(text, bytea, bool)', 'import_model')) v(body, entry);
GRANT EXECUTE ON FUNCTION insight.export_model(text, int) TO insight_analyst, insight_admin;
GRANT EXECUTE ON FUNCTION insight.train_default_models(), insight.retrain(text, text),
    insight.retrain_all(text), insight.schedule_retraining(text, text, text, text, interval),
    insight.unschedule_retraining(text), insight.retrain_on_evidence(text, text, text, interval)
  TO insight_analyst, insight_admin;
GRANT EXECUTE ON FUNCTION insight._record_failed_run(text, timestamptz, text),
    insight._live_training(text, text), insight._validation_metric(text, jsonb),
    insight._check_promote(text, text, text), insight._promote_if_better(bigint),
    insight._require_pg_cron(), insight._cron_unschedule(text), insight._check_when(text, text, interval),
    insight._record_decision(text, timestamptz, text, jsonb, bigint)
  TO insight_admin;

-- Descriptions.
COMMENT ON FUNCTION insight.deploy(text, int) IS 'Makes a version of a model live; deploying the live version changes nothing. Admin.';
COMMENT ON FUNCTION insight.rollback(text) IS 'Goes back one step in the deployment history, to the version live before this one. Admin.';
COMMENT ON FUNCTION insight.drop_model(text, int) IS 'Removes one version of a model (not the live one), or every version when version is NULL. Admin.';
COMMENT ON FUNCTION insight.register_model(text, text, bytea, jsonb, text[], text, bool) IS 'Stores a model trained elsewhere as a new version (algorithm external). Admin.';
COMMENT ON FUNCTION insight._deploy(text, int) IS 'Internal: the body of deploy, run as the catalog''s owner.';
COMMENT ON FUNCTION insight._rollback(text) IS 'Internal: the body of rollback, run as the catalog''s owner.';
COMMENT ON FUNCTION insight._drop_model(text, int) IS 'Internal: the body of drop_model, run as the catalog''s owner.';
COMMENT ON FUNCTION insight._register_model(text, text, bytea, jsonb, text[], text, bool) IS 'Internal: the body of register_model, run as the catalog''s owner.';
COMMENT ON FUNCTION insight._import_model(text, bytea, bool) IS 'Internal: the body of import_model, run as the catalog''s owner.';
COMMENT ON FUNCTION insight.export_model(text, int) IS 'The payload of a version (the live one by default), for import_model in another database.';
COMMENT ON FUNCTION insight.import_model(text, bytea, bool) IS 'Stores an exported payload as a new version of a model, byte for byte. Admin.';
COMMENT ON FUNCTION insight._record_failed_run(text, timestamptz, text) IS 'Internal: records a failed training run in insight.training_runs.';
COMMENT ON FUNCTION insight._live_training(text, text) IS 'Internal: the live version''s task, algorithm, source, params and features, for retraining.';
COMMENT ON FUNCTION insight._validation_metric(text, jsonb) IS 'Internal: the metric promote => ''if_better'' compares for a task, read from models.metrics.';
COMMENT ON FUNCTION insight._check_promote(text, text, text) IS 'Internal: 22023 unless promote is ''always'' or ''if_better'' (and the task has a validation metric).';
COMMENT ON FUNCTION insight._promote_if_better(bigint) IS 'Internal: deploys a new version if its validation metric is not worse than the live one''s, and records the decision.';
COMMENT ON FUNCTION insight.retrain(text, text) IS 'Trains a new version of a model with its live version''s source and options; promote => ''if_better'' deploys it only if not worse. Admin.';
COMMENT ON FUNCTION insight.retrain_all(text) IS 'Retrains every deployed model trained by pg_insight, one failure not stopping the others. Admin.';
COMMENT ON FUNCTION insight._cron_unschedule(text) IS 'Internal: removes the pg_cron job of a name; false when there was none.';
COMMENT ON FUNCTION insight._require_pg_cron() IS 'Internal: 55000 with the set-up steps unless pg_cron is installed in this database.';
COMMENT ON FUNCTION insight.schedule_retraining(text, text, text, text, interval) IS 'Schedules retrain(name) with pg_cron (job insight_retrain_<name>), or with "when" => ''drift'' retrain_on_evidence; returns the job id. Admin.';
COMMENT ON FUNCTION insight.retrain_on_evidence(text, text, text, interval) IS 'Retrains a model only when the evidence says so (''drift'': model_drift flags the live version); records every decision with its figures in training_runs. Admin.';
COMMENT ON FUNCTION insight._check_when(text, text, interval) IS 'Internal: 22023 unless when is always, drift or accuracy; 0A000 for accuracy; a drift check needs a model model_drift can judge.';
COMMENT ON FUNCTION insight._record_decision(text, timestamptz, text, jsonb, bigint) IS 'Internal: records a retrain_on_evidence decision (a skipped run, or the evidence on the run that retrained).';
COMMENT ON FUNCTION insight.unschedule_retraining(text) IS 'Removes a model''s retraining job; false when it had none. Admin.';
COMMENT ON FUNCTION insight.train_default_models() IS 'Trains every model the domain functions use, from the standard tables. Admin.';
