#!/usr/bin/env bash
# A lifecycle call in a REPEATABLE READ transaction whose snapshot predates another session's
# deploy must fail with 40001 (serialization failure) instead of writing a history based on
# the stale snapshot.
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 -c "SELECT insight.register_model('rr', 'forecast', '\\x01'::bytea)" \
  -c "SELECT insight.register_model('rr', 'forecast', '\\x02'::bytea)" \
  -c "SELECT insight.register_model('rr', 'forecast', '\\x03'::bytea, deploy => false)" >/dev/null
out=$(psql -X -v VERBOSITY=verbose 2>&1 <<'SQL'
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM insight.deployments;
\! psql -X -q -tA -c "SELECT insight.deploy('rr', 3)" >/dev/null
SELECT insight.rollback('rr');
ROLLBACK;
SQL
)
echo "$out" | grep -q "40001" || { echo "expected 40001, got:"; echo "$out"; exit 1; }
live=$(psql -X -tA -c "SELECT version FROM insight.models WHERE model_id = insight.live_model_id('rr')")
[ "$live" = "3" ] || { echo "live version $live, expected 3 (the concurrent deploy)"; exit 1; }
# At READ COMMITTED the same sequence waits for the lock and sees the deploy: rolls back to 2.
back=$(psql -X -tA -c "SELECT m.version FROM insight.rollback('rr') r JOIN insight.models m ON m.model_id = r")
[ "$back" = "2" ] || { echo "rollback at read committed gave $back"; exit 1; }
echo "# stale REPEATABLE READ snapshot refused with 40001; READ COMMITTED rolls back correctly"
