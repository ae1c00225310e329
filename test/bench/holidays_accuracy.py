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

  test/bench/holidays_accuracy.py --dsn "host=/tmp/x port=5432 user=postgres dbname=postgres"
  test/bench/holidays_accuracy.py --dsn ... --folds 3 16 --only shop --json out.json
"""

import argparse
import json
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the checkout for the imports below
from bench_common import (DEFAULT_DATA, RETAIL_FILE, connect, context_header,  # noqa: E402
                          create_database, markdown_table, run_context, timed)
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
    dsn, versions, _ = create_database(args.dsn, DATABASE)
    print(f"PostgreSQL {versions['postgresql']}, pg_insight {versions['pg_insight']}; "
          f"{len(retail):,} rows of {args.data / RETAIL_FILE}.\n")
    conn = connect(dsn)
    cur = conn.cursor()
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
    conn.close()
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
