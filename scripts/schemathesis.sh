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
        rm -rf "$venv"
        scripts/ensure-venv.sh "$venv" schemathesis
    fi
    st="$venv/bin/st"
fi

TEST_TENANT=schemathesis . scripts/test-server.sh

"$st" --config-file scripts/schemathesis.toml run "$base/openapi.json" \
    --header "Authorization: Bearer $key" \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-30}" \
    --workers 1 \
    --request-timeout 10 \
    --no-color \
    "$@"
