#!/usr/bin/env bash
# Installs what this machine needs to build, run and test Link: every script in
# scripts/setup.d/, in name order. Each one is idempotent and quick when there is nothing to do.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for step in "$here"/setup.d/*.sh; do
  [ -e "$step" ] || continue
  bash "$step"
done
