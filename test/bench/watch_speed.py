#!/usr/bin/python3
"""Live operations under load (issue 17): links sending one row per link per minute, watched by
insight.watch('link') under a real pg_cron, for a given number of minutes.

For each size (--links, e.g. 1000 10000) in a fresh database named by the cluster's
cron.database_name:
  * history: load_demo_data(days => 1, step_seconds => 60) with as many links, and the
    link_anomaly model trained on it (what the watch runs score with);
  * a loader inserts every link's row for the current minute, 30 s into each minute (one
    INSERT ... SELECT of the same minute a day earlier), and at each minute puts --faults
    links that have none into a five-minute fault (latency x8, packet loss +40 points, Es/No
    -10 dB, throughput x0.1);
  * a second session LISTENs on insight_alerts and notes when each 'opened' payload arrives;
  * measured: the watch runs' time per minute of data (insight.watch_runs, wall time of each
    run, which bounds its CPU), as a share of one core; the delay from the commit of a faulty
    link's first row to the NOTIFY of its alert (p50, p99, and how many faults raised one);
    the insert throughput with and without watching (the same minute-batches inserted
    --batches times each way, and single-row INSERTs of one minute).
Goals (issue 17): under 10 % of one core at 10,000 links; delay within one run interval plus
5 s (65 s); insert throughput ratio reported.
"""
import argparse
import datetime
import json
import random
import select
import statistics
import threading
import time
from contextlib import closing

import bench_common as bc

FAULTY = """CASE WHEN m.link_id = ANY (%(faulty)s) THEN {bad} ELSE {good} END"""


def faulted(column, bad):
    return FAULTY.format(bad=bad, good=f"m.{column}")


# One minute of every link (ts), copied from a minute of the history (src), faulty links degraded.
MINUTE = f"""
INSERT INTO insight.link_metrics
SELECT m.link_id, %(ts)s, {faulted('throughput_mbps', 'm.throughput_mbps * 0.1')}, m.utilization,
       m.errors, m.discards, m.uptime_pct,
       {faulted('ib_esno_db', 'm.ib_esno_db - 10')}, {faulted('ob_esno_db', 'm.ob_esno_db - 10')},
       m.ib_grade, m.ob_grade,
       {faulted('ib_packet_loss_pct', 'm.ib_packet_loss_pct + 40')},
       {faulted('ob_packet_loss_pct', 'm.ob_packet_loss_pct + 40')},
       {faulted('latency_ms', 'm.latency_ms * 8')}, m.jitter_ms
  FROM insight.link_metrics m WHERE m.ts = %(src)s"""

FEATURES = ["throughput_mbps", "utilization", "errors", "discards", "uptime_pct",
            "ib_packet_loss_pct", "ob_packet_loss_pct", "throughput_hour_dev", "ib_esno_dev",
            "ob_esno_dev", "latency_dev", "jitter_dev", "errors_dev", "peak_dev"]


def ms(seconds):
    return "—" if seconds is None else f"{seconds * 1000:.0f} ms"


def percentile(values, p):
    values = sorted(values)
    if not values:
        return None
    k = (len(values) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def listen(dsn, stop, received):
    """Collects (arrival time, payload) of every 'opened' NOTIFY until stop is set."""
    with closing(bc.connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute("LISTEN insight_alerts")
        while not stop.is_set():
            if select.select([conn], [], [], 0.5) == ([], [], []):
                continue
            conn.poll()
            now = time.time()
            while conn.notifies:
                payload = json.loads(conn.notifies.pop(0).payload)
                if payload.get("event") == "opened":
                    received.append((now, payload))


def insert_throughput(cur, last, batches):
    """Seconds to insert `batches` minute-batches (INSERT ... SELECT of a history minute), and
    seconds to insert one minute's rows as single-row INSERTs, into a day with no rows; undone
    afterwards (rows and queue)."""
    minute = datetime.timedelta(minutes=1)
    base = last + datetime.timedelta(days=2)
    t0 = time.perf_counter()
    for i in range(batches):
        cur.execute(MINUTE, {"ts": base + i * minute, "src": last - i * minute, "faulty": []})
    bulk = time.perf_counter() - t0
    cur.execute("SELECT * FROM insight.link_metrics WHERE ts = %s", (last,))
    rows = cur.fetchall()
    insert = "INSERT INTO insight.link_metrics VALUES (" + ", ".join(["%s"] * len(rows[0])) + ")"
    single_ts = base + batches * minute
    t0 = time.perf_counter()
    for row in rows:
        cur.execute(insert, (row[0], single_ts) + tuple(row[2:]))
    single = time.perf_counter() - t0
    cur.execute("DELETE FROM insight.link_metrics WHERE ts >= %s", (base,))
    cur.execute("DELETE FROM insight.watch_queue")
    return bulk, single, len(rows)


def run_size(dsn, links, minutes, faults_per_minute, batches):
    remotes = max(1, links // 4)
    result = {"links": remotes * 4}
    with closing(bc.connect(dsn)) as conn, conn.cursor() as cur:
        # A fresh pg_insight in the same database: pg_cron's launcher stays connected to it
        # (dropping the database would stop it, and no job would run for the next size).
        cur.execute("SET client_min_messages = warning")
        cur.execute("DROP EXTENSION IF EXISTS pg_insight CASCADE")
        cur.execute("CREATE EXTENSION pg_insight")
        result["versions"] = {"postgresql": bc.query(cur, "SELECT current_setting('server_version')"),
                              "pg_insight": bc.query(cur, "SELECT insight.version()")}
        ms, _ = bc.timed(lambda: cur.execute(
            "SELECT insight.load_demo_data(days => 1, step_seconds => 60, remotes_per_network => %s)",
            (remotes,)))
        result["history_rows"] = bc.query(cur, "SELECT count(*) FROM insight.link_metrics")
        result["load_ms"] = round(ms)
        # The history ends at the start of this minute; the loader continues from there.
        ms, _ = bc.timed(lambda: cur.execute(
            "SELECT insight.train_anomaly_detector('link_anomaly', 'insight.link_anomaly_features', %s, "
            "contamination => 0.01)", (FEATURES,)))
        result["train_ms"] = round(ms)
        last = bc.query(cur, "SELECT max(ts) FROM insight.link_metrics")

        # Insert throughput: minute-batches and single-row INSERTs, without and with the
        # queueing triggers watch() puts on the table (the job is not running yet).
        bulk_off, single_off, n_single = insert_throughput(cur, last, batches)
        cur.execute("SELECT insight._watch_triggers('link', true)")
        bulk_on, single_on, _ = insert_throughput(cur, last, batches)
        cur.execute("SELECT insight._watch_triggers('link', false)")
        rows = batches * result["links"]
        result["insert"] = {
            "batch_rows": result["links"], "batches": batches,
            "bulk_rows_per_s_unwatched": round(rows / bulk_off), "bulk_rows_per_s_watched": round(rows / bulk_on),
            "bulk_ratio": round(bulk_off / bulk_on, 3),
            "single_rows": n_single,
            "single_rows_per_s_unwatched": round(n_single / single_off),
            "single_rows_per_s_watched": round(n_single / single_on),
            "single_ratio": round(single_off / single_on, 3)}

        # The loader: every minute, 30 s in, that minute's rows.
        job = bc.query(cur, "SELECT insight.watch('link')")
        result["job"] = job
        received, stop = [], threading.Event()
        listener = threading.Thread(target=listen, args=(dsn, stop, received))
        listener.start()
        rng = random.Random(17)
        cur.execute("SELECT link_id FROM insight.links ORDER BY 1")
        all_links = [r[0] for r in cur.fetchall()]
        faulty_until = {}   # link -> minute index its fault ends
        first_fault = {}    # link -> commit time of its first faulty row
        ts = last
        started = time.time()
        for minute in range(minutes):
            ts = ts + datetime.timedelta(minutes=1)
            now = time.time()
            wait = 60 - (now % 60) + 30 if now % 60 > 30 else 30 - now % 60
            time.sleep(wait)
            for link in rng.sample(all_links, faults_per_minute):
                if faulty_until.get(link, -1) < minute and link not in first_fault:
                    faulty_until[link] = minute + 5
            faulty = [l for l, end in faulty_until.items() if end > minute]
            cur.execute(MINUTE, {"ts": ts, "src": ts - datetime.timedelta(days=1), "faulty": faulty})
            committed = time.time()
            for link in faulty:
                first_fault.setdefault(link, committed)
        time.sleep(75)  # the last minute's run
        stop.set()
        listener.join()
        cur.execute("SELECT insight.unwatch('link')")

        cur.execute("""SELECT extract(epoch FROM finished_at - started_at), queued
                         FROM insight.watch_runs WHERE started_at >= to_timestamp(%s) ORDER BY run_id""",
                    (started,))
        runs = [(float(seconds), queued) for seconds, queued in cur.fetchall()]
        busy = sum(seconds for seconds, _ in runs)
        # The first run with rows makes the day's baselines (once a day); the rest is steady.
        with_rows = [seconds for seconds, queued in runs if queued > 0]
        steady = with_rows[1:]
        result["runs"] = {"runs": len(runs), "minutes_of_data": minutes,
                          "rows_queued": sum(q for _, q in runs),
                          "run_seconds_total": round(busy, 2),
                          "first_run_s": round(with_rows[0], 3) if with_rows else None,
                          "steady_median_run_s": round(statistics.median(steady), 3) if steady else None,
                          "longest_run_s": round(max(s for s, _ in runs), 3) if runs else None,
                          "share_of_one_core": round(busy / (minutes * 60), 4),
                          "steady_share_of_one_core": round(sum(steady) / (max(len(steady), 1) * 60), 4)}
        cur.execute("SELECT alert_id, entity_id FROM insight.alerts")
        entity = dict(cur.fetchall())
        delays = []
        for arrived, payload in received:
            link = entity.get(payload["alert_id"])
            if link in first_fault and arrived >= first_fault[link]:
                delays.append(arrived - first_fault[link])
        result["alerts"] = {"faults": len(first_fault), "faults_alerted": len(delays),
                            "opened_payloads": len(received),
                            "other_alerts": len(received) - len(delays),
                            "delay_p50_s": round(percentile(delays, 50), 1) if delays else None,
                            "delay_p99_s": round(percentile(delays, 99), 1) if delays else None,
                            "delay_max_s": round(max(delays), 1) if delays else None}
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True, help="a database of the cluster (for CREATE DATABASE)")
    parser.add_argument("--database", default="watch_bench", help="the cluster's cron.database_name")
    parser.add_argument("--links", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--faults", type=int, default=2, help="links put into a fault each minute")
    parser.add_argument("--batches", type=int, default=20, help="minute-batches for the insert throughput")
    parser.add_argument("--json")
    args = parser.parse_args()
    command, date, host = bc.run_context()
    dsn, _, _ = bc.create_database(args.dsn, args.database, setup=["CREATE EXTENSION pg_cron"])
    results = []
    for n in args.links:
        results.append(run_size(dsn, n, args.minutes, args.faults, args.batches))
        if args.json:  # kept as each size finishes
            with open(args.json, "w") as f:
                json.dump({"command": command, "date": date, "machine": host, "results": results}, f,
                          indent=2, default=str)
    print("== watch('link') under a loader: one row per link per minute, "
          f"{args.minutes} minutes, {args.faults} new faulty links a minute")
    print(bc.context_header(command, date, host))
    print(bc.markdown_table(
        ["links", "runs", "first run (baselines)", "steady run, median", "share of one core (steady)",
         "faults alerted", "other alerts", "delay p50", "delay p99",
         "insert rows/s unwatched → watched (minute batches)", "ratio",
         "single-row INSERTs/s unwatched → watched", "ratio"],
        [[r["links"], r["runs"]["runs"], ms(r["runs"]["first_run_s"]), ms(r["runs"]["steady_median_run_s"]),
          f"{100 * r['runs']['share_of_one_core']:.2f} % ({100 * r['runs']['steady_share_of_one_core']:.2f} %)",
          f"{r['alerts']['faults_alerted']}/{r['alerts']['faults']}", r["alerts"]["other_alerts"],
          f"{r['alerts']['delay_p50_s']} s", f"{r['alerts']['delay_p99_s']} s",
          f"{r['insert']['bulk_rows_per_s_unwatched']:,} → {r['insert']['bulk_rows_per_s_watched']:,}",
          f"{r['insert']['bulk_ratio']:.2f}",
          f"{r['insert']['single_rows_per_s_unwatched']:,} → {r['insert']['single_rows_per_s_watched']:,}",
          f"{r['insert']['single_ratio']:.2f}"] for r in results]))


if __name__ == "__main__":
    main()
