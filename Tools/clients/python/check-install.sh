#!/usr/bin/env bash
# Checks what a new user of the Python client does: `pip install ./Tools/clients/python[auth,passkeys]` into
# a fresh virtual environment, then every ```python block of Tools/clients/python/README.md, as
# written, against a real `bastiond --dev` (Tools/conformance/with-bastiond.sh). The blocks are
# also type-checked with `mypy --strict` against the installed package (which must ship py.typed),
# and the package's own sources with its strict mypy configuration.
#
#   Tools/clients/python/check-install.sh [--bastiond PATH]
#
# The blocks run from an empty folder (so `bastion_client` is imported from the virtual
# environment, not from this checkout) that holds `data/dev-certs` of the server, the layout
# Tools/run-server.sh makes. The README's examples talk to port 7443, Tools/run-server.sh's port;
# the test server listens on a free port, so that number — and nothing else — is replaced.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
launcher=()
if [ "${1:-}" = "--bastiond" ]; then launcher=(--bastiond "$2"); shift 2; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bastion-pip-XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "==> pip install ./Tools/clients/python[auth,passkeys] into a fresh virtual environment"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "$here[auth,passkeys]"

# Each ```python block of the README becomes one script, numbered in order.
mkdir -p "$work/blocks"
python3 - "$here/README.md" "$work/blocks" <<'EOF'
import pathlib, re, sys
readme, out = pathlib.Path(sys.argv[1]).read_text(), pathlib.Path(sys.argv[2])
blocks = re.findall(r"^```python\n(.*?)^```$", readme, flags=re.S | re.M)
if not blocks:
    sys.exit("the README has no ```python block")
for number, block in enumerate(blocks, 1):
    (out / f"{number:02d}.py").write_text(block)
print(f"{len(blocks)} example blocks")
EOF

echo "==> mypy --strict: the README's examples against the installed package, and the package's sources"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "mypy==2.4.1" "types-protobuf==4.21.0.7"
(cd "$work/blocks" && "$work/venv/bin/mypy" --strict --no-error-summary --cache-dir "$work/mypy-cache" ./*.py)
(cd "$here" && "$work/venv/bin/mypy" --no-error-summary --cache-dir "$work/mypy-cache")

export VENV_PYTHON="$work/venv/bin/python" BLOCKS="$work/blocks" RUN_DIR="$work/run"
"$repo/Tools/conformance/with-bastiond.sh" "${launcher[@]}" -- bash -c '
    set -euo pipefail
    mkdir -p "$RUN_DIR/data"
    ln -s "$(dirname "$BASTION_CA_FILE")" "$RUN_DIR/data/dev-certs"
    cd "$RUN_DIR"
    location=$("$VENV_PYTHON" -c "import bastion_client; print(bastion_client.__file__)")
    case "$location" in
        "$(dirname "$(dirname "$VENV_PYTHON")")"/*) ;;
        *) echo "bastion_client was imported from $location, not from the virtual environment" >&2; exit 1 ;;
    esac
    for block in "$BLOCKS"/*.py; do
        echo "==> README example $(basename "$block" .py)"
        sed "s/\b7443\b/$BASTION_PORT/g" "$block" >"$block.run"
        output=$("$VENV_PYTHON" "$block.run")
        echo "$output"
        if [ "$(basename "$block")" = 01.py ]; then
            # The first example prints what it received; check the parts that prove each call worked.
            for expected in "hello hi" "0 tick" "2 tick" "NOT_FOUND 1.5"; do
                grep -qxF -- "$expected" <<<"$output" || { echo "missing from example 01: $expected" >&2; exit 1; }
            done
        fi
    done
'
echo "==> the Python package installs and its README examples work"
