#!/usr/bin/env bash
# The local model that link-local's tests, benchmarks and the examples run: fetched once into
# the cache directory (see scripts/fetch-model.sh), a quick no-op afterwards.
set -euo pipefail
bash "$(dirname "${BASH_SOURCE[0]}")/../fetch-model.sh" >/dev/null
