#!/usr/bin/env bash
# Regenerates the committed Swift of Protos/grpc/echo.proto for the grpc-swift-2 peer
# (Sources/GRPCPeerEcho): messages by SwiftProtobuf 1.39.0's protoc-gen-swift, service code by
# grpc-swift-protobuf 2.4.1's protoc-gen-grpc-swift-2. Both plugins are built once in scratch
# clones outside the repository, never by the benchmark package:
#
#   git clone /opt/swift-packages/apple/swift-protobuf.git /work/scratch-swiftprotobuf
#   (cd /work/scratch-swiftprotobuf && git checkout 1.39.0 && swift build -c release --product protoc-gen-swift)
#   git clone /opt/swift-packages/grpc/grpc-swift-protobuf.git /work/scratch-grpc/gsp
#   (cd /work/scratch-grpc/gsp && git checkout 2.4.1 && swift build --product protoc-gen-grpc-swift-2)
#
# usage: Benchmarks/generate-grpc-peer.sh [PROTOC_GEN_SWIFT] [PROTOC_GEN_GRPC_SWIFT_2]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
swift_plugin="${1:-/work/scratch-swiftprotobuf/.build/release/protoc-gen-swift}"
grpc_plugin="${2:-/work/scratch-grpc/gsp/.build/debug/protoc-gen-grpc-swift-2}"
for plugin in "$swift_plugin" "$grpc_plugin"; do
    [ -x "$plugin" ] || { echo "build $plugin first (see the comment above)" >&2; exit 1; }
done
out="$here/Sources/GRPCPeerEcho"
mkdir -p "$out"
protoc --proto_path="$here/Protos/grpc" \
    --plugin=protoc-gen-swift="$swift_plugin" \
    --swift_opt=Visibility=Public \
    --swift_out="$out" \
    --plugin=protoc-gen-grpc-swift-2="$grpc_plugin" \
    --grpc-swift-2_opt=Visibility=Public \
    --grpc-swift-2_out="$out" \
    "$here/Protos/grpc/echo.proto"
echo "regenerated $out"
