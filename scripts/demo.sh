#!/usr/bin/env bash
# Runs the demo: builds Switchyard, starts its embedded PostgreSQL under ./.switchyard,
# walks a job through the fixture workflow, then serves on 127.0.0.1:8080 until Ctrl-C.
# SWITCHYARD_LISTEN and SWITCHYARD_DEMO_HOOK_LISTEN move the API and its receiver.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh
if [ ! -x target/release/switchyard ]; then
    echo "Building Switchyard (release); the first build takes about 3 minutes on 2 cores." >&2
fi
cargo build --release -p switchyard-api --bin switchyard
exec target/release/switchyard demo "$@"
