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

TEST_TENANT=schemathesis . scripts/test-server.sh

"$st" --config-file scripts/schemathesis.toml run "$base/openapi.json" \
    --header "Authorization: Bearer $key" \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-30}" \
    --workers 1 \
    --request-timeout 10 \
    --no-color \
    "$@"
