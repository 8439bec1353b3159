#!/usr/bin/env bash
# Signs intake requests with the senders' own libraries and posts them to a real
# `switchyard serve`: Python's twilio, slack_sdk and standardwebhooks, Node's stripe
# (generateTestHeaderString) and @octokit/webhooks-methods (sign). Each is received; a
# wrong secret, an altered body, a stale timestamp and a replayed delivery are each
# handled as docs/intake.md says. Installs the pinned libraries (tests/intake-senders/)
# into target/ and node_modules when missing, and Node.js as scripts/client.sh does.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=tests/intake-senders

scripts/ensure-node.sh
if [ ! -d "$dir/node_modules/stripe" ] || [ "$dir/package.json" -nt "$dir/node_modules" ]; then
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
    touch "$dir/node_modules"
fi
venv=target/intake-senders-venv
if [ ! -x "$venv/bin/python" ] || [ "$dir/requirements.txt" -nt "$venv/bin/python" ]; then
    echo "installing the senders' Python libraries into $venv." >&2
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        sudo_cmd=""
        if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
        $sudo_cmd apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-venv >/dev/null
        rm -rf "$venv"
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install --quiet -r "$dir/requirements.txt"
    touch "$venv/bin/python"
fi

TEST_TENANT=senders . scripts/test-server.sh
"$venv/bin/python" "$dir/senders.py" "$base" "$key"
