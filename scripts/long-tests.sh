#!/usr/bin/env bash
# The long checks that do not fit the README's test command (CI runs that one): the 200-turn
# conversation with the real local model and its rolling memory (5 to 20 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
cargo test --release -p link-local --test memory -- --ignored --nocapture
