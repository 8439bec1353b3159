#!/usr/bin/env bash
# Runs every test: unit tests and end-to-end tests against a real embedded PostgreSQL,
# the real HTTP server and the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh
cargo test --workspace "$@"
