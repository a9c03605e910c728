#!/usr/bin/env bash
# Runs bastiond on its development defaults: installs what is missing (Tools/setup.sh), builds,
# makes a development CA and certificates in ./data/dev-certs on first run, keeps the store in
# ./data/store, and listens on 127.0.0.1:7443. Extra arguments go to bastiond (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
Tools/setup.sh
exec swift run bastiond --dev "$@"
