-- pg_insight 0.1.0 → 0.2.0 — update script (ALTER EXTENSION pg_insight UPDATE).
-- A new installation of 0.2.0 runs pg_insight--0.1.0.sql and then this file, so both ways
-- end in the same objects. 0.1.0's script is released: changes go into update scripts.
--
-- 0.2.0: the promote-if-better retraining policy.
--   retrain(name, promote), retrain_all(promote), schedule_retraining(name, schedule, promote):
--   promote => 'if_better' stores the new version and deploys it only if its validation
--   metric is not worse than the live version's; insight.training_runs.promoted records the
--   decision, its message the figures.
--   train_recommender(..., validate): a held-out validation metric for recommenders.
--   anomaly_score and is_anomaly take numeric[], int[] and bigint[] feature arrays too.
\echo Use "ALTER EXTENSION pg_insight UPDATE TO '0.2.0'" to load this file. \quit

-- true: the run's version was deployed by the promote-if-better policy; false: it was
-- kept, not deployed; NULL: no policy applied (deployment as the call's deploy option said).
ALTER TABLE insight.training_runs ADD COLUMN promoted bool;

-- validate => true: the learner is also trained on four fifths of each user's items and
-- ranks the held-out fifth; models.metrics gets validation_ndcg_at_10 (and recall, the
-- popularity baseline's ndcg, the users scored). Training takes about twice as long.
DROP FUNCTION insight.train_recommender(text, regclass, text, text, text, text, int, bool, int,
                                        float8, float8, int, int, int, int);
CREATE FUNCTION insight.train_recommender(name text, source regclass, user_column text,
    item_column text, weight_column text DEFAULT NULL, algorithm text DEFAULT 'als',
    factors int DEFAULT 64, deploy bool DEFAULT true, iterations int DEFAULT 15,
    regularization float8 DEFAULT 0.3, alpha float8 DEFAULT 1, neighbors int DEFAULT NULL,
    min_user_interactions int DEFAULT 1, min_item_interactions int DEFAULT 1, seed int DEFAULT 42,
    validate bool DEFAULT false)
  RETURNS insight.training_result
  AS 'MODULE_PATHNAME', 'insight_train_recommender' LANGUAGE C VOLATILE;

-- The validation metric of a task's models, read from models.metrics: forecasters' mean
-- rolling-origin backtest MASE (lower is better), root-cause classifiers' accuracy
-- cross-validated by incident, recommenders' held-out ndcg@10 (validate => true; higher is
-- better). Anomaly detectors, trained without labels, have none: metric is NULL. value is
-- NULL when metrics lack it.
CREATE FUNCTION insight._validation_metric(task text, metrics jsonb,
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
CREATE FUNCTION insight._check_promote(promote text, name text, task text) RETURNS void
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
CREATE FUNCTION insight._promote_if_better(p_model_id bigint) RETURNS bool
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

DROP FUNCTION insight.retrain(text);
-- Trains a new version of name with the live version's training source and options, as the
-- caller (who needs SELECT on the source). promote => 'always' deploys it; 'if_better'
-- deploys it only if its validation metric is not worse than the live version's
-- (insight._promote_if_better). Models registered or imported as opaque artifacts
-- (algorithm 'external') have nothing to re-run: 22023.
CREATE FUNCTION insight.retrain(name text, promote text DEFAULT 'always')
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
  CASE m.task
    WHEN 'anomaly' THEN
      r := insight.train_anomaly_detector(name, src, m.features, (p->>'contamination')::float8,
             (p->>'n_trees')::int, (p->>'sample_size')::int, dep, (p->>'seed')::int,
             coalesce((p->>'standardize')::bool, true));
    WHEN 'forecast' THEN
      r := insight.train_forecaster(name, src, p->>'time_column', p->>'value_column',
             p->>'group_column', p->>'algorithm', (p->>'horizon')::int, dep);
    WHEN 'recommend' THEN
      r := insight.train_recommender(name, src, p->>'user_column', p->>'item_column',
             p->>'weight_column', p->>'algorithm', (p->>'factors')::int, dep,
             (p->>'iterations')::int, (p->>'regularization')::float8, (p->>'alpha')::float8,
             (p->>'neighbors')::int, (p->>'min_user_interactions')::int,
             (p->>'min_item_interactions')::int, (p->>'seed')::int,
             promote = 'if_better' OR coalesce((p->>'validate')::bool, false));
    WHEN 'root_cause' THEN
      r := insight.train_root_cause_classifier(name, src, dep);
  END CASE;
  IF NOT dep THEN
    PERFORM insight._promote_if_better(r.model_id);
  END IF;
  RETURN r;
END
$$;

DROP FUNCTION insight.retrain_all();
-- Retrains every deployed model trained by pg_insight, in name order, with the promote
-- policy; a failure (logged in insight.training_runs with its error, and as a WARNING) does
-- not stop the others. With 'if_better', models without a validation metric fail that way.
-- A cancel or statement_timeout stops the whole call.
CREATE FUNCTION insight.retrain_all(promote text DEFAULT 'always')
RETURNS SETOF insight.training_result
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  n text;
  started timestamptz;
  r insight.training_result;
BEGIN
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

DROP FUNCTION insight.schedule_retraining(text, text);
-- A pg_cron job named insight_retrain_<name> that runs insight.retrain(name, promote) on the
-- cron schedule, as the calling role; scheduling a name again changes its job. Returns the
-- job id.
CREATE FUNCTION insight.schedule_retraining(name text, schedule text DEFAULT '0 3 * * *',
    promote text DEFAULT 'always')
RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  job bigint;
  m record;
BEGIN
  IF name IS NULL OR schedule IS NULL THEN
    RAISE EXCEPTION 'name and schedule must not be NULL' USING ERRCODE = '22023';
  END IF;
  SELECT * INTO m FROM insight._live_training(name, 'schedule');
  PERFORM insight._check_promote(promote, name, m.task);
  PERFORM insight._require_pg_cron();
  EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
    USING 'insight_retrain_' || name, schedule,
          CASE promote WHEN 'always' THEN format('SELECT insight.retrain(%L)', name)
                       ELSE format('SELECT insight.retrain(%L, promote => %L)', name, promote) END;
  RETURN job;
END
$$;

-- Literal arrays (ARRAY[1.5, 2] is numeric[], ARRAY[1, 2] int[]) and integer columns matched
-- float8[] and the anyelement row form equally well: "function is not unique". These take
-- them as they are.
CREATE FUNCTION insight.anomaly_score(name text, features numeric[]) RETURNS float8
  LANGUAGE sql STABLE STRICT PARALLEL SAFE
  RETURN insight.anomaly_score(name, features::float8[]);
CREATE FUNCTION insight.anomaly_score(name text, features int[]) RETURNS float8
  LANGUAGE sql STABLE STRICT PARALLEL SAFE
  RETURN insight.anomaly_score(name, features::float8[]);
CREATE FUNCTION insight.anomaly_score(name text, features bigint[]) RETURNS float8
  LANGUAGE sql STABLE STRICT PARALLEL SAFE
  RETURN insight.anomaly_score(name, features::float8[]);
CREATE FUNCTION insight.is_anomaly(name text, features numeric[]) RETURNS boolean
  LANGUAGE sql STABLE STRICT PARALLEL SAFE
  RETURN insight.is_anomaly(name, features::float8[]);
CREATE FUNCTION insight.is_anomaly(name text, features int[]) RETURNS boolean
  LANGUAGE sql STABLE STRICT PARALLEL SAFE
  RETURN insight.is_anomaly(name, features::float8[]);
CREATE FUNCTION insight.is_anomaly(name text, features bigint[]) RETURNS boolean
  LANGUAGE sql STABLE STRICT PARALLEL SAFE
  RETURN insight.is_anomaly(name, features::float8[]);
REVOKE EXECUTE ON FUNCTION insight.anomaly_score(text, numeric[]), insight.anomaly_score(text, int[]),
    insight.anomaly_score(text, bigint[]), insight.is_anomaly(text, numeric[]),
    insight.is_anomaly(text, int[]), insight.is_anomaly(text, bigint[])
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION insight.anomaly_score(text, numeric[]), insight.anomaly_score(text, int[]),
    insight.anomaly_score(text, bigint[]), insight.is_anomaly(text, numeric[]),
    insight.is_anomaly(text, int[]), insight.is_anomaly(text, bigint[])
  TO insight_analyst, insight_admin;

REVOKE EXECUTE ON FUNCTION insight._validation_metric(text, jsonb), insight._check_promote(text, text, text),
    insight._promote_if_better(bigint), insight.retrain(text, text), insight.retrain_all(text),
    insight.schedule_retraining(text, text, text),
    insight.train_recommender(text, regclass, text, text, text, text, int, bool, int, float8,
                              float8, int, int, int, int, bool)
  FROM PUBLIC;
GRANT EXECUTE ON FUNCTION insight._validation_metric(text, jsonb), insight._check_promote(text, text, text),
    insight._promote_if_better(bigint), insight.retrain(text, text), insight.retrain_all(text),
    insight.schedule_retraining(text, text, text),
    insight.train_recommender(text, regclass, text, text, text, text, int, bool, int, float8,
                              float8, int, int, int, int, bool)
  TO insight_admin;
