#!/usr/bin/env bash
# The tools of the AWS deployment only (never needed to run or test Link): cargo-lambda (the
# Lambda cross-build), ziglang (the linker cargo-lambda cross-compiles with), aws-sam-cli
# (`sam deploy`) and cfn-lint (the template's linter), all from PyPI, into a virtualenv of
# their own so they touch neither the system's Python nor the test setup (scripts/setup.sh).
# Idempotent: a no-op when they are all there. Prints the venv's bin directory last, for PATH.
#
#   LINK_DEPLOY_TOOLS  where the venv goes (default: ~/.cache/link-deploy)
set -euo pipefail
tools="${LINK_DEPLOY_TOOLS:-$HOME/.cache/link-deploy}"
venv="$tools/venv"
bin="$venv/bin"
have_all() {
  [ -x "$bin/cargo-lambda" ] && [ -x "$bin/sam" ] && [ -x "$bin/cfn-lint" ] \
    && "$bin/python" -c 'import ziglang' >/dev/null 2>&1
}
if ! have_all; then
  python3 -m venv "$venv"
  "$bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$bin/python" -m pip install --quiet --disable-pip-version-check \
    'cargo-lambda>=1.8,<2' 'ziglang>=0.13,<0.16' 'aws-sam-cli>=1.140,<2' 'cfn-lint>=1.30,<2'
fi
# cargo-lambda finds zig on the PATH; the ziglang wheel ships the binary inside the package.
zig_dir="$("$bin/python" -c 'import ziglang, os; print(os.path.dirname(ziglang.__file__))')"
if [ ! -e "$bin/zig" ]; then
  ln -s "$zig_dir/zig" "$bin/zig"
fi
# The Rust standard libraries of both Lambda architectures (cargo lambda would add them on
# first use; done here so the build step itself downloads nothing).
if command -v rustup >/dev/null 2>&1; then
  rustup target add aarch64-unknown-linux-gnu x86_64-unknown-linux-gnu >/dev/null 2>&1
fi
have_all
echo "$bin"
