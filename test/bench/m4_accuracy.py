#!/usr/bin/python3
"""M4 Hourly and Weekly: pg_insight's 'auto' forecaster beside seasonal naive and statsmodels'
Theta and ETS, on the same series, in the same run (issue 16).

Data: ../shared/data/m4/{Hourly,Weekly}-{train,test}.csv (M4 competition, Makridakis et al.):
207 hourly series (horizon 48) and 180 weekly ones (horizon 13); each row a series id and its
values in time order. The files have no timestamps: every series is given a grid ending at the
same period (hourly: the last training value at 2019-12-31 23:00 UTC; weekly: on Monday
2019-12-30), so a grouped model's series all end together.

pg_insight: table m4_hourly(series text, ts timestamptz, value float8) (weekly: a date column)
in database "m4bench" beside the one in --dsn, then
    insight.train_forecaster('m4_hourly', 'm4_hourly', 'ts', 'value', 'series', horizon => 48)
with the default frequency 'auto' (it infers 'hour'; 'week' from the Monday dates) and
insight.forecast('m4_hourly', 48). Peers, in Python, on the same training values:
  seasonal naive      the last season repeated (24 hours; 52 weeks); for Weekly also naive
                      (the last value), the competition's Naive2 for a non-seasonal frequency;
  statsmodels Theta   ThetaModel(period = 24 / 52), its seasonality test deciding whether to
                      deseasonalise (the competition's Theta benchmark);
  statsmodels ETS     ExponentialSmoothing, additive damped trend, additive season of 24 for
                      Hourly; damped trend without season for Weekly (52-week seasons are too
                      few in the short series), parameters by maximum likelihood.

Scores as in the competition: sMAPE = 200/h · Σ |y − f| / (|y| + |f|); MASE = mean |y − f| /
mean |y_t − y_{t−m}| of the training values, m = 24 Hourly, 1 Weekly; each averaged over the
series. Prints markdown tables; --json writes them.

  test/bench/m4_accuracy.py --dsn "host=/tmp/x port=5432 user=postgres dbname=postgres"
  test/bench/m4_accuracy.py --python-only --only weekly
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels
from statsmodels.tsa.forecasting.theta import ThetaModel
from statsmodels.tsa.holtwinters import ExponentialSmoothing

sys.dont_write_bytecode = True
from bench_common import add_side_args, check_side_args  # noqa: E402
from bench_common import context_header, python_versions  # noqa: E402
from bench_common import (DEFAULT_DATA, connect, copy_frame, create_database,  # noqa: E402
                          markdown_table, query, run_context, timed)

DATABASE = "m4bench"
SETS = {
    "hourly": {"file": "Hourly", "horizon": 48, "season": 24, "mase_m": 24,
               "table": "m4_hourly", "time": "ts", "step": pd.Timedelta(hours=1),
               "end": pd.Timestamp("2019-12-31 23:00")},
    "weekly": {"file": "Weekly", "horizon": 13, "season": 52, "mase_m": 1,
               "table": "m4_weekly", "time": "week", "step": pd.Timedelta(weeks=1),
               "end": pd.Timestamp("2019-12-30")},
}


def read_wide(path):
    """{series id: float64 values} of a wide M4 file (header V1..Vn, rows of unequal length)."""
    out = {}
    with open(path) as f:
        next(f)
        for line in f:
            cells = line.rstrip("\n").split(",")
            values = [float(c.strip('"')) for c in cells[1:] if c not in ("", '""', "NA")]
            out[cells[0].strip('"')] = np.asarray(values, dtype=np.float64)
    return out


def smape(actual, forecast):
    denom = np.abs(actual) + np.abs(forecast)
    terms = np.divide(2.0 * np.abs(forecast - actual), denom, out=np.zeros_like(denom),
                      where=denom > 0)
    return 100.0 * terms.mean()


def mase(train, actual, forecast, m):
    scale = np.abs(train[m:] - train[:-m]).mean() if len(train) > m else 0.0
    if not scale > 0:
        scale = np.abs(np.diff(train)).mean() or 1.0
    return np.abs(actual - forecast).mean() / scale


# ---------------------------------------------------------------- Python peers

def seasonal_naive(train, h, season):
    last = train[-season:] if len(train) >= season else train[-1:]
    return np.array([last[k % len(last)] for k in range(h)])


def naive(train, h, season):
    return np.full(h, train[-1])


def theta(train, h, season):
    period = season if len(train) >= 2 * season else None
    model = ThetaModel(train, period=period, deseasonalize=period is not None)
    return np.asarray(model.fit().forecast(h))


def ets(train, h, season):
    seasonal = season if season <= 24 and len(train) >= 2 * season else None
    model = ExponentialSmoothing(train, trend="add", damped_trend=True,
                                 seasonal="add" if seasonal else None,
                                 seasonal_periods=seasonal, initialization_method="estimated")
    return np.asarray(model.fit().forecast(h))


PEERS = {
    "hourly": [("seasonal naive (24)", seasonal_naive), ("statsmodels Theta", theta),
               ("statsmodels ETS (damped, season 24)", ets)],
    "weekly": [("naive (Naive2)", naive), ("seasonal naive (52)", seasonal_naive),
               ("statsmodels Theta", theta), ("statsmodels ETS (damped)", ets)],
}


def score(name, train, test, forecasts, m):
    s = [smape(test[k], forecasts[k]) for k in test]
    q = [mase(train[k], test[k], forecasts[k], m) for k in test]
    return {"method": name, "smape": float(np.mean(s)), "mase": float(np.mean(q)),
            "series": len(test)}


def run_peer(name, fn, train, test, spec):
    start = time.perf_counter()
    forecasts = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k, y in train.items():
            try:
                f = fn(y, spec["horizon"], spec["season"])
            except Exception:  # a peer that fails on a series falls back to naive, counted
                f = None
            if f is None or not np.all(np.isfinite(f)):
                f = naive(y, spec["horizon"], spec["season"])
                forecasts.setdefault("_failed", 0)
                forecasts["_failed"] += 1
            forecasts[k] = f
    failed = forecasts.pop("_failed", 0)
    result = score(name, train, test, forecasts, spec["mase_m"])
    result["seconds"] = time.perf_counter() - start
    result["failed"] = failed
    return result


# ---------------------------------------------------------------- pg_insight

def load_set(cur, spec, train):
    rows = []
    for key, y in train.items():
        start = spec["end"] - (len(y) - 1) * spec["step"]
        times = pd.date_range(start, periods=len(y), freq=spec["step"])
        rows.append(pd.DataFrame({"series": key, spec["time"]: times, "value": y}))
    frame = pd.concat(rows, ignore_index=True)
    time_type = "timestamptz" if spec["time"] == "ts" else "date"
    cur.execute(f"DROP TABLE IF EXISTS {spec['table']}")
    cur.execute(f"CREATE TABLE {spec['table']} (series text, {spec['time']} {time_type}, "
                "value float8)")
    if time_type == "date":
        frame[spec["time"]] = frame[spec["time"]].dt.date
    copy_frame(cur, spec["table"], frame)
    cur.execute(f"ANALYZE {spec['table']}")
    return len(frame)


def run_pg(cur, spec, train, test, algorithm):
    name = spec["table"] + "_" + algorithm
    ms, metrics = timed(lambda: query(
        cur, "SELECT metrics FROM insight.train_forecaster(%s, %s::regclass, %s, 'value', "
             "'series', %s, horizon => %s)",
        (name, spec["table"], spec["time"], algorithm, spec["horizon"])))
    cur.execute("SELECT group_key, forecast_value FROM insight.forecast(%s, %s) "
                "ORDER BY group_key, forecast_time", (name, spec["horizon"]))
    forecasts = {}
    for key, value in cur.fetchall():
        forecasts.setdefault(key, []).append(value)
    forecasts = {k: np.asarray(v) for k, v in forecasts.items()}
    missing = sorted(set(test) - set(forecasts))
    if missing:
        sys.exit(f"pg_insight forecast no series for {missing[:5]} …")
    result = score(f"pg_insight '{algorithm}'", train, test, forecasts, spec["mase_m"])
    result["seconds"] = ms / 1000.0
    result["frequency"] = metrics.get("frequency")
    result["chosen"] = metrics.get("chosen")
    query(cur, "SELECT insight.drop_model(%s)", (name,))
    return result


# ---------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_side_args(parser, "--python-only", "run only the Python peers (no database)",
                  f"libpq connection string; the script uses database {DATABASE} beside it")
    parser.add_argument("--only", choices=tuple(SETS), help="run one frequency")
    parser.add_argument("--series", type=int, help="the first N series of each set (quick runs)")
    parser.add_argument("--algorithms", default="auto",
                        help="pg_insight algorithms to score, comma separated (default auto)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    check_side_args(parser, args, "--python-only")
    command, date, host = run_context()
    print(context_header(command, date, host))
    print(python_versions(("pandas", pd), ("numpy", np), ("statsmodels", statsmodels)) + "\n")
    cur = None
    if not args.python_only:
        dsn, versions, _ = create_database(args.dsn, DATABASE, setup=("SET TimeZone = 'UTC'",))
        conn = connect(dsn)
        cur = conn.cursor()
        cur.execute("SET TimeZone = 'UTC'")
        print(f"PostgreSQL {versions['postgresql']}, pg_insight {versions['pg_insight']}\n")
    results = {}
    for name, spec in SETS.items():
        if args.only and name != args.only:
            continue
        train = read_wide(args.data / "m4" / f"{spec['file']}-train.csv")
        test = read_wide(args.data / "m4" / f"{spec['file']}-test.csv")
        if args.series:
            keep = list(train)[:args.series]
            train = {k: train[k] for k in keep}
            test = {k: test[k] for k in keep}
        rows = []
        if cur is not None:
            load_set(cur, spec, train)
            for algorithm in args.algorithms.split(","):
                rows.append(run_pg(cur, spec, train, test, algorithm))
        for label, fn in PEERS[name]:
            rows.append(run_peer(label, fn, train, test, spec))
        results[name] = rows
        lengths = [len(y) for y in train.values()]
        print(f"### M4 {spec['file']}: {len(train)} series of {min(lengths)}–{max(lengths)} "
              f"values, horizon {spec['horizon']}, MASE with m = {spec['mase_m']}\n")
        table = [[r["method"], f"{r['smape']:.3f}", f"{r['mase']:.3f}",
                  f"{r['seconds']:.1f} s", r.get("failed", 0)] for r in rows]
        print(markdown_table(["method", "sMAPE", "MASE", "wall time", "fell back to naive"],
                             table))
        pg = next((r for r in rows if r["method"].startswith("pg_insight")), None)
        if pg:
            best_peer = min((r for r in rows if not r["method"].startswith("pg_insight")),
                            key=lambda r: r["mase"])
            print(f"\npg_insight inferred frequency {pg['frequency']!r}; learners chosen: "
                  f"{json.dumps(pg['chosen'], sort_keys=True)}. MASE vs the best peer "
                  f"({best_peer['method']}): {pg['mase'] / best_peer['mase']:.3f}×.\n")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"command": command, "date": date, "machine": host,
                                         "results": results}, indent=2))


if __name__ == "__main__":
    main()
