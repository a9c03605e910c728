#!/usr/bin/env bash
# The RPC benchmark of issue 6: unary echo (16 B, 1 KiB, 64 KiB) and server-streaming echo over
# TLS 1.3 on loopback, with 1 and 64 callers, against
#   c        Benchmarks/c: an epoll + OpenSSL echo server with 4-byte length-prefixed frames and its
#            load generator (the machine's limit)
#   bastion  Benchmarks' BastionEchoServer (BastionServer + the echo service, no interceptors),
#            loaded by `bastion bench`
#   bastion-cgen  the same server loaded by Benchmarks/c/loadgen speaking the Bastion protocol, to
#            tell the server's cost from the Swift client's
#   grpc     grpc-swift-2 2.4.3 + grpc-swift-nio-transport 2.9.2 (HTTP/2, NIOSSL), loaded by its own
#            client (Benchmarks' GRPCPeer)
# in alternating runs (each cell: every implementation in turn, then the next round), a fresh
# server per run. Reports the median over rounds of calls/s, p50, p99, server CPU (utime+stime
# from /proc/PID/stat over the run, in % of one core) and the server's peak RSS (VmHWM), as a
# Markdown table with ratios to C and to grpc-swift-2.
#
# usage: Benchmarks/rpc-bench.sh [--rounds N] [--duration S] [--warmup S] [--connections M]
#                                [--impls c,bastion,bastion-cgen,grpc] [--cells LIST] [--no-build]
#                                [--nice N]
#   --connections: connections the 64 callers share (default 4; 1 caller always uses 1)
#   --cells: comma-separated of u16-1,u16-64,u1k-1,u1k-64,u64k-1,u64k-64,s1k-1,s1k-64
#   --nice: run servers and clients at this niceness (e.g. -10 as root), so that builds running
#           beside the benchmark on a shared machine disturb it less
# BASTION_BIN and BASTION_SERVER_BIN name other builds of `bastion` and BastionEchoServer.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
rounds=2 duration=5 warmup=1 connections=4 build=1 niceness=0
impls="c,bastion,bastion-cgen,grpc"
cells="u16-1,u16-64,u1k-1,u1k-64,u64k-1,u64k-64,s1k-1,s1k-64"
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --warmup) warmup="$2"; shift 2 ;;
        --connections) connections="$2"; shift 2 ;;
        --impls) impls="$2"; shift 2 ;;
        --cells) cells="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        --nice) niceness="$2"; shift 2 ;;
        *) sed -n '2,27p' "$0" >&2; exit 2 ;;
    esac
done
repeat=1000  # responses per server-streaming call

if [ "$build" = 1 ]; then
    "$here/c/build-echo.sh"
    swift build -c release --package-path "$root" --product bastion
    # SwiftPM 6.3 keeps the benchmark package's build plan when only a file of the root package
    # (a path dependency here) was added, and then fails to find it: plan afresh.
    rm -f "$here/.build/release.yaml"
    swift build -c release --package-path "$here" --product BastionEchoServer
    swift build -c release --package-path "$here" --product GRPCPeer
fi
cbin="$here/c/.build"
benchbin="$(swift build -c release --package-path "$here" --show-bin-path)"
# Other builds can be compared by naming their binaries (e.g. a copy made before a change).
bastion="${BASTION_BIN:-$(swift build -c release --package-path "$root" --show-bin-path)/bastion}"
bastion_server="${BASTION_SERVER_BIN:-$benchbin/BastionEchoServer}"

work="$(mktemp -d)"
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
ticks="$(getconf CLK_TCK)"

start_server() {  # impl
    rm -f "$work/port"
    case "$1" in
        c) nice -n "$niceness" "$cbin/echo_server" -p 0 -c "$work/cert.pem" -k "$work/key.pem" -t 2 -f "$work/port" >/dev/null 2>&1 & ;;
        bastion|bastion-cgen) nice -n "$niceness" "$bastion_server" --cert "$work/cert.pem" --key "$work/key.pem" --port-file "$work/port" >/dev/null 2>&1 & ;;
        grpc) nice -n "$niceness" "$benchbin/GRPCPeer" serve --cert "$work/cert.pem" --key "$work/key.pem" --port-file "$work/port" >/dev/null 2>&1 & ;;
    esac
    server_pid=$!
    for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
    [ -s "$work/port" ] || { echo "the $1 server did not start" >&2; exit 1; }
    port="$(tr -d '\n' < "$work/port")"
}

stop_server() {
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }

run_client() {  # impl kind size callers conns
    local impl="$1" kind="$2" size="$3" callers="$4" conns="$5" threads=1
    [ "$conns" -gt 1 ] && threads=2
    case "$impl" in
        c) nice -n "$niceness" "$cbin/loadgen" -p "$port" -P c -k "$kind" -n "$callers" -m "$conns" -s "$size" -r "$repeat" \
               -d "$duration" -w "$warmup" -t "$threads" ;;
        bastion-cgen) nice -n "$niceness" "$cbin/loadgen" -p "$port" -P bastion -k "$kind" -n "$callers" -m "$conns" -s "$size" \
               -r "$repeat" -d "$duration" -w "$warmup" -t "$threads" ;;
        bastion)
            local k=unary
            [ "$kind" = stream ] && k=server-streaming
            nice -n "$niceness" "$bastion" bench --port "$port" --ca "$work/cert.pem" --server-name localhost --kind "$k" \
                --concurrency "$callers" --connections "$conns" --size "$size" --repeat "$repeat" \
                --duration "$duration" --warmup "$warmup" --quiet | grep '^RESULT' ;;
        grpc) nice -n "$niceness" "$benchbin/GRPCPeer" bench --port "$port" --kind "$kind" --concurrency "$callers" \
               --connections "$conns" --size "$size" --repeat "$repeat" --duration "$duration" \
               --warmup "$warmup" | grep '^RESULT' ;;
    esac
}

results="$work/results.tsv"
: > "$results"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr)," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg) at the start, niceness $niceness" >&2
for round in $(seq "$rounds"); do
    for cell in ${cells//,/ }; do
        case "${cell%%-*}" in
            u16) kind=unary size=16 ;; u1k) kind=unary size=1024 ;; u64k) kind=unary size=65536 ;;
            s1k) kind=stream size=1024 ;;
            *) echo "unknown cell $cell" >&2; exit 2 ;;
        esac
        callers="${cell##*-}"
        conns=1
        [ "$callers" -gt 1 ] && conns="$connections"
        for impl in ${impls//,/ }; do
            start_server "$impl"
            before="$(cpu_ticks)"
            t0="$(date +%s.%N)"
            line="$(run_client "$impl" "$kind" "$size" "$callers" "$conns" || echo "RESULT failed")"
            t1="$(date +%s.%N)"
            after="$(cpu_ticks)"
            rss="$(awk '/VmHWM/ { print $2 }' "/proc/$server_pid/status")"
            stop_server
            cpu="$(awk -v a="$after" -v b="$before" -v t="$ticks" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f", 100 * (a - b) / t / (t1 - t0) }')"
            echo "round $round $cell $impl: ${line#RESULT } cpu=$cpu% rss=${rss}kB" >&2
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cell" "$impl" "$round" "$line" "$cpu" "$rss" "$conns" >> "$results"
        done
    done
done

python3 - "$results" "$impls" "$cells" "$repeat" <<'PY'
import statistics, sys
path, impls, cells, repeat = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(","), sys.argv[4]
names = {"c": "C (OpenSSL, epoll)", "bastion": "Bastion", "bastion-cgen": "Bastion, C client", "grpc": "grpc-swift-2"}
rows = {}
for line in open(path):
    cell, impl, _round, result, cpu, rss, conns = line.rstrip("\n").split("\t")
    fields = dict(kv.split("=") for kv in result.split()[1:] if "=" in kv)
    if "calls_per_s" not in fields:
        continue
    rows.setdefault((cell, impl), []).append({
        "calls": float(fields["calls_per_s"]), "msgs": float(fields["msgs_per_s"]),
        "p50": float(fields["p50_us"]), "p99": float(fields["p99_us"]), "errors": int(fields["errors"]),
        "cpu": float(cpu), "rss": int(rss) / 1024, "conns": conns})
def med(cell, impl, key):
    values = [r[key] for r in rows.get((cell, impl), [])]
    return statistics.median(values) if values else None
def describe(cell):
    kind, callers = cell.split("-")
    what = {"u16": "unary 16 B", "u1k": "unary 1 KiB", "u64k": "unary 64 KiB", "s1k": f"stream {repeat} x 1 KiB"}[kind]
    return what, callers
print("| call | callers (conns) | server | calls/s | msgs/s | p50 µs | p99 µs | server CPU | max RSS MiB | calls/s vs C | calls/s vs grpc | p99 grpc/this |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for cell in cells:
    what, callers = describe(cell)
    for impl in impls:
        if (cell, impl) not in rows:
            continue
        conns = rows[(cell, impl)][0]["conns"]
        calls, msgs = med(cell, impl, "calls"), med(cell, impl, "msgs")
        c, g = med(cell, "c", "calls"), med(cell, "grpc", "calls")
        p99, gp99 = med(cell, impl, "p99"), med(cell, "grpc", "p99")
        vs_c = f"{calls / c:.2f}x" if c and impl != "c" else ""
        vs_g = f"{calls / g:.2f}x" if g and impl != "grpc" else ""
        p99r = f"{gp99 / p99:.2f}x" if gp99 and p99 and impl != "grpc" else ""
        errors = sum(r["errors"] for r in rows[(cell, impl)])
        mark = f" ({errors} errors)" if errors else ""
        print(f"| {what} | {callers} ({conns}) | {names.get(impl, impl)}{mark} | {calls:,.0f} | {msgs:,.0f} | "
              f"{med(cell, impl, 'p50'):,.1f} | {p99:,.1f} | {med(cell, impl, 'cpu'):.0f}% | "
              f"{med(cell, impl, 'rss'):.0f} | {vs_c} | {vs_g} | {p99r} |")
PY
