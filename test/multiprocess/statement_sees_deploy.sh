#!/usr/bin/env bash
# A long-lived session caches models per backend, but each new statement resolves the live
# model again: after another session deploys a different version, the next statement of the
# first session uses it.
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 -c "SELECT insight.register_model('seen', 'forecast', '\\x01'::bytea)" \
  -c "SELECT insight.register_model('seen', 'forecast', '\\x02'::bytea, deploy => false)" >/dev/null
out=$(psql -X -tA -v ON_ERROR_STOP=1 <<'SQL'
SELECT 'first:' || (insight.describe_model('seen')->>'version');
\! psql -X -q -tA -c "SELECT insight.deploy('seen', 2)" >/dev/null
SELECT 'second:' || (insight.describe_model('seen')->>'version');
SELECT 'pid_same:' || (count(DISTINCT pid) = 1) FROM (SELECT pg_backend_pid() AS pid) p;
SQL
)
echo "$out"
echo "$out" | grep -qx "first:1" && echo "$out" | grep -qx "second:2"
echo "# a deploy in another session is seen by the next statement"
