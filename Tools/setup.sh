#!/usr/bin/env bash
# Installs what building and testing Bastion needs on Debian 12 (run as root, or with sudo):
# protoc and the C libraries from Debian, and from PyPI the reference Python `protobuf`, pytest,
# `cryptography` (the HKDF reference in BastionCryptoTests), `opaque-ke-py` (the independent
# OPAQUE implementation of the interoperability tests), `pyotp` (the TOTP reference),
# `argon2-cffi` (the Argon2id reference), `fido2` (WebAuthn data types for the passkey tests'
# software authenticator, and the reference parser) and `PyNaCl` (opens the queue service's sealed
# envelopes).
# Safe to run again: it installs only what is missing.
set -euo pipefail

apt_packages=(
    protobuf-compiler libprotobuf-dev libprotoc-dev   # protoc, descriptor.proto and plugin.proto
    liblmdb-dev lmdb-utils                            # the store, and mdb_stat for its tests
    libssl-dev libsodium-dev openssl                  # TLS and crypto; openssl s_client in tests
    libprotobuf-c-dev protobuf-c-compiler             # the C client
    python3-venv                                      # check-install.sh: pip install into a fresh venv
    gcc make pkg-config                               # building the C client
)
python_protobuf="protobuf==4.21.12"                   # matches Debian's protoc 3.21.12
python_cryptography="cryptography==48.0.0"            # HKDF-SHA512 reference for BastionCryptoTests
python_opaque_ke="opaque-ke-py==0.1.0"                # Rust opaque-ke 4.0.1 (RFC 9807); the newest wheel for Linux x86-64
python_pyotp="pyotp==2.12.0"                          # the TOTP reference for BastionIdentityTests
python_argon2="argon2-cffi==23.1.0"                   # the Argon2id reference for security answers
python_fido2="fido2==2.2.1"                           # WebAuthn: passkey vectors and the Python client's passkeys
python_pynacl="PyNaCl==1.6.2"                         # an independent libsodium binding: opens sealed queue messages

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for package in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! python3 -c 'import google.protobuf, sys; sys.exit(google.protobuf.__version__ != "4.21.12")' 2>/dev/null; then
    echo "==> installing $python_protobuf for python3"
    python3 -m pip install --quiet --disable-pip-version-check "$python_protobuf" 2>&1 | grep -v "WARNING: Running pip as the 'root' user" || true
    python3 -c 'import google.protobuf' || { echo "python3 cannot import google.protobuf" >&2; exit 1; }
fi
if ! python3 -c 'import pytest' 2>/dev/null; then
    echo "==> installing pytest for python3"
    python3 -m pip install --quiet --disable-pip-version-check pytest 2>&1 | grep -v "WARNING: Running pip as the 'root' user" || true
fi
# Independent implementations the tests check against: pyjwt for session tokens.
if ! python3 -c 'import jwt, sys; sys.exit(jwt.__version__ != "2.10.1")' 2>/dev/null; then
    echo "==> installing PyJWT for python3"
    python3 -m pip install --quiet --disable-pip-version-check "PyJWT==2.10.1" 2>&1 | grep -v "WARNING: Running pip as the 'root' user" || true
fi
if ! python3 -c 'import cryptography.hazmat.primitives.kdf.hkdf' 2>/dev/null; then
    echo "==> installing $python_cryptography for python3"
    python3 -m pip install --quiet --disable-pip-version-check "$python_cryptography" 2>&1 | grep -v "WARNING: Running pip as the 'root' user" || true
fi
if ! python3 -c 'import opaque_ke_py' 2>/dev/null; then
    echo "==> installing $python_opaque_ke for python3"
    python3 -m pip install --quiet --disable-pip-version-check "$python_opaque_ke" 2>&1 | grep -v "WARNING: Running pip as the 'root' user" || true
fi
if ! python3 -c 'import pyotp, importlib.metadata, sys; sys.exit(importlib.metadata.version("pyotp") != "2.12.0")' 2>/dev/null; then
    echo "==> installing $python_pyotp for python3"
    python3 -m pip install --quiet --disable-pip-version-check "$python_pyotp" 2>&1 | grep -v "WARNING: Running pip as the 'root' user" || true
fi
if ! python3 -c 'import argon2.low_level' 2>/dev/null; then
    echo "==> installing $python_argon2 for python3"
    python3 -m pip install --quiet --disable-pip-version-check "$python_argon2" 2>&1 | grep -v "WARNING: Running pip as the 'root' user" || true
fi
if ! python3 -c 'import fido2, importlib.metadata, sys; sys.exit(importlib.metadata.version("fido2") != "2.2.1")' 2>/dev/null; then
    echo "==> installing $python_fido2 for python3"
    python3 -m pip install --quiet --disable-pip-version-check "$python_fido2" 2>&1 | grep -v "WARNING: Running pip as the 'root' user" || true
fi
if ! python3 -c 'import nacl, sys; sys.exit(nacl.__version__ != "1.6.2")' 2>/dev/null; then
    echo "==> installing $python_pynacl for python3"
    python3 -m pip install --quiet --disable-pip-version-check "$python_pynacl" 2>&1 | grep -v "WARNING: Running pip as the 'root' user" || true
fi
echo "==> dependencies are in place"
