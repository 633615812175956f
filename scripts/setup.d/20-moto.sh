#!/usr/bin/env bash
# A local Amazon Cognito for link-auth's emulator test: moto's server (moto_server) and boto3;
# and the Prometheus Python client, whose text parser reads link-server's /metrics in its test.
# Idempotent: a no-op when all are already importable and moto_server is on the PATH.
set -euo pipefail
if command -v moto_server >/dev/null 2>&1 \
  && python3 -c 'import moto, boto3, flask, flask_cors, joserfc, prometheus_client' >/dev/null 2>&1; then
  exit 0
fi
python3 -m pip install --quiet --disable-pip-version-check 'moto[server]>=5,<6' 'boto3>=1.34' \
  'prometheus-client>=0.20,<1'
# pyenv installs console scripts behind shims that need a rehash to appear on the PATH.
if command -v pyenv >/dev/null 2>&1; then
  pyenv rehash || true
fi
