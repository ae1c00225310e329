#!/usr/bin/python3
"""Online Retail with and without UK bank holidays: what holidays => is worth, same run.

Data: UCI Online Retail I (online_retail/online_retail_I_clean.csv.gz of the shared data
directory, read at run time), loaded as forecast_accuracy.py loads it (tables retail and
retail_top50 of the database "holidaysbench"), and the bank holidays of England and Wales of
2010 and 2011 (GOV.UK's published list; the shop, closed on them, sells nothing) as table
uk_bank_holidays(day date, name text).

For each task — the whole shop's daily revenue, the daily units of the 50 products with the
most units — and each number of rolling origins, insight.evaluate_forecaster runs twice on the
same folds: without holidays, and with holidays => 'uk_bank_holidays'. Its rows (auto and each
learner, every metric averaged over the series) are printed side by side. With the default 3
folds of 14 days the scored days (2011-10-29 .. 2011-12-09) hold no bank holiday: only the
cleaner training shows. With 16 folds (2011-04-30 .. 2011-12-09) they hold four (2011-05-02,
05-30, 08-29 and the royal wedding's 04-29 just before), and every fold's history ones before.

Reconciliation (item 5), out of sample: for each of four origins (2011-10-14, 10-28, 11-11,
11-25), a grouped model of the 50 products is trained on the rows before the origin
(train_forecaster(..., 'product_id', horizon => 14)), and its forecasts of the next 14 days —
each product's own, and reconciled with the model's total (forecast(..., reconcile => true))
— are scored against what was sold: the products' mean MASE and the total's MASE (scaled by
each series' mean absolute weekly difference before the origin), beside the method the model
chose on its backtest.

  test/bench/holidays_accuracy.py --dsn "host=/tmp/x port=5432 user=postgres dbname=postgres"
  test/bench/holidays_accuracy.py --dsn ... --folds 3 16 --only shop --json out.json
"""

import argparse
import json
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the checkout for the imports below
from bench_common import (DEFAULT_DATA, RETAIL_FILE, context_header,  # noqa: E402
                          fresh_database, markdown_table, run_context, timed)
from forecast_accuracy import load_retail, load_tables, top_products  # noqa: E402

DATABASE = "holidaysbench"
HORIZON = 14
# England and Wales, 2010-2011 (www.gov.uk/bank-holidays): the substitute days where the
# holiday fell on a weekend.
UK_BANK_HOLIDAYS = [
    ("2010-01-01", "New Year's Day"), ("2010-04-02", "Good Friday"),
    ("2010-04-05", "Easter Monday"), ("2010-05-03", "Early May bank holiday"),
    ("2010-05-31", "Spring bank holiday"), ("2010-08-30", "Summer bank holiday"),
    ("2010-12-27", "Christmas Day"), ("2010-12-28", "Boxing Day"),
    ("2011-01-03", "New Year's Day"), ("2011-04-22", "Good Friday"),
    ("2011-04-25", "Easter Monday"), ("2011-04-29", "Royal wedding"),
    ("2011-05-02", "Early May bank holiday"), ("2011-05-30", "Spring bank holiday"),
    ("2011-08-29", "Summer bank holiday"), ("2011-12-26", "Boxing Day"),
    ("2011-12-27", "Christmas Day"),
]
TASKS = {
    "shop": {"label": "whole shop, daily revenue", "table": "retail",
             "value": "total_amount", "group": None},
    "products": {"label": "top 50 products, daily units", "table": "retail_top50",
                 "value": "quantity", "group": "product_id"},
}
EVALUATE_SQL = ("SELECT algorithm, metric, value FROM insight.evaluate_forecaster("
                "%(table)s::regclass, 'ts', %(value)s, %(group)s, 'auto', %(horizon)s, %(folds)s, "
                "holidays => %(holidays)s)")
METRICS = ("mase", "smape", "mae", "coverage")


def evaluate(cur, task, folds, holidays):
    spec = TASKS[task]
    params = {"table": spec["table"], "value": spec["value"], "group": spec["group"],
              "horizon": HORIZON, "folds": folds, "holidays": holidays}
    ms, rows = timed(lambda: (cur.execute(EVALUATE_SQL, params), cur.fetchall())[1])
    out = {}
    for algorithm, metric, value in rows:
        out.setdefault(algorithm, {})[metric] = value
    return {"ms": ms, "algorithms": out}


def print_run(task, folds, without, with_):
    print(f"### {TASKS[task]['label']}, {folds} folds of {HORIZON} days\n")
    print(f"evaluate_forecaster: {without['ms'] / 1000:,.1f} s without holidays, "
          f"{with_['ms'] / 1000:,.1f} s with.\n")
    rows = []
    for algorithm, base in without["algorithms"].items():
        other = with_["algorithms"].get(algorithm, {})
        cells = [algorithm]
        for m in METRICS:
            a, b = base.get(m), other.get(m)
            cells.append(f"{a:.4g}" if a is not None else "")
            cells.append(f"{b:.4g}" if b is not None else "")
        mase_a, mase_b = base.get("mase"), other.get("mase")
        cells.append(f"{mase_b / mase_a:.3f}" if mase_a and mase_b is not None else "")
        rows.append(cells)
    headers = ["algorithm"]
    for m in METRICS:
        headers += [f"{m} without", f"{m} with"]
    headers.append("MASE with / without")
    print(markdown_table(headers, rows) + "\n")


RECONCILE_ORIGINS = ["2011-10-14", "2011-10-28", "2011-11-11", "2011-11-25"]


def mase(actual, forecast, history, season=7):
    diffs = [abs(history[t] - history[t - season]) for t in range(season, len(history))]
    scale = sum(diffs) / len(diffs) if diffs and sum(diffs) > 0 else 1.0
    return sum(abs(a - f) for a, f in zip(actual, forecast)) / len(actual) / scale


def daily(cur, where, params):
    """{product: {date: units}} of retail_top50, zero-filled per product from its first day."""
    cur.execute("SELECT product_id, ts::date, sum(quantity) FROM retail_top50 WHERE " + where +
                " GROUP BY 1, 2", params)
    out = {}
    for product, day, units in cur.fetchall():
        out.setdefault(product, {})[day] = float(units)
    return out


def reconciliation(cur):
    import datetime
    rows = []
    for origin in RECONCILE_ORIGINS:
        cut = datetime.date.fromisoformat(origin)
        cur.execute("DROP VIEW IF EXISTS top50_before")
        cur.execute("CREATE VIEW top50_before AS SELECT * FROM retail_top50 WHERE ts < %s", (cut,))
        cur.execute("SELECT version FROM insight.train_forecaster('reconcile_probe', "
                    "'top50_before', 'ts', 'quantity', 'product_id', horizon => 14)")
        version = cur.fetchone()[0]
        cur.execute("SELECT metrics->'reconciliation'->>'method', metrics->'reconciliation' "
                    "FROM insight.models WHERE name = 'reconcile_probe' AND version = %s",
                    (version,))
        chosen, detail = cur.fetchone()
        forecasts = {}
        for reconcile in (False, True):
            cur.execute("SELECT group_key, forecast_time::date, forecast_value FROM "
                        "insight.forecast('reconcile_probe', 14, reconcile => %s)", (reconcile,))
            for product, day, value in cur.fetchall():
                forecasts.setdefault(reconcile, {}).setdefault(product, {})[day] = value
        history = daily(cur, "ts < %s", (cut,))
        future = daily(cur, "ts >= %s AND ts < %s", (cut, cut + datetime.timedelta(days=14)))
        days = sorted(next(iter(forecasts[False].values())))
        first = min(min(h) for h in history.values())
        span = [first + datetime.timedelta(days=i) for i in range((cut - first).days)]
        total_hist = [sum(history[p].get(d, 0.0) for p in history) for d in span]
        total_actual = [sum(future.get(p, {}).get(d, 0.0) for p in forecasts[False]) for d in days]
        row = {"origin": origin, "chosen": chosen, "backtest": detail}
        for reconcile, label in ((False, "own"), (True, "reconciled")):
            f = forecasts[reconcile]
            group = []
            for p, by_day in f.items():
                start = min(history[p])
                hist = [history[p].get(start + datetime.timedelta(days=i), 0.0)
                        for i in range((cut - start).days)]
                group.append(mase([future.get(p, {}).get(d, 0.0) for d in days],
                                  [by_day[d] for d in days], hist))
            total = [sum(f[p][d] for p in f) for d in days]
            row[label] = {"group_mase": sum(group) / len(group),
                          "total_mase": mase(total_actual, total, total_hist)}
        rows.append(row)
    cur.execute("SELECT insight.drop_model('reconcile_probe')")
    cur.execute("DROP VIEW IF EXISTS top50_before")
    return rows


def print_reconciliation(rows):
    print("### Reconciliation out of sample: 50 products, 4 origins, the next 14 days\n")
    table = []
    for r in rows:
        table.append([r["origin"], r["chosen"],
                      f"{r['own']['group_mase']:.3f}", f"{r['reconciled']['group_mase']:.3f}",
                      f"{r['own']['total_mase']:.3f}", f"{r['reconciled']['total_mase']:.3f}"])
    mean = lambda k, m: sum(r[k][m] for r in rows) / len(rows)  # noqa: E731
    table.append(["mean", "", f"{mean('own', 'group_mase'):.3f}",
                  f"{mean('reconciled', 'group_mase'):.3f}", f"{mean('own', 'total_mase'):.3f}",
                  f"{mean('reconciled', 'total_mase'):.3f}"])
    print(markdown_table(["origin", "method chosen", "products MASE, own", "reconciled",
                          "total MASE, sum of own (bottom-up)", "reconciled"], table) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dsn", required=True,
                        help=f"libpq connection string; the script uses database {DATABASE} beside it")
    parser.add_argument("--folds", type=int, nargs="+", default=[3, 16])
    parser.add_argument("--only", choices=tuple(TASKS))
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    command, date, host = run_context()
    print("## Online Retail with and without UK bank holidays\n")
    print(context_header(command, date, host))
    retail = load_retail(args.data)
    conn, cur, versions, _ = fresh_database(args.dsn, DATABASE)
    print(f"PostgreSQL {versions['postgresql']}, pg_insight {versions['pg_insight']}; "
          f"{len(retail):,} rows of {args.data / RETAIL_FILE}.\n")
    load_tables(cur, retail, top_products(retail))
    cur.execute("CREATE TABLE uk_bank_holidays (day date, name text)")
    cur.executemany("INSERT INTO uk_bank_holidays VALUES (%s, %s)", UK_BANK_HOLIDAYS)
    summary = {"command": command, "date": date, "machine": host, "versions": versions,
               "horizon": HORIZON, "runs": []}
    for task in ([args.only] if args.only else list(TASKS)):
        for folds in args.folds:
            without = evaluate(cur, task, folds, None)
            with_ = evaluate(cur, task, folds, "uk_bank_holidays")
            print_run(task, folds, without, with_)
            sys.stdout.flush()
            summary["runs"].append({"task": task, "folds": folds, "without": without,
                                    "with": with_})
    if args.only in (None, "products"):
        summary["reconciliation"] = reconciliation(cur)
        print_reconciliation(summary["reconciliation"])
    conn.close()
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
