#!/usr/bin/env bash
# The persona evaluation of the offline default (issue 16): builds persona-eval and runs it on
# every character with the default model and settings, writing report.md and results.json
# into $EVAL_OUT. Not a test and not part of CI: it takes minutes and measures, not asserts.
#
#   benches/eval.sh                       # every character, seed 7
#   benches/eval.sh --only Holmes         # extra arguments go to persona-eval
#
# Knobs (environment): EVAL_SEED (7; "random" for a fresh seed per request), EVAL_OUT
# (benches/results/eval-<time>), LINK_MODEL_PATH, CARGO_TARGET_DIR.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${EVAL_OUT:-$ROOT/benches/results/eval-$(date -u +%Y%m%dT%H%M%SZ)}"
SEED="${EVAL_SEED:-7}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"

# The dev profile builds llama.cpp optimised (see the workspace Cargo.toml); the Rust side of
# the harness does not need more.
cargo build --manifest-path "$ROOT/Cargo.toml" -p link-benches --bin persona-eval >&2
seed=()
[ "$SEED" = random ] || seed=(--seed "$SEED")
"$TARGET/debug/persona-eval" "${seed[@]}" --out "$OUT" "$@"
echo "written to $OUT" >&2
