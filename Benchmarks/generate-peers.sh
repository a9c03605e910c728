#!/usr/bin/env bash
# Regenerates the committed Swift of Protos/bench.proto for CodecBench:
#   Sources/BastionPeers/bench.pb.swift        by the root package's protoc-gen-bastion
#   Sources/SwiftProtobufPeers/bench.pb.swift  by SwiftProtobuf 1.39.0's protoc-gen-swift
# The SwiftProtobuf plugin is built once in a scratch clone outside the repository, never by the
# benchmark package (which depends on the SwiftProtobuf library only):
#
#   git clone /opt/swift-packages/apple/swift-protobuf.git /work/scratch-swiftprotobuf   # or GitHub
#   (cd /work/scratch-swiftprotobuf && git checkout 1.39.0 && swift build -c release --product protoc-gen-swift)
#
# usage: Benchmarks/generate-peers.sh [SWIFTPROTOBUF_CHECKOUT]   (default /work/scratch-swiftprotobuf)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
scratch="${1:-/work/scratch-swiftprotobuf}"
swift_plugin="$scratch/.build/release/protoc-gen-swift"
[ -x "$swift_plugin" ] || { echo "build protoc-gen-swift in $scratch first (see the comment above)" >&2; exit 1; }
[ "$(git -C "$scratch" describe --tags --exact-match 2>/dev/null)" = "1.39.0" ] \
    || echo "warning: $scratch is not at tag 1.39.0" >&2

swift build -c release --package-path "$root" --product protoc-gen-bastion
bastion_plugin="$(swift build -c release --package-path "$root" --show-bin-path)/protoc-gen-bastion"

mkdir -p "$here/Sources/BastionPeers" "$here/Sources/SwiftProtobufPeers"
protoc --proto_path="$here/Protos" \
    --plugin=protoc-gen-bastion="$bastion_plugin" \
    --bastion_out=Visibility=public:"$here/Sources/BastionPeers" \
    "$here/Protos/bench.proto"
protoc --proto_path="$here/Protos" \
    --plugin=protoc-gen-swift="$swift_plugin" \
    --swift_opt=Visibility=Public \
    --swift_out="$here/Sources/SwiftProtobufPeers" \
    "$here/Protos/bench.proto"
echo "regenerated Sources/BastionPeers/bench.pb.swift and Sources/SwiftProtobufPeers/bench.pb.swift"
