#!/usr/bin/python3
"""What counting model usage (insight.model_usage) costs scoring, measured in the same run.

The cluster must preload pg_insight (shared_preload_libraries), as make bench's does. Counting
is switched per session with insight.track_usage (on: the tally, sampled timing and the flush to
shared memory; off: one branch a call). Runs come in pairs, on-off then off-on (ABBA), and the
overhead is the median of the pairs' ratios: a machine whose speed drifts during the run (this
VM's does, by a factor of two over minutes of pgbench) drifts both sides of a pair alike.

  1M rows      score every row of anomaly_speed.py's table lm (5 features, 100 trees), with
               max_parallel_workers_per_gather = 2 and = 0, the scan alone beside it;
  16 clients   pgbench -c 16, each transaction one anomaly_score call (one row: the flush at the
               end of every statement is the whole per-statement cost), transactions a second.

The script drops and recreates the database "usagebench" next to the one in --dsn.

  test/bench/usage_overhead.py --dsn "host=/tmp/x/socket port=5432 user=postgres dbname=postgres"
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.dont_write_bytecode = True
import bench_common  # noqa: E402
from anomaly_speed import ARRAY, N_TREES, SAMPLE_SIZE, TEXT_ARRAY, create_table  # noqa: E402
from bench_common import connect, context_header, markdown_table, query, run_context, timed  # noqa: E402

DATABASE = "usagebench"
SCORE_SQL = (f"SELECT count(*) FILTER (WHERE s > 0.6) FROM "
             f"(SELECT insight.anomaly_score('lm_model', {ARRAY}) s FROM lm) q")
SCAN_SQL = f"SELECT count(*) FROM lm WHERE {ARRAY} IS NOT NULL"
PGBENCH_SQL = ("SELECT insight.anomaly_score('lm_model', "
               "ARRAY[100 * random(), random(), 3 * random(), random(), 99 + random()])\n")


def order(i):
    """ABBA: pair i runs on then off, or off then on."""
    return ("on", "off") if i % 2 == 0 else ("off", "on")


def one_million(cur, runs):
    """{workers: {"on": [ms], "off": [ms], "scan": [ms]}}: runs pairs, the scan after each."""
    out = {}
    for workers in (2, 0):
        cur.execute(f"SET max_parallel_workers_per_gather = {workers}")
        times = {"on": [], "off": [], "scan": []}
        query(cur, SCORE_SQL)  # warm: the model in this backend's cache, the table in memory
        for i in range(runs):
            for setting in order(i):
                cur.execute(f"SET insight.track_usage = {setting}")
                ms, _ = timed(lambda: query(cur, SCORE_SQL))
                times[setting].append(ms)
            ms, _ = timed(lambda: query(cur, SCAN_SQL))
            times["scan"].append(ms)
        cur.execute("RESET insight.track_usage")
        out[workers] = times
    return out


def pgbench(dsn_parts, clients, seconds, runs, bindir):
    """{"on": [tps], "off": [tps]}: pgbench run pairs."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(PGBENCH_SQL)
        script = f.name
    os.chmod(script, 0o644)
    out = {"on": [], "off": []}
    try:
        for i in range(runs):
            for setting in order(i):
                env = dict(os.environ, PGOPTIONS=f"-c insight.track_usage={setting}")
                cmd = [str(Path(bindir) / "pgbench"), "-n", "-c", str(clients), "-j",
                       str(clients), "-T", str(seconds), "-f", script, "-h", dsn_parts["host"],
                       "-p", dsn_parts["port"], "-U", dsn_parts["user"], DATABASE]
                text = subprocess.run(cmd, env=env, check=True, capture_output=True,
                                      text=True).stdout
                out[setting].append(float(re.search(r"tps = ([\d.]+)", text).group(1)))
    finally:
        os.unlink(script)
    return out


def overhead(slow, fast):
    """Median over pairs of slow / fast - 1, in percent (time on ÷ time off; tps off ÷ tps on):
    the median, because one run in a dozen on this VM takes a third longer whatever it runs."""
    return statistics.median(a / b - 1 for a, b in zip(slow, fast)) * 100


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dsn", required=True, help="libpq DSN of a database in the cluster")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10, help="pairs of runs (default 10)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=8, help="per pgbench run (default 8)")
    parser.add_argument("--bindir", default="/usr/lib/postgresql/15/bin")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    command, date, host = run_context()
    dsn, versions, settings = bench_common.create_database(
        args.dsn, DATABASE, settings=("shared_preload_libraries", "jit", "max_parallel_workers"))
    if "pg_insight" not in settings["shared_preload_libraries"]:
        sys.exit("usage_overhead.py: the cluster must preload pg_insight (shared_preload_libraries)")
    conn = connect(dsn)
    cur = conn.cursor()
    table = create_table(cur, "lm", args.rows)
    query(cur, f"SELECT version FROM insight.train_anomaly_detector('lm_model', 'lm', {TEXT_ARRAY}, "
               f"0.05, {N_TREES}, {SAMPLE_SIZE})")

    print("## Model usage counting: scoring with insight.track_usage on and off\n")
    print(context_header(command, date, host) +
          f"PostgreSQL {versions['postgresql']}, pg_insight {versions['pg_insight']}; "
          + ", ".join(f"{k} {v}" for k, v in settings.items()) + "  \n"
          f"Table lm: {args.rows:,} rows, {table['size']}; {N_TREES} trees; {args.runs} pairs of "
          "runs (on-off, off-on, ...)\n")
    big = one_million(cur, args.runs)
    rows = []
    for workers, t in big.items():
        med = {k: statistics.median(v) for k, v in t.items()}
        rows.append([workers, f"{med['on']:,.0f}", f"{med['off']:,.0f}",
                     f"{overhead(t['on'], t['off']):+.1f} %", f"{med['scan']:,.0f}",
                     f"{med['on'] / med['scan']:.1f}×"])
    print(markdown_table(["workers", "counting on, ms (median)", "off, ms (median)",
                          "overhead (median of pairs)", "scan, ms", "on ÷ scan"], rows))
    cur.execute("SELECT calls, rows_scored, mean_ms FROM insight.model_usage WHERE name = 'lm_model'")
    usage = cur.fetchone()
    print(f"\ninsight.model_usage after these runs: {usage[0]:,} calls, {usage[1]:,} rows, "
          f"mean {usage[2] * 1000:.2f} µs a call\n")
    sys.stdout.flush()

    from psycopg2.extensions import parse_dsn
    parts = parse_dsn(dsn)
    parts.setdefault("port", "5432")
    bench = pgbench(parts, args.clients, args.seconds, args.runs, args.bindir)
    print(markdown_table(
        [f"pgbench -c {args.clients}, one anomaly_score a transaction", "counting on, tps (median)",
         "off, tps (median)", "overhead (median of pairs)"],
        [[f"{args.runs} pairs of {args.seconds} s runs",
          f"{statistics.median(bench['on']):,.0f}", f"{statistics.median(bench['off']):,.0f}",
          f"{overhead(bench['off'], bench['on']):+.1f} %"]]))
    print("\n(overhead: time on ÷ time off − 1 for the 1M rows, tps off ÷ tps on − 1 for pgbench; "
          "each pair's ratio, then their median)")
    conn.close()
    if args.json:
        args.json.write_text(json.dumps({"command": command, "date": date, "machine": host,
                                         "versions": versions, "settings": settings,
                                         "one_million": big, "pgbench": bench}, indent=2) + "\n")


if __name__ == "__main__":
    main()
