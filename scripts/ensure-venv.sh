#!/usr/bin/env bash
# ensure-venv.sh DIR PIP-ARGS...: a Python virtualenv at DIR with `pip install PIP-ARGS`
# done, making it (and installing python3-venv through apt-get when Python lacks it) only
# when DIR has no python yet.
set -euo pipefail
venv=$1
shift
if [ -x "$venv/bin/python" ]; then
    exit 0
fi
if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-venv >/dev/null
    rm -rf "$venv"
    python3 -m venv "$venv"
fi
if ! "$venv/bin/pip" install --quiet "$@"; then
    rm -rf "$venv" # a half-made virtualenv would be taken for a whole one next time
    exit 1
fi
