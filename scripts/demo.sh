#!/usr/bin/env bash
# Runs the demo: builds Switchyard, starts its embedded PostgreSQL under ./.switchyard,
# walks a job through the fixture workflow, then serves on 127.0.0.1:8080 until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh
cargo build --release -q -p switchyard-api --bin switchyard
exec target/release/switchyard demo "$@"
