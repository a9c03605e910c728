#!/usr/bin/env bash
# Regenerates the protobuf modules of bastion_client from the repository's .proto files.
#
#   Tools/clients/python/generate.sh            rewrite bastion_client/_proto
#   Tools/clients/python/generate.sh OUTDIR     write them to OUTDIR instead (used by the tests to
#                                               check that the committed copy is current)
#
# Needs protoc 3.21 (Debian 12's protobuf-compiler), matching PyPI protobuf 4.21. The generated
# modules are committed so that `pip install` works without protoc. protoc writes absolute imports
# such as `from bastion.rpc.v1 import rpc_pb2`; they are rewritten to point inside the package.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
proto_root=$(cd "$here/../../../proto" && pwd)
out=${1:-"$here/bastion_client/_proto"}
package=bastion_client._proto

# The files the client needs; add new service definitions here.
files=(
    bastion/rpc/v1/rpc.proto
    bastion/rpc/v1/envelope.proto
    bastion/policy/v1/policy.proto
    bastion/echo/v1/echo.proto
    bastion/health/v1/health.proto
    bastion/auth/v1/auth.proto
    bastion/auth/v1/two_factor.proto
    bastion/auth/v1/second_factors.proto
    bastion/queue/v1/queue.proto
)

command -v protoc >/dev/null || { echo "generate.sh: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
(cd "$proto_root" && protoc -I. --python_out="$out" --pyi_out="$out" "${files[@]}")

# Every folder becomes a regular package, and cross-file imports point inside bastion_client.
find "$out" -type d | sort | while read -r dir; do
    if [ "$dir" = "$out" ]; then
        printf '"""Generated protobuf modules; regenerate with Tools/clients/python/generate.sh."""\n' >"$dir/__init__.py"
    else
        : >"$dir/__init__.py"
    fi
done
find "$out" \( -name '*_pb2.py' -o -name '*_pb2.pyi' \) -print0 | sort -z | while IFS= read -r -d '' file; do
    sed -i -E \
        -e "s/^from bastion(\.[A-Za-z0-9_.]+)? import /from $package.bastion\1 import /" \
        -e "s/^(_builder\.BuildTopDescriptorsAndMessages\(DESCRIPTOR, ')bastion\./\1$package.bastion./" \
        "$file"
done
