#!/usr/bin/env bash
# Cross-builds link-server for AWS Lambda (provided.al2023) with cargo lambda and puts the
# bootstrap where deploy/template.yaml's CodeUri points (deploy/.build/link-server/).
# The local model (llama.cpp) is left out: the deployment uses Bedrock.
#
#   LINK_ARCH  arm64 (default, Graviton) or x86_64; must match the stack's Architecture
# Needs the deploy tools on the PATH (scripts/deploy-setup.sh prints where they are).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
arch="${LINK_ARCH:-arm64}"
case "$arch" in
  arm64) flag=--arm64 ;;
  x86_64) flag=--x86-64 ;;
  *) echo "LINK_ARCH must be arm64 or x86_64, not '$arch'" >&2; exit 2 ;;
esac
cargo lambda build --release "$flag" -p link-server --bin link-server \
  --no-default-features --features lambda
target="${CARGO_TARGET_DIR:-target}"
mkdir -p deploy/.build/link-server
cp "$target/lambda/link-server/bootstrap" deploy/.build/link-server/bootstrap
echo "deploy/.build/link-server/bootstrap ($arch)"
