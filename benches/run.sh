#!/usr/bin/env bash
# Link's load harness: builds, installs oha and the Flask baseline, then measures, in one go,
# direct-to-mock, link-server and the baseline (request latency at 1 client, at fixed 500 and
# 2000 req/s, saturation at 32 clients; streaming at 1/64/256 concurrent streams; RSS idle,
# under load and after a soak), and the CPU each target's processes spent per turn served in
# every scenario (utime+stime from /proc over the 2xx answers or whole streams). Writes results.json and results.md into $BENCH_OUT.
#
#   benches/run.sh                                   # full run (5-minute soak)
#   BENCH_SECS=3 BENCH_SOAK_SECS=20 benches/run.sh   # a quick check that everything works
#
# Knobs (environment): BENCH_SECS (seconds per load point, 10), BENCH_SOAK_SECS (300),
# BENCH_STREAM_ROUNDS (streams per concurrent client, 3), MOCK_CHUNKS (20), MOCK_GAP_MS (5),
# MOCK_TTFT_MS (0), MOCK_REPLY_BYTES (400), BENCH_OUT (benches/results/<time>),
# BENCH_TOOLS (cache for oha and the venv, ~/.cache/link-bench), BENCH_SKIP_BUILD=1,
# BENCH_SKIP_BASELINE=1. All traffic stays on 127.0.0.1; every wait is bounded.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECS="${BENCH_SECS:-10}"
SOAK="${BENCH_SOAK_SECS:-300}"
ROUNDS="${BENCH_STREAM_ROUNDS:-3}"
export MOCK_CHUNKS="${MOCK_CHUNKS:-20}" MOCK_GAP_MS="${MOCK_GAP_MS:-5}"
export MOCK_TTFT_MS="${MOCK_TTFT_MS:-0}" MOCK_REPLY_BYTES="${MOCK_REPLY_BYTES:-400}"
OUT="${BENCH_OUT:-$ROOT/benches/results/$(date -u +%Y%m%dT%H%M%SZ)}"
TOOLS="${BENCH_TOOLS:-$HOME/.cache/link-bench}"
RAW="$OUT/raw"
mkdir -p "$RAW" "$TOOLS"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"
PIDS=()

log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits (at most 60 s) until GET $1 answers 200.
wait_http() {
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  log "gave up waiting for $1"; return 1
}

rss_kb() { # total VmRSS of the given pids and their children
  local total=0 pid
  for pid in "$@" $(for p in "$@"; do pgrep -P "$p" || true; done); do
    total=$((total + $(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

# utime+stime (clock ticks) of the given pids and their children, summed.
cpu_ticks() {
  local total=0 pid stat fields
  for pid in "$@" $(for p in "$@"; do pgrep -P "$p" || true; done); do
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || continue
    read -r -a fields <<< "${stat##*) }" # fields[11], fields[12]: utime, stime
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}

# Runs "$@" and writes the CPU ticks CPU_PIDS used meanwhile, and the clock's tick rate, to $1.
with_cpu() {
  local file="$1"; shift
  local before status=0; before="$(cpu_ticks "${CPU_PIDS[@]}")"
  "$@" || status=$?
  echo "$(( $(cpu_ticks "${CPU_PIDS[@]}") - before )) $(getconf CLK_TCK)" > "$file"
  return "$status"
}

# Samples RSS of pids every second into $1 while $2 (a pid) runs; bounded by $3 seconds.
sample_rss() {
  local file="$1" watch="$2" limit="$3"; shift 3
  for _ in $(seq 1 "$limit"); do
    kill -0 "$watch" 2>/dev/null || break
    echo "$(date +%s) $(rss_kb "$@")" >> "$file"
    sleep 1
  done
}

build() {
  [[ "${BENCH_SKIP_BUILD:-0}" == 1 ]] && return
  log "building release binaries"
  (cd "$ROOT" && cargo build --release -p link-server -p link-benches --bins)
}

install_oha() {
  if command -v oha >/dev/null; then OHA="$(command -v oha)"; return; fi
  OHA="$TOOLS/bin/oha"
  if [[ ! -x "$OHA" ]]; then
    log "installing oha (cargo install, cached in $TOOLS)"
    cargo install oha --locked --root "$TOOLS"
  fi
}

install_baseline() {
  VENV="$TOOLS/venv"
  if [[ ! -x "$VENV/bin/gunicorn" ]]; then
    log "installing the Flask baseline into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r "$ROOT/benches/baseline/requirements.txt"
  fi
}

# oha against $1 (url) with label $2, extra oha args after. Body/headers from OHA_ARGS.
run_oha() {
  local url="$1" label="$2"; shift 2
  log "oha $label $*"
  with_cpu "$RAW/$label.cpu" timeout $((SECS + 60)) "$OHA" --no-tui --output-format json -z "${SECS}s" "$@" "${OHA_ARGS[@]}" "$url" \
    > "$RAW/$label.json" 2> "$RAW/$label.err" || log "oha $label failed (see $RAW/$label.err)"
}

# The request scenarios against one target: 1 client, fixed 500 and 2000 req/s, 32 clients.
request_scenarios() {
  local url="$1" name="$2"
  run_oha "$url" "$name.c1" -c 1
  run_oha "$url" "$name.q500" -c 32 -q 500
  run_oha "$url" "$name.q2000" -c 32 -q 2000
  run_oha "$url" "$name.c32" -c 32
}

# The streaming scenarios: 1, 64 and 256 concurrent streams.
stream_scenarios() {
  local url="$1" name="$2" format="$3" body="$4"
  for n in 1 64 256; do
    log "sse-load $name $n streams"
    with_cpu "$RAW/$name.s$n.cpu" timeout 300 "$BIN/sse-load" --url "$url" --format "$format" --body "$body" --concurrency "$n" \
      --rounds "$ROUNDS" --expect-chunks "$MOCK_CHUNKS" --timeout-secs 60 \
      > "$RAW/$name.s$n.json" 2> "$RAW/$name.s$n.err" || log "sse-load $name $n failed"
  done
}

start_mock() {
  "$BIN/mock-upstream" --port-file "$RAW/mock.port" > "$RAW/mock.log" 2>&1 &
  PIDS+=($!); MOCK_PID=$!; CPU_PIDS=("$MOCK_PID")
  for _ in $(seq 1 100); do [[ -s "$RAW/mock.port" ]] && break; sleep 0.1; done
  MOCK="http://127.0.0.1:$(cat "$RAW/mock.port")"
  wait_http "$MOCK/healthz"
  TOKEN="$(curl -fsS "$MOCK/token?sub=bench-user&ttl=$((SOAK + 7200))")"
}

PERSONA='{"name":"Ada Lovelace","kind":"historical","living":false,"description":"A mathematician and writer, known for her work on the Analytical Engine.","personality":"Curious, precise.","speaking_style":"Formal Victorian English.","setting":"London, 1840s.","knowledge":"Mathematics, the Analytical Engine.","must_not_know":"Anything after 1852.","greeting":"Good day. Shall we speak of engines?","example_lines":["The Engine weaves algebraic patterns."],"safety_notes":null}'
MESSAGE='{"content":"Tell me about the Analytical Engine, and what it could compute."}'

new_conversation() { # $1 base url -> conversation id
  curl -fsS -X POST "$1/v1/conversations" -H "authorization: Bearer $TOKEN" \
    -H 'content-type: application/json' -d "{\"persona\": $PERSONA}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

direct() {
  log "direct to the mock (calibration)"
  local body
  body="$(python3 - <<'PY'
import json
msgs=[{"role":"system","content":"You are playing a character. "*40}]
msgs+=[{"role":"user" if i%2 else "assistant","content":"Message %d about the Analytical Engine."%i} for i in range(20)]
print(json.dumps({"model":"gpt-4o-mini","messages":msgs,"max_tokens":512}))
PY
)"
  OHA_ARGS=(-m POST -H 'content-type: application/json' -d "$body")
  request_scenarios "$MOCK/v1/chat/completions" direct
  local stream_body
  stream_body="$(echo "$body" | python3 -c 'import json,sys; b=json.load(sys.stdin); b["stream"]=True; b["stream_options"]={"include_usage":True}; print(json.dumps(b))')"
  stream_scenarios "$MOCK/v1/chat/completions" direct openai "$stream_body"
}

# Runs the request and stream scenarios plus RSS sampling against a started server.
measure_server() {
  local base="$1" name="$2"; shift 2
  local pids=("$@")
  sleep 2
  echo "$(rss_kb "${pids[@]}")" > "$RAW/$name.rss_idle"
  local conv
  conv="$(new_conversation "$base")"
  OHA_ARGS=(-m POST -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "$MESSAGE")
  sleep 1000000 & local sampler_clock=$!
  sample_rss "$RAW/$name.rss_load" "$sampler_clock" $((SECS * 8 + 600)) "${pids[@]}" &
  local sampler=$!
  request_scenarios "$base/v1/conversations/$conv/messages" "$name"
  conv="$(new_conversation "$base")"
  SSE_LOAD_BEARER="$TOKEN" stream_scenarios "$base/v1/conversations/$conv/messages" "$name" link "$MESSAGE"
  kill "$sampler_clock" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  log "$name soak: ${SOAK}s at 200 req/s"
  conv="$(new_conversation "$base")"
  local soak_secs="$SECS"; SECS="$SOAK"
  run_oha "$base/v1/conversations/$conv/messages" "$name.soak" -c 8 -q 200 &
  local soak_pid=$!
  sample_rss "$RAW/$name.rss_soak" "$soak_pid" $((SOAK + 120)) "${pids[@]}"
  wait "$soak_pid" || true
  SECS="$soak_secs"
  sleep 2
  echo "$(rss_kb "${pids[@]}")" > "$RAW/$name.rss_after_soak"
}

link_server() {
  log "link-server (cognito RS256, SQLite, audit on)"
  local port; port="$(free_port)"
  LINK_LISTEN="127.0.0.1:$port" LINK_DATABASE="$RAW/link.sqlite" \
  LINK_PERSONA_PROVIDER=openai LINK_CHAT_PROVIDER=openai \
  OPENAI_BASE_URL="$MOCK/v1" OPENAI_API_KEY=bench-key \
  LINK_AUTH=cognito COGNITO_REGION=us-east-1 COGNITO_USER_POOL_ID=us-east-1_BenchPool \
  COGNITO_CLIENT_ID=bench-client COGNITO_TOKEN_USE=id COGNITO_JWKS_URL="$MOCK/jwks.json" \
  LINK_RATE_LIMIT_PER_MINUTE=1000000000 LINK_MAX_MODEL_CALLS_PER_USER=0 LINK_AUDIT_CONTENT=full LINK_HISTORY_WINDOW=20 \
  LINK_MAX_MESSAGES_PER_CONVERSATION=1000000000 LINK_MAX_STORED_BYTES_PER_USER=1000000000000 \
  RUST_LOG="warn,link::audit=info" \
    "$BIN/link-server" > "$RAW/link-server.log" 2>&1 &
  local pid=$!; PIDS+=("$pid"); CPU_PIDS=("$pid")
  wait_http "http://127.0.0.1:$port/healthz"
  measure_server "http://127.0.0.1:$port" link "$pid"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

baseline() {
  [[ "${BENCH_SKIP_BASELINE:-0}" == 1 ]] && return
  log "baseline (Flask + flask-limiter + PyJWT + requests under gunicorn)"
  local port; port="$(free_port)"
  local workers=$(( $(nproc) * 2 + 1 ))
  BASELINE_UPSTREAM="$MOCK/v1" BASELINE_JWKS_URL="$MOCK/jwks.json" \
  BASELINE_ISSUER="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_BenchPool" \
  BASELINE_CLIENT_ID=bench-client BASELINE_DATABASE="$RAW/baseline.sqlite" \
  BASELINE_RATE_LIMIT="1000000000/minute" \
    "$VENV/bin/gunicorn" --chdir "$ROOT/benches/baseline" -b "127.0.0.1:$port" \
      -w "$workers" -k gthread --threads 32 --timeout 120 app:app > "$RAW/baseline.log" 2>&1 &
  local pid=$!; PIDS+=("$pid"); CPU_PIDS=("$pid")
  wait_http "http://127.0.0.1:$port/healthz"
  measure_server "http://127.0.0.1:$port" baseline "$pid"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

machine() {
  python3 - "$OUT/machine.json" <<'PY'
import json, os, re, sys
cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read())
mem = re.search(r"MemTotal:\s*(\d+)", open("/proc/meminfo").read())
load = open("/proc/loadavg").read().split()[:3]
json.dump({"nproc": os.cpu_count(), "cpu": cpu.group(1) if cpu else "unknown",
           "mem_gib": round(int(mem.group(1)) / 1048576, 1) if mem else None,
           "loadavg_at_start": load}, open(sys.argv[1], "w"), indent=2)
PY
}

build
install_oha
[[ "${BENCH_SKIP_BASELINE:-0}" == 1 ]] || install_baseline
machine
start_mock
direct
link_server
baseline
python3 "$ROOT/benches/summarize.py" "$OUT" "BENCH_SECS=$SECS BENCH_SOAK_SECS=$SOAK BENCH_STREAM_ROUNDS=$ROUNDS MOCK_CHUNKS=$MOCK_CHUNKS MOCK_GAP_MS=$MOCK_GAP_MS benches/run.sh"
log "results: $OUT/results.md"
