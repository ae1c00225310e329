-- Issue 15, item 4: run in a database with load_demo_data(days => 30, seed => 42) and
-- train_default_models(), e.g. psql -X -d <db> -f test/bench/spike_recall.sql.
-- Recall of the demo's metric_spike faults of the last 7 days: a spike counts as found when
-- detect_<scope>_anomaly flags a row of its entity inside its window.
WITH spikes AS (
  SELECT * FROM insight.demo_ground_truth
   WHERE kind = 'metric_spike' AND started_at >= now() - interval '7 days' AND ended_at <= now()),
link_flags AS (SELECT link_id AS id, ts FROM insight.detect_link_anomaly(since => '7 days')),
site_flags AS (SELECT site_id AS id, ts FROM insight.detect_site_anomaly(since => '7 days')),
net_flags AS (SELECT network_id AS id, ts FROM insight.detect_network_anomaly(since => '7 days')),
flags AS (SELECT 'link' AS scope, * FROM link_flags UNION ALL SELECT 'site', * FROM site_flags
          UNION ALL SELECT 'network', * FROM net_flags)
SELECT s.scope, count(*) AS spikes,
       count(*) FILTER (WHERE EXISTS (SELECT FROM flags f WHERE f.scope = s.scope AND f.id = s.scope_id
                                         AND f.ts >= s.started_at AND f.ts < s.ended_at)) AS found
  FROM spikes s GROUP BY 1 ORDER BY 1;
