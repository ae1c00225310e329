-------------------------------------------------------------------------------------------
-- Domain anomaly detection over the standard telemetry tables
-------------------------------------------------------------------------------------------
-- Features of each scope: the metrics operations teams watch, plus each entity's deviation
-- from its own baseline ((x - mean) / stddev of that entity over the baseline window), which
-- is what lets one model serve links, sites or networks with very different normal levels.
-- peak_dev, the largest of an entity's absolute deviations, makes a one-metric extreme stand
-- out: in the other features it is one coordinate among many, which an Isolation Forest
-- splits on only now and then (demo spike recall: docs/benchmarks.md).
-- Link throughput follows the day, so its baseline is per link and hour of day: a night-time
-- burst at daytime volume is an anomaly, the same volume at noon is not. The hour of day (UTC)
-- is date_part('hour', ts AT TIME ZONE interval '0'): arithmetic and float8, where
-- extract(hour FROM ts AT TIME ZONE 'UTC') looks the zone up by name and builds a numeric for
-- every row (a third of the baseline's aggregation time on the demo).
-- (tables.sql has statistics on this expression.)
-- p_from NULL: every row, baseline over the whole table (the training views). Otherwise the
-- rows of [p_from, p_until), baseline over [p_baseline_from, p_from). With p_ids and p_ts
-- (the watch runs, src/sql/watch.sql), each without repeats: the rows of those entities at
-- those times, found through the primary key, baseline from the table
-- insight.<scope>_baselines that the runs keep. Either way the other branch of each
-- condition is a constant false once the arguments are known, and goes. Entities (or link hours) with no baseline are
-- not scored. The baseline itself is insight._<scope>_baseline(from, until, entity): the
-- statistics of each entity's rows of [from, until), or of every row when until is NULL.
-- No SET search_path here: these SQL functions must stay inlinable, so that the training
-- views scan in parallel; they run with the caller's rights and qualify every table.
-- One deviation: (x - mean) / sd, with sd at least 1 % of the mean's size (plus 1e-3), so a
-- metric that was flat over the baseline does not turn noise into huge deviations. Inlined
-- into the feature functions below (a SQL expression, IMMUTABLE, not STRICT).
CREATE OR REPLACE FUNCTION insight._deviation(x float8, mean float8, sd float8) RETURNS float8
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN (x - mean) / greatest(sd, 1e-3 + 0.01 * abs(mean));

CREATE OR REPLACE FUNCTION insight._link_baseline(p_from timestamptz, p_until timestamptz, p_link text)
RETURNS TABLE(link_id text, hour float8, t_avg float8, t_sd float8, i_avg float8, i_sd float8,
    o_avg float8, o_sd float8, l_avg float8, l_sd float8, j_avg float8, j_sd float8,
    e_avg float8, e_sd float8)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  -- The baseline is read once: per link and hour of day (count, mean and variance of each
  -- metric); throughput keeps its hour's figures, the other metrics pool their link's hours
  -- (mean = sum(n mean_h) / N, variance = sum(n (var_h + mean_h^2)) / N - mean^2).
  WITH h AS (
    SELECT m.link_id, date_part('hour', m.ts AT TIME ZONE interval '0') AS hour,
           avg(m.throughput_mbps) AS t_avg, stddev_pop(m.throughput_mbps) AS t_sd,
           count(m.ib_esno_db)::float8 AS i_n, avg(m.ib_esno_db) AS i_avg, var_pop(m.ib_esno_db) AS i_var,
           count(m.ob_esno_db)::float8 AS o_n, avg(m.ob_esno_db) AS o_avg, var_pop(m.ob_esno_db) AS o_var,
           count(m.latency_ms)::float8 AS l_n, avg(m.latency_ms) AS l_avg, var_pop(m.latency_ms) AS l_var,
           count(m.jitter_ms)::float8 AS j_n, avg(m.jitter_ms) AS j_avg, var_pop(m.jitter_ms) AS j_var,
           count(m.errors)::float8 AS e_n, avg(m.errors) AS e_avg, var_pop(m.errors) AS e_var
      FROM insight.link_metrics m
     WHERE (p_until IS NULL OR (m.ts >= p_from AND m.ts < p_until))
       AND (p_link IS NULL OR m.link_id = p_link)
     GROUP BY 1, 2),
  s AS (
    SELECT h.link_id, h.hour, h.t_avg, h.t_sd,
           sum(h.i_n) OVER w AS i_n, sum(h.i_n * h.i_avg) OVER w AS i_s, sum(h.i_n * (h.i_var + h.i_avg * h.i_avg)) OVER w AS i_q,
           sum(h.o_n) OVER w AS o_n, sum(h.o_n * h.o_avg) OVER w AS o_s, sum(h.o_n * (h.o_var + h.o_avg * h.o_avg)) OVER w AS o_q,
           sum(h.l_n) OVER w AS l_n, sum(h.l_n * h.l_avg) OVER w AS l_s, sum(h.l_n * (h.l_var + h.l_avg * h.l_avg)) OVER w AS l_q,
           sum(h.j_n) OVER w AS j_n, sum(h.j_n * h.j_avg) OVER w AS j_s, sum(h.j_n * (h.j_var + h.j_avg * h.j_avg)) OVER w AS j_q,
           sum(h.e_n) OVER w AS e_n, sum(h.e_n * h.e_avg) OVER w AS e_s, sum(h.e_n * (h.e_var + h.e_avg * h.e_avg)) OVER w AS e_q
      FROM h WINDOW w AS (PARTITION BY h.link_id))
  SELECT s.link_id, s.hour, s.t_avg, s.t_sd,
         s.i_s / nullif(s.i_n, 0), sqrt(greatest(s.i_q / nullif(s.i_n, 0) - (s.i_s / nullif(s.i_n, 0)) ^ 2, 0)),
         s.o_s / nullif(s.o_n, 0), sqrt(greatest(s.o_q / nullif(s.o_n, 0) - (s.o_s / nullif(s.o_n, 0)) ^ 2, 0)),
         s.l_s / nullif(s.l_n, 0), sqrt(greatest(s.l_q / nullif(s.l_n, 0) - (s.l_s / nullif(s.l_n, 0)) ^ 2, 0)),
         s.j_s / nullif(s.j_n, 0), sqrt(greatest(s.j_q / nullif(s.j_n, 0) - (s.j_s / nullif(s.j_n, 0)) ^ 2, 0)),
         s.e_s / nullif(s.e_n, 0), sqrt(greatest(s.e_q / nullif(s.e_n, 0) - (s.e_s / nullif(s.e_n, 0)) ^ 2, 0))
    FROM s
$$;

CREATE OR REPLACE FUNCTION insight._link_features(p_from timestamptz, p_until timestamptz,
    p_baseline_from timestamptz, p_link text, p_ids text[] DEFAULT NULL, p_ts timestamptz[] DEFAULT NULL)
RETURNS TABLE(link_id text, ts timestamptz, throughput_mbps float8, utilization float8,
    errors float8, discards float8, uptime_pct float8, ib_packet_loss_pct float8,
    ob_packet_loss_pct float8, throughput_hour_dev float8, ib_esno_dev float8, ob_esno_dev float8,
    latency_dev float8, jitter_dev float8, errors_dev float8, peak_dev float8)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH b AS (
    SELECT * FROM insight._link_baseline(p_baseline_from, p_from, p_link) WHERE p_ids IS NULL
    UNION ALL
    SELECT * FROM insight.link_baselines WHERE p_ids IS NOT NULL),
  r AS (
    SELECT m.* FROM insight.link_metrics m
     WHERE (p_ids IS NULL AND (p_from IS NULL OR (m.ts >= p_from AND m.ts < p_until))
            AND (p_link IS NULL OR m.link_id = p_link))
        OR (p_ids IS NOT NULL AND m.link_id = ANY (p_ids) AND m.ts = ANY (p_ts))),
  d AS (
    SELECT m.link_id, m.ts, m.throughput_mbps, m.utilization, m.errors, m.discards, m.uptime_pct,
           m.ib_packet_loss_pct, m.ob_packet_loss_pct,
           insight._deviation(m.throughput_mbps, b.t_avg, b.t_sd) AS throughput_hour_dev,
           insight._deviation(m.ib_esno_db, b.i_avg, b.i_sd) AS ib_esno_dev,
           insight._deviation(m.ob_esno_db, b.o_avg, b.o_sd) AS ob_esno_dev,
           insight._deviation(m.latency_ms, b.l_avg, b.l_sd) AS latency_dev,
           insight._deviation(m.jitter_ms, b.j_avg, b.j_sd) AS jitter_dev,
           insight._deviation(m.errors, b.e_avg, b.e_sd) AS errors_dev
      FROM r m
      JOIN b ON b.link_id = m.link_id AND b.hour = date_part('hour', m.ts AT TIME ZONE interval '0'))
  SELECT d.*, greatest(abs(d.throughput_hour_dev), abs(d.ib_esno_dev), abs(d.ob_esno_dev),
                       abs(d.latency_dev), abs(d.jitter_dev), abs(d.errors_dev))
    FROM d
$$;

CREATE OR REPLACE FUNCTION insight._site_baseline(p_from timestamptz, p_until timestamptz, p_site text)
RETURNS TABLE(site_id text, hour float8, r_avg float8, r_sd float8, e_avg float8, e_sd float8,
    c_avg float8, c_sd float8, m_avg float8, m_sd float8)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  -- Per site and hour of day, as the link baseline: response time and CPU follow the day's
  -- load, so they keep their hour's figures (against a whole-day baseline every quiet night
  -- and busy afternoon deviates); error rate and memory pool the site's hours.
  WITH h AS (
    SELECT m.site_id, date_part('hour', m.ts AT TIME ZONE interval '0') AS hour,
           avg(m.response_time_ms) AS r_avg, stddev_pop(m.response_time_ms) AS r_sd,
           avg(m.cpu_pct) AS c_avg, stddev_pop(m.cpu_pct) AS c_sd,
           count(m.error_rate)::float8 AS e_n, avg(m.error_rate) AS e_avg, var_pop(m.error_rate) AS e_var,
           count(m.memory_pct)::float8 AS m_n, avg(m.memory_pct) AS m_avg, var_pop(m.memory_pct) AS m_var
      FROM insight.site_metrics m
     WHERE (p_until IS NULL OR (m.ts >= p_from AND m.ts < p_until))
       AND (p_site IS NULL OR m.site_id = p_site)
     GROUP BY 1, 2),
  s AS (
    SELECT h.site_id, h.hour, h.r_avg, h.r_sd, h.c_avg, h.c_sd,
           sum(h.e_n) OVER w AS e_n, sum(h.e_n * h.e_avg) OVER w AS e_s, sum(h.e_n * (h.e_var + h.e_avg * h.e_avg)) OVER w AS e_q,
           sum(h.m_n) OVER w AS m_n, sum(h.m_n * h.m_avg) OVER w AS m_s, sum(h.m_n * (h.m_var + h.m_avg * h.m_avg)) OVER w AS m_q
      FROM h WINDOW w AS (PARTITION BY h.site_id))
  SELECT s.site_id, s.hour, s.r_avg, s.r_sd,
         s.e_s / nullif(s.e_n, 0), sqrt(greatest(s.e_q / nullif(s.e_n, 0) - (s.e_s / nullif(s.e_n, 0)) ^ 2, 0)),
         s.c_avg, s.c_sd,
         s.m_s / nullif(s.m_n, 0), sqrt(greatest(s.m_q / nullif(s.m_n, 0) - (s.m_s / nullif(s.m_n, 0)) ^ 2, 0))
    FROM s
$$;

CREATE OR REPLACE FUNCTION insight._site_features(p_from timestamptz, p_until timestamptz,
    p_baseline_from timestamptz, p_site text, p_ids text[] DEFAULT NULL, p_ts timestamptz[] DEFAULT NULL)
RETURNS TABLE(site_id text, ts timestamptz, response_time_ms float8, error_rate float8,
    uptime_pct float8, cpu_pct float8, memory_pct float8, response_time_dev float8,
    error_rate_dev float8, cpu_dev float8, memory_dev float8, peak_dev float8)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH b AS (
    SELECT * FROM insight._site_baseline(p_baseline_from, p_from, p_site) WHERE p_ids IS NULL
    UNION ALL
    SELECT * FROM insight.site_baselines WHERE p_ids IS NOT NULL),
  r AS (
    SELECT m.* FROM insight.site_metrics m
     WHERE (p_ids IS NULL AND (p_from IS NULL OR (m.ts >= p_from AND m.ts < p_until))
            AND (p_site IS NULL OR m.site_id = p_site))
        OR (p_ids IS NOT NULL AND m.site_id = ANY (p_ids) AND m.ts = ANY (p_ts))),
  d AS (
    SELECT m.site_id, m.ts, m.response_time_ms, m.error_rate, m.uptime_pct, m.cpu_pct, m.memory_pct,
           insight._deviation(m.response_time_ms, b.r_avg, b.r_sd) AS response_time_dev,
           insight._deviation(m.error_rate, b.e_avg, b.e_sd) AS error_rate_dev,
           insight._deviation(m.cpu_pct, b.c_avg, b.c_sd) AS cpu_dev,
           insight._deviation(m.memory_pct, b.m_avg, b.m_sd) AS memory_dev
      FROM r m
      JOIN b ON b.site_id = m.site_id AND b.hour = date_part('hour', m.ts AT TIME ZONE interval '0'))
  SELECT d.*, greatest(abs(d.response_time_dev), abs(d.error_rate_dev), abs(d.cpu_dev), abs(d.memory_dev))
    FROM d
$$;

CREATE OR REPLACE FUNCTION insight._network_baseline(p_from timestamptz, p_until timestamptz,
    p_network text)
RETURNS TABLE(network_id text, b_avg float8, b_sd float8, p_avg float8, p_sd float8,
    l_avg float8, l_sd float8, e_avg float8, e_sd float8, c_avg float8, c_sd float8)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT m.network_id,
         avg(m.bandwidth_mbps), stddev_pop(m.bandwidth_mbps),
         avg(m.packet_loss_pct), stddev_pop(m.packet_loss_pct),
         avg(m.latency_ms), stddev_pop(m.latency_ms),
         avg(m.error_rate), stddev_pop(m.error_rate),
         avg(m.connections), stddev_pop(m.connections)
    FROM insight.network_metrics m
   WHERE (p_until IS NULL OR (m.ts >= p_from AND m.ts < p_until))
     AND (p_network IS NULL OR m.network_id = p_network)
   GROUP BY m.network_id
$$;

CREATE OR REPLACE FUNCTION insight._network_features(p_from timestamptz, p_until timestamptz,
    p_baseline_from timestamptz, p_network text, p_ids text[] DEFAULT NULL,
    p_ts timestamptz[] DEFAULT NULL)
RETURNS TABLE(network_id text, ts timestamptz, bandwidth_mbps float8, packet_loss_pct float8,
    latency_ms float8, error_rate float8, connections float8, bandwidth_dev float8,
    packet_loss_dev float8, latency_dev float8, error_rate_dev float8, connections_dev float8,
    peak_dev float8)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH b AS (
    SELECT * FROM insight._network_baseline(p_baseline_from, p_from, p_network) WHERE p_ids IS NULL
    UNION ALL
    SELECT * FROM insight.network_baselines WHERE p_ids IS NOT NULL),
  r AS (
    SELECT m.* FROM insight.network_metrics m
     WHERE (p_ids IS NULL AND (p_from IS NULL OR (m.ts >= p_from AND m.ts < p_until))
            AND (p_network IS NULL OR m.network_id = p_network))
        OR (p_ids IS NOT NULL AND m.network_id = ANY (p_ids) AND m.ts = ANY (p_ts))),
  d AS (
    SELECT m.network_id, m.ts, m.bandwidth_mbps, m.packet_loss_pct, m.latency_ms, m.error_rate,
           m.connections,
           insight._deviation(m.bandwidth_mbps, b.b_avg, b.b_sd) AS bandwidth_dev,
           insight._deviation(m.packet_loss_pct, b.p_avg, b.p_sd) AS packet_loss_dev,
           insight._deviation(m.latency_ms, b.l_avg, b.l_sd) AS latency_dev,
           insight._deviation(m.error_rate, b.e_avg, b.e_sd) AS error_rate_dev,
           insight._deviation(m.connections, b.c_avg, b.c_sd) AS connections_dev
      FROM r m JOIN b ON b.network_id = m.network_id)
  SELECT d.*, greatest(abs(d.bandwidth_dev), abs(d.packet_loss_dev), abs(d.latency_dev),
                       abs(d.error_rate_dev), abs(d.connections_dev))
    FROM d
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
-- meanwhile. Runs with the caller's privileges. A NOTICE (unless p_report is false, as for
-- recommend_actions) says what was scored: the rows of the window read, those returned, the
-- model and the baseline. A baseline that would start before the data (of the entity, or
-- of the scope) uses the data there is: it starts with the first row, and when the window
-- itself starts less than a baseline after it, the window starts later (but never after
-- half-way from the first row to until), so that every scored row has a baseline before it.
-- Plans: each row is scored once (OFFSET 0 keeps the score out of the filters and the sort
-- key, which would call anomaly_score again); no JIT (its compilation cost more than the
-- query, every call); work_mem of at least 32MB (a day of every link's rows sorted in memory,
-- not through a temporary file).
CREATE OR REPLACE FUNCTION insight._detect(p_scope text, p_model text, p_entity text, p_since interval,
    p_until timestamptz, p_baseline interval, p_only_anomalies bool, p_persist bool,
    p_report bool DEFAULT true)
RETURNS TABLE(entity_id text, ts timestamptz, anomaly_score float8, is_anomaly boolean,
    severity text, top_features text[])
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  v_until timestamptz;
  v_from timestamptz;
  v_asked timestamptz;
  v_baseline_from timestamptz;
  v_first timestamptz;
  v_read bigint;
  v_returned bigint;
  v_sql text;
  v_known bool;
BEGIN
  IF p_scope IS NULL OR p_scope NOT IN ('link', 'site', 'network') THEN
    RAISE EXCEPTION 'scope must be link, site or network, got %', p_scope USING ERRCODE = '22023';
  END IF;
  -- The window's rows are sorted for the join with their baselines: at least 32MB of
  -- work_mem keeps a day of every link (about 11MB) off the disk. The change ends with the
  -- function (its SET clause opens a level of its own for settings).
  IF pg_size_bytes(current_setting('work_mem')) < 32 * 1024 * 1024 THEN
    PERFORM set_config('work_mem', '32MB', true);
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
  IF NOT EXISTS (SELECT FROM insight.deployments d WHERE d.name = p_model) THEN
    RAISE EXCEPTION 'model "%" does not exist', p_model
      USING ERRCODE = '42704',
            DETAIL = format('detect_%s_anomaly scores with the live version of model %s.', p_scope, p_model),
            HINT = 'Train the domain models from the standard tables with SELECT insight.train_default_models().';
  END IF;
  v_until := coalesce(p_until, now());
  v_asked := v_until - p_since;
  v_from := v_asked;
  v_baseline_from := v_from - p_baseline;
  EXECUTE format('SELECT min(ts) FROM insight.%I WHERE $1 IS NULL OR %I = $1', p_scope || '_metrics',
                 p_scope || '_id')
    INTO v_first USING p_entity;
  IF v_first IS NOT NULL AND v_baseline_from < v_first AND v_first < v_until THEN
    v_baseline_from := v_first;
    v_from := greatest(v_from, least(v_first + p_baseline, v_first + (v_until - v_first) / 2));
  END IF;
  v_sql := format(
    'WITH m AS (SELECT mo.model_id, (mo.metrics->>''threshold'')::float8 AS threshold
                  FROM insight.models mo WHERE mo.model_id = insight.live_model_id($5)),
          flagged AS (
            SELECT s.entity_id, s.ts, s.score, s.f, s.score > m.threshold AS is_anomaly,
                   insight.anomaly_severity(s.score, m.threshold) AS severity, m.model_id
              FROM (SELECT f.%I AS entity_id, f.ts, insight.anomaly_score($5, f) AS score, f
                      FROM insight.%I($1, $2, $3, $4) f OFFSET 0) s, m
             WHERE s.score IS NOT NULL)',
    p_scope || '_id', '_' || p_scope || '_features');
  IF coalesce(p_persist, false) THEN
    -- A separate text: the INSERT needs its privilege even when it would insert nothing.
    v_sql := v_sql || format(',
          saved AS (
            INSERT INTO insight.anomaly_events (scope, entity_id, ts, anomaly_score, severity, model_id,
                                                features, top_features)
            SELECT %L, entity_id, ts, score, severity, model_id, to_jsonb(f) - %L - ''ts'',
                   insight.top_features($5, f, 3)
              FROM flagged WHERE is_anomaly
            ON CONFLICT DO NOTHING)', p_scope, p_scope || '_id');
  END IF;
  v_sql := v_sql || '
     SELECT entity_id, ts, score, is_anomaly, severity,
            CASE WHEN is_anomaly THEN insight.top_features($5, f, 3) END
       FROM flagged WHERE NOT $6 OR is_anomaly
      ORDER BY score DESC, ts, entity_id';
  RETURN QUERY EXECUTE v_sql
    USING v_from, v_until, v_baseline_from, p_entity, p_model, coalesce(p_only_anomalies, true);
  GET DIAGNOSTICS v_returned = ROW_COUNT;
  IF NOT coalesce(p_report, true) THEN
    RETURN;
  END IF;
  EXECUTE format('SELECT count(*) FROM insight.%I WHERE ts >= $1 AND ts < $2 AND ($3 IS NULL OR %I = $3)',
                 p_scope || '_metrics', p_scope || '_id')
    INTO v_read USING v_from, v_until, p_entity;
  RAISE NOTICE '%',
    format('%s %s rows of [%s, %s) read, %s returned, scored by model %s against baselines of [%s, %s)',
           v_read, p_scope, v_from, v_until, v_returned, p_model, v_baseline_from, v_from)
    || CASE WHEN v_first IS NULL OR v_first >= v_until
            THEN format('; insight.%s_metrics has no rows before %s%s', p_scope, v_until,
                        CASE WHEN p_entity IS NULL THEN '' ELSE format(' for %s %s', p_scope, p_entity) END)
            WHEN v_from > v_asked
            THEN format('; the window asked for started at %s, but the data start at %s: their first part serves as the baseline',
                        v_asked, v_first)
            WHEN v_baseline_from > v_from - p_baseline
            THEN format('; the baseline asked for started at %s, before the data', v_from - p_baseline)
            ELSE '' END;
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
    insight._detect(text, text, text, interval, timestamptz, interval, bool, bool, bool),
    insight._link_features(timestamptz, timestamptz, timestamptz, text, text[], timestamptz[]),
    insight._site_features(timestamptz, timestamptz, timestamptz, text, text[], timestamptz[]),
    insight._network_features(timestamptz, timestamptz, timestamptz, text, text[], timestamptz[]),
    insight._link_baseline(timestamptz, timestamptz, text),
    insight._site_baseline(timestamptz, timestamptz, text),
    insight._network_baseline(timestamptz, timestamptz, text)
  TO insight_analyst, insight_admin;
GRANT SELECT ON insight.link_anomaly_features, insight.site_anomaly_features,
                insight.network_anomaly_features TO insight_analyst, insight_admin;

-- Descriptions.
COMMENT ON FUNCTION insight._deviation(float8, float8, float8) IS 'Internal: a value''s deviation from its baseline mean in baseline standard deviations (floored at 1 % of the mean).';
COMMENT ON FUNCTION insight._link_features(timestamptz, timestamptz, timestamptz, text, text[], timestamptz[]) IS 'Internal: link telemetry rows of a window (or of given keys) with each link''s deviations from its own baseline.';
COMMENT ON FUNCTION insight._site_features(timestamptz, timestamptz, timestamptz, text, text[], timestamptz[]) IS 'Internal: site telemetry rows of a window (or of given keys) with each site''s deviations from its own baseline.';
COMMENT ON FUNCTION insight._network_features(timestamptz, timestamptz, timestamptz, text, text[], timestamptz[]) IS 'Internal: network telemetry rows of a window (or of given keys) with each network''s deviations from its own baseline.';
COMMENT ON FUNCTION insight._link_baseline(timestamptz, timestamptz, text) IS 'Internal: per link and hour of day, the baseline statistics of the link detector over a window.';
COMMENT ON FUNCTION insight._site_baseline(timestamptz, timestamptz, text) IS 'Internal: per site and hour of day, the baseline statistics of the site detector over a window.';
COMMENT ON FUNCTION insight._network_baseline(timestamptz, timestamptz, text) IS 'Internal: per network, the baseline statistics of the network detector over a window.';
COMMENT ON VIEW insight.link_anomaly_features IS 'Every link_metrics row with the features of the link_anomaly model (baselines over the whole table): its training source.';
COMMENT ON VIEW insight.site_anomaly_features IS 'Every site_metrics row with the features of the site_anomaly model (baselines over the whole table): its training source.';
COMMENT ON VIEW insight.network_anomaly_features IS 'Every network_metrics row with the features of the network_anomaly model (baselines over the whole table): its training source.';
COMMENT ON FUNCTION insight.anomaly_severity(float8, float8) IS 'low, medium, high or critical from how far a score is past the threshold.';
COMMENT ON FUNCTION insight._detect(text, text, text, interval, timestamptz, interval, bool, bool, bool) IS 'Internal: the shared body of detect_link/site/network_anomaly.';
