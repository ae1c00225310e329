-------------------------------------------------------------------------------------------
-- Live operations (API.md section 7): watch, unwatch, alerts, acknowledge_alert,
-- resolve_alert, NOTIFY insight_alerts. The tables are src/sql/watch_tables.sql;
-- docs/operations.md ("Watching") says how it fits together.
-------------------------------------------------------------------------------------------
-- How a row travels: the triggers watch() puts on insight.<scope>_metrics append the keys of
-- every row a statement inserts or updates to insight.watch_queue, in the writer's
-- transaction (for sales, the days of the rows of insight.transactions). A run (insight._watch_run, started by pg_cron) takes its scope's keys from the
-- queue with DELETE ... RETURNING, scores those rows with the live model against the kept
-- baselines, records the flagged ones in insight.anomaly_events, folds them into episodes
-- (insight.alerts), correlates the root cause, and commits all of it at once: a run that
-- fails, is cancelled or dies leaves the queue as it was, and the next run scores the same
-- rows. Runs of one scope take the scope's row of insight.watches FOR UPDATE first, so two
-- that overlap run one after the other and the second finds only what the first left.

-- The trigger functions, one per scope: statement-level, with the statement's new rows as a
-- transition table, so a COPY or a multi-row INSERT costs one INSERT into the queue.
-- SECURITY DEFINER: whoever may write telemetry queues it, without rights on the queue.
DO $enqueue$
DECLARE
  scope text;
BEGIN
  FOREACH scope IN ARRAY ARRAY['link', 'site', 'network'] LOOP
    EXECUTE format($f$CREATE OR REPLACE FUNCTION insight.%I() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO insight.watch_queue (scope, entity_id, ts) SELECT %L, n.%I, n.ts FROM new_rows n;
  RETURN NULL;
END
$$$f$, '_watch_queue_' || scope, scope, scope || '_id');
    EXECUTE format('COMMENT ON FUNCTION insight.%I() IS %L', '_watch_queue_' || scope,
      format('Internal: the trigger function that queues the keys of new insight.%s_metrics rows for the watch runs.', scope));
  END LOOP;
END
$enqueue$;

-- The shop's sales: a statement's transactions queue the UTC days they fall on, once each
-- (entity shop); a run scores the days that have ended.
CREATE OR REPLACE FUNCTION insight._watch_queue_sales() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO insight.watch_queue (scope, entity_id, ts)
    SELECT DISTINCT 'sales', 'shop', date_bin('1 day', n.ts, '2000-01-01 00:00+00') FROM new_rows n;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION insight._watch_queue_sales() IS 'Internal: the trigger function that queues the days of new insight.transactions rows for the sales watch runs.';

-- Puts the queueing triggers on insight.<scope>_metrics (insight.transactions for sales; on
-- => true; a trigger that is there already is kept) or takes them off. SECURITY DEFINER
-- (creating a trigger needs the table's owner); executable by insight_admin only.
CREATE OR REPLACE FUNCTION insight._watch_triggers(scope text, "on" bool) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  tbl constant regclass := CASE WHEN scope = 'sales' THEN 'insight.transactions'::regclass
                                ELSE format('insight.%I', scope || '_metrics')::regclass END;
  event text;
BEGIN
  FOREACH event IN ARRAY ARRAY['insert', 'update'] LOOP
    IF NOT "on" THEN
      EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'insight_watch_' || event, tbl);
    ELSIF NOT EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = tbl AND t.tgname = 'insight_watch_' || event) THEN
      EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s REFERENCING NEW TABLE AS new_rows '
                     'FOR EACH STATEMENT EXECUTE FUNCTION insight.%I()',
                     'insight_watch_' || event, event, tbl, '_watch_queue_' || scope);
    END IF;
  END LOOP;
END
$$;

-- Every change of an alert is a row of insight.alert_events and a NOTIFY on insight_alerts
-- (delivered when the transaction commits), written here and nowhere else: by the watch runs
-- (opened, severity, root_cause, closed) and by _change_alert (the operators' acknowledged,
-- resolved, false_positive). The event carries the alert's severity as it now is.
CREATE OR REPLACE FUNCTION insight._alert_changed(a insight.alerts, event text, note text DEFAULT NULL,
    actor name DEFAULT current_user) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO insight.alert_events (alert_id, event, severity, note, actor)
    VALUES (a.alert_id, event, a.severity, note, actor);
  PERFORM pg_notify('insight_alerts', jsonb_build_object(
    'alert_id', a.alert_id, 'scope', a.scope, 'entity_id', a.entity_id, 'status', a.status,
    'severity', a.severity, 'event', event, 'closed_at', a.closed_at)::text);
END
$$;

-- An operator's change to an alert (acknowledge_alert and resolve_alert call it with their
-- caller as actor): under the alert's row lock (two operators resolving one alert take turns,
-- and the second finds it resolved), the status and, for an outcome, closed_at; then the
-- event. SECURITY DEFINER: analysts update alerts only through here. The actor must be a role
-- the session's login may act as, so a direct call cannot sign for someone else.
CREATE OR REPLACE FUNCTION insight._change_alert(p_alert_id bigint, p_event text, p_note text, p_actor name)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  a insight.alerts;
BEGIN
  IF p_actor IS NULL OR NOT pg_has_role(session_user, p_actor, 'MEMBER')
     OR NOT pg_has_role(p_actor, 'insight_analyst', 'MEMBER') THEN
    RAISE EXCEPTION 'permission denied to change an alert as %', coalesce(p_actor::text, 'NULL')
      USING ERRCODE = '42501', HINT = 'Call insight.acknowledge_alert or insight.resolve_alert.';
  END IF;
  IF p_event IS NULL OR p_event NOT IN ('acknowledged', 'resolved', 'false_positive') THEN
    RAISE EXCEPTION 'an operator''s event is acknowledged, resolved or false_positive, got %',
      coalesce(p_event, 'NULL') USING ERRCODE = '22023';
  END IF;
  SELECT * INTO a FROM insight.alerts WHERE alert_id = p_alert_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'alert % does not exist', p_alert_id
      USING ERRCODE = '42704', HINT = 'The alerts are in insight.alerts.';
  END IF;
  IF a.status IN ('resolved', 'false_positive') THEN
    RAISE EXCEPTION 'alert % is not open: it was closed as %', p_alert_id, a.status
      USING ERRCODE = '42704',
            DETAIL = (SELECT format('%s by %s.', CASE e.event WHEN 'resolved' THEN 'Resolved as fixed'
                                                                ELSE 'Marked a false positive' END, e.actor)
                        FROM insight.alert_events e
                       WHERE e.alert_id = a.alert_id AND e.event IN ('resolved', 'false_positive')
                       ORDER BY e.event_id DESC LIMIT 1),
            HINT = 'Its history (who, when, notes) is in insight.alert_events.';
  END IF;
  UPDATE insight.alerts
     SET status = p_event,
         closed_at = CASE WHEN p_event = 'acknowledged' THEN closed_at ELSE coalesce(closed_at, now()) END
   WHERE alert_id = a.alert_id
  RETURNING * INTO a;
  PERFORM insight._alert_changed(a, p_event, p_note, p_actor);
END
$$;

-- The pg_cron schedule of an interval: a minute, or a whole number of minutes that divides an
-- hour, or of hours that divides a day (pg_cron schedules by the clock, to the minute).
CREATE OR REPLACE FUNCTION insight._cron_every(every interval) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  minutes numeric := extract(epoch FROM every) / 60;
BEGIN
  IF every IS NULL OR every < interval '1 minute' OR every > interval '1 day' THEN
    RAISE EXCEPTION 'every must be between 1 minute and 1 day, got %', every
      USING ERRCODE = '22023', HINT = 'pg_cron starts jobs at most once a minute.';
  END IF;
  IF minutes = trunc(minutes) THEN
    IF minutes = 1 THEN
      RETURN '* * * * *';
    ELSIF minutes < 60 AND 60 % minutes = 0 THEN
      RETURN format('*/%s * * * *', minutes::int);
    ELSIF minutes = 1440 THEN
      RETURN '0 0 * * *';
    ELSIF minutes % 60 = 0 AND 24 % (minutes / 60) = 0 THEN
      RETURN format('0 */%s * * *', (minutes / 60)::int);
    END IF;
  END IF;
  RAISE EXCEPTION 'every must divide an hour or a day evenly, got %', every
    USING ERRCODE = '22023',
          HINT = 'pg_cron schedules by the clock: use 1, 2, 3, 4, 5, 6, 10, 12, 15, 20 or 30 minutes, '
                 'or 1, 2, 3, 4, 6, 8, 12 or 24 hours.';
END
$$;

-- 22023 unless scope is one that watch() knows.
CREATE OR REPLACE FUNCTION insight._check_watch_scope(scope text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF scope IS NULL OR scope NOT IN ('link', 'site', 'network', 'sales') THEN
    RAISE EXCEPTION 'scope must be link, site, network or sales, got %', coalesce(scope, 'NULL')
      USING ERRCODE = '22023';
  END IF;
END
$$;

-- Starts (or changes) watching a scope: the queueing triggers, a row in insight.watches and a
-- pg_cron job insight_watch_<scope> that runs insight._watch_run(scope) every interval as the
-- calling role. Episode rules: an alert opens at a flagged row that is high or critical or
-- has a metric open_deviation or more standard deviations from the entity's baseline
-- (peak_dev), or at min_rows flagged rows within open_window; it closes when the entity has
-- sent quiet_period of data without a flagged row. Returns the job id.
CREATE OR REPLACE FUNCTION insight.watch(scope text, every interval DEFAULT '1 minute',
    quiet_period interval DEFAULT '1 hour', min_rows int DEFAULT 3,
    open_window interval DEFAULT '30 minutes', open_deviation float8 DEFAULT 8)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_schedule text;
  job bigint;
BEGIN
  PERFORM insight._require_admin('watch');
  PERFORM insight._check_watch_scope(scope);
  v_schedule := insight._cron_every(every);
  IF quiet_period IS NULL OR quiet_period <= interval '0' THEN
    RAISE EXCEPTION 'quiet_period must be a positive interval, got %', quiet_period USING ERRCODE = '22023';
  END IF;
  -- A sales day is one flagged row a day: its episodes join days less than a quiet period
  -- apart, so the period is at least a day (insight.watches checks it).
  IF scope = 'sales' THEN
    quiet_period := greatest(quiet_period, interval '1 day');
  END IF;
  IF open_window IS NULL OR open_window <= interval '0' THEN
    RAISE EXCEPTION 'open_window must be a positive interval, got %', open_window USING ERRCODE = '22023';
  END IF;
  IF min_rows IS NULL OR min_rows < 1 THEN
    RAISE EXCEPTION 'min_rows must be at least 1, got %', min_rows USING ERRCODE = '22023';
  END IF;
  IF open_deviation IS NULL OR NOT open_deviation > 0 OR open_deviation = 'Infinity' THEN
    RAISE EXCEPTION 'open_deviation must be a positive number of standard deviations, got %', open_deviation
      USING ERRCODE = '22023';
  END IF;
  IF scope <> 'sales' AND NOT EXISTS (SELECT FROM insight.deployments d WHERE d.name = scope || '_anomaly') THEN
    RAISE EXCEPTION 'model "%" does not exist', scope || '_anomaly'
      USING ERRCODE = '42704',
            DETAIL = format('Watching %ss scores their rows with the live version of model %s_anomaly.', scope, scope),
            HINT = 'Train the domain models from the standard tables with SELECT insight.train_default_models().';
  END IF;
  PERFORM insight._require_pg_cron();
  INSERT INTO insight.watches AS w (scope, every, quiet_period, min_rows, open_window, open_deviation)
    VALUES (scope, every, quiet_period, min_rows, open_window, open_deviation)
    ON CONFLICT ON CONSTRAINT watches_pkey DO UPDATE
      SET every = excluded.every, quiet_period = excluded.quiet_period,
          min_rows = excluded.min_rows, open_window = excluded.open_window,
          open_deviation = excluded.open_deviation,
          watched_by = current_user, watched_at = now();
  PERFORM insight._watch_triggers(scope, true);
  EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
    USING 'insight_watch_' || scope, v_schedule, format('SELECT insight._watch_run(%L)', scope);
  UPDATE insight.watches w SET job_id = job WHERE w.scope = watch.scope;
  RETURN job;
END
$$;

-- Stops watching a scope: its job, its triggers, its queue. Its alerts stay. false when the
-- scope was not watched.
CREATE OR REPLACE FUNCTION insight.unwatch(scope text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM insight._require_admin('unwatch');
  PERFORM insight._check_watch_scope(scope);
  PERFORM insight._require_pg_cron();
  DELETE FROM insight.watches w WHERE w.scope = unwatch.scope;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  PERFORM insight._cron_unschedule('insight_watch_' || scope);
  PERFORM insight._watch_triggers(scope, false);
  DELETE FROM insight.watch_queue q WHERE q.scope = unwatch.scope;
  RETURN true;
END
$$;

-- One watch run of a scope (what the pg_cron job calls; also callable by an admin, e.g. to
-- catch up at once): scores the queued rows, keeps the alerts, returns what it did as jsonb
-- (the row it adds to insight.watch_runs).
CREATE OR REPLACE FUNCTION insight._watch_run(p_scope text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp SET jit = off SET TimeZone = 'UTC' AS $$
DECLARE
  origin constant timestamptz := '2000-01-01 00:00+00';
  t0 constant timestamptz := clock_timestamp();
  w insight.watches;
  v_id_col constant text := p_scope || '_id';
  v_model constant text := p_scope || '_anomaly';
  v_ids text[];
  v_ts timestamptz[];
  v_entities text[];
  v_times timestamptz[];
  v_queued bigint;
  v_newest timestamptz;
  v_oldest timestamptz;
  v_until timestamptz;
  v_scored bigint := 0;
  v_flagged_ids text[];
  v_flagged bigint := 0;
  v_opened int := 0;
  v_changed int := 0;
  v_closed int := 0;
  v_touched bigint[] := '{}';
  r record;
  a insight.alerts;
  v_entity text;
  v_first timestamptz;
  v_n bigint;
  v_old bigint;
  v_severity text;
  v_changed_severity bool;
  v_late insight.alerts;
  v_missing bool;
  v_summary jsonb;
  v_today timestamptz;
BEGIN
  PERFORM insight._require_admin('watch');
  SELECT * INTO w FROM insight.watches WHERE scope = p_scope FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'scope "%" is not watched', p_scope
      USING ERRCODE = '42704', HINT = 'insight.watch(scope) starts watching it.';
  END IF;
  -- A restored database has the watch but not the triggers (pg_dump keeps no trigger of an
  -- extension's table): they come back here.
  PERFORM insight._watch_triggers(p_scope, true);

  -- Sales: a day is judged once it has ended (as detect_series_anomalies counts complete
  -- days), so only ended days are taken; the day still going on stays queued.
  IF p_scope = 'sales' THEN
    v_today := date_bin('1 day', now(), origin);
  END IF;
  WITH q AS (DELETE FROM insight.watch_queue q
              WHERE q.scope = p_scope AND (v_today IS NULL OR q.ts < v_today)
              RETURNING q.entity_id, q.ts),
  k AS (SELECT DISTINCT q.entity_id, q.ts FROM q)
  SELECT array_agg(k.entity_id), array_agg(k.ts), (SELECT count(*) FROM q), max(k.ts), min(k.ts),
         array(SELECT DISTINCT q.entity_id FROM q), array(SELECT DISTINCT q.ts FROM q)
    INTO v_ids, v_ts, v_queued, v_newest, v_oldest, v_entities, v_times FROM k;

  -- Sales days over a year old are beyond the series detector's window: dropped.
  IF p_scope = 'sales' AND v_ids IS NOT NULL THEN
    SELECT array_agg(k.id), array_agg(k.ts), max(k.ts), min(k.ts)
      INTO v_ids, v_ts, v_newest, v_oldest
      FROM unnest(v_ids, v_ts) k(id, ts) WHERE k.ts >= v_today - interval '366 days';
  END IF;

  IF v_ids IS NOT NULL AND p_scope = 'sales' THEN
    -- The shop's daily revenue judged by the series detector (theta, 99 %): every queued day
    -- from the oldest to yesterday is in its window; the anomalous queued days are events.
    BEGIN
      WITH j AS (
        SELECT x.* FROM insight._detect_series('insight.transactions', 'ts', 'total_amount', NULL,
                          v_today - v_oldest, 'day', 0.99, NULL, 'theta') x
         WHERE x.ts = ANY (v_ts)),
      d AS (
        SELECT date_bin('1 day', t.ts, origin) AS day, count(*) AS n, count(DISTINCT t.user_id) AS users
          FROM insight.transactions t WHERE t.ts >= v_oldest AND t.ts < v_newest + interval '1 day'
         GROUP BY 1),
      saved AS (
        INSERT INTO insight.anomaly_events (scope, entity_id, ts, anomaly_score, severity, features,
                                            top_features)
        SELECT p_scope, 'shop', j.ts, j.anomaly_score,
               CASE WHEN j.anomaly_score >= 2 THEN 'critical' ELSE 'high' END,
               jsonb_build_object('revenue', j.value, 'expected', j.expected, 'lower_bound', j.lower_bound,
                                  'upper_bound', j.upper_bound, 'transactions', coalesce(d.n, 0),
                                  'unique_users', coalesce(d.users, 0)),
               ARRAY[CASE WHEN j.value < j.expected THEN 'revenue_drop' ELSE 'revenue_spike' END]
          FROM j LEFT JOIN d ON d.day = j.ts
         WHERE j.is_anomaly
           AND NOT EXISTS (SELECT FROM insight.anomaly_events e
                            WHERE e.scope = p_scope AND e.entity_id = 'shop' AND e.ts = j.ts)
        RETURNING entity_id)
      SELECT (SELECT count(*) FROM j), (SELECT count(*) FROM saved),
             (SELECT array_agg(DISTINCT entity_id) FROM saved)
        INTO v_scored, v_flagged, v_flagged_ids;
    EXCEPTION WHEN invalid_parameter_value THEN
      -- Too little history to judge the days (a new shop): they are not judged.
      RAISE WARNING 'sales days from % to % not judged: %', v_oldest::date, v_newest::date, SQLERRM;
    END;
  ELSIF v_ids IS NOT NULL THEN
    -- The baselines: the seven days before the start of the day (UTC) of the oldest queued
    -- row, so that no row is scored against a baseline that holds it; kept in
    -- insight.<scope>_baselines and made again when a later day starts (a late row never
    -- takes them back). When some entity has no baseline there (a new one, or a first day of
    -- data), they are made again at most once an hour, up to the hour of the oldest row.
    IF w.baseline_until IS NULL OR w.baseline_until < date_bin('1 day', v_oldest, origin) THEN
      v_until := date_bin('1 day', v_oldest, origin);
    ELSIF w.baseline_until < date_bin('1 hour', v_oldest, origin) THEN
      EXECUTE format('SELECT EXISTS (SELECT FROM unnest($1) i(id) WHERE NOT EXISTS
                        (SELECT FROM insight.%I b WHERE b.%I = i.id))', p_scope || '_baselines', v_id_col)
        INTO v_missing USING v_entities;
      IF v_missing THEN
        v_until := date_bin('1 hour', v_oldest, origin);
      END IF;
    END IF;
    IF v_until IS NOT NULL THEN
      EXECUTE format('DELETE FROM insight.%I', p_scope || '_baselines');
      EXECUTE format('INSERT INTO insight.%I SELECT * FROM insight.%I($1, $2, NULL)',
                     p_scope || '_baselines', '_' || p_scope || '_baseline')
        USING v_until - interval '7 days', v_until;
      UPDATE insight.watches SET baseline_from = v_until - interval '7 days', baseline_until = v_until
       WHERE scope = p_scope;
    END IF;

    -- Score the rows (the feature function reads the rows of the queued entities at the
    -- queued times; the queued pairs are among them), record the flagged ones with their top
    -- features.
    EXECUTE format(
      'WITH m AS (SELECT mo.model_id, (mo.metrics->>''threshold'')::float8 AS threshold
                    FROM insight.models mo WHERE mo.model_id = insight.live_model_id($3)),
            s AS (SELECT f.%1$I AS entity_id, f.ts, insight.anomaly_score($3, f) AS score, f
                    FROM insight.%2$I(NULL, NULL, NULL, NULL, $5, $6) f
                   WHERE (f.%1$I, f.ts) IN (SELECT * FROM unnest($1, $2)) OFFSET 0),
            saved AS (
              INSERT INTO insight.anomaly_events (scope, entity_id, ts, anomaly_score, severity, model_id,
                                                  features, top_features)
              SELECT $4, s.entity_id, s.ts, s.score, insight.anomaly_severity(s.score, m.threshold),
                     m.model_id, to_jsonb(s.f) - %1$L - ''ts'', insight.top_features($3, s.f, 3)
                FROM s, m WHERE s.score > m.threshold
              ON CONFLICT DO NOTHING
              RETURNING entity_id)
       SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM saved),
              (SELECT array_agg(DISTINCT entity_id) FROM saved)',
      v_id_col, '_' || p_scope || '_features')
      INTO v_scored, v_flagged, v_flagged_ids USING v_ids, v_ts, v_model, p_scope, v_entities, v_times;
  END IF;

  IF v_ids IS NOT NULL THEN

    -- Episodes: each entity's unattached flagged rows, oldest first. A row within a quiet
    -- period of the entity's open alert joins it (a row after that closes it first); a late
    -- row inside an earlier alert's span joins that one; otherwise a row that is high or
    -- critical, or has a metric open_deviation standard deviations or more from the entity's
    -- baseline (peak_dev), or is the min_rows-th within open_window, opens an alert with the
    -- rows before it in the window. Rows that do none of these stay unattached (below the
    -- rule).
    FOR r IN
      SELECT e.event_id, e.entity_id, e.ts, e.anomaly_score, e.severity, e.top_features,
             (e.features->>'peak_dev')::float8 AS peak_dev
        FROM insight.anomaly_events e
       WHERE e.scope = p_scope AND e.alert_id IS NULL AND e.entity_id = ANY (v_flagged_ids)
         AND e.ts >= v_oldest - w.open_window
       ORDER BY e.entity_id, e.ts, e.event_id
    LOOP
      IF r.entity_id IS DISTINCT FROM v_entity THEN
        v_entity := r.entity_id;
        SELECT * INTO a FROM insight.alerts al
         WHERE al.scope = p_scope AND al.entity_id = r.entity_id AND al.closed_at IS NULL FOR UPDATE;
      END IF;
      IF a.alert_id IS NOT NULL AND r.ts > a.last_seen_at + w.quiet_period THEN
        UPDATE insight.alerts SET closed_at = a.last_seen_at + w.quiet_period
         WHERE alert_id = a.alert_id RETURNING * INTO a;
        PERFORM insight._alert_changed(a, 'closed');
        v_closed := v_closed + 1;
        a := NULL;
      END IF;
      IF a.alert_id IS NOT NULL AND r.ts >= a.opened_at - w.quiet_period THEN
        v_old := a.alert_id;
      ELSE
        -- A late row inside an alert closed before (or resolved).
        SELECT al.alert_id INTO v_old FROM insight.alerts al
         WHERE al.scope = p_scope AND al.entity_id = r.entity_id AND al.closed_at IS NOT NULL
           AND r.ts >= al.opened_at AND r.ts <= al.closed_at
         ORDER BY al.opened_at DESC LIMIT 1;
      END IF;
      IF v_old IS NOT NULL THEN
        UPDATE insight.anomaly_events SET alert_id = v_old WHERE event_id = r.event_id;
        UPDATE insight.alerts al
           SET opened_at = least(al.opened_at, r.ts), last_seen_at = greatest(al.last_seen_at, r.ts),
               max_score = greatest(al.max_score, r.anomaly_score),
               severity = CASE WHEN r.anomaly_score > al.max_score THEN r.severity ELSE al.severity END,
               evidence = al.evidence || jsonb_build_object('rows', coalesce((al.evidence->>'rows')::int, 0) + 1)
                          || CASE WHEN r.anomaly_score > al.max_score
                                  THEN jsonb_build_object('top_features', r.top_features, 'worst_ts', r.ts)
                                  ELSE '{}' END
         WHERE al.alert_id = v_old
        RETURNING al.severity INTO v_severity;
        IF a.alert_id = v_old THEN
          v_touched := array_append(v_touched, v_old);
          v_changed_severity := v_severity <> a.severity;
          SELECT * INTO a FROM insight.alerts WHERE alert_id = v_old;
          IF v_changed_severity THEN
            PERFORM insight._alert_changed(a, 'severity');
            v_changed := v_changed + 1;
          END IF;
        END IF;
        v_old := NULL;
        CONTINUE;
      END IF;
      SELECT count(*), min(e.ts) INTO v_n, v_first FROM insight.anomaly_events e
       WHERE e.scope = p_scope AND e.entity_id = r.entity_id AND e.alert_id IS NULL
         AND e.ts > r.ts - w.open_window AND e.ts <= r.ts;
      IF r.severity IN ('high', 'critical') OR r.peak_dev >= w.open_deviation OR v_n >= w.min_rows THEN
        -- Late rows from before the entity's open alert (more than a quiet period before it)
        -- are an episode of their own, over by then: it is created closed.
        INSERT INTO insight.alerts AS al (scope, entity_id, opened_at, last_seen_at, closed_at, severity,
                                          max_score, evidence)
          SELECT p_scope, r.entity_id, v_first, r.ts,
                 CASE WHEN a.alert_id IS NOT NULL THEN r.ts + w.quiet_period END, e.severity, e.anomaly_score,
                 jsonb_build_object('rows', count(*) OVER (), 'top_features', e.top_features,
                                    'worst_ts', e.ts, 'model_id', e.model_id)
            FROM insight.anomaly_events e
           WHERE e.scope = p_scope AND e.entity_id = r.entity_id AND e.alert_id IS NULL
             AND e.ts >= v_first AND e.ts <= r.ts
           ORDER BY e.anomaly_score DESC LIMIT 1
        RETURNING al.alert_id INTO v_old;
        UPDATE insight.anomaly_events e SET alert_id = v_old
         WHERE e.scope = p_scope AND e.entity_id = r.entity_id AND e.alert_id IS NULL
           AND e.ts >= v_first AND e.ts <= r.ts;
        IF a.alert_id IS NOT NULL THEN
          SELECT * INTO v_late FROM insight.alerts WHERE alert_id = v_old;
          PERFORM insight._alert_changed(v_late, 'opened');
          PERFORM insight._alert_changed(v_late, 'closed');
        ELSE
          SELECT * INTO a FROM insight.alerts WHERE alert_id = v_old;
          PERFORM insight._alert_changed(a, 'opened');
        END IF;
        v_opened := v_opened + 1;
        v_touched := array_append(v_touched, v_old);
        v_old := NULL;
      END IF;
    END LOOP;

    -- Close the open alerts of the entities that have now sent a quiet period of data
    -- without a flagged row.
    FOR a IN
      UPDATE insight.alerts al SET closed_at = al.last_seen_at + w.quiet_period
        FROM (SELECT k.id, max(k.ts) AS newest FROM unnest(v_ids, v_ts) k(id, ts) GROUP BY k.id) k
       WHERE al.scope = p_scope AND al.closed_at IS NULL AND al.entity_id = k.id
         AND k.newest >= al.last_seen_at + w.quiet_period
      RETURNING al.*
    LOOP
      PERFORM insight._alert_changed(a, 'closed');
      v_closed := v_closed + 1;
    END LOOP;

    PERFORM insight._watch_root_causes(p_scope, v_touched, v_newest);
  END IF;

  v_summary := jsonb_build_object('scope', p_scope, 'queued', coalesce(v_queued, 0),
    'scored', v_scored, 'flagged', v_flagged, 'opened', v_opened, 'changed', v_changed,
    'closed', v_closed, 'newest_ts', v_newest,
    'ms', round((extract(epoch FROM clock_timestamp() - t0) * 1000)::numeric, 1));
  INSERT INTO insight.watch_runs (scope, started_at, finished_at, queued, scored, flagged, opened,
                                  changed, closed, newest_ts)
    VALUES (p_scope, t0, clock_timestamp(), coalesce(v_queued, 0), v_scored, v_flagged, v_opened,
            v_changed, v_closed, v_newest);
  RETURN v_summary;
END
$$;

-- The root cause of the alerts a run touched (open, or closed by it: a run that catches up on
-- hours of rows may open and close an episode), for links and networks (the root-cause
-- detectors read link telemetry): each is correlated at most once per five minutes of data.
-- A link alert is correlated over its hub antenna, satellite or network when another link
-- alert there overlaps it in time, and over the link itself; a network alert over the
-- network. The alert takes the strongest finding (severity × confidence) that overlaps it in
-- time and names its link among the affected (a network alert: the network's strongest),
-- with the finding's recommendations as its actions and its evidence; a new or changed
-- pattern is an event.
CREATE OR REPLACE FUNCTION insight._watch_root_causes(p_scope text, p_alerts bigint[], p_newest timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_due bigint[];
  v_best jsonb := '{}';
  c record;
  f record;
  b jsonb;
  a insight.alerts;
BEGIN
  IF p_scope = 'sales' THEN
    PERFORM insight._watch_sales_causes(p_alerts);
    RETURN;
  ELSIF p_scope NOT IN ('link', 'network') THEN
    RETURN;
  END IF;
  SELECT array_agg(al.alert_id) INTO v_due FROM insight.alerts al
   WHERE al.alert_id = ANY (p_alerts)
     AND (al.evidence->>'checked_until' IS NULL
          OR (al.evidence->>'checked_until')::timestamptz <= p_newest - interval '5 minutes');
  IF v_due IS NULL THEN
    RETURN;
  END IF;
  -- The scopes to correlate over, each once, with the due alerts each is for.
  FOR c IN
    WITH due AS (
      SELECT al.*, least(coalesce(al.closed_at, p_newest), p_newest) AS span_end
        FROM insight.alerts al WHERE al.alert_id = ANY (v_due)),
    scopes AS (
      SELECT 'network' AS scope, d.entity_id AS scope_id, d.alert_id, d.entity_id, d.opened_at,
             d.last_seen_at, d.span_end
        FROM due d WHERE p_scope = 'network'
      UNION ALL
      SELECT s.scope, s.scope_id, d.alert_id, d.entity_id, d.opened_at, d.last_seen_at, d.span_end
        FROM due d JOIN insight.links l ON l.link_id = d.entity_id,
             LATERAL (VALUES ('hub_antenna', l.hub_antenna_id), ('satellite', l.satellite_name),
                             ('network', l.network_id), ('link', l.link_id)) s(scope, scope_id)
       WHERE p_scope = 'link' AND s.scope_id IS NOT NULL
         AND (s.scope = 'link' OR EXISTS (
               SELECT FROM insight.alerts o JOIN insight.links ol ON ol.link_id = o.entity_id
                WHERE o.scope = 'link' AND o.entity_id <> d.entity_id
                  AND o.opened_at <= d.span_end AND coalesce(o.closed_at, 'infinity') >= d.opened_at
                  AND CASE s.scope WHEN 'hub_antenna' THEN ol.hub_antenna_id
                                   WHEN 'satellite' THEN ol.satellite_name
                                   ELSE ol.network_id END = s.scope_id)))
    SELECT s.scope, s.scope_id, array_agg(s.alert_id) AS alerts, array_agg(s.entity_id) AS entities,
           array_agg(s.opened_at) AS opened, array_agg(s.last_seen_at) AS last_seen,
           min(s.opened_at) AS window_start, max(s.span_end) + interval '1 second' AS window_end
      FROM scopes s GROUP BY 1, 2
  LOOP
    -- A detector's failure (a corrupt classifier, say) must not hold the alerts back: it is
    -- a WARNING in the run's log and the alerts go without a root cause this time.
    BEGIN
      FOR f IN
        SELECT x.alert_id, r.*
          FROM insight._correlate(c.scope, c.scope_id,
                 least(greatest(ceil(extract(epoch FROM c.window_end - c.window_start) / 3600)::int + 1, 2), 24),
                 c.window_end, 'root_cause') r,
               unnest(c.alerts, c.entities, c.opened, c.last_seen) x(alert_id, entity_id, opened_at, last_seen_at)
         WHERE (p_scope = 'network' OR x.entity_id = ANY (r.affected))
           AND (r.evidence->>'started_at')::timestamptz <= x.last_seen_at
           AND (r.evidence->>'ended_at')::timestamptz >= x.opened_at
      LOOP
        IF coalesce((v_best->(f.alert_id::text)->>'score')::float8, -1) < f.severity * f.confidence THEN
          v_best := v_best || jsonb_build_object(f.alert_id::text, jsonb_build_object(
            'score', f.severity * f.confidence, 'pattern_type', f.pattern_type,
            'root_cause', f.root_cause, 'actions', to_jsonb(f.recommendations),
            'correlated_over', jsonb_build_object('scope', c.scope, 'id', c.scope_id),
            'finding', f.evidence));
        END IF;
      END LOOP;
    EXCEPTION WHEN OTHERS THEN
      RAISE WARNING 'root-cause correlation over % % failed: %', c.scope, c.scope_id, SQLERRM;
    END;
  END LOOP;
  FOR a IN SELECT * FROM insight.alerts al WHERE al.alert_id = ANY (v_due) ORDER BY al.alert_id LOOP
    b := v_best->(a.alert_id::text);
    UPDATE insight.alerts al
       SET pattern_type = coalesce(b->>'pattern_type', al.pattern_type),
           root_cause = coalesce(b->>'root_cause', al.root_cause),
           actions = coalesce((SELECT array_agg(x) FROM jsonb_array_elements_text(b->'actions') x), al.actions),
           evidence = al.evidence || jsonb_build_object('checked_until', p_newest)
                      || coalesce(b - 'score' - 'pattern_type' - 'root_cause' - 'actions', '{}')
     WHERE al.alert_id = a.alert_id;
    IF b->>'pattern_type' IS DISTINCT FROM a.pattern_type AND b IS NOT NULL THEN
      SELECT * INTO a FROM insight.alerts al WHERE al.alert_id = a.alert_id;
      PERFORM insight._alert_changed(a, 'root_cause', b->>'root_cause');
    END IF;
  END LOOP;
END
$$;

-- The shop's sales alerts: a drop or a spike of the day's revenue, said with the numbers of
-- its worst day, and what to check first. A new or changed pattern is an event.
CREATE OR REPLACE FUNCTION insight._watch_sales_causes(p_alerts bigint[]) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  a insight.alerts;
  e insight.anomaly_events;
  f jsonb;
  v_pattern text;
BEGIN
  FOR a IN SELECT * FROM insight.alerts al WHERE al.alert_id = ANY (p_alerts) ORDER BY al.alert_id LOOP
    SELECT * INTO e FROM insight.anomaly_events ev WHERE ev.alert_id = a.alert_id
     ORDER BY ev.anomaly_score DESC, ev.ts LIMIT 1;
    CONTINUE WHEN NOT FOUND;
    f := e.features;
    v_pattern := e.top_features[1];
    UPDATE insight.alerts al
       SET pattern_type = v_pattern,
           root_cause = format('The shop''s revenue on %s was %s against %s expected (%s to %s at 99 %%): %s transactions by %s buyers.',
                               to_char(e.ts, 'YYYY-MM-DD'), round((f->>'revenue')::numeric, 2),
                               round((f->>'expected')::numeric, 2), round((f->>'lower_bound')::numeric, 2),
                               round((f->>'upper_bound')::numeric, 2), f->>'transactions', f->>'unique_users'),
           actions = CASE v_pattern
             WHEN 'revenue_drop' THEN ARRAY[
               'Check checkout, payment and site errors of the day',
               'Check stock-outs and prices of the best-selling products',
               'Compare with the calendar: a holiday, or a competitor''s promotion']
             ELSE ARRAY[
               'Look for duplicate, test or automated orders (many orders from few buyers)',
               'Confirm the promotion or campaign that explains it',
               'Check stock for the demand that follows'] END,
           evidence = al.evidence || jsonb_build_object('worst_day', e.ts) || f
     WHERE al.alert_id = a.alert_id;
    IF v_pattern IS DISTINCT FROM a.pattern_type THEN
      SELECT * INTO a FROM insight.alerts al WHERE al.alert_id = a.alert_id;
      PERFORM insight._alert_changed(a, 'root_cause', a.root_cause);
    END IF;
  END LOOP;
END
$$;

-- An operator's acknowledgement: the alert stays open, its history says who saw it.
CREATE OR REPLACE FUNCTION insight.acknowledge_alert(alert_id bigint, note text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF alert_id IS NULL THEN
    RAISE EXCEPTION 'alert_id must not be NULL' USING ERRCODE = '22023';
  END IF;
  PERFORM insight._change_alert(acknowledge_alert.alert_id, 'acknowledged', note, current_user);
END
$$;

-- An operator's outcome: 'fixed' resolves the alert, 'false_positive' marks it and its rows as
-- a false alarm (labels for the detectors). Either closes it.
CREATE OR REPLACE FUNCTION insight.resolve_alert(alert_id bigint, outcome text DEFAULT 'fixed',
    note text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF alert_id IS NULL THEN
    RAISE EXCEPTION 'alert_id must not be NULL' USING ERRCODE = '22023';
  END IF;
  IF outcome IS NULL OR outcome NOT IN ('fixed', 'false_positive') THEN
    RAISE EXCEPTION 'outcome must be fixed or false_positive, got %', coalesce(outcome, 'NULL')
      USING ERRCODE = '22023';
  END IF;
  PERFORM insight._change_alert(resolve_alert.alert_id,
    CASE outcome WHEN 'fixed' THEN 'resolved' ELSE 'false_positive' END, note, current_user);
END
$$;

-- The operators' outcomes as labels of the rows they are about: every flagged row of a
-- resolved alert, anomaly (resolved as fixed) or not (a false positive), with its features
-- as the run recorded them. evaluate_anomaly_detector takes them through a view that turns
-- the features back into columns (docs/operations.md).
CREATE OR REPLACE VIEW insight.alert_labels AS
  SELECT e.scope, e.entity_id, e.ts, a.alert_id, a.status AS outcome,
         a.status = 'resolved' AS is_anomaly, e.anomaly_score, e.model_id, e.features
    FROM insight.anomaly_events e JOIN insight.alerts a ON a.alert_id = e.alert_id
   WHERE a.status IN ('resolved', 'false_positive');

-- Privileges (API.md sections 5 and 7): analysts acknowledge and resolve; watch and unwatch
-- are executable by analysts too and check their caller (insight._require_admin), as the
-- other admin functions; the runs and the trigger helper are the admins'.
GRANT EXECUTE ON FUNCTION insight.acknowledge_alert(bigint, text),
    insight.resolve_alert(bigint, text, text), insight._change_alert(bigint, text, text, name),
    insight.watch(text, interval, interval, int, interval, float8), insight.unwatch(text)
  TO insight_analyst, insight_admin;
GRANT SELECT ON insight.alert_labels TO insight_analyst, insight_admin;
GRANT EXECUTE ON FUNCTION insight._watch_run(text), insight._watch_triggers(text, bool),
    insight._alert_changed(insight.alerts, text, text, name),
    insight._check_watch_scope(text),
    insight._watch_root_causes(text, bigint[], timestamptz), insight._watch_sales_causes(bigint[]),
    insight._cron_every(interval)
  TO insight_admin;

-- Descriptions.
COMMENT ON FUNCTION insight._watch_triggers(text, bool) IS 'Internal: puts the queueing triggers on a scope''s metrics table, or takes them off.';
COMMENT ON FUNCTION insight._alert_changed(insight.alerts, text, text, name) IS 'Internal: records an alert''s event in insight.alert_events and sends it with NOTIFY on insight_alerts.';
COMMENT ON FUNCTION insight._change_alert(bigint, text, text, name) IS 'Internal: an operator''s acknowledgement or outcome of an alert, under its row lock (the body of acknowledge_alert and resolve_alert).';
COMMENT ON FUNCTION insight._check_watch_scope(text) IS 'Internal: 22023 unless the scope is link, site, network or sales.';
COMMENT ON FUNCTION insight._cron_every(interval) IS 'Internal: the pg_cron schedule of an interval that divides an hour or a day.';
COMMENT ON FUNCTION insight.watch(text, interval, interval, int, interval, float8) IS 'Watches a scope (link, site, network, sales): a pg_cron job scores the rows that arrived since its last run and keeps insight.alerts current; returns the job id. Admin.';
COMMENT ON FUNCTION insight.unwatch(text) IS 'Stops watching a scope (its job, triggers and queue; its alerts stay); false when it was not watched. Admin.';
COMMENT ON FUNCTION insight._watch_run(text) IS 'Internal: one watch run of a scope: scores the queued rows, keeps the alerts, returns what it did.';
COMMENT ON FUNCTION insight._watch_root_causes(text, bigint[], timestamptz) IS 'Internal: correlates the root cause of the open alerts a watch run touched.';
COMMENT ON FUNCTION insight._watch_sales_causes(bigint[]) IS 'Internal: the pattern (revenue_drop or revenue_spike), cause and actions of the sales alerts a watch run touched.';
COMMENT ON VIEW insight.alert_labels IS 'The flagged rows of resolved alerts, labelled by their outcome: is_anomaly true when fixed, false when a false positive.';
COMMENT ON FUNCTION insight.acknowledge_alert(bigint, text) IS 'Records that an operator has seen an alert (with a note); the alert stays open.';
COMMENT ON FUNCTION insight.resolve_alert(bigint, text, text) IS 'Closes an alert as fixed or false_positive (a label for the detectors), with a note.';
