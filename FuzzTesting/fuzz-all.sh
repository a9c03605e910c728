#!/usr/bin/env bash
# Fuzzes every target of this package (or the ones named) until each has run RUNS inputs or
# SECONDS seconds, LANES targets at a time, and prints a table of what each did.
#
#   ./fuzz-all.sh [--lanes N] [--runs N] [--seconds N] [--nice N] [--no-build] [--bin DIR] [TARGET...]
#
# Defaults: every Fuzz* target, ten million inputs or an hour each (what docs/SECURITY.md asks of a
# fuzzing run), one lane per core, niceness 19 so that the machine stays usable. A target's output
# goes to .build/fuzz-logs/TARGET.log; working corpora and FailCases/ are fuzz.sh's. Fuzzing two
# targets at a time on two cores gives each a core: more lanes than cores only share them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/fuzz-common.sh"
lanes=$(nproc)
runs=10000000
seconds=3600
niceness=19
build=yes
bin=""
targets=()

usage() {
    sed -n '5p' "$0" | sed 's/^# //' >&2
    exit 64
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --lanes) lanes=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --nice) niceness=$2; shift 2 ;;
        --no-build) build=no; shift ;;
        --bin) bin=$2; build=no; shift 2 ;;
        -h | --help) usage ;;
        -*) echo "unknown option $1" >&2; usage ;;
        *) targets+=("$1"); shift ;;
    esac
done
[[ "$lanes" =~ ^[1-9][0-9]*$ && "$runs" =~ ^[1-9][0-9]*$ && "$seconds" =~ ^[1-9][0-9]*$ ]] || {
    echo "--lanes, --runs and --seconds take positive whole numbers" >&2
    exit 64
}

if [[ ${#targets[@]} -eq 0 ]]; then
    for folder in "$here"/Sources/Fuzz*; do
        name=$(basename "$folder")
        # Shared code, not targets: the entry point and the checks the tests replay.
        [[ "$name" == FuzzDriver || "$name" == FuzzChecks ]] || targets+=("$name")
    done
fi

if [[ "$build" == yes ]]; then
    build_targets "${targets[@]}"
fi
[[ -n "$bin" ]] || bin=$(fuzz_bin_path)
for target in "${targets[@]}"; do
    [[ -x "$bin/$target" ]] || { echo "no fuzz target $target in $bin" >&2; exit 1; }
done

logs="$here/.build/fuzz-logs"
mkdir -p "$logs"
# Runs one target; its exit status is libFuzzer's (nonzero when it found something).
fuzz_one() {
    local target=$1 corpus failcases working
    target_folders "$target"
    echo "$(date +%H:%M:%S) start $target"
    local status=0
    nice -n "$niceness" "$bin/$target" "$working" "$corpus" \
        -artifact_prefix="$failcases/" -runs="$runs" -max_total_time="$seconds" \
        "${libfuzzer_flags[@]}" > "$logs/$target.log" 2>&1 || status=$?
    echo "$(date +%H:%M:%S) end $target (exit $status)"
    return "$status"
}

# Saved inputs before the run, to tell this run's findings from older ones.
declare -A before
for target in "${targets[@]}"; do
    before[$target]=$(ls "$here/FailCases/$target" 2>/dev/null | sort | tr '\n' ' ' || true)
done

running=0
for target in "${targets[@]}"; do
    if [[ $running -ge $lanes ]]; then
        wait -n || true
        running=$((running - 1))
    fi
    fuzz_one "$target" &
    running=$((running + 1))
done
wait || true

printf '\n| target | executions | seconds | exec/s | new corpus units | new FailCases |\n|---|---:|---:|---:|---:|---|\n'
found=0
for target in "${targets[@]}"; do
    log="$logs/$target.log"
    stat() { grep -Eo "stat::$1: *[0-9]+" "$log" | grep -Eo '[0-9]+$' | tail -1 || true; }
    executions=$(stat number_of_executed_units)
    rate=$(stat average_exec_per_sec)
    units=$(stat new_units_added)
    elapsed=$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -Eo '[0-9]+ second' | grep -Eo '[0-9]+' | tail -1 || true)
    new=()
    for file in $(ls "$here/FailCases/$target" 2>/dev/null | sort); do
        [[ " ${before[$target]} " == *" $file "* ]] || new+=("$file")
    done
    [[ ${#new[@]} -eq 0 ]] || found=1
    printf '| %s | %s | %s | %s | %s | %s |\n' "$target" "${executions:-?}" "${elapsed:-?}" "${rate:-?}" \
        "${units:-?}" "${new[*]:-none}"
done
if [[ $found -eq 1 ]]; then
    echo "Inputs that crashed, leaked, timed out or ran out of memory are in FailCases/; see fuzz.sh for minimising one." >&2
    exit 1
fi
