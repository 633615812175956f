#!/usr/bin/env bash
# Instructions per chat turn of link-server under callgrind, for the load harness's one-client
# turn (Cognito RS256 token, limiter, SQLite, audit `full`, OpenAI provider on mock-upstream):
# the figure BENCHMARKS.md's "Metrics and traces" table reads. Instruction counts repeat within
# about 1% whatever else the machine does, unlike CPU time.
#
#   benches/overhead.sh off                 # telemetry off
#   benches/overhead.sh metrics             # LINK_METRICS_LISTEN
#   benches/overhead.sh traces              # metrics + OTLP traces, every trace kept
#   benches/overhead.sh traces-sampled      # the same, 1 trace in 100 kept (SAMPLE_RATIO)
#
# AUDIT sets the audit content policy of every variant (`full`, the harness's, by default;
# `hash` keeps prompt and reply text out of the audit line and out of the spans), so that a
# variant differs from `off` by its telemetry only.
#
# Each variant runs link-server under `valgrind --tool=callgrind` twice, for TURNS_LOW (50)
# and TURNS_HIGH (250) turns on one keep-alive connection, and prints
# (I(high) - I(low)) / (high - low): start-up and shutdown cancel out. Needs the release
# binaries (`cargo build --release -p link-server -p link-benches --bins`; BIN overrides
# target/release). CALLGRIND_KEEP=DIR keeps the two profiles. All traffic stays on 127.0.0.1.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release}"
LOW="${TURNS_LOW:-50}"
HIGH="${TURNS_HIGH:-250}"
VARIANT="${1:-off}"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
# CALLGRIND_KEEP=DIR keeps the callgrind outputs there, for callgrind_annotate.
keep() { [[ -n "${CALLGRIND_KEEP:-}" ]] && mkdir -p "$CALLGRIND_KEEP" && cp "$WORK"/callgrind.*.out "$CALLGRIND_KEEP"/ ; true; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {
  for _ in $(seq 1 600); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.2; done
  echo "gave up waiting for $1" >&2; return 1
}

# The upstream and token minter, and an OTLP receiver that answers every export with 200.
"$BIN/mock-upstream" --port-file "$WORK/mock.port" > "$WORK/mock.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do [[ -s "$WORK/mock.port" ]] && break; sleep 0.1; done
MOCK="http://127.0.0.1:$(cat "$WORK/mock.port")"
wait_http "$MOCK/healthz"
TOKEN="$(curl -fsS "$MOCK/token?sub=bench-user&ttl=7200")"
OTLP_PORT="$(free_port)"
python3 - "$OTLP_PORT" > /dev/null 2>&1 <<'PY' &
import http.server, sys
class Ok(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Ok).serve_forever()
PY
PIDS+=($!)

traces_env=(LINK_METRICS_LISTEN=127.0.0.1:0 OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$OTLP_PORT")
variant_env=(LINK_AUDIT_CONTENT="${AUDIT:-full}")
case "$VARIANT" in
  off) ;;
  metrics) variant_env+=(LINK_METRICS_LISTEN=127.0.0.1:0) ;;
  traces) variant_env+=("${traces_env[@]}") ;;
  traces-sampled) variant_env+=("${traces_env[@]}" OTEL_TRACES_SAMPLER=parentbased_traceidratio
                                OTEL_TRACES_SAMPLER_ARG="${SAMPLE_RATIO:-0.01}") ;;
  *) echo "unknown variant $VARIANT (off, metrics, traces, traces-sampled)" >&2; exit 2 ;;
esac

PERSONA='{"name":"Ada Lovelace","kind":"historical","living":false,"description":"A mathematician and writer, known for her work on the Analytical Engine.","personality":"Curious, precise.","speaking_style":"Formal Victorian English.","setting":"London, 1840s.","knowledge":"Mathematics, the Analytical Engine.","must_not_know":"Anything after 1852.","greeting":"Good day. Shall we speak of engines?","example_lines":["The Engine weaves algebraic patterns."],"safety_notes":null}'

# Instructions link-server executed, start to SIGINT, with $1 turns.
instructions() {
  local turns="$1" port out
  port="$(free_port)"
  out="$WORK/callgrind.$turns"
  env LINK_LISTEN="127.0.0.1:$port" LINK_DATABASE="$WORK/link-$turns.sqlite" \
    LINK_PERSONA_PROVIDER=openai LINK_CHAT_PROVIDER=openai \
    OPENAI_BASE_URL="$MOCK/v1" OPENAI_API_KEY=bench-key \
    LINK_AUTH=cognito COGNITO_REGION=us-east-1 COGNITO_USER_POOL_ID=us-east-1_BenchPool \
    COGNITO_CLIENT_ID=bench-client COGNITO_TOKEN_USE=id COGNITO_JWKS_URL="$MOCK/jwks.json" \
    LINK_RATE_LIMIT_PER_MINUTE=1000000000 LINK_MAX_MODEL_CALLS_PER_USER=0 LINK_HISTORY_WINDOW=20 \
    RUST_LOG="warn,link::audit=info" "${variant_env[@]}" \
    valgrind --tool=callgrind --callgrind-out-file="$out.out" "$BIN/link-server" \
    > "$WORK/server-$turns.log" 2> "$out.err" &
  local pid=$!
  wait_http "http://127.0.0.1:$port/healthz"
  python3 - "$port" "$TOKEN" "$PERSONA" "$turns" <<'PY'
import http.client, json, sys
port, token, persona, turns = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=120)
headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
def post(path, body):
    conn.request("POST", path, json.dumps(body), headers)
    response = conn.getresponse()
    data = response.read()
    assert response.status in (200, 201), (response.status, data)
    return json.loads(data)
conversation = post("/v1/conversations", {"persona": persona})["id"]
message = {"content": "Tell me about the Analytical Engine, and what it could compute."}
for _ in range(turns):
    post(f"/v1/conversations/{conversation}/messages", message)
PY
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out.err"
}

low="$(instructions "$LOW")"
high="$(instructions "$HIGH")"
keep
python3 -c "import sys; l,h,a,b=map(int,sys.argv[1:]); print(f'$VARIANT (audit ${AUDIT:-full}): {(h-l)/(b-a)/1e6:.3f} M instructions/turn ({a} turns: {l}, {b} turns: {h})')" \
  "$low" "$high" "$LOW" "$HIGH"
