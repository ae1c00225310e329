-------------------------------------------------------------------------------------------
-- Domain anomaly detection over the standard telemetry tables
-------------------------------------------------------------------------------------------
-- Features of each scope: the metrics operations teams watch, plus each entity's deviation
-- from its own baseline ((x - mean) / stddev of that entity over the baseline window), which
-- is what lets one model serve links, sites or networks with very different normal levels.
-- Link throughput follows the day, so its baseline is per link and hour of day: a night-time
-- burst at daytime volume is an anomaly, the same volume at noon is not.
-- p_from NULL: every row, baseline over the whole table (the training views). Otherwise the
-- rows of [p_from, p_until), baseline over [p_baseline_from, p_from). Entities (or link hours)
-- with no row in the baseline window have no baseline and are not scored.
-- No SET search_path here: these SQL functions must stay inlinable, so that the training
-- views scan in parallel; they run with the caller's rights and qualify every table.
-- One deviation: (x - mean) / sd, with sd at least 1 % of the mean's size (plus 1e-3), so a
-- metric that was flat over the baseline does not turn noise into huge deviations. Inlined
-- into the feature functions below (a SQL expression, IMMUTABLE, not STRICT).
CREATE OR REPLACE FUNCTION insight._deviation(x float8, mean float8, sd float8) RETURNS float8
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN (x - mean) / greatest(sd, 1e-3 + 0.01 * abs(mean));

CREATE OR REPLACE FUNCTION insight._link_features(p_from timestamptz, p_until timestamptz,
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
         insight._deviation(m.throughput_mbps, h.t_avg, h.t_sd),
         insight._deviation(m.ib_esno_db, b.i_avg, b.i_sd),
         insight._deviation(m.ob_esno_db, b.o_avg, b.o_sd),
         insight._deviation(m.latency_ms, b.l_avg, b.l_sd),
         insight._deviation(m.jitter_ms, b.j_avg, b.j_sd)
    FROM insight.link_metrics m JOIN b ON b.link_id = m.link_id
    JOIN h ON h.link_id = m.link_id AND h.hour = extract(hour FROM m.ts AT TIME ZONE 'UTC')
   WHERE (p_from IS NULL OR (m.ts >= p_from AND m.ts < p_until))
     AND (p_link IS NULL OR m.link_id = p_link)
$$;

CREATE OR REPLACE FUNCTION insight._site_features(p_from timestamptz, p_until timestamptz,
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
         insight._deviation(m.response_time_ms, b.r_avg, b.r_sd),
         insight._deviation(m.error_rate, b.e_avg, b.e_sd),
         insight._deviation(m.cpu_pct, b.c_avg, b.c_sd),
         insight._deviation(m.memory_pct, b.m_avg, b.m_sd)
    FROM insight.site_metrics m JOIN b ON b.site_id = m.site_id
   WHERE (p_from IS NULL OR (m.ts >= p_from AND m.ts < p_until))
     AND (p_site IS NULL OR m.site_id = p_site)
$$;

CREATE OR REPLACE FUNCTION insight._network_features(p_from timestamptz, p_until timestamptz,
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
         insight._deviation(m.bandwidth_mbps, b.b_avg, b.b_sd),
         insight._deviation(m.packet_loss_pct, b.p_avg, b.p_sd),
         insight._deviation(m.latency_ms, b.l_avg, b.l_sd),
         insight._deviation(m.error_rate, b.e_avg, b.e_sd),
         insight._deviation(m.connections, b.c_avg, b.c_sd)
    FROM insight.network_metrics m JOIN b ON b.network_id = m.network_id
   WHERE (p_from IS NULL OR (m.ts >= p_from AND m.ts < p_until))
     AND (p_network IS NULL OR m.network_id = p_network)
$$;

-- The training sources of the domain models (every row, baselines over the whole table).
CREATE OR REPLACE VIEW insight.link_anomaly_features AS SELECT * FROM insight._link_features(NULL, NULL, NULL, NULL);
CREATE OR REPLACE VIEW insight.site_anomaly_features AS SELECT * FROM insight._site_features(NULL, NULL, NULL, NULL);
CREATE OR REPLACE VIEW insight.network_anomaly_features AS SELECT * FROM insight._network_features(NULL, NULL, NULL, NULL);

-- Severity from how far the score is past the model's threshold, as a share of the room
-- left above it: not past it → low; then medium, high (≥ 25 %), critical (≥ 50 %).
CREATE OR REPLACE FUNCTION insight.anomaly_severity(score float8, threshold float8) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE
    WHEN score <= threshold THEN 'low'
    WHEN (score - threshold) / greatest(1 - threshold, 1e-9) >= 0.5 THEN 'critical'
    WHEN (score - threshold) / greatest(1 - threshold, 1e-9) >= 0.25 THEN 'high'
    ELSE 'medium' END
$$;

-- Shared body of detect_link/site/network_anomaly: scores the scope's feature rows of
-- [until - since, until) with the live model, explains them, optionally records the
-- anomalies in insight.anomaly_events. One statement does all of it, so the model, its
-- threshold and the recorded model_id come from one snapshot even if a deploy happens
-- meanwhile. Runs with the caller's privileges.
CREATE OR REPLACE FUNCTION insight._detect(p_scope text, p_model text, p_entity text, p_since interval,
    p_until timestamptz, p_baseline interval, p_only_anomalies bool, p_persist bool)
RETURNS TABLE(entity_id text, ts timestamptz, anomaly_score float8, is_anomaly boolean,
    severity text, top_features text[])
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_from timestamptz;
  v_sql text;
  v_known bool;
BEGIN
  IF p_scope IS NULL OR p_scope NOT IN ('link', 'site', 'network') THEN
    RAISE EXCEPTION 'scope must be link, site or network, got %', p_scope USING ERRCODE = '22023';
  END IF;
  -- An unknown entity is a mistake, not an entity without anomalies.
  IF p_entity IS NOT NULL THEN
    EXECUTE format('SELECT EXISTS (SELECT FROM insight.%I WHERE %I = $1)', p_scope || 's', p_scope || '_id')
      INTO v_known USING p_entity;
    IF NOT v_known THEN
      RAISE EXCEPTION '% "%" does not exist', p_scope, p_entity
        USING ERRCODE = '42704', HINT = format('Known ids are in insight.%ss.', p_scope);
    END IF;
  END IF;
  IF p_since IS NULL OR p_since <= interval '0' THEN
    RAISE EXCEPTION 'since must be a positive interval, got %', p_since USING ERRCODE = '22023';
  END IF;
  IF p_baseline IS NULL OR p_baseline <= interval '0' THEN
    RAISE EXCEPTION 'baseline must be a positive interval, got %', p_baseline USING ERRCODE = '22023';
  END IF;
  v_from := coalesce(p_until, now()) - p_since;
  IF NOT EXISTS (SELECT FROM insight.deployments d WHERE d.name = p_model) THEN
    RAISE EXCEPTION 'model "%" does not exist', p_model
      USING ERRCODE = '42704',
            DETAIL = format('detect_%s_anomaly scores with the live version of model %s.', p_scope, p_model),
            HINT = 'Train the domain models from the standard tables with SELECT insight.train_default_models().';
  END IF;
  v_sql := format(
    'WITH m AS (SELECT mo.model_id, (mo.metrics->>''threshold'')::float8 AS threshold
                  FROM insight.models mo WHERE mo.model_id = insight.live_model_id($5)),
          f AS (SELECT * FROM insight.%I($1, $2, $3, $4)),
          s AS (SELECT f.%I AS entity_id, f.ts, insight.anomaly_score($5, f) AS score, f FROM f),
          flagged AS (
            SELECT s.entity_id, s.ts, s.score, s.f, s.score > m.threshold AS is_anomaly,
                   insight.anomaly_severity(s.score, m.threshold) AS severity, m.model_id
              FROM s, m WHERE s.score IS NOT NULL)',
    '_' || p_scope || '_features', p_scope || '_id');
  IF coalesce(p_persist, false) THEN
    -- A separate text: the INSERT needs its privilege even when it would insert nothing.
    v_sql := v_sql || format(',
          saved AS (
            INSERT INTO insight.anomaly_events (scope, entity_id, ts, anomaly_score, severity, model_id, features)
            SELECT %L, entity_id, ts, score, severity, model_id, to_jsonb(f) - %L - ''ts''
              FROM flagged WHERE is_anomaly
            ON CONFLICT DO NOTHING)', p_scope, p_scope || '_id');
  END IF;
  v_sql := v_sql || '
     SELECT entity_id, ts, score, is_anomaly, severity,
            CASE WHEN is_anomaly THEN insight.top_features($5, f, 3) END
       FROM flagged WHERE NOT $6 OR is_anomaly
      ORDER BY score DESC, ts, entity_id';
  RETURN QUERY EXECUTE v_sql
    USING v_from, coalesce(p_until, now()), v_from - p_baseline, p_entity, p_model,
          coalesce(p_only_anomalies, true);
END
$$;

-- detect_link_anomaly(link_id, ...), detect_site_anomaly(site_id, ...) and
-- detect_network_anomaly(network_id, ...): _detect for each scope with its live model.
DO $detect$
DECLARE
  scope text;
BEGIN
  FOREACH scope IN ARRAY ARRAY['link', 'site', 'network'] LOOP
    EXECUTE format('CREATE OR REPLACE FUNCTION insight.%1$I(%2$I text DEFAULT NULL,
    since interval DEFAULT ''24 hours'', until timestamptz DEFAULT NULL,
    baseline interval DEFAULT ''7 days'', only_anomalies bool DEFAULT true,
    persist bool DEFAULT false)
RETURNS TABLE(%2$I text, ts timestamptz, anomaly_score float8, is_anomaly boolean,
    severity text, top_features text[])
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
  SELECT * FROM insight._detect(%3$L, %4$L, %2$I, since, until, baseline, only_anomalies, persist)
$$', 'detect_' || scope || '_anomaly', scope || '_id', scope, scope || '_anomaly');
    EXECUTE format('COMMENT ON FUNCTION insight.%I(text, interval, timestamptz, interval, bool, bool) IS %L',
      'detect_' || scope || '_anomaly',
      format('Scores the %ss'' telemetry of [until - since, until) with the live model %s_anomaly, '
             'most anomalous first, with severity and the top features; persist => true records them.',
             scope, scope));
  END LOOP;
END
$detect$;

-- Privileges (API.md section 5).
GRANT EXECUTE ON FUNCTION
    insight.anomaly_severity(float8, float8), insight._deviation(float8, float8, float8),
    insight.detect_link_anomaly(text, interval, timestamptz, interval, bool, bool),
    insight.detect_site_anomaly(text, interval, timestamptz, interval, bool, bool),
    insight.detect_network_anomaly(text, interval, timestamptz, interval, bool, bool),
    insight._detect(text, text, text, interval, timestamptz, interval, bool, bool),
    insight._link_features(timestamptz, timestamptz, timestamptz, text),
    insight._site_features(timestamptz, timestamptz, timestamptz, text),
    insight._network_features(timestamptz, timestamptz, timestamptz, text)
  TO insight_analyst, insight_admin;
GRANT SELECT ON insight.link_anomaly_features, insight.site_anomaly_features,
                insight.network_anomaly_features TO insight_analyst, insight_admin;

-- Descriptions.
COMMENT ON FUNCTION insight._deviation(float8, float8, float8) IS 'Internal: a value''s deviation from its baseline mean in baseline standard deviations (floored at 1 % of the mean).';
COMMENT ON FUNCTION insight._link_features(timestamptz, timestamptz, timestamptz, text) IS 'Internal: link telemetry rows of a window with each link''s deviations from its own baseline.';
COMMENT ON FUNCTION insight._site_features(timestamptz, timestamptz, timestamptz, text) IS 'Internal: site telemetry rows of a window with each site''s deviations from its own baseline.';
COMMENT ON FUNCTION insight._network_features(timestamptz, timestamptz, timestamptz, text) IS 'Internal: network telemetry rows of a window with each network''s deviations from its own baseline.';
COMMENT ON VIEW insight.link_anomaly_features IS 'Every link_metrics row with the features of the link_anomaly model (baselines over the whole table): its training source.';
COMMENT ON VIEW insight.site_anomaly_features IS 'Every site_metrics row with the features of the site_anomaly model (baselines over the whole table): its training source.';
COMMENT ON VIEW insight.network_anomaly_features IS 'Every network_metrics row with the features of the network_anomaly model (baselines over the whole table): its training source.';
COMMENT ON FUNCTION insight.anomaly_severity(float8, float8) IS 'low, medium, high or critical from how far a score is past the threshold.';
COMMENT ON FUNCTION insight._detect(text, text, text, interval, timestamptz, interval, bool, bool) IS 'Internal: the shared body of detect_link/site/network_anomaly.';
