# Sourced by fuzz.sh and fuzz-all.sh: how a fuzz target is built, where its inputs live, and the
# libFuzzer settings every run uses. Expects `here` (this folder).
#
# Why these build flags (Swift 6.3 on Linux):
# - `-Xswiftc -sanitize=fuzzer,address` reaches every target, the build plugin's protoc-gen-bastion
#   included, which is built for the host with the same flags. SwiftPM's own `--sanitize=fuzzer`
#   also adds `-parse-as-library` to every executable, which protoc-gen-bastion's top-level code
#   does not compile under, so the flags are passed to swiftc directly and the fuzz target brings
#   its own entry point (Sources/FuzzDriver, which calls libFuzzer's LLVMFuzzerRunDriver).
# - `-use-ld=lld`: gold fails with an internal error linking the instrumented protoc-gen-bastion.
build_flags=(-c release --package-path "$here" -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld -Xswiftc -enable-testing)

# Builds the named targets. SwiftPM 6.3 keeps this package's build plan when only a file of the
# root package (a path dependency here) was added, and then fails to find the new file: plan
# afresh every time.
build_targets() {
    rm -f "$here/.build/release.yaml"
    local target
    for target in "$@"; do
        swift build "${build_flags[@]}" --product "$target"
    done
}

fuzz_bin_path() {
    swift build "${build_flags[@]}" --show-bin-path
}

if command -v llvm-symbolizer > /dev/null; then
    export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer)}
fi
# lsan-suppressions.txt says what it suppresses and why.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/lsan-suppressions.txt}

# Seeds (committed, read only), saved failures (committed once minimised) and the working corpus
# (ignored by git) of a target; creates the folders.
target_folders() {  # TARGET -> sets corpus, failcases, working
    corpus="$here/Corpus/$1"
    failcases="$here/FailCases/$1"
    working="$here/.build/corpus/$1"
    mkdir -p "$corpus" "$failcases" "$working"
}

# The libFuzzer flags of every fuzzing run of a target (after target_folders).
libfuzzer_flags=(-timeout=10 -rss_limit_mb=4096 -print_final_stats=1)
