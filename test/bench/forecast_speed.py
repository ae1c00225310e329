#!/usr/bin/python3
"""Speed of pg_insight's per-group forecasting beside a Python service's per-series loop, same run.

Data: --series product series (1,000 by default) × --days days (730) of daily units, generated
deterministically (numpy seed): per-product level, weekly profile of per-product amplitude, slow
trend, yearly sinus, negative-binomial noise, and some intermittent low-volume products (Poisson,
mostly zeros). Loaded with COPY as table series(product_id text, day date, units float8) of the
database "forecastspeed" (dropped and recreated next to the one in --dsn).

  pg_insight  SELECT * FROM insight.train_forecaster('speed', 'series', 'day', 'units',
                                                     'product_id', <--algorithm>, 14)
              SELECT count(*) FROM insight.forecast('speed', 14)        -- every group
              wall clock through psycopg2, and their sum;
  Python      the microservice: fetch the table with psycopg2 into pandas, build each product's
              daily grid, then per product the scikit-learn recipe of forecast_accuracy.py
              (calendar, lag and rolling features; RandomForestRegressor(n_estimators=100,
              n_jobs=2) trained on days 30..; recursive 14-day forecast).

--python-series M runs the Python loop on the first M products only and extrapolates it
linearly to all of them (the table says so, with the measured count). With --algorithm auto
(the default) pg_insight backtests every candidate learner per product to choose one, more work
than the Python loop's single fit; --algorithm random_forest times a like-for-like learner.

  test/bench/forecast_speed.py --dsn "host=/tmp/x/socket port=5432 user=postgres dbname=postgres" \\
      --json forecast_speed.json
  test/bench/forecast_speed.py --dsn ... --python-series 100      # quicker: extrapolated
  test/bench/forecast_speed.py --python-only --series 50          # no database needed
"""

import argparse
import io
import json
import platform
import sys
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn

sys.dont_write_bytecode = True  # no __pycache__ in the checkout for the import below
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import add_side_args, check_side_args  # noqa: E402
from bench_common import context_header, python_versions  # noqa: E402
from bench_common import (connect, create_database, markdown_table, query,  # noqa: E402
                          run_context, timed)
from forecast_accuracy import daily_grids, rf_forecast  # noqa: E402

DATABASE = "forecastspeed"
MODEL = "speed"
HORIZON = 14
SEED = 20240
START_DAY = "2023-01-02"  # a Monday
INTERMITTENT_SHARE = 0.15
RF_JOBS = 2

TRAIN_SQL = ("SELECT * FROM insight.train_forecaster(%(model)s, 'series', 'day', 'units', "
             "'product_id', %(algorithm)s, %(horizon)s)")
FORECAST_SQL = "SELECT count(*) FROM insight.forecast(%(model)s, %(horizon)s)"
FETCH_SQL = "SELECT product_id, day, units FROM series"


# ---------------------------------------------------------------- data

def generate_series(n_series, n_days, seed=SEED):
    """Long DataFrame (product_id, day, units) of n_series × n_days daily units."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_days, dtype=np.float64)[None, :]
    intermittent = rng.random(n_series) < INTERMITTENT_SHARE
    level = np.where(intermittent, rng.uniform(0.05, 0.8, n_series),
                     rng.lognormal(np.log(20.0), 0.9, n_series))[:, None]
    profile = rng.normal(size=(n_series, 7))
    profile -= profile.mean(axis=1, keepdims=True)
    profile /= np.abs(profile).max(axis=1, keepdims=True)
    amplitude = rng.uniform(0.0, 0.6, n_series)[:, None]
    weekday = (np.arange(n_days) + pd.Timestamp(START_DAY).dayofweek) % 7
    weekly = 1.0 + amplitude * profile[:, weekday]
    trend = 1.0 + rng.uniform(-0.3, 0.5, n_series)[:, None] * t / n_days
    yearly = 1.0 + rng.uniform(0.0, 0.3, n_series)[:, None] * np.sin(
        2 * np.pi * t / 365.25 + rng.uniform(0, 2 * np.pi, n_series)[:, None])
    mu = np.maximum(level * weekly * trend * yearly, 1e-3)
    dispersion = rng.uniform(2.0, 20.0, n_series)[:, None]
    nb = rng.negative_binomial(np.broadcast_to(dispersion, mu.shape),
                               dispersion / (dispersion + mu))
    units = np.where(intermittent[:, None], rng.poisson(mu), nb).astype(np.float64)
    width = len(str(n_series))
    ids = np.array([f"p{i:0{width}d}" for i in range(n_series)])
    days = pd.date_range(START_DAY, periods=n_days, freq="D")
    return pd.DataFrame({"product_id": np.repeat(ids, n_days),
                         "day": np.tile(days.strftime("%Y-%m-%d").to_numpy(), n_series),
                         "units": units.ravel()}), int(intermittent.sum())


# ---------------------------------------------------------------- database



def load_series(cur, frame):
    cur.execute("CREATE TABLE series (product_id text, day date, units float8)")
    buf = io.StringIO()
    frame.to_csv(buf, index=False, header=False)
    buf.seek(0)
    ms, _ = timed(lambda: cur.copy_expert("COPY series (product_id, day, units) FROM STDIN "
                                          "WITH (FORMAT csv)", buf))
    cur.execute("VACUUM (ANALYZE) series")
    rows = query(cur, "SELECT count(*) FROM series")
    if rows != len(frame):
        sys.exit(f"COPY loaded {rows} rows, generated {len(frame)}")
    return {"rows": rows, "copy_ms": ms,
            "size": query(cur, "SELECT pg_size_pretty(pg_table_size('series'))")}


def missing_functions(cur):
    cur.execute("""SELECT array_agg(f ORDER BY f) FROM unnest(%s::text[]) f
                   WHERE NOT EXISTS (SELECT 1 FROM pg_proc p
                                     WHERE p.pronamespace = 'insight'::regnamespace
                                       AND p.proname = f)""",
                (["train_forecaster", "forecast"],))
    return cur.fetchone()[0] or []


def measure_pg(cur, algorithm):
    import psycopg2
    params = {"model": MODEL, "algorithm": algorithm, "horizon": HORIZON}
    try:
        train_ms, result = timed(lambda: (cur.execute(TRAIN_SQL, params), cur.fetchone())[1])
        columns = [c.name for c in cur.description]
        forecast_ms, rows = timed(lambda: query(cur, FORECAST_SQL, params))
    except psycopg2.Error as e:
        return {"error": f"{e.pgcode or ''} {e.pgerror or e}".strip()}
    return {"train_ms": train_ms, "forecast_ms": forecast_ms, "total_ms": train_ms + forecast_ms,
            "forecast_rows": rows, "training_result": dict(zip(columns, result))}


# ---------------------------------------------------------------- Python side

def fetch_frame(dsn):
    """What the microservice does first: the whole table through psycopg2 into pandas."""
    with closing(connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute(FETCH_SQL)
        rows = cur.fetchall()
    return pd.DataFrame(rows, columns=["product_id", "day", "units"])


def measure_python(frame_source, n_python):
    """Fetch (or take the generated frame), build the daily grids, then the per-series loop on
    the first n_python products. Times in ms."""
    fetch_ms, frame = timed(frame_source)
    grid_ms, grids = timed(lambda: daily_grids(frame, "day", "units", "product_id"))
    keys = list(grids)[:n_python]
    forecasts, split = {}, {}
    start = time.perf_counter()
    for key in keys:
        first_day, values = grids[key]
        forecasts[key] = rf_forecast(first_day, values, HORIZON, n_jobs=RF_JOBS, timings=split)
    loop_ms = (time.perf_counter() - start) * 1000.0
    return {"fetch_ms": fetch_ms, "fetch_rows": len(frame), "grid_ms": grid_ms,
            "series_total": len(grids), "series_measured": len(keys), "loop_ms": loop_ms,
            "loop_fit_ms": split.get("fit", 0.0), "loop_forecast_ms": split.get("forecast", 0.0),
            "loop_ms_all": loop_ms * len(grids) / len(keys),
            "forecast_values": sum(len(f) for f in forecasts.values())}


# ---------------------------------------------------------------- report

def print_table(pg, py, n_series, algorithm):
    extrapolated = py["series_measured"] < py["series_total"]
    reference = pg.get("total_ms") if pg and "total_ms" in pg else None

    def row(side, series, ms):
        return [side, series, f"{ms / 1000.0:,.2f}", f"{ms / n_series:,.1f}",
                f"{ms / reference:,.2f}×" if reference else "—"]

    rows = []
    if reference:
        rows += [row(f"pg_insight train_forecaster ({algorithm})", f"{n_series:,}",
                     pg["train_ms"]),
                 row("pg_insight forecast (every group)", f"{n_series:,}", pg["forecast_ms"]),
                 row("**pg_insight total**", f"{n_series:,}", pg["total_ms"])]
    fetch_label = ("Python fetch (psycopg2 → pandas) + daily grids" if py["fetched"]
                   else "Python daily grids (no fetch: --python-only)")
    rows.append(row(fetch_label, f"{n_series:,}", py["fetch_ms"] + py["grid_ms"]))
    if extrapolated:
        rows.append([f"Python RF loop, measured on {py['series_measured']:,} series",
                     f"{py['series_measured']:,}", f"{py['loop_ms'] / 1000.0:,.2f}",
                     f"{py['loop_ms'] / py['series_measured']:,.1f}", "—"])
        rows.append(row(f"Python RF loop, EXTRAPOLATED linearly from "
                        f"{py['series_measured']:,} to {n_series:,} series", f"{n_series:,}",
                        py["loop_ms_all"]))
    else:
        rows.append(row("Python RF loop (fit + recursive forecast)", f"{n_series:,}",
                        py["loop_ms_all"]))
    total_label = "**Python total**" + (" (loop extrapolated)" if extrapolated else "")
    rows.append(row(total_label, f"{n_series:,}",
                    py["fetch_ms"] + py["grid_ms"] + py["loop_ms_all"]))
    print(markdown_table(["side", "series", "wall s", "per series ms", "ratio to pg total"],
                         rows))
    print()


# ---------------------------------------------------------------- main

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_side_args(parser, "--python-only",
                  "run only the Python loop, on the generated frame (no database)",
                  f"libpq connection string; the script uses database {DATABASE} beside it")
    parser.add_argument("--series", type=int, default=1000, help="product series (default 1000)")
    parser.add_argument("--days", type=int, default=730, help="days per series (default 730)")
    parser.add_argument("--python-series", type=int,
                        help="run the Python loop on the first M series only and extrapolate "
                             "linearly (default: all)")
    parser.add_argument("--algorithm", default="auto",
                        help="learner of train_forecaster on the pg_insight side (default auto)")
    parser.add_argument("--json", type=Path, help="write a JSON summary to this path")
    args = parser.parse_args()
    check_side_args(parser, args, "--python-only")
    if args.series < 1 or args.days < 100:
        parser.error("--series must be at least 1 and --days at least 100")
    if args.python_series is None:
        args.python_series = args.series
    if not 1 <= args.python_series <= args.series:
        parser.error("--python-series must be between 1 and --series")
    return args


def main():
    args = parse_args()
    started = time.perf_counter()
    command, date, host = run_context()
    gen_ms, (frame, intermittent) = timed(lambda: generate_series(args.series, args.days))
    print("## Forecast speed: pg_insight beside a Python service's per-series loop\n")
    print(context_header(command, date, host) +
          python_versions(("scikit-learn", sklearn), ("numpy", np), ("pandas", pd)) + "  ")
    summary = {"command": command, "date": date, "machine": host,
               "versions": {"python": platform.python_version(), "sklearn": sklearn.__version__},
               "series": args.series, "days": args.days, "horizon": HORIZON,
               "algorithm": args.algorithm, "intermittent_series": intermittent}
    pg = None
    if not args.python_only:
        dsn, versions, settings = create_database(
            args.dsn, DATABASE,
            settings=("shared_buffers", "work_mem", "max_parallel_workers_per_gather"))
        summary.update(settings=settings)
        summary["versions"].update(versions)
        with closing(connect(dsn)) as conn, conn.cursor() as cur:
            summary["table"] = load_series(cur, frame)
            print(f"PostgreSQL {versions['postgresql']}, pg_insight {versions['pg_insight']}; "
                  + ", ".join(f"{k} {v}" for k, v in settings.items()) + "  ")
            print(f"Table series: {summary['table']['rows']:,} rows "
                  f"({args.series:,} products × {args.days} days, {intermittent} intermittent), "
                  f"{summary['table']['size']}, generated in {gen_ms:,.0f} ms, "
                  f"COPY {summary['table']['copy_ms']:,.0f} ms\n")
            sys.stdout.flush()
            missing = missing_functions(cur)
            if missing:
                pg = {"error": "pg_insight lacks " + ", ".join(f"insight.{f}" for f in missing)}
            else:
                pg = measure_pg(cur, args.algorithm)
        source = lambda: fetch_frame(dsn)  # noqa: E731
    else:
        print(f"Generated {len(frame):,} rows ({args.series:,} products × {args.days} days, "
              f"{intermittent} intermittent) in {gen_ms:,.0f} ms; pg_insight side skipped "
              "(--python-only)\n")
        source = lambda: frame  # noqa: E731
    py = measure_python(source, args.python_series)
    py["fetched"] = not args.python_only
    summary["pg_insight"], summary["python"] = pg, py

    print(f"### {args.series:,} series × {args.days} days, horizon {HORIZON}\n")
    if pg and "error" in pg:
        print(f"**pg_insight side failed: {pg['error']}**\n")
    print_table(pg, py, args.series, args.algorithm)
    notes = []
    if pg and "forecast_rows" in pg:
        expected = args.series * HORIZON
        notes.append(f"insight.forecast returned {pg['forecast_rows']:,} rows "
                     f"({'as expected' if pg['forecast_rows'] == expected else 'EXPECTED'} "
                     f"{expected:,}); train_forecaster: "
                     + ", ".join(f"{k} {v}" for k, v in pg["training_result"].items()
                                 if k in ("algorithm", "rows_used", "rows_skipped",
                                          "training_ms")) + ".")
    notes.append(f"Python loop split: features + fit {py['loop_fit_ms'] / 1000.0:,.2f} s, "
                 f"recursive forecast ({HORIZON} one-row predict calls per series) "
                 f"{py['loop_forecast_ms'] / 1000.0:,.2f} s, over "
                 f"{py['series_measured']:,} series.")
    if py["series_measured"] < py["series_total"]:
        notes.append(f"The Python loop ran on {py['series_measured']:,} of "
                     f"{py['series_total']:,} series ({py['loop_ms'] / 1000.0:,.2f} s); its "
                     "row for all series is a linear extrapolation, not a measurement.")
    notes.append(f"Python: RandomForestRegressor(n_estimators=100, n_jobs={RF_JOBS}) per series, "
                 f"one fit on all {args.days - 30} trainable days and a recursive {HORIZON}-day "
                 f"forecast; no backtest or model choice. "
                 + ("pg_insight 'auto' backtests every candidate learner per series before "
                    "fitting the chosen one." if args.algorithm == "auto" else
                    f"pg_insight ran the single learner {args.algorithm}."))
    print("\n".join(notes) + "\n")
    summary["total_s"] = time.perf_counter() - started
    print(f"Total run time {summary['total_s']:,.0f} s.")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
