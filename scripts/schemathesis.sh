#!/usr/bin/env bash
# Runs schemathesis (every check) against a real `switchyard serve` on a fresh embedded
# database, with a full key. Installs schemathesis when missing. Fails when schemathesis
# reports a server error or a response that does not match /openapi.json.
# Arguments are passed on to `st run` (e.g. --max-examples 50).
set -euo pipefail
cd "$(dirname "$0")/.."

# schemathesis: the one on PATH, or one installed into a virtualenv under target/.
st=$(command -v st || true)
if [ -z "$st" ]; then
    venv=target/schemathesis-venv
    if [ ! -x "$venv/bin/st" ]; then
        echo "schemathesis not found; installing it into $venv." >&2
        if ! python3 -m venv "$venv" >/dev/null 2>&1; then
            sudo_cmd=""
            if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
            $sudo_cmd apt-get update -qq
            DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-venv >/dev/null
            rm -rf "$venv"
            python3 -m venv "$venv"
        fi
        "$venv/bin/pip" install --quiet schemathesis
    fi
    st="$venv/bin/st"
fi

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
key=$("$bin" tenant create --name schemathesis | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
# Limits off: the run sends far more requests per second than one tenant may.
SWITCHYARD_TENANT_RATE_LIMIT=0 SWITCHYARD_AUTH_FAILURE_LIMIT=0 \
    "$bin" serve --listen "127.0.0.1:$port" &
server=$!
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

"$st" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$port/openapi.json" \
    --checks all \
    --header "Authorization: Bearer $key" \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-30}" \
    --workers 1 \
    --request-timeout 10 \
    --no-color \
    "$@"
