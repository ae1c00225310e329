#!/usr/bin/python3
"""Forecast accuracy of pg_insight beside a Python service's scikit-learn recipe, same run.

Data: UCI Online Retail I (the cleaned file online_retail/online_retail_I_clean.csv.gz of the
shared data directory, read at run time). It is loaded into table retail(ts timestamp,
product_id text, quantity int, total_amount float8), total_amount = Quantity * UnitPrice, of
the database "forecastbench" (dropped and recreated next to the one in --dsn). Two tasks, each
a rolling-origin backtest with horizon 14, 3 folds, intervals at 0.9:

  shop      daily revenue of the whole shop:
            insight.evaluate_forecaster('retail', 'ts', 'total_amount', NULL, 'auto', 14, 3)
  products  daily units of the 50 products with the most units sold (table retail_top50):
            insight.evaluate_forecaster('retail_top50', 'ts', 'quantity', 'product_id',
                                        'auto', 14, 3)
            every metric per product over its folds, then averaged over products.

The same daily grids (sum per calendar day, missing days 0, each series from its own first day
to the last day of the relation) and the same folds (fold k trains on days up to
n - (folds - k)·horizon) feed, in Python:

  scikit-learn RF recipe   what a Python forecasting service typically does:
                           RandomForestRegressor(n_estimators=100, random_state=0) on calendar
                           features, lags 1, 2, 3, 7, 14 and rolling mean/std/min/max over the
                           previous 7, 14 and 30 days, trained on days 30.. of the training
                           part, forecasting recursively (each prediction fed back as history);
  python seasonal naive    last week repeated: a cross-check of pg_insight's seasonal_naive
                           row (same grids, folds and metric definitions: equal to ~1e-6).

Metrics: MAE, RMSE and sMAPE (100/n · Σ 2|f − a| / (|a| + |f|), 0/0 terms counted 0) pooled
over a series' folds; MASE = mean over folds of MAE(fold) / mean |y_t − y_{t−7}| of that
fold's training part (lag 1 if that is 0, else 1). A learner is scored on the series long
enough for its minimum history plus the folds (the table says how many).

Prints markdown tables to stdout; --json writes a machine-readable summary.

  test/bench/forecast_accuracy.py --dsn "host=/tmp/x/socket port=5432 user=postgres dbname=postgres" \\
      --json forecast_accuracy.json
  test/bench/forecast_accuracy.py --python-only          # no database needed
  test/bench/forecast_accuracy.py --dsn ... --only shop  # one task
"""

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.ensemble import RandomForestRegressor

sys.dont_write_bytecode = True  # no __pycache__ in the checkout for the import below
from bench_common import add_side_args, check_side_args  # noqa: E402
from bench_common import context_header, python_versions  # noqa: E402
from bench_common import (DEFAULT_DATA, RETAIL_FILE, connect, copy_frame,  # noqa: E402
                          create_database, markdown_table, query, run_context, timed)

DATABASE = "forecastbench"
HORIZON = 14
FOLDS = 3
CONFIDENCE = 0.9
TOP_PRODUCTS = 50
SEASON = 7

# The feature recipe (the same list as pg_insight's feature-based learners).
WARMUP = 30  # days of history before the first training row
LAGS = (1, 2, 3, 7, 14)
WINDOWS = (7, 14, 30)
RF_MIN_TRAINING_ROWS = 14  # as pg_insight's linear learner: 30 + 14 days of history
RF_TREES = 100
RF_SEED = 0

METRICS = ("mase", "smape", "mae", "rmse", "coverage")
# pg_insight's algorithm rows in this order; any other name it returns goes after them.
PG_ALGORITHMS = ("auto", "seasonal_naive", "holt_winters", "linear", "random_forest",
                 "gradient_boosting")

TASKS = {
    "shop": {"title": "whole shop, daily revenue (total_amount)", "table": "retail",
             "value": "total_amount", "group": None},
    "products": {"title": f"top {TOP_PRODUCTS} products by units, daily units (quantity), "
                         "per-product metrics averaged over products",
                 "table": "retail_top50", "value": "quantity", "group": "product_id"},
}
EVALUATE_SQL = ("SELECT algorithm, metric, value FROM insight.evaluate_forecaster("
                "%(table)s::regclass, 'ts', %(value)s, %(group)s, 'auto', %(horizon)s, "
                "%(folds)s, %(confidence)s)")


# ---------------------------------------------------------------- output helpers

def fmt_value(value, digits=4):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def fmt_s(ms):
    return "—" if ms is None else f"{ms / 1000.0:,.2f} s"


# ---------------------------------------------------------------- the Python recipe
# Shared with forecast_speed.py (imported from there).

def daily_grids(frame, time_column, value_column, group_column=None):
    """{group key (None without group_column): (first day, float64 values)}: the sum of value
    per calendar day of time_column, missing days 0, each series from its own first day to
    the last day of the whole frame. Keys sorted."""
    day = pd.to_datetime(frame[time_column]).dt.normalize()
    last = day.max()
    if group_column is None:
        sums = frame[value_column].groupby(day).sum()
        return {None: _grid(sums, last)}
    sums = frame[value_column].groupby([frame[group_column], day]).sum()
    return {key: _grid(s.droplevel(0), last) for key, s in sums.groupby(level=0, sort=True)}


def _grid(sums, last):
    first = sums.index.min()
    days = pd.date_range(first, last, freq="D")
    return first, sums.reindex(days, fill_value=0).to_numpy(dtype=np.float64)


def calendar_features(dates):
    """13 calendar columns of a DatetimeIndex: day of week (0 = Monday), day of month, month,
    week of year ((day of year − 1) // 7 + 1), weekend, month start, month end, and sin/cos of
    dow/7, (month − 1)/12, (day of year − 1)/days in the year."""
    dow = dates.dayofweek.to_numpy(dtype=np.float64)
    dom = dates.day.to_numpy(dtype=np.float64)
    month = dates.month.to_numpy(dtype=np.float64)
    doy = dates.dayofyear.to_numpy(dtype=np.float64)
    year_days = np.where(dates.is_leap_year, 366.0, 365.0)
    two_pi = 2.0 * np.pi
    return np.column_stack([
        dow, dom, month, (doy - 1) // 7 + 1, (dow >= 5).astype(np.float64),
        (dom == 1).astype(np.float64), np.asarray(dates.is_month_end, dtype=np.float64),
        np.sin(two_pi * dow / 7), np.cos(two_pi * dow / 7),
        np.sin(two_pi * (month - 1) / 12), np.cos(two_pi * (month - 1) / 12),
        np.sin(two_pi * (doy - 1) / year_days), np.cos(two_pi * (doy - 1) / year_days)])


def history_features(values, t0, t1):
    """Lag and rolling columns of days t0..t1-1 (t0 >= WARMUP, t1 <= len(values) + 1), each
    from values strictly before the day: lags 1, 2, 3, 7, 14, then for windows 7, 14, 30 the
    mean, population std, min and max."""
    cols = [values[t0 - lag:t1 - lag] for lag in LAGS]
    for w in WINDOWS:
        win = sliding_window_view(values, w)[t0 - w:t1 - w]
        cols += [win.mean(axis=1), win.std(axis=1), win.min(axis=1), win.max(axis=1)]
    return np.column_stack(cols)


def rf_forecast(first_day, train, horizon, n_jobs=-1, timings=None):
    """The service recipe: RandomForestRegressor on days WARMUP..n-1 of train, then a recursive
    forecast of `horizon` days. timings (a dict), if given, accumulates the ms of "fit"
    (features + fit) and "forecast"."""
    start = time.perf_counter()
    n = len(train)
    calendar = calendar_features(pd.date_range(first_day, periods=n + horizon, freq="D"))
    X = np.hstack([calendar[WARMUP:n], history_features(train, WARMUP, n)])
    model = RandomForestRegressor(n_estimators=RF_TREES, random_state=RF_SEED, n_jobs=n_jobs)
    model.fit(X, train[WARMUP:n])
    fitted = time.perf_counter()
    history = np.asarray(train, dtype=np.float64)
    for step in range(horizon):
        t = n + step
        x = np.hstack([calendar[t:t + 1], history_features(history, t, t + 1)])
        history = np.append(history, model.predict(x)[0])
    if timings is not None:
        timings["fit"] = timings.get("fit", 0.0) + (fitted - start) * 1000.0
        timings["forecast"] = (timings.get("forecast", 0.0)
                               + (time.perf_counter() - fitted) * 1000.0)
    return history[n:]


def seasonal_naive_forecast(first_day, train, horizon):
    last_week = train[-SEASON:]
    return np.array([last_week[h % SEASON] for h in range(horizon)], dtype=np.float64)


PY_LEARNERS = {
    "rf": {"label": "scikit-learn RF recipe", "fn": rf_forecast,
           "min_history": WARMUP + RF_MIN_TRAINING_ROWS},
    "seasonal_naive": {"label": "python seasonal naive", "fn": seasonal_naive_forecast,
                       "min_history": SEASON},
}


def smape(actual, forecast):
    denom = np.abs(actual) + np.abs(forecast)
    terms = np.divide(2.0 * np.abs(forecast - actual), denom, out=np.zeros_like(denom),
                      where=denom > 0)
    return 100.0 * terms.sum() / len(actual)


def mase_scale(train, season=SEASON):
    for lag in (season, 1):
        if len(train) > lag:
            scale = np.abs(train[lag:] - train[:-lag]).mean()
            if scale > 0:
                return scale
    return 1.0


def backtest(fn, first_day, series, horizon=HORIZON, folds=None):
    """MAE, RMSE, sMAPE pooled over the folds' points; MASE the mean of the folds' MASE."""
    folds = FOLDS if folds is None else folds
    n = len(series)
    actual_all, forecast_all, mases = [], [], []
    for k in range(folds):
        cut = n - (folds - k) * horizon
        train, actual = series[:cut], series[cut:cut + horizon]
        forecast = np.asarray(fn(first_day, train, horizon), dtype=np.float64)
        mases.append(np.abs(actual - forecast).mean() / mase_scale(train))
        actual_all.append(actual)
        forecast_all.append(forecast)
    a, f = np.concatenate(actual_all), np.concatenate(forecast_all)
    return {"mae": float(np.abs(a - f).mean()), "rmse": float(np.sqrt(((a - f) ** 2).mean())),
            "smape": float(smape(a, f)), "mase": float(np.mean(mases))}


def evaluate_python(grids, learner):
    """Backtest of a Python learner on every series long enough; metrics averaged over them."""
    spec = PY_LEARNERS[learner]
    needed = spec["min_history"] + HORIZON * FOLDS
    scores, skipped = [], []
    start = time.perf_counter()
    for key, (first_day, series) in grids.items():
        if len(series) < needed:
            skipped.append({"group": key, "days": len(series)})
            continue
        scores.append(backtest(spec["fn"], first_day, series))
    ms = (time.perf_counter() - start) * 1000.0
    metrics = {m: float(np.mean([s[m] for s in scores])) if scores else None
               for m in ("mase", "smape", "mae", "rmse")}
    metrics["coverage"] = None  # no prediction intervals in these recipes
    return {"label": spec["label"], "metrics": metrics, "groups": len(scores),
            "skipped": skipped, "days_needed": needed, "ms": ms}


# ---------------------------------------------------------------- data

def load_retail(data_dir):
    path = data_dir / RETAIL_FILE
    raw = pd.read_csv(path, usecols=["StockCode", "Quantity", "InvoiceDate", "UnitPrice"],
                      dtype={"StockCode": str, "Quantity": np.int64, "UnitPrice": np.float64})
    return pd.DataFrame({
        "ts": pd.to_datetime(raw["InvoiceDate"], format="%Y-%m-%d %H:%M:%S"),
        "product_id": raw["StockCode"],
        "quantity": raw["Quantity"],
        "total_amount": raw["Quantity"] * raw["UnitPrice"],
    })


def top_products(retail, count=TOP_PRODUCTS):
    """The `count` products with the most units; ties by product_id (as the SQL: C collation)."""
    units = retail.groupby("product_id")["quantity"].sum().reset_index()
    units = units.sort_values(["quantity", "product_id"], ascending=[False, True],
                              kind="mergesort")
    return list(units["product_id"].head(count))


def task_frames(retail, parts):
    frames = {}
    if "shop" in parts:
        frames["shop"] = retail
    if "products" in parts:
        top = top_products(retail)
        frames["products"] = retail[retail["product_id"].isin(top)]
    return frames


# ---------------------------------------------------------------- database

def load_tables(cur, retail, top):
    """retail via COPY, then retail_top50 (rows of the top products, chosen in SQL) and a check
    that SQL and pandas chose the same products."""
    cur.execute("CREATE TABLE retail (ts timestamp, product_id text, quantity int, "
                "total_amount float8)")
    ms, _ = timed(lambda: copy_frame(cur, "retail", retail[["ts", "product_id", "quantity",
                                                            "total_amount"]]))
    cur.execute("ANALYZE retail")
    cur.execute(f"""CREATE TABLE retail_top50 AS
                    SELECT r.* FROM retail r
                     WHERE r.product_id IN (SELECT product_id FROM retail GROUP BY product_id
                                             ORDER BY sum(quantity) DESC, product_id COLLATE "C"
                                             LIMIT {TOP_PRODUCTS})""")
    cur.execute("ANALYZE retail_top50")
    cur.execute("SELECT array_agg(DISTINCT product_id) FROM retail_top50")
    sql_top = set(cur.fetchone()[0])
    if sql_top != set(top):
        sys.exit(f"SQL and pandas chose different top products: only in SQL "
                 f"{sorted(sql_top - set(top))}, only in pandas {sorted(set(top) - sql_top)}")
    rows = query(cur, "SELECT count(*) FROM retail")
    if rows != len(retail):
        sys.exit(f"COPY loaded {rows} rows, the file has {len(retail)}")
    return {"retail_rows": rows, "copy_ms": ms,
            "top50_rows": query(cur, "SELECT count(*) FROM retail_top50"),
            "size": query(cur, "SELECT pg_size_pretty(pg_table_size('retail'))")}


def pg_has_function(cur, name):
    return query(cur, "SELECT EXISTS (SELECT 1 FROM pg_proc WHERE pronamespace = "
                      "'insight'::regnamespace AND proname = %s)", (name,))


def evaluate_pg(cur, task):
    """{algorithm: {metric: value}} and wall ms of one evaluate_forecaster call, or the error."""
    import psycopg2
    spec = TASKS[task]
    params = {"table": spec["table"], "value": spec["value"], "group": spec["group"],
              "horizon": HORIZON, "folds": FOLDS, "confidence": CONFIDENCE}
    del cur.connection.notices[:]
    try:
        ms, rows = timed(lambda: (cur.execute(EVALUATE_SQL, params), cur.fetchall())[1])
    except psycopg2.Error as e:
        return {"error": f"{e.pgcode or ''} {e.pgerror or e}".strip()}
    notices = [n.strip() for n in cur.connection.notices]
    results = {}
    for algorithm, metric, value in rows:
        results.setdefault(algorithm, {})[metric] = value
    order = [a for a in PG_ALGORITHMS if a in results] + sorted(set(results) - set(PG_ALGORITHMS))
    return {"ms": ms, "algorithms": {a: results[a] for a in order}, "notices": notices}


# ---------------------------------------------------------------- report

def grid_summary(grids):
    lengths = [len(s) for _, s in grids.values()]
    firsts = [f for f, _ in grids.values()]
    last = max(f + pd.Timedelta(days=len(s) - 1) for f, s in grids.values())
    return {"series": len(grids), "days_min": min(lengths), "days_max": max(lengths),
            "first_day": str(min(firsts).date()), "last_day": str(last.date()),
            "zero_share": float(np.mean(np.concatenate([s for _, s in grids.values()]) == 0))}


def cross_check(pg_row, py_metrics):
    """Largest |pg − python| over MASE, sMAPE, MAE, RMSE of seasonal naive, relative to the
    value's magnitude (max(1, |python|))."""
    diffs = {m: abs(pg_row[m] - py_metrics[m]) / max(1.0, abs(py_metrics[m]))
             for m in ("mase", "smape", "mae", "rmse")
             if pg_row.get(m) is not None and py_metrics.get(m) is not None}
    return max(diffs.values()) if diffs else None


def print_task(task, result):
    spec, grids = TASKS[task], result["grids"]
    print(f"### {task}: {spec['title']}\n")
    print(f"Daily grid: {grids['series']} series of {grids['days_min']}–{grids['days_max']} days "
          f"({grids['first_day']} … {grids['last_day']}; {grids['zero_share']:.1%} zero days). "
          f"Horizon {HORIZON}, {FOLDS} folds, intervals at {CONFIDENCE}.\n")
    headers = ["side", "algorithm", "series scored", "MASE", "sMAPE", "MAE", "RMSE",
               f"coverage({CONFIDENCE})", "wall time"]
    rows = []
    pg = result.get("pg_insight")
    if pg and "algorithms" in pg:
        for i, (algorithm, m) in enumerate(pg["algorithms"].items()):
            series = m.get("series")
            rows.append(["pg_insight", algorithm, "—" if series is None else int(series),
                         *(fmt_value(m.get(k)) for k in METRICS),
                         fmt_s(pg["ms"]) + " (whole call)" if i == 0 else "″"])
    for py in result["python"].values():
        rows.append(["Python", py["label"], py["groups"],
                     *(fmt_value(py["metrics"][k]) for k in METRICS), fmt_s(py["ms"])])
    print(markdown_table(headers, rows))
    print()
    if pg is None:
        print("pg_insight side skipped (--python-only).\n")
    elif "error" in pg:
        print(f"pg_insight side failed: {pg['error']}\n")
    notes = [f"pg_insight {n}" for n in (pg or {}).get("notices", [])]
    for py in result["python"].values():
        if py["skipped"]:
            short = ", ".join(f"{s['group']} ({s['days']} d)" for s in py["skipped"])
            notes.append(f"{py['label']} needs {py['days_needed']} days; skipped: {short}.")
    check = result.get("seasonal_naive_check")
    if check is not None:
        verdict = "agree" if check <= 1e-6 else "DIFFER"
        notes.append(f"Seasonal naive cross-check, pg_insight vs Python: {verdict} (largest "
                     f"relative |Δ| over MASE, sMAPE, MAE, RMSE = {check:.2e}).")
    notes.append("pg_insight's call times every row above (auto redoes its choice inside "
                 "each outer fold); Python times are each recipe alone. The RF recipe and "
                 "python seasonal naive give no intervals: coverage n/a.")
    print("\n".join(notes) + "\n")


# ---------------------------------------------------------------- main

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_side_args(parser, "--python-only", "run only the Python side (no database)",
                  f"libpq connection string; the script uses database {DATABASE} beside it")
    parser.add_argument("--only", choices=tuple(TASKS), help="run only one task")
    parser.add_argument("--folds", type=int, default=FOLDS,
                        help=f"rolling origins (default {FOLDS}); more folds, less noise")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help=f"shared data directory (default {DEFAULT_DATA})")
    parser.add_argument("--json", type=Path, help="write a JSON summary to this path")
    args = parser.parse_args()
    check_side_args(parser, args, "--python-only")
    return args


def main():
    global FOLDS
    args = parse_args()
    FOLDS = args.folds
    parts = (args.only,) if args.only else tuple(TASKS)
    command, date, host = run_context()
    print("## Forecast accuracy: pg_insight beside a scikit-learn recipe\n")
    print(context_header(command, date, host) +
          python_versions(("scikit-learn", sklearn), ("numpy", np), ("pandas", pd)))
    summary = {"command": command, "date": date, "machine": host,
               "versions": {"python": platform.python_version(), "sklearn": sklearn.__version__},
               "horizon": HORIZON, "folds": FOLDS, "confidence": CONFIDENCE, "tasks": {}}

    load_ms, retail = timed(lambda: load_retail(args.data))
    top = top_products(retail)
    conn = cur = None
    if not args.python_only:
        dsn, versions, _ = create_database(args.dsn, DATABASE)
        summary["versions"].update(versions)
        print(f"PostgreSQL {versions['postgresql']}, pg_insight {versions['pg_insight']}  ")
        conn = connect(dsn)
        cur = conn.cursor()
        summary["load"] = load_tables(cur, retail, top)
        have = pg_has_function(cur, "evaluate_forecaster")
        summary["pg_evaluate_forecaster"] = have
        print(f"Loaded {summary['load']['retail_rows']:,} rows into retail "
              f"({summary['load']['size']}, COPY {summary['load']['copy_ms']:,.0f} ms), "
              f"{summary['load']['top50_rows']:,} into retail_top50.  ")
        if not have:
            print("**insight.evaluate_forecaster does not exist in this pg_insight: "
                  "pg_insight rows skipped.**  ")
            cur = None
    print(f"Read {len(retail):,} rows from {args.data / RETAIL_FILE} in {load_ms:,.0f} ms.\n")
    sys.stdout.flush()

    for task, frame in task_frames(retail, parts).items():
        spec = TASKS[task]
        grids = daily_grids(frame, "ts", spec["value"], spec["group"])
        result = {"grids": grid_summary(grids)}
        if cur is not None:
            result["pg_insight"] = evaluate_pg(cur, task)
        elif conn is not None:
            result["pg_insight"] = {"error": "insight.evaluate_forecaster does not exist"}
        result["python"] = {learner: evaluate_python(grids, learner) for learner in PY_LEARNERS}
        pg_rows = result.get("pg_insight", {}).get("algorithms", {})
        if "seasonal_naive" in pg_rows:
            result["seasonal_naive_check"] = cross_check(
                pg_rows["seasonal_naive"], result["python"]["seasonal_naive"]["metrics"])
        summary["tasks"][task] = result
        print_task(task, result)
        sys.stdout.flush()

    if conn:
        conn.close()
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
