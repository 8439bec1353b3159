#!/usr/bin/env bash
# Writes fixtures/event_log/v1.ndjson: the event log of a demo run plus the README's
# walk-through and a few more steps, one stored row per line, as a release wrote it.
#
# The log is a promise kept across releases: tests/e2e/log_fixture.rs loads this file
# into a fresh database and verifies every chain, and decodes every event's data into its
# typed payload and back, byte for byte. Regenerate it only for a new fixture version
# (v2, ...), never over an old one.
#
#   scripts/log-fixture.sh [OUT]     # default fixtures/event_log/v1.ndjson
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-fixtures/event_log/v1.ndjson}
mkdir -p "$(dirname "$OUT")"

cargo build -q -p switchyard-api --bin switchyard
BIN=$PWD/target/debug/switchyard
DATA=$(mktemp -d /tmp/switchyard-fixture.XXXXXX)
chown postgres "$DATA" 2>/dev/null || true
export SWITCHYARD_DATA_DIR=$DATA
export SWITCHYARD_LISTEN=127.0.0.1:18480 SWITCHYARD_DEMO_HOOK_LISTEN=127.0.0.1:18481
export SWITCHYARD_BREAKER_FAILURES=2 SWITCHYARD_BREAKER_COOLDOWN=1s SWITCHYARD_DELIVERY_RETRY_SCHEDULE=0s,1s
URL=http://$SWITCHYARD_LISTEN
HOOK_BASE=http://$SWITCHYARD_DEMO_HOOK_LISTEN

"$BIN" demo > "$DATA/demo.log" 2>&1 &
DEMO=$!
trap 'kill $DEMO 2>/dev/null; wait $DEMO 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  grep -q "walk-through" "$DATA/demo.log" 2>/dev/null && curl -sf "$URL/readyz" >/dev/null && break
  sleep 0.5
done
sleep 8   # the demo's own quote timer (3 s) fires and its reminder is sent

eval "$("$BIN" tenant create --name acme 2>/dev/null \
  | sed -E 's/^\{"api_key":"([^"]+)","tenant_id":"([^"]+)"\}$/export KEY=\1 TENANT=\2/')"
AUTH="Authorization: Bearer $KEY"; JSON='Content-Type: application/json'
first_id() { grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4; }
post() { curl -s -X POST "$URL$1" -H "$AUTH" -H "$JSON" -d "${2:-{\}}"; echo; }

curl -s -X POST $URL/api/v1/workflows -H "$AUTH" -H "$JSON" \
  --data @fixtures/workflows/field_service_job.json >/dev/null
JOB=$(post /api/v1/jobs '{"workflow": "field_service_job", "context": {"customer": "Acme Boilers"}}' | first_id)
post /api/v1/jobs/$JOB/transitions '{"transition": "schedule", "data": {"technician": "Ana"}, "expected_version": 0}'
post /api/v1/jobs/$JOB/transitions '{"to": "in_progress"}'

CRM=$(post /api/v1/tenant/connections "{\"provider\": \"generic_rest\", \"connection_name\": \"CRM\",
  \"credentials\": {\"base_url\": \"$HOOK_BASE\", \"auth_header\": \"Bearer crm-token\"}}" | first_id)
HOOK=$(post /api/v1/tenant/connections "{\"provider\": \"webhook\", \"connection_name\": \"Zapier catch hook\",
  \"credentials\": {\"webhook_url\": \"$HOOK_BASE/hooks/catch/acme\", \"signing_secret\": \"demo-signing-secret\"}}" | first_id)
# A connection nothing listens on: its actions retry, fail, open its circuit, and skip the rest.
DOWN=$(post /api/v1/tenant/connections '{"provider": "generic_rest", "connection_name": "Down",
  "credentials": {"base_url": "http://127.0.0.1:9"}}' | first_id)

sed -e "s/\$CRM_CONNECTION_ID/$CRM/" -e "s/\$ZAPIER_CONNECTION_ID/$HOOK/" \
  fixtures/workflows/field_service_job_notified.json \
  | curl -s -X POST $URL/api/v1/workflows -H "$AUTH" -H "$JSON" --data @- >/dev/null
sed -e "s/\$CRM_CONNECTION_ID/$CRM/" fixtures/workflows/quote_follow_up.json \
  | curl -s -X POST $URL/api/v1/workflows -H "$AUTH" -H "$JSON" --data @- >/dev/null
post /api/v1/workflows "{\"name\": \"flaky\", \"initial\": \"a\",
  \"states\": [{\"name\": \"a\"}, {\"name\": \"b\"}],
  \"transitions\": [{\"name\": \"go\", \"from\": [\"a\"], \"to\": \"b\", \"actions\": [
    {\"name\": \"first\", \"action_type\": \"WEBHOOK\", \"retry\": {\"max_attempts\": 2, \"schedule\": [\"0s\", \"1s\"]},
     \"timeout_ms\": 1000, \"payload_template\": {\"connection_id\": \"$DOWN\", \"path\": \"/x\", \"body\": {\"n\": \"{{job.id}}\"}}},
    {\"name\": \"second\", \"action_type\": \"WEBHOOK\",
     \"payload_template\": {\"connection_id\": \"$CRM\", \"path\": \"/y\"}}]}]}" >/dev/null

SUB=$(post /api/hooks/webhooks "{\"name\": \"Job monitor\", \"url\": \"$HOOK_BASE/hooks/catch/events\",
  \"eventTypes\": [\"job.*\", \"action.failed\"], \"secret\": \"a-long-random-secret\"}" | first_id)
# A subscription nothing listens for: its deliveries fail and its circuit opens.
DEAD=$(post /api/hooks/webhooks '{"name": "Dead end", "url": "http://127.0.0.1:9/events",
  "eventTypes": ["job.created"], "secret": "another-long-random-secret"}' | first_id)
JOB2=$(post /api/v1/jobs '{"workflow": "field_service_job_notified", "context": {"customer": "Acme Boilers"}}' | first_id)
post /api/v1/jobs/$JOB2/transitions '{"transition": "schedule", "data": {"technician": "Ana"}}'
post /api/v1/jobs/$JOB2/transitions '{"transition": "start"}'

# Timers: a state timeout cancelled by leaving, a scheduled transition cancelled over the
# API, and one that fires.
QUOTE=$(post /api/v1/jobs '{"workflow": "quote_follow_up", "context": {"customer": "Acme"}}' | first_id)
post /api/v1/jobs/$QUOTE/transitions '{"transition": "accept"}'
QUOTE2=$(post /api/v1/jobs '{"workflow": "quote_follow_up", "context": {"customer": "Acme"}, "external_id": "q-2"}' | first_id)
TIMER=$(post /api/v1/jobs/$QUOTE2/transitions '{"transition": "decline", "after": "1h"}' | first_id)
curl -s -X DELETE $URL/api/v1/jobs/$QUOTE2/timers/$TIMER -H "$AUTH"
post /api/v1/jobs/$QUOTE2/transitions '{"transition": "decline", "after": "1s", "data": {"why": "late"}}'

FLAKY=$(post /api/v1/jobs '{"workflow": "flaky", "context": {}}' | first_id)
post /api/v1/jobs/$FLAKY/transitions '{"transition": "go"}'

curl -s -X PATCH $URL/api/v1/tenant/connections/$CRM -H "$AUTH" -H "$JSON" \
  -d '{"limits": {"rate": "5/s", "concurrency": 2}}' >/dev/null
post /api/v1/tenant/connections/$CRM/pause
post /api/v1/tenant/connections/$CRM/resume
CONNECTOR=$(post /api/integrations/webhook "{\"name\": \"Zapier catch hook\",
  \"webhook_url\": \"$HOOK_BASE/hooks/catch/123/abc\", \"signing_secret\": \"demo-signing-secret\"}" | first_id)
post /api/integrations/connections/$CONNECTOR/test
curl -s -X PATCH $URL/api/hooks/webhooks/$SUB -H "$AUTH" -H "$JSON" -d '{"name": "Job monitor 2"}' >/dev/null

KEY2=$(post /api/v1/api-keys '{"name": "ci", "scopes": ["service"]}' | first_id)
curl -s -X DELETE $URL/api/v1/api-keys/$KEY2 -H "$AUTH"
USER=$(post /api/v1/users '{"email": "ana@example.com", "role": "designer"}' | grep -o '"user_id":"[^"]*"' | cut -d'"' -f4)
curl -s -X DELETE $URL/api/v1/users/$USER -H "$AUTH"

sleep 10   # retries, the breaker, the timer and the deliveries settle
curl -s -X DELETE $URL/api/hooks/webhooks/$SUB -H "$AUTH"
post /api/v1/workflows "{\"name\": \"flaky\", \"initial\": \"a\",
  \"states\": [{\"name\": \"a\"}, {\"name\": \"b\"}], \"transitions\": [{\"name\": \"go\", \"from\": [\"a\"], \"to\": \"b\"}]}" >/dev/null
curl -s -X DELETE $URL/api/hooks/webhooks/$DEAD -H "$AUTH"
curl -s -X DELETE $URL/api/v1/tenant/connections/$DOWN -H "$AUTH"
sleep 1

# The embedded cluster listens on a socket in run/, its port in the socket's name.
SOCKET=$(ls "$DATA"/run/.s.PGSQL.* | grep -v lock | head -1)
SQL="SELECT row_to_json(e) FROM (SELECT position, tx_id, event_id, tenant_id, stream_id, stream_version,
     type, data, metadata, recorded_at, prev_hash, hash FROM event_log ORDER BY position) e"
PGPASSWORD=$(cat "$DATA/pg-password") /usr/lib/postgresql/15/bin/psql -h "$DATA/run" \
  -p "${SOCKET##*.}" -U switchyard -d switchyard -Atc "$SQL" > "$OUT"
echo "wrote $(wc -l < "$OUT") events to $OUT; types:"
grep -o '"type":"[^"]*"' "$OUT" | sort | uniq -c
