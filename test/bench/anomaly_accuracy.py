#!/usr/bin/python3
"""Anomaly-detection accuracy of pg_insight's Isolation Forest beside scikit-learn's, same run.

Part "odds": ODDS multivariate data sets (shuttle, thyroid, cardio, satellite). For each seed,
both sides fit on all rows (unsupervised) and score all rows; ROC AUC and PR AUC against the
labels, mean ± sample std over seeds, and the wall time of fit + score.

Part "nab": NAB time series (realAWSCloudwatch, artificialWithAnomaly). The same pandas
features feed both sides; each trains on the whole series with contamination 0.01 and flags
points. Window detection rate and false alarms (points and events) per day.

Prints markdown tables to stdout; --json writes a machine-readable summary.

  test/bench/anomaly_accuracy.py --dsn "host=/tmp/x/socket port=55532 user=postgres dbname=postgres" \
      --json anomaly_accuracy.json
  test/bench/anomaly_accuracy.py --sklearn-only          # no database needed
  test/bench/anomaly_accuracy.py --dsn ... --only nab    # one part
"""

import argparse
import json
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score

sys.dont_write_bytecode = True  # no __pycache__ in the checkout for the import below
from bench_common import add_side_args, check_side_args  # noqa: E402
from bench_common import context_header, python_versions  # noqa: E402
from bench_common import DEFAULT_DATA, connect, copy_frame, markdown_table, run_context  # noqa: E402

ODDS_DATASETS = ("shuttle", "thyroid", "cardio", "satellite")
NAB_FAMILIES = ("realAWSCloudwatch", "artificialWithAnomaly")
NAB_FEATURES = ("value", "diff", "dev_median", "roll_std")
NAB_WINDOW = 12  # previous points used by the rolling features
N_TREES = 100
SAMPLE_SIZE = 256
CONTAMINATION = 0.01
NAB_SEED = 1

# Functions of schema insight each part calls (checked by name before any work starts).
PG_FUNCTIONS = {
    "odds": ("isolation_forest_fit", "anomaly_score"),
    "nab": ("train_anomaly_detector", "is_anomaly"),
}


# ---------------------------------------------------------------- output helpers

def mean_std(values):
    """Mean and sample standard deviation (ddof=1; 0 for a single value)."""
    a = np.asarray(values, dtype=float)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0


def fmt_pm(stats):
    return "—" if stats is None else f"{stats[0]:.4f} ± {stats[1]:.4f}"


def fmt_delta(pg, sk):
    return "—" if pg is None else f"{pg[0] - sk[0]:+.4f}"


def fmt_ms(stats):
    return "—" if stats is None else f"{stats[0]:,.0f} ms"


# ---------------------------------------------------------------- database helpers

def require_functions(cur, part):
    cur.execute("""SELECT array_agg(f ORDER BY f) FROM unnest(%s::text[]) f
                   WHERE NOT EXISTS (SELECT 1 FROM pg_proc p
                                     WHERE p.pronamespace = 'insight'::regnamespace AND p.proname = f)""",
                (list(PG_FUNCTIONS[part]),))
    missing = cur.fetchone()[0]
    if missing:
        sys.exit(f"pg_insight lacks what part '{part}' needs: {', '.join(missing)}")


def reset_schema(cur):
    cur.execute("DROP SCHEMA IF EXISTS bench CASCADE")
    cur.execute("CREATE SCHEMA bench")


def server_versions(cur):
    cur.execute("SELECT current_setting('server_version'), insight.version()")
    return cur.fetchone()


# ---------------------------------------------------------------- part 1: ODDS

def load_odds(data_dir, name):
    frame = pd.read_csv(data_dir / "odds" / f"{name}.csv")
    features = [c for c in frame.columns if c != "label"]
    return frame, features


def odds_sklearn(X, seed):
    start = time.perf_counter()
    forest = IsolationForest(n_estimators=N_TREES, max_samples=SAMPLE_SIZE, random_state=seed)
    forest.fit(X)
    scores = -forest.score_samples(X)
    return scores, (time.perf_counter() - start) * 1000.0


def odds_load_table(cur, name, frame, features):
    table = f"bench.odds_{name}"
    cols = ", ".join(f"{f} float8" for f in features)
    cur.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, {cols}, label int)")
    copy_frame(cur, table, frame.reset_index(names="id")[["id", *features, "label"]])
    cur.execute(f"ANALYZE {table}")
    return table


def odds_pg(cur, table, features, seed):
    from psycopg2 import Binary
    array = "ARRAY[" + ", ".join(features) + "]::float8[]"
    start = time.perf_counter()
    cur.execute(f"SELECT insight.isolation_forest_fit({array}, %s, %s, %s) FROM {table}",
                (N_TREES, SAMPLE_SIZE, seed))
    model = bytes(cur.fetchone()[0])
    cur.execute(f"SELECT id, insight.anomaly_score(%s::bytea, {array}) FROM {table} ORDER BY id",
                (Binary(model),))
    rows = cur.fetchall()
    elapsed = (time.perf_counter() - start) * 1000.0
    return np.array([score for _, score in rows], dtype=float), elapsed


def run_odds(args, cur):
    results = {}
    for name in ODDS_DATASETS:
        frame, features = load_odds(args.data, name)
        X = frame[features].to_numpy(dtype=float)
        y = frame["label"].to_numpy()
        table = odds_load_table(cur, name, frame, features) if cur else None
        sides = {"sklearn": {"roc_auc": [], "pr_auc": [], "ms": []}}
        if cur:
            sides["pg_insight"] = {"roc_auc": [], "pr_auc": [], "ms": []}
        for seed in range(1, args.seeds + 1):
            runs = {"sklearn": odds_sklearn(X, seed)}
            if cur:
                runs["pg_insight"] = odds_pg(cur, table, features, seed)
            for side, (scores, ms) in runs.items():
                sides[side]["roc_auc"].append(roc_auc_score(y, scores))
                sides[side]["pr_auc"].append(average_precision_score(y, scores))
                sides[side]["ms"].append(ms)
        results[name] = {"rows": len(y), "outliers": int(y.sum()), "features": len(features),
                         **sides}
    return results


def print_odds(results, seeds):
    print(f"### ODDS: Isolation Forest, {N_TREES} trees, sample size {SAMPLE_SIZE}, "
          f"seeds 1..{seeds} (mean ± sample std)\n")
    headers = ["data set", "rows (outliers)", "features",
               "ROC AUC sklearn", "ROC AUC pg_insight", "Δ ROC",
               "PR AUC sklearn", "PR AUC pg_insight", "Δ PR",
               "fit+score sklearn", "fit+score pg_insight"]
    rows = []
    for name, r in results.items():
        sk, pg = r["sklearn"], r.get("pg_insight")
        stat = {side: {k: mean_std(v) for k, v in d.items()}
                for side, d in (("sk", sk), ("pg", pg)) if d}
        pgs = stat.get("pg", {})
        rows.append([name, f"{r['rows']:,} ({r['outliers']:,})", r["features"],
                     fmt_pm(stat["sk"]["roc_auc"]), fmt_pm(pgs.get("roc_auc")),
                     fmt_delta(pgs.get("roc_auc"), stat["sk"]["roc_auc"]),
                     fmt_pm(stat["sk"]["pr_auc"]), fmt_pm(pgs.get("pr_auc")),
                     fmt_delta(pgs.get("pr_auc"), stat["sk"]["pr_auc"]),
                     fmt_ms(stat["sk"]["ms"]), fmt_ms(pgs.get("ms"))])
    print(markdown_table(headers, rows))
    print("\nΔ = pg_insight − sklearn (means). Times are the mean per seed: sklearn "
          "fit + score_samples; pg_insight the fit aggregate + the scoring SELECT, "
          "client round trips included.\n")


# ---------------------------------------------------------------- part 2: NAB

def nab_features(values):
    """value, first difference, deviation from the median of the previous NAB_WINDOW points,
    std of the previous NAB_WINDOW points. Windows are expanding until NAB_WINDOW points
    exist; the first point (no history) gets diff 0, deviation 0 and std 0, and the second
    (one previous point) std 0."""
    previous = values.shift(1).rolling(NAB_WINDOW, min_periods=1)
    return pd.DataFrame({
        "value": values,
        "diff": values.diff().fillna(0.0),
        "dev_median": (values - previous.median()).fillna(0.0),
        "roll_std": previous.std().fillna(0.0),
    })


def load_nab(data_dir, family):
    """Series of a family: (name, timestamps, features, windows), sorted by name."""
    windows_by_key = json.loads((data_dir / "nab" / "labels" / "combined_windows.json")
                                .read_text())
    series = []
    for path in sorted((data_dir / "nab" / "data" / family).glob("*.csv")):
        frame = pd.read_csv(path)
        ts = pd.to_datetime(frame["timestamp"], format="%Y-%m-%d %H:%M:%S")
        windows = [(pd.to_datetime(a, format="%Y-%m-%d %H:%M:%S.%f"),
                    pd.to_datetime(b, format="%Y-%m-%d %H:%M:%S.%f"))
                   for a, b in windows_by_key[f"{family}/{path.name}"]]
        series.append((path.stem, ts, nab_features(frame["value"].astype(float)), windows))
    return series


def nab_sklearn(X):
    forest = IsolationForest(n_estimators=N_TREES, max_samples=SAMPLE_SIZE,
                             contamination=CONTAMINATION, random_state=NAB_SEED)
    return forest.fit(X).predict(X) == -1


def pg_train_accepts_seed(cur):
    cur.execute("""SELECT EXISTS (SELECT 1 FROM pg_proc
                                  WHERE pronamespace = 'insight'::regnamespace
                                    AND proname = 'train_anomaly_detector'
                                    AND 'seed' = ANY (proargnames))""")
    return cur.fetchone()[0]


def nab_pg(cur, name, ts, features, pass_seed):
    ident = re.sub(r"[^a-z0-9_]", "_", name.lower())
    table, model = f"bench.nab_{ident}", f"bench_nab_{ident}"
    cur.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, ts timestamp, "
                + ", ".join(f"{f} float8" for f in NAB_FEATURES) + ")")
    copy_frame(cur, table, features.assign(id=np.arange(len(features)), ts=ts)
               [["id", "ts", *NAB_FEATURES]])
    cur.execute(f"ANALYZE {table}")
    seed_arg = ", seed => %(seed)s" if pass_seed else ""
    cur.execute("SELECT * FROM insight.train_anomaly_detector(name => %(model)s, "
                "source => %(table)s::regclass, features => %(features)s::text[], "
                "contamination => %(contamination)s, n_trees => %(n_trees)s, "
                f"sample_size => %(sample_size)s{seed_arg})",
                {"model": model, "table": table, "features": list(NAB_FEATURES),
                 "contamination": CONTAMINATION, "n_trees": N_TREES,
                 "sample_size": SAMPLE_SIZE, "seed": NAB_SEED})
    cur.execute(f"SELECT id, insight.is_anomaly(%s, t) FROM {table} t ORDER BY id", (model,))
    return np.array([flag for _, flag in cur.fetchall()], dtype=bool)


def runs_of(mask):
    """Number of runs of consecutive True values."""
    m = np.asarray(mask, dtype=bool)
    return int(m[0]) + int(np.count_nonzero(m[1:] & ~m[:-1])) if len(m) else 0


def nab_metrics(ts, windows, flagged):
    in_window = np.zeros(len(ts), dtype=bool)
    detected = 0
    for start, end in windows:
        inside = ((ts >= start) & (ts <= end)).to_numpy()
        in_window |= inside
        detected += bool(np.any(flagged & inside))
    outside = flagged & ~in_window
    return {"windows": len(windows), "detected": detected, "flagged": int(flagged.sum()),
            "false_points": int(outside.sum()), "false_events": runs_of(outside)}


def run_nab(args, cur):
    pass_seed = pg_train_accepts_seed(cur) if cur else None
    results = {"pg_seed_passed": pass_seed, "families": {}}
    for family in NAB_FAMILIES:
        per_series = {}
        for name, ts, features, windows in load_nab(args.data, family):
            days = (ts.iloc[-1] - ts.iloc[0]).total_seconds() / 86400.0
            entry = {"points": len(ts), "days": days,
                     "sklearn": nab_metrics(ts, windows, nab_sklearn(features.to_numpy()))}
            if cur:
                entry["pg_insight"] = nab_metrics(ts, windows,
                                                  nab_pg(cur, name, ts, features, pass_seed))
            per_series[name] = entry
        results["families"][family] = {"series": per_series, "total": nab_total(per_series)}
    return results


def nab_total(per_series):
    entries = list(per_series.values())
    total = {"points": sum(e["points"] for e in entries), "days": sum(e["days"] for e in entries)}
    for side in ("sklearn", "pg_insight"):
        if side in entries[0]:
            total[side] = {k: sum(e[side][k] for e in entries) for k in entries[0][side]}
    return total


def print_nab(results):
    print(f"### NAB: Isolation Forest on ({', '.join(NAB_FEATURES)}), {N_TREES} trees, "
          f"sample size {SAMPLE_SIZE}, contamination {CONTAMINATION}, trained and flagged on "
          f"the whole series\n")
    pass_seed = results["pg_seed_passed"]
    if pass_seed is not None:
        print(f"sklearn random_state = {NAB_SEED}; pg_insight "
              + (f"seed = {NAB_SEED}.\n" if pass_seed else
                 "train_anomaly_detector takes no seed: pg_insight used its own default seed.\n"))
    headers = ["series", "points", "days", "windows",
               "detected sklearn", "detected pg_insight",
               "flagged sklearn", "flagged pg_insight",
               "false pts/day sklearn", "false pts/day pg_insight",
               "false events/day sklearn", "false events/day pg_insight"]

    def row(label, e):
        cells = [label, f"{e['points']:,}", f"{e['days']:.1f}", e["sklearn"]["windows"]]
        for key, fmt in (("detected", None), ("flagged", None),
                         ("false_points", "rate"), ("false_events", "rate")):
            for side in ("sklearn", "pg_insight"):
                if side not in e:
                    cells.append("—")
                elif fmt == "rate":
                    cells.append(f"{e[side][key] / e['days']:.2f}")
                else:
                    cells.append(e[side][key])
        return cells

    for family, fam in results["families"].items():
        rows = [row(name, e) for name, e in fam["series"].items()]
        rows.append(row("**total**", fam["total"]))
        print(f"#### {family}\n")
        print(markdown_table(headers, rows))
        t = fam["total"]
        rates = [f"{side} {t[side]['detected']}/{t[side]['windows']} "
                 f"({t[side]['detected'] / t[side]['windows']:.0%})"
                 for side in ("sklearn", "pg_insight") if side in t]
        print(f"\nWindow detection rate: {', '.join(rates)}.\n")
    print("A window is detected when at least one flagged point lies inside it (bounds "
          "inclusive). False points: flagged points outside every window; false events: runs "
          "of consecutive such points. Days = last timestamp − first timestamp.\n")


# ---------------------------------------------------------------- main

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_side_args(parser, "--sklearn-only", "run only the scikit-learn side (no database)",
                  "libpq connection string of a database with pg_insight")
    parser.add_argument("--only", choices=("odds", "nab"), help="run only one part")
    parser.add_argument("--seeds", type=int, default=5, help="ODDS seeds 1..N (default 5)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help=f"shared data directory (default {DEFAULT_DATA})")
    parser.add_argument("--json", type=Path, help="write a JSON summary to this path")
    args = parser.parse_args()
    check_side_args(parser, args, "--sklearn-only")
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    return args


def main():
    args = parse_args()
    parts = (args.only,) if args.only else ("odds", "nab")
    command, date, _ = run_context()
    print("## Anomaly-detection accuracy: pg_insight beside scikit-learn\n")
    print(context_header(command, date) +
          python_versions(("scikit-learn", sklearn), ("numpy", np), ("pandas", pd)))

    summary = {"command": command, "date": date,
               "versions": {"python": platform.python_version(),
                            "sklearn": sklearn.__version__}}
    conn = None if args.sklearn_only else connect(args.dsn)
    cur = conn.cursor() if conn else None
    if cur:
        for part in parts:
            require_functions(cur, part)
        pg_version, insight_version = server_versions(cur)
        summary["versions"].update(postgresql=pg_version, pg_insight=insight_version)
        print(f"PostgreSQL {pg_version}, pg_insight {insight_version}")
        reset_schema(cur)
    else:
        print("pg_insight side skipped (--sklearn-only)")
    print()

    if "odds" in parts:
        summary["odds"] = run_odds(args, cur)
        print_odds(summary["odds"], args.seeds)
    if "nab" in parts:
        summary["nab"] = run_nab(args, cur)
        print_nab(summary["nab"])
    if conn:
        conn.close()
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
