#!/usr/bin/python3
"""detect_series_anomalies on NAB beside a rolling z-score and an Isolation Forest on lag features.

Data: the Numenta Anomaly Benchmark series of the shared data directory (nab/data:
realAWSCloudwatch, 17 server metrics, and artificialWithAnomaly, 6 series; 5-minute points,
about two weeks each), with their labelled anomaly windows (nab/labels/combined_windows.json).
They are loaded into table nab(series text, ts timestamp, value float8) of the database
"nabbench" (dropped and recreated beside the one in --dsn).

Every detector judges each point of a series' days after the first three (NAB's probationary
part: history only) knowing only the points before that day, at 99 %:

  pg_insight   insight.detect_series_anomalies(view, 'ts', 'value', since => '1 day',
               frequency => '5 minutes', confidence => 0.99), once per series and judged day
               (the default algorithm, 'theta', and again with algorithm => 'auto': every
               learner backtested, the best pair),
               on a view of the series' rows before the day's end: each point against what the
               history before the day predicts (the seasonal forecasters, a season of 288
               points; src/core/forecast/series_anomaly.hpp);
  z-score      the rule a monitoring service typically runs: each point against the mean and
               standard deviation of the 288 points (one day) before it, |z| > 2.576;
  IForest      scikit-learn's IsolationForest (100 trees, contamination 0.01, random_state 0)
               on lag features (the value, lags 1, 2, 3, 12 and 288, the difference from lag
               1), fitted per judged day on the points before it, flagging the day's points it
               scores as outliers.

Per family: the windows (that overlap a judged day), how many each detector finds (a flagged
point inside the window), the flagged points, false alarms per judged day (flagged points
outside every window) and false events per day (runs of consecutive false points counted once).

  test/bench/nab_series.py --dsn "host=/tmp/x port=5432 user=postgres dbname=postgres"
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.ensemble import IsolationForest

sys.dont_write_bytecode = True  # no __pycache__ in the checkout for the import below
from bench_common import (DEFAULT_DATA, context_header, copy_frame,  # noqa: E402
                          fresh_database, markdown_table, python_versions, run_context, timed)

DATABASE = "nabbench"
FAMILIES = ("realAWSCloudwatch", "artificialWithAnomaly")
PROBATION_DAYS = 3
DAY = 288  # 5-minute points
Z = 2.576
LAGS = (1, 2, 3, 12, 288)


def load(data_dir):
    windows = json.loads((data_dir / "nab" / "labels" / "combined_windows.json").read_text())
    series = []
    for family in FAMILIES:
        for path in sorted((data_dir / "nab" / "data" / family).glob("*.csv")):
            frame = pd.read_csv(path)
            ts = pd.to_datetime(frame["timestamp"])
            key = f"{family}/{path.name}"
            series.append({"family": family, "name": f"{family}/{path.stem}", "ts": ts,
                           "value": frame["value"].astype(float).to_numpy(),
                           "windows": [(pd.Timestamp(a), pd.Timestamp(b))
                                       for a, b in windows.get(key, [])]})
    return series


def judged_days(s):
    """(start, end) of each whole judged day: from the first point + 3 days to the last."""
    first, last = s["ts"].iloc[0].normalize(), s["ts"].iloc[-1]
    day = first + pd.Timedelta(days=PROBATION_DAYS)
    while day <= last:
        yield day, day + pd.Timedelta(days=1)
        day += pd.Timedelta(days=1)


def zscore_flags(s):
    v = pd.Series(s["value"])
    m = v.shift(1).rolling(DAY, min_periods=DAY).mean()
    sd = v.shift(1).rolling(DAY, min_periods=DAY).std()
    z = ((v - m) / sd.replace(0, np.nan)).abs()
    return set(s["ts"][(z > Z).to_numpy()])


def lag_features(v):
    cols = [v] + [np.concatenate([np.full(k, np.nan), v[:-k]]) for k in LAGS]
    cols.append(v - cols[1])
    return np.column_stack(cols)


def iforest_flags(s):
    X = lag_features(s["value"])
    ok = ~np.isnan(X).any(axis=1)
    flags = set()
    for start, end in judged_days(s):
        before = (s["ts"] < start).to_numpy() & ok
        today = ((s["ts"] >= start) & (s["ts"] < end)).to_numpy() & ok
        if before.sum() < 2 * DAY or today.sum() == 0:
            continue
        model = IsolationForest(n_estimators=100, contamination=0.01, random_state=0)
        model.fit(X[before])
        flags |= set(s["ts"][today][model.predict(X[today]) == -1])
    return flags


def pg_flags(cur, s, algorithm=None):
    cur.execute("CREATE OR REPLACE VIEW nab_one AS SELECT ts, value FROM nab WHERE series = %s",
                (s["name"],))
    flags, judged = set(), 0
    for start, end in judged_days(s):
        cur.execute("CREATE OR REPLACE VIEW nab_cut AS SELECT ts, value FROM nab_one "
                    "WHERE ts < %s", (end.to_pydatetime(),))
        cur.execute("SELECT ts, is_anomaly FROM insight.detect_series_anomalies('nab_cut', 'ts', "
                    "'value', since => '1 day', frequency => '5 minutes', confidence => 0.99"
                    + (", algorithm => %s)" if algorithm else ")"), (algorithm,) if algorithm else ())
        for ts, anomaly in cur.fetchall():
            t = pd.Timestamp(ts).tz_convert(None)  # the session's TimeZone is UTC
            if t >= start:
                judged += 1
                if anomaly:
                    flags.add(t)
    return flags, judged


def score(s, flags):
    days = list(judged_days(s))
    start = days[0][0] if days else s["ts"].iloc[-1]
    in_judged = [(a, b) for a, b in s["windows"] if b >= start]
    judged_ts = s["ts"][s["ts"] >= start]
    inside = lambda t: any(a <= t <= b for a, b in s["windows"])  # noqa: E731
    detected = sum(1 for a, b in in_judged if any(a <= t <= b for t in flags))
    false_points, events, previous = 0, 0, False
    for t in judged_ts:
        false = t in flags and not inside(t)
        false_points += false
        events += false and not previous
        previous = false
    span_days = len(judged_ts) / DAY
    return {"windows": len(in_judged), "detected": detected, "flagged": len(flags),
            "false_points": false_points, "false_events": events, "days": span_days}


def total(rows):
    keys = ("windows", "detected", "flagged", "false_points", "false_events", "days")
    return {k: sum(r[k] for r in rows) for k in keys}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dsn", required=True,
                        help=f"libpq connection string; the script uses database {DATABASE} beside it")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    command, date, host = run_context()
    print("## NAB: detect_series_anomalies beside a rolling z-score and an Isolation Forest\n")
    print(context_header(command, date, host) +
          python_versions(("scikit-learn", sklearn), ("numpy", np), ("pandas", pd)))
    series = load(args.data)
    conn, cur, versions, _ = fresh_database(args.dsn, DATABASE)
    print(f"PostgreSQL {versions['postgresql']}, pg_insight {versions['pg_insight']}; "
          f"{len(series)} series.\n")
    cur.execute("SET TimeZone = 'UTC'")
    cur.execute("CREATE TABLE nab (series text, ts timestamp, value float8)")
    for s in series:
        copy_frame(cur, "nab", pd.DataFrame({"series": s["name"], "ts": s["ts"],
                                             "value": s["value"]}))
    cur.execute("ANALYZE nab")
    detectors = ("pg_insight", "pg_insight 'auto'", "z-score", "IForest")
    results = {d: {f: [] for f in FAMILIES} for d in detectors}
    ms = {d: 0.0 for d in detectors}
    for s in series:
        for d, algorithm in (("pg_insight", None), ("pg_insight 'auto'", "auto")):
            t, (flags, _) = timed(lambda: pg_flags(cur, s, algorithm))
            ms[d] += t
            results[d][s["family"]].append(score(s, flags))
        t, flags = timed(lambda: zscore_flags(s))
        ms["z-score"] += t
        results["z-score"][s["family"]].append(score(s, flags))
        t, flags = timed(lambda: iforest_flags(s))
        ms["IForest"] += t
        results["IForest"][s["family"]].append(score(s, flags))
    rows = []
    for family in FAMILIES:
        for d in detectors:
            tot = total(results[d][family])
            rows.append([family, d, tot["windows"], tot["detected"], tot["flagged"],
                         f"{tot['false_points'] / tot['days']:.2f}",
                         f"{tot['false_events'] / tot['days']:.2f}", f"{tot['days']:.1f}"])
    print(markdown_table(["family", "detector", "windows", "detected", "flagged points",
                          "false points/day", "false events/day", "days judged"], rows) + "\n")
    print("Wall time: " + ", ".join(f"{d} {ms[d] / 1000:.1f} s" for d in detectors) + ".\n")
    conn.close()
    if args.json:
        args.json.write_text(json.dumps({"command": command, "date": date, "machine": host,
                                         "versions": versions, "ms": ms,
                                         "results": results}, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
