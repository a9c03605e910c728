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
# Why these flags (Swift 6.3 on Linux):
# - `-Xswiftc -sanitize=fuzzer,address` reaches every target, the build plugin's protoc-gen-bastion
#   included, which is built for the host with the same flags. SwiftPM's own `--sanitize=fuzzer`
#   also adds `-parse-as-library` to every executable, which protoc-gen-bastion's top-level code
#   does not compile under, so the flags are passed to swiftc directly and the fuzz target brings
#   its own entry point (Sources/FuzzDriver, which calls libFuzzer's LLVMFuzzerRunDriver).
# - `-use-ld=lld`: gold fails with an internal error linking the instrumented protoc-gen-bastion.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

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

build_flags=(-c release --package-path "$here" -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld -Xswiftc -enable-testing)
# SwiftPM 6.3 keeps this package's build plan when only a file of the root package (a path
# dependency here) was added, and then fails to find the new file: plan afresh every time.
rm -f "$here/.build/release.yaml"
swift build "${build_flags[@]}" --product "$target"
binary="$(swift build "${build_flags[@]}" --show-bin-path)/$target"

corpus="$here/Corpus/$target"
failcases="$here/FailCases/$target"
working="$here/.build/corpus/$target"
mkdir -p "$corpus" "$failcases" "$working"

if command -v llvm-symbolizer > /dev/null; then
    export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer)}
fi
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/lsan-suppressions.txt}

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
    -timeout=10 \
    -rss_limit_mb=4096 \
    -print_final_stats=1 \
    "$@"
