#!/usr/bin/python3
"""Speed and memory of pg_insight's Isolation Forest beside PL/Python and a microservice, same run.

On a generated link_metrics table (5 features; 1,000,000 rows by default), all with 100 trees,
sample size 256, contamination 0.05:

  pg_insight   train_anomaly_detector, the isolation_forest_fit aggregate, scoring every row
               (float8[] and row variants, and a write-back CREATE TABLE AS), each with
               max_parallel_workers_per_gather = 2 and = 0, with the EXPLAIN plan shape;
  PL/Python    plpython3u + scikit-learn in the same database: fit and pickle into a table,
               score every row in one call (count of outliers), score and write back;
  microservice psycopg2 fetch → numpy → scikit-learn fit / score_samples → COPY FROM STDIN;
  floor        SELECT sum(...) over the same five columns.

Each timing runs --runs times (median and min). A breakdown isolates where scoring time goes
(scan, ARRAY construction, a model passed as a payload). Memory: the backend's peak RSS during
training on --rows and --big-rows rows (serial plan: parallel workers are other processes),
beside PL/Python's backend and the microservice's process.

The script drops and recreates the database "speedbench" next to the one in --dsn.

  test/bench/anomaly_speed.py --dsn "host=/tmp/x/socket port=5432 user=postgres dbname=postgres" \
      --json anomaly_speed.json
  test/bench/anomaly_speed.py --dsn ... --rows 100000 --skip-big    # quick check
"""

import argparse
import io
import json
import os
import resource
import statistics
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import psycopg2
import sklearn
from sklearn.ensemble import IsolationForest

sys.dont_write_bytecode = True  # no __pycache__ in the checkout for the import below
import bench_common  # noqa: E402
from bench_common import context_header, python_versions  # noqa: E402
from bench_common import connect, markdown_table, query, run_context, timed  # noqa: E402

DATABASE = "speedbench"
FEATURES = ("throughput_mbps", "utilization", "errors", "discards", "uptime_pct")
N_TREES = 100
SAMPLE_SIZE = 256
CONTAMINATION = 0.05
SEED = 42
LINKS = 220
SCORE_CUTOFF = 0.6  # the float8[] scoring variant counts scores above this
WORKER_SETTINGS = (2, 0)  # max_parallel_workers_per_gather

ARRAY = "ARRAY[" + ", ".join(FEATURES) + "]"
TEXT_ARRAY = "ARRAY[" + ", ".join(f"'{f}'" for f in FEATURES) + "]"
TABLE_COLUMNS = "link_id text, ts timestamptz, " + ", ".join(f"{f} float8" for f in FEATURES)
SCORES_COLUMNS = "link_id text, ts timestamptz, s float8"

# pg_insight and the floor: label and SQL over table {t}. train_anomaly_detector runs its
# aggregate through SPI; its plan is that of PG_TRAIN_PLAN_SQL.
PG_QUERIES = {
    "train": ("train_anomaly_detector (writes the catalog)",
              f"SELECT * FROM insight.train_anomaly_detector('lm_model', '{{t}}', {TEXT_ARRAY}, "
              f"{CONTAMINATION}, {N_TREES}, {SAMPLE_SIZE})"),
    "fit_aggregate": ("isolation_forest_fit aggregate (no catalog write; result: payload bytes)",
                      f"SELECT length(insight.isolation_forest_fit({ARRAY}::float8[], {N_TREES}, "
                      f"{SAMPLE_SIZE})) FROM {{t}}"),
    "score_array": (f"score every row, float8[] (count s > {SCORE_CUTOFF})",
                    f"SELECT count(*) FILTER (WHERE s > {SCORE_CUTOFF}) FROM "
                    f"(SELECT insight.anomaly_score('lm_model', {ARRAY}) s FROM {{t}}) q"),
    "score_row": ("score every row, by row (count is_anomaly)",
                  "SELECT count(*) FILTER (WHERE insight.is_anomaly('lm_model', t)) FROM {t} t"),
    "write_back": ("score every row → CREATE TABLE scores_pg AS",
                   f"CREATE TABLE scores_pg AS SELECT link_id, ts, "
                   f"insight.anomaly_score('lm_model', {ARRAY}) AS s FROM {{t}}"),
    "floor": ("floor: SELECT sum(...) of the 5 columns",
              "SELECT " + ", ".join(f"sum({f})" for f in FEATURES) + " FROM {t}"),
}
PG_TRAIN_PLAN_SQL = (f"SELECT insight._isolation_forest_train({ARRAY}::float8[], {N_TREES}, "
                     f"{SAMPLE_SIZE}, {SEED}, {CONTAMINATION}, true) FROM {{t}}")

# Where scoring time goes: the scan alone, plus ARRAY construction, plus scoring a model passed
# as a bytea payload (no catalog lookup), and the write-back with Gather made cheap.
BREAKDOWN_QUERIES = {
    "count": ("SELECT count(*) FROM lm", "SELECT count(*) FROM {t}"),
    "array": ("… WHERE ARRAY[5 columns] IS NOT NULL",
              f"SELECT count(*) FROM {{t}} WHERE {ARRAY} IS NOT NULL"),
    "score_payload": (f"anomaly_score(payload bytea, ARRAY[...]) (count s > {SCORE_CUTOFF})",
                      f"SELECT count(*) FILTER (WHERE insight.anomaly_score(%(model)s::bytea, "
                      f"{ARRAY}) > {SCORE_CUTOFF}) FROM {{t}}"),
    "write_back_cheap_gather": ("write-back with SET parallel_tuple_cost = 0",
                                PG_QUERIES["write_back"][1]),
}

# PL/Python peer: one prelude (imports, the whole-table fetch, the forest) for every function.
# The fetch is one plpy.execute of array_agg per column: PL/Python turns each float8[] into a
# list at once, about three times faster than plpy.execute / plpy.cursor rows (dicts).
PY_PRELUDE = f"""
import pickle
import numpy as np
from sklearn.ensemble import IsolationForest
FEATURES = {list(FEATURES)!r}

def fetch(table, keys=False):
    cols = (["link_id", "ts"] if keys else []) + FEATURES
    row = plpy.execute("SELECT " + ", ".join("array_agg(%s) AS %s" % (c, c) for c in cols)
                       + " FROM " + plpy.quote_ident(table))[0]
    return np.column_stack([np.asarray(row[c], dtype=np.float64) for c in FEATURES]), row

def load_forest(name):
    plan = plpy.prepare("SELECT payload FROM py_models WHERE name = $1", ["text"])
    return pickle.loads(plpy.execute(plan, [name])[0]["payload"])
"""
PY_FUNCTIONS = {
    "py_fit(model text, source text) RETURNS bigint": f"""
X, _ = fetch(source)
forest = IsolationForest(n_estimators={N_TREES}, max_samples={SAMPLE_SIZE},
                         contamination={CONTAMINATION}, random_state={SEED}).fit(X)
plan = plpy.prepare("INSERT INTO py_models VALUES ($1, $2) ON CONFLICT (name) DO UPDATE "
                    "SET payload = excluded.payload", ["text", "bytea"])
plpy.execute(plan, [model, pickle.dumps(forest)])
return len(X)
""",
    "py_score_count(model text, source text) RETURNS bigint": """
forest = load_forest(model)
X, _ = fetch(source)
return int((forest.predict(X) == -1).sum())
""",
    # Write-back: keys and scores go back as three arrays in one INSERT ... unnest, faster
    # than a set-returning function yielding a million tuples.
    "py_score_write(model text, source text, target text) RETURNS bigint": """
forest = load_forest(model)
X, row = fetch(source, keys=True)
scores = -forest.score_samples(X)
plan = plpy.prepare("INSERT INTO " + plpy.quote_ident(target)
                    + " SELECT * FROM unnest($1, $2::timestamptz[], $3)",
                    ["text[]", "text[]", "float8[]"])
return plpy.execute(plan, [row["link_id"], row["ts"], scores.tolist()]).nrows()
""",
}
PY_IMPORT_SQL = "DO LANGUAGE plpython3u $$import sklearn.ensemble$$"


# ---------------------------------------------------------------- helpers

def stats(ms_list):
    return {"median": statistics.median(ms_list), "min": min(ms_list), "runs": ms_list}


def fmt_ms(s):
    return f"{s['median']:,.0f} ({s['min']:,.0f})"


def fmt_ratio(a, b):
    return f"{a / b:,.1f}×"


def fmt_result(value):
    if value is None:
        return "—"
    return f"{value:,.4g}" if isinstance(value, float) else f"{value:,}"


def mib(kb):
    return f"{kb / 1024:,.1f}"


def load_and_activity(cur):
    """Load average and other active backends in the cluster: what else competes for CPUs."""
    others = query(cur, "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                        "AND backend_type IN ('client backend', 'parallel worker') "
                        "AND pid <> pg_backend_pid()")
    return {"loadavg": Path("/proc/loadavg").read_text().split()[:3], "other_active_backends": others}


def proc_status(pid):
    """VmHWM, VmRSS, RssAnon and RssShmem of a process, in kB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS", "RssAnon", "RssShmem"):
            fields[key] = int(value.split()[0])
    return fields


class PeakSampler:
    """Samples a process's RssAnon every few milliseconds while the block runs."""

    def __init__(self, pid, interval=0.005):
        self.pid, self.interval, self.peak_anon = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak_anon = max(self.peak_anon, proc_status(self.pid)["RssAnon"])
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_anon = max(self.peak_anon, proc_status(self.pid)["RssAnon"])


def plan_shape(cur, sql, params=None):
    """The first-child chain of an EXPLAIN (COSTS OFF) plan, e.g. 'Gather (2 workers) → ...'."""
    raw = query(cur, "EXPLAIN (COSTS OFF, FORMAT JSON) " + sql, params)
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    nodes = []
    while plan:
        name = plan["Node Type"]
        if plan.get("Partial Mode", "Simple") != "Simple":
            name = f"{plan['Partial Mode']} {name}"
        if plan.get("Parallel Aware"):
            name = f"Parallel {name}"
        if "Workers Planned" in plan:
            name += f" ({plan['Workers Planned']} workers)"
        if "Relation Name" in plan:
            name += f" on {plan['Relation Name']}"
        nodes.append(name)
        plan = (plan.get("Plans") or [None])[0]
    return " → ".join(nodes)


# ---------------------------------------------------------------- setup

def create_database(admin_dsn):
    """The benchmark's database, with PL/Python and the peer's functions beside pg_insight."""
    setup = ["CREATE EXTENSION plpython3u",
             "CREATE TABLE py_models (name text PRIMARY KEY, payload bytea)"]
    setup += [f"CREATE FUNCTION {signature} LANGUAGE plpython3u AS $py${PY_PRELUDE}{body}$py$"
              for signature, body in PY_FUNCTIONS.items()]
    return bench_common.create_database(
        admin_dsn, DATABASE, setup,
        settings=("shared_buffers", "work_mem", "jit", "max_parallel_workers"))


def create_table(cur, name, rows):
    """LINKS links sampled every 5 minutes; about 1% of rows degraded. Deterministic (setseed);
    the subquery keeps each random() a separate draw (volatile: not pulled up)."""
    query(cur, "SELECT setseed(0.42)")
    cur.execute(f"CREATE TABLE {name} ({TABLE_COLUMNS})")
    ms, _ = timed(lambda: cur.execute(f"""
        INSERT INTO {name}
        SELECT 'link-' || lpad((g % {LINKS})::text, 3, '0'),
               timestamptz '2025-01-01 00:00:00+00' + (g / {LINKS}) * interval '5 minutes',
               CASE WHEN bad THEN 0.1 ELSE 1 END * (100 + g % {LINKS}) * (0.8 + 0.4 * r1),
               CASE WHEN bad THEN 0.99 ELSE 0.2 + 0.6 * r2 END,
               floor(-2 * ln(1 - r3)) + CASE WHEN bad THEN 50 ELSE 0 END,
               floor(-ln(1 - r4)) + CASE WHEN bad THEN 20 ELSE 0 END,
               100 - abs(0.5 * ln(1 - r5)) - CASE WHEN bad THEN 5 ELSE 0 END
          FROM (SELECT g, random() < 0.01 AS bad, random() AS r1, random() AS r2, random() AS r3,
                       random() AS r4, random() AS r5
                  FROM generate_series(0, {rows - 1}) g) s"""))
    cur.execute(f"VACUUM (ANALYZE) {name}")
    size = query(cur, f"SELECT pg_size_pretty(pg_table_size('{name}'))")
    return {"rows": rows, "generate_ms": ms, "size": size}


# ---------------------------------------------------------------- pg_insight and the floor

def measure_pg(cur, runs, workers, payload):
    cur.execute(f"SET max_parallel_workers_per_gather = {workers}")
    out = {}
    for key, (label, sql) in {**PG_QUERIES, **BREAKDOWN_QUERIES}.items():
        sql = sql.format(t="lm")
        params = {"model": psycopg2.Binary(payload)} if "%(model)s" in sql else None
        cheap_gather = key == "write_back_cheap_gather"
        writes = sql.startswith("CREATE TABLE scores_pg")  # EXPLAIN, too, fails if it exists
        if cheap_gather:
            cur.execute("SET parallel_tuple_cost = 0")
        if writes:
            cur.execute("DROP TABLE IF EXISTS scores_pg")
        plan = plan_shape(cur, PG_TRAIN_PLAN_SQL.format(t="lm") if key == "train" else sql, params)
        times, result = [], None
        for _ in range(runs):
            if writes:
                cur.execute("DROP TABLE IF EXISTS scores_pg")
            ms, result = timed(lambda: query(cur, sql, params))
            times.append(ms)
        if cheap_gather:
            cur.execute("RESET parallel_tuple_cost")
        out[key] = {"label": label, "plan": plan, "result": result if key != "train" else None,
                    **stats(times)}
    return out


def model_payload(cur):
    return bytes(query(cur, f"SELECT insight.isolation_forest_fit({ARRAY}::float8[], {N_TREES}, "
                            f"{SAMPLE_SIZE}) FROM lm"))


# ---------------------------------------------------------------- PL/Python peer

def measure_plpython(cur, runs):
    import_ms, _ = timed(lambda: cur.execute(PY_IMPORT_SQL))
    steps = {
        "train": (None, "SELECT py_fit('lm_model', 'lm')"),
        "score_count": (None, "SELECT py_score_count('lm_model', 'lm')"),
        "write_back": ("DROP TABLE IF EXISTS scores_py",
                       f"CREATE TABLE scores_py ({SCORES_COLUMNS}); "
                       "SELECT py_score_write('lm_model', 'lm', 'scores_py')"),
    }
    out = {"import_ms": import_ms}
    for key, (reset, sql) in steps.items():
        times, result = [], None
        for _ in range(runs):
            if reset:
                cur.execute(reset)
            ms, result = timed(lambda: query(cur, sql))
            times.append(ms)
        out[key] = {"result": result, **stats(times)}
    return out


# ---------------------------------------------------------------- microservice peer

def fetch_features(cur, table, keys):
    cols = (["link_id", "ts"] if keys else []) + list(FEATURES)
    cur.execute(f"SELECT {', '.join(cols)} FROM {table}")
    rows = cur.fetchall()
    first = 2 if keys else 0
    X = np.array([r[first:] for r in rows], dtype=np.float64)
    return X, rows


def new_forest(contamination=CONTAMINATION):
    return IsolationForest(n_estimators=N_TREES, max_samples=SAMPLE_SIZE,
                           contamination=contamination, random_state=SEED)


def write_scores(cur, rows, scores):
    buf = io.StringIO("".join(f"{r[0]}\t{r[1].isoformat()}\t{s!r}\n"
                              for r, s in zip(rows, scores.tolist())))
    cur.execute(f"CREATE TABLE scores_ms ({SCORES_COLUMNS})")
    cur.copy_expert("COPY scores_ms FROM STDIN", buf)


def measure_microservice(dsn, runs):
    """fetch (keys + features) → fit → score_samples → COPY back, timed phase by phase.
    'fit, contamination=auto' shows what fit costs without scikit-learn's threshold pass
    (with a contamination it scores the whole training set to place offset_)."""
    phases = {k: [] for k in ("fetch", "fit", "fit_auto", "score", "write")}
    result = None
    with closing(connect(dsn)) as conn, conn.cursor() as cur:
        for _ in range(runs):
            ms, (X, rows) = timed(lambda: fetch_features(cur, "lm", keys=True))
            phases["fetch"].append(ms)
            ms, forest = timed(lambda: new_forest().fit(X))
            phases["fit"].append(ms)
            phases["fit_auto"].append(timed(lambda: new_forest("auto").fit(X))[0])
            ms, raw = timed(lambda: forest.score_samples(X))
            result = int((raw < forest.offset_).sum())
            phases["score"].append(ms)
            cur.execute("DROP TABLE IF EXISTS scores_ms")
            phases["write"].append(timed(lambda: write_scores(cur, rows, -raw))[0])
    p = {k: np.array(v) for k, v in phases.items()}
    composite = {"train": p["fetch"] + p["fit"],
                 "score_count": p["fetch"] + p["score"],
                 "write_back": p["fetch"] + p["score"] + p["write"],
                 "total": p["fetch"] + p["fit"] + p["score"] + p["write"]}
    out = {f"phase_{k}": stats(v) for k, v in phases.items()}
    out.update({k: stats(v.tolist()) for k, v in composite.items()})
    out["score_count"]["result"] = result
    return out


# ---------------------------------------------------------------- memory

def backend_memory(dsn, sql, prepare=None):
    """A fresh serial backend without JIT: VmHWM after sql minus VmHWM after a trivial query
    (and prepare), the shared memory it mapped meanwhile, and the peak RssAnon sampled while sql
    runs minus RssAnon before. JIT is off because the 10M-row plans cross jit_above_cost and
    LLVM's per-query compile memory and mapped libraries would blur the data path."""
    with closing(connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute("SET max_parallel_workers_per_gather = 0")
        cur.execute("SET jit = off")
        if prepare:
            cur.execute(prepare)
        pid = query(cur, "SELECT pg_backend_pid()")
        before = proc_status(pid)
        with PeakSampler(pid) as sampler:
            ms, _ = timed(lambda: query(cur, sql))
        after = proc_status(pid)
    return {"ms": ms, "vmhwm_delta_kb": after["VmHWM"] - before["VmHWM"],
            "shmem_delta_kb": after["RssShmem"] - before["RssShmem"],
            "anon_peak_delta_kb": sampler.peak_anon - before["RssAnon"]}


def microservice_memory(dsn, table):
    """Runs in a fresh interpreter: RSS for holding the fetched rows, and the fit's peak on top."""
    with closing(connect(dsn)) as conn, conn.cursor() as cur:
        base = proc_status(os.getpid())
        ms_fetch, (X, _rows) = timed(lambda: fetch_features(cur, table, keys=False))
        fetched = proc_status(os.getpid())
        with PeakSampler(os.getpid()) as sampler:
            ms, _ = timed(lambda: new_forest().fit(X))
    return {"fetch_ms": ms_fetch, "fit_ms": ms, "data_anon_kb": fetched["RssAnon"] - base["RssAnon"],
            "fit_anon_peak_delta_kb": sampler.peak_anon - fetched["RssAnon"],
            "process_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def measure_memory(dsn, rows, big_rows):
    tables = {rows: "lm", **({big_rows: "lm10"} if big_rows else {})}
    out = {key: {n: backend_memory(dsn, PG_QUERIES[key][1].format(t=t)) for n, t in tables.items()}
           for key in ("train", "floor")}
    out["plpython_fit"] = {rows: backend_memory(dsn, "SELECT py_fit('mem_model', 'lm')",
                                                prepare=PY_IMPORT_SQL)}
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        out["microservice_fit"] = {rows: pool.submit(microservice_memory, dsn, "lm").result()}
    return out


# ---------------------------------------------------------------- report

def print_pg(pg, rows):
    print(f"### pg_insight in SQL, {rows:,} rows: median (min) ms of {len(pg[2]['floor']['runs'])} runs\n")
    headers = ["operation", "result", "workers=2", "÷ floor", "parallel", "workers=0", "÷ floor"]
    table = []
    for key in list(PG_QUERIES) + list(BREAKDOWN_QUERIES):
        w2, w0 = pg[2][key], pg[0][key]
        table.append([w2["label"] if key in PG_QUERIES else "breakdown: " + w2["label"],
                      fmt_result(w2["result"]),
                      fmt_ms(w2), fmt_ratio(w2["median"], pg[2]["floor"]["median"]),
                      "yes" if "Gather" in w2["plan"] else "no",
                      fmt_ms(w0), fmt_ratio(w0["median"], pg[0]["floor"]["median"])])
    print(markdown_table(headers, table))
    print("\nPlans with workers=2 (EXPLAIN, COSTS OFF; training: its internal aggregate query):\n")
    for key in list(PG_QUERIES) + list(BREAKDOWN_QUERIES):
        print(f"- {key}: {pg[2][key]['plan']}")
    print()


def print_peers(pg, py, ms, rows):
    print(f"### Peers beside pg_insight, {rows:,} rows: median (min) ms\n")
    tasks = {"train": ("train", "fit + store model (microservice: fetch + fit, model kept in memory)"),
             "score_count": ("score_array", "score every row → count of outliers"),
             "write_back": ("write_back", "score every row → write back into a new table")}
    headers = ["task", "pg_insight w=2", "pg_insight w=0", "PL/Python", "microservice",
               "PL/Python ÷ pg w=2 (w=0)", "microservice ÷ pg w=2 (w=0)"]
    table = []
    for key, (pg_key, label) in tasks.items():
        w2, w0 = pg[2][pg_key], pg[0][pg_key]
        table.append([label, fmt_ms(w2), fmt_ms(w0), fmt_ms(py[key]), fmt_ms(ms[key]),
                      f"{fmt_ratio(py[key]['median'], w2['median'])} "
                      f"({fmt_ratio(py[key]['median'], w0['median'])})",
                      f"{fmt_ratio(ms[key]['median'], w2['median'])} "
                      f"({fmt_ratio(ms[key]['median'], w0['median'])})"])
    print(markdown_table(headers, table))
    print(f"\nOutliers counted: PL/Python {py['score_count']['result']:,}, microservice "
          f"{ms['score_count']['result']:,} (predict = -1); pg_insight float8[] s > {SCORE_CUTOFF}: "
          f"{pg[2]['score_array']['result']:,}, is_anomaly: {pg[2]['score_row']['result']:,}. "
          f"PL/Python imports scikit-learn once per backend: {py['import_ms']:,.0f} ms (not timed above). "
          "PL/Python fetches with one plpy.execute of array_agg per column and writes back with one "
          "INSERT ... SELECT unnest($1, $2, $3) of three arrays; the microservice fetches with "
          "cursor.fetchall() and writes with COPY FROM STDIN.\n")
    print("Microservice phases (one fetch per run):\n")
    labels = {"fetch": "psycopg2 fetch (keys + 5 features) → numpy",
              "fit": f"IsolationForest.fit, contamination={CONTAMINATION}",
              "fit_auto": "IsolationForest.fit, contamination='auto' (no threshold pass; context)",
              "score": "score_samples over every row",
              "write": "COPY FROM STDIN of (link_id, ts, score)"}
    print(markdown_table(["phase", "median (min) ms"],
                         [[label, fmt_ms(ms[f"phase_{k}"])] for k, label in labels.items()]
                         + [["total (fetch + fit + score + write)", fmt_ms(ms["total"])]]))
    print()


def print_memory(mem):
    print("### Memory (serial plan, jit off, fresh connection per measurement), MiB\n")
    headers = ["process", "rows", "VmHWM Δ", "of it shared (RssShmem Δ)", "peak RssAnon Δ", "ms"]
    table = []
    names = {"train": "backend: train_anomaly_detector",
             "floor": "backend: floor SELECT sum(...) (scan-only reference)",
             "plpython_fit": "backend: PL/Python py_fit (after import)"}
    for key, label in names.items():
        for n, m in mem[key].items():
            table.append([label, f"{n:,}", mib(m["vmhwm_delta_kb"]), mib(m["shmem_delta_kb"]),
                          mib(m["anon_peak_delta_kb"]), f"{m['ms']:,.0f}"])
    for n, m in mem["microservice_fit"].items():
        table.append(["microservice: fetched rows held (fetch)", f"{n:,}", "—", "—",
                      mib(m["data_anon_kb"]), f"{m['fetch_ms']:,.0f}"])
        table.append(["microservice: fit, on top of the held rows", f"{n:,}", "—", "—",
                      mib(m["fit_anon_peak_delta_kb"]), f"{m['fit_ms']:,.0f}"])
        table.append(["microservice: whole process, peak RSS (ru_maxrss, absolute)", f"{n:,}",
                      mib(m["process_maxrss_kb"]), "—", "—", "—"])
    print(markdown_table(headers, table))
    print("\nVmHWM Δ: peak RSS after the statement minus peak RSS after connecting and a trivial "
          "query; it includes the shared buffers the backend touched (at most shared_buffers, as "
          "the floor shows). Peak RssAnon Δ: private memory, sampled every 5 ms.\n")


# ---------------------------------------------------------------- main

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dsn", required=True,
                        help=f"libpq connection string; the script uses database {DATABASE} beside it")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of table lm (default 1,000,000)")
    parser.add_argument("--big-rows", type=int, default=10_000_000,
                        help="rows of table lm10 for the memory figure (default 10,000,000)")
    parser.add_argument("--skip-big", action="store_true", help="skip the --big-rows table")
    parser.add_argument("--runs", type=int, default=3, help="runs per timing (default 3)")
    parser.add_argument("--json", type=Path, help="write a JSON summary to this path")
    args = parser.parse_args()
    if args.rows < SAMPLE_SIZE or args.big_rows < SAMPLE_SIZE or args.runs < 1:
        parser.error(f"--rows and --big-rows must be at least {SAMPLE_SIZE}, --runs at least 1")
    return args


def main():
    args = parse_args()
    started = time.perf_counter()
    command, date, host = run_context()
    dsn, versions, settings = create_database(args.dsn)
    conn = connect(dsn)
    cur = conn.cursor()
    activity_start = load_and_activity(cur)
    tables = {"lm": create_table(cur, "lm", args.rows)}

    print("## Anomaly-detection speed: pg_insight beside PL/Python and a microservice\n")
    print(context_header(command, date, host) +
          f"PostgreSQL {versions['postgresql']}, pg_insight {versions['pg_insight']}, " +
          python_versions(("scikit-learn", sklearn), ("numpy", np)) + "  \n"
          f"Settings: " + ", ".join(f"{k} {v}" for k, v in settings.items()) + "  \n"
          f"At start: load average {' '.join(activity_start['loadavg'])}, "
          f"{activity_start['other_active_backends']} other active backends in the cluster  \n"
          f"Table lm: {args.rows:,} rows, {tables['lm']['size']}, generated in "
          f"{tables['lm']['generate_ms']:,.0f} ms; {N_TREES} trees, sample size {SAMPLE_SIZE}, "
          f"contamination {CONTAMINATION} everywhere\n")
    sys.stdout.flush()

    payload = model_payload(cur)
    pg = {w: measure_pg(cur, args.runs, w, payload) for w in WORKER_SETTINGS}
    print_pg(pg, args.rows)
    cur.execute("SET max_parallel_workers_per_gather = 2")
    py = measure_plpython(cur, args.runs)
    ms = measure_microservice(dsn, args.runs)
    print_peers(pg, py, ms, args.rows)
    sys.stdout.flush()

    big_rows = None if args.skip_big else args.big_rows
    if big_rows:
        tables["lm10"] = create_table(cur, "lm10", big_rows)
        print(f"Table lm10: {big_rows:,} rows, {tables['lm10']['size']}, generated in "
              f"{tables['lm10']['generate_ms']:,.0f} ms\n")
    mem = measure_memory(dsn, args.rows, big_rows)
    print_memory(mem)

    activity_end = load_and_activity(cur)
    conn.close()
    total_s = time.perf_counter() - started
    print(f"At end: load average {' '.join(activity_end['loadavg'])}, "
          f"{activity_end['other_active_backends']} other active backends. "
          f"Total run time {total_s:,.0f} s.")
    if args.json:
        summary = {"command": command, "date": date, "machine": host, "versions": versions,
                   "settings": settings, "activity": {"start": activity_start, "end": activity_end},
                   "tables": tables, "pg_insight": {f"workers_{w}": r for w, r in pg.items()},
                   "plpython": py, "microservice": ms,
                   "memory": {k: {str(n): m for n, m in v.items()} for k, v in mem.items()},
                   "total_s": total_s}
        args.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
