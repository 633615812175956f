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
description="$(file -b "$bootstrap")"
case "$arch" in
  arm64) expected="ARM aarch64" ;;
  x86_64) expected="x86-64" ;;
esac
case "$description" in
  *ELF\ 64-bit*executable*"$expected"*|*ELF\ 64-bit*"$expected"*executable*) ;;
  *) echo "FAIL: $bootstrap is not an $arch executable: $description" >&2; exit 1 ;;
esac
echo "bootstrap: $(du -h "$bootstrap" | cut -f1), $description"
echo "built in ${seconds}s"
echo "deploy check passed"
