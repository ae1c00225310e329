#!/usr/bin/python3
"""detect_link_anomaly() and detect_site_anomaly() (all entities, 24 h) in two databases that hold
the same rows and models, e.g. one with an earlier version of the extension's SQL (before) and
one with today's (after), beside the floor (a plain scan of window plus 7-day baseline) in the
after database. Each call alternates between the two databases --runs times, one connection each
(warm after the first call), so a slow moment of the machine hits both sides alike; medians.
  test/bench/detect_ab.py --before "host=... dbname=before" --after "host=... dbname=after"
"""
import argparse
import statistics
import sys
from contextlib import closing

sys.dont_write_bytecode = True  # no __pycache__ in the checkout for the import below
from bench_common import connect, context_header, markdown_table, query, run_context  # noqa: E402
from bench_common import timed  # noqa: E402
from detect_speed import LINK_METRICS, SITE_METRICS  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", required=True)
    parser.add_argument("--after", required=True)
    parser.add_argument("--runs", type=int, default=12)
    args = parser.parse_args()
    command, date, host = run_context()
    with closing(connect(args.before)) as before, closing(connect(args.after)) as after:
        cb, ca = before.cursor(), after.cursor()
        until = query(ca, "SELECT max(ts) + interval '5 minutes' FROM insight.link_metrics")
        if query(cb, "SELECT max(ts) + interval '5 minutes' FROM insight.link_metrics") != until:
            sys.exit("the two databases do not hold the same telemetry")
        window = (f"ts >= '{until}'::timestamptz - interval '8 days' "
                  f"AND ts < '{until}'::timestamptz")
        calls = [
            ("detect_link_anomaly() (220 links, 24 h)",
             f"SELECT count(*) FROM insight.detect_link_anomaly(until => '{until}')",
             f"SELECT count(*), sum({LINK_METRICS}) FROM insight.link_metrics WHERE {window}"),
            ("detect_site_anomaly() (24 h)",
             f"SELECT count(*) FROM insight.detect_site_anomaly(until => '{until}')",
             f"SELECT count(*), sum({SITE_METRICS}) FROM insight.site_metrics WHERE {window}"),
        ]
        for cur in (cb, ca):
            cur.execute("SET client_min_messages = warning")
        rows = []
        for label, call, floor in calls:
            t = {"before": [], "after": [], "floor": []}
            for _ in range(args.runs):
                t["before"].append(timed(lambda: query(cb, call))[0])
                t["after"].append(timed(lambda: query(ca, call))[0])
                t["floor"].append(timed(lambda: query(ca, floor))[0])
            m = {k: statistics.median(v) for k, v in t.items()}
            rows.append((label, f"{m['before']:.0f}", f"{m['after']:.0f}", f"{m['floor']:.0f}",
                         f"{m['after'] / m['floor']:.1f}x"))
    print("== detect_* before and after, alternated, beside the floor")
    print(context_header(command, date, host))
    print(f"Medians of {args.runs} alternated warm calls.\n")
    print(markdown_table(["call (warm)", "before ms", "after ms", "floor ms", "after / floor"], rows))


if __name__ == "__main__":
    main()
