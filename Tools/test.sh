#!/usr/bin/env bash
# Runs every test: installs what is missing (Tools/setup.sh), then `swift test`, then (on a full
# run) the other languages against a real server: the C client (Tools/clients/c/test.sh), the
# Python package installed with pip into a fresh virtual environment running its README's examples
# (Tools/clients/python/check-install.sh), the RPC conformance suite (Tools/conformance/run.sh),
# and the example package Examples/EchoNotes, built and run. Extra arguments go to swift test and
# skip those, e.g. Tools/test.sh --filter BastionStoreTests. BASTION_SKIP_EXTERNAL=1 skips them too.
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
swift test "$@"

if [ $# -eq 0 ] && [ -z "${BASTION_SKIP_EXTERNAL:-}" ]; then
    echo "==> building bastiond for the C client and the conformance suite"
    swift build --product bastiond
    bastiond="$(swift build --show-bin-path)/bastiond"
    echo "==> the C client against bastiond"
    Tools/clients/c/test.sh --bastiond "$bastiond"
    echo "==> the Python package: pip install into a fresh virtual environment, then its README's examples"
    Tools/clients/python/check-install.sh --bastiond "$bastiond"
    echo "==> the RPC conformance suite against bastiond"
    Tools/conformance/run.sh --bastiond "$bastiond"
    echo "==> the example package Examples/EchoNotes"
    output=$(swift run --package-path Examples/EchoNotes EchoNotes)
    echo "$output"
    grep -q 'added "water the plants": 3 notes' <<<"$output"
    grep -q 'refused "one too many": RESOURCE_EXHAUSTED (policy spam_prevention' <<<"$output"
    grep -q 'note 3: water the plants' <<<"$output"
fi
