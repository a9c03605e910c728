#!/usr/bin/env bash
# Builds a fuzz target of this package with libFuzzer and AddressSanitizer, and runs it.
#
#   ./fuzz.sh TARGET [SECONDS] [LIBFUZZER_FLAG...]   fuzz for SECONDS (default 60)
#   ./fuzz.sh --replay TARGET                        run the saved inputs once each, no fuzzing
#
# Inputs that grow coverage go to .build/corpus/TARGET (ignored by git); the committed seeds in
# Corpus/TARGET are read, never written. Crashes, leaks, timeouts and out-of-memory inputs are saved
# in FailCases/TARGET: minimise one with `BINARY -minimize_crash=1 -runs=100000 FILE`, commit it,
# and the root package's tests replay it from then on.
#
# Build flags and shared settings: fuzz-common.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/fuzz-common.sh"

usage() {
    sed -n '4,5p' "$0" | sed 's/^# //' >&2
    exit 64
}

replay=no
if [[ "${1:-}" == "--replay" ]]; then
    replay=yes
    shift
fi
[[ $# -ge 1 ]] || usage
target=$1
seconds=${2:-60}
shift $(($# >= 2 ? 2 : 1))

build_targets "$target"
binary="$(fuzz_bin_path)/$target"
target_folders "$target"

if [[ "$replay" == "yes" ]]; then
    shopt -s nullglob
    inputs=("$corpus"/* "$failcases"/*)
    if [[ ${#inputs[@]} -eq 0 ]]; then
        echo "no saved inputs for $target"
        exit 0
    fi
    exec "$binary" "${inputs[@]}"
fi

exec "$binary" "$working" "$corpus" \
    -artifact_prefix="$failcases/" \
    -max_total_time="$seconds" \
    "${libfuzzer_flags[@]}" \
    "$@"
