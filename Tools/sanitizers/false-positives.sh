#!/usr/bin/env bash
# Builds the two programs beside this script with ThreadSanitizer and counts its reports on them.
# Neither program has a race; each report is one ThreadSanitizer cannot tell from one with this
# Swift toolchain. While they report, LMDBEngine keeps its ThreadSanitizerHooks and
# tsan-suppressions.txt keeps its line; once a toolchain reports 0 for a program, drop the
# workaround that belongs to it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
swiftc -sanitize=thread -Onone "$here/mutex-handoff.swift" -o "$work/mutex-handoff"
swiftc -sanitize=thread -Onone -parse-as-library "$here/continuation-resume.swift" -o "$work/continuation-resume"
for program in mutex-handoff continuation-resume; do
    reports=$(TSAN_OPTIONS=halt_on_error=0 "$work/$program" 2>&1 | grep -c "WARNING: ThreadSanitizer" || true)
    echo "$program: $reports ThreadSanitizer report(s)"
done
