#!/usr/bin/env bash
# Runs every test: installs what is missing (Tools/setup.sh), then `swift test`.
# Extra arguments go to swift test, e.g. Tools/test.sh --filter BastionStoreTests
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
swift test "$@"
