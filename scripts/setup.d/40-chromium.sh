#!/usr/bin/env bash
# Headless Chromium and ChromeDriver from Debian, for link-server's browser tests of the
# chat page (examples/server/tests/browser.rs). Quick no-op when both are installed.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
