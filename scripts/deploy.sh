#!/usr/bin/env bash
# Deploys Link's reference architecture (deploy/template.yaml) to the AWS account of the
# current AWS credentials: installs the deploy tools (scripts/deploy-setup.sh), builds the
# Lambda bootstrap with cargo lambda (scripts/deploy-build.sh), then `sam deploy`. The first
# run is `sam deploy --guided`: it asks for the stack name, region and parameters and saves
# the answers in deploy/samconfig.toml, which later runs reuse.
#
#   LINK_ARCH  arm64 (default) or x86_64. Changing it on a deployed stack re-runs the guided
#              deploy, so that the Architecture parameter changes with the build.
# Extra arguments go to `sam deploy` (e.g. --no-confirm-changeset).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tools="$(bash scripts/deploy-setup.sh | tail -n 1)"
export PATH="$tools:$PATH"
export SAM_CLI_TELEMETRY=0
config=deploy/samconfig.toml

# The architecture the stack was deployed with, if it was.
saved=""
if [ -f "$config" ]; then
  saved="$(grep -o 'Architecture=\\*"*[a-z0-9_]*' "$config" | head -n 1 | sed 's/.*=[\\"]*//')" || true
fi
arch="${LINK_ARCH:-${saved:-arm64}}"

LINK_ARCH="$arch" bash scripts/deploy-build.sh
cd deploy
if [ ! -f samconfig.toml ] || [ "$arch" != "${saved:-arm64}" ]; then
  sam deploy --guided --capabilities CAPABILITY_IAM \
    --parameter-overrides "Architecture=$arch" "$@"
else
  sam deploy "$@"
fi
stack="$(grep -m 1 '^stack_name' samconfig.toml | cut -d '"' -f 2)"
sam list stack-outputs --stack-name "$stack" --output table
