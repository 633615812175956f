#!/usr/bin/env bash
# The main job: installs what the build needs, fetches the local model, then starts
# link-server with its embedded defaults (127.0.0.1:8080, SQLite, dev auth, the local model).
# Flags after the command go to link-server (see `./scripts/run.sh --help`); configuration also
# comes from the environment and .env (see the README).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec cargo run --release -p link-server -- "$@"
