#!/usr/bin/env bash
# Builds the liblmdb reference of StoreBench into Benchmarks/c/.build/store_bench.
# Needs Debian 12's liblmdb-dev (Tools/setup.sh installs it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$here/.build"
gcc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -o "$here/.build/store_bench" "$here/store_bench.c" -llmdb
echo "built $here/.build/store_bench"
