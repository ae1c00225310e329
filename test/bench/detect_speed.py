#!/usr/bin/python3
"""Speed of the detect_* functions on the demo data beside the floor, measured in the same run.

For each call a dashboard makes (all links over 24 hours, one link over a day and over 6 hours,
all sites, all networks), with the default baseline of 7 days:

  detect   the call, its first in a new connection (model load, plans, the backend's first
           touch of shared buffers) and then again in that connection (warm);
  floor    a plain SQL scan of the rows the call must read (its window plus its baseline,
           count(*) and the sum of every metric its features use), first and warm the same way.

Each is run --runs times (a new connection each) and reported as the median; the ratio is
detect / floor for first calls and for warm ones. The database in --dsn must hold the demo data
and the default models (scripts/bench loads seed 42 and trains them before calling this).

  test/bench/detect_speed.py --dsn "host=/tmp/x/socket port=5432 user=postgres dbname=postgres"
"""

import argparse
import json
import statistics
import sys
from contextlib import closing

sys.dont_write_bytecode = True  # no __pycache__ in the checkout for the import below
from bench_common import connect, context_header, markdown_table, query, run_context  # noqa: E402
from bench_common import timed  # noqa: E402

LINK_METRICS = ("throughput_mbps + utilization + errors + discards + uptime_pct + ib_esno_db"
                " + ob_esno_db + ib_packet_loss_pct + ob_packet_loss_pct + latency_ms + jitter_ms")
SITE_METRICS = "response_time_ms + error_rate + uptime_pct + cpu_pct + memory_pct"
NETWORK_METRICS = "bandwidth_mbps + packet_loss_pct + latency_ms + error_rate + connections"


def cases(link, until):
    """(label, detect call, floor query) for each measured call."""
    def floor(table, metrics, since, entity=None):
        where = f"ts >= '{until}'::timestamptz - interval '{since}' - interval '7 days'" \
                f" AND ts < '{until}'::timestamptz"
        if entity:
            where += f" AND {entity[0]} = '{entity[1]}'"
        return f"SELECT count(*), sum({metrics}) FROM insight.{table} WHERE {where}"
    return [
        ("detect_link_anomaly() (220 links, 24 h)",
         f"SELECT count(*) FROM insight.detect_link_anomaly(until => '{until}')",
         floor("link_metrics", LINK_METRICS, "24 hours")),
        ("detect_link_anomaly(one link, 24 h)",
         f"SELECT count(*) FROM insight.detect_link_anomaly('{link}', until => '{until}')",
         floor("link_metrics", LINK_METRICS, "24 hours", ("link_id", link))),
        ("detect_link_anomaly(one link, 6 h)",
         f"SELECT count(*) FROM insight.detect_link_anomaly('{link}', since => '6 hours', "
         f"until => '{until}')",
         floor("link_metrics", LINK_METRICS, "6 hours", ("link_id", link))),
        ("detect_site_anomaly() (24 h)",
         f"SELECT count(*) FROM insight.detect_site_anomaly(until => '{until}')",
         floor("site_metrics", SITE_METRICS, "24 hours")),
        ("detect_network_anomaly() (24 h)",
         f"SELECT count(*) FROM insight.detect_network_anomaly(until => '{until}')",
         floor("network_metrics", NETWORK_METRICS, "24 hours")),
    ]


def first_and_warm(dsn, sql):
    """Milliseconds of sql as a new connection's first statement, then of the same again."""
    with closing(connect(dsn)) as conn, conn.cursor() as cur:
        first, _ = timed(lambda: query(cur, sql))
        warm, _ = timed(lambda: query(cur, sql))
    return first, warm


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json")
    args = parser.parse_args()
    command, date, host = run_context()

    with closing(connect(args.dsn)) as conn, conn.cursor() as cur:
        link = query(cur, "SELECT min(link_id) FROM insight.links")
        until = query(cur, "SELECT max(ts) + interval '5 minutes' FROM insight.link_metrics")
        rows = {t: query(cur, f"SELECT count(*) FROM insight.{t}")
                for t in ("link_metrics", "site_metrics", "network_metrics")}

    results = []
    for label, call, floor in cases(link, until):
        timings = {"detect": [], "floor": []}
        for _ in range(args.runs):  # interleaved, so a slow moment hits both sides
            timings["detect"].append(first_and_warm(args.dsn, call))
            timings["floor"].append(first_and_warm(args.dsn, floor))
        med = {side: [statistics.median(t[i] for t in runs) for i in (0, 1)]
               for side, runs in timings.items()}
        results.append({"call": label, "sql": call, "floor_sql": floor,
                        "detect_first_ms": med["detect"][0], "detect_warm_ms": med["detect"][1],
                        "floor_first_ms": med["floor"][0], "floor_warm_ms": med["floor"][1]})

    print("== detect_* speed beside a plain scan of the rows each must read (window + 7-day baseline)")
    print(context_header(command, date, host))
    print(f"Demo data: {rows['link_metrics']:,} link, {rows['site_metrics']:,} site and "
          f"{rows['network_metrics']:,} network rows; medians of {args.runs} runs, each in a new "
          "connection (first call, then warm).\n")
    table = [(r["call"], f"{r['detect_first_ms']:.0f}", f"{r['floor_first_ms']:.0f}",
              f"{r['detect_first_ms'] / r['floor_first_ms']:.1f}x", f"{r['detect_warm_ms']:.0f}",
              f"{r['floor_warm_ms']:.0f}", f"{r['detect_warm_ms'] / r['floor_warm_ms']:.1f}x")
             for r in results]
    print(markdown_table(["call", "first ms", "floor first ms", "ratio", "warm ms",
                          "floor warm ms", "ratio"], table))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"command": command, "date": date, "machine": host, "rows": rows,
                       "runs": args.runs, "results": results}, out, indent=2)


if __name__ == "__main__":
    main()
