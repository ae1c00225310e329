"""What every benchmark in test/bench shares: markdown tables, timing, the run's command, date
and machine, and a fresh database with pg_insight beside the one a --dsn names. psycopg2 is
imported only when a database is used, so the Python-only sides run without it."""
import datetime
import io
import os
import platform
import shlex
import sys
import time
from contextlib import closing
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
RETAIL_FILE = Path("online_retail") / "online_retail_I_clean.csv.gz"


def markdown_table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def timed(fn):
    """(milliseconds fn took, its result)."""
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000.0, result


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").open()
                if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").open()
                  if line.startswith("MemTotal:"))
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem_kb / 1024 ** 2, 1)}


def run_context():
    """The run's command line, its local date and time, and the machine."""
    command = shlex.join(sys.argv)
    date = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    return command, date, machine()


def context_header(command, date, host=None):
    """The Command, Date and Machine lines a report starts with (Markdown line breaks)."""
    text = f"Command: `{command}`  \nDate: {date}  \n"
    if host:
        text += f"Machine: {host['nproc']} CPUs, {host['cpu']}, {host['ram_gib']} GiB RAM  \n"
    return text


def python_versions(*modules):
    """'Python 3.11.2, scikit-learn 1.2.1, ...' for (name, module) pairs."""
    return ", ".join([f"Python {platform.python_version()}"] +
                     [f"{name} {module.__version__}" for name, module in modules])


def connect(dsn):
    import psycopg2  # only needed when the database side runs
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    return conn


def query(cur, sql, params=None):
    """Runs sql; the first value of the first row, if it returns rows."""
    cur.execute(sql, params)
    return cur.fetchone()[0] if cur.description else None


def create_database(admin_dsn, database, setup=(), settings=()):
    """A fresh database next to the one in admin_dsn, with pg_insight and then the statements of
    setup: (dsn, versions, {setting: value} for each name in settings)."""
    from psycopg2.extensions import make_dsn
    with closing(connect(admin_dsn)) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        cur.execute(f"CREATE DATABASE {database}")
    dsn = make_dsn(admin_dsn, dbname=database)
    with closing(connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute("CREATE EXTENSION pg_insight")
        for statement in setup:
            cur.execute(statement)
        versions = {"postgresql": query(cur, "SELECT current_setting('server_version')"),
                    "pg_insight": query(cur, "SELECT insight.version()")}
        values = {name: query(cur, f"SELECT current_setting('{name}')") for name in settings}
    return dsn, versions, values


def fresh_database(admin_dsn, database, settings=()):
    """create_database(), then a connection to it: (connection, cursor, versions, values)."""
    dsn, versions, values = create_database(admin_dsn, database, settings=settings)
    conn = connect(dsn)
    return conn, conn.cursor(), versions, values


def copy_frame(cur, table, frame, date_format=None):
    """COPY a DataFrame (its columns, in order) into an existing table."""
    buf = io.StringIO()
    frame.to_csv(buf, index=False, header=False, date_format=date_format)
    buf.seek(0)
    cur.copy_expert(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv)",
                    buf)


def add_side_args(parser, local_flag, local_help, dsn_help):
    """--dsn and the flag that runs the benchmark's local (Python) side alone, without a
    database; check_side_args() then requires one of them."""
    parser.add_argument("--dsn", help=dsn_help)
    parser.add_argument(local_flag, action="store_true", help=local_help)


def check_side_args(parser, args, local_flag):
    if not getattr(args, local_flag.lstrip("-").replace("-", "_")) and not args.dsn:
        parser.error(f"--dsn is required unless {local_flag}")
