#!/usr/bin/env bash
# Builds the C client, runs its unit test, then runs bastion-c-echo against a fresh
# `bastiond --dev` on a free port (Tools/conformance/with-bastiond.sh) and checks its output:
# once with server verification only, once with the development client certificate (mutual TLS).
#
#   Tools/clients/c/test.sh [--bastiond PATH]
#
# Builds into .build-clients/c at the repository's top (BUILD=... to change it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
build=${BUILD:-"$repo/.build-clients/c"}
launcher=()
if [ "${1:-}" = "--bastiond" ]; then launcher=(--bastiond "$2"); shift 2; fi

echo "==> building the C client into $build"
make -s -C "$here" BUILD="$build" all
"$build/frame_test"

check_output() {
    local output=$1
    local expected
    for expected in \
        "health: SERVING (bastiond" \
        "echo: hello from C (echo-greeting=hi, trailing echo-greeting=hi, echo-blob-bin 3 bytes)" \
        "expand: 2 tick" \
        "expand: 3 answers, OK" \
        "error: NOT_FOUND: no such note (retry after 1500 ms)" \
        "deadline: DEADLINE_EXCEEDED" \
        "health again: OK" \
        "all calls behaved as expected"; do
        grep -qF -- "$expected" <<<"$output" || { echo "missing from bastion-c-echo's output: $expected" >&2; return 1; }
    done
}
export -f check_output
export BUILD_DIR=$build

"$repo/Tools/conformance/with-bastiond.sh" "${launcher[@]}" -- bash -c '
    set -euo pipefail
    echo "==> bastion-c-echo against bastiond on port $BASTION_PORT"
    output=$("$BUILD_DIR/bastion-c-echo" --host "$BASTION_HOST" --port "$BASTION_PORT" --ca-file "$BASTION_CA_FILE")
    echo "$output"
    check_output "$output"
    echo "==> again with a client certificate, verifying the name localhost"
    output=$("$BUILD_DIR/bastion-c-echo" --host "$BASTION_HOST" --port "$BASTION_PORT" --ca-file "$BASTION_CA_FILE" \
        --server-name localhost --cert-file "$BASTION_CERT_FILE" --key-file "$BASTION_KEY_FILE")
    check_output "$output"
    echo "==> a wrong CA is refused"
    err=$(mktemp)
    if "$BUILD_DIR/bastion-c-echo" --host "$BASTION_HOST" --port "$BASTION_PORT" --ca-file "$BASTION_CERT_FILE" 2>"$err"; then
        echo "bastion-c-echo accepted a server certificate that does not chain to its CA" >&2; exit 1
    fi
    grep -q "did not verify" "$err" || { cat "$err" >&2; exit 1; }
    rm -f "$err"
'
echo "==> the C client works against bastiond"
