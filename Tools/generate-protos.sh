#!/usr/bin/env bash
# Generates the Swift for the project's own .proto files (proto/) into the modules that use them.
#
#   Tools/generate-protos.sh    rewrite Sources/*/Generated
#
# Each entry maps a folder of proto/ to the module whose Generated/ folder receives its Swift.
# `swift test` (GeneratedOutputTests) fails while the committed files differ from a fresh run.
set -euo pipefail
project=$(cd "$(dirname "$0")/.." && pwd)
mappings=(
    "bastion/rpc/v1:BastionRPC"
    "bastion/policy/v1:BastionRPC"
    "bastion/echo/v1:BastionBuiltinServices"
    "bastion/health/v1:BastionBuiltinServices"
    "bastion/admin/v1:BastionAdmin"
    "bastion/auth/v1:BastionIdentity"
    "bastion/queue/v1:BastionQueue"
)

include=$(dirname "$(dirname "$(command -v protoc)")")/include
[ -f "$include/google/protobuf/descriptor.proto" ] || include=/usr/include
swift build --package-path "$project" --product protoc-gen-bastion >/dev/null
plugin="$project/.build/debug/protoc-gen-bastion"
for mapping in "${mappings[@]}"; do
    folder=${mapping%%:*}
    module=${mapping##*:}
    output="$project/Sources/$module/Generated"
    mkdir -p "$output"
    (cd "$project/proto" && protoc --plugin=protoc-gen-bastion="$plugin" --bastion_out="$output" \
        -I. -I"$include" "$folder"/*.proto)
    echo "generated $folder → Sources/$module/Generated"
done

# The threat model of every service, from their policies.
services=(
    bastion/health/v1/health.proto bastion/echo/v1/echo.proto bastion/admin/v1/admin.proto
    bastion/auth/v1/auth.proto bastion/auth/v1/two_factor.proto bastion/queue/v1/queue.proto
)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
(cd "$project/proto" && protoc --plugin=protoc-gen-bastion="$plugin" \
    --bastion_out=ThreatModel=threat-model.md:"$scratch" -I. -I"$include" "${services[@]}")
cp "$scratch/threat-model.md" "$project/docs/threat-model.md"
echo "generated docs/threat-model.md"
