#!/usr/bin/env bash
# Regenerates the console screenshots in docs/console/ from the browser tests: the tests
# save a PNG at each page they check when SWITCHYARD_SCREENSHOTS names a directory.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh
scripts/ensure-chromium.sh
out="$PWD/docs/console"
mkdir -p "$out"
SWITCHYARD_SCREENSHOTS="$out" cargo test --test e2e -- browser:: --test-threads 2
echo "Screenshots in $out:"
ls "$out"
