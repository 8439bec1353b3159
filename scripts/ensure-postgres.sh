#!/usr/bin/env bash
# Makes sure PostgreSQL's server binaries (initdb, postgres) are installed, installing the
# distribution's package when they are missing. Switchyard runs its own private cluster
# from them; no system service is needed or started.
set -euo pipefail

have_server() {
    command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1 && return 0
    for dir in /usr/lib/postgresql/*/bin /usr/local/lib/postgresql/*/bin \
               /opt/homebrew/opt/postgresql*/bin /usr/local/opt/postgresql*/bin; do
        [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ] && return 0
    done
    return 1
}

if have_server; then
    exit 0
fi

echo "PostgreSQL server binaries not found; installing them." >&2
if command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq postgresql >/dev/null
elif command -v brew >/dev/null 2>&1; then
    brew install postgresql@16
    brew link --force postgresql@16 || true
else
    echo "Install PostgreSQL's server package (it provides initdb and postgres), or set" >&2
    echo "DATABASE_URL to an existing PostgreSQL server." >&2
    exit 1
fi

have_server || { echo "PostgreSQL was installed but initdb/postgres are still not found." >&2; exit 1; }
