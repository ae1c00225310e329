-------------------------------------------------------------------------------------------
-- Root-cause correlation (src/core/rootcause, src/pg/rootcause.cpp)
-------------------------------------------------------------------------------------------
-- Recomputes the five-minute rollup from `since` (default: an hour before where the last
-- refresh ended, to take in late rows) to the newest row of insight.link_metrics; returns the
-- buckets written. Run it on a schedule (pg_cron, every few minutes) where telemetry streams
-- in; load_demo_data() runs it once. Concurrent refreshes wait for each other.
CREATE OR REPLACE FUNCTION insight.refresh_link_rollup(since timestamptz DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  origin constant timestamptz := '2000-01-01 00:00+00';
  v_from timestamptz;
  v_until timestamptz;
  n bigint;
BEGIN
  PERFORM insight._require_admin('refresh_link_rollup');
  INSERT INTO insight.rollup_state (name, refreshed_until) VALUES ('link_metrics_5m', '-infinity')
    ON CONFLICT (name) DO NOTHING;
  SELECT refreshed_until - interval '1 hour' INTO v_from
    FROM insight.rollup_state WHERE name = 'link_metrics_5m' FOR UPDATE;
  v_from := coalesce(since, v_from);
  SELECT max(ts) INTO v_until FROM insight.link_metrics;
  IF v_until IS NULL THEN
    RETURN 0;
  END IF;
  v_until := date_bin('5 minutes', v_until, origin);
  IF isfinite(v_from) THEN
    v_from := date_bin('5 minutes', v_from, origin);
  END IF;
  DELETE FROM insight.link_metrics_5m WHERE bucket >= v_from;
  INSERT INTO insight.link_metrics_5m
    SELECT link_id, date_bin('5 minutes', ts, origin), count(*), avg(throughput_mbps),
           avg(utilization), avg(errors), avg(uptime_pct), avg(ib_esno_db), avg(ob_esno_db),
           avg(ib_grade), avg(ob_grade), avg(ib_packet_loss_pct), avg(ob_packet_loss_pct),
           avg(latency_ms), avg(jitter_ms)
      FROM insight.link_metrics
     WHERE ts >= v_from
     GROUP BY 1, 2
     ORDER BY 1, 2;  -- in key order: a reader's range scan of one link then reads few pages
  GET DIAGNOSTICS n = ROW_COUNT;
  UPDATE insight.rollup_state SET refreshed_until = v_until, refreshed_at = now()
   WHERE name = 'link_metrics_5m';
  RETURN n;
END
$$;

-- The detectors over one scope's telemetry window [until - hours, until), with the live
-- classifier of that name when one is deployed (NULL or absent: the detectors alone). Reads
-- insight.links, hub_antennas and link_metrics with the caller's privileges.
CREATE OR REPLACE FUNCTION insight._correlate(scope text, scope_id text, hours int, until timestamptz,
    classifier text)
  RETURNS SETOF insight.correlation_finding
  AS 'MODULE_PATHNAME', 'insight_correlate' LANGUAGE C STABLE
  SET search_path = pg_catalog, pg_temp SET jit = off;

-- _correlate for each scope, as API.md names them: correlate_hub_antenna(antenna_id, ...),
-- correlate_network(network_id, ...), correlate_satellite(satellite_name, ...) and
-- correlate_link_bidirectional(link_id, ...), each RETURNS SETOF insight.correlation_finding.
DO $correlate$
DECLARE
  f record;
BEGIN
  FOR f IN VALUES ('correlate_hub_antenna', 'antenna_id', 24, 'hub_antenna'),
                  ('correlate_network', 'network_id', 24, 'network'),
                  ('correlate_satellite', 'satellite_name', 72, 'satellite'),
                  ('correlate_link_bidirectional', 'link_id', 24, 'link') LOOP
    EXECUTE format('CREATE OR REPLACE FUNCTION insight.%1$I(%2$I text, hours int DEFAULT %3$s,
    until timestamptz DEFAULT NULL, classifier text DEFAULT ''root_cause'')
RETURNS SETOF insight.correlation_finding LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM insight._correlate(%4$L, %2$I, hours, until, classifier) $$',
      f.column1, f.column2, f.column3, f.column4);
    EXECUTE format('COMMENT ON FUNCTION insight.%I(text, int, timestamptz, text) IS %L', f.column1,
      format('Root-cause findings for one %s over the hours before until: pattern, severity, '
             'confidence, root cause, affected entities, recommended actions and evidence.',
             replace(f.column4, '_', ' ')));
  END LOOP;
END
$correlate$;

-- One scope's findings as the JSON document of API.md section 4. VOLATILE: every report gets
-- a new analysis_id. correlation_score is the strongest finding's severity × confidence.
CREATE OR REPLACE FUNCTION insight.correlation_report(scope text, scope_id text, hours int DEFAULT 24,
    until timestamptz DEFAULT NULL, classifier text DEFAULT 'root_cause')
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_until constant timestamptz := coalesce(until, now());
  v_patterns jsonb;
  v_recommendations jsonb;
  v_score float8;
  v_classified bool;
BEGIN
  -- One analysis: the findings are read once and give both the patterns and the actions.
  WITH f AS MATERIALIZED (
    SELECT c.*, row_number() OVER () AS ord
      FROM insight._correlate(scope, scope_id, hours, v_until, classifier) c
  ), actions AS (
    SELECT DISTINCT ON (a.action) a.action, f.ord, a.k
      FROM f, unnest(f.recommendations) WITH ORDINALITY a(action, k)
     ORDER BY a.action, f.ord, a.k
  )
  SELECT coalesce(jsonb_agg(jsonb_build_object(
             'pattern_type', f.pattern_type, 'severity', f.severity,
             'confidence', f.confidence, 'root_cause', f.root_cause,
             'affected', to_jsonb(f.affected),
             'started_at', f.evidence->'started_at', 'ended_at', f.evidence->'ended_at',
             'entity', f.evidence->'entity') ORDER BY f.ord), '[]'::jsonb),
         coalesce(max(f.severity * f.confidence), 0),
         bool_or(f.evidence->'classifier'->>'model' IS NOT NULL),
         (SELECT coalesce(jsonb_agg(x.action ORDER BY x.ord, x.k), '[]'::jsonb) FROM actions x)
    INTO v_patterns, v_score, v_classified, v_recommendations
    FROM f;
  RETURN jsonb_build_object(
    'status', 'success',
    'analysis', jsonb_build_object(
      'analysis_id', gen_random_uuid(),
      'scope', scope,
      'scope_id', scope_id,
      'window', jsonb_build_object('start', v_until - make_interval(hours => hours), 'end', v_until),
      'patterns_found', v_patterns,
      'correlation_score', v_score,
      'classifier', CASE WHEN v_classified THEN classifier END,
      'recommendations', v_recommendations));
END
$$;

-- Prioritised actions for one entity: the root-cause findings' recommendations (for link,
-- hub_antenna, satellite, network) and the anomaly detectors' flags (link, site, network),
-- ranked together. rank_score: a finding's severity × confidence (its 2nd and 3rd actions
-- 0.8 and 0.6 of that); for the anomalies of one leading feature, 0.6 × the top score × a
-- severity weight (critical 1, high 0.8, medium 0.5, low 0.25): a diagnosed root cause with
-- its fix ranks ahead of a bare anomaly flag. priority: high from 0.3, medium from 0.1.
CREATE OR REPLACE FUNCTION insight.recommend_actions(scope text, entity_id text,
    since interval DEFAULT '24 hours', until timestamptz DEFAULT NULL)
RETURNS TABLE(priority text, action text, rationale text, rank_score float8)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_until constant timestamptz := coalesce(until, now());
  v_hours int;
  v_model text;
  v_parts text[] := '{}';
  v_rows bigint := 0;
BEGIN
  IF scope IS NULL OR scope NOT IN ('link', 'hub_antenna', 'satellite', 'network', 'site') THEN
    RAISE EXCEPTION 'invalid scope "%"', scope
      USING ERRCODE = '22023', HINT = 'scope must be one of link, hub_antenna, satellite, network, site.';
  END IF;
  IF entity_id IS NULL THEN
    RAISE EXCEPTION 'entity_id must not be NULL' USING ERRCODE = '22023';
  END IF;
  IF since IS NULL OR since < interval '1 hour' OR since > interval '720 hours' THEN
    RAISE EXCEPTION 'since must be between 1 hour and 720 hours, got %', since USING ERRCODE = '22023';
  END IF;
  IF scope = 'site' AND NOT EXISTS (SELECT FROM insight.sites s WHERE s.site_id = entity_id) THEN
    RAISE EXCEPTION 'site "%" does not exist', entity_id
      USING ERRCODE = '42704', HINT = 'Known ids are in insight.sites.';
  END IF;
  v_hours := ceil(extract(epoch FROM since) / 3600)::int;
  IF scope <> 'site' THEN
    v_parts := array_append(v_parts, $q$
      SELECT a.action, f.root_cause AS rationale,
             f.severity * f.confidence * (1 - 0.2 * least(a.k - 1, 2)) AS score
        FROM insight._correlate($1, $2, $3, $4, 'root_cause') f,
             unnest(f.recommendations) WITH ORDINALITY a(action, k)$q$);
  END IF;
  v_model := scope || '_anomaly';
  IF scope IN ('link', 'site', 'network')
     AND EXISTS (SELECT FROM insight.deployments d WHERE d.name = v_model) THEN
    v_parts := array_append(v_parts, $q$
      SELECT format('Investigate %s on %s %s: %s anomalous sample%s from %s to %s',
                    coalesce(g.feature, 'the metrics'), $1, $2, g.n,
                    CASE WHEN g.n = 1 THEN '' ELSE 's' END, g.first_ts, g.last_ts),
             format('Anomaly detector %s flagged %s (score up to %s, %s)', $6,
                    coalesce(g.feature, 'the sample'), round(g.top_score::numeric, 3), g.worst),
             0.6 * g.top_score * CASE g.worst WHEN 'critical' THEN 1.0 WHEN 'high' THEN 0.8
                                              WHEN 'medium' THEN 0.5 ELSE 0.25 END
        FROM (SELECT d.top_features[1] AS feature, count(*) AS n, max(d.anomaly_score) AS top_score,
                     min(d.ts) AS first_ts, max(d.ts) AS last_ts,
                     (array_agg(d.severity ORDER BY d.anomaly_score DESC))[1] AS worst
                FROM insight._detect($1, $6, $2, $5, $4, '7 days', true, false, false) d
               GROUP BY 1) g$q$);
  END IF;
  IF cardinality(v_parts) > 0 THEN
    RETURN QUERY EXECUTE
      'SELECT CASE WHEN r.score >= 0.3 THEN ''high'' WHEN r.score >= 0.1 THEN ''medium''
                   ELSE ''low'' END, r.action, r.rationale, r.score::float8
         FROM (' || array_to_string(v_parts, ' UNION ALL ') || ') r(action, rationale, score)
        ORDER BY r.score DESC, r.action'
      USING scope, entity_id, v_hours, v_until, since, v_model;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
  END IF;
  IF v_rows = 0 THEN
    RETURN QUERY SELECT 'low'::text, 'No action needed'::text,
      format('No root-cause pattern or anomaly found for %s %s between %s and %s',
             scope, entity_id, v_until - since, v_until), 0::float8;
  END IF;
END
$$;

-- Reads source (insight.incidents' columns scope, scope_id, started_at, ended_at, root_cause)
-- with the caller's privileges and telemetry around each incident; writes the catalog.
-- No JIT: the per-incident telemetry reads are cheap plans that JIT compiling only slows.
CREATE OR REPLACE FUNCTION insight.train_root_cause_classifier(name text DEFAULT 'root_cause',
    source regclass DEFAULT 'insight.incidents', deploy bool DEFAULT true)
RETURNS insight.training_result LANGUAGE sql VOLATILE SET jit = off
BEGIN ATOMIC
  SELECT insight._require_admin('train_root_cause_classifier');
  SELECT insight._train('root_cause', name, source, '{}', deploy);
END;

-- Privileges (API.md section 5).
GRANT EXECUTE ON FUNCTION
    insight._correlate(text, text, int, timestamptz, text),
    insight.correlate_hub_antenna(text, int, timestamptz, text),
    insight.correlate_network(text, int, timestamptz, text),
    insight.correlate_satellite(text, int, timestamptz, text),
    insight.correlate_link_bidirectional(text, int, timestamptz, text),
    insight.correlation_report(text, text, int, timestamptz, text),
    insight.recommend_actions(text, text, interval, timestamptz)
  TO insight_analyst, insight_admin;
-- The admin functions check their caller themselves (insight._require_admin).
GRANT EXECUTE ON FUNCTION insight.train_root_cause_classifier(text, regclass, bool),
    insight.refresh_link_rollup(timestamptz)
  TO insight_analyst, insight_admin;

-- Descriptions.
COMMENT ON FUNCTION insight.refresh_link_rollup(timestamptz) IS 'Recomputes insight.link_metrics_5m, the five-minute means of link telemetry, from since; returns the buckets written.';
COMMENT ON FUNCTION insight._correlate(text, text, int, timestamptz, text) IS 'Internal: the root-cause detectors over one scope''s telemetry window, with the live classifier.';
COMMENT ON FUNCTION insight.correlation_report(text, text, int, timestamptz, text) IS 'One scope''s root-cause findings as a JSON report (API.md section 4).';
COMMENT ON FUNCTION insight.recommend_actions(text, text, interval, timestamptz) IS 'Ranked recommended actions for an entity (link, site, network, hub antenna, satellite) from its root-cause findings.';
COMMENT ON FUNCTION insight.train_root_cause_classifier(text, regclass, bool) IS 'Trains the root-cause classifier (gradient-boosted trees) on labelled incidents and their telemetry and stores it as a new model version. Admin.';
