#!/usr/bin/env bash
# Regenerates the generator's own descriptor types (Sources/BastionCodeGen/Generated) from
# protoc's descriptor.proto and plugin.proto with the generator itself.
#
#   Tools/regenerate-descriptors.sh          rewrite the committed files
#   Tools/regenerate-descriptors.sh --check  fail if the committed files are not current
#
# Bootstrapping: the generator reads protoc's request with these very types, so a change to how
# messages are generated is applied in two steps: regenerate with the old build, rebuild, and
# regenerate again; the second run must change nothing (the test suite checks this fixed point).
set -euo pipefail
project=$(cd "$(dirname "$0")/.." && pwd)
include=$(dirname "$(dirname "$(command -v protoc)")")/include
[ -f "$include/google/protobuf/descriptor.proto" ] || include=/usr/include
target="$project/Sources/BastionCodeGen/Generated"

swift build --package-path "$project" --product protoc-gen-bastion >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
protoc --plugin=protoc-gen-bastion="$project/.build/debug/protoc-gen-bastion" \
    --bastion_out=FileNaming=DropPath:"$out" -I"$include" \
    google/protobuf/descriptor.proto google/protobuf/compiler/plugin.proto

if [ "${1:-}" = "--check" ]; then
    status=0
    for file in "$out"/*.pb.swift; do
        diff -u "$target/$(basename "$file")" "$file" || status=1
    done
    [ $status -eq 0 ] && echo "descriptor types are current"
    exit $status
else
    cp "$out"/*.pb.swift "$target"/
    echo "regenerated $(ls "$out" | wc -l) files in $target"
fi
