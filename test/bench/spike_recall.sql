-- Issue 15, item 4: recall of the demo's metric spikes, per scope, by the detect_* functions
-- with the features of 0.2.0 (before peak_dev and the links' errors_dev) and with today's
-- (train_default_models), trained on the same rows and scored by the same detect path.
-- Run in a database with the demo data, e.g. after load_demo_data(days => 30, seed => 42):
--   psql -X -d <db> -f test/bench/spike_recall.sql
-- A spike counts as found when detect_<scope>_anomaly (last 7 days, default 7-day baseline,
-- only anomalies) flags a row of its entity inside its window. Rows flagged outside every
-- labelled fault and spike are counted as false alarms. Leaves the default models trained.
\set QUIET on
SET client_min_messages = warning;
CREATE TEMP TABLE recall (features text, scope text, spikes int, found int, flagged int, false_alarms int);
CREATE TEMP VIEW spike_recall AS
WITH gt AS (SELECT * FROM insight.demo_ground_truth
             WHERE started_at < now() AND ended_at > now() - interval '7 days'),
spikes AS (SELECT * FROM gt WHERE kind = 'metric_spike' AND started_at >= now() - interval '7 days'
                                 AND ended_at <= now()),
flags AS (SELECT 'link' AS scope, link_id AS id, ts FROM insight.detect_link_anomaly(since => '7 days')
          UNION ALL SELECT 'site', site_id, ts FROM insight.detect_site_anomaly(since => '7 days')
          UNION ALL SELECT 'network', network_id, ts FROM insight.detect_network_anomaly(since => '7 days'))
SELECT s.scope, s.spikes, s.found, f.flagged, f.false_alarms FROM
  (SELECT scope, count(*) AS spikes,
          count(*) FILTER (WHERE EXISTS (SELECT FROM flags f WHERE f.scope = s.scope AND f.id = s.scope_id
                                            AND f.ts >= s.started_at AND f.ts < s.ended_at)) AS found
     FROM spikes s GROUP BY 1) s
  JOIN (SELECT f.scope, count(*) AS flagged,
               count(*) FILTER (WHERE NOT EXISTS (
                 SELECT FROM gt g WHERE f.ts >= g.started_at AND f.ts < g.ended_at
                    AND (g.scope_id = f.id OR f.id = ANY (g.affected_links) OR f.id = ANY (g.affected_sites)
                         OR g.scope IN ('network', 'satellite', 'hub_antenna') AND f.scope = 'network'))) AS false_alarms
          FROM flags f GROUP BY 1) f USING (scope);

SELECT count(*) FROM insight.train_anomaly_detector('link_anomaly', 'insight.link_anomaly_features',
    ARRAY['throughput_mbps', 'utilization', 'errors', 'discards', 'uptime_pct', 'ib_packet_loss_pct',
          'ob_packet_loss_pct', 'throughput_hour_dev', 'ib_esno_dev', 'ob_esno_dev', 'latency_dev', 'jitter_dev'],
    contamination => 0.01);
SELECT count(*) FROM insight.train_anomaly_detector('site_anomaly', 'insight.site_anomaly_features',
    ARRAY['response_time_ms', 'error_rate', 'uptime_pct', 'cpu_pct', 'memory_pct', 'response_time_dev',
          'error_rate_dev', 'cpu_dev', 'memory_dev'],
    contamination => 0.01);
SELECT count(*) FROM insight.train_anomaly_detector('network_anomaly', 'insight.network_anomaly_features',
    ARRAY['bandwidth_mbps', 'packet_loss_pct', 'latency_ms', 'error_rate', 'connections', 'bandwidth_dev',
          'packet_loss_dev', 'latency_dev', 'error_rate_dev', 'connections_dev'],
    contamination => 0.01);
INSERT INTO recall SELECT '0.2.0', * FROM spike_recall;
SELECT count(*) FROM insight.train_default_models();
INSERT INTO recall SELECT 'today', * FROM spike_recall;
\set QUIET off
SELECT scope, spikes, b.found AS found_before, a.found AS found_after,
       b.flagged AS flagged_before, a.flagged AS flagged_after,
       b.false_alarms AS false_alarms_before, a.false_alarms AS false_alarms_after
  FROM recall b JOIN recall a USING (scope, spikes)
 WHERE b.features = '0.2.0' AND a.features = 'today' ORDER BY scope;
