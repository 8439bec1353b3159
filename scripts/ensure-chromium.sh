#!/usr/bin/env bash
# Makes sure a headless Chromium and its chromedriver are installed, installing the
# distribution's packages when they are missing: the console's browser tests drive them.
set -euo pipefail

have_browser() {
    command -v chromedriver >/dev/null 2>&1 &&
        { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 ||
          command -v google-chrome >/dev/null 2>&1; }
}

if have_browser; then
    exit 0
fi

echo "Chromium or chromedriver not found; installing them." >&2
if command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium chromium-driver >/dev/null
elif command -v brew >/dev/null 2>&1; then
    brew install --cask chromium chromedriver
else
    echo "Install Chromium and chromedriver (the console's browser tests need both)." >&2
    exit 1
fi
have_browser || { echo "Chromium or chromedriver is still missing after installing." >&2; exit 1; }
