#!/usr/bin/env bash
# Installs Node.js with npm (apt-get, through sudo when not root, or brew) when missing.
set -euo pipefail
if command -v npm >/dev/null 2>&1; then
    exit 0
fi
echo "Node.js not found; installing it." >&2
if command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq nodejs npm >/dev/null
elif command -v brew >/dev/null 2>&1; then
    brew install node
else
    echo "install Node.js 18 or newer (with npm), then run this again" >&2
    exit 1
fi
