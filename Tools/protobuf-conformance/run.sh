#!/usr/bin/env bash
# Builds the protobuf conformance testee beside the project and, when a runner is given, runs
# protobuf's conformance suite against it.
#
#   Tools/protobuf-conformance/run.sh [--runner PATH/conformance_test_runner] [--scratch DIR]
#
# The schemas are data in ../shared/protobuf-conformance (never copied into the project); their
# Swift is generated with our own protoc-gen-bastion into a scratch package beside the project,
# which depends on this package by path. The runner itself (protobuf v21.12's
# conformance_test_runner) is built separately and never committed.
set -euo pipefail

project=$(cd "$(dirname "$0")/../.." && pwd)
schemas="${CONFORMANCE_SCHEMAS:-$project/../shared/protobuf-conformance}"
scratch="$project/../bastion-conformance-scratch"
runner="${CONFORMANCE_RUNNER:-}"
while [ $# -gt 0 ]; do
    case "$1" in
        --runner) runner="$2"; shift 2 ;;
        --scratch) scratch="$2"; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done

[ -f "$schemas/conformance.proto" ] || { echo "conformance schemas not found in $schemas" >&2; exit 1; }
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
include=$(dirname "$(dirname "$(command -v protoc)")")/include
[ -f "$include/google/protobuf/any.proto" ] || include=/usr/include

echo "==> building protoc-gen-bastion"
swift build --package-path "$project" -c release --product protoc-gen-bastion >/dev/null
plugin="$project/.build/release/protoc-gen-bastion"

echo "==> generating the testee's Swift into $scratch"
sources="$scratch/Sources/ConformanceTestee"
rm -rf "$sources"
mkdir -p "$sources"
protoc --plugin=protoc-gen-bastion="$plugin" --bastion_out=FileNaming=PathToUnderscores:"$sources" \
    -I"$schemas" -I"$include" \
    conformance.proto test_messages_proto2.proto test_messages_proto3.proto \
    google/protobuf/any.proto google/protobuf/duration.proto google/protobuf/field_mask.proto \
    google/protobuf/struct.proto google/protobuf/timestamp.proto google/protobuf/wrappers.proto
cp "$project/Tools/protobuf-conformance/Testee/main.swift" "$sources/main.swift"
cat > "$scratch/Package.swift" <<PACKAGE
// swift-tools-version:6.1
import PackageDescription
let package = Package(
    name: "BastionConformance",
    dependencies: [.package(name: "Bastion", path: "$project")],
    targets: [
        .executableTarget(
            name: "ConformanceTestee",
            dependencies: [.product(name: "BastionProtobuf", package: "Bastion")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
PACKAGE

echo "==> building the testee"
swift build --package-path "$scratch" -c release --product ConformanceTestee >/dev/null
testee="$scratch/.build/release/ConformanceTestee"
echo "testee: $testee"

if [ -n "$runner" ]; then
    echo "==> running $runner"
    cd "$scratch"
    "$runner" "$testee"
fi
