#!/usr/bin/env bash
# Counts the SQL statements one transition into a timed state sends, with
# pg_stat_statements on a throwaway PostgreSQL: N jobs are created, the statistics reset,
# then each job takes one transition into a state with a timeout. Prints every statement
# the transitions ran (calls, text) and the count per transition. BENCHMARKS.md quotes it.
#
#   scripts/statements.sh [N]     # default 200 jobs
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
PGBIN=/usr/lib/postgresql/15/bin
PORT=15439
cargo build -q --release -p switchyard-api --bin switchyard
BIN=$PWD/target/release/switchyard

DIR=$(mktemp -d /tmp/switchyard-statements.XXXXXX)
chown postgres "$DIR"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg "$PGBIN/initdb" -D "$DIR/pg" -U switchyard --auth=trust >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg.log" -w start \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top" >/dev/null
cleanup() {
  [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  as_pg "$PGBIN/pg_ctl" -D "$DIR/pg" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT
psql() { "$PGBIN/psql" -h 127.0.0.1 -p $PORT -U switchyard -d "$@"; }
psql postgres -qc "CREATE DATABASE switchyard" >/dev/null
psql switchyard -qc "CREATE EXTENSION pg_stat_statements" >/dev/null

export DATABASE_URL=postgres://switchyard@127.0.0.1:$PORT/switchyard
export INTEGRATION_SECRET_ENCRYPTION_KEY=statements-counting-passphrase
export SWITCHYARD_LISTEN=127.0.0.1:18490 RUST_LOG=warn
URL=http://$SWITCHYARD_LISTEN
"$BIN" serve > "$DIR/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -sf $URL/readyz >/dev/null && break; sleep 0.2; done
KEY=$("$BIN" tenant create --name counting 2>/dev/null | grep -o '"api_key":"[^"]*"' | cut -d'"' -f4)
AUTH="Authorization: Bearer $KEY"; JSON='Content-Type: application/json'
curl -sf -X POST $URL/api/v1/workflows -H "$AUTH" -H "$JSON" -d '{"name": "timed", "initial": "a",
  "states": [{"name": "a"}, {"name": "b", "timeout": {"after": "1h", "transition": "back"}}],
  "transitions": [{"name": "go", "from": ["a"], "to": "b"}, {"name": "back", "from": ["b"], "to": "a"}]}' >/dev/null
JOBS=()
for _ in $(seq 1 "$N"); do
  JOBS+=("$(curl -sf -X POST $URL/api/v1/jobs -H "$AUTH" -H "$JSON" -d '{"workflow": "timed"}' \
    | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)")
done
psql switchyard -qc "SELECT pg_stat_statements_reset()" >/dev/null
for job in "${JOBS[@]}"; do
  curl -sf -X POST $URL/api/v1/jobs/$job/transitions -H "$AUTH" -H "$JSON" -d '{"transition": "go"}' >/dev/null
done
# Statements the clients sent (not those triggers ran) at least once per transition; the
# worker's idle polling and the fan-out's batches run fewer times.
psql switchyard -Atc "SELECT calls, regexp_replace(left(query, 110), '\s+', ' ', 'g') FROM pg_stat_statements
  WHERE calls >= $N AND query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC, query"
psql switchyard -Atc "SELECT 'statements per transition into a timed state: ' ||
  round(sum(calls)::numeric / $N, 2) FROM pg_stat_statements
  WHERE calls >= $N AND query NOT LIKE '%pg_stat_statements%'"
