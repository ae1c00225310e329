#!/usr/bin/python3
"""Drift (insight.model_drift, issue 18): false alarms and detection on the demo telemetry over
20 seeds beside a two-sample Kolmogorov-Smirnov test, and the time of a check on 1M rows beside
a plain scan of them.

Accuracy. For each seed, a demo of its own (load_demo_data(days => 10)): an anomaly detector on
six raw link metrics is trained on the first seven days; the last three days are compared with
it as they are (any feature flagged is a false alarm) and with the inbound Es/No of one link in
five recalibrated by +3 dB (a detection when ib_esno_db is flagged; any other feature flagged is
a false alarm). A feature is flagged when its psi or out_of_range row says drifted. The
baseline, on the same rows: scipy.stats.ks_2samp of each feature's training against its recent
values, flagged at p < 0.01 — the test a data scientist would reach for first.

Speed. anomaly_speed.py's table lm (1,000,000 rows, 5 features, 100 trees) compared with the
model trained on it (since => NULL: every row), beside SELECT count(*) over the same rows with
the same five columns read, alternating, --runs times each.

The script drops and recreates the database "driftbench" next to the one in --dsn.

  test/bench/drift_bench.py --dsn "host=/tmp/x/socket port=5432 user=postgres dbname=postgres"
"""

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np
import scipy
from scipy.stats import ks_2samp

sys.dont_write_bytecode = True
import bench_common  # noqa: E402
from anomaly_speed import ARRAY, N_TREES, SAMPLE_SIZE, TEXT_ARRAY, create_table  # noqa: E402
from bench_common import connect, context_header, markdown_table, query, run_context, timed  # noqa: E402

DATABASE = "driftbench"
FEATURES = ["ib_esno_db", "ob_esno_db", "latency_ms", "jitter_ms", "throughput_mbps",
            "utilization"]
END = "2026-04-01 00:00+00"
SPLIT = "2026-03-29 00:00+00"
SHIFT = "abs(hashtext(link_id)) % 5 = 0"  # one link in five
SHIFTED = "ib_esno_db"


def setup_views(cur):
    cur.execute(f"""
        CREATE OR REPLACE VIEW drift_train AS SELECT * FROM insight.link_metrics WHERE ts < '{SPLIT}';
        CREATE OR REPLACE VIEW drift_recent AS SELECT * FROM insight.link_metrics WHERE ts >= '{SPLIT}';
        CREATE OR REPLACE VIEW drift_shifted AS
          SELECT link_id, ts, ib_esno_db + CASE WHEN {SHIFT} THEN 3 ELSE 0 END AS ib_esno_db,
                 ob_esno_db, latency_ms, jitter_ms, throughput_mbps, utilization
            FROM drift_recent""")


def flagged_pg(cur, source):
    cur.execute("SELECT DISTINCT feature FROM insight.model_drift('drift_m', %s, NULL) "
                "WHERE drifted AND feature <> 'anomaly_score'", (source,))
    return sorted(r[0] for r in cur.fetchall())


def columns(cur, source):
    cur.execute(f"SELECT {', '.join(FEATURES)} FROM {source}")
    return np.array(cur.fetchall(), dtype=float)


def flagged_ks(train, recent):
    return sorted(f for j, f in enumerate(FEATURES)
                  if ks_2samp(train[:, j], recent[:, j]).pvalue < 0.01)


def accuracy(cur, seeds):
    per_seed = []
    for seed in range(1, seeds + 1):
        query(cur, f"SELECT insight.load_demo_data(days => 10, seed => {seed}, "
                   f"end_time => '{END}', replace => true)")
        setup_views(cur)
        query(cur, "SELECT version FROM insight.train_anomaly_detector('drift_m', 'drift_train', "
                   "%s)", (FEATURES,))
        train = columns(cur, "drift_train")
        result = {"seed": seed}
        for case, source in (("unshifted", "drift_recent"), ("shifted", "drift_shifted")):
            recent = columns(cur, source)
            result[case] = {"pg_insight": flagged_pg(cur, source), "ks": flagged_ks(train, recent)}
        per_seed.append(result)
        print(f"seed {seed}: " + "; ".join(
            f"{case} pg_insight {result[case]['pg_insight']} ks {result[case]['ks']}"
            for case in ("unshifted", "shifted")), file=sys.stderr)
    return per_seed


def summarise(per_seed):
    out = {}
    n = len(per_seed)
    for method in ("pg_insight", "ks"):
        unshifted_fa = sum(len(s["unshifted"][method]) for s in per_seed)
        shifted_fa = sum(len([f for f in s["shifted"][method] if f != SHIFTED]) for s in per_seed)
        detected = sum(SHIFTED in s["shifted"][method] for s in per_seed)
        exact = sum(s["shifted"][method] == [SHIFTED] and not s["unshifted"][method]
                    for s in per_seed)
        out[method] = {"false_alarms": unshifted_fa + shifted_fa,
                       "feature_checks": 2 * n * len(FEATURES) - n,
                       "detected": detected, "seeds": n, "exact": exact}
    return out


def speed(cur, rows, runs):
    table = create_table(cur, "lm", rows)
    query(cur, f"SELECT version FROM insight.train_anomaly_detector('lm_model', 'lm', {TEXT_ARRAY}, "
               f"0.05, {N_TREES}, {SAMPLE_SIZE})")
    drift_sql = "SELECT count(*) FROM insight.model_drift('lm_model', 'lm', NULL)"
    scan_sql = f"SELECT count(*) FROM lm WHERE {ARRAY} IS NOT NULL"
    query(cur, drift_sql)
    times = {"drift": [], "scan": []}
    for _ in range(runs):
        for key, sql in (("drift", drift_sql), ("scan", scan_sql)):
            ms, _ = timed(lambda: query(cur, sql))
            times[key].append(ms)
    return table, times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dsn", required=True, help="libpq DSN of a database in the cluster")
    parser.add_argument("--seeds", type=int, default=20, help="demo seeds (0: speed only)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    command, date, host = run_context()
    dsn, versions, settings = bench_common.create_database(
        args.dsn, DATABASE, settings=("max_parallel_workers_per_gather", "jit"))
    conn = connect(dsn)
    cur = conn.cursor()
    print("## Drift: model_drift beside a two-sample KS test, and its speed\n")
    print(context_header(command, date, host) +
          f"PostgreSQL {versions['postgresql']}, pg_insight {versions['pg_insight']}, "
          f"SciPy {scipy.__version__}; "
          + ", ".join(f"{k} {v}" for k, v in settings.items()) + "\n")
    per_seed = accuracy(cur, args.seeds) if args.seeds > 0 else []
    summary = summarise(per_seed)
    if per_seed:
        rows = []
        for method, label in (("pg_insight", "model_drift (psi > 0.2 or out_of_range > 5 %)"),
                              ("ks", "KS test, p < 0.01 (scipy ks_2samp)")):
            s = summary[method]
            rows.append([label, f"{s['false_alarms']} of {s['feature_checks']}",
                         f"{s['detected']} of {s['seeds']}", f"{s['exact']} of {s['seeds']}"])
        print(markdown_table(["method", "features flagged that did not drift",
                              "ib_esno_db recalibration found", "seeds judged exactly right"], rows))
        print(f"\n({args.seeds} demo seeds; per seed 6 unshifted features and 5 untouched ones "
              "beside the recalibrated one.)\n")
        sys.stdout.flush()

    table, times = speed(cur, args.rows, args.runs)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(markdown_table(
        [f"{args.rows:,} rows ({table['size']})", "median ms", "min ms", "÷ scan"],
        [["model_drift('lm_model', 'lm', NULL)", f"{med['drift']:,.0f}",
          f"{min(times['drift']):,.0f}", f"{med['drift'] / med['scan']:.2f}×"],
         [f"SELECT count(*) … WHERE ARRAY[5 columns] IS NOT NULL", f"{med['scan']:,.0f}",
          f"{min(times['scan']):,.0f}", "1×"]]))
    conn.close()
    if args.json:
        args.json.write_text(json.dumps({"command": command, "date": date, "machine": host,
                                         "versions": versions, "settings": settings,
                                         "per_seed": per_seed, "summary": summary,
                                         "speed": times}, indent=2) + "\n")


if __name__ == "__main__":
    main()
