-- insight.load_demo_data(): deterministic, realistic data with labelled faults.
\set SHOW_CONTEXT never
-- Loaded by a member of insight_admin (not a superuser).
CREATE ROLE demo_admin NOLOGIN IN ROLE insight_admin;
SET ROLE demo_admin;
SELECT insight.load_demo_data(days => 3, seed => 7, end_time => '2026-03-01 00:00+00');
RESET ROLE;

-- Deterministic: a reload with the same arguments gives identical rows.
CREATE TEMP TABLE fp AS
SELECT (SELECT md5(string_agg(concat_ws(',', link_id, ts, throughput_mbps, ib_esno_db, ob_grade), ';' ORDER BY link_id, ts))
          FROM insight.link_metrics) AS links,
       (SELECT md5(string_agg(concat_ws(',', ts, user_id, product_id, quantity, total_amount), ';' ORDER BY ts, user_id, product_id))
          FROM insight.transactions) AS sales;
SELECT insight.load_demo_data(days => 3, seed => 7, end_time => '2026-03-01 00:00+00');
\echo :LAST_ERROR_SQLSTATE
SELECT insight.load_demo_data(days => 3, seed => 7, end_time => '2026-03-01 00:00+00', replace => true) IS NOT NULL AS reloaded;
SELECT (SELECT md5(string_agg(concat_ws(',', link_id, ts, throughput_mbps, ib_esno_db, ob_grade), ';' ORDER BY link_id, ts))
          FROM insight.link_metrics) = links AS same_links,
       (SELECT md5(string_agg(concat_ws(',', ts, user_id, product_id, quantity, total_amount), ';' ORDER BY ts, user_id, product_id))
          FROM insight.transactions) = sales AS same_sales
  FROM fp;

-- Nothing half-written: a reload cancelled by statement_timeout leaves the old data intact.
SET statement_timeout = '400ms';
SELECT insight.load_demo_data(days => 60, seed => 8, end_time => '2026-03-01 00:00+00', replace => true);
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT (SELECT md5(string_agg(concat_ws(',', link_id, ts, throughput_mbps, ib_esno_db, ob_grade), ';' ORDER BY link_id, ts))
          FROM insight.link_metrics) = links AS links_untouched
  FROM fp;

-- Topology: 4 networks, 4 satellites, 8 hubs with 3 antennas each, 220 links; every
-- satellite is served from several hubs.
SELECT (SELECT count(*) FROM insight.networks) AS networks,
       (SELECT count(*) FROM insight.satellites) AS satellites,
       (SELECT count(*) FROM insight.sites WHERE site_type = 'hub') AS hubs,
       (SELECT count(*) FROM insight.hub_antennas) AS antennas,
       (SELECT count(*) FROM insight.links) AS links;
SELECT a.satellite_name, count(DISTINCT a.site_id) >= 2 AS several_hubs
  FROM insight.hub_antennas a GROUP BY 1 ORDER BY 1;

-- 5-minute telemetry for every entity over the whole window.
SELECT count(DISTINCT link_id) AS links, count(*) / count(DISTINCT link_id) AS samples_per_link,
       min(ts) AS first, max(ts) AS last
  FROM insight.link_metrics;
SELECT count(*) / count(DISTINCT site_id) AS samples_per_site FROM insight.site_metrics;
SELECT count(*) / count(DISTINCT network_id) AS samples_per_network FROM insight.network_metrics;
-- Physically sane values.
SELECT bool_and(utilization BETWEEN 0 AND 1) AS utilization_ok,
       bool_and(ib_grade BETWEEN 0 AND 10 AND ob_grade BETWEEN 0 AND 10) AS grades_ok,
       bool_and(uptime_pct BETWEEN 0 AND 100) AS uptime_ok,
       bool_and(throughput_mbps >= 0 AND errors >= 0 AND discards >= 0) AS non_negative
  FROM insight.link_metrics;

-- Labelled faults: all four root causes plus isolated metric spikes, each root cause also in
-- insight.incidents, and one of each inside the last 24 hours.
SELECT kind, count(*) > 0 AS present,
       bool_or(ended_at > '2026-02-28 00:00+00') AS in_last_24h
  FROM insight.demo_ground_truth GROUP BY kind ORDER BY kind;
SELECT (SELECT count(*) FROM insight.incidents)
     = (SELECT count(*) FROM insight.demo_ground_truth WHERE root_cause IS NOT NULL) AS incidents_match;
SELECT bool_and(l.link_id IS NOT NULL) AS affected_links_exist
  FROM insight.demo_ground_truth g, unnest(g.affected_links) a(link_id)
  LEFT JOIN insight.links l USING (link_id);

-- The faults are visible in the telemetry: a misaligned remote antenna drags both directions
-- of its link below grade 7, while the link's normal hours stay above 8.
SELECT g.fault_id,
       avg(m.ib_grade) FILTER (WHERE m.ts >= g.started_at AND m.ts < g.ended_at) < 7 AS ib_degraded,
       avg(m.ob_grade) FILTER (WHERE m.ts >= g.started_at AND m.ts < g.ended_at) < 7 AS ob_degraded,
       avg(m.ib_grade) FILTER (WHERE m.ts < g.started_at - interval '1 hour' OR m.ts >= g.ended_at + interval '1 hour') > 8 AS normal_otherwise
  FROM insight.demo_ground_truth g
  JOIN insight.link_metrics m ON m.link_id = g.scope_id
 WHERE g.kind = 'antenna_misalignment'
 GROUP BY g.fault_id ORDER BY g.fault_id;
-- Satellite interference spans several hub antennas.
SELECT g.fault_id, count(DISTINCT l.hub_antenna_id) >= 2 AS several_antennas
  FROM insight.demo_ground_truth g, unnest(g.affected_links) a(link_id)
  JOIN insight.links l USING (link_id)
 WHERE g.kind = 'satellite_interference'
 GROUP BY g.fault_id ORDER BY g.fault_id;

-- Sales: every transaction refers to a known product (seasonality and trend are checked
-- by the unit tests over longer windows).
SELECT count(*) > 0 AS has_sales,
       bool_and(p.product_id IS NOT NULL) AS products_known
  FROM insight.transactions t LEFT JOIN insight.products p USING (product_id);

-- Refuses to overwrite existing data unless asked — rows in any table it would truncate.
SELECT insight.load_demo_data(days => 1);
\echo :LAST_ERROR_SQLSTATE
SET ROLE demo_admin;
TRUNCATE insight.products, insight.transactions, insight.link_metrics, insight.site_metrics,
         insight.network_metrics, insight.links, insight.hub_antennas, insight.sites,
         insight.satellites, insight.networks, insight.incidents, insight.demo_ground_truth;
INSERT INTO insight.site_metrics (site_id, ts, cpu_pct) VALUES ('real-site', now(), 12.5);
SELECT insight.load_demo_data(days => 1);
\echo :LAST_ERROR_SQLSTATE
SELECT site_id, cpu_pct FROM insight.site_metrics;
RESET ROLE;
DROP ROLE demo_admin;

-- One generator function for every table, typed by a row of that table; anything else is 22023.
SELECT count(*) AS networks FROM insight._demo_rows(NULL::insight.networks, 1, 7, '2026-03-01 00:00+00', 300);
SELECT count(*) FROM insight._demo_rows(NULL::int, 1, 7, '2026-03-01 00:00+00', 300);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM insight._demo_rows(NULL::insight.models, 1, 7, '2026-03-01 00:00+00', 300);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM insight._demo_rows(NULL::insight.links, NULL, 7, '2026-03-01 00:00+00', 300);
\echo :LAST_ERROR_SQLSTATE
