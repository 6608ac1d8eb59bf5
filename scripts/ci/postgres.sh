#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: initdb in a temp dir as the unprivileged `postgres`
# user (or as the current user when it is not root), listening on a loopback port and a Unix socket
# in that dir. Prints the URL on stdout; the state (dir, port) is kept in $DRIFTGATE_PG_STATE
# (default /tmp/driftgate-test-pg.state) so that `stop` finds it.
#   scripts/ci/postgres.sh start   -> prints postgres://driftgate@127.0.0.1:<port>/driftgate_test
#   scripts/ci/postgres.sh stop    -> stops the cluster and removes its directory
#   eval "$(scripts/ci/postgres.sh env)"  -> starts one and exports DRIFTGATE_TEST_PG_URL
set -euo pipefail
STATE="${DRIFTGATE_PG_STATE:-/tmp/driftgate-test-pg.state}"

bindir() {
  if command -v pg_ctl >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v pg_ctl)")"; return; fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$d" ]; then
    echo "postgres.sh: PostgreSQL is not installed (apt-get install -y postgresql)" >&2
    exit 1
  fi
  echo "$d"
}

as_owner() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  if [ -f "$STATE" ]; then
    # shellcheck disable=SC1090
    . "$STATE"
    if as_owner "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
      echo "postgres://driftgate@127.0.0.1:$PORT/driftgate_test"
      return
    fi
  fi
  BIN=$(bindir)
  DIR=$(mktemp -d /tmp/driftgate-pg.XXXXXX)
  chmod 755 "$DIR"
  if [ "$(id -u)" = "0" ]; then chown postgres "$DIR"; fi
  PORT=${DRIFTGATE_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
  as_owner "$BIN/initdb" -D "$DIR/data" -U driftgate --auth=trust -E UTF8 --no-locale >"$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log" >&2; exit 1; }
  printf 'BIN=%q\nDIR=%q\nPORT=%q\n' "$BIN" "$DIR" "$PORT" >"$STATE"
  # fsync stays on: the crash tests are about durability.
  as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c max_connections=200" start >/dev/null \
    || { cat "$DIR/server.log" >&2; exit 1; }
  as_owner "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U driftgate driftgate_test
  echo "postgres://driftgate@127.0.0.1:$PORT/driftgate_test"
}

stop() {
  [ -f "$STATE" ] || return 0
  # shellcheck disable=SC1090
  . "$STATE"
  as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$DIR" "$STATE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) echo "export DRIFTGATE_TEST_PG_URL=$(start)" ;;
  *) echo "usage: scripts/ci/postgres.sh start|stop|env" >&2; exit 64 ;;
esac
