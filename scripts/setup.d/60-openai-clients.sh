#!/usr/bin/env bash
# The official OpenAI client libraries that link-server's OpenAI-compatible API is tested with
# (examples/server/tests/openai_clients.rs): the `openai` Python SDK (pip, in the same Python as
# moto and schemathesis) and the `openai` npm package under Node, installed into the project-local
# examples/server/tests/clients/node_modules. Versions are pinned so every machine runs the same
# clients. Idempotent: a no-op when both are already at those versions.
set -euo pipefail
python_version=3.60.0
node_version=6.30.1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
clients="$root/examples/server/tests/clients"
if [ "$(python3 -c 'import importlib.metadata as m; print(m.version("openai"))' 2>/dev/null)" != "$python_version" ]; then
  python3 -m pip install --quiet --disable-pip-version-check "openai==$python_version"
fi
installed="$(node -p "require('$clients/node_modules/openai/package.json').version" 2>/dev/null || true)"
if [ "$installed" != "$node_version" ]; then
  npm install --prefix "$clients" --no-audit --no-fund --silent --no-save "openai@$node_version"
fi
