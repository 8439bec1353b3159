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
# Made again whenever the pinned versions change.
if ! cmp -s "$dir/requirements.txt" "$venv/installed-requirements.txt"; then
    echo "installing the senders' Python libraries into $venv." >&2
    rm -rf "$venv"
    scripts/ensure-venv.sh "$venv" -r "$dir/requirements.txt"
    cp "$dir/requirements.txt" "$venv/installed-requirements.txt"
fi

TEST_TENANT=senders . scripts/test-server.sh
"$venv/bin/python" "$dir/senders.py" "$base" "$key"
