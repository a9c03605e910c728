#!/usr/bin/env bash
# Starts a real `bastiond --dev` on a free port in a temporary data folder, runs a command against
# it, and stops the server (SIGTERM, so it drains) unless the command already did.
#
#   Tools/conformance/with-bastiond.sh [--bastiond PATH] [-- bastiond options] -- COMMAND ...
#
# The command sees BASTION_HOST, BASTION_PORT, BASTION_CA_FILE, BASTION_CERT_FILE,
# BASTION_KEY_FILE (the development client certificate), BASTION_ADMIN_SOCKET and BASTIOND_PID.
# Without --bastiond (or $BASTIOND) the server is built with `swift build --product bastiond`.
# Exits with the command's status.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
bastiond=${BASTIOND:-}
server_options=()
while [ $# -gt 0 ]; do
    case "$1" in
        --bastiond) bastiond=$2; shift 2 ;;
        --server-option) server_options+=("$2"); shift 2 ;;
        --) shift; break ;;
        *) echo "with-bastiond.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ $# -gt 0 ] || { echo "usage: with-bastiond.sh [--bastiond PATH] [--server-option OPT]... -- COMMAND ..." >&2; exit 2; }
if [ -z "$bastiond" ]; then
    (cd "$repo" && swift build --product bastiond >&2)
    bastiond="$(cd "$repo" && swift build --show-bin-path)/bastiond"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bastiond-XXXXXX")
server_pid=
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# A short socket path: Unix socket paths are limited to 107 bytes.
"$bastiond" --dev --host 127.0.0.1 --port 0 --port-file "$work/port" --data-dir "$work/data" \
    --admin-socket "$work/admin.sock" --grace-period 5 --log-level warning "${server_options[@]}" \
    >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do
    [ -s "$work/port" ] && [ -S "$work/admin.sock" ] && break
    kill -0 "$server_pid" 2>/dev/null || { echo "bastiond exited at start:" >&2; cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
done
[ -s "$work/port" ] || { echo "bastiond wrote no port file within 60 s:" >&2; cat "$work/server.log" >&2; exit 1; }

export BASTION_HOST=127.0.0.1
export BASTION_PORT=$(cat "$work/port")
export BASTION_CA_FILE="$work/data/dev-certs/ca.pem"
export BASTION_CERT_FILE="$work/data/dev-certs/client.pem"
export BASTION_KEY_FILE="$work/data/dev-certs/client-key.pem"
export BASTION_ADMIN_SOCKET="$work/admin.sock"
export BASTIOND_PID=$server_pid
status=0
"$@" || status=$?
if [ "$status" -ne 0 ]; then
    echo "==> the server's log:" >&2
    cat "$work/server.log" >&2
fi
exit "$status"
