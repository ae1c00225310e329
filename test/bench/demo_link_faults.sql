-- How well detect_link_anomaly finds the demo's injected link faults in the last 24 hours of
-- data (psql -v until=<end of the data>): row-level recall and false-positive rate, then per
-- fault whether it was flagged on each of its links. Used by scripts/bench.
\pset footer off
WITH scored AS (
  SELECT * FROM insight.detect_link_anomaly(until => :'until', only_anomalies => false)),
faults AS (
  SELECT g.fault_id, l AS link_id, g.started_at, g.ended_at
    FROM insight.demo_ground_truth g,
         unnest(CASE WHEN g.scope = 'link' THEN ARRAY[g.scope_id] ELSE g.affected_links END) l
   WHERE g.root_cause IS NOT NULL OR (g.kind = 'metric_spike' AND g.scope = 'link'))
SELECT count(*) AS rows, count(*) FILTER (WHERE f.link_id IS NOT NULL) AS fault_rows,
       round(avg(s.is_anomaly::int) FILTER (WHERE f.link_id IS NOT NULL), 3) AS row_recall,
       round(avg(s.is_anomaly::int) FILTER (WHERE f.link_id IS NULL), 4) AS false_positive_rate
  FROM scored s LEFT JOIN LATERAL (
    SELECT f.link_id FROM faults f
     WHERE f.link_id = s.link_id AND s.ts >= f.started_at AND s.ts < f.ended_at LIMIT 1) f ON true;
WITH flagged AS (SELECT link_id, ts FROM insight.detect_link_anomaly(until => :'until')),
faults AS (
  SELECT g.fault_id, g.kind, g.scope_id, g.started_at, g.ended_at,
         CASE WHEN g.scope = 'link' THEN ARRAY[g.scope_id] ELSE g.affected_links END AS links
    FROM insight.demo_ground_truth g
   WHERE g.ended_at > :'until'::timestamptz - interval '24 hours'
     AND (g.root_cause IS NOT NULL OR (g.kind = 'metric_spike' AND g.scope = 'link')))
SELECT f.kind, f.scope_id, cardinality(f.links) AS links,
       (SELECT count(DISTINCT x.link_id) FROM flagged x
         WHERE x.link_id = ANY (f.links) AND x.ts >= f.started_at AND x.ts < f.ended_at) AS links_flagged
  FROM faults f ORDER BY f.started_at;
