#!/usr/bin/env bash
# Runs the benchmark: installs PostgreSQL's server binaries if missing, builds Switchyard in
# release mode, and runs `switchyard bench` (arguments are passed on, e.g. --out bench.json).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh
cargo build --release -q -p switchyard-api --bin switchyard
exec target/release/switchyard bench "$@"
