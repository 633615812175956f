#!/usr/bin/env bash
# rustfmt and clippy for the checks in .ci/run.
set -euo pipefail
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add rustfmt clippy
fi
