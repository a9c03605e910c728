#!/usr/bin/env bash
# Runs the RPC conformance suite against a fresh `bastiond --dev` (see with-bastiond.sh), ending
# with the drain case, which stops that server. Extra arguments go to bastion_conformance.py.
#
#   Tools/conformance/run.sh [--bastiond PATH] [suite options, e.g. -k framing]
#
# To test a server that is already running, call the suite directly:
#   python3 Tools/conformance/bastion_conformance.py --host H --port P --ca-file CA.pem
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
launcher=()
if [ "${1:-}" = "--bastiond" ]; then launcher=(--bastiond "$2"); shift 2; fi
# Small limits keep the cases that fill them quick: 8 calls per connection, 8 connections per
# address, a 64 KiB stream window (so one frame can overrun it) and a 3-second idle timeout.
exec "$here/with-bastiond.sh" "${launcher[@]}" --server-option --max-concurrent-calls=8 \
    --server-option --max-connections-per-address=8 --server-option --initial-stream-window=65536 \
    --server-option --idle-timeout=3 -- \
    bash -c 'exec python3 "$0" --host "$BASTION_HOST" --port "$BASTION_PORT" --ca-file "$BASTION_CA_FILE" \
        --admin-socket "$BASTION_ADMIN_SOCKET" --idle-timeout 3 --max-connections-per-address 8 \
        --drain-pid "$BASTIOND_PID" "$@"' \
    "$here/bastion_conformance.py" "$@"
