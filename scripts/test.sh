#!/usr/bin/env bash
# The test command: installs what the tests need, then runs every test of the workspace
# (unit, integration and doc tests).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
cargo test --workspace --all-features --all-targets
cargo test --workspace --all-features --doc
