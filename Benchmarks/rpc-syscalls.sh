#!/usr/bin/env bash
# Socket reads, writes and context switches per call, server and client apart, for one unary
# cell of the RPC benchmark: the C echo server with its load generator, and BastionEchoServer with
# `bastion bench`. Counts come from /proc (syscr/syscw in PID/io, voluntary and involuntary
# switches summed over PID/task/*/status) over two seconds in the middle of the run, divided by
# the calls made in them. They show whether one side batches its reads and writes less than the
# other, which instruction counts do not.
#
# usage: Benchmarks/rpc-syscalls.sh [--size B] [--callers N] [--connections M] [--runs K]
# Needs the release builds rpc-bench.sh makes (run it once, or with --no-build after building).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
size=16 callers=64 connections=4 runs=1
while [ $# -gt 0 ]; do
    case "$1" in
        --size) size="$2"; shift 2 ;;
        --callers) callers="$2"; shift 2 ;;
        --connections) connections="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        *) sed -n '2,11p' "$0" >&2; exit 2 ;;
    esac
done
cbin="$here/c/.build"
bastion="${BASTION_BIN:-$(swift build -c release --package-path "$root" --show-bin-path)/bastion}"
bastion_server="${BASTION_SERVER_BIN:-$(swift build -c release --package-path "$here" --show-bin-path)/BastionEchoServer}"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

counts() {  # pid: syscr syscw voluntary involuntary
    local io switches
    io="$(awk '/^syscr|^syscw/ { printf "%s ", $2 }' "/proc/$1/io")"
    switches="$(cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt/ { v += $2 } /^nonvoluntary_ctxt/ { n += $2 } END { print v, n }')"
    echo "$io$switches"
}

measure() {  # impl
    rm -f "$work/port"
    if [ "$1" = c ]; then
        "$cbin/echo_server" -p 0 -c "$work/cert.pem" -k "$work/key.pem" -t 2 -f "$work/port" >/dev/null 2>&1 &
    else
        "$bastion_server" --cert "$work/cert.pem" --key "$work/key.pem" --port-file "$work/port" >/dev/null 2>&1 &
    fi
    local server=$! client
    for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
    if [ "$1" = c ]; then
        "$cbin/loadgen" -p "$(cat "$work/port")" -P c -k unary -n "$callers" -m "$connections" -s "$size" -r 1 -d 4 -w 1 -t 2 >"$work/out" 2>&1 &
    else
        "$bastion" bench --port "$(cat "$work/port")" --ca "$work/cert.pem" --server-name localhost --concurrency "$callers" \
            --connections "$connections" --size "$size" --duration 4 --warmup 1 --quiet >"$work/out" 2>&1 &
    fi
    client=$!
    sleep 1.5
    local before after
    before="$(counts "$server") $(counts "$client")"
    sleep 2
    after="$(counts "$server") $(counts "$client")"
    wait "$client"
    kill "$server"; wait "$server" 2>/dev/null || true
    local rate
    rate="$(grep -o 'calls_per_s=[0-9]*' "$work/out" | cut -d= -f2)"
    python3 - "$1" "$before" "$after" "$rate" <<'PY'
import sys
impl, before, after, rate = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), float(sys.argv[4])
calls = rate * 2  # the two seconds between the readings
per = [(int(b) - int(a)) / calls for a, b in zip(before, after)]
print(f"| {impl} | {rate:,.0f} | " + " | ".join(f"{v:.3f}" for v in per) + " |")
PY
}

echo "unary $size B, $callers callers on $connections connections; per call:"
echo "| server | calls/s | server reads | server writes | server voluntary switches | server involuntary | client reads | client writes | client voluntary | client involuntary |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for _ in $(seq "$runs"); do
    measure c
    measure bastion
done
