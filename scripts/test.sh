#!/usr/bin/env bash
# Runs every test: unit tests and end-to-end tests against a real embedded PostgreSQL,
# the console in a real headless Chromium,
# the real HTTP server and the real binary, then schemathesis and a generated TypeScript
# client against a running server. Arguments go to `cargo test` (a name filter skips the
# checks against a running server). The last line
# counts what ran: `N passed, M failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh || exit 1
scripts/ensure-chromium.sh || exit 1

log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --no-fail-fast "$@" 2>&1 | tee "$log"
cargo_status=${PIPESTATUS[0]}

count() { # sums the N of "N <word>" over cargo's "test result:" lines
    grep -E '^test result:' "$log" | grep -oE "[0-9]+ $1" | awk '{s += $1} END {print s + 0}'
}
passed=$(count passed)
failed=$(count failed)
if [ "$cargo_status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1 # a build failure or a crashed test binary reports no result line
fi

if [ "$#" -eq 0 ]; then
    echo
    for check in schemathesis client intake-senders; do
        echo "scripts/$check.sh: checked against a running server with outside tools"
        if "scripts/$check.sh"; then
            passed=$((passed + 1))
        else
            failed=$((failed + 1))
        fi
    done
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
