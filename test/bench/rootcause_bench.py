#!/usr/bin/python3
"""Root-cause correlation: accuracy on held-out demo seeds, latency, and a Python peer.

Accuracy. The classifier is trained on one labelled data set and judged on data generated
with seeds it never saw:
    train   insight.load_demo_data(days => 90, seed => 1)   -> train_root_cause_classifier('rc_bench')
    test    insight.load_demo_data(days => 30, seed => s)   for s in --test-seeds (default 101..105)
            and 10 days of one-minute samples of --one-minute-seed (default 201): a resolution
            the classifier was not trained on
For every held-out incident, the function of its scope is called over a window around it
(until = ended_at + 6 h, hours = its duration + 12 h):
    insight._correlate(scope, scope_id, hours, until, 'rc_bench')     (= correlate_network, ...)
Of the findings that overlap the incident with at least half their links in its scope, the one
whose interval matches the incident's best (intersection over union) is its answer; none is a
miss (counted wrong). Faults of different kinds can overlap in one scope; the other findings
are judged as answers to their own incidents. Root-cause accuracy = right / incidents.
Baseline, same calls: the detectors alone (classifier => NULL); the Python service this
replaces claims 0.85.
Bidirectional misalignment precision: correlate_link_bidirectional on the first affected link
of every held-out incident (same window): of the findings it reports as antenna_misalignment
that overlap an incident, the share whose incident is a misalignment (and the recall).
True findings: of every finding those calls report (an incident's window may hold other
faults), the share that a root-cause fault of the same pattern overlapping it in time and
sharing a link with it explains.
False findings: correlate_network over every 12-hour window (step 12 h) of every network with
no injected fault of any kind on its links or itself within an hour (metric spikes included).

Latency, one-minute samples, data indexed by the (link_id, ts) primary keys and the five-minute
rollup refreshed (load_demo_data does it), the classifier imported from the accuracy run,
p50/p99 of --repeat calls each through psycopg2 (client round trip):
    correlate_network        24 h, a network of 1,000 links   (remotes_per_network => 1000)
    correlate_hub_antenna    24 h, an antenna of 20 links     (remotes_per_network => 120)
    correlate_satellite      72 h, a satellite of 120 links   (remotes_per_network => 120)
    correlate_link_bidirectional 24 h                         (remotes_per_network => 120)
Python peer, same run: the service's recipe for a network scope — fetch the window's rows with
psycopg2 into pandas, per-link baselines (90th percentile Es/No, median loss and latency),
degraded samples and runs per link — timed for the 1,000-link network and for 100 links.

Prints markdown; --json writes a summary.

  test/bench/rootcause_bench.py --dsn "host=/tmp/x/socket port=5432 user=postgres dbname=postgres"
"""

import argparse
import json
import math
import sys
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd

sys.dont_write_bytecode = True  # no __pycache__ in the checkout for the import below
from bench_common import connect, create_database, machine, markdown_table  # noqa: E402

END = "2026-01-01 00:00+00"
PATTERNS = ["equipment_failure", "antenna_alignment", "satellite_interference",
            "antenna_misalignment"]

# Every finding of one call: the function of the incident's scope over a window around it.
CALL_SQL = """
SELECT f.pattern_type, (f.evidence->>'started_at')::timestamptz, (f.evidence->>'ended_at')::timestamptz, f.affected
  FROM insight._correlate(%(scope)s, %(scope_id)s,
                          ceil(extract(epoch FROM %(ended)s::timestamptz - %(started)s::timestamptz) / 3600)::int + 12,
                          %(ended)s::timestamptz + interval '6 hours', %(classifier)s) f
"""


def iou(a0, a1, b0, b1):
    inter = (min(a1, b1) - max(a0, b0)).total_seconds()
    union = (max(a1, b1) - min(a0, b0)).total_seconds()
    return inter / union if inter > 0 else 0.0


def incident_answer(findings, started, ended, scope_links):
    """Of the findings overlapping the incident with at least half their links in its scope,
    the one whose interval matches the incident's best (several faults can overlap in one
    scope: the others answer their own incidents)."""
    best, best_iou = "missed", 0.0
    for pattern, f0, f1, affected in findings:
        inside = sum(1 for link in affected if link in scope_links)
        score = iou(f0, f1, started, ended)
        if score > best_iou and 2 * inside >= len(affected):
            best, best_iou = pattern, score
    return best


def finding_is_true(finding, faults):
    """A finding is true when a root-cause fault of the same pattern overlaps it in time and
    shares a link with it."""
    pattern, f0, f1, affected = finding
    return any(cause == pattern and g0 < f1 and f0 < g1 and set(affected) & links
               for cause, g0, g1, links in faults)


LINK_SQL = """
SELECT f.pattern_type
  FROM insight.correlate_link_bidirectional(%(link)s,
         ceil(extract(epoch FROM %(ended)s::timestamptz - %(started)s::timestamptz) / 3600)::int + 12,
         %(ended)s::timestamptz + interval '6 hours', %(classifier)s) f
 WHERE (f.evidence->>'started_at')::timestamptz < %(ended)s::timestamptz
   AND (f.evidence->>'ended_at')::timestamptz > %(started)s::timestamptz
"""

QUIET_SQL = """
SELECT count(*) AS windows, coalesce(sum(n), 0) AS findings
  FROM (SELECT (SELECT count(*) FROM insight.correlate_network(w.net, 12, w.t0 + interval '12 hours', %(classifier)s)) AS n
          FROM (SELECT n.network_id AS net, t0
                  FROM insight.networks n,
                       generate_series((SELECT min(ts) FROM insight.link_metrics) + interval '6 hours',
                                       (SELECT max(ts) FROM insight.link_metrics) - interval '12 hours',
                                       '12 hours') t0) w
         WHERE NOT EXISTS (
                 SELECT FROM insight.demo_ground_truth g
                  WHERE g.scope NOT IN ('site', 'category')
                    AND g.started_at < w.t0 + interval '13 hours' AND g.ended_at > w.t0 - interval '1 hour'
                    AND (g.scope_id = w.net OR g.affected_links && (SELECT array_agg(link_id) FROM insight.links
                                                                      WHERE network_id = w.net)))) c
"""


def load(cur, days, seed, step=300, remotes=55):
    t0 = time.perf_counter()
    cur.execute("SELECT insight.load_demo_data(days => %s, seed => %s, end_time => %s, "
                "replace => true, step_seconds => %s, sales_days => 1, remotes_per_network => %s)",
                (days, seed, END, step, remotes))
    cur.execute("VACUUM ANALYZE insight.link_metrics")
    cur.execute("VACUUM ANALYZE insight.link_metrics_5m")
    return time.perf_counter() - t0


def accuracy(dsn, test_sets, train_days):
    out = {}
    with closing(connect(dsn)) as conn, conn.cursor() as cur:
        out["train_load_s"] = load(cur, train_days, 1)
        t0 = time.perf_counter()
        cur.execute("SELECT rows_used, metrics FROM insight.train_root_cause_classifier('rc_bench')")
        rows_used, metrics = cur.fetchone()
        out["train_s"] = time.perf_counter() - t0
        out["train_incidents"] = rows_used
        out["train_metrics"] = metrics
        confusion = {c: {} for c in ("rc_bench", None)}
        link_calls = {c: [] for c in ("rc_bench", None)}
        quiet = {c: [0, 0] for c in ("rc_bench", None)}
        reported = {c: [0, 0] for c in ("rc_bench", None)}  # findings, true findings
        incidents = 0
        for seed, days, step in test_sets:
            load(cur, days, seed, step=step)
            cur.execute("SELECT link_id, network_id, hub_antenna_id, satellite_name FROM insight.links")
            members = {}
            for link, *groups in cur.fetchall():
                for key in [link] + groups:
                    members.setdefault(key, set()).add(link)
            cur.execute("SELECT g.scope, g.scope_id, g.started_at, g.ended_at, g.root_cause, g.affected_links "
                        "FROM insight.demo_ground_truth g WHERE g.root_cause IS NOT NULL ORDER BY g.fault_id")
            truth = cur.fetchall()
            faults = [(cause, st, en, set(links)) for _, _, st, en, cause, links in truth]
            for scope, scope_id, started, ended, cause, links in truth:
                incidents += 1
                for clf in ("rc_bench", None):
                    cur.execute(CALL_SQL, {"scope": scope, "scope_id": scope_id, "started": started,
                                           "ended": ended, "classifier": clf})
                    findings = cur.fetchall()
                    got = incident_answer(findings, started, ended, members.get(scope_id, set()))
                    confusion[clf].setdefault(cause, {}).setdefault(got, 0)
                    confusion[clf][cause][got] += 1
                    reported[clf][0] += len(findings)
                    reported[clf][1] += sum(1 for f in findings if finding_is_true(f, faults))
                    cur.execute(LINK_SQL, {"link": links[0], "started": started, "ended": ended,
                                           "classifier": clf})
                    for (pattern,) in cur.fetchall():
                        link_calls[clf].append((cause, pattern))
            for clf in ("rc_bench", None):
                cur.execute(QUIET_SQL, {"classifier": clf})
                windows, findings = cur.fetchone()
                quiet[clf][0] += windows
                quiet[clf][1] += int(findings)
        out["incidents"] = incidents
        out["by_classifier"] = {}
        for clf in ("rc_bench", None):
            conf = confusion[clf]
            right = sum(conf[c].get(c, 0) for c in conf)
            mis_reported = [p for (_, p) in link_calls[clf] if p == "antenna_misalignment"]
            true_pos = sum(1 for (c, p) in link_calls[clf]
                           if p == "antenna_misalignment" and c == "antenna_misalignment")
            mis_total = sum(conf.get("antenna_misalignment", {}).values())
            per_class = {}
            for c in PATTERNS:
                tp = conf.get(c, {}).get(c, 0)
                n_true = sum(conf.get(c, {}).values())
                n_pred = sum(conf[t].get(c, 0) for t in conf)
                per_class[c] = {"incidents": n_true, "recall": tp / n_true if n_true else None,
                                "precision": tp / n_pred if n_pred else None}
            out["by_classifier"]["classifier" if clf else "detectors_only"] = {
                "accuracy": right / incidents if incidents else None,
                "confusion": conf,
                "per_class": per_class,
                "misalignment_precision": true_pos / len(mis_reported) if mis_reported else None,
                "misalignment_recall": true_pos / mis_total if mis_total else None,
                "misalignment_reported": len(mis_reported),
                "findings": reported[clf][0],
                "finding_precision": reported[clf][1] / reported[clf][0] if reported[clf][0] else None,
                "quiet_windows": quiet[clf][0],
                "false_findings": quiet[clf][1],
            }
        cur.execute("SELECT encode(insight.export_model('rc_bench'), 'base64')")
        out["model_b64"] = cur.fetchone()[0]
    return out


def timings(cur, sql, params, repeat):
    cur.execute(sql, params)  # warm: model cache, catalog, buffers
    cur.fetchall()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        cur.execute(sql, params)
        cur.fetchall()
        samples.append((time.perf_counter() - t0) * 1000.0)
    samples.sort()
    return {"p50_ms": float(np.percentile(samples, 50)), "p99_ms": float(np.percentile(samples, 99)),
            "calls": repeat}


PY_COLUMNS = ["link_id", "ts", "ib_esno_db", "ob_esno_db", "ib_grade", "ob_grade",
              "ib_packet_loss_pct", "ob_packet_loss_pct", "latency_ms", "uptime_pct",
              "throughput_mbps", "utilization", "errors", "jitter_ms"]


def python_network_scope(dsn, links, start, end):
    """The Python service's recipe for one scope: fetch, per-link baselines, degraded samples,
    runs joined across 30-minute gaps and kept from 20 minutes. Returns (seconds, runs)."""
    import psycopg2
    t0 = time.perf_counter()
    with closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(PY_COLUMNS)} FROM insight.link_metrics "
                    "WHERE link_id = ANY(%s) AND ts >= %s AND ts < %s ORDER BY link_id, ts",
                    (links, start, end))
        frame = pd.DataFrame(cur.fetchall(), columns=PY_COLUMNS)
    g = frame.groupby("link_id")
    base = g.agg(ib=("ib_esno_db", lambda s: s.quantile(0.9)), ob=("ob_esno_db", lambda s: s.quantile(0.9)),
                 ibl=("ib_packet_loss_pct", "median"), obl=("ob_packet_loss_pct", "median"),
                 lat=("latency_ms", "median"))
    f = frame.join(base, on="link_id")
    bad = ((f.ib_grade < 7) | (f.ib_esno_db < f.ib - 3) | (f.ob_grade < 7) | (f.ob_esno_db < f.ob - 3)
           | (f.ib_packet_loss_pct - f.ibl > 2) | (f.ob_packet_loss_pct - f.obl > 2)
           | (f.uptime_pct < 97) | (f.latency_ms - f.lat > 100))
    d = f.loc[bad, ["link_id", "ts"]].copy()
    gap = d.groupby("link_id").ts.diff() > pd.Timedelta(minutes=30)
    d["run"] = (gap | (d.link_id != d.link_id.shift())).cumsum()
    runs = d.groupby("run").agg(link=("link_id", "first"), start=("ts", "min"), end=("ts", "max"),
                                n=("ts", "size"))
    runs = runs[(runs.end - runs.start >= pd.Timedelta(minutes=15)) & (runs.n >= 3)]
    return time.perf_counter() - t0, len(runs)


def latency(admin_dsn, model_b64, repeat):
    out = {}
    # A 1,000-link network.
    dsn, _, _ = create_database(admin_dsn, "rootcause_latency_1000")
    with closing(connect(dsn)) as conn, conn.cursor() as cur:
        out["load_1000_s"] = load(cur, 2, 42, step=60, remotes=1000)
        cur.execute("SELECT insight.import_model('root_cause', decode(%s, 'base64'))", (model_b64,))
        cur.execute("SELECT count(*) FROM insight.link_metrics")
        out["rows_1000"] = cur.fetchone()[0]
        sql = ("SELECT pattern_type, evidence->'telemetry' FROM insight.correlate_network(%s, 24, %s)")
        out["network_1000"] = timings(cur, sql, ("net-01", END), repeat)
        cur.execute(sql, ("net-01", END))
        rows = cur.fetchall()
        out["network_1000"]["telemetry"] = rows[0][1] if rows else None
        out["network_1000"]["patterns"] = sorted(r[0] for r in rows)
        # The same call reading every raw row: the rollup must not change the answer.
        cur.execute("SET insight.correlate_raw_rows = 2000000000")
        t0 = time.perf_counter()
        cur.execute("SELECT pattern_type, cardinality(affected) FROM insight.correlate_network(%s, 24, %s)",
                    ("net-01", END))
        raw = cur.fetchall()
        out["network_1000"]["raw_read_ms"] = (time.perf_counter() - t0) * 1000.0
        out["network_1000"]["raw_patterns"] = sorted(r[0] for r in raw)
        cur.execute("RESET insight.correlate_raw_rows")
        cur.execute("SELECT array_agg(link_id ORDER BY link_id) FROM insight.links WHERE network_id = 'net-01'")
        links = cur.fetchone()[0]
    py = [python_network_scope(dsn, links, "2025-12-31 00:00+00", END) for _ in range(3)]
    out["python_network_1000_s"] = sorted(t for t, _ in py)[1]
    py100 = [python_network_scope(dsn, links[:100], "2025-12-31 00:00+00", END) for _ in range(5)]
    out["python_network_100_s"] = sorted(t for t, _ in py100)[2]
    # 20-link antennas, 120-link satellites.
    dsn, _, _ = create_database(admin_dsn, "rootcause_latency_120")
    with closing(connect(dsn)) as conn, conn.cursor() as cur:
        out["load_120_s"] = load(cur, 4, 42, step=60, remotes=120)
        cur.execute("SELECT insight.import_model('root_cause', decode(%s, 'base64'))", (model_b64,))
        cur.execute("SELECT hub_antenna_id, count(*) FROM insight.links GROUP BY 1 ORDER BY 1 LIMIT 1")
        antenna, antenna_links = cur.fetchone()
        cur.execute("SELECT count(*) FROM insight.links WHERE satellite_name = 'SAT-ALPHA'")
        sat_links = cur.fetchone()[0]
        out["antenna_links"] = antenna_links
        out["satellite_links"] = sat_links
        for key, sql, params in [
            ("hub_antenna_20", "SELECT * FROM insight.correlate_hub_antenna(%s, 24, %s)", (antenna, END)),
            ("satellite_72h", "SELECT * FROM insight.correlate_satellite(%s, 72, %s)", ("SAT-ALPHA", END)),
            ("link_bidirectional", "SELECT * FROM insight.correlate_link_bidirectional(%s, 24, %s)",
             ("lk-01-001", END)),
        ]:
            out[key] = timings(cur, sql, params, repeat)
            cur.execute(f"SELECT evidence->'telemetry' FROM ({sql}) f LIMIT 1", params)
            row = cur.fetchone()
            out[key]["telemetry"] = row[0] if row else None
    return out


def fmt(v, digits=3):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--test-seeds", default="101,102,103,104,105")
    ap.add_argument("--one-minute-seed", type=int, default=201,
                    help="also test on 10 days of one-minute samples of this seed (0: no)")
    ap.add_argument("--train-days", type=int, default=90)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--latency-only", metavar="MODEL_B64_FILE",
                    help="only the latency part, with this exported classifier (base64)")
    ap.add_argument("--json")
    args = ap.parse_args()
    test_sets = [(int(s), 30, 300) for s in args.test_seeds.split(",")]
    if args.one_minute_seed:
        test_sets.append((args.one_minute_seed, 10, 60))
    dsn, versions, _ = create_database(args.dsn, "rootcause_accuracy")
    if args.latency_only:
        lat = latency(args.dsn, Path(args.latency_only).read_text().strip(), args.repeat)
        print(json.dumps(lat, indent=2, default=str))
        return
    acc = accuracy(dsn, test_sets, args.train_days)
    one_minute = f" and 10 days of one-minute samples of seed {args.one_minute_seed}" if args.one_minute_seed else ""
    print(f"## Root-cause accuracy: trained on seed 1 ({args.train_days} days of five-minute samples, "
          f"{acc['train_incidents']} incidents, {acc['train_s']:.1f} s), tested on 30 days of seeds "
          f"{args.test_seeds}{one_minute} ({acc['incidents']} incidents)\n")
    rows = []
    for name, r in acc["by_classifier"].items():
        rows.append([name, fmt(r["accuracy"]), fmt(r["misalignment_precision"]),
                     fmt(r["misalignment_recall"]), f"{fmt(r['finding_precision'])} of {r['findings']}",
                     f"{r['false_findings']} in {r['quiet_windows']}"])
    rows.append(["Python service (claimed)", "0.85", "n/a", "n/a", "n/a", "n/a"])
    print(markdown_table(["answer", "root-cause accuracy", "misalignment precision (link calls)",
                          "misalignment recall", "true findings (all reported)",
                          "false findings / fault-free 12 h windows"], rows))
    print()
    for name, r in acc["by_classifier"].items():
        print(f"{name}: per class " + ", ".join(
            f"{c} recall {fmt(v['recall'])} precision {fmt(v['precision'])} (n={v['incidents']})"
            for c, v in r["per_class"].items()))
        wrong = {c: {p: n for p, n in got.items() if p != c} for c, got in r["confusion"].items()}
        print(f"{name}: errors {json.dumps({c: w for c, w in wrong.items() if w})}")
    summary = {"machine": machine(), "versions": versions, "accuracy": {k: v for k, v in acc.items() if k != "model_b64"}}
    if not args.skip_latency:
        lat = latency(args.dsn, acc["model_b64"], args.repeat)
        print(f"\n## Latency (p50 / p99 of {args.repeat} calls, one-minute samples)\n")
        n = lat["network_1000"]
        rows = [
            ["correlate_network, 24 h, 1,000 links", fmt(n["p50_ms"], 1), fmt(n["p99_ms"], 1), "300",
             f"{n['telemetry']['scope']}, {n['telemetry']['rows_read']} rows" if n.get("telemetry") else ""],
            [f"correlate_hub_antenna, 24 h, {lat['antenna_links']} links", fmt(lat["hub_antenna_20"]["p50_ms"], 1),
             fmt(lat["hub_antenna_20"]["p99_ms"], 1), "50", ""],
            [f"correlate_satellite, 72 h, {lat['satellite_links']} links", fmt(lat["satellite_72h"]["p50_ms"], 1),
             fmt(lat["satellite_72h"]["p99_ms"], 1), "300", ""],
            ["correlate_link_bidirectional, 24 h", fmt(lat["link_bidirectional"]["p50_ms"], 1),
             fmt(lat["link_bidirectional"]["p99_ms"], 1), "20", ""],
        ]
        print(markdown_table(["call", "p50 ms", "p99 ms", "target ms", "read"], rows))
        print(f"\nThe same 1,000-link call reading every raw row: {n['raw_read_ms']:.0f} ms, patterns "
              f"{n['raw_patterns']} (rollup read: {n['patterns']})")
        print(f"\nPython peer (fetch + pandas baselines, flags and runs only): 1,000 links "
              f"{lat['python_network_1000_s'] * 1000:.0f} ms ({lat['python_network_1000_s'] * 1000 / n['p50_ms']:.1f}x "
              f"pg_insight's p50), 100 links {lat['python_network_100_s'] * 1000:.0f} ms")
        summary["latency"] = lat
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2, default=str))


if __name__ == "__main__":
    main()
