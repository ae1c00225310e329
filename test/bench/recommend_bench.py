#!/usr/bin/python3
"""Recommendations on real data: pg_insight beside the Python service's recipe, same run.

Data: UCI Online Retail I (online_retail/online_retail_I_clean.csv.gz of the shared data
directory, read at run time), lines with a customer id only (CustomerID 0 = unknown is
dropped): user = CustomerID, item = StockCode, one row per invoice line. Loaded into table
retail(ts timestamp, user_id text, product_id text, quantity int) of the database
"recommendbench" (dropped and recreated next to the one in --dsn).

Accuracy (time-based split, k = 10, every user's last 20 % of lines by time held out, whole
baskets — see insight.evaluate_recommender): for each pg_insight algorithm
    SELECT * FROM insight.evaluate_recommender('retail', 'user_id', 'product_id', 'ts', <alg>, 10, 0.2)
(its 'popularity' rows are the reference), and on the very same split, computed here in Python:
    scikit-learn TruncatedSVD   the service's recipe: TruncatedSVD(64, random_state=0) of the
                                users × items purchase-count matrix, score = U·Σ·Vᵀ
    scikit-learn user-based CF  cosine_similarity of users' count vectors, score = S·R (all
                                users as neighbours), the other recipe such services use
    python popularity           a cross-check of the split and the metric code: must equal
                                pg_insight's popularity rows (same ties: item id order)
Relevant items = a user's held-out items not bought in their training part; seen items are
excluded from every list. Metrics as in docs/reference.md (evaluate_recommender).

Speed: train_recommender on all lines (default 'als', 64 factors, 15 iterations, and 'svd'),
beside the TruncatedSVD fit (the Python side's matrix building not counted); recommend() latency for 1,000 users (p50/p99, one prepared statement per call
through psycopg2 over the Unix socket, model cached after the first call); top-10 for every
user in one statement (LATERAL) beside the recipe's scoring of every user; the model's
payload size.

Prints markdown to stdout; --json writes a summary.

  test/bench/recommend_bench.py --dsn "host=/tmp/x/socket port=5432 user=postgres dbname=postgres" \\
      --json recommend.json
  test/bench/recommend_bench.py --python-only       # no database needed
"""

import argparse
import io
import json
import sys
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import sklearn
from sklearn.decomposition import TruncatedSVD
from sklearn.metrics.pairwise import cosine_similarity

sys.dont_write_bytecode = True  # no __pycache__ in the checkout for the import below
from bench_common import context_header, python_versions  # noqa: E402
from bench_common import (DEFAULT_DATA, RETAIL_FILE, connect, create_database,  # noqa: E402
                          markdown_table, run_context, timed)

DATABASE = "recommendbench"
K = 10
TEST_FRACTION = 0.2
FACTORS = 64
ALGORITHMS = ("als", "item_knn", "user_knn", "svd")
METRICS = ("ndcg_at_k", "recall_at_k", "precision_at_k", "map_at_k", "coverage")
LATENCY_USERS = 1000


def load_retail(data_dir):
    raw = pd.read_csv(data_dir / RETAIL_FILE,
                      usecols=["StockCode", "Quantity", "InvoiceDate", "CustomerID"],
                      dtype={"StockCode": str, "Quantity": np.int64, "CustomerID": np.int64})
    raw = raw[raw["CustomerID"] != 0]
    return pd.DataFrame({
        "ts": pd.to_datetime(raw["InvoiceDate"], format="%Y-%m-%d %H:%M:%S"),
        "user_id": raw["CustomerID"].astype(str),
        "product_id": raw["StockCode"],
        "quantity": raw["Quantity"],
    }).reset_index(drop=True)


# ---------------------------------------------------------------- the split and the metrics

def split(frame, fraction=TEST_FRACTION):
    """is_test per row: per user, rows sorted by (ts, product_id); the cut is the time of the
    row at position floor((1 - fraction) * n); rows at or after it are the test part, unless
    the cut is the user's first time (then all rows train)."""
    f = frame.sort_values(["user_id", "ts", "product_id"], kind="mergesort")
    pos = f.groupby("user_id").cumcount().to_numpy()
    n = f.groupby("user_id")["ts"].transform("size").to_numpy()
    cut_pos = np.floor((1.0 - fraction) * n).astype(np.int64)
    ts = f["ts"].to_numpy()
    # time of the row at cut_pos within each user: the first row's index + cut_pos
    first_index = np.arange(len(f)) - pos
    cut_time = ts[np.minimum(first_index + cut_pos, len(f) - 1)]
    first_time = ts[first_index]
    has_test = (cut_pos < n) & (cut_time > first_time)
    is_test = has_test & (ts >= cut_time)
    out = pd.Series(False, index=frame.index)
    out.loc[f.index] = is_test
    return out.to_numpy()


def score_list(recs, relevant, k=K):
    hits, dcg, sum_prec = 0, 0.0, 0.0
    for r, item in enumerate(recs[:k]):
        if item in relevant:
            hits += 1
            dcg += 1.0 / np.log2(r + 2)
            sum_prec += hits / (r + 1)
    ideal = min(k, len(relevant))
    idcg = sum(1.0 / np.log2(r + 2) for r in range(ideal))
    return (hits / k, hits / len(relevant), dcg / idcg if idcg else 0.0,
            sum_prec / ideal if ideal else 0.0)


class Split:
    def __init__(self, frame):
        test_mask = split(frame)
        train, test = frame[~test_mask], frame[test_mask]
        self.train_rows, self.test_rows = len(train), len(test)
        self.users = np.array(sorted(train["user_id"].unique()))
        self.items = np.array(sorted(train["product_id"].unique()))
        uix = {u: i for i, u in enumerate(self.users)}
        iix = {it: i for i, it in enumerate(self.items)}
        pairs = train.groupby(["user_id", "product_id"]).size().reset_index(name="count")
        self.matrix = sp.csr_matrix(
            (pairs["count"].to_numpy(dtype=np.float64),
             (pairs["user_id"].map(uix).to_numpy(), pairs["product_id"].map(iix).to_numpy())),
            shape=(len(self.users), len(self.items)))
        seen = train.groupby("user_id")["product_id"].agg(set)
        self.targets = []  # (user index or None, relevant item ids)
        for user, items in test.groupby("user_id")["product_id"]:
            relevant = set(items) - seen.get(user, set())
            if relevant:
                self.targets.append((uix.get(user), relevant))
        self.uix, self.iix = uix, iix

    def evaluate(self, score_users):
        """score_users(user indices) → dense scores (len × items); seen items excluded, top K."""
        popular = np.asarray((self.matrix > 0).sum(axis=0)).ravel()
        pop_order = np.lexsort((np.arange(len(self.items)), -popular))
        sums = np.zeros(4)
        recommended = set()
        known = [t for t in self.targets if t[0] is not None]
        batch = 512
        for start in range(0, len(known), batch):
            chunk = known[start:start + batch]
            idx = np.array([u for u, _ in chunk])
            scores = np.asarray(score_users(idx), dtype=np.float64)
            seen = self.matrix[idx]
            scores[seen.nonzero()] = -np.inf
            for row, (_, relevant) in enumerate(chunk):
                s = scores[row]
                top = np.lexsort((np.arange(len(s)), -s))[:K]
                recs = list(self.items[top])
                recommended.update(recs)
                sums += score_list(recs, relevant)
        for user, relevant in self.targets:
            if user is None:
                recs = list(self.items[pop_order[:K]])
                recommended.update(recs)
                sums += score_list(recs, relevant)
        n = len(self.targets)
        return dict(zip(("precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k"), sums / n),
                    coverage=len(recommended) / len(self.items), users=n)


def python_recipes(frame):
    ms, s = timed(lambda: Split(frame))
    results = {"split_ms": ms, "train_rows": s.train_rows, "test_rows": s.test_rows}
    popular = np.asarray((s.matrix > 0).sum(axis=0)).ravel().astype(np.float64)
    ms, m = timed(lambda: s.evaluate(lambda idx: np.tile(popular, (len(idx), 1))))
    results["python popularity"] = dict(m, ms=ms)

    def svd():
        model = TruncatedSVD(n_components=FACTORS, random_state=0)
        user_f = model.fit_transform(s.matrix)
        return s.evaluate(lambda idx: user_f[idx] @ model.components_)
    ms, m = timed(svd)
    results["scikit-learn TruncatedSVD"] = dict(m, ms=ms)

    def user_cf():
        sim = cosine_similarity(s.matrix, dense_output=False)
        return s.evaluate(lambda idx: (sim[idx] @ s.matrix).toarray())
    ms, m = timed(user_cf)
    results["scikit-learn user-based CF"] = dict(m, ms=ms)
    return results


# ---------------------------------------------------------------- speed of the Python recipe

def fetch_pairs(dsn):
    """The microservice's first step: fetch the purchase lines over the wire."""
    with closing(connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute("SELECT user_id, product_id FROM retail")
        return pd.DataFrame(cur.fetchall(), columns=["user_id", "product_id"])


def python_speed(frame, dsn=None):
    out = {}
    if dsn:
        out["fetch_ms"], frame = timed(lambda: fetch_pairs(dsn))
    start = time.perf_counter()
    pairs = frame.groupby(["user_id", "product_id"]).size().reset_index(name="count")
    users = np.array(sorted(pairs["user_id"].unique()))
    items = np.array(sorted(pairs["product_id"].unique()))
    matrix = sp.csr_matrix(
        (pairs["count"].to_numpy(dtype=np.float64),
         (pd.Categorical(pairs["user_id"], categories=users).codes,
          pd.Categorical(pairs["product_id"], categories=items).codes)),
        shape=(len(users), len(items)))
    out["build_ms"] = (time.perf_counter() - start) * 1000.0
    model = TruncatedSVD(n_components=FACTORS, random_state=0)
    out["fit_ms"], user_f = timed(lambda: model.fit_transform(matrix))
    out["train_ms"] = out.get("fetch_ms", 0.0) + out["build_ms"] + out["fit_ms"]

    def top10_all():
        tops = []
        for start in range(0, len(users), 512):
            scores = user_f[start:start + 512] @ model.components_
            seen = matrix[start:start + 512]
            scores[seen.nonzero()] = -np.inf
            tops.append(np.argpartition(-scores, K, axis=1)[:, :K])
        return np.vstack(tops)
    out["all_users_ms"], _ = timed(top10_all)
    sample = users[:LATENCY_USERS]
    lat = []
    for u in sample:
        t0 = time.perf_counter()
        i = np.searchsorted(users, u)
        s = user_f[i] @ model.components_
        s[matrix[i].indices] = -np.inf
        np.argpartition(-s, K)[:K]
        lat.append((time.perf_counter() - t0) * 1000.0)
    out["p50_ms"], out["p99_ms"] = float(np.percentile(lat, 50)), float(np.percentile(lat, 99))
    out["users"], out["items"], out["pairs"] = len(users), len(items), matrix.nnz
    return out


# ---------------------------------------------------------------- database

def load_table(cur, frame):
    cur.execute("SET TimeZone = 'UTC'")
    cur.execute("CREATE TABLE retail (ts timestamp, user_id text, product_id text, quantity int)")
    buf = io.StringIO()
    frame[["ts", "user_id", "product_id", "quantity"]].to_csv(
        buf, index=False, header=False, date_format="%Y-%m-%d %H:%M:%S")
    buf.seek(0)
    ms, _ = timed(lambda: cur.copy_expert("COPY retail FROM STDIN WITH (FORMAT csv)", buf))
    cur.execute("ANALYZE retail")
    return ms


def pg_accuracy(cur):
    out = {}
    for algorithm in ALGORITHMS:
        ms, _ = timed(lambda: cur.execute(
            "SELECT algorithm, metric, value FROM insight.evaluate_recommender("
            "'retail', 'user_id', 'product_id', 'ts', %s, %s, %s)", (algorithm, K, TEST_FRACTION)))
        for alg, metric, value in cur.fetchall():
            out.setdefault(alg, {})[metric] = value
        out[algorithm]["ms"] = ms
    return out


def pg_speed(cur):
    out = {}
    ms, _ = timed(lambda: cur.execute(
        "SELECT * FROM insight.train_recommender('retail_als', 'retail', 'user_id', 'product_id')"))
    row = dict(zip([d[0] for d in cur.description], cur.fetchone()))
    out["train_ms"], out["training_ms"] = ms, row["training_ms"]
    out["metrics"] = row["metrics"] if isinstance(row["metrics"], dict) else json.loads(row["metrics"])
    out["rows_used"] = row["rows_used"]
    ms, _ = timed(lambda: cur.execute(
        "SELECT * FROM insight.train_recommender('retail_svd', 'retail', 'user_id', 'product_id', "
        "algorithm => 'svd')"))
    out["train_svd_ms"] = ms
    cur.fetchall()
    cur.execute("SELECT user_id FROM retail GROUP BY 1 ORDER BY 1 LIMIT %s", (LATENCY_USERS,))
    users = [r[0] for r in cur.fetchall()]
    cur.execute("PREPARE rec(text) AS SELECT * FROM insight.recommend('retail_als', $1, 10)")
    cur.execute("EXECUTE rec(%s)", (users[0],))  # loads and caches the model
    cur.fetchall()
    out["first_call_note"] = "model decoded and cached by the call before the loop"
    lat = []
    for u in users:
        t0 = time.perf_counter()
        cur.execute("EXECUTE rec(%s)", (u,))
        cur.fetchall()
        lat.append((time.perf_counter() - t0) * 1000.0)
    out["p50_ms"], out["p99_ms"] = float(np.percentile(lat, 50)), float(np.percentile(lat, 99))
    cur.execute("SELECT 1")
    floor = []
    for _ in range(LATENCY_USERS):
        t0 = time.perf_counter()
        cur.execute("SELECT 1")
        cur.fetchall()
        floor.append((time.perf_counter() - t0) * 1000.0)
    out["select1_p50_ms"] = float(np.percentile(floor, 50))
    runs = []
    for _ in range(3):
        ms, _ = timed(lambda: cur.execute(
            "SELECT count(*) FROM (SELECT DISTINCT user_id FROM retail) u, "
            "LATERAL insight.recommend('retail_als', u.user_id, 10) r"))
        out["all_users_rows"] = cur.fetchone()[0]
        runs.append(ms)
    out["all_users_ms"] = min(runs)
    return out


def fmt(v, digits=4):
    return "n/a" if v is None else f"{v:,.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dsn")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--python-only", action="store_true")
    args = ap.parse_args()
    if not args.python_only and not args.dsn:
        ap.error("--dsn is required unless --python-only")
    command, date, host = run_context()
    read_ms, frame = timed(lambda: load_retail(args.data))
    print("## Recommendations: pg_insight beside a scikit-learn service, Online Retail\n")
    print(context_header(command, date, host) +
          python_versions(("scikit-learn", sklearn), ("numpy", np)) + "  ")
    summary = {"command": command, "date": date, "machine": host, "k": K,
               "test_fraction": TEST_FRACTION}
    pg_acc = pg_sp = None
    if not args.python_only:
        dsn, versions, _ = create_database(args.dsn, DATABASE)
        summary["versions"] = versions
        with closing(connect(dsn)) as conn, conn.cursor() as cur:
            copy_ms = load_table(cur, frame)
            print(f"PostgreSQL {versions['postgresql']}, pg_insight {versions['pg_insight']}  ")
            print(f"Loaded {len(frame):,} lines with a customer ({frame['user_id'].nunique():,} "
                  f"users, {frame['product_id'].nunique():,} items) into retail "
                  f"(COPY {copy_ms:,.0f} ms; CSV read {read_ms:,.0f} ms).\n")
            sys.stdout.flush()
            pg_acc = pg_accuracy(cur)
            pg_sp = pg_speed(cur)
    py = python_recipes(frame)
    py_sp = python_speed(frame, None if args.python_only else dsn)
    summary.update(pg_accuracy=pg_acc, pg_speed=pg_sp, python=py, python_speed=py_sp)

    print(f"### Accuracy: time-based split, k = {K}, last {TEST_FRACTION:.0%} of each user's "
          f"lines held out\n")
    print(f"Split: {py['train_rows']:,} training lines, {py['test_rows']:,} held out; "
          f"users scored: {py['python popularity']['users']:,}.\n")
    rows = []
    if pg_acc:
        for alg in ALGORITHMS + ("popularity",):
            m = pg_acc.get(alg)
            if m:
                rows.append(["pg_insight", alg, *(fmt(m.get(x)) for x in METRICS),
                             f"{int(m['users']):,}",
                             f"{m['ms'] / 1000:,.2f} s (with popularity)" if "ms" in m else "″"])
    for name in ("scikit-learn TruncatedSVD", "scikit-learn user-based CF", "python popularity"):
        m = py[name]
        rows.append(["Python", name, *(fmt(m.get(x)) for x in METRICS), f"{m['users']:,}",
                     f"{m['ms'] / 1000:,.2f} s"])
    print(markdown_table(["side", "algorithm", "NDCG@10", "recall@10", "precision@10", "MAP@10",
                          "coverage", "users", "wall time"], rows))
    if pg_acc and "popularity" in pg_acc:
        diff = max(abs(pg_acc["popularity"][x] - py["python popularity"][x]) for x in METRICS)
        print(f"\nPopularity cross-check, pg_insight vs Python on the same split: "
              f"{'agree' if diff < 1e-9 else 'DIFFER'} (largest |Δ| = {diff:.2e}).")
        best = max(ALGORITHMS, key=lambda a: pg_acc[a]["ndcg_at_k"])
        svd_py = py["scikit-learn TruncatedSVD"]["ndcg_at_k"]
        cf_py = py["scikit-learn user-based CF"]["ndcg_at_k"]
        print(f"NDCG@10 of 'als' / popularity: {pg_acc['als']['ndcg_at_k'] / pg_acc['popularity']['ndcg_at_k']:.2f}×; "
              f"'als' / scikit-learn TruncatedSVD: {pg_acc['als']['ndcg_at_k'] / svd_py:.2f}×; "
              f"/ user-based CF: {pg_acc['als']['ndcg_at_k'] / cf_py:.2f}×. Best pg_insight algorithm: {best}.")
    print()
    print("### Speed: all lines, 64 factors\n")
    rows = []
    if pg_sp:
        py_train = (f"{py_sp['train_ms'] / 1000:,.2f} s (fetch {py_sp.get('fetch_ms', 0) / 1000:,.2f} + "
                    f"matrix {py_sp['build_ms'] / 1000:,.2f} + TruncatedSVD fit {py_sp['fit_ms'] / 1000:,.2f})")
        rows.append(["train 'svd' (like for like), from the table to a stored model",
                     f"{pg_sp['train_svd_ms'] / 1000:,.2f} s (train_recommender 'svd', catalog write included)",
                     py_train, f"{py_sp['train_ms'] / pg_sp['train_svd_ms']:.2f}"])
        rows.append(["train 'als' (the default)", f"{pg_sp['train_ms'] / 1000:,.2f} s (15 iterations)",
                     "—", ""])
        rows.append(["recommend one user, p50", f"{pg_sp['p50_ms']:.3f} ms (round trip; SELECT 1: "
                     f"{pg_sp['select1_p50_ms']:.3f} ms)", f"{py_sp['p50_ms']:.3f} ms (in process)", ""])
        rows.append(["recommend one user, p99", f"{pg_sp['p99_ms']:.3f} ms", f"{py_sp['p99_ms']:.3f} ms", ""])
        rows.append(["top 10 for every user", f"{pg_sp['all_users_ms'] / 1000:,.3f} s "
                     f"({pg_sp['all_users_rows']:,} rows, one statement)",
                     f"{py_sp['all_users_ms'] / 1000:,.3f} s (dense scores, argpartition)",
                     f"{py_sp['all_users_ms'] / pg_sp['all_users_ms']:.2f}"])
        m = pg_sp["metrics"]
        print(f"Model: {m['users']:,} users × {m['items']:,} items, {m['interactions']:,} pairs "
              f"from {pg_sp['rows_used']:,} lines; payload {m['payload_bytes'] / 2**20:,.1f} MiB in insight.models. "
              f"Python's dense score matrix for all users would be "
              f"{py_sp['users'] * py_sp['items'] * 8 / 2**20:,.0f} MiB.\n")
    print(markdown_table(["task", "pg_insight", "Python (scikit-learn)", "Python / pg_insight"], rows))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str))


if __name__ == "__main__":
    main()
