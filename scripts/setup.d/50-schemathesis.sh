#!/usr/bin/env bash
# schemathesis (its CLI `st`) for link-server's property-based API test
# (examples/server/tests/schemathesis.rs), in the same Python as moto (20-moto.sh). The
# version is pinned so that the test's fixed seed generates the same requests on every machine.
# Idempotent: a no-op when that version is already installed and `st` is on the PATH.
set -euo pipefail
version=4.32.5
if command -v st >/dev/null 2>&1 \
  && [ "$(python3 -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" = "$version" ]; then
  exit 0
fi
python3 -m pip install --quiet --disable-pip-version-check "schemathesis==$version"
# pyenv installs console scripts behind shims that need a rehash to appear on the PATH.
if command -v pyenv >/dev/null 2>&1; then
  pyenv rehash || true
fi
