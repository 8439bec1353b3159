#!/usr/bin/env bash
# Checks the served OpenAPI document the way a client's tooling reads it:
# 1. `redocly lint` with its recommended rules: no errors;
# 2. `openapi-typescript` generates a TypeScript client's types from it;
# 3. `tsc --strict` type-checks tests/client/walkthrough.ts (the README's walk-through,
#    written against those types with no cast) and `node` runs it against the server.
# Installs Node.js (apt-get or brew) and the pinned packages of tests/client when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-node.sh
dir=tests/client
if [ ! -x "$dir/node_modules/.bin/tsc" ] || [ "$dir/package.json" -nt "$dir/node_modules" ]; then
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
    touch "$dir/node_modules"
fi
tools="$PWD/$dir/node_modules/.bin"

SERVE_FLAGS=--allow-private-targets TEST_TENANT=client . scripts/test-server.sh

mkdir -p "$dir/generated"
curl -sf "$base/openapi.json" -o "$dir/generated/openapi.json"
echo "redocly lint (recommended rules):"
NO_UPDATE_NOTIFIER=1 REDOCLY_TELEMETRY=off "$tools/redocly" lint "$dir/generated/openapi.json" \
    --format=summary 2>&1 | grep -v -e '^$' -e '[║╔╚]'
"$tools/openapi-typescript" "$dir/generated/openapi.json" -o "$dir/generated/schema.d.ts" --silent
(cd "$dir" && "$tools/tsc" -p tsconfig.json)
node "$dir/out/walkthrough.js" "$base" "$key"
