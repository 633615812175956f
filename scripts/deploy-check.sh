#!/usr/bin/env bash
# The deployment's checks, without an AWS account: the template passes cfn-lint and
# `sam validate --lint` (both offline), and the Lambda bootstrap cross-builds for the
# default architecture (arm64) and is an ELF executable for it. Not part of .ci/run: the
# release cross-build alone takes far longer than the test suite's build (see the README).
#
#   LINK_ARCH  architecture to build for (default arm64)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tools="$(bash scripts/deploy-setup.sh | tail -n 1)"
export PATH="$tools:$PATH"
export SAM_CLI_TELEMETRY=0
arch="${LINK_ARCH:-arm64}"

echo "== cfn-lint $(cfn-lint --version)"
cfn-lint deploy/template.yaml
echo "== sam validate --lint"
sam validate --lint --template deploy/template.yaml --region us-east-1

echo "== cargo lambda build --release ($arch)"
started=$(date +%s)
LINK_ARCH="$arch" bash scripts/deploy-build.sh
seconds=$(( $(date +%s) - started ))
bootstrap=deploy/.build/link-server/bootstrap
# The ELF header: the magic, 64-bit class, and the machine (183 aarch64, 62 x86-64).
magic="$(od -An -tx1 -N4 "$bootstrap" | tr -d ' \n')"
class="$(od -An -tu1 -j4 -N1 "$bootstrap" | tr -d ' \n')"
machine="$(od -An -tu2 -j18 -N2 "$bootstrap" | tr -d ' \n')"
case "$arch" in
  arm64) expected=183 ;;
  x86_64) expected=62 ;;
esac
if [ ! -x "$bootstrap" ] || [ "$magic" != 7f454c46 ] || [ "$class" != 2 ] \
  || [ "$machine" != "$expected" ]; then
  echo "FAIL: $bootstrap is not a 64-bit $arch executable (ELF machine $machine)" >&2
  exit 1
fi
echo "bootstrap: $(du -h "$bootstrap" | cut -f1), 64-bit ELF for $arch (machine $machine)"
echo "built in ${seconds}s"
echo "deploy check passed"
