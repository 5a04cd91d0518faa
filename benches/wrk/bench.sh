#!/usr/bin/env bash
# One bounded wrk load run against a server on loopback; prints one line:
#   NAME  REQ/S  P50  P99  NON2XX  SOCKET_ERRORS
# (Kept with the units bench, which runs it: benches/units.rs.)
# Usage: bench.sh NAME URL [METHOD] [BODY_FILE] [HEADER]
#   METHOD     GET (default) or POST/PUT/...; a BODY_FILE is sent as application/json (wrk_body.lua)
#   HEADER     one extra header, e.g. 'Authorization: Bearer abc'
# Environment: THREADS=2 CONNS=64 DURATION=10s WARMUP=3s (WARMUP=0 skips), LOG_DIR=runs,
#              HEADER_LINE=1 prints the column header first.
# It starts nothing: the server must already be listening. Only 127.0.0.1 / localhost / [::1] are accepted.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NAME="${1:?name}"; URL="${2:?url}"; METHOD="${3:-GET}"; BODY="${4:-}"; HEADER="${5:-}"
THREADS="${THREADS:-2}"; CONNS="${CONNS:-64}"; DURATION="${DURATION:-10s}"; WARMUP="${WARMUP:-3s}"
LOG_DIR="${LOG_DIR:-$HERE/runs}"
WRK="${WRK:-/usr/bin/wrk}"

case "$URL" in
  http://127.0.0.1:*|http://127.0.0.1/*|http://localhost:*|http://localhost/*|http://\[::1\]:*) ;;
  *) echo "bench.sh: refusing $URL - loopback targets only" >&2; exit 2 ;;
esac
if [[ -n "$BODY" && ! -r "$BODY" ]]; then echo "bench.sh: cannot read body file $BODY" >&2; exit 2; fi

args=(-t "$THREADS" -c "$CONNS" --timeout 5s)
[[ -n "$HEADER" ]] && args+=(-H "$HEADER")
export WRK_METHOD="$METHOD" WRK_BODY_FILE="${BODY:+$(readlink -f "$BODY")}"
args+=(-s "$HERE/wrk_body.lua")

to_ms() { # wrk prints 812.00us / 1.23ms / 2.01s / 1.00m
  awk -v v="$1" 'BEGIN{ n=v+0; u=v; sub(/^[0-9.]+/,"",u);
    if(u=="us") n/=1000; else if(u=="s") n*=1000; else if(u=="m") n*=60000; printf "%.2f", n }'
}

mkdir -p "$LOG_DIR"
log="$LOG_DIR/$(date +%Y%m%d-%H%M%S)-${NAME//[^A-Za-z0-9_.-]/_}.wrk.txt"
if [[ "$WARMUP" != "0" ]]; then
  timeout 60 "$WRK" "${args[@]}" -d "$WARMUP" "$URL" > /dev/null
fi
timeout 120 "$WRK" "${args[@]}" -d "$DURATION" --latency "$URL" > "$log"

rps=$(awk '/^Requests\/sec:/{print $2}' "$log")
p50=$(awk '/Latency Distribution/{f=1;next} f&&$1=="50%"{print $2; exit}' "$log")
p99=$(awk '/Latency Distribution/{f=1;next} f&&$1=="99%"{print $2; exit}' "$log")
non2xx=$(awk -F': ' '/Non-2xx or 3xx responses/{print $2}' "$log"); non2xx="${non2xx:-0}"
sockerr=$(awk '/Socket errors:/{gsub(",",""); print $4+$6+$8+$10}' "$log"); sockerr="${sockerr:-0}"
if [[ "${HEADER_LINE:-0}" == "1" ]]; then
  printf '%-34s %10s %10s %10s %8s %8s\n' name req/s p50_ms p99_ms non2xx sockerr
fi
printf '%-34s %10s %10s %10s %8s %8s\n' "$NAME" "$rps" "$(to_ms "$p50")" "$(to_ms "$p99")" "$non2xx" "$sockerr"
