# Sourced by the scripts that test a running server (schemathesis.sh, client.sh): builds
# `switchyard`, starts `switchyard serve` on a free port over a fresh embedded database
# with a tenant of its own, and stops it on exit. Sets `port`, `key` and `base`.
# Limits are off: the checks send far more requests per second than one tenant may.

cargo build -q -p switchyard-api --bin switchyard
bin=target/debug/switchyard
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
    if [ -n "${server:-}" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$data"
}
trap cleanup EXIT

export RUST_LOG=error SWITCHYARD_DATA_DIR="$data"
unset DATABASE_URL
key=$("$bin" tenant create --name "${TEST_TENANT:-checks}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
# A metrics token, so that `GET /metrics` asks for credentials as it does in production.
SWITCHYARD_METRICS_TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(16))') \
SWITCHYARD_TENANT_RATE_LIMIT=0 SWITCHYARD_AUTH_FAILURE_LIMIT=0 \
    "$bin" serve --listen "127.0.0.1:$port" ${SERVE_FLAGS:-} &
server=$!
base="http://127.0.0.1:$port"
python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(240):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=2)
        sys.exit(0)
    except Exception:
        time.sleep(0.5)
sys.exit("switchyard serve did not become ready")
PY
