#!/usr/bin/env bash
# Instructions per RPC call, server and client apart, counted by callgrind: a figure that does not
# move with the machine's load (wall-clock numbers on a shared machine move by 2x). Runs
# Benchmarks' RPCProfile (a real BastionServer and BastionClientConnection in one process, over
# loopback) twice under `valgrind --tool=callgrind --separate-threads=yes`, with --calls A and B,
# and divides the difference of the instruction counts by B - A, so that start-up, certificate
# generation and the TLS handshakes cancel out. The server's and the client's event loops are
# threads of their own; everything else (the main thread, the concurrency pool) is "other".
#
# usage: Benchmarks/rpc-instructions.sh [--cells LIST] [--calls A,B] [--tls true|false] [--no-build]
#                                       [--binary PATH] [--keep DIR]
#   --cells: comma-separated of u16-1,u16-64,u1k-1,u1k-64,u64k-1,s1k-1 (default u16-1,u16-64,u1k-1,s1k-1)
#            (64 callers use 4 connections; s1k is one request and 100 responses of 1 KiB, per call)
#   --binary: another build of RPCProfile (to compare a change with what it replaces)
#   --keep: leave the callgrind files in DIR (callgrind_annotate them for a profile)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cells="u16-1,u16-64,u1k-1,s1k-1" calls="500,2500" tls=true build=1 binary="" keep=""
while [ $# -gt 0 ]; do
    case "$1" in
        --cells) cells="$2"; shift 2 ;;
        --calls) calls="$2"; shift 2 ;;
        --tls) tls="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        --binary) binary="$2"; shift 2 ;;
        --keep) keep="$2"; shift 2 ;;
        *) sed -n '2,16p' "$0" >&2; exit 2 ;;
    esac
done
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
if [ -z "$binary" ]; then
    [ "$build" = 1 ] && swift build -c release --package-path "$here" --product RPCProfile >&2
    binary="$(swift build -c release --package-path "$here" --show-bin-path)/RPCProfile"
fi
a="${calls%,*}" b="${calls#*,}"
work="${keep:-$(mktemp -d)}"
mkdir -p "$work"
[ -z "$keep" ] && trap 'rm -rf "$work"' EXIT
# valgrind 3.19 gives up on the DWARF 5 that Swift 6.3 writes: profile a copy without it (the
# symbol table stays, so functions keep their names).
strip --strip-debug -o "$work/RPCProfile" "$binary"
binary="$work/RPCProfile"

# Prints "server client other" instruction totals of one run. The server's event loop is the
# thread that runs the most ServerConnectionHandler functions, the client's the other thread that
# runs the most ClientConnectionHandler ones (the main thread runs a few of both while it
# starts the server and connects, and which thread number it gets varies).
count() {  # name args...
    local name="$1"; shift
    rm -f "$work/$name".*
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$work/$name.%p" \
        "$binary" "$@" >/dev/null 2>"$work/$name.log"
    python3 - "$work" "$name" <<'PY'
import glob, re, subprocess, sys
work, name = sys.argv[1], sys.argv[2]
totals, mentions = {}, {}
for path in sorted(glob.glob(f"{work}/{name}.*-*")):
    text = open(path, errors="replace").read()
    m = re.search(r"^summary: (\d+)", text, re.M) or re.search(r"^totals: (\d+)", text, re.M)
    totals[path] = int(m.group(1)) if m else 0
    mentions[path] = (text.count("ServerConnectionHandler"), text.count("ClientConnectionHandler"))
# The loops' threads are the ones that run the most of each handler's code (the main thread
# also touches both, while it connects and starts the server).
server_thread = max(totals, key=lambda p: mentions[p][0])
client_thread = max((p for p in totals if p != server_thread), key=lambda p: mentions[p][1])
server, client = totals[server_thread], totals[client_thread]
other = sum(totals.values()) - server - client
print(server, client, other)
PY
}

printf '| cell | server instr/call | client instr/call | other instr/call | total instr/call |\n|---|---:|---:|---:|---:|\n'
for cell in ${cells//,/ }; do
    kind=unary size=16 repeat=100
    case "${cell%%-*}" in
        u16) size=16 ;; u1k) size=1024 ;; u64k) size=65536 ;;
        s1k) kind=server-streaming size=1024 ;;
        *) echo "unknown cell $cell" >&2; exit 2 ;;
    esac
    callers="${cell##*-}" conns=1
    [ "$callers" -gt 1 ] && conns=4
    args=(--callers "$callers" --connections "$conns" --size "$size" --kind "$kind" --repeat "$repeat" --tls "$tls")
    read -r s1 c1 o1 < <(count "$cell-a" --calls "$a" "${args[@]}")
    read -r s2 c2 o2 < <(count "$cell-b" --calls "$b" "${args[@]}")
    python3 -c "
import sys
a, b = $a, $b
s, c, o = ($s2 - $s1) / (b - a), ($c2 - $c1) / (b - a), ($o2 - $o1) / (b - a)
print(f'| $cell | {s:,.0f} | {c:,.0f} | {o:,.0f} | {s + c + o:,.0f} |')
"
done
