#!/usr/bin/env bash
# Counts the SQL statements one transition into a timed state sends (BENCHMARKS.md quotes
# it): a throwaway PostgreSQL with pg_stat_statements (client statements only, not those
# triggers run), and engine/examples/statements.rs driving the engine with no worker or
# API beside it, so every statement counted is the transition's own.
#
#   scripts/statements.sh [N]     # default 200 transitions
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
PGBIN=/usr/lib/postgresql/15/bin
PORT=15439
cargo build -q --release -p switchyard-engine --example statements

DIR=$(mktemp -d /tmp/switchyard-statements.XXXXXX)
chown postgres "$DIR" 2>/dev/null || true
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg "$PGBIN/initdb" -D "$DIR/pg" -U switchyard --auth=trust >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg.log" -w start \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top" >/dev/null
trap 'as_pg "$PGBIN/pg_ctl" -D "$DIR/pg" -m fast stop >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
"$PGBIN/psql" -h 127.0.0.1 -p $PORT -U switchyard -d postgres -qc "CREATE DATABASE switchyard" >/dev/null
"$PGBIN/psql" -h 127.0.0.1 -p $PORT -U switchyard -d switchyard -qc "CREATE EXTENSION pg_stat_statements" >/dev/null
DATABASE_URL=postgres://switchyard@127.0.0.1:$PORT/switchyard target/release/examples/statements "$N"
