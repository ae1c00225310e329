# Shared helpers for pg_insight's scripts: throwaway PostgreSQL clusters run by a non-root user.
# initdb, pg_ctl and pg_regress refuse to run as root, so as root they run as the `postgres`
# system user (created by Debian's server package); as anyone else, as that user.
# shellcheck shell=bash

PG_CONFIG=${PG_CONFIG:-$(command -v /usr/lib/postgresql/15/bin/pg_config || echo pg_config)}
PG_BINDIR=$("$PG_CONFIG" --bindir)
PG_PKGLIBDIR=$("$PG_CONFIG" --pkglibdir)
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [ "$(id -u)" -eq 0 ]; then
  PG_RUN_USER=postgres
  # Runs in the current directory when postgres may enter it, else in / (e.g. under /root).
  as_pg() {
    if runuser -u postgres -- test -x "$PWD" 2>/dev/null; then
      runuser -u postgres -- "$@"
    else
      (cd / && runuser -u postgres -- "$@")
    fi
  }
else
  PG_RUN_USER=$(id -un)
  as_pg() { "$@"; }
fi
# The bootstrap superuser of clusters made here is the user that ran initdb.
PG_SUPERUSER=$PG_RUN_USER

# A working directory the server user can write: <checkout>/<name> when that user can reach
# the checkout, else a fresh directory under /tmp (e.g. a clone under /root).
pg_workdir() {
  local name=$1 dir
  if as_pg test -x "$REPO_ROOT" 2>/dev/null && as_pg test -r "$REPO_ROOT" 2>/dev/null; then
    dir="$REPO_ROOT/$name"
    mkdir -p "$dir"
  else
    dir=$(mktemp -d "/tmp/pg_insight-${name#.}.XXXXXX")
  fi
  [ "$(id -u)" -eq 0 ] && chown "$PG_RUN_USER" "$dir"
  chmod 0755 "$dir"
  echo "$dir"
}

# A port no server uses, starting from $1: nothing listens on it over TCP, and no Unix socket
# .s.PGSQL.<port> exists anywhere (our clusters listen on Unix sockets only).
pg_free_port() {
  local port=${1:-54320}
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null ||
    grep -q "\.s\.PGSQL\.$port\$" /proc/net/unix 2>/dev/null; do
    port=$((port + 1))
  done
  echo "$port"
}

# cluster_start DIR PORT [extra postgresql.conf lines...]: initdb (if new) and start.
cluster_start() {
  local dir=$1 port=$2
  shift 2
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$PG_BINDIR/initdb" -D "$dir/data" --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
      -U "$PG_SUPERUSER" >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log"; return 1; }
  fi
  as_pg mkdir -p "$dir/socket"
  {
    echo "port = $port"
    echo "listen_addresses = ''"
    echo "unix_socket_directories = '$dir/socket'"
    echo "fsync = off"
    echo "max_parallel_workers_per_gather = 2"
    for line in "$@"; do echo "$line"; done
  } | as_pg tee "$dir/data/postgresql.auto.conf" >/dev/null
  as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
    { cat "$dir/server.log"; return 1; }
}

cluster_stop() {
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] || return 0
  as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# psql against a cluster started above: psql_at DIR PORT [psql args...]
psql_at() {
  local dir=$1 port=$2
  shift 2
  "$PG_BINDIR/psql" -X -v ON_ERROR_STOP=1 -h "$dir/socket" -p "$port" -U "$PG_SUPERUSER" "$@"
}
