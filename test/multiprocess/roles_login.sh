#!/usr/bin/env bash
# Roles in real sessions: login roles connect on their own (no SET ROLE from a superuser)
# and get exactly what API.md section 5 gives them. An admin trains on the tables it may read
# and not on others; an analyst scores and evaluates but may not train, deploy, roll back,
# drop or schedule; a role with neither gets nothing. A hostile admin session that puts
# trojan functions first on its search_path (named like what the SECURITY DEFINER functions
# call) runs the lifecycle functions without the trojans ever running.
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
CREATE ROLE mp_admin LOGIN IN ROLE insight_admin;
CREATE ROLE mp_analyst LOGIN IN ROLE insight_analyst;
CREATE ROLE mp_nobody LOGIN;
CREATE TABLE mp_points AS SELECT g::float8 AS x, (g % 13)::float8 AS y, g % 50 = 0 AS label FROM generate_series(1, 500) g;
CREATE TABLE mp_secret AS SELECT * FROM mp_points;
GRANT SELECT ON mp_points TO mp_admin, mp_analyst;
CREATE SCHEMA trojan AUTHORIZATION mp_admin;
CREATE TABLE trojan_log (fired text);
GRANT INSERT ON trojan_log TO PUBLIC;
SQL
trap 'psql -X -q -c "DROP SCHEMA trojan CASCADE" -c "DROP TABLE IF EXISTS mp_points, mp_secret, trojan_log" -c "DROP OWNED BY mp_admin, mp_analyst, mp_nobody" -c "DROP ROLE IF EXISTS mp_admin, mp_analyst, mp_nobody" >/dev/null 2>&1 || true' EXIT

# as ROLE SQL: the statement's SQLSTATE ("ok" when it succeeds), from a session of that role.
as() {
  local role=$1 sql=$2 out
  if out=$(psql -X -q -tA -U "$role" -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate -c "$sql" 2>&1); then
    echo ok
  else
    echo "$out" | grep -oE '[0-9A-Z]{5}' | tail -1
  fi
}
expect() {
  local want=$1 role=$2 sql=$3 got
  got=$(as "$role" "$sql")
  [ "$got" = "$want" ] || { echo "as $role: $sql -> $got, expected $want"; exit 1; }
}

expect ok mp_admin "SELECT insight.train_anomaly_detector('mp_model', 'mp_points', ARRAY['x', 'y'])"
expect 42501 mp_admin "SELECT insight.train_anomaly_detector('mp_secret_model', 'mp_secret', ARRAY['x', 'y'])"
expect ok mp_admin "SELECT insight.retrain('mp_model')"
expect ok mp_admin "SELECT insight.deploy('mp_model', 1)"
expect ok mp_admin "SELECT insight.rollback('mp_model')"
expect 42501 mp_admin "INSERT INTO insight.models (name, version, task, algorithm, payload) VALUES ('forged', 1, 'anomaly', 'external', '\\x00')"
expect 42501 mp_admin "UPDATE insight.training_runs SET status = 'failed'"

expect ok mp_analyst "SELECT insight.anomaly_score('mp_model', ARRAY[1, 2]::float8[])"
expect ok mp_analyst "SELECT count(*) FROM insight.evaluate_anomaly_detector('mp_model', 'mp_points', 'label')"
expect 42501 mp_analyst "SELECT count(*) FROM insight.evaluate_anomaly_detector('mp_model', 'mp_secret', 'label')"
expect 42501 mp_analyst "SELECT insight.train_anomaly_detector('mp_x', 'mp_points', ARRAY['x'])"
expect 42501 mp_analyst "SELECT insight.deploy('mp_model', 2)"
expect 42501 mp_analyst "SELECT insight.rollback('mp_model')"
expect 42501 mp_analyst "SELECT insight.drop_model('mp_model', 1)"
expect 42501 mp_analyst "SELECT insight.retrain('mp_model')"
expect 42501 mp_analyst "SELECT insight.schedule_retraining('mp_model')"
expect 42501 mp_analyst "DELETE FROM insight.deployments"

expect 42501 mp_nobody "SELECT insight.anomaly_score('mp_model', ARRAY[1, 2]::float8[])"
expect 42501 mp_nobody "SELECT count(*) FROM insight.models"
expect 42501 mp_nobody "SELECT insight.version()"

# The hostile admin: trojans named like what the SECURITY DEFINER code and the catalog
# writes call unqualified (built-in functions, the text = operator, the extension's own
# functions and tables), first on its search_path, ahead of pg_catalog.
psql -X -q -U mp_admin -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE FUNCTION trojan.left(text, int) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO public.trojan_log VALUES ('left'); RETURN 'x'; END $$;
CREATE FUNCTION trojan.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO public.trojan_log VALUES ('clock_timestamp'); RETURN pg_catalog.now(); END $$;
CREATE FUNCTION trojan.jsonb_typeof(jsonb) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO public.trojan_log VALUES ('jsonb_typeof'); RETURN 'array'; END $$;
CREATE FUNCTION trojan.quote_literal(text) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO public.trojan_log VALUES ('quote_literal'); RETURN 'x'; END $$;
CREATE FUNCTION trojan.live_model_id(text) RETURNS bigint LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO public.trojan_log VALUES ('live_model_id'); RETURN 1; END $$;
CREATE FUNCTION trojan.text_eq(text, text) RETURNS bool LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO public.trojan_log VALUES ('='); RETURN pg_catalog.texteq($1, $2); END $$;
CREATE OPERATOR trojan.= (LEFTARG = text, RIGHTARG = text, FUNCTION = trojan.text_eq);
CREATE TABLE trojan.models (LIKE insight.models);
CREATE TABLE trojan.deployments (LIKE insight.deployments);
SQL
hostile="SET search_path = trojan, pg_catalog, public, insight;"
expect ok mp_admin "$hostile SELECT insight.train_anomaly_detector('mp_model', 'mp_points', ARRAY['x', 'y'], deploy => false)"
expect ok mp_admin "$hostile SELECT insight.deploy('mp_model', 1)"
expect ok mp_admin "$hostile SELECT insight.rollback('mp_model')"
expect ok mp_admin "$hostile SELECT insight.register_model('mp_ext', 'anomaly', '\\x00'::bytea)"
expect ok mp_admin "$hostile SELECT insight.drop_model('mp_ext')"
expect ok mp_admin "$hostile SELECT insight.retrain('mp_model')"
expect 22023 mp_admin "$hostile SELECT insight.retrain('mp_model', promote => 'if_better')"
expect ok mp_admin "$hostile SELECT insight.retrain_all()"
# The trojans themselves work when called directly: the check below could fail.
expect ok mp_admin "$hostile SELECT left('abc', 1), 'a' = 'b'"
fired=$(psql -X -tA -c "SELECT string_agg(DISTINCT fired, ',' ORDER BY fired) FROM trojan_log")
[ "$fired" = "=,left" ] || { echo "trojans fired inside pg_insight's functions: $fired"; exit 1; }
versions=$(psql -X -tA -c "SELECT count(*) FROM insight.models WHERE name = 'mp_model'")
live=$(psql -X -tA -c "SELECT version FROM insight.models WHERE model_id = insight.live_model_id('mp_model')")
[ "$versions" -eq 5 ] && [ "$live" -eq 5 ] || { echo "expected 5 versions with version 5 live, got $versions and $live"; exit 1; }
echo "# login roles: admin trains/deploys/rolls back, not on unreadable sources, not the catalog directly; analyst scores and evaluates only; nobody: nothing (20 checks)"
echo "# a hostile admin search_path with 8 trojans (functions, the text = operator, tables): train, deploy, rollback, register, drop, retrain, retrain_all ran without firing one"
