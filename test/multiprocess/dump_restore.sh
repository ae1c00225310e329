#!/usr/bin/env bash
# pg_dump / pg_restore keeps the catalog: models, versions, deployments and payloads come back
# byte for byte in a new database, and the restored models load.
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SELECT insight.register_model('kept', 'recommend', '\xc0ffee'::bytea, '{"k": 10}');
SELECT insight.register_model('kept', 'recommend', '\xbeef'::bytea);
SELECT insight.rollback('kept');
SELECT insight.load_demo_data(days => 1, seed => 3, end_time => '2026-01-01+00');
SQL
fingerprint="SELECT md5(string_agg(concat_ws('|', name, version, task, md5(payload)), ',' ORDER BY model_id))
  || md5((SELECT string_agg(concat_ws('|', name, model_id, action), ',' ORDER BY deployment_id) FROM insight.deployments))
  || (SELECT count(*) FROM insight.link_metrics) FROM insight.models"
before=$(psql -X -tAc "$fingerprint")
dumpdir=$(mktemp -d)
trap 'rm -rf "$dumpdir"' EXIT
dump=$dumpdir/db.dump
pg_dump -Fc -f "$dump" "$PGDATABASE"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS insight_restored" -c "CREATE DATABASE insight_restored"
pg_restore -d insight_restored "$dump"
after=$(psql -X -tA -d insight_restored -c "$fingerprint")
[ "$before" = "$after" ] || { echo "catalog differs after restore: $before vs $after"; exit 1; }
live=$(psql -X -tA -d insight_restored -c "SELECT insight.describe_model('kept')->>'version'")
[ "$live" = "1" ] || { echo "live version after restore: $live"; exit 1; }
next=$(psql -X -tA -d insight_restored -c "SELECT version FROM insight.register_model('kept', 'recommend', '\\x01'::bytea)")
[ "$next" = "3" ] || { echo "next version after restore: $next"; exit 1; }
# Identity sequences came back too: new rows do not collide with restored ids.
psql -X -q -v ON_ERROR_STOP=1 -d insight_restored -c "INSERT INTO insight.transactions (ts, user_id, product_id, quantity, total_amount) VALUES (now(), 'u', 'p', 1, 1)" \
  -c "INSERT INTO insight.incidents (scope, scope_id, started_at) VALUES ('link', 'x', now())"
psql -X -q -d postgres -c "DROP DATABASE insight_restored"
echo "# pg_dump/pg_restore: models, deployments, sequences and data identical"
