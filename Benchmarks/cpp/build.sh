#!/usr/bin/env bash
# Builds the C++ libprotobuf reference of CodecBench into Benchmarks/cpp/.build/codec_bench.
# Needs Debian 12's protobuf-compiler and libprotobuf-dev (3.21); Tools/setup.sh installs them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/.build"
mkdir -p "$out"
protoc --proto_path="$here/../Protos" --cpp_out="$out" "$here/../Protos/bench.proto"
g++ -O2 -std=c++17 -I"$out" -o "$out/codec_bench" "$here/codec_bench.cc" "$out/bench.pb.cc" \
    $(pkg-config --cflags --libs protobuf)
echo "built $out/codec_bench"
