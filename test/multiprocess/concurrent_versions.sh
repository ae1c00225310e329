#!/usr/bin/env bash
# Four sessions write versions of one model and deploy them at the same time: every version
# number is used exactly once, no session fails, and the live model is one that was written.
set -euo pipefail
n=15
for s in 1 2 3 4; do
  (for i in $(seq 1 $n); do
     echo "SELECT version FROM insight.register_model('race', 'anomaly', '\\x0$s'::bytea);"
     echo "SELECT insight.rollback('race') WHERE $i % 5 = 0 AND (SELECT count(*) FROM insight.deployments WHERE name = 'race') > 2;"
   done) | psql -X -q -v ON_ERROR_STOP=1 >/dev/null &
done
wait
psql -X -v ON_ERROR_STOP=1 -tA <<'SQL' | tee /dev/stderr | grep -qx "t|t|t"
SELECT count(*) = 60, count(DISTINCT version) = 60 AND max(version) = 60,
       (SELECT model_id FROM insight.models WHERE model_id = insight.live_model_id('race')) IS NOT NULL
  FROM insight.models WHERE name = 'race';
SQL
echo "# 4 sessions × $n versions: 60 distinct versions, live model valid"
