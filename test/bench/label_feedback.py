#!/usr/bin/python3
"""False positives as labels (issue 17): how much the operators' outcomes of one day's alerts
cut the next day's false alarms, on the demo, beside the same retraining without them.

For each seed (a demo of its own: load_demo_data(days => 12), the last two days held back):
  * the default models are trained on the first ten days (serially, so that every run of a
    seed gives the same models), and the link, site and network scopes are watched while day
    11 arrives an hour at a time (a run after each hour, as the pg_cron job would);
  * the database is copied; in one copy (labels) every alert of day 11 is resolved as an
    operator would: 'fixed' when it overlaps one of the demo's injected faults on its entity
    (insight.demo_ground_truth: the entity itself, or among the fault's affected links or
    sites), 'false_positive' otherwise. The other copy (no labels) keeps its alerts open;
  * both copies retrain their three detectors (insight.retrain, the same options) and watch
    day 12 arriving the same way.
Measured on day 12, per scope and copy: alerts on no fault (false alarms), the injected
faults' entities that got an alert (of how many), and the retrained threshold. The baseline is
the copy without labels, whose threshold is the contamination's alone.
"""
import argparse
import json
from contextlib import closing

import bench_common as bc

SCOPES = {"link": "link_metrics", "site": "site_metrics", "network": "network_metrics"}
END = "2026-04-02 00:00+00"
DAY11 = "2026-03-31 00:00+00"
DAY12 = "2026-04-01 00:00+00"

# An alert (al) that overlaps one of the day's injected faults on its entity.
ON_FAULT = """EXISTS (SELECT FROM insight.demo_ground_truth g
   WHERE (g.scope = al.scope AND g.scope_id = al.entity_id
          OR al.scope = 'link' AND al.entity_id = ANY (g.affected_links)
          OR al.scope = 'site' AND al.entity_id = ANY (g.affected_sites))
     AND al.opened_at < g.ended_at AND coalesce(al.closed_at, 'infinity') > g.started_at)"""

# A day (from $1) arriving an hour at a time, each scope's run after each hour.
ARRIVE = """DO $$
DECLARE day timestamptz := %s;
BEGIN
  FOR h IN 0 .. 23 LOOP
    INSERT INTO insight.link_metrics SELECT * FROM arriving_link
     WHERE ts >= day + h * interval '1 hour' AND ts < day + (h + 1) * interval '1 hour';
    INSERT INTO insight.site_metrics SELECT * FROM arriving_site
     WHERE ts >= day + h * interval '1 hour' AND ts < day + (h + 1) * interval '1 hour';
    INSERT INTO insight.network_metrics SELECT * FROM arriving_network
     WHERE ts >= day + h * interval '1 hour' AND ts < day + (h + 1) * interval '1 hour';
    PERFORM insight._watch_run('link'), insight._watch_run('site'), insight._watch_run('network');
  END LOOP;
END
$$"""


def arrive(cur, day):
    cur.execute(ARRIVE.replace("%s", f"'{day}'::timestamptz"))


def prepare(admin_dsn, database, seed):
    dsn, versions, _ = bc.create_database(admin_dsn, database)
    with closing(bc.connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute("SET TimeZone = 'UTC'")
        cur.execute("SET max_parallel_workers_per_gather = 0")
        cur.execute("SELECT insight.load_demo_data(days => 12, seed => %s, end_time => %s, replace => true)",
                    (seed, END))
        for scope, table in SCOPES.items():
            cur.execute(f"CREATE TABLE arriving_{scope} AS SELECT * FROM insight.{table} WHERE ts >= %s",
                        (DAY11,))
            cur.execute(f"DELETE FROM insight.{table} WHERE ts >= %s", (DAY11,))
        cur.execute("SELECT count(*) FROM insight.train_default_models()")
        for scope in SCOPES:
            cur.execute("INSERT INTO insight.watches (scope, every, quiet_period, min_rows, open_window) "
                        "VALUES (%s, '1 minute', '1 hour', 3, '30 minutes')", (scope,))
            cur.execute("SELECT insight._watch_triggers(%s, true)", (scope,))
        arrive(cur, DAY11)
    return versions


def copy(admin_dsn, template, database):
    from psycopg2.extensions import make_dsn
    with closing(bc.connect(admin_dsn)) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        cur.execute(f"CREATE DATABASE {database} TEMPLATE {template}")
    return make_dsn(admin_dsn, dbname=database)


def next_day(dsn, label):
    """Labels day 11 (if asked), retrains the detectors, watches day 12: per scope figures."""
    with closing(bc.connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute("SET TimeZone = 'UTC'")
        cur.execute("SET max_parallel_workers_per_gather = 0")
        labelled = {}
        if label:
            cur.execute(f"""SELECT al.scope, count(*) FILTER (WHERE NOT {ON_FAULT}),
                                   count(*) FILTER (WHERE {ON_FAULT})
                              FROM insight.alerts al GROUP BY 1""")
            labelled = {s: {"false_positive": fp, "fixed": fx} for s, fp, fx in cur.fetchall()}
            cur.execute(f"""SELECT count(insight.resolve_alert(al.alert_id,
                               CASE WHEN {ON_FAULT} THEN 'fixed' ELSE 'false_positive' END,
                               'label_feedback benchmark'))
                              FROM insight.alerts al""")
        out = {}
        for scope in SCOPES:
            cur.execute("SELECT version FROM insight.retrain(%s)", (f"{scope}_anomaly",))
            cur.execute("""SELECT (metrics->>'threshold')::float8,
                                  coalesce((metrics->>'threshold_contamination')::float8,
                                           (metrics->>'threshold')::float8)
                             FROM insight.models WHERE name = %s ORDER BY version DESC LIMIT 1""",
                        (f"{scope}_anomaly",))
            threshold, contamination = cur.fetchone()
            out[scope] = {"threshold": threshold, "threshold_contamination": contamination,
                          "labelled": labelled.get(scope, {})}
        arrive(cur, DAY12)
        for scope in SCOPES:
            cur.execute(f"""SELECT count(*) FILTER (WHERE NOT {ON_FAULT}) FROM insight.alerts al
                             WHERE al.scope = %s AND al.opened_at >= %s""", (scope, DAY12))
            out[scope]["false_alerts"] = cur.fetchone()[0]
            # The day's injected faults' entities of this scope, and those with an alert on them.
            cur.execute("""WITH f AS (
                             SELECT DISTINCT e AS entity_id, g.started_at, g.ended_at
                               FROM insight.demo_ground_truth g,
                                    unnest(CASE WHEN g.scope = %(scope)s THEN ARRAY[g.scope_id]
                                                WHEN %(scope)s = 'link' THEN g.affected_links
                                                WHEN %(scope)s = 'site' THEN g.affected_sites END) e
                              WHERE g.started_at >= %(day)s)
                           SELECT count(DISTINCT f.entity_id),
                                  count(DISTINCT f.entity_id) FILTER (WHERE EXISTS (
                                    SELECT FROM insight.alerts al
                                     WHERE al.scope = %(scope)s AND al.entity_id = f.entity_id
                                       AND al.opened_at < f.ended_at
                                       AND coalesce(al.closed_at, 'infinity') > f.started_at))
                             FROM f""", {"scope": scope, "day": DAY12})
            out[scope]["fault_entities"], out[scope]["alerted"] = cur.fetchone()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--seeds", default="5,6,7,8,9,10")
    parser.add_argument("--json")
    args = parser.parse_args()
    command, date, host = bc.run_context()
    results, versions = {}, None
    for seed in [int(s) for s in args.seeds.split(",")]:
        base = f"label_feedback_{seed}"
        versions = prepare(args.dsn, base, seed)
        arms = {}
        for arm, label in (("no_labels", False), ("labels", True)):
            arms[arm] = next_day(copy(args.dsn, base, f"{base}_{arm}"), label)
        results[seed] = arms
        with closing(bc.connect(args.dsn)) as conn, conn.cursor() as cur:
            for db in (base, f"{base}_no_labels", f"{base}_labels"):
                cur.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")

    print("== False positives as labels: day 11's outcomes, day 12's alerts (test/bench/label_feedback.py)")
    print(bc.context_header(command, date, host))
    print(f"PostgreSQL {versions['postgresql']}, pg_insight {versions['pg_insight']}; "
          "the baseline is the same retraining without labels.\n")
    rows, totals = [], {}
    for seed, arms in results.items():
        for scope in SCOPES:
            a, b = arms["labels"][scope], arms["no_labels"][scope]
            t = totals.setdefault(scope, [0, 0, 0, 0, 0])
            for i, v in enumerate((b["false_alerts"], a["false_alerts"], a["fault_entities"],
                                   b["alerted"], a["alerted"])):
                t[i] += v
            lab = a["labelled"]
            rows.append([seed, scope, f"{lab.get('false_positive', 0)} / {lab.get('fixed', 0)}",
                         f"{b['threshold']:.4f}", f"{a['threshold']:.4f}",
                         b["false_alerts"], a["false_alerts"],
                         f"{b['alerted']}/{b['fault_entities']}", f"{a['alerted']}/{a['fault_entities']}"])
    print(bc.markdown_table(
        ["seed", "scope", "day 11 labels (false positive / fixed)", "threshold, no labels",
         "threshold, labels", "day 12 false alarms, no labels", "with labels",
         "fault entities alerted, no labels", "with labels"], rows))
    print()
    total_rows = []
    for scope, (fb, fa, n, ab, aa) in totals.items():
        cut = f"{100 * (fb - fa) / fb:.0f} %" if fb else "—"
        total_rows.append([scope, fb, fa, cut, f"{ab}/{n}", f"{aa}/{n}"])
    print(bc.markdown_table(["scope (all seeds)", "false alarms, no labels", "with labels",
                             "fewer", "fault entities alerted, no labels", "with labels"], total_rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": command, "date": date, "machine": host, "versions": versions,
                       "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
